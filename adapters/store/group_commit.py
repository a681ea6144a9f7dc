"""Group commit: concurrent saves of one process share a transaction.

A save that finds no transaction under way commits at once, alone, in its own thread: one
writer waits for nothing it did not wait for before. A save that arrives while a
transaction is under way queues. When a transaction ends:

- with one save queued, that save commits next, in its own thread (it is woken to lead;
  everything queued by then goes with it), as the first did;
- with several, the committer thread takes over: it takes everything queued (up to
  ``max_events`` events, at least one save), commits it, wakes those saves, and goes on
  while saves keep queuing; when the queue is empty it sleeps until handed the queue
  again.

So the batches grow with the load by themselves, no save ever waits for a batch to fill,
and each save is answered right after its own batch's commit. Under load the next
transaction starts as soon as the last one ended, from a thread that is already running:
handing each transaction to one of the waiting saves instead cost a wake-up and a wait
for the interpreter between transactions (about half a millisecond with 8 writers, when
a transaction takes one to one and a half: docs/BENCHMARKS.md j.). With two writers the
single queued save leading costs one wake-up where the committer thread would cost two.

Each batch goes to ``commit`` (the recorder's: one lock, one insert, one commit), which
sets each write's own outcome (its positions, or its own error: a version conflict fails
that save only). An exception out of ``commit`` is the whole batch's (the database went
away, the commit failed): every save of the batch gets it, and nothing of the batch was
recorded. Each save is answered only after its batch's transaction ended.

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

    __slots__ = ("stored_events", "kwargs", "positions", "error", "leads", "_asleep")

    def __init__(self, stored_events: Sequence[Any], kwargs: dict[str, Any]):
        self.stored_events, self.kwargs = stored_events, kwargs
        self.positions: Sequence[int] | None = None
        self.error: BaseException | None = None
        self.leads = False
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
        # a transaction is under way, or the committer thread has been handed the queue
        self._leading = False
        self._thread: threading.Thread | None = None
        self._idle = threading.Lock()  # held while the committer thread has nothing to do

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
            if not self._leading:  # the queue was empty: commit at once, here
                self._leading = write.leads = True
        if not write.leads:
            write.sleep()  # until its batch ended, or it leads the next
            if not write.leads:
                return write.outcome()
        self._commit_next(write)
        with self._mutex:
            queued = len(self._queue)
            if queued == 0:
                self._leading = False
            elif queued == 1:  # the one save queued leads the next, alone
                successor = self._queue[0]
                successor.leads = True
        if queued == 1:
            successor.wake()
        elif queued > 1:  # several: the committer thread takes them, and what follows
            self._hand_over()
        return write.outcome()

    def _commit_next(self, leader: Write | None = None) -> None:
        """Commit the batch at the head of the queue (``leader``'s own save first, when a
        save commits in its own thread), then wake its saves (but the leader)."""
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
            for write in batch:
                if write is not leader:
                    write.wake()
        if self.on_batch is not None:
            try:
                self.on_batch(len(batch))
            except Exception:  # a metric's failure is not the saves'
                log.exception("the group commit's on_batch hook failed")

    def _hand_over(self) -> None:
        """Wake the committer thread (start it, the first time in this process: a
        forked child has no thread of its parent's) to commit what is queued."""
        if self._thread is not None and self._thread.is_alive():
            self._idle.release()
            return
        self._idle = threading.Lock()
        self._idle.acquire()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """The committer thread: commit batch after batch while saves are queued; then
        sleep until handed the queue again. It is handed the queue only while it sleeps
        or is about to (``_leading`` is false only then), so each hand-over wakes it
        once."""
        while True:
            while True:
                self._commit_next()
                with self._mutex:
                    if not self._queue:
                        self._leading = False
                        break
            self._idle.acquire()
