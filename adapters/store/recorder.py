"""The event store's PostgreSQL recorder, extended with the idempotency log.

The library's recorder calls ``_insert_events`` inside the same transaction as the insert
of the stored events; we use that hook to insert the Idempotency-Key row, so a command's
key and its events commit or roll back together. It is a process recorder: the rules
that follow the log save what they decide with the tracking position of the event they
processed (``save(..., tracking=...)``), in the same transaction.

The same hook writes the time-travel index (``time_index=``): per organization event its
version, effective date and recording time in plain columns (the stored events are
encrypted), so that ``CaseFiles.organization_at`` chooses in SQL the snapshot to start
from and the later events still to apply, and decodes only those.

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
from datetime import date, datetime
from typing import Any, Callable, Sequence
from uuid import UUID

import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder, PostgresRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from adapters.store.ddl import SerializedDDL
from services.ports import TimeIndexRow, TimeTravelPlan
from services.ports import IdempotencyRecord

log = logging.getLogger(__name__)

# The recorder methods the library decorates with @retry(max_attempts=10, wait=0.2).
RETRIED_METHODS = ("insert_events", "select_events", "select_notifications",
                   "max_notification_id", "insert_tracking", "max_tracking_id",
                   "has_tracking_id", "time_travel_plan", "select_unindexed_events",
                   "insert_time_index")
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
        self._create_time_index()

    def _create_time_index(self) -> None:
        """The time-travel index: one row per organization event, written in the same
        transaction as the event; the snapshots' table is the snapshot store's
        (``<name>_snapshots``, in the same schema)."""
        prefix = self.events_table_name.removesuffix("_events")
        self.time_index_table_name = prefix + "_time_index"
        self.snapshots_table_name = prefix + "_snapshots"
        schema = Identifier(self.datastore.schema)
        names = {"index": SQL("{0}.{1}").format(schema, Identifier(self.time_index_table_name)),
                 "events": SQL("{0}.{1}").format(schema, Identifier(self.events_table_name)),
                 "snapshots": SQL("{0}.{1}").format(schema,
                                                    Identifier(self.snapshots_table_name))}
        self._time_index_names = names
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {index} ("
            " originator_id {id_type} NOT NULL,"
            " originator_version bigint NOT NULL,"
            " effective_date date NOT NULL,"
            " recorded_at timestamptz NOT NULL,"
            " PRIMARY KEY (originator_id, originator_version))").format(
                id_type=Identifier(self.datastore.originator_id_type), **names))
        insert = SQL(
            "INSERT INTO {index} (originator_id, originator_version, effective_date,"
            " recorded_at) SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::date[],"
            " %s::timestamptz[]) ").format(
                id_type=Identifier(self.datastore.originator_id_type), **names)
        # A save overwrites a row left without its event (it can only be stale: the
        # events' primary key still refuses a second event of that version); a backfill
        # leaves a row it finds alone (written with its event, or by another backfill).
        self.insert_time_index_statement = insert + SQL(
            "ON CONFLICT (originator_id, originator_version) DO UPDATE SET"
            " effective_date = EXCLUDED.effective_date, recorded_at = EXCLUDED.recorded_at")
        self.backfill_time_index_statement = insert + SQL(
            "ON CONFLICT (originator_id, originator_version) DO NOTHING")
        self.select_unindexed_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM {events} e"
            " WHERE e.originator_id = %s AND NOT EXISTS (SELECT FROM {index} i"
            " WHERE i.originator_id = e.originator_id"
            " AND i.originator_version = e.originator_version)"
            " ORDER BY e.originator_version").format(**names)

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
                       *, idempotency: IdempotencyRecord | None = None,
                       time_index: Sequence[TimeIndexRow] = (), **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        if idempotency is not None:
            curs.execute(self.insert_idempotency_statement, (
                idempotency.actor_id, idempotency.key, idempotency.fingerprint,
                idempotency.aggregate_id, idempotency.version, json.dumps(idempotency.result)))
        if time_index:
            curs.execute(self.insert_time_index_statement, _columns(time_index), prepare=True)

    # --------------------------------------------------------- the time-travel index

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def time_travel_plan(self, originator_id: UUID, *, as_of: date | None,
                         known_at: datetime | None) -> TimeTravelPlan:
        """One statement (one round trip): the organization's last version and how many
        of its events are indexed; the newest snapshot before both the first version
        recorded after ``known_at`` and the first in effect after ``as_of``; and the
        events after that snapshot, before the first version recorded after ``known_at``,
        in effect on ``as_of`` (all of them without it), in version order."""
        names = self._time_index_names
        unknown_from = (SQL("(SELECT min(originator_version) FROM {index}"
                            " WHERE originator_id = %(id)s AND recorded_at > %(known_at)s)")
                        if known_at is not None else SQL("NULL::bigint")).format(**names)
        later_from = (SQL("(SELECT min(originator_version) FROM {index}"
                          " WHERE originator_id = %(id)s AND effective_date > %(as_of)s)")
                      if as_of is not None else SQL("NULL::bigint")).format(**names)
        in_effect = SQL(" AND i.effective_date <= %(as_of)s") if as_of is not None else SQL("")
        statement = SQL(
            "WITH b AS (SELECT"
            " (SELECT max(originator_version) FROM {events} WHERE originator_id = %(id)s)"
            " AS recorded,"
            " (SELECT count(*) FROM {index} WHERE originator_id = %(id)s) AS indexed,"
            " {unknown_from} AS unknown_from, {later_from} AS later_from),"
            " s AS (SELECT n.originator_version, n.topic, n.state FROM {snapshots} n, b"
            " WHERE n.originator_id = %(id)s"
            " AND n.originator_version < least(b.unknown_from, b.later_from, b.recorded + 1)"
            " ORDER BY n.originator_version DESC LIMIT 1)"
            " SELECT 0 AS kind, b.recorded AS originator_version, b.indexed AS indexed,"
            " NULL::text AS topic, NULL::bytea AS state FROM b"
            " UNION ALL SELECT 1, s.originator_version, NULL, s.topic, s.state FROM s"
            " UNION ALL SELECT 2, e.originator_version, NULL, e.topic, e.state"
            " FROM b, {index} i JOIN {events} e ON e.originator_id = i.originator_id"
            " AND e.originator_version = i.originator_version"
            " WHERE i.originator_id = %(id)s"
            " AND i.originator_version > coalesce((SELECT originator_version FROM s), 0)"
            " AND i.originator_version < least(b.unknown_from, b.recorded + 1){in_effect}"
            " ORDER BY 1, 2").format(unknown_from=unknown_from, later_from=later_from,
                                     in_effect=in_effect, **names)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, {"id": originator_id, "as_of": as_of,
                                     "known_at": known_at}, prepare=True)
            rows = curs.fetchall()
        head, snapshot, events = rows[0], None, []
        for row in rows[1:]:
            stored = StoredEvent(originator_id=originator_id,
                                 originator_version=row["originator_version"],
                                 topic=row["topic"], state=bytes(row["state"]))
            if row["kind"] == 1:
                snapshot = stored
            else:
                events.append(stored)
        return TimeTravelPlan(recorded=head["originator_version"] or 0,
                              indexed=head["indexed"], snapshot=snapshot, events=events)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_unindexed_events(self, originator_id: UUID) -> list[StoredEvent]:
        """The stored events of this originator that have no row in the index (recorded
        before the index existed, or written around ``CaseFiles._record``)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_unindexed_statement, (originator_id,))
            return [StoredEvent(originator_id=row["originator_id"],
                                originator_version=row["originator_version"],
                                topic=row["topic"], state=bytes(row["state"]))
                    for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_time_index(self, rows: Sequence[TimeIndexRow]) -> None:
        """Backfill: index rows for events already recorded; a row present is kept."""
        if rows:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(self.backfill_time_index_statement, _columns(rows))

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


def _columns(rows: Sequence[TimeIndexRow]) -> tuple[list, list, list, list]:
    """The index rows as four arrays, for one ``unnest`` insert (one statement, whatever
    the number of events)."""
    return ([r.originator_id for r in rows], [r.originator_version for r in rows],
            [r.effective_date for r in rows], [r.recorded_at for r in rows])


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
