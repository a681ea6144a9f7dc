"""Other processes' writes, heard through PostgreSQL's NOTIFY, drop the command cache's
instances of what they wrote (services.command_cache).

Every transaction that records events NOTIFYs the events table's channel with its
recorder's name and the ids it wrote (adapters.store.recorder: "<writer> <id> <id> ...",
"<writer> *" when they are too many). A thread of this process LISTENs on a connection of
its own and discards the ids that other writers wrote. The cache is trusted (``watched``)
only while the thread listens: before its LISTEN, after its connection broke (then the
cache is emptied: it may have missed writes; it connects again after 1 s, then 2, 4...
up to 30 s while the database stays away, saying so once) and after ``stop``, commands
load their aggregates as without the cache. A write heard late is still caught: its
versions refuse the command's save, which is decided again on a fresh load.

The thread takes what arrived at most every ``GATHER`` seconds, all of it at once: every
transaction of this process NOTIFYs too, and waking the thread for each of them (to
ignore it) cost a busy process about 5 % of its interpreter's time.
"""

from __future__ import annotations

import logging
import threading
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Identifier

from adapters.config import connection_info
from services.command_cache import CommandCache

log = logging.getLogger(__name__)


class WriteListener:
    SLICE = 0.2  # seconds between looks at ``stopping``
    GATHER = 0.01  # seconds: what arrives meanwhile is taken at once
    RETRY = 1.0  # seconds before listening again after the connection broke, doubling
    MAX_RETRY = 30.0  # while the database stays away

    def __init__(self, env: dict[str, str], channel: str, writer: str, cache: CommandCache):
        self.env, self.channel, self.writer, self.cache = env, channel, writer, cache
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.heard = 0  # other writers' notifications acted on (for tests)

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="command cache listener",
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.cache.watched = False
        if self.thread is not None:
            self.thread.join(self.SLICE * 4)

    def _run(self) -> None:
        retry = self.RETRY
        while not self.stopping.is_set():
            try:
                with psycopg.connect(**connection_info(self.env), autocommit=True,
                                     connect_timeout=5,
                                     application_name="casefile command cache") as conn:
                    conn.execute(SQL("LISTEN {0}").format(Identifier(self.channel)))
                    self.cache.clear()  # written before the LISTEN: not heard
                    self.cache.watched = True
                    if retry > self.RETRY:
                        log.info("the command cache listens again")
                    retry = self.RETRY
                    while not self.stopping.is_set():
                        # (stop_after: back after the first packet, with all it held)
                        for notify in conn.notifies(timeout=self.SLICE, stop_after=1):
                            self.heard_of(notify.payload)
                        self.stopping.wait(self.GATHER)
            except Exception as e:  # the database went away: unwatched until back
                (log.info if retry == self.RETRY else log.debug)(
                    "the command cache is not listening (%s); trying again in %.0f s",
                    e, retry)
            finally:
                self.cache.watched = False
                self.cache.clear()
            self.stopping.wait(retry)
            retry = min(retry * 2, self.MAX_RETRY)

    def heard_of(self, payload: str) -> None:
        writer, _, ids = payload.partition(" ")
        if writer == self.writer:
            return
        self.heard += 1
        if not ids or ids == "*":  # too many to name, or a writer that names none
            self.cache.clear()
            return
        for id_ in ids.split(" "):
            self.cache.discard(UUID(id_))
