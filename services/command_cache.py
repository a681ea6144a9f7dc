"""The aggregates this process's commands saved last, for the next command to decide on.

Through the library's repository a command loads its aggregate from the aggregate cache
as a deep copy, after asking the database for the events recorded since (fast-forward):
a copy and a round trip per command, about half of a command's CPU in one process
(bench/group_commit.py). This cache keeps, per aggregate, the instance that a command of
this process saved last, and the next command decides on that instance itself, with
neither:

- one command at a time per aggregate: ``checkout`` holds the aggregate's lock from the
  load to the end of the save, and takes the instance out of the cache meanwhile; only a
  command that saved puts its instance back, so an instance half-decided by a command
  that failed (a refusal, a conflict, a lost connection) is never decided on again (the
  lock is re-entrant: a command nested in another's decision on the same aggregate finds
  the instance taken, loads its own, and the outer one's save is then refused and decided
  again);
- the instance never leaves the command (it is not the command's result), so nothing
  reads it while the next command changes it;
- it may be stale: another process may have recorded events of the aggregate since.
  A save from a stale instance is refused (the events' versions are taken: the primary
  key), and the caller decides again on a fresh load; the caller also decides again on a
  fresh load before it believes a refusal decided on a cached instance (the scope, an
  expected version, a domain rule). So a command of this process succeeds or is refused
  on the aggregate as recorded, as with the library's fast-forward.

Other processes' writes: the store's adapter tells the cache which aggregates they
wrote (``discard``; ``clear`` when it may have missed some), from a watcher it starts on
the first command (``watcher``: PostgreSQL's NOTIFY, adapters.store.invalidation). Until
the watcher is listening (``watched``), nothing is taken from the cache. A write this
process has not heard of yet is caught as above. ``discard`` also drops an instance when
something other than its command saved events of it in this process.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator
from uuid import UUID

from eventsourcing.application import LRUCache


class Checkout:
    """One command's hold on one aggregate: the cached instance, taken once."""

    def __init__(self, cache: "CommandCache", aggregate_id: UUID):
        self._cache, self._id = cache, aggregate_id

    def take(self) -> Any | None:
        """The instance a command of this process saved last (out of the cache until
        ``put`` back), or None: load it."""
        if not self._cache.watched:
            return None
        try:
            return self._cache._instances.get(self._id, evict=True)
        except KeyError:
            return None

    def put(self, aggregate: Any) -> None:
        """The instance as this command saved it, for the next command."""
        self._cache._instances.put(self._id, aggregate)


class CommandCache:
    def __init__(self, maxsize: int, watcher: Callable[[], None] | None = None):
        self._instances: LRUCache[UUID, Any] = LRUCache(maxsize=maxsize)
        self._mutex = threading.Lock()
        self._locks: dict[UUID, list] = {}  # id -> [lock, commands holding or waiting]
        # started on the first command; sets ``watched`` once it hears every write
        self.watcher = watcher
        self.watched = watcher is None
        self._started = False

    @contextmanager
    def checkout(self, aggregate_id: UUID) -> Iterator[Checkout]:
        """Hold the aggregate for one command (other commands on it wait)."""
        if not self._started:
            self._start_watching()
        with self._mutex:
            entry = self._locks.setdefault(aggregate_id, [threading.RLock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield Checkout(self, aggregate_id)
        finally:
            with self._mutex:
                entry[1] -= 1
                if not entry[1]:
                    del self._locks[aggregate_id]

    def discard(self, aggregate_id: UUID) -> None:
        if aggregate_id not in self._instances.cache:
            # (every save of a command: its own aggregate is checked out, not cached)
            # no lock taken and no KeyError raised; a put racing this is one racing the
            # locked lookup just as well
            return
        try:
            self._instances.get(aggregate_id, evict=True)
        except KeyError:
            pass

    def clear(self) -> None:
        """Drop every instance (the watcher may have missed writes)."""
        self._instances = LRUCache(maxsize=self._instances.maxsize)

    def _start_watching(self) -> None:
        with self._mutex:
            if self._started:
                return
            self._started = True
        if self.watcher is not None:
            self.watcher()
