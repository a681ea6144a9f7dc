"""Verifying the audit trail in O(new events): the last verified head, kept in the
database and signed, and a verification that extends it.

A full verification (``projections.audit.verify`` from the genesis) reads and decodes the
whole event log: about 5,000 events/s, so 17 minutes at 5 million events. After a
successful verification the head it verified (position, hash, entries up to it) is
signed with the service's checkpoint key (``adapters.views.audit_checkpoint``: the same
signed document an auditor exports) and kept in the table ``audittrail_verified_head``
(``adapters.views.audit``) with the result of the latest run. The next verification extends that head:

1. the stored head must carry this service's signature (a database writer without the
   key cannot move it forward over entries nobody checked);
2. the entry at the head's position must still hold the verified hash: each entry's hash
   covers the previous one's, so a trail rewritten anywhere at or before the head, and
   re-chained to look consistent, no longer ends in that hash;
3. the entries after the head are verified against the events after it, chained from the
   head's hash, exactly as the full walk would.

What each mode proves. A **full** run: every entry up to the trail's end is the redacted
canonical form of the recorded event at its position, and the chain is unbroken; it
names the first broken entry. An **extension** proves the same of the entries added since
the last verified head, and that the history up to that head was not rewritten as a
chain; it does not re-read the entries and events behind the head, so an entry edited
there without recomputing the hashes after it, or a stored event altered there, is found
by the next full run (``casefile audit verify --full``, ``?full=true``), not by an
extension. Run the full one on a schedule (nightly or weekly at millions of events), and
export checkpoints for parties outside the bureau (they catch a rewrite of both the log
and the trail by whoever holds the database and the key).

Runs are serialized by an advisory lock; a run that finds the lock taken (``wait=False``:
the audit page) answers the stored result instead of verifying the same entries again.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
import psycopg
from psycopg.sql import SQL

from adapters.views.audit import PostgresAuditView
from adapters.views.audit_checkpoint import (CheckpointError, make_checkpoint,
                                             parse_checkpoint, public_key_text, signing_key)
from domain.texts import render
from projections.audit import GENESIS, Verification, verify
from services.log import recorded_pages

LOCK = (7_305_718, 18)  # (namespace, key) of the advisory lock that serializes the runs


@dataclass
class Run:
    """One verification: its result, how it ran and what it covered."""

    result: Verification
    mode: str  # "full" or "extend"
    started_after: int  # the position it started from (0: the genesis)
    checked: int  # entries checked by this run
    complete: bool  # False when a limit stopped it before the trail's end
    trail_end: int  # the trail's last projected position when it ran
    checked_at: str
    seconds: float
    head_verified_at: str | None  # when the head was last verified (None: never)

    def as_dict(self) -> dict:
        return {**self.result.as_dict(), "mode": self.mode,
                "started_after": self.started_after, "checked_entries": self.checked,
                "complete": self.complete, "trail_end": self.trail_end,
                "checked_at": self.checked_at, "seconds": round(self.seconds, 3),
                "head_verified_at": self.head_verified_at}


class AuditVerifier:
    """Full and extending verification of one schema's audit trail against its log."""

    def __init__(self, view: PostgresAuditView, app: Any,
                 key: Ed25519PrivateKey | None = None):
        self.view, self.app = view, app
        self.key = key or signing_key()
        self.datastore = view.datastore
        self.table = view.verified_head_table  # created with the view

    # ------------------------------------------------------------------ what is stored

    def stored(self) -> tuple[dict | None, dict | None]:
        """(the signed head, the latest run's answer), either None when never stored."""
        return stored(self.view)

    def head_age_seconds(self) -> float | None:
        """Seconds since the head was last verified (None: never verified)."""
        return head_age_seconds(stored(self.view)[0])

    # ------------------------------------------------------------------ verifying

    def run(self, *, full: bool = False, limit: int | None = None,
            wait: bool = True) -> Run | None:
        """Verify (extend the stored head, or ``full``ly from the genesis), store the
        result, and answer it. ``limit`` stops an extension after that many entries (the
        next one goes on from there). None when ``wait`` is False and another run holds
        the lock."""
        pool = self.datastore.pool
        options = {k: v for k, v in pool.kwargs.items() if k != "row_factory"}
        # A session lock on a connection of its own, outside any transaction (the
        # datastore's connections end a transaction left idle while the run reads).
        with psycopg.connect(pool.conninfo, autocommit=True, **options) as lock:
            if wait:
                lock.execute("SELECT pg_advisory_lock(%s, %s)", LOCK)
            elif not lock.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                  LOCK).fetchone()[0]:
                return None
            run = self._run(full=full, limit=limit)
            self._store(run)
            return run  # the lock ends with its connection

    def _run(self, *, full: bool, limit: int | None) -> Run:
        started, checked_at = time.perf_counter(), _now()
        trail_end = self.view.max_tracking_id(self.app.name) or 0
        head, _ = self.stored()
        after, verified, problem = (0, GENESIS), 0, None
        if head is not None and not full:
            after, verified = (head["position"], head["hash"]), head["verified_entries"]
            problem = self._check_head(head, trail_end)
        if problem is not None:
            result = Verification(False, verified, after[0], after[1],
                                  {"position": after[0], "problem": problem})
            return Run(result, "extend", after[0], 0, True, trail_end, checked_at,
                       time.perf_counter() - started, head and head["verified_at"])
        up_to, complete = trail_end, True
        if limit is not None:
            stop = self._position_after(after[0], limit)
            if stop is not None and stop < trail_end:
                up_to, complete = stop, False
        with ahead(self.view.chain_pages(up_to, after=after[0])) as entries, \
                ahead(recorded_pages(self.app, after[0], up_to, 1000,
                                     keep_errors=True)) as events:
            result = verify(entries, events, after=after, verified=verified)
        verified_at = checked_at if result.ok else (head and head["verified_at"])
        return Run(result, "full" if full or head is None else "extend", after[0],
                   result.verified - verified, complete, trail_end, checked_at,
                   time.perf_counter() - started, verified_at)

    def _check_head(self, head: dict, trail_end: int) -> str | None:
        """Why the stored head cannot be extended, or None."""
        try:
            parse_checkpoint(json.dumps(head))
        except CheckpointError as e:
            return render("head_invalid", error=e)
        if head["public_key"] != public_key_text(self.key):
            return render("head_other_key")
        position = head["position"]
        if position == 0:
            return None
        if position > trail_end:
            return render("head_removed", end=trail_end, position=position)
        entry = self.view.entries(after=position - 1, up_to=position, limit=1)
        if not entry or entry[0]["hash"] != head["hash"]:
            return render("head_rewritten", position=position)
        return None

    def _position_after(self, position: int, count: int) -> int | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT position FROM {t} WHERE position > %s ORDER BY position "
                             "OFFSET %s LIMIT 1").format(t=self.view.entries_table),
                         (position, max(count, 1) - 1))
            row = curs.fetchone()
        return row["position"] if row else None

    def _store(self, run: Run) -> None:
        """The latest run's answer always; the head only when the run verified (a full run
        replaces it, an extension moves it forward)."""
        with self.datastore.transaction(commit=True) as curs:
            self._write(curs, run)

    def _write(self, curs: Any, run: Run) -> None:
        answer = json.dumps(run.as_dict())
        if run.result.ok:
            checkpoint = json.dumps(make_checkpoint(run.result, self.key))
            curs.execute(SQL("INSERT INTO {t} (id, head, last_run) VALUES (1, %s, %s) "
                             "ON CONFLICT (id) DO UPDATE SET head = EXCLUDED.head, "
                             "last_run = EXCLUDED.last_run").format(t=self.table),
                         (checkpoint, answer))
        else:
            curs.execute(SQL("INSERT INTO {t} (id, head, last_run) VALUES (1, NULL, %s) "
                             "ON CONFLICT (id) DO UPDATE SET last_run = EXCLUDED.last_run")
                         .format(t=self.table), (answer,))


def stored(view: PostgresAuditView) -> tuple[dict | None, dict | None]:
    """The stored (signed head, latest run's answer) of a trail, None when never stored."""
    with view.datastore.transaction(commit=False) as curs:
        curs.execute(SQL("SELECT head, last_run FROM {t} WHERE id = 1")
                     .format(t=view.verified_head_table))
        row = curs.fetchone()
    return (row["head"], row["last_run"]) if row else (None, None)


def head_age_seconds(head: dict | None) -> float | None:
    """Seconds since a stored head was verified (None: never verified)."""
    if head is None:
        return None
    at = datetime.fromisoformat(head["verified_at"])
    return (datetime.now(timezone.utc) - at).total_seconds()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def ahead(pages: Iterable[list], depth: int = 2) -> Iterator[Iterator[Any]]:
    """The items of ``pages``, read a page or two ahead in a thread: the next page's
    query runs in the database while this one is checked. The reader stops when the
    block ends (the verifier stops at the first broken entry)."""
    waiting: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def hand(item: tuple) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not hand(("page", page)):
                    return
            hand(("end", None))
        except BaseException as e:  # handed to the caller's thread, raised there
            hand(("error", e))

    def items() -> Iterator[Any]:
        while True:
            kind, item = waiting.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield from item

    reader = threading.Thread(target=read, name="audit-verify-read", daemon=True)
    reader.start()
    try:
        yield items()
    finally:
        stop.set()
        reader.join()
