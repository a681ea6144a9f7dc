"""``casefile run``'s processes: the deployment's processes (docs/DEPLOYMENT.md) on one
machine, started, watched and stopped by one parent.

The children are the deployment's own commands, run with this Python: ``casefile serve``
(gunicorn: its master and workers, with the production timeouts), ``casefile worker``
(the projections, the rules and the daily clock) and, when KAFKA_BOOTSTRAP_SERVERS is
set, ``casefile relay`` (the worker is then started without it: exactly one relay). A
child that exits while the service runs is started again after a back-off (1 s doubling
to 30 s, reset after a minute up). On Ctrl-C or SIGTERM every child gets SIGTERM (each
stops gracefully: gunicorn lets requests finish, the worker and the relay finish their
batch), and whatever is left after ``STOP_SECONDS`` gets SIGKILL; then the parent exits
(and stops the embedded PostgreSQL it started).

Each child runs in a session of its own, so that a Ctrl-C in the terminal reaches the
parent only and the order of stopping is the parent's; on Linux a child also gets
SIGTERM if the parent dies without stopping it (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger(__name__)

STOP_SECONDS = 30.0  # gunicorn's graceful timeout is 20 s
BACKOFF_MAX = 30.0
STEADY_SECONDS = 60.0  # up this long: the next exit restarts after 1 s again
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """One supervised command."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None
    restarts: int = 0

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env, start_new_session=True,
                                        preexec_fn=_die_with_parent)
        self.started_at, self.restart_at = time.monotonic(), None
        log.info("started %s (pid %d)", self.name, self.process.pid)


@dataclass
class Supervisor:
    children: list[Child] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def add(self, name: str, args: list[str], env: dict[str, str]) -> None:
        """A child running ``casefile ARGS`` with this Python."""
        argv = [sys.executable, "-m", "adapters.cli", *args]
        self.children.append(Child(name, argv, env))

    def pids(self) -> dict[str, int]:
        return {c.name: c.process.pid for c in self.children if c.process is not None}

    def run(self, ready: Callable[[], None] = lambda: None) -> None:
        """Start every child, call ``ready`` (in a thread), restart those that exit, and
        stop them all on SIGINT or SIGTERM."""
        previous = {sig: signal.signal(sig, lambda *_: self.stopping.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                child.start()
            threading.Thread(target=ready, name="ready", daemon=True).start()
            while not self.stopping.wait(0.25):
                self._watch()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _watch(self) -> None:
        now = time.monotonic()
        for child in self.children:
            assert child.process is not None
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    child.start()
                continue
            code = child.process.poll()
            if code is None:
                continue
            if now - child.started_at >= STEADY_SECONDS:
                child.backoff = 1.0
            log.warning("%s exited with status %s; starting it again in %.0f s",
                        child.name, code, child.backoff)
            child.restart_at = now + child.backoff
            child.backoff = min(child.backoff * 2, BACKOFF_MAX)

    def stop(self) -> None:
        """SIGTERM to every running child, SIGKILL to what is left after STOP_SECONDS."""
        running = [c for c in self.children
                   if c.process is not None and c.process.poll() is None]
        for child in running:
            log.info("stopping %s (pid %d)", child.name, child.process.pid)
            _signal(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in running:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s: killing it", child.name,
                            STOP_SECONDS)
        for child in running:  # the child's whole session: a gunicorn worker left behind
            _kill_session(child.process.pid)
            child.process.wait()


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _kill_session(leader: int) -> None:
    try:
        os.killpg(leader, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
