"""Running the read models: the worker (the library's ProjectionRunner per projection,
following new events through the PostgreSQL subscription, applying what each fetch
brings as one batch), rebuilds with a checksum comparison, and status.

One projector per view: whoever writes a view (a worker's projection, a catch-up, a
rebuild's swap) holds its exclusive advisory lock (``projector_lock``), and the view
itself refuses a batch that does not start beyond its stored position
(``PostgresStatefulView._claim``), so that two projectors can never apply an event
twice even when the locks fail them (PostgreSQL restarted, a session was terminated).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresFactory
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from adapters.views.postgres import (PostgresAuditView, PostgresCaseFileView,
                                     PostgresNetworkView, PostgresStatefulView,
                                     PostgresStatisticsView)
from projections.audit import AuditProjection
from projections.base import OrganizationProjection
from projections.casefile import CaseFileProjection
from projections.network import NetworkProjection
from projections.statistics import StatisticsProjection
from domain.meta import Meta
from adapters.bootstrap import build_casefiles
from adapters.store.application import StoredCaseFiles
from services.casefiles import CaseFiles

log = logging.getLogger(__name__)

WORKER_LOCK = 7_261_001  # pg advisory lock held (shared) by every running worker
PROJECTOR_LOCK = 7_261_003  # one exclusive lock per projection (and "rules"): its projector
RULES = "rules"  # the name of the rules' and the daily clock's lock


def worker_lock(env: dict[str, str]) -> tuple[int, int]:
    """The advisory lock key: one per schema, so separate deployments in one database (and
    parallel test schemas) do not see each other's workers."""
    return WORKER_LOCK, zlib.crc32(_schema(env).encode()) - 2 ** 31


def projector_lock(env: dict[str, str], name: str) -> tuple[int, int]:
    """The exclusive advisory lock of one projection's projector (or of the rules and the
    clock, ``RULES``) in this schema: whoever writes the view holds it, so two workers
    (a rolling deploy), a worker and `casefile clock tick`, or a worker and a rebuild's
    swap never write one view at once."""
    return PROJECTOR_LOCK, zlib.crc32(f"{_schema(env)}/{name}".encode()) - 2 ** 31


def _schema(env: dict[str, str]) -> str:
    return env.get("POSTGRES_SCHEMA") or "public"


class AdvisoryLock:
    """A session-level advisory lock on a connection of its own. ``try_take`` asks once
    (connecting first if need be); ``held`` asks the server whether this session still
    holds it: when PostgreSQL restarts (or the session is terminated) the session and its
    locks are gone, and only asking tells (bug C). ``release`` closes the session."""

    def __init__(self, env: dict[str, str], key: tuple[int, int], *, shared: bool = False,
                 label: str = "casefile"):
        self.env, self.key, self.shared, self.label = env, key, shared, label
        self.conn: psycopg.Connection | None = None
        self.granted = threading.Event()  # set while held, as last checked
        self.lost = self.waiting = False  # for the keeper's log lines
        self.error: str | None = None  # the database error of the last try, if any

    def try_take(self, *, raise_errors: bool = False) -> bool:
        """Whether the lock is granted now. A database error counts as not granted (and
        closes the session) for the keeper, which asks again; a one-off caller
        (``raise_errors``) gets the error, not a false "someone else holds it"."""
        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(**connection_info(self.env), autocommit=True,
                                            connect_timeout=5,
                                            application_name=self.label[:63])
            function = "pg_try_advisory_lock_shared" if self.shared else "pg_try_advisory_lock"
            got = self.conn.execute(f"SELECT {function}(%s, %s)", self.key).fetchone()[0]
            self.error = None
        except psycopg.Error as e:
            log.debug("advisory lock %s: %s", self.key, e)
            self.error = f"{type(e).__name__}: {e}".strip()
            self.release()
            if raise_errors:
                raise
            return False
        if got:
            self.granted.set()
        return bool(got)

    def held(self) -> bool:
        if self.conn is None or self.conn.closed:
            self.granted.clear()
            return False
        try:
            held = self.conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND granted AND objsubid = 2 "
                "AND classid::bigint = %s AND objid::bigint = %s)",
                (self.key[0] % 2 ** 32, self.key[1] % 2 ** 32)).fetchone()[0]
        except psycopg.Error:
            held = False
        if not held:
            self.release()
        return held

    def release(self) -> None:
        """Unlock, then close the session. Unlocking first makes the release synchronous:
        a closed session's locks go only when its backend has exited, a moment later, and
        a caller taking the lock again at once (two clock ticks in a row) would find it
        still held."""
        self.granted.clear()
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                if not conn.closed:
                    conn.execute("SELECT pg_advisory_unlock_all()")
            with contextlib.suppress(Exception):
                conn.close()


def holders(env: dict[str, str]) -> dict[str, str]:
    """Who holds each projector lock of this schema (projection name or ``RULES`` ->
    the holding session's application_name, e.g. ``casefile worker host:pid``)."""
    keys = {projector_lock(env, n)[1] % 2 ** 32: n for n in (*READ_MODELS, RULES)}
    with psycopg.connect(**connection_info(env), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT l.objid::bigint, a.application_name, a.pid FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.objsubid = 2 AND l.classid::bigint = %s "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = "
            "current_database())", (PROJECTOR_LOCK,)).fetchall()
    return {keys[objid]: (name or f"pid {pid}") for objid, name, pid in rows if objid in keys}


@dataclass(frozen=True)
class ReadModel:
    projection: type[OrganizationProjection]
    view: type[PostgresStatefulView]
    tables: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.projection.name


READ_MODELS = {m.name: m for m in (
    ReadModel(CaseFileProjection, PostgresCaseFileView, ("states", "rows", "leaves")),
    ReadModel(AuditProjection, PostgresAuditView, ("states", "entries")),
    ReadModel(StatisticsProjection, PostgresStatisticsView, ("states", "counts")),
    ReadModel(NetworkProjection, PostgresNetworkView,
              ("states", "warnings", "proposals", "nodes")),
)}


SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "9"}


def open_view(env: dict[str, str], name: str, prefix: str | None = None) -> PostgresStatefulView:
    """The PostgreSQL view of a read model, live (``{name}_*`` tables) or under a prefix."""
    model = READ_MODELS[name]
    factory = PostgresFactory(Environment(name, {**env, **SMALL_POOL}))
    view = model.view(factory.datastore, tracking_table_name=f"{prefix or name}_tracking")
    view.create_table()
    return view


def connection_info(env: dict[str, str]) -> dict[str, Any]:
    return {"dbname": env["POSTGRES_DBNAME"], "host": env["POSTGRES_HOST"],
            "port": env.get("POSTGRES_PORT", "5432"), "user": env["POSTGRES_USER"],
            "password": env.get("POSTGRES_PASSWORD", "")}


class Worker:
    """Runs a group of projections (default: all), the rules that follow events and the
    daily clock (``run_rules``), and the Kafka relay when KAFKA_BOOTSTRAP_SERVERS is set;
    a projection that fails is logged and restarted with back-off from its tracked
    position (it resumes, nothing is applied twice).

    Each projection, and the rules with the clock, is projected only while this worker
    holds its exclusive projector lock (``projector_lock``): a second worker for the same
    projection (a rolling deploy) stands by until the first stops; workers for disjoint
    groups run side by side. A keeper thread checks every lock each ``KEEP_SECONDS`` and
    takes a lost one again (after PostgreSQL restarted, the sessions and their locks are
    gone); a projection pauses while its lock is not held."""

    KEEP_SECONDS = 1.0

    def __init__(self, env: dict[str, str], names: tuple[str, ...] = tuple(READ_MODELS),
                 run_rules: bool = True, run_clock: bool = True):
        unknown = [n for n in names if n not in READ_MODELS]
        if unknown:
            raise ValueError(f"unknown projections {unknown}; choose from {list(READ_MODELS)}")
        self.env = {**env, **SMALL_POOL}
        self.run_rules = run_rules
        self.run_clock = run_clock
        self.names = tuple(names)
        self.stopping = threading.Event()
        self.errors: dict[str, str] = {}
        group = "all" if set(self.names) == set(READ_MODELS) else ",".join(self.names) or "-"
        label = (f"casefile worker {socket.gethostname()[:20]}:{os.getpid()} "
                 f"[{group}{'+rules' if run_rules else ''}]")
        self._presence = AdvisoryLock(self.env, worker_lock(self.env), shared=True,
                                      label=label)
        self.locks = {name: AdvisoryLock(self.env, projector_lock(self.env, name), label=label)
                      for name in (*self.names, *([RULES] if run_rules else []))}
        self._thread: threading.Thread | None = None
        self._keeper: threading.Thread | None = None

    def start(self) -> "Worker":
        # Create every table here, once: concurrent CREATE ... IF NOT EXISTS (and CREATE OR
        # REPLACE FUNCTION) statements from the runners' threads would race each other.
        build_casefiles(env=self.env).close()
        for name in self.names:
            open_view(self.env, name).datastore.close()
        self.env["CREATE_TABLE"] = "no"
        self._keep()  # the locks free now are taken before start() returns
        self._keeper = threading.Thread(target=self._keep_forever, name="lock-keeper",
                                        daemon=True)
        self._keeper.start()
        from adapters.kafka.relay import KafkaSettings, Relay

        kafka = KafkaSettings.from_env(self.env)
        self.relay = Relay(self.env, kafka).start() if kafka else None
        self._thread = threading.Thread(target=self.run, name="projection-worker", daemon=True)
        self._thread.start()
        return self

    def _keep(self) -> None:
        for name, lock in (("worker", self._presence), *self.locks.items()):
            if lock.granted.is_set():
                if lock.held():
                    continue
                log.warning("lock of %s lost (PostgreSQL restarted, or the session was "
                            "ended): %s pauses until it is taken again", name, name)
                lock.lost = True
            if lock.try_take():
                if lock.lost:
                    log.warning("lock of %s taken again: %s resumes", name, name)
                lock.lost = lock.waiting = False
            elif not lock.waiting:
                lock.waiting = True
                if lock.error:
                    log.warning("lock of %s not taken, PostgreSQL unreachable (%s): %s "
                                "waits", name, lock.error.splitlines()[0][:200], name)
                else:
                    log.warning("lock of %s held elsewhere (another worker projects it, "
                                "or a rebuild swaps it): standing by", name)

    def _keep_forever(self) -> None:
        while not self.stopping.wait(self.KEEP_SECONDS):
            try:
                self._keep()
            except Exception:  # the keeper must not die: the projections would stall
                log.exception("lock keeper")

    def holds(self, name: str) -> bool:
        """Whether this worker holds the projector lock of ``name`` (as last checked)."""
        lock = self.locks.get(name)
        return lock is not None and lock.granted.is_set()

    def run(self) -> None:
        threads = [threading.Thread(target=self._supervise, args=(name,), daemon=True,
                                    name=f"projection-{name}") for name in self.names]
        if self.run_rules:
            threads.append(threading.Thread(target=self._rules, daemon=True, name="rules"))
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _supervise(self, name: str) -> None:
        model = READ_MODELS[name]
        granted = self.locks[name].granted
        backoff = 0.5
        while not self.stopping.is_set():
            if not granted.wait(0.5):
                continue  # paused: another worker projects it, or the lock was lost
            try:
                caught = catch_up(self.env, name, locked=granted)
                if caught:
                    log.info("projection %s caught up %d events in batches", name, caught)
                runner = BatchingProjectionRunner(application_class=StoredCaseFiles,
                                                  projection_class=model.projection,
                                                  view_class=model.view, env=self.env)
                try:
                    with runner:
                        self.errors.pop(name, None)
                        backoff = 0.5
                        while (not self.stopping.is_set() and granted.is_set()
                               and not self._stalled(runner)):
                            runner.run_forever(timeout=0.5)
                finally:
                    runner.view.datastore.close()
                if not granted.is_set():
                    log.warning("projection %s paused: its lock is not held", name)
            except Exception as e:  # logged, then restarted from the tracked position
                self.errors[name] = f"{type(e).__name__}: {e}"
                log.error("projection %s stopped: %s; restarting in %.1fs", name,
                          self.errors[name], backoff)
                if self.stopping.wait(backoff):
                    break
                backoff = min(backoff * 2, 30.0)

    STALL_SECONDS = 3.0

    def _stalled(self, runner: ProjectionRunner) -> bool:
        """Whether the runner sits behind the log's head without moving. A notification
        that arrives while the subscription is starting can be missed until the next
        one; the supervisor then restarts the runner, which catches up in pages."""
        now = time.monotonic()
        state = getattr(runner, "_watch", None)
        if state is None or now - state[0] < self.STALL_SECONDS:
            if state is None:
                runner._watch = (now, runner.view.max_tracking_id("casefile") or 0)
            return False
        position = runner.view.max_tracking_id("casefile") or 0
        head = runner.app.recorder.max_notification_id() or 0
        runner._watch = (now, position)
        if position < head and position == state[1]:
            log.warning("projection runner stalled at %d (head %d): restarting", position,
                        head)
            return True
        return False

    def _rules(self) -> None:
        """The rules that follow events, and the daily clock (once a day, catching up),
        while this worker holds the rules' lock."""
        from adapters.web.api import today as china_today
        from services.network import RulesEngine

        granted = self.locks[RULES].granted
        backoff, ticked = 0.5, None
        while not self.stopping.is_set():
            if not granted.wait(0.5):
                continue
            app = None
            try:
                app = build_casefiles(env=self.env)
                engine = RulesEngine(app)
                while not self.stopping.is_set() and granted.is_set():
                    if self.run_clock and ticked != china_today():
                        started = time.monotonic()
                        days = clock_tick(self.env, china_today(), in_worker=True)
                        ticked = china_today()
                        if days:  # its warnings and proposals reach the views in batches
                            log.info("clock ticked %d day(s) up to %s in %.1fs", len(days),
                                     days[-1], time.monotonic() - started)
                    if engine.process_pending() == 0:
                        self.stopping.wait(0.2)
                    backoff = 0.5
            except Exception as e:  # logged, then resumed from the rules' tracked position
                self.errors["rules"] = f"{type(e).__name__}: {e}"
                log.error("rules stopped: %s; restarting in %.1fs", self.errors["rules"],
                          backoff)
                if self.stopping.wait(backoff):
                    break
                backoff = min(backoff * 2, 30.0)
            finally:
                if app is not None:
                    app.close()

    def stop(self) -> None:
        self.stopping.set()
        if getattr(self, "relay", None) is not None:
            self.relay.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._keeper is not None:
            self._keeper.join(timeout=10)
        for lock in (self._presence, *self.locks.values()):
            lock.release()


class Busy(RuntimeError):
    """Another process holds the lock of what was asked (a worker runs it)."""


def clock_tick(env: dict[str, str], until: "date | None" = None, *,
               in_worker: bool = False) -> list:
    """Run the daily clock up to ``until`` (default today in China): first bring the rules
    and the views it reads up to date, then tick every day not yet ticked.

    The rules and the clock belong to whoever holds the rules' lock: inside the worker
    that is the worker (``in_worker``); outside, this takes the lock for the tick and
    refuses (``Busy``) while a worker holds it: a running worker ticks every day by
    itself, and two tickers would race. The views are brought up to date by
    ``catch_up``, which waits for the worker that projects a view instead of writing it
    beside that worker (bug E)."""
    if not in_worker:
        lock = AdvisoryLock(env, projector_lock(env, RULES), label="casefile clock tick")
        if not lock.try_take(raise_errors=True):
            lock.release()
            raise Busy("a worker runs the rules and the daily clock (it ticks every day by "
                       "itself); stop it, or run the worker with --no-rules, to tick by hand")
        try:
            return clock_tick(env, until, in_worker=True)
        finally:
            lock.release()
    from adapters.web.api import today as china_today
    from services.network import RulesEngine

    until = until or china_today()
    app = build_casefiles(env=env)
    try:
        engine = RulesEngine(app)
        engine.process_pending()
        for name in ("casefiles", "network"):
            catch_up(env, name)
        casefiles, network = open_view(env, "casefiles"), open_view(env, "network")
        try:
            meta = Meta(actor_id="clock", actor_role="system", effective_date=until,
                        correlation_id=f"clock:{until}")
            days = engine.tick(until, casefiles.open_identifiers(), network.open_warning_ids(),
                               meta)
        finally:
            casefiles.datastore.close()
            network.datastore.close()
        engine.process_pending()  # what the clock recorded may trigger event rules
        return days
    finally:
        app.close()


def status(env: dict[str, str]) -> list[dict]:
    """Each projection's position, the log's head, the lag, and who projects it (the
    session holding its projector lock, or None)."""
    app = build_casefiles(env=env)
    try:
        head = app.recorder.max_notification_id() or 0
        held = holders(env)
        rows = []
        for name in READ_MODELS:
            view = open_view(env, name)
            try:
                position = view.max_tracking_id(app.name) or 0
            finally:
                view.datastore.close()
            rows.append({"projection": name, "position": position, "head": head,
                         "lag": head - position, "worker": held.get(name)})
        return rows
    finally:
        app.close()


def rules_status(env: dict[str, str]) -> dict:
    """The rules' position, the log's head, and who runs the rules and the clock."""
    from services.network import RULES_TRACKING

    app = build_casefiles(env=env)
    try:
        head = app.recorder.max_notification_id() or 0
        position = app.recorder.max_tracking_id(RULES_TRACKING) or 0
        return {"position": position, "head": head, "lag": head - position,
                "worker": holders(env).get(RULES)}
    finally:
        app.close()


def wait_for(view: PostgresStatefulView, position: int, timeout: float) -> bool:
    """Poll the view's tracking position until it reaches ``position`` or time runs out.

    A view's position only grows (a rebuild swaps its copy in only when it is at least
    as far), so the highest position this process has seen (``view.seen_position``)
    answers without a query for any position at or below it: a reader whose last write
    the view already showed does not ask again on every read."""
    if position <= getattr(view, "seen_position", 0):  # nothing to wait for: no query
        return True
    deadline = time.monotonic() + timeout
    interval = 0.002
    while True:
        reached = view.max_tracking_id("casefile") or 0
        if reached > getattr(view, "seen_position", 0):
            view.seen_position = reached
        if reached >= position:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, 0.05)


class Progress:
    """A one-line progress bar on stderr: done/total, events/s, ETA."""

    def __init__(self, total: int, label: str, echo: Callable[[str], Any] | None = None):
        self.total, self.label, self.started = max(total, 1), label, time.monotonic()
        self.done = 0
        self.last = 0.0

    def update(self, done: int, force: bool = False) -> None:
        self.done = done
        now = time.monotonic()
        if not force and now - self.last < 0.2:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate else 0
        width = 30
        filled = int(width * done / self.total)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{done}/{self.total} {rate:,.0f} events/s ETA {eta:,.0f}s ")
        sys.stderr.flush()

    def finish(self) -> float:
        self.update(self.done, force=True)
        sys.stderr.write("\n")
        return time.monotonic() - self.started


def recorded_pages(app: CaseFiles, position: int, head: int, batch: int):
    """The recorded events after ``position`` up to ``head``, a page at a time, each
    as (domain event, position)."""
    while position < head:
        notifications = app.recorder.select_notifications(start=position + 1, limit=batch,
                                                          stop=head)
        if not notifications:
            return
        yield list(zip(app.mapper.to_domain_events(notifications),
                       (n.id for n in notifications)))
        position = notifications[-1].id


@dataclass(frozen=True)
class PageTracking(Tracking):
    """The tracking of a page of events: the position of its last event, as the library
    records it, and of its first, which the view checks (bug E: a page is refused unless
    the view stands before its first event, see ``PostgresStatefulView._claim``)."""

    first: int = 0


class BatchingProjectionRunner(ProjectionRunner):
    """The library's ProjectionRunner, except that the events its subscription has
    already fetched are applied together, in one transaction (``process_batch`` with a
    ``PageTracking``), instead of one transaction each.

    The subscription fetches everything recorded since its last fetch in one query (up to
    500 events), but the library's runner then commits them one by one. The daily clock
    saves hundreds of events at once (a warning or a proposal per organization, in one
    save): about 400 for the 100 organizations of bench h, which took each projection
    about 1.4 s to commit one by one while the events written just after them waited
    (the p99 of bench h). Applied as one batch they take a few tens of milliseconds. A
    lone event is still applied at once, on its own."""

    MAX_BATCH = 500

    @staticmethod
    def _process_events_loop(subscription: Any, projection: Any, is_stopping: threading.Event,
                             runner: Any) -> None:
        try:
            for event, tracking in subscription:
                batch = [(event, tracking.notification_id)]
                while (len(batch) < BatchingProjectionRunner.MAX_BATCH
                       and _fetched(subscription)):
                    try:
                        event, tracking = next(subscription)
                    except StopIteration:  # stopped meanwhile: apply what was taken
                        break
                    batch.append((event, tracking.notification_id))
                projection.process_batch(batch, PageTracking(
                    tracking.application_name, batch[-1][1], first=batch[0][1]))
        except BaseException as e:  # as the library's loop: re-raised by run_forever()
            owner = runner()
            if owner is not None:
                owner._thread_error = e
            else:
                log.error("projection runner gone before its error was reported: %s", e)
        finally:
            is_stopping.set()


def _fetched(subscription: Any) -> bool:
    """Whether the next event of a runner's subscription has already been fetched (it is
    in the library's ``ListenNotifySubscription`` buffer), so that taking it does not
    wait for new events. Without that buffer (another library version): False, one event
    per batch, the library's own behaviour."""
    inner = getattr(subscription, "subscription", None)
    try:
        return (inner._notifications_index < len(inner._notifications)
                or not inner._notifications_queue.empty())
    except AttributeError:
        return False


def replay(app: CaseFiles, projection: OrganizationProjection, position: int, head: int,
           batch: int, bar: "Progress | None" = None,
           keep_going: Callable[[], bool] | None = None) -> tuple[int, int]:
    """Apply the recorded events after ``position`` up to ``head`` in pages, each page
    with its tracking position in one transaction; return (position, events done).
    ``keep_going`` is asked before each page (the worker's: does it still hold the
    view's lock?)."""
    done = 0
    for events in recorded_pages(app, position, head, batch):
        if keep_going is not None and not keep_going():
            break
        position = events[-1][1]
        projection.process_batch(events, PageTracking(app.name, position, first=events[0][1]))
        done += len(events)
        if bar:
            bar.update(done)
    return position, done


def catch_up(env: dict[str, str], name: str, batch: int = 500, *,
             locked: threading.Event | None = None, timeout: float = 300) -> int:
    """Bring the live view up to the log's head in pages (much faster than one event per
    transaction); the worker does this before it follows new events one by one, holding
    the view's projector lock (``locked``: set while it is held). Anyone else takes that
    lock for the catch-up; when another process holds it (a worker projects the view),
    this waits until the view has reached the head instead of writing beside it (two
    projectors of one view would race: bug E), and raises TimeoutError after
    ``timeout`` seconds. Returns the number of events applied here."""
    lock = None
    if locked is None:
        lock = AdvisoryLock(env, projector_lock(env, name), label=f"casefile catch-up {name}")
        if not lock.try_take(raise_errors=True):
            lock.release()
            view = open_view(env, name)
            app = build_casefiles(env=env)
            try:
                head = app.recorder.max_notification_id() or 0
                if not wait_for(view, head, timeout):
                    raise TimeoutError(f"{name}: the worker projecting it did not reach "
                                       f"{head} within {timeout:.0f}s")
                return 0
            finally:
                view.datastore.close()
                app.close()
        locked = lock.granted
    app = build_casefiles(env=env)
    view = open_view(env, name)
    try:
        position = view.max_tracking_id(app.name) or 0
        head = app.recorder.max_notification_id() or 0
        _, done = replay(app, READ_MODELS[name].projection(view=view), position, head, batch,
                         keep_going=locked.is_set)
        return done
    finally:
        view.datastore.close()
        app.close()
        if lock is not None:
            lock.release()


def rebuild(env: dict[str, str], name: str, *, batch: int = 500,
            echo: Callable[[str], Any] = print, progress: bool = True) -> dict:
    """Replay every event into a fresh copy of the view, compare its checksum with the
    live view at the same position, and, when no worker projects the view (nobody holds
    its projector lock), swap it in."""
    model = READ_MODELS[name]
    app = build_casefiles(env=env)
    prefix = f"{name}_rb{uuid.uuid4().hex[:8]}"
    shadow = open_view(env, name, prefix)
    projection = model.projection(view=shadow)
    head = app.recorder.max_notification_id() or 0
    bar = Progress(head, f"rebuild {name}") if progress else None
    started = time.monotonic()
    position, done = replay(app, projection, 0, head, batch, bar)
    seconds = bar.finish() if bar else time.monotonic() - started
    result = {"projection": name, "events": done, "seconds": round(seconds, 3),
              "events_per_second": round(done / seconds) if seconds else None,
              "position": position}
    live = open_view(env, name)
    if _worker_running(env, name):
        wait_for(live, position, timeout=30)
    live_position = live.max_tracking_id(app.name) or 0
    if live_position < position:
        result["comparison"] = (f"live view at {live_position}, behind the rebuild at "
                                f"{position}; not compared")
    elif not live.positional_checksum and live_position != position:
        result["comparison"] = "live view moved on during the rebuild; not compared"
    else:
        rebuilt_sum = shadow.checksum(up_to=position)
        live_sum = live.checksum(up_to=position)
        result["rebuilt_checksum"], result["live_checksum"] = rebuilt_sum, live_sum
        result["comparison"] = "identical" if rebuilt_sum == live_sum else "DIFFERENT"
    result["replaced"] = _swap_if_no_worker(env, model, live, prefix, position)
    if not result["replaced"]:
        shadow.drop_tables([*model.tables, "tracking"])
    live.datastore.close()
    shadow.datastore.close()
    app.close()
    return result


def _worker_running(env: dict[str, str], name: str | None = None) -> bool:
    """Whether a worker runs (``name`` None: any worker holds the shared worker lock), or
    whether some process projects ``name`` (holds its projector lock)."""
    key = worker_lock(env) if name is None else projector_lock(env, name)
    with psycopg.connect(**connection_info(env), autocommit=True) as conn:
        free = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()[0]
        if free:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        return not free


def _swap_if_no_worker(env: dict[str, str], model: ReadModel, live: PostgresStatefulView,
                       prefix: str, position: int) -> bool:
    """Swap the rebuilt tables in, holding the view's projector lock: refused while a
    worker projects the view (it holds the lock; after a PostgreSQL restart it takes it
    again before it projects again, so a swap never happens under a writing worker)."""
    with psycopg.connect(**connection_info(env), autocommit=True) as conn:
        key = projector_lock(env, model.name)
        locked = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()[0]
        if not locked:
            return False  # a worker projects this view: it keeps its view; compare only
        try:
            if (live.max_tracking_id("casefile") or 0) > position:
                return False
            schema = live.datastore.schema or "public"
            with conn.transaction():
                for suffix in (*model.tables, "tracking"):
                    conn.execute(psycopg.sql.SQL("DROP TABLE IF EXISTS {0}.{1}").format(
                        psycopg.sql.Identifier(schema),
                        psycopg.sql.Identifier(f"{model.name}_{suffix}")))
                    conn.execute(psycopg.sql.SQL("ALTER TABLE {0}.{1} RENAME TO {2}").format(
                        psycopg.sql.Identifier(schema),
                        psycopg.sql.Identifier(f"{prefix}_{suffix}"),
                        psycopg.sql.Identifier(f"{model.name}_{suffix}")))
                    # the indexes too, else the next start creates every index again
                    # under its live name beside the rebuilt copy's
                    for (index,) in conn.execute(
                            "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND "
                            "tablename = %s", (schema, f"{model.name}_{suffix}")).fetchall():
                        if index.startswith(prefix):
                            conn.execute(psycopg.sql.SQL("ALTER INDEX {0}.{1} RENAME TO {2}")
                                         .format(psycopg.sql.Identifier(schema),
                                                 psycopg.sql.Identifier(index),
                                                 psycopg.sql.Identifier(
                                                     model.name + index[len(prefix):])))
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
