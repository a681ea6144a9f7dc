"""The audit trail in PostgreSQL: one hash-chained entry per event."""

from __future__ import annotations

import json
from typing import Any, Sequence

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

from adapters.views.base import PostgresStatefulView
from domain.organization import Organization
from projections.audit import GENESIS, AuditEntry, AuditView, link

# The last verified head and the latest verification (adapters.views.audit_verification):
# one table beside the live trail, named once, never part of a rebuild's copy and swap.
VERIFIED_HEAD_TABLE = "audittrail_verified_head"


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
        self.verified_head_table = SQL("{0}.{1}").format(
            Identifier(self.datastore.schema), Identifier(VERIFIED_HEAD_TABLE))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {t} (id smallint PRIMARY KEY CHECK (id = 1), "
            "head jsonb, last_run jsonb NOT NULL)").format(t=self.verified_head_table))

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
        changes = self.FIELDS.index("changes")
        # COPY, not an INSERT per entry: a rebuild writes 500 entries a page, and the
        # per-statement cost was most of the audit view's time (bench d). The columns
        # take the same text through the same input functions either way.
        with curs.copy(SQL("COPY {t} ({f}) FROM STDIN").format(
                t=self.entries_table,
                f=SQL(", ").join(Identifier(f) for f in self.FIELDS))) as copy:
            for entry in rows:
                assert isinstance(entry, AuditEntry)
                values = [getattr(entry, f) for f in self.FIELDS]
                values[changes] = json.dumps(entry.changes, ensure_ascii=False)
                copy.write_row(values)

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

    def page(self, identifier: str, offset: int, limit: int) -> tuple[int, list[dict]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT count(*) AS n FROM {t} WHERE identifier = %s").format(
                t=self.entries_table), (identifier,))
            total = curs.fetchone()["n"]
            curs.execute(SQL("SELECT * FROM {t} WHERE identifier = %s ORDER BY position "
                             "LIMIT %s OFFSET %s").format(t=self.entries_table),
                         (identifier, limit, offset))
            return total, curs.fetchall()

    def chain_pages(self, up_to: int, after: int = 0, page: int = 2000):
        """What the verifier reads of each entry after a position up to another (its
        position, canonical form and hashes), a page at a time: not the changes, whose
        JSON the driver would parse for nothing."""
        while True:
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(SQL("SELECT position, canonical, previous_hash, hash FROM {t} "
                                 "WHERE position > %s AND position <= %s ORDER BY position "
                                 "LIMIT %s").format(t=self.entries_table), (after, up_to, page))
                rows = curs.fetchall()
            if rows:
                yield rows
            if len(rows) < page:
                return
            after = rows[-1]["position"]

    def all_entries(self, up_to: int, after: int = 0, page: int = 2000):
        """Every entry after a position up to another, read page by page."""
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
