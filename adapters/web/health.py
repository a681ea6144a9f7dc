"""/healthz (the process is alive) and /readyz (the database answers)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@health.get("/readyz")
def readyz():
    casefiles = current_app.extensions["casefiles"]
    try:
        position = casefiles.recorder.max_notification_id()
    except Exception as e:  # any failure to reach the database means not ready
        response = jsonify({"status": "unavailable", "database": type(e).__name__})
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    return jsonify({"status": "ready", "database": "ok", "position": position or 0})
