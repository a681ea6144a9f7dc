"""Who may write a view: PostgreSQL advisory locks.

One projector per view: whoever writes a view (a worker's projection, a catch-up, a
rebuild's swap) holds its exclusive advisory lock (``projector_lock``), and the view
itself refuses a batch that does not start beyond its stored position
(``PostgresStatefulView._claim``), so that two projectors can never apply an event twice
even when the locks fail them (PostgreSQL restarted, a session was terminated). Every
running worker also holds the shared worker lock (``worker_lock``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import zlib

import psycopg

from adapters.config import connection_info
from adapters.runtime.registry import READ_MODELS

log = logging.getLogger(__name__)

WORKER_LOCK = 7_261_001  # pg advisory lock held (shared) by every running worker
PROJECTOR_LOCK = 7_261_003  # one exclusive lock per projection (and "rules"): its projector
RULES = "rules"  # the name of the rules' and the daily clock's lock


class Busy(RuntimeError):
    """Another process holds the lock of what was asked (a worker runs it)."""


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


def worker_running(env: dict[str, str], name: str | None = None) -> bool:
    """Whether a worker runs (``name`` None: any worker holds the shared worker lock), or
    whether some process projects ``name`` (holds its projector lock)."""
    key = worker_lock(env) if name is None else projector_lock(env, name)
    with psycopg.connect(**connection_info(env), autocommit=True) as conn:
        free = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()[0]
        if free:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        return not free
