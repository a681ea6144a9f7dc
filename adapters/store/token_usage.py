"""When each API token was last used (services.ports.TokenUsage), in PostgreSQL beside the
events (``<prefix>_token_usage``): one row per token, not an event per request. A process
writes a token's row at most once a minute (``TOUCH_SECONDS``), and the statement itself
skips a row another process touched within that minute, so a busy token costs one write
a minute, not one a request."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from psycopg.sql import SQL, Identifier

from adapters.store.ddl import DDL_LOCK

TOUCH_SECONDS = 60


class PostgresTokenUsage:
    def __init__(self, recorder: Any):
        self.datastore = recorder.datastore
        name = recorder.events_table_name.removesuffix("_events") + "_token_usage"
        self.table = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                           Identifier(name))
        self._touched: dict[tuple[str, str], float] = {}
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            curs.execute(SQL(
                "CREATE TABLE IF NOT EXISTS {t} (username text NOT NULL, token_id text NOT NULL, "
                "last_used_at timestamptz NOT NULL, PRIMARY KEY (username, token_id))")
                .format(t=self.table))

    def touch(self, username: str, token_id: str) -> None:
        now = time.monotonic()
        key = (username, token_id)
        if now - self._touched.get(key, -TOUCH_SECONDS) < TOUCH_SECONDS:
            return
        if len(self._touched) > 10_000:
            self._touched.clear()
        self._touched[key] = now
        with self.datastore.get_connection() as conn:
            conn.execute(SQL(
                "INSERT INTO {t} AS u (username, token_id, last_used_at) VALUES (%s, %s, now()) "
                "ON CONFLICT (username, token_id) DO UPDATE SET last_used_at = now() "
                "WHERE u.last_used_at < now() - make_interval(secs => %s)")
                .format(t=self.table), (username, token_id, TOUCH_SECONDS), prepare=True)

    def last_used(self, username: str) -> dict[str, datetime]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT token_id, last_used_at FROM {t} WHERE username = %s")
                         .format(t=self.table), (username,))
            return {row["token_id"]: row["last_used_at"] for row in curs.fetchall()}


class InMemoryTokenUsage:
    """The same for the in-memory store (unit tests)."""

    def __init__(self, recorder: Any = None) -> None:
        self.used: dict[tuple[str, str], datetime] = {}

    def touch(self, username: str, token_id: str) -> None:
        self.used[(username, token_id)] = datetime.now(timezone.utc)

    def last_used(self, username: str) -> dict[str, datetime]:
        return {t: at for (u, t), at in self.used.items() if u == username}
