"""/metrics: the service's metrics (adapters.metrics) for Prometheus, and the request hooks
that count every answer by endpoint and status.

Who may read it: with ``METRICS_TOKEN`` set, a request carrying
``Authorization: Bearer METRICS_TOKEN``; without it, a client on a loopback address only
(a Prometheus on the same machine). Anyone else gets 403. Behind a reverse proxy on the
same machine every client looks local: set ``METRICS_TOKEN`` there (or do not route
/metrics through the proxy).

At each scrape one statement on one pooled connection (adapters.web.health, under its
statement timeout) reads the log's head and each projection's and the relay's position;
the audit verification's stored head gives its age.

| setting | default | meaning |
|---|---|---|
| METRICS_TOKEN | unset: loopback clients only | the bearer token that may read /metrics from anywhere |
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Flask, current_app, g, request

from adapters import metrics
from adapters.views.audit_verification import head_age_seconds, stored
from adapters.web.health import _positions
from adapters.web.requests import error_response

bp = Blueprint("metrics", __name__)


def _may_read() -> bool:
    token = os.environ.get("METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def scrape():
    """The metrics in the Prometheus text format (METRICS_TOKEN or a loopback client)."""
    if not _may_read():
        return error_response(403, "forbidden", "the metrics are for a loopback client or "
                              "a bearer of METRICS_TOKEN")
    _observe_pools(current_app)
    body, content_type = metrics.exposition([DatabaseCollector(current_app)])
    return current_app.response_class(body, content_type=content_type)


class DatabaseCollector:
    """What the database says at the scrape: positions, lags, the verification's age."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        # (prometheus_client is imported on first use, after the serving command chose
        # start-up: its multiprocess mode: adapters.metrics)
        from prometheus_client.core import GaugeMetricFamily

        casefiles = self.app.extensions["casefiles"]
        views = dict(self.app.extensions.get("read_models", {}))
        trackers = dict(views)
        if self.app.extensions.get("relay_tracking") is not None:
            trackers["relay"] = self.app.extensions["relay_tracking"]
        if not hasattr(casefiles.recorder, "datastore"):
            return  # the in-memory store: nothing to read
        head, tracked = _positions(casefiles, trackers)
        yield GaugeMetricFamily("casefile_log_head_position",
                                "position of the last recorded event", value=head)
        position = GaugeMetricFamily("casefile_projection_position",
                                     "last event position applied to the read model",
                                     labels=["projection"])
        lag = GaugeMetricFamily("casefile_projection_lag_events",
                                "events recorded and not yet applied to the read model",
                                labels=["projection"])
        for name in views:
            position.add_metric([name], tracked[name])
            lag.add_metric([name], head - tracked[name])
        yield position
        yield lag
        if "relay" in tracked:
            yield GaugeMetricFamily("casefile_relay_position",
                                    "last event position the broker acknowledged",
                                    value=tracked["relay"])
            yield GaugeMetricFamily("casefile_relay_lag_events",
                                    "events recorded and not yet published",
                                    value=head - tracked["relay"])
        if "audittrail" in views:
            verified, last_run = stored(views["audittrail"])
            age = head_age_seconds(verified)
            yield GaugeMetricFamily(
                "casefile_audit_verification_age_seconds",
                "seconds since the audit trail's head was last verified (-1: never)",
                value=-1 if age is None else age)
            yield GaugeMetricFamily(
                "casefile_audit_verification_ok",
                "1 when the latest verification of the audit trail found it intact",
                value=1 if last_run and last_run.get("ok") else 0)
            yield GaugeMetricFamily(
                "casefile_audit_verified_position",
                "position of the audit trail's last verified head",
                value=verified["position"] if verified else 0)


def _observe_pools(app: Flask) -> None:
    casefiles = app.extensions["casefiles"]
    datastore = getattr(casefiles.recorder, "datastore", None)
    if datastore is None:
        return
    metrics.observe_pools({
        "events": [datastore.pool],
        "views": [view.datastore.pool
                  for view in app.extensions.get("read_models", {}).values()]})


def init_app(app: Flask) -> None:
    """Count every answer of the app (by url rule, method and status), and keep this
    process's pool gauges current, and the size of each group commit of its recorder."""
    app.register_blueprint(bp)
    committer = getattr(app.extensions["casefiles"].recorder, "committer", None)
    if committer is not None:  # the PostgreSQL recorder's (adapters/store/group_commit.py)
        committer.on_batch = metrics.observe_group_commit_batch

    @app.before_request
    def start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
            metrics.observe_request(rule, request.method, response.status_code,
                                    time.perf_counter() - started)
        return response

    @app.teardown_request
    def pools(_error):
        _observe_pools(app)
