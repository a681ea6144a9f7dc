"""Running the read models: the worker (the library's ProjectionRunner per projection,
following new events through the PostgreSQL subscription), rebuilds with a checksum
comparison, and status.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresFactory
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from adapters.postgres_views import (PostgresAuditView, PostgresCaseFileView,
                                     PostgresNetworkView, PostgresStatefulView,
                                     PostgresStatisticsView)
from projections.audit import AuditProjection
from projections.base import OrganizationProjection
from projections.casefile import CaseFileProjection
from projections.network import NetworkProjection
from projections.statistics import StatisticsProjection
from domain.meta import Meta
from services.casefiles import CaseFiles

log = logging.getLogger(__name__)

WORKER_LOCK = 7_261_001  # pg advisory lock held (shared) by every running worker


def worker_lock(env: dict[str, str]) -> tuple[int, int]:
    """The advisory lock key: one per schema, so separate deployments in one database (and
    parallel test schemas) do not see each other's workers."""
    import zlib

    schema = env.get("POSTGRES_SCHEMA") or "public"
    return WORKER_LOCK, zlib.crc32(schema.encode()) - 2 ** 31


@dataclass(frozen=True)
class ReadModel:
    projection: type[OrganizationProjection]
    view: type[PostgresStatefulView]
    tables: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.projection.name


READ_MODELS = {m.name: m for m in (
    ReadModel(CaseFileProjection, PostgresCaseFileView, ("states", "rows")),
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
    """Runs every projection, and the Kafka relay when KAFKA_BOOTSTRAP_SERVERS is set; a
    projection that fails is logged and restarted with back-off from its tracked position
    (it resumes, nothing is applied twice)."""

    def __init__(self, env: dict[str, str], names: tuple[str, ...] = tuple(READ_MODELS),
                 run_rules: bool = True, run_clock: bool = True):
        self.env = {**env, **SMALL_POOL}
        self.run_rules = run_rules
        self.run_clock = run_clock
        self.names = names
        self.stopping = threading.Event()
        self.errors: dict[str, str] = {}
        self._lock_conn: psycopg.Connection | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "Worker":
        # Create every table here, once: concurrent CREATE ... IF NOT EXISTS (and CREATE OR
        # REPLACE FUNCTION) statements from the runners' threads would race each other.
        CaseFiles(env=self.env).close()
        for name in self.names:
            open_view(self.env, name).datastore.close()
        self.env["CREATE_TABLE"] = "no"
        self._lock_conn = psycopg.connect(**connection_info(self.env), autocommit=True)
        self._lock_conn.execute("SELECT pg_advisory_lock_shared(%s, %s)",
                                worker_lock(self.env))
        from adapters.kafka_relay import KafkaSettings, Relay

        kafka = KafkaSettings.from_env(self.env)
        self.relay = Relay(self.env, kafka).start() if kafka else None
        self._thread = threading.Thread(target=self.run, name="projection-worker", daemon=True)
        self._thread.start()
        return self

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
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                caught = catch_up(self.env, name)
                if caught:
                    log.info("projection %s caught up %d events in batches", name, caught)
                runner = ProjectionRunner(application_class=CaseFiles,
                                          projection_class=model.projection,
                                          view_class=model.view, env=self.env)
                try:
                    with runner:
                        self.errors.pop(name, None)
                        backoff = 0.5
                        while not self.stopping.is_set() and not self._stalled(runner):
                            runner.run_forever(timeout=0.5)
                finally:
                    runner.view.datastore.close()
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
        """The rules that follow events, and the daily clock (once a day, catching up)."""
        from adapters.web.api import today as china_today
        from services.network import RulesEngine

        backoff, ticked = 0.5, None
        while not self.stopping.is_set():
            app = None
            try:
                app = CaseFiles(env=self.env)
                engine = RulesEngine(app)
                while not self.stopping.is_set():
                    if self.run_clock and ticked != china_today():
                        clock_tick(self.env, china_today(), worker_runs_views=True)
                        ticked = china_today()
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
        if self._lock_conn is not None:
            self._lock_conn.close()


def clock_tick(env: dict[str, str], until: "date | None" = None, *,
               worker_runs_views: bool = False) -> list:
    """Run the daily clock up to ``until`` (default today in China): first bring the rules
    and the views it reads up to date, then tick every day not yet ticked. Inside the
    worker the views are the worker's own to write: the clock waits for them instead of
    catching them up itself (two writers would race on the tracking position)."""
    from adapters.web.api import today as china_today
    from services.network import RulesEngine

    until = until or china_today()
    app = CaseFiles(env=env)
    try:
        engine = RulesEngine(app)
        engine.process_pending()
        head = app.recorder.max_notification_id() or 0
        for name in ("casefiles", "network"):
            if not worker_runs_views:
                catch_up(env, name)
        casefiles, network = open_view(env, "casefiles"), open_view(env, "network")
        if worker_runs_views:
            for view in (casefiles, network):
                if not wait_for(view, head, timeout=300):
                    raise TimeoutError("the views did not catch up for the clock")
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
    app = CaseFiles(env=env)
    try:
        head = app.recorder.max_notification_id() or 0
        rows = []
        for name in READ_MODELS:
            view = open_view(env, name)
            position = view.max_tracking_id(app.name) or 0
            rows.append({"projection": name, "position": position, "head": head,
                         "lag": head - position})
        return rows
    finally:
        app.close()


def wait_for(view: PostgresStatefulView, position: int, timeout: float) -> bool:
    """Poll the view's tracking position until it reaches ``position`` or time runs out."""
    if position <= 0:  # nothing to wait for (most reads): no query
        return True
    deadline = time.monotonic() + timeout
    interval = 0.002
    while True:
        if (view.max_tracking_id("casefile") or 0) >= position:
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
        yield [(app.mapper.to_domain_event(n), n.id) for n in notifications]
        position = notifications[-1].id


def replay(app: CaseFiles, projection: OrganizationProjection, position: int, head: int,
           batch: int, bar: "Progress | None" = None) -> tuple[int, int]:
    """Apply the recorded events after ``position`` up to ``head`` in pages, each page
    with its tracking position in one transaction; return (position, events done)."""
    done = 0
    for events in recorded_pages(app, position, head, batch):
        position = events[-1][1]
        projection.process_batch(events, Tracking(app.name, position))
        done += len(events)
        if bar:
            bar.update(done)
    return position, done


def catch_up(env: dict[str, str], name: str, batch: int = 500) -> int:
    """Bring the live view up to the log's head in pages (much faster than one event per
    transaction); the worker does this before it follows new events one by one."""
    app = CaseFiles(env=env)
    view = open_view(env, name)
    try:
        position = view.max_tracking_id(app.name) or 0
        head = app.recorder.max_notification_id() or 0
        _, done = replay(app, READ_MODELS[name].projection(view=view), position, head, batch)
        return done
    finally:
        view.datastore.close()
        app.close()


def rebuild(env: dict[str, str], name: str, *, batch: int = 500,
            echo: Callable[[str], Any] = print, progress: bool = True) -> dict:
    """Replay every event into a fresh copy of the view, compare its checksum with the
    live view at the same position, and, when no worker is running, swap it in."""
    model = READ_MODELS[name]
    app = CaseFiles(env=env)
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
    worker_running = _worker_running(env)
    if worker_running:
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
    app.close()
    return result


def _worker_running(env: dict[str, str]) -> bool:
    with psycopg.connect(**connection_info(env), autocommit=True) as conn:
        free = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", worker_lock(env)).fetchone()[0]
        if free:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", worker_lock(env))
        return not free


def _swap_if_no_worker(env: dict[str, str], model: ReadModel, live: PostgresStatefulView,
                       prefix: str, position: int) -> bool:
    with psycopg.connect(**connection_info(env), autocommit=True) as conn:
        locked = conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                              worker_lock(env)).fetchone()[0]
        if not locked:
            return False  # a worker is running: it keeps its view; compare only
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
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", worker_lock(env))
