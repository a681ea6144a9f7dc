"""The open-data extract (issue 16 item 5) in PostgreSQL beside the views: each extract's
files (CSV and JSON, UTF-8, one per table of ``projections.open_data``) stored in chunks,
with their SHA-256, size and row count, the day it was produced and the case-file view's
log position it reflects. PostgreSQL holds them so that there is no second storage to back
up and every web process serves the same files.

``produce`` streams: it reads the case files through a server-side cursor in one
repeatable-read snapshot (its position and its rows agree) and writes each file in
chunks of ``CHUNK`` bytes as it goes, so its memory does not grow with the register
(bench/open_data.py measures it). The extract appears whole or not at all (one
transaction); the last ``KEEP`` extracts are kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterator

from psycopg.sql import SQL, Identifier

from adapters.store.ddl import DDL_LOCK
from projections.documents import public_document
from projections.open_data import TABLES, plan_rows, rows_of

CHUNK = 256 * 1024
KEEP = 7
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
PRODUCE_LOCK = (7_305_718, 16)  # one extract at a time (worker, CLI)
READ_BATCH = 200  # case files fetched from the server-side cursor at a time


@dataclass
class File:
    name: str  # e.g. organizations.csv
    table: str
    media_type: str
    rows: int = 0
    bytes: int = 0
    sha256: str = ""


@dataclass
class Extract:
    id: int
    produced_on: date
    produced_at: datetime
    position: int
    organizations: int
    seconds: float
    files: list[File] = field(default_factory=list)

    def file(self, name: str) -> File | None:
        return next((f for f in self.files if f.name == name), None)


class _Writer:
    """One file being written: text in, chunks of ``CHUNK`` bytes out, hashed as written."""

    def __init__(self, curs: Any, table: Any, extract_id: int, file: File):
        self.curs, self.table, self.extract_id, self.file = curs, table, extract_id, file
        self.buffer = bytearray()
        self.sha = hashlib.sha256()
        self.seq = 0

    def write(self, text: str) -> None:
        self.buffer += text.encode("utf-8")
        if len(self.buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        data = bytes(self.buffer)
        self.sha.update(data)
        self.file.bytes += len(data)
        self.curs.execute(SQL("INSERT INTO {t} (extract_id, name, seq, data) "
                              "VALUES (%s, %s, %s, %s)").format(t=self.table),
                          (self.extract_id, self.file.name, self.seq, data))
        self.seq += 1
        self.buffer.clear()

    def close(self) -> None:
        self.flush()
        self.file.sha256 = self.sha.hexdigest()


class _TableWriter:
    """A table's CSV and JSON files side by side."""

    def __init__(self, csv_writer: _Writer, json_writer: _Writer, header: list[str]):
        self.csv, self.json, self.header = csv_writer, json_writer, header
        self._text = io.StringIO()
        self._rows = csv.writer(self._text, lineterminator="\n")
        self._rows.writerow(header)
        self._drain()
        self.json.write("[")

    def _drain(self) -> None:
        self.csv.write(self._text.getvalue())
        self._text.seek(0)
        self._text.truncate()

    def add(self, row: list[Any]) -> None:
        self._rows.writerow(["" if v is None else ("true" if v is True else "false")
                             if isinstance(v, bool) else v for v in row])
        self._drain()
        first = self.json.file.rows == 0
        self.json.write(("\n" if first else ",\n")
                        + json.dumps(dict(zip(self.header, row)), ensure_ascii=False))
        self.csv.file.rows += 1
        self.json.file.rows += 1

    def close(self) -> None:
        self.json.write("\n]\n")
        self.csv.close()
        self.json.close()


class OpenDataStore:
    def __init__(self, datastore: Any):
        self.datastore = datastore

        def table(name: str) -> Any:
            return SQL("{0}.{1}").format(Identifier(datastore.schema), Identifier(name))

        self.extracts, self.files = table("open_data_extracts"), table("open_data_files")
        self.chunks = table("open_data_chunks")
        self.casefiles, self.tracking = table("casefiles_rows"), table("casefiles_tracking")
        self.plans = table("network_plans")
        with datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            for statement in (
                "CREATE TABLE IF NOT EXISTS {e} (id bigserial PRIMARY KEY, "
                "produced_on date NOT NULL, produced_at timestamptz NOT NULL, "
                "position bigint NOT NULL, organizations bigint NOT NULL, seconds real NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {f} (extract_id bigint NOT NULL REFERENCES {e} (id) "
                "ON DELETE CASCADE, name text NOT NULL, tbl text NOT NULL, media_type text NOT "
                "NULL, rows bigint NOT NULL, bytes bigint NOT NULL, sha256 text NOT NULL, "
                "PRIMARY KEY (extract_id, name))",
                "CREATE TABLE IF NOT EXISTS {c} (extract_id bigint NOT NULL, name text NOT NULL, "
                "seq int NOT NULL, data bytea NOT NULL, PRIMARY KEY (extract_id, name, seq), "
                "FOREIGN KEY (extract_id) REFERENCES {e} (id) ON DELETE CASCADE)",
            ):
                curs.execute(SQL(statement).format(e=self.extracts, f=self.files,
                                                   c=self.chunks))

    # ------------------------------------------------------------------- producing

    def produce(self, today: date, *,
                progress: Callable[[int, int], None] | None = None) -> Extract:
        """A new extract of the case-file view as it stands, for ``today``; ``progress``
        is told (done, total) organizations as it goes."""
        started = time.monotonic()
        with self.datastore.get_connection() as read, self.datastore.transaction(
                commit=True) as write:
            write.execute("SELECT pg_advisory_xact_lock(%s, %s)", PRODUCE_LOCK)
            with read.transaction():
                read.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                position = read.execute(SQL(
                    "SELECT coalesce(max(notification_id), 0) AS p FROM {t}").format(
                    t=self.tracking)).fetchone()["p"]
                total = read.execute(SQL("SELECT count(*) AS n FROM {t}").format(
                    t=self.casefiles)).fetchone()["n"]
                write.execute(SQL(
                    "INSERT INTO {e} (produced_on, produced_at, position, organizations, "
                    "seconds) VALUES (%s, now(), %s, %s, 0) RETURNING id, produced_at"
                ).format(e=self.extracts), (today, position, total))
                created = write.fetchone()
                extract = Extract(created["id"], today, created["produced_at"], position,
                                  total, 0.0)
                tables = {}
                for table in TABLES:
                    writers = []
                    for suffix, media_type in FORMATS.items():
                        file = File(f"{table.name}.{suffix}", table.name, media_type)
                        extract.files.append(file)
                        writers.append(_Writer(write, self.chunks, extract.id, file))
                    tables[table.name] = _TableWriter(*writers, table.header)
                done = 0
                with read.cursor(name="open_data_casefiles") as rows:
                    rows.itersize = READ_BATCH
                    rows.execute(SQL("SELECT document, jurisdiction FROM {t} "
                                     "ORDER BY identifier").format(t=self.casefiles))
                    for row in rows:
                        public = public_document(row["document"])
                        for name, values in rows_of(public, row["jurisdiction"]):
                            tables[name].add(values)
                        done += 1
                        if progress is not None and done % READ_BATCH == 0:
                            progress(done, total)
                self._published_plans(read, tables)
            for writer in tables.values():
                writer.close()
            extract.seconds = time.monotonic() - started
            for f in extract.files:
                write.execute(SQL(
                    "INSERT INTO {f} (extract_id, name, tbl, media_type, rows, bytes, sha256) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s)").format(f=self.files),
                    (extract.id, f.name, f.table, f.media_type, f.rows, f.bytes, f.sha256))
            write.execute(SQL("UPDATE {e} SET seconds = %s WHERE id = %s").format(
                e=self.extracts), (extract.seconds, extract.id))
            write.execute(SQL(
                "DELETE FROM {e} WHERE id NOT IN (SELECT id FROM {e} ORDER BY id DESC "
                "LIMIT %s)").format(e=self.extracts), (KEEP,))
        if progress is not None:
            progress(done, total)
        return extract

    def _published_plans(self, read: Any, tables: dict) -> None:
        """The published plans' results, in the same snapshot (none where the network
        view's plans table does not exist)."""
        exists = read.execute("SELECT to_regclass(%s) AS t",
                              (f'"{self.datastore.schema}".network_plans',)).fetchone()["t"]
        if exists is None:
            return
        with read.cursor(name="open_data_plans") as plans:
            plans.itersize = READ_BATCH
            plans.execute(SQL("SELECT number, jurisdiction, published_on, results FROM {t} "
                              "WHERE published_on IS NOT NULL ORDER BY number").format(
                                  t=self.plans))
            for plan in plans:
                plan["published_on"] = plan["published_on"].isoformat()
                for name, values in plan_rows(plan):
                    tables[name].add(values)

    def produce_daily(self, today: date) -> Extract | None:
        """Today's extract, unless there is one already (the worker asks every so often)."""
        latest = self.latest()
        if latest is not None and latest.produced_on >= today:
            return None
        return self.produce(today)

    # ------------------------------------------------------------------- reading

    def latest(self) -> Extract | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT * FROM {e} ORDER BY id DESC LIMIT 1").format(
                e=self.extracts))
            row = curs.fetchone()
            if row is None:
                return None
            curs.execute(SQL("SELECT * FROM {f} WHERE extract_id = %s").format(f=self.files),
                         (row["id"],))
            files = {r["name"]: File(r["name"], r["tbl"], r["media_type"], r["rows"],
                                     r["bytes"], r["sha256"]) for r in curs.fetchall()}
        order = [f"{t.name}.{s}" for t in TABLES for s in FORMATS]
        return Extract(row["id"], row["produced_on"], row["produced_at"], row["position"],
                       row["organizations"], row["seconds"],
                       [files[n] for n in order if n in files])

    def content(self, extract_id: int, name: str) -> Iterator[bytes]:
        """A file's bytes, a chunk at a time (one short query each: no connection is held
        while the client reads)."""
        seq = 0
        while True:
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(SQL("SELECT data FROM {c} WHERE extract_id = %s AND name = %s "
                                 "AND seq = %s").format(c=self.chunks),
                             (extract_id, name, seq))
                row = curs.fetchone()
            if row is None:
                return
            yield bytes(row["data"])
            seq += 1

