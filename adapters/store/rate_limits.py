"""A storage for the ``limits`` package (which Flask-Limiter counts with) in PostgreSQL,
beside the events, registered under its own scheme ``casefile+postgresql://``.

``casefile serve`` runs several gunicorn worker processes, and a deployment may run
several machines: counters kept in each process's memory would let an attacker guess
(processes x limit) passwords. The database every process already shares keeps one
count per key instead, so a limit holds across all of them without another server
(no Redis or memcached to run). Fixed windows: a row holds a key's count and the end of
its window; ``incr`` starts a new window when the old one has ended, in one statement,
so concurrent processes never lose a count. Expired rows are deleted at most once a
minute per process.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from limits.storage import Storage
from psycopg.sql import SQL, Identifier

from adapters.store.ddl import DDL_LOCK

SCHEME = "casefile+postgresql"
SWEEP_SECONDS = 60


class PostgresRateLimits(Storage):
    """``limits.storage.Storage`` on the project's PostgreSQL; built by
    ``storage_from_string("casefile+postgresql://", datastore=...)`` (Flask-Limiter's
    ``storage_uri`` and ``storage_options``), ``datastore`` being the event store's."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 datastore: Any = None, table: str = "casefile_rate_limits",
                 **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        if datastore is None:
            raise ValueError("the casefile+postgresql storage needs the datastore")
        self.datastore = datastore
        self.table = SQL("{0}.{1}").format(Identifier(datastore.schema or "public"),
                                           Identifier(table))
        self._next_sweep = 0.0
        with datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            curs.execute(SQL("CREATE TABLE IF NOT EXISTS {t} (key text PRIMARY KEY, "
                             "count integer NOT NULL, expires_at timestamptz NOT NULL)")
                         .format(t=self.table))

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return psycopg.Error

    def _one(self, statement: SQL, args: tuple) -> Any:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement.format(t=self.table), args, prepare=True)
            return curs.fetchone()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        self._sweep()
        row = self._one(SQL(
            "INSERT INTO {t} AS r (key, count, expires_at) "
            "VALUES (%s, %s, now() + make_interval(secs => %s)) "
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN r.expires_at <= now() THEN excluded.count "
            "ELSE r.count + excluded.count END, "
            "expires_at = CASE WHEN r.expires_at <= now() THEN excluded.expires_at "
            "ELSE r.expires_at END RETURNING count"), (key, amount, float(expiry)))
        return row["count"]

    def get(self, key: str) -> int:
        row = self._one(SQL("SELECT count FROM {t} WHERE key = %s AND expires_at > now()"),
                        (key,))
        return row["count"] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._one(SQL("SELECT extract(epoch FROM expires_at)::float8 AS at FROM {t} "
                            "WHERE key = %s AND expires_at > now()"), (key,))
        return row["at"] if row else time.time()

    def check(self) -> bool:
        try:
            with self.datastore.get_connection() as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def reset(self) -> int | None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {t}").format(t=self.table))
            return curs.rowcount

    def clear(self, key: str) -> None:
        with self.datastore.get_connection() as conn:
            conn.execute(SQL("DELETE FROM {t} WHERE key = %s").format(t=self.table), (key,))

    def _sweep(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        with self.datastore.get_connection() as conn:
            conn.execute(SQL("DELETE FROM {t} WHERE expires_at < now()").format(t=self.table))
