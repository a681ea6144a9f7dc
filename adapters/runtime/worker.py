"""The worker: runs a group of projections (the library's ProjectionRunner per projection,
following new events through the PostgreSQL subscription, applying what each fetch brings
as one batch), the rules that follow events with the daily clock, and the Kafka relay,
each only while it holds that thing's lock (adapters.runtime.locks)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from eventsourcing.projection import ProjectionRunner

from adapters.kafka.relay import KafkaSettings, Relay
from adapters.runtime.catch_up import catch_up
from adapters.runtime.clock import clock_tick
from adapters.runtime.locks import RULES, AdvisoryLock, projector_lock, worker_lock
from adapters.runtime.registry import READ_MODELS, SMALL_POOL, open_view
from adapters.runtime.runner import BatchingProjectionRunner
from adapters.store.application import StoredCaseFiles
from adapters.store.open_data import OpenDataStore
from domain.calendar import today_in_china
from services.rules import RulesEngine

log = logging.getLogger(__name__)


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
        StoredCaseFiles(env=self.env).close()
        for name in self.names:
            open_view(self.env, name).datastore.close()
        self.env["CREATE_TABLE"] = "no"
        self._keep()  # the locks free now are taken before start() returns
        self._keeper = threading.Thread(target=self._keep_forever, name="lock-keeper",
                                        daemon=True)
        self._keeper.start()
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
            if self.run_clock and "casefiles" in self.names:
                threads.append(threading.Thread(target=self._open_data, daemon=True,
                                                name="open-data"))
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
        granted = self.locks[RULES].granted
        backoff, ticked = 0.5, None
        while not self.stopping.is_set():
            if not granted.wait(0.5):
                continue
            app = None
            try:
                app = StoredCaseFiles(env=self.env)
                engine = RulesEngine(app)
                while not self.stopping.is_set() and granted.is_set():
                    if self.run_clock and ticked != today_in_china():
                        started = time.monotonic()
                        days = clock_tick(self.env, today_in_china(), in_worker=True)
                        ticked = today_in_china()
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

    OPEN_DATA_SECONDS = 60.0

    def _open_data(self) -> None:
        """The open-data extract, once a day (adapters.store.open_data), by the worker
        that holds the rules' lock, once the case files have caught up with the log
        (looked at every two seconds; after ten looks a busy log is extracted where it
        stands)."""
        granted, tries, behind = self.locks[RULES].granted, 0, False
        view, app, store = None, None, None
        while not self.stopping.wait(
                2.0 if store is None or behind else self.OPEN_DATA_SECONDS):
            if not granted.is_set():
                continue
            try:
                if store is None:
                    view = open_view(self.env, "casefiles")
                    app = StoredCaseFiles(env=self.env)
                    store = OpenDataStore(view.datastore)
                latest = store.latest()
                if latest is not None and latest.produced_on >= today_in_china():
                    tries = 0
                    continue
                tries += 1
                behind = (view.max_tracking_id("casefile") or 0) < \
                    (app.recorder.max_notification_id() or 0)
                if behind and tries < 10:
                    continue
                extract = store.produce_daily(today_in_china())
                tries, behind = 0, False
                if extract is not None:
                    log.info("open data: extract of %s at position %d (%d organizations) "
                             "in %.1fs", extract.produced_on, extract.position,
                             extract.organizations, extract.seconds)
            except Exception as e:  # logged; tried again at the next interval
                self.errors["open_data"] = f"{type(e).__name__}: {e}"
                log.error("open data: %s", self.errors["open_data"])
        if view is not None:
            view.datastore.close()
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
