"""PostgreSQL read models: each view writes its rows and its tracking position in one
transaction (STYLE habit 4). Table names derive from the projection's tracking table
(``casefiles_tracking`` -> ``casefiles_rows``, ``casefiles_states``), so a rebuild can
write a shadow copy beside the live one.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Sequence
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed, Identifier

from domain.organization import Organization
from projections.audit import GENESIS, AuditEntry, AuditView, link
from projections.base import StatefulView
from projections.casefile import CaseFileView, TimelineEntry, case_file_row
from projections.statistics import Count, StatisticsView
from services.casefiles import make_transcoder


class PostgresStatefulView(PostgresTrackingRecorder, StatefulView):
    """Keeps each organization's state (the aggregate, transcoded like a snapshot)."""

    positional_checksum = True  # checksum(up_to=P) covers exactly the rows as of P

    def __init__(self, datastore: PostgresDatastore, *,
                 tracking_table_name: str = "view_tracking", **kwargs: Any):
        super().__init__(datastore, tracking_table_name=tracking_table_name, **kwargs)
        self.prefix = tracking_table_name.removesuffix("_tracking")
        self.transcoder = make_transcoder()
        self.states_table = self.table("states")
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {t} (organization_id uuid PRIMARY KEY, "
            "version bigint NOT NULL, topic text NOT NULL, state bytea NOT NULL)"
        ).format(t=self.states_table))

    def table(self, suffix: str) -> Composed:
        name = f"{self.prefix}_{suffix}"
        self.check_identifier_length(name)
        return SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(name))

    def load_states(self, ids: Sequence[UUID]) -> dict[UUID, Organization]:
        if not ids:
            return {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT organization_id, version, topic, state FROM {t} "
                             "WHERE organization_id = ANY(%s)").format(t=self.states_table),
                         (list(ids),))
            rows = curs.fetchall()
        states = {}
        for row in rows:
            snapshot = Organization.Snapshot(
                originator_id=row["organization_id"], originator_version=row["version"],
                timestamp=datetime.now(timezone.utc), topic=row["topic"],
                state=self.transcoder.decode(bytes(row["state"])))
            states[row["organization_id"]] = snapshot.mutate(None)
        return states

    def _store_states(self, curs: Any, states: Sequence[Organization]) -> None:
        if not states:
            return
        params = []
        for org in states:
            snapshot = Organization.Snapshot.take(org)
            params.append((org.id, org.version, snapshot.topic,
                           self.transcoder.encode(snapshot.state)))
        curs.executemany(SQL(
            "INSERT INTO {t} (organization_id, version, topic, state) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (organization_id) DO UPDATE SET version = EXCLUDED.version, "
            "topic = EXCLUDED.topic, state = EXCLUDED.state").format(t=self.states_table),
            params)

    def store(self, states: Sequence[Organization], rows: list[Any],
              tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._store_states(curs, states)
            self._store_rows(curs, states, rows)
            self._insert_tracking(curs, tracking)

    def _store_rows(self, curs: Any, states: Sequence[Organization], rows: list[Any]) -> None:
        raise NotImplementedError

    def _digest(self, query: Composed, params: tuple = ()) -> tuple[int, str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, params)
            row = curs.fetchone()
        return row["n"], row["digest"] or ""

    def drop_tables(self, suffixes: Sequence[str]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for suffix in suffixes:
                curs.execute(SQL("DROP TABLE IF EXISTS {t}").format(t=self.table(suffix)))


class PostgresCaseFileView(PostgresStatefulView, CaseFileView):
    COLUMNS = ("organization_id", "identifier", "code", "name", "org_type", "status",
               "jurisdiction", "certificate_valid_until", "credit_lists", "latest_conclusion",
               "latest_conclusion_year", "rating", "risk_flags", "version", "document")

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.rows_table = self.table("rows")
        rows = self.rows_table
        for statement in (
            "CREATE TABLE IF NOT EXISTS {t} (organization_id uuid PRIMARY KEY, "
            "identifier text NOT NULL UNIQUE, code text, name text NOT NULL, "
            "org_type text NOT NULL, status text NOT NULL, jurisdiction text NOT NULL, "
            "certificate_valid_until date, credit_lists text[] NOT NULL, "
            "latest_conclusion text, latest_conclusion_year int, rating text, "
            "risk_flags text[] NOT NULL, version bigint NOT NULL, position bigint NOT NULL, "
            "document jsonb NOT NULL, timeline jsonb NOT NULL DEFAULT '[]')",
            "CREATE INDEX IF NOT EXISTS {i1} ON {t} (jurisdiction text_pattern_ops)",
            "CREATE INDEX IF NOT EXISTS {i2} ON {t} (status)",
            "CREATE INDEX IF NOT EXISTS {i3} ON {t} (certificate_valid_until)",
            "CREATE INDEX IF NOT EXISTS {i4} ON {t} USING gin (risk_flags)",
        ):
            self.sql_create_statements.append(SQL(statement).format(
                t=rows, i1=Identifier(f"{self.prefix}_jurisdiction_idx"),
                i2=Identifier(f"{self.prefix}_status_idx"),
                i3=Identifier(f"{self.prefix}_certificate_idx"),
                i4=Identifier(f"{self.prefix}_risk_idx")))

    def _store_rows(self, curs: Any, states: Sequence[Organization], rows: list[Any]) -> None:
        timeline: dict[UUID, list[dict]] = {}
        for entry in rows:
            assert isinstance(entry, TimelineEntry)
            timeline.setdefault(entry.organization_id, []).append(entry.entry)
        params = []
        for org in states:
            row = case_file_row(org)
            entries = timeline.get(org.id, [])
            values = [getattr(row, c) for c in self.COLUMNS]
            values[-1] = json.dumps(row.document, ensure_ascii=False)
            params.append((*values, max(e["position"] for e in entries),
                           json.dumps(entries, ensure_ascii=False)))
        if not params:
            return
        columns = SQL(", ").join(Identifier(c) for c in self.COLUMNS)
        updates = SQL(", ").join(SQL("{0} = EXCLUDED.{0}").format(Identifier(c))
                                 for c in self.COLUMNS[1:])
        placeholders = SQL(", ").join(SQL("%s") for _ in range(len(self.COLUMNS) + 2))
        curs.executemany(SQL(
            "INSERT INTO {t} ({columns}, position, timeline) VALUES ({placeholders}) "
            "ON CONFLICT (organization_id) DO UPDATE SET {updates}, "
            "position = EXCLUDED.position, timeline = {t}.timeline || EXCLUDED.timeline"
        ).format(t=self.rows_table, columns=columns, placeholders=placeholders,
                 updates=updates), params)

    def get(self, identifier: str) -> dict | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT * FROM {t} WHERE identifier = %s").format(
                t=self.rows_table), (identifier,))
            return curs.fetchone()

    def search(self, *, text: str | None = None, jurisdiction: str | None = None,
               status: str | None = None, org_type: str | None = None,
               risk_flag: str | None = None, credit_list: str | None = None,
               limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        where, params = [SQL("TRUE")], []
        if text:
            where.append(SQL("(name ILIKE %s OR identifier ILIKE %s)"))
            like = "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
            params += [like, like]
        if jurisdiction:
            where.append(SQL("jurisdiction LIKE %s"))
            params.append(jurisdiction + "%")
        for column, value in (("status", status), ("org_type", org_type)):
            if value:
                where.append(SQL("{0} = %s").format(Identifier(column)))
                params.append(value)
        if risk_flag:
            where.append(SQL("%s = ANY(risk_flags)"))
            params.append(risk_flag)
        if credit_list:
            where.append(SQL("%s = ANY(credit_lists)"))
            params.append(credit_list)
        condition = SQL(" AND ").join(where)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT count(*) AS n FROM {t} WHERE {c}").format(
                t=self.rows_table, c=condition), params)
            total = curs.fetchone()["n"]
            curs.execute(SQL(
                "SELECT identifier, code, name, org_type, status, jurisdiction, "
                "certificate_valid_until, credit_lists, latest_conclusion, "
                "latest_conclusion_year, rating, risk_flags, version FROM {t} WHERE {c} "
                "ORDER BY position DESC LIMIT %s OFFSET %s").format(
                    t=self.rows_table, c=condition), [*params, limit, offset])
            return total, curs.fetchall()

    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        return self._digest(SQL(
            "SELECT count(*) AS n, md5(string_agg(identifier || ':' || version || ':' || "
            "document::text || ':' || timeline::text, '|' ORDER BY identifier)) AS digest "
            "FROM {t} WHERE position <= %s").format(t=self.rows_table),
            (up_to if up_to is not None else 2 ** 62,))


class PostgresAuditView(PostgresStatefulView, AuditView):
    FIELDS = ("position", "aggregate_id", "identifier", "event_type", "actor_id",
              "actor_role", "recorded_at", "effective_date", "reason", "reference", "changes",
              "late", "canonical", "previous_hash", "hash")

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.entries_table = self.table("entries")
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {t} (position bigint PRIMARY KEY, "
            "aggregate_id uuid NOT NULL, identifier text, event_type text NOT NULL, "
            "actor_id text, actor_role text, recorded_at timestamptz NOT NULL, "
            "effective_date date, reason text, reference text, changes jsonb NOT NULL, "
            "late boolean NOT NULL, canonical text NOT NULL, previous_hash text NOT NULL, "
            "hash text NOT NULL)").format(t=self.entries_table))
        self.sql_create_statements.append(SQL(
            "CREATE INDEX IF NOT EXISTS {i} ON {t} (identifier, position)").format(
                i=Identifier(f"{self.prefix}_identifier_idx"), t=self.entries_table))

    def head(self) -> tuple[int, str]:
        with self.datastore.transaction(commit=False) as curs:
            return self._head(curs)

    def _head(self, curs: Any) -> tuple[int, str]:
        curs.execute(SQL("SELECT position, hash FROM {t} ORDER BY position DESC LIMIT 1")
                     .format(t=self.entries_table))
        row = curs.fetchone()
        return (row["position"], row["hash"]) if row else (0, GENESIS)

    def _store_rows(self, curs: Any, states: Sequence[Organization], rows: list[Any]) -> None:
        if not rows:
            return
        _, previous = self._head(curs)
        link(rows, previous)
        params = []
        for entry in rows:
            assert isinstance(entry, AuditEntry)
            values = [getattr(entry, f) for f in self.FIELDS]
            values[self.FIELDS.index("changes")] = json.dumps(entry.changes, ensure_ascii=False)
            params.append(values)
        curs.executemany(SQL("INSERT INTO {t} ({f}) VALUES ({p})").format(
            t=self.entries_table, f=SQL(", ").join(Identifier(f) for f in self.FIELDS),
            p=SQL(", ").join(SQL("%s") for _ in self.FIELDS)), params)

    def entries(self, *, identifier: str | None = None, after: int = 0,
                up_to: int | None = None, limit: int | None = None) -> list[dict]:
        condition = SQL("position > %s AND position <= %s")
        params: list[Any] = [after, up_to if up_to is not None else 2 ** 62]
        if identifier is not None:
            condition = SQL("identifier = %s AND position > %s AND position <= %s")
            params = [identifier, *params]
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT * FROM {t} WHERE {c} ORDER BY position LIMIT %s").format(
                t=self.entries_table, c=condition), [*params, limit])
            return curs.fetchall()

    def all_entries(self, up_to: int, page: int = 2000):
        """Every entry up to a position, read page by page."""
        after = 0
        while True:
            rows = self.entries(after=after, up_to=up_to, limit=page)
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1]["position"]

    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        return self._digest(SQL(
            "SELECT count(*) AS n, md5(string_agg(hash, '' ORDER BY position)) AS digest "
            "FROM {t} WHERE position <= %s").format(t=self.entries_table),
            (up_to if up_to is not None else 2 ** 62,))


class PostgresStatisticsView(PostgresStatefulView, StatisticsView):
    positional_checksum = False  # sums cannot be cut at a position
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.counts_table = self.table("counts")
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {t} (jurisdiction text NOT NULL, year int NOT NULL, "
            "kind text NOT NULL, count bigint NOT NULL, "
            "PRIMARY KEY (jurisdiction, year, kind))").format(t=self.counts_table))

    def _store_rows(self, curs: Any, states: Sequence[Organization], rows: list[Any]) -> None:
        merged: dict[tuple[str, int, str], int] = {}
        for count in rows:
            assert isinstance(count, Count)
            key = (count.jurisdiction, count.year, count.kind)
            merged[key] = merged.get(key, 0) + count.delta
        if merged:
            curs.executemany(SQL(
                "INSERT INTO {t} (jurisdiction, year, kind, count) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (jurisdiction, year, kind) DO UPDATE "
                "SET count = {t}.count + EXCLUDED.count").format(t=self.counts_table),
                [(*key, delta) for key, delta in sorted(merged.items())])

    def totals(self, *, jurisdiction_prefix: str, year: int | None = None
               ) -> dict[int, dict[str, int]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL(
                "SELECT year, kind, sum(count)::bigint AS n FROM {t} "
                "WHERE jurisdiction LIKE %s AND (%s::int IS NULL OR year = %s::int) "
                "GROUP BY year, kind ORDER BY year, kind").format(t=self.counts_table),
                (jurisdiction_prefix + "%", year, year))
            result: dict[int, dict[str, int]] = {}
            for row in curs.fetchall():
                if row["n"]:
                    result.setdefault(row["year"], {})[row["kind"]] = row["n"]
            return result

    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        return self._digest(SQL(
            "SELECT count(*) AS n, md5(string_agg(jurisdiction || ':' || year || ':' || kind "
            "|| ':' || count, '|' ORDER BY jurisdiction, year, kind)) AS digest FROM {t} "
            "WHERE count <> 0").format(t=self.counts_table))
