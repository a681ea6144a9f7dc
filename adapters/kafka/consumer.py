"""A worked example of a downstream consumer (``casefile consume``).

It reads the topic in a consumer group, keeps a small view of its own in SQLite (each
organization's name, status and last version, and counts by status; each organization's
leaders with their names, dropped again when the person's data is erased), drops
duplicates by CloudEvent id, and commits its Kafka offsets only after the view and the ids it has
seen are committed, so a crash replays messages rather than loses them, and the replayed
ones are dropped as duplicates. A team writing their own consumer follows the same
three steps: dedupe by id, apply in one local transaction, then commit the offsets.

It also keeps each organization's annual reports (year, activities, full-time staff) and
reads both versions of ``AnnualReportFiled``: ``.v1`` has no ``full_time_staff`` (kept as
NULL, not reported) and ``.v2`` has it (null when not reported). A type of a version it
does not know (a newer major version) stops it before the batch is applied or its
offsets committed (``UnknownVersion``): it is upgraded to read that version first, then
resumes where it stopped (docs/EVENTS.md, the compatibility policy).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS organizations (
    aggregate_id TEXT PRIMARY KEY, subject TEXT NOT NULL, name TEXT, status TEXT,
    last_version INTEGER NOT NULL, last_position INTEGER NOT NULL, events INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS gaps (aggregate_id TEXT, expected INTEGER, got INTEGER);
CREATE TABLE IF NOT EXISTS annual_reports (
    aggregate_id TEXT NOT NULL, year INTEGER NOT NULL, activities_held INTEGER,
    full_time_staff INTEGER, type_version INTEGER NOT NULL,
    PRIMARY KEY (aggregate_id, year));
CREATE TABLE IF NOT EXISTS leaders (
    aggregate_id TEXT NOT NULL, person_id TEXT NOT NULL, name TEXT, roles TEXT,
    departed INTEGER NOT NULL DEFAULT 0, erased INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (aggregate_id, person_id));
"""

# The organization's own name: set by these events only (a leader's appointment carries the
# leader's name in ``data.name``, which is not the organization's).
NAMED_BY = ("Registered", "Recorded")
ERASED = "[erased]"  # what an erased person's fields read as in messages published later

# The versions of each type this consumer reads (every other type: version 1).
READS_VERSIONS = {"AnnualReportFiled": (1, 2), "OccupationalBanRecorded": (1, 2)}


class UnknownVersion(Exception):
    """A message of a type version this consumer cannot read yet."""


def type_parts(cloud_type: str) -> tuple[str, str, int]:
    """``cn.gov.civilaffairs.socorg.organization.AnnualReportFiled.v2`` -> (organization,
    AnnualReportFiled, 2)."""
    kind, name, version = cloud_type.split(".")[-3:]
    return kind, name, int(version.removeprefix("v"))


STATUS_BY_TYPE = {"Registered": "active", "Recorded": "active", "Deregistered": "deregistered",
                  "RegistrationRevoked": "revoked", "Banned": "banned",
                  "ActivitiesResumed": "active"}


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    gaps: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


class OrganizationsView:
    """The consumer's own view, in SQLite."""

    def __init__(self, path: str | Path):
        self.db = sqlite3.connect(str(path))
        self.db.executescript(SCHEMA)

    def apply(self, message: dict, stats: ConsumerStats) -> None:
        """Apply one CloudEvent unless its id was seen; call ``commit`` after a batch (or
        ``rollback``, when one of its messages cannot be applied)."""
        aggregate, kind, version = type_parts(message["type"])
        if version not in READS_VERSIONS.get(kind, (1,)):
            raise UnknownVersion(f"{message['type']} (message {message['id']}): this "
                                 f"consumer reads {kind} versions "
                                 f"{READS_VERSIONS.get(kind, (1,))}; upgrade it")
        if self.db.execute("SELECT 1 FROM seen WHERE id = ?", (message["id"],)).fetchone():
            stats.duplicates += 1
            return
        self.db.execute("INSERT INTO seen (id) VALUES (?)", (message["id"],))
        stats.processed += 1
        stats.by_type[kind] = stats.by_type.get(kind, 0) + 1
        data = message["data"]
        self._personal_data(kind, data)
        if aggregate != "organization":
            return
        if kind == "AnnualReportFiled":
            self.db.execute(
                "INSERT OR REPLACE INTO annual_reports (aggregate_id, year, activities_held,"
                " full_time_staff, type_version) VALUES (?, ?, ?, ?, ?)",
                (data["aggregate_id"], data["year"], data["activities_held"],
                 data["full_time_staff"] if version >= 2 else None, version))
        row = self.db.execute("SELECT last_version FROM organizations WHERE aggregate_id = ?",
                              (data["aggregate_id"],)).fetchone()
        expected = (row[0] if row else 0) + 1
        if data["version"] != expected:
            stats.gaps += 1
            self.db.execute("INSERT INTO gaps VALUES (?, ?, ?)",
                            (data["aggregate_id"], expected, data["version"]))
        status = STATUS_BY_TYPE.get(kind)
        if kind == "PenaltyImposed":
            status = {"suspension": "suspended", "revocation": "revoked"}.get(data.get("kind"))
        self.db.execute(
            "INSERT INTO organizations (aggregate_id, subject, name, status, last_version, "
            "last_position, events) VALUES (?, ?, ?, ?, ?, ?, 1) "
            "ON CONFLICT (aggregate_id) DO UPDATE SET "
            "name = coalesce(excluded.name, organizations.name), "
            "status = coalesce(excluded.status, organizations.status), "
            "last_version = max(organizations.last_version, excluded.last_version), "
            "last_position = excluded.last_position, events = organizations.events + 1",
            (data["aggregate_id"], message["subject"], organization_name(kind, data), status,
             data["version"], data["position"]))

    def _personal_data(self, kind: str, data: dict) -> None:
        """The leaders this view keeps (with their names: personal data), and dropping a
        person's names on either erasure event (docs/EVENTS.md, "What is published")."""
        if kind == "LeaderAppointed":
            name = data.get("name")
            self.db.execute(
                "INSERT INTO leaders (aggregate_id, person_id, name, roles, erased) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (aggregate_id, person_id) DO UPDATE SET "
                "name = CASE WHEN leaders.erased THEN NULL ELSE excluded.name END, "
                "roles = excluded.roles, departed = 0",
                (data["aggregate_id"], data["person_id"], None if name == ERASED else name,
                 json.dumps(data.get("roles", [])), int(name == ERASED)))
        elif kind == "LeaderDeparted":
            self.db.execute("UPDATE leaders SET departed = 1 WHERE aggregate_id = ? AND "
                            "person_id = ?", (data["aggregate_id"], data["person_id"]))
        elif kind in ("LeaderPersonalDataErased", "PersonalDataErased"):
            person = data["person_id"] if kind == "LeaderPersonalDataErased" else \
                data["aggregate_id"]
            self.db.execute("UPDATE leaders SET name = NULL, erased = 1 WHERE person_id = ?",
                            (person,))

    def leaders(self, aggregate_id: str) -> list[dict]:
        rows = self.db.execute("SELECT person_id, name, roles, departed, erased FROM leaders "
                               "WHERE aggregate_id = ? ORDER BY person_id", (aggregate_id,))
        return [{"person_id": p, "name": n, "roles": json.loads(r), "departed": bool(d),
                 "erased": bool(e)} for p, n, r, d, e in rows]

    def name(self, aggregate_id: str) -> str | None:
        row = self.db.execute("SELECT name FROM organizations WHERE aggregate_id = ?",
                              (aggregate_id,)).fetchone()
        return row[0] if row else None

    def commit(self) -> None:
        self.db.commit()

    def rollback(self) -> None:
        self.db.rollback()

    def annual_reports(self, aggregate_id: str) -> dict[int, dict]:
        """An organization's annual reports by year, as this view keeps them."""
        rows = self.db.execute(
            "SELECT year, activities_held, full_time_staff, type_version FROM annual_reports"
            " WHERE aggregate_id = ? ORDER BY year", (aggregate_id,)).fetchall()
        return {year: {"activities_held": activities, "full_time_staff": staff,
                       "type_version": version} for year, activities, staff, version in rows}

    def counts_by_status(self) -> dict[str, int]:
        return dict(self.db.execute(
            "SELECT coalesce(status, 'unknown'), count(*) FROM organizations GROUP BY 1"))

    def close(self) -> None:
        self.db.close()


def organization_name(kind: str, data: dict) -> str | None:
    """The organization's name if this event sets it: its registration, or a registered
    change of name; None leaves the name as it was."""
    if kind in NAMED_BY:
        return data.get("name")
    if kind == "ChangeRegistered":  # changes: {field: {"old": ..., "new": ...}}
        return ((data.get("changes") or {}).get("name") or {}).get("new")
    return None


def consume(*, bootstrap_servers: str, topic: str, group: str, db_path: str | Path,
            api_version: tuple[int, ...] | None = None, from_beginning: bool = True,
            idle_timeout: float | None = None, max_messages: int | None = None,
            on_batch: Callable[[ConsumerStats], Any] | None = None) -> ConsumerStats:
    """Consume until idle for ``idle_timeout`` seconds (None: forever) or ``max_messages``."""
    # start-up: kafka-python (about 0.1 s) only when consuming; the view needs none of it
    from kafka import KafkaConsumer

    config: dict[str, Any] = {"bootstrap_servers": bootstrap_servers.split(",")}
    if api_version:
        config["api_version"] = api_version
    consumer = KafkaConsumer(topic, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="earliest" if from_beginning else "latest",
                             **config)
    view = OrganizationsView(db_path)
    stats = ConsumerStats()
    last_message = time.monotonic()
    try:
        while True:
            batches = consumer.poll(timeout_ms=500, max_records=1000)
            records = [r for batch in batches.values() for r in batch]
            if records:
                try:
                    for record in records:
                        view.apply(json.loads(record.value), stats)
                except UnknownVersion:
                    view.rollback()  # nothing of the batch applied, no offset committed
                    raise
                view.commit()       # first the view and the ids seen...
                consumer.commit()   # ...then the offsets
                last_message = time.monotonic()
                if on_batch:
                    on_batch(stats)
            elif idle_timeout is not None and time.monotonic() - last_message > idle_timeout:
                break
            if max_messages is not None and stats.processed + stats.duplicates >= max_messages:
                break
    finally:
        consumer.close()
        view.close()
    return stats
