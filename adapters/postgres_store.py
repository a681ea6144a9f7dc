"""The event store's PostgreSQL recorder, extended with the idempotency log.

The library's recorder calls ``_insert_events`` inside the same transaction as the insert
of the stored events; we use that hook to insert the Idempotency-Key row, so a command's
key and its events commit or roll back together. It is a process recorder: the rules
that follow the log save what they decide with the tracking position of the event they
processed (``save(..., tracking=...)``), in the same transaction.

``answer_quickly()`` is for the processes that answer requests (bug B of
docs/RELIABILITY.md): the library retries each read and write up to 10 times, each time
waiting up to ``POSTGRES_CONNECT_TIMEOUT`` for a pooled connection, so a request held on
through a whole database outage instead of answering 503.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import Any, Callable, Sequence
from uuid import UUID

import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder, PostgresRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from adapters.postgres_ddl import SerializedDDL
from services.ports import IdempotencyRecord

log = logging.getLogger(__name__)

# The recorder methods the library decorates with @retry(max_attempts=10, wait=0.2).
RETRIED_METHODS = ("insert_events", "select_events", "select_notifications",
                   "max_notification_id", "insert_tracking", "max_tracking_id",
                   "has_tracking_id")
# A web pool that cannot reconnect gives up after this long (the library: 5 min, with a
# back-off that doubles up to it), so that the next request starts a fresh attempt: the
# pool answers again within seconds of the database's return, not minutes.
WEB_RECONNECT_TIMEOUT = 5.0


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

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """The library's insert (the idempotency and tracking rows, the table lock, NOTIFY,
        the events with their positions returned, one transaction) without psycopg's
        pipeline mode: a pipelined save of a few hundred kilobytes of events could stall for
        ever, the client waiting in ``Pipeline.sync`` and the server in ``ClientRead``
        (bench/large_save.py; it also stopped a data-set generator at a save of about 600
        events). Outside the pipeline each statement is a round trip (four or five where
        the pipeline made one), about 0.1 ms each over a local socket."""
        with self.datastore.transaction(commit=True) as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if not stored_events:
                return None
            self._insert_stored_events(curs, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

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


def answer_quickly(recorder: PostgresRecorder, attempts: int = 3) -> PostgresRecorder:
    """Make this recorder (an instance, in a process that answers requests) fail fast
    when the database is away: each retried method calls the library's undecorated
    method, retrying at once only after a failure on a connection the pool handed out
    (a stale one after a restart: the pool then drops it), never after waiting in vain for
    a connection (``PoolTimeout``), and at most ``attempts`` times. The caller answers
    503; the client retries. Workers and the relay keep the library's patient retries."""
    for name in RETRIED_METHODS:
        undecorated = getattr(getattr(type(recorder), name, None), "__wrapped__", None)
        if undecorated is not None:
            setattr(recorder, name, _fail_fast(undecorated.__get__(recorder), attempts))
    recorder.datastore.pool.reconnect_timeout = WEB_RECONNECT_TIMEOUT
    return recorder


def _fail_fast(method: Callable[..., Any], attempts: int) -> Callable[..., Any]:
    @functools.wraps(method)
    def attempt(*args: Any, **kwargs: Any) -> Any:
        for n in range(1, attempts + 1):
            try:
                return method(*args, **kwargs)
            except (InterfaceError, OperationalError) as e:
                if n == attempts or isinstance(e.__cause__, psycopg_pool.PoolTimeout):
                    raise
                log.info("%s failed on a pooled connection (%s); once more", method.__name__, e)
                time.sleep(0.01)
        raise AssertionError("unreachable")

    return attempt
