"""/healthz (the process is alive) and /readyz (the database answers; with a read
replica, how far its copy of each view has got, or that it is unreachable).

/readyz asks PostgreSQL one short question on one pooled connection, under a statement
timeout: the log's head and every tracked position (read models, relay). During an
outage it answers 503 with Retry-After as soon as the pool gives up waiting for a
connection (``WEB_DATABASE_TIMEOUT`` when serving), never after the library's retries.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from psycopg.sql import SQL, Identifier, Literal

bp = Blueprint("health", __name__)

STATEMENT_TIMEOUT_MS = 2000


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    casefiles = current_app.extensions["casefiles"]
    trackers = dict(current_app.extensions.get("read_models", {}))
    if current_app.extensions.get("relay_tracking") is not None:
        trackers["relay"] = current_app.extensions["relay_tracking"]
    try:
        if hasattr(casefiles.recorder, "datastore"):
            head, tracked = _positions(casefiles, trackers)
        else:  # the in-memory store
            head = casefiles.recorder.max_notification_id() or 0
            tracked = {name: view.max_tracking_id(casefiles.name) or 0
                       for name, view in trackers.items()}
    except Exception as e:  # any failure to reach the database means not ready
        response = jsonify({"status": "unavailable", "database": type(e).__name__})
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    report = {"status": "ready", "database": "ok", "position": head}
    for name, position in tracked.items():
        entry = {"position": position, "lag": head - position}
        if name == "relay":
            report["relay"] = entry
        else:
            report.setdefault("projections", {})[name] = entry
    replica = current_app.extensions.get("read_replica")
    if replica is not None:  # not needed to be ready: reads fall back to the primary
        report["replica"] = _replica_positions(casefiles, replica, head)
    return jsonify(report)


def _replica_positions(casefiles, replica, head: int) -> dict:
    """How far the read replica's copy of each view has got, or that it is unreachable."""
    try:
        positions = {name: view.max_tracking_id(casefiles.name) or 0
                     for name, view in replica.views.items()}
    except Exception as e:  # unreachable: reads go to the primary meanwhile
        return {"status": "unreachable", "error": type(e).__name__}
    return {"status": "ok", "projections": {
        name: {"position": p, "lag": head - p} for name, p in positions.items()}}


def _positions(casefiles, trackers: dict) -> tuple[int, dict[str, int]]:
    """The log's head and each tracker's position, in one statement on one connection."""
    recorder = casefiles.recorder
    columns = [SQL("(SELECT max(notification_id) FROM {0}.{1}) AS head").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))]
    for n, tracker in enumerate(trackers.values()):
        columns.append(SQL("(SELECT max(notification_id) FROM {0}.{1} WHERE "
                           "application_name = {2}) AS {3}").format(
            Identifier(tracker.datastore.schema), Identifier(tracker.tracking_table_name),
            Literal(casefiles.name), Identifier(f"t{n}")))
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(SQL("SET LOCAL statement_timeout = {0}").format(
            Literal(STATEMENT_TIMEOUT_MS)))
        curs.execute(SQL("SELECT {0}").format(SQL(", ").join(columns)))
        row = curs.fetchone()
    return row["head"] or 0, {name: row[f"t{n}"] or 0 for n, name in enumerate(trackers)}
