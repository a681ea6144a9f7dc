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
    report = {"status": "ready", "database": "ok", "position": position or 0}
    for name, view in current_app.extensions.get("read_models", {}).items():
        tracked = view.max_tracking_id(casefiles.name) or 0
        report.setdefault("projections", {})[name] = {"position": tracked,
                                                      "lag": (position or 0) - tracked}
    relay = current_app.extensions.get("relay_tracking")
    if relay is not None:
        tracked = relay.max_tracking_id(casefiles.name) or 0
        report["relay"] = {"position": tracked, "lag": (position or 0) - tracked}
    return jsonify(report)
