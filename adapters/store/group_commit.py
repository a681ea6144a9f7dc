"""Group commit: concurrent saves of one process share a transaction.

A save that finds no transaction under way commits at once, alone: one writer waits for
nothing it did not wait for before. A save that arrives while a transaction is under way
queues; when that transaction ends, the first queued save leads the next one, taking
everything queued meanwhile (up to ``max_events`` events, at least one save), and the
others wait for it. So the batches grow with the load by themselves, and no save ever
waits for a batch to fill.

The leader hands the batch to ``commit`` (the recorder's: one lock, one insert, one
commit), which sets each write's own outcome (its positions, or its own error: a version
conflict fails that save only). An exception out of ``commit`` is the whole batch's (the
database went away, the commit failed): every save of the batch gets it, and nothing of
the batch was recorded. Each save is answered only after its batch's transaction ended.

``on_batch`` (optional) is called with the number of saves of each batch, after its
commit: a hook for a metric of batch sizes.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Sequence

log = logging.getLogger(__name__)

MAX_BATCH_EVENTS = 1000


class Write:
    """One save waiting for its batch: the stored events and the recorder's keyword
    arguments (idempotency, time index, tracking); then its positions or its error."""

    __slots__ = ("stored_events", "kwargs", "positions", "error", "done", "leads", "_asleep")

    def __init__(self, stored_events: Sequence[Any], kwargs: dict[str, Any]):
        self.stored_events, self.kwargs = stored_events, kwargs
        self.positions: Sequence[int] | None = None
        self.error: BaseException | None = None
        self.done = self.leads = False
        # held until the save is woken (its batch ended, or it leads the next): a bare
        # lock, not a threading.Event (a Condition and a lock per wait, a tenth of a
        # command's CPU with 8 writers)
        self._asleep = threading.Lock()
        self._asleep.acquire()

    def sleep(self) -> None:
        self._asleep.acquire()

    def wake(self) -> None:
        self._asleep.release()

    def fail(self, error: BaseException) -> None:
        self.positions, self.error = None, error

    def outcome(self) -> Sequence[int] | None:
        if self.error is not None:
            raise self.error
        return self.positions


class GroupCommitter:
    def __init__(self, commit: Callable[[list[Write]], None], *,
                 max_events: int = MAX_BATCH_EVENTS,
                 on_batch: Callable[[int], None] | None = None):
        self.commit, self.max_events, self.on_batch = commit, max_events, on_batch
        self._mutex = threading.Lock()
        self._queue: list[Write] = []
        self._leading = False  # a leader is committing, or has been chosen

    @property
    def queued(self) -> int:
        """Saves waiting for the transaction under way to end."""
        with self._mutex:
            return len(self._queue)

    def submit(self, stored_events: Sequence[Any], **kwargs: Any) -> Sequence[int] | None:
        """Record these events (with the keyword arguments' rows) in the next
        transaction; their positions once it committed, or the error that stopped them."""
        write = Write(stored_events, kwargs)
        with self._mutex:
            self._queue.append(write)
            if not self._leading:  # the queue was empty: lead at once
                self._leading = write.leads = True
        if not write.leads:
            write.sleep()
        if write.leads:
            self._lead(write)
        return write.outcome()

    def _lead(self, leader: Write) -> None:
        """Commit the batch at the head of the queue (the leader's own save first), then
        wake its other saves and the first save still queued, which leads the next (each
        save is woken once)."""
        with self._mutex:
            batch, events = [], 0
            while self._queue and (not batch or events + len(self._queue[0].stored_events)
                                   <= self.max_events):
                events += len(self._queue[0].stored_events)
                batch.append(self._queue.pop(0))
        try:
            self.commit(batch)
        except BaseException as error:  # the whole batch's: none of it was recorded
            for write in batch:
                write.fail(error)
        finally:
            with self._mutex:
                for write in batch:
                    write.done = True
                successor = self._queue[0] if self._queue else None
                if successor is not None:
                    successor.leads = True
                else:
                    self._leading = False
            for write in batch:
                if write is not leader:
                    write.wake()
            if successor is not None:
                successor.wake()
        if self.on_batch is not None:
            try:
                self.on_batch(len(batch))
            except Exception:  # a metric's failure is not the saves'
                log.exception("the group commit's on_batch hook failed")
