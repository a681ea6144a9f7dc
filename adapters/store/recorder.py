"""The event store's PostgreSQL recorder, extended with the idempotency log, the
time-travel index and group commit.

A save's events are inserted in one transaction with its Idempotency-Key row
(``idempotency=``), so a command's key and its events commit or roll back together. It is
a process recorder: the rules that follow the log save what they decide with the tracking
position of the event they processed (``save(..., tracking=...)``), in the same
transaction. The same transaction writes the time-travel index (``time_index=``): per
organization event its version, effective date and recording time in plain columns (the
stored events are encrypted), so that ``CaseFiles.organization_at`` chooses in SQL the
snapshot to start from and the later events still to apply, and decodes only those.

Group commit (adapters.store.group_commit): the saves that threads of one process make
while a transaction is under way are recorded together in the next one: one table lock,
one insert per table, one commit, each save answered after that commit with its own
positions or its own error. The table lock is the library's (EXCLUSIVE, held to the
commit), so positions still commit in order and a reader never passes over one that
commits later.

``answer_quickly()`` is for the processes that answer requests (bug B of
docs/RELIABILITY.md): the library retries each read and write up to 10 times, each time
waiting up to ``POSTGRES_CONNECT_TIMEOUT`` for a pooled connection, so a request held on
through a whole database outage instead of answering 503.
"""

from __future__ import annotations

import functools
import logging
import time
from datetime import date, datetime
from typing import Any, Callable, ContextManager, Sequence
from uuid import UUID, uuid4

import psycopg
import psycopg_pool
from eventsourcing.persistence import (DatabaseError, DataError, IntegrityError, InterfaceError,
                                       NotSupportedError, OperationalError, PersistenceError,
                                       ProgrammingError, StoredEvent)
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder, PostgresRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier, Literal

from adapters.store import binary_arrays
from adapters.store.ddl import SerializedDDL
from adapters.store.group_commit import GroupCommitter, Write
from adapters.store.held_connection import HeldConnection
from adapters.store.libpq_statement import LibpqStatement, bigint_array
from services.ports import TimeIndexRow, TimeTravelPlan
from services.ports import IdempotencyRecord

log = logging.getLogger(__name__)

# The recorder methods the library decorates with @retry(max_attempts=10, wait=0.2).
RETRIED_METHODS = ("insert_events", "select_events", "select_notifications",
                   "max_notification_id", "insert_tracking", "max_tracking_id",
                   "has_tracking_id", "time_travel_plan", "select_unindexed_events",
                   "insert_time_index")
# The errors that are one write's own (its rows refused), not its transaction's: the
# library's types, and psycopg's that the library's datastore translates into them.
WRITE_ERRORS = (IntegrityError, DataError, ProgrammingError, NotSupportedError)
_PSYCOPG_WRITE_ERRORS = ((psycopg.IntegrityError, IntegrityError), (psycopg.DataError, DataError),
                         (psycopg.ProgrammingError, ProgrammingError),
                         (psycopg.NotSupportedError, NotSupportedError))
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
        self.select_idempotency_statement = SQL(
            "SELECT actor_id, key, fingerprint, aggregate_id, version, result FROM {table}"
            " WHERE actor_id = %s AND key = %s").format(table=table)
        self._create_time_index()
        self._create_record_function(table)
        self.group_commit = True
        # the committer's batches, one at a time, on a connection of their own
        self.held_connection = HeldConnection(self.datastore)
        self.committer = GroupCommitter(
            lambda writes: self._commit_writes(writes, self.held_connection.connection))
        # this recorder's name in the NOTIFY of each transaction that records events
        # ("<writer> <id> <id> ...", or "<writer> *" for too many), so that a process can
        # tell other processes' writes from its own (adapters.store.invalidation)
        self.writer = uuid4().hex
        self._writer = binary_arrays.text(self.writer)

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
        # A save (``<prefix>_record``) overwrites a row left without its event (it can
        # only be stale: the events' primary key still refuses a second event of that
        # version); a backfill leaves a row it finds alone (written with its event, or by
        # another backfill).
        self.backfill_time_index_statement = SQL(
            "INSERT INTO {index} (originator_id, originator_version, effective_date,"
            " recorded_at) SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::date[],"
            " %s::timestamptz[]) ON CONFLICT (originator_id, originator_version) DO NOTHING"
            ).format(id_type=Identifier(self.datastore.originator_id_type), **names)
        self.select_unindexed_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM {events} e"
            " WHERE e.originator_id = %s AND NOT EXISTS (SELECT FROM {index} i"
            " WHERE i.originator_id = e.originator_id"
            " AND i.originator_version = e.originator_version)"
            " ORDER BY e.originator_version").format(**names)

    def _create_record_function(self, idempotency: Any) -> None:
        """``<prefix>_record``: one statement (one round trip, its own transaction on
        the pool's autocommit connections) that records a batch: the table lock, NOTIFY,
        the Idempotency-Key rows, the time-index rows and the events, and returns the
        events' positions, in the order given. Its arrays hold every write of the batch,
        one after the other; an event's time-index row is its effective date and
        recording time in the arrays beside the events' (NULL: the event has none).

        (Its first signature, 15 arrays returning a table, is another function of the
        same name for PostgreSQL: it is left for the processes of the previous release
        during a rolling deployment.)"""
        schema = Identifier(self.datastore.schema)
        id_type = Identifier(self.datastore.originator_id_type)
        name = self.events_table_name.removesuffix("_events") + "_record"
        self.check_identifier_length(name)
        function = SQL("{0}.{1}").format(schema, Identifier(name))
        self.sql_create_statements.append(SQL(
            "CREATE OR REPLACE FUNCTION {function}("
            " ids {id_type}[], versions bigint[], topics text[], states bytea[],"
            " t_dates date[], t_recorded timestamptz[],"
            " i_actors text[], i_keys text[], i_fingerprints text[], i_aggregates uuid[],"
            " i_versions bigint[], i_results jsonb[], writer text)"
            " RETURNS bigint[] LANGUAGE plpgsql AS $body$"
            " DECLARE payload text; positions bigint[]; BEGIN"
            " IF cardinality(ids) > 0 THEN"
            "  SET LOCAL lock_timeout = '{lock_timeout}s';"
            "  LOCK TABLE {events} IN EXCLUSIVE MODE;"
            "  payload := writer || ' ' || (SELECT string_agg(DISTINCT u::text, ' ')"
            "   FROM unnest(ids) u);"
            "  IF length(payload) > 7000 THEN payload := writer || ' *'; END IF;"
            "  PERFORM pg_notify({channel}, payload);"
            " END IF;"
            " INSERT INTO {idempotency} (actor_id, key, fingerprint, aggregate_id, version,"
            " result) SELECT * FROM unnest(i_actors, i_keys, i_fingerprints, i_aggregates,"
            " i_versions, i_results);"
            " INSERT INTO {index} AS i (originator_id, originator_version, effective_date,"
            " recorded_at) SELECT u.id, u.version, u.day, u.recorded"
            " FROM unnest(ids, versions, t_dates, t_recorded) AS u(id, version, day, recorded)"
            " WHERE u.day IS NOT NULL"
            " ON CONFLICT (originator_id, originator_version) DO UPDATE SET"
            " effective_date = EXCLUDED.effective_date, recorded_at = EXCLUDED.recorded_at;"
            # (RETURNING gives the rows in the order inserted, the order of the arrays:
            # the library's recorder counts on it too)
            " WITH recorded AS (INSERT INTO {events} (originator_id, originator_version,"
            " topic, state) SELECT * FROM unnest(ids, versions, topics, states)"
            " RETURNING notification_id)"
            " SELECT array_agg(notification_id) INTO positions FROM recorded;"
            " RETURN positions; END $body$").format(
                function=function, id_type=id_type, idempotency=idempotency,
                lock_timeout=self.datastore.lock_timeout,
                channel=Literal(self.channel_name), **self._time_index_names))
        # The arrays are encoded here (adapters.store.binary_arrays), not adapted by
        # psycopg; a NULL array (no Idempotency-Key) inserts no row.
        # (as a string once: a Composed statement is rendered again at every execute)
        self.record_statement = LibpqStatement(SQL(
            "SELECT {function}($1::{id_type}[], $2::bigint[], $3::text[], $4::bytea[],"
            " $5::date[], $6::timestamptz[],"
            " $7::text[], $8::text[], $9::text[], $10::uuid[], $11::bigint[], $12::jsonb[],"
            " $13::text) AS positions").format(
                function=function, id_type=id_type).as_string(None))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """Record the events with their rows (``idempotency=``, ``time_index=``,
        ``tracking=``) in one transaction, and return their positions: with the saves of
        other threads of this process when they are concurrent (``group_commit``), or
        alone (``group_commit = False``, every save its own transaction as in the
        library). Either way each save gets its own positions or its own error."""
        if self.group_commit:
            return self.committer.submit(stored_events, **kwargs)
        write = Write(stored_events, kwargs)
        self._commit_writes([write])
        return write.outcome()

    def _commit_writes(self, writes: list[Write],
                       connection: Callable[[], ContextManager[Any]] | None = None) -> None:
        """Record the writes together: in one statement (``<prefix>_record``: the table
        lock, so positions commit in order as the library's recorder takes it, NOTIFY,
        one insert per table for all of them, and the commit, in one round trip). If a
        write's rows are refused (its events' versions or its Idempotency-Key already
        recorded, a value the database refuses), nothing was recorded and the batch runs
        again in one transaction with each write in a savepoint of its own
        (``_commit_each``): that write gets its error, the others commit. A write with a
        tracking position (a rule's decision) goes that way too. An error of the
        transaction as a whole (the connection, the lock timeout, the commit) is raised:
        every write of the batch fails and none is recorded. Outcomes are set only after
        the commit. (Never in psycopg's pipeline mode, where a save of a few hundred
        kilobytes could stall for ever: bench/large_save.py.) ``connection``: where the
        statement runs (the committer's held connection), else a pool connection."""
        if any(w.kwargs.get("tracking") is not None for w in writes):
            self._commit_each(writes)
            return
        try:
            with (connection or self.datastore.get_connection)() as conn:
                positions = self._record(conn, writes)
        except WRITE_ERRORS as error:
            if len(writes) > 1:
                self._commit_each(writes)
            else:
                writes[0].fail(error)
            return
        for write, found in zip(writes, positions):
            write.positions = found

    def _commit_each(self, writes: list[Write]) -> None:
        """One transaction, each write in a savepoint: a write whose rows are refused
        gets its error and leaves nothing; the others commit together."""
        outcomes: list[tuple[Sequence[int] | None, BaseException | None]] = []
        with self.datastore.transaction(commit=True) as curs:
            # the lock held by the transaction itself, not by a savepoint that a refused
            # write rolls back (which would let it go before the commit)
            self._lock_table(curs)
            for write in writes:
                try:
                    with curs.connection.transaction():  # a savepoint
                        tracking = write.kwargs.get("tracking")
                        if tracking is not None:
                            self._insert_tracking(curs, tracking)
                        outcomes.append((self._record(curs.connection, [write])[0], None))
                except (psycopg.Error, DatabaseError) as e:
                    own = write_error(e)
                    if own is None:
                        raise
                    outcomes.append((None, own))
        for write, (positions, error) in zip(writes, outcomes):
            if error is None:
                write.positions = positions
            else:
                write.fail(error)

    def _record(self, conn: Any, writes: list[Write]) -> list[Sequence[int] | None]:
        """The writes' events and rows in one statement (adapters.store.prepared: libpq's
        own execute); each write's positions."""
        events = [e for w in writes for e in w.stored_events]
        times = {(row.originator_id, row.originator_version): row
                 for w in writes for row in w.kwargs.get("time_index", ())}
        indexed = [times.pop((e.originator_id, e.originator_version), None) for e in events]
        if times:
            raise ProgrammingError(f"time-index rows without their events: {sorted(times)}")
        records = [w.kwargs["idempotency"] for w in writes
                   if w.kwargs.get("idempotency") is not None]
        positions = bigint_array(self.record_statement.value(conn, (
            binary_arrays.ids(self.datastore.originator_id_type,
                              [e.originator_id for e in events]),
            binary_arrays.bigints([e.originator_version for e in events]),
            binary_arrays.texts([e.topic for e in events]),
            binary_arrays.byteas([e.state for e in events]),
            binary_arrays.dates([row and row.effective_date for row in indexed]),
            binary_arrays.timestamptzs([row and row.recorded_at for row in indexed]),
            *(_idempotency_arrays(records) if records else _NO_ARRAYS),
            self._writer)))
        if len(positions) != len(events):
            raise ProgrammingError(f"{len(events)} events recorded, {len(positions)} "
                                   "positions returned")
        found, at = [], 0
        for write in writes:
            count = len(write.stored_events)
            found.append(positions[at:at + count] if count else None)
            at += count
        return found

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


def write_error(error: BaseException) -> PersistenceError | None:
    """The error as the library's type if it is one write's own (``WRITE_ERRORS``), else
    None (the transaction's: the connection, the lock, an internal error)."""
    if isinstance(error, WRITE_ERRORS):
        return error
    for theirs, ours in _PSYCOPG_WRITE_ERRORS:
        if isinstance(error, theirs):
            translated = ours(str(error))
            translated.__cause__ = error
            return translated
    return None


_NO_ARRAYS = (None,) * 6  # no Idempotency-Key in the batch: six NULL arrays


def _idempotency_arrays(records: Sequence[IdempotencyRecord]) -> tuple[Any, ...]:
    """The Idempotency-Key rows as the recording function's six arrays."""
    return (binary_arrays.texts([r.actor_id for r in records]),
            binary_arrays.texts([r.key for r in records]),
            binary_arrays.texts([r.fingerprint for r in records]),
            binary_arrays.uuids([r.aggregate_id for r in records]),
            binary_arrays.bigints([r.version for r in records]),
            binary_arrays.jsonbs([r.result for r in records]))


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
