"""Bringing a view up to the log's head in pages (``catch_up``), and rebuilding it from the
start into a fresh copy that is compared with the live view by checksum and swapped in
(``rebuild``). Each page is applied with its tracking position in one transaction."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Callable

import psycopg

from adapters.config import connection_info
from adapters.progress import Progress
from adapters.runtime.locks import AdvisoryLock, projector_lock, worker_running
from adapters.runtime.registry import READ_MODELS, ReadModel, open_view
from adapters.runtime.runner import PageTracking
from adapters.runtime.status import wait_for
from adapters.store.application import StoredCaseFiles
from services.log import recorded_pages
from adapters.views.base import PostgresStatefulView
from projections.base import OrganizationProjection
from services.casefiles import CaseFiles


def replay(app: CaseFiles, projection: OrganizationProjection, position: int, head: int,
           batch: int, bar: Progress | None = None,
           keep_going: Callable[[], bool] | None = None) -> tuple[int, int]:
    """Apply the recorded events after ``position`` up to ``head`` in pages, each page
    with its tracking position in one transaction; return (position, events done).
    ``keep_going`` is asked before each page (the worker's: does it still hold the
    view's lock?)."""
    done = 0
    for events in recorded_pages(app, position, head, batch):
        if keep_going is not None and not keep_going():
            break
        position = events[-1][1]
        projection.process_batch(events, PageTracking(app.name, position, first=events[0][1]))
        done += len(events)
        if bar:
            bar.update(done)
    return position, done


def catch_up(env: dict[str, str], name: str, batch: int = 500, *,
             locked: threading.Event | None = None, timeout: float = 300) -> int:
    """Bring the live view up to the log's head in pages (much faster than one event per
    transaction); the worker does this before it follows new events one by one, holding
    the view's projector lock (``locked``: set while it is held). Anyone else takes that
    lock for the catch-up; when another process holds it (a worker projects the view),
    this waits until the view has reached the head instead of writing beside it (two
    projectors of one view would race: bug E), and raises TimeoutError after
    ``timeout`` seconds. Returns the number of events applied here."""
    lock = None
    if locked is None:
        lock = AdvisoryLock(env, projector_lock(env, name), label=f"casefile catch-up {name}")
        if not lock.try_take(raise_errors=True):
            lock.release()
            view = open_view(env, name)
            app = StoredCaseFiles(env=env)
            try:
                head = app.recorder.max_notification_id() or 0
                if not wait_for(view, head, timeout):
                    raise TimeoutError(f"{name}: the worker projecting it did not reach "
                                       f"{head} within {timeout:.0f}s")
                return 0
            finally:
                view.datastore.close()
                app.close()
        locked = lock.granted
    app = StoredCaseFiles(env=env)
    view = open_view(env, name)
    try:
        position = view.max_tracking_id(app.name) or 0
        head = app.recorder.max_notification_id() or 0
        _, done = replay(app, READ_MODELS[name].projection(view=view), position, head, batch,
                         keep_going=locked.is_set)
        return done
    finally:
        view.datastore.close()
        app.close()
        if lock is not None:
            lock.release()


def rebuild(env: dict[str, str], name: str, *, batch: int = 500,
            echo: Callable[[str], Any] = print, progress: bool = True) -> dict:
    """Replay every event into a fresh copy of the view, compare its checksum with the
    live view at the same position, and, when no worker projects the view (nobody holds
    its projector lock), swap it in."""
    model = READ_MODELS[name]
    app = StoredCaseFiles(env=env)
    prefix = f"{name}_rb{uuid.uuid4().hex[:8]}"
    shadow = open_view(env, name, prefix)
    projection = model.projection(view=shadow)
    head = app.recorder.max_notification_id() or 0
    bar = Progress(head, f"rebuild {name}") if progress else None
    started = time.monotonic()
    position, done = replay(app, projection, 0, head, batch, bar)
    seconds = bar.finish() if bar else time.monotonic() - started
    result = {"projection": name, "events": done, "seconds": round(seconds, 3),
              "events_per_second": round(done / seconds) if seconds else None,
              "position": position}
    live = open_view(env, name)
    if worker_running(env, name):
        wait_for(live, position, timeout=30)
    live_position = live.max_tracking_id(app.name) or 0
    if live_position < position:
        result["comparison"] = (f"live view at {live_position}, behind the rebuild at "
                                f"{position}; not compared")
    elif not live.positional_checksum and live_position != position:
        result["comparison"] = "live view moved on during the rebuild; not compared"
    else:
        rebuilt_sum = shadow.checksum(up_to=position)
        live_sum = live.checksum(up_to=position)
        result["rebuilt_checksum"], result["live_checksum"] = rebuilt_sum, live_sum
        result["comparison"] = "identical" if rebuilt_sum == live_sum else "DIFFERENT"
    result["replaced"] = _swap_if_no_worker(env, model, live, prefix, position)
    if not result["replaced"]:
        shadow.drop_tables([*model.tables, "tracking"])
    live.datastore.close()
    shadow.datastore.close()
    app.close()
    return result


def _swap_if_no_worker(env: dict[str, str], model: ReadModel, live: PostgresStatefulView,
                       prefix: str, position: int) -> bool:
    """Swap the rebuilt tables in, holding the view's projector lock: refused while a
    worker projects the view (it holds the lock; after a PostgreSQL restart it takes it
    again before it projects again, so a swap never happens under a writing worker)."""
    with psycopg.connect(**connection_info(env), autocommit=True) as conn:
        key = projector_lock(env, model.name)
        locked = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()[0]
        if not locked:
            return False  # a worker projects this view: it keeps its view; compare only
        try:
            if (live.max_tracking_id("casefile") or 0) > position:
                return False
            schema = live.datastore.schema or "public"
            with conn.transaction():
                for suffix in (*model.tables, "tracking"):
                    conn.execute(psycopg.sql.SQL("DROP TABLE IF EXISTS {0}.{1}").format(
                        psycopg.sql.Identifier(schema),
                        psycopg.sql.Identifier(f"{model.name}_{suffix}")))
                    conn.execute(psycopg.sql.SQL("ALTER TABLE {0}.{1} RENAME TO {2}").format(
                        psycopg.sql.Identifier(schema),
                        psycopg.sql.Identifier(f"{prefix}_{suffix}"),
                        psycopg.sql.Identifier(f"{model.name}_{suffix}")))
                    # the indexes too, else the next start creates every index again
                    # under its live name beside the rebuilt copy's
                    for (index,) in conn.execute(
                            "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND "
                            "tablename = %s", (schema, f"{model.name}_{suffix}")).fetchall():
                        if index.startswith(prefix):
                            conn.execute(psycopg.sql.SQL("ALTER INDEX {0}.{1} RENAME TO {2}")
                                         .format(psycopg.sql.Identifier(schema),
                                                 psycopg.sql.Identifier(index),
                                                 psycopg.sql.Identifier(
                                                     model.name + index[len(prefix):])))
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
