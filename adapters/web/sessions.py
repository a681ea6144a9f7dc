"""Server-side sessions for the staff pages.

The cookie holds only a random session id; the session (who, when it was last used, its
CSRF token, the account's credentials epoch at sign-in) lives in PostgreSQL, so signing
out ends it on the server and a replayed cookie is refused. A fresh id is issued at every
sign-in; a session unused for ``SESSION_IDLE_MINUTES`` (default 30) expires, and so does
every session ``SESSION_ABSOLUTE_HOURS`` (default 8) after its sign-in, however busy. A
session whose account changed its password or was disabled since (a newer credentials
epoch, domain.account) has ended too (adapters.web.requests.session_actor).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from psycopg.sql import SQL, Identifier

COOKIE = "casefile_session"
SWEEP_SECONDS = 60  # how often a process deletes the expired sessions


def idle_limit() -> timedelta:
    return timedelta(minutes=float(os.environ.get("SESSION_IDLE_MINUTES") or "30"))


def absolute_limit() -> timedelta:
    return timedelta(hours=float(os.environ.get("SESSION_ABSOLUTE_HOURS") or "8"))


@dataclass
class Session:
    id_hash: str
    username: str
    csrf: str
    last_seen: datetime
    epoch: int = 0


class SessionStore:
    def __init__(self, datastore, prefix: str = "casefile"):
        self.datastore = datastore
        self.table = SQL("{0}.{1}").format(Identifier(datastore.schema or "public"),
                                           Identifier(f"{prefix}_web_sessions"))
        with datastore.transaction(commit=True) as curs:
            curs.execute(SQL("CREATE TABLE IF NOT EXISTS {t} (id_hash text PRIMARY KEY, "
                             "username text NOT NULL, csrf text NOT NULL, "
                             "created_at timestamptz NOT NULL DEFAULT now(), "
                             "last_seen timestamptz NOT NULL DEFAULT now())")
                         .format(t=self.table))
            curs.execute(SQL("ALTER TABLE {t} ADD COLUMN IF NOT EXISTS epoch integer NOT NULL "
                             "DEFAULT 0").format(t=self.table))

    @staticmethod
    def _hash(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()

    def create(self, username: str, epoch: int = 0) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        session = Session(self._hash(session_id), username, secrets.token_urlsafe(24),
                          datetime.now(timezone.utc), epoch)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("INSERT INTO {t} (id_hash, username, csrf, epoch) "
                             "VALUES (%s, %s, %s, %s)").format(t=self.table),
                         (session.id_hash, username, session.csrf, epoch))
        return session_id, session

    def get(self, session_id: str) -> Session | None:
        """The live session for this id (touching it), or None if unknown or expired
        (idle too long, or signed in too long ago).

        One statement in autocommit (no BEGIN and COMMIT round trips): an expired
        session is refused by the statement itself; the expired rows are deleted at most
        once a minute per process, not on every request."""
        self._sweep()
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("UPDATE {t} SET last_seen = now() WHERE id_hash = %s "
                             "AND last_seen >= now() - %s AND created_at >= now() - %s "
                             "RETURNING id_hash, username, csrf, last_seen, epoch")
                         .format(t=self.table), (self._hash(session_id), idle_limit(),
                                                 absolute_limit()),
                         prepare=True)
            row = curs.fetchone()
        return Session(**row) if row else None

    _next_sweep = 0.0

    def _sweep(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        with self.datastore.get_connection() as conn:
            conn.execute(SQL("DELETE FROM {t} WHERE last_seen < now() - %s "
                             "OR created_at < now() - %s")
                         .format(t=self.table), (idle_limit(), absolute_limit()))

    def end_all(self, username: str) -> int:
        """End every session of an account (its password changed, or it was disabled:
        such sessions are refused anyway, by their epoch; this removes them)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {t} WHERE username = %s").format(t=self.table),
                         (username,))
            return curs.rowcount

    def count(self, username: str) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT count(*) AS n FROM {t} WHERE username = %s AND "
                             "last_seen >= now() - %s AND created_at >= now() - %s")
                         .format(t=self.table), (username, idle_limit(), absolute_limit()))
            return curs.fetchone()["n"]

    def end(self, session_id: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {t} WHERE id_hash = %s").format(t=self.table),
                         (self._hash(session_id),))
