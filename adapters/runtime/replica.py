"""Reading the read models from a streaming replica (READ_DATABASE_URL), with
read-your-writes kept.

The replica holds the primary's views, their rows and their tracking positions, as far as
it has replayed the primary's log. A read that must see the reader's last write (a
position in the event log) waits, up to ``READ_REPLICA_WAIT`` seconds, for the replica's
copy of the view's tracking position to reach it (``wait_for``, the same wait as on the
primary), and reads from the replica; past that bound, or when the replica cannot be
reached, it reads from the primary's view instead. An unreachable replica is left alone
for ``RETRY_SECONDS`` (reads go to the primary meanwhile), then tried again: reads come
back to it by themselves once it answers.
"""

from __future__ import annotations

import logging
import time

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError

from adapters.config import read_database_settings
from adapters.runtime.registry import READ_MODELS, open_view
from adapters.runtime.status import wait_for
from adapters.store.recorder import answer_quickly
from adapters.views.base import PostgresStatefulView

log = logging.getLogger(__name__)

DEFAULT_WAIT_SECONDS = 0.5
RETRY_SECONDS = 5.0
# How long a read waits for a connection to the replica (the library's pool timeout):
# a replica that does not answer costs a read about this much before it goes elsewhere.
CONNECT_TIMEOUT = "1"
UNREACHABLE = (OperationalError, InterfaceError, psycopg.OperationalError,
               psycopg.InterfaceError)


class ReadReplica:
    """The read models' views on the replica, and whether to read from them now."""

    def __init__(self, views: dict[str, PostgresStatefulView], *,
                 wait: float = DEFAULT_WAIT_SECONDS, retry: float = RETRY_SECONDS):
        self.views, self.wait, self.retry = views, wait, retry
        self._down_until = 0.0

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "ReadReplica | None":
        """The replica of READ_DATABASE_URL, or None when it is not set. Nothing is
        created there (a replica refuses DDL; the primary's tables are replicated)."""
        settings = read_database_settings(env)
        if settings is None:
            return None
        replica_env = {**env, **settings, "POSTGRES_CONNECT_TIMEOUT": CONNECT_TIMEOUT}
        views = {}
        for name in READ_MODELS:
            views[name] = open_view(replica_env, name, create=False)
            answer_quickly(views[name])
        wait = float(env.get("READ_REPLICA_WAIT", DEFAULT_WAIT_SECONDS))
        return cls(views, wait=wait)

    def view(self, name: str, position: int) -> PostgresStatefulView | None:
        """The replica's view once it has reached ``position`` (within the wait), or None:
        it is behind past the wait, or unreachable (then it is not tried again for
        ``retry`` seconds)."""
        if time.monotonic() < self._down_until:
            return None
        view = self.views[name]
        try:
            reached = wait_for(view, position, self.wait)
        except UNREACHABLE as e:
            self._down_until = time.monotonic() + self.retry
            log.warning("read replica unreachable (%s); reading from the primary for %.0f s",
                        type(e).__name__, self.retry)
            return None
        return view if reached else None

    def close(self) -> None:
        for view in self.views.values():
            view.datastore.close()
