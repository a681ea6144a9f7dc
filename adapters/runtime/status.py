"""Where the read models stand: each projection's and the rules' position against the
log's head and who projects it, and waiting for a view to reach a position."""

from __future__ import annotations

import time

from adapters.runtime.locks import RULES, holders
from adapters.runtime.registry import READ_MODELS, open_view
from adapters.store.application import StoredCaseFiles
from adapters.views.base import PostgresStatefulView
from services.rules import RULES_TRACKING


def status(env: dict[str, str]) -> list[dict]:
    """Each projection's position, the log's head, the lag, and who projects it (the
    session holding its projector lock, or None)."""
    app = StoredCaseFiles(env=env)
    try:
        head = app.recorder.max_notification_id() or 0
        held = holders(env)
        rows = []
        for name in READ_MODELS:
            view = open_view(env, name)
            try:
                position = view.max_tracking_id(app.name) or 0
            finally:
                view.datastore.close()
            rows.append({"projection": name, "position": position, "head": head,
                         "lag": head - position, "worker": held.get(name)})
        return rows
    finally:
        app.close()


def rules_status(env: dict[str, str]) -> dict:
    """The rules' position, the log's head, and who runs the rules and the clock."""
    app = StoredCaseFiles(env=env)
    try:
        head = app.recorder.max_notification_id() or 0
        position = app.recorder.max_tracking_id(RULES_TRACKING) or 0
        return {"position": position, "head": head, "lag": head - position,
                "worker": holders(env).get(RULES)}
    finally:
        app.close()


def wait_for(view: PostgresStatefulView, position: int, timeout: float) -> bool:
    """Poll the view's tracking position until it reaches ``position`` or time runs out.

    A view's position only grows (a rebuild swaps its copy in only when it is at least
    as far), so the highest position this process has seen (``view.seen_position``)
    answers without a query for any position at or below it: a reader whose last write
    the view already showed does not ask again on every read."""
    if position <= getattr(view, "seen_position", 0):  # nothing to wait for: no query
        return True
    deadline = time.monotonic() + timeout
    interval = 0.002
    while True:
        reached = view.max_tracking_id("casefile") or 0
        if reached > getattr(view, "seen_position", 0):
            view.seen_position = reached
        if reached >= position:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, 0.05)
