"""The event store's PostgreSQL recorder, extended with the idempotency log.

The library's recorder calls ``_insert_events`` inside the same transaction as the insert
of the stored events; we use that hook to insert the Idempotency-Key row, so a command's
key and its events commit or roll back together. It is a process recorder: the rules
that follow the log save what they decide with the tracking position of the event they
processed (``save(..., tracking=...)``), in the same transaction.
"""

from __future__ import annotations

import json
from typing import Any, Sequence
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg.sql import SQL, Identifier

from adapters.postgres_ddl import SerializedDDL
from services.ports import IdempotencyRecord


class CaseFileRecorder(SerializedDDL, PostgresProcessRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events",
                 tracking_table_name: str | None = None):
        super().__init__(datastore, events_table_name=events_table_name,
                         tracking_table_name=tracking_table_name
                         or events_table_name.removesuffix("_events") + "_tracking")
        self.idempotency_table_name = events_table_name.removesuffix("_events") + "_idempotency"
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                      Identifier(self.idempotency_table_name))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {table} ("
            " actor_id text NOT NULL,"
            " key text NOT NULL,"
            " fingerprint text NOT NULL,"
            " aggregate_id uuid NOT NULL,"
            " version bigint NOT NULL,"
            " result jsonb NOT NULL,"
            " recorded_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (actor_id, key))").format(table=table))
        self.insert_idempotency_statement = SQL(
            "INSERT INTO {table} (actor_id, key, fingerprint, aggregate_id, version, result)"
            " VALUES (%s, %s, %s, %s, %s, %s)").format(table=table)
        self.select_idempotency_statement = SQL(
            "SELECT actor_id, key, fingerprint, aggregate_id, version, result FROM {table}"
            " WHERE actor_id = %s AND key = %s").format(table=table)

    def _insert_events(self, curs: Any, stored_events: Sequence[Any],
                       *, idempotency: IdempotencyRecord | None = None, **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        if idempotency is not None:
            curs.execute(self.insert_idempotency_statement, (
                idempotency.actor_id, idempotency.key, idempotency.fingerprint,
                idempotency.aggregate_id, idempotency.version, json.dumps(idempotency.result)))

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        """The notification id of one recorded event."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT notification_id FROM {0}.{1} WHERE originator_id = %s "
                             "AND originator_version = %s").format(
                                 Identifier(self.datastore.schema),
                                 Identifier(self.events_table_name)), (originator_id, version))
            row = curs.fetchone()
        return row["notification_id"] if row else None

    def find_idempotency_record(self, actor_id: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.select_idempotency_statement, (actor_id, key))
            row = curs.fetchone()
        if row is None:
            return None
        return IdempotencyRecord(key=row["key"], actor_id=row["actor_id"],
                                 fingerprint=row["fingerprint"],
                                 aggregate_id=UUID(str(row["aggregate_id"])),
                                 version=row["version"], result=row["result"])
