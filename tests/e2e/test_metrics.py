"""Issue 18 item 5: /metrics in the Prometheus text format, readable from a loopback
address or with METRICS_TOKEN, counting requests by url rule and status, commands by
type, and reading the projections' lag and the verification's age from the database."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.support import code, registration


def samples(text: str) -> dict[tuple, float]:
    """Every sample as {(name, sorted labels): value}."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def scrape(api, **kwargs):
    return api.client.get("/metrics", **kwargs)


def test_metrics_count_requests_by_rule_and_commands_by_type(api):
    before = samples(scrape(api).text)
    read = dict(endpoint="/api/v1/organizations/<code>", method="GET", status="200")
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    for _ in range(3):
        assert api.get(f"/api/v1/organizations/{code(1)}").status_code == 200
    assert api.get(f"/api/v1/organizations/{code(2)}").status_code == 404
    assert api.get("/api/v1/audit/verify", as_="auditor").json["ok"]

    answer = scrape(api)
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain; version=")
    after = samples(answer.text)
    counted = lambda name, **labels: (value(after, name, **labels) or 0) - (  # noqa: E731
        value(before, name, **labels) or 0)
    assert counted("casefile_http_requests_total", **read) == 3
    assert counted("casefile_http_requests_total", **{**read, "status": "404"}) == 1
    assert counted("casefile_http_request_duration_seconds_count", **read) == 3
    assert counted("casefile_commands_recorded_total", command="register") == 1
    assert not any(code(1) in str(key) for key in after)  # the rule, never the raw path

    head = value(after, "casefile_log_head_position")
    assert head >= 1
    for name in ("casefiles", "audittrail", "statistics", "network"):
        assert value(after, "casefile_projection_lag_events", projection=name) == head - value(
            after, "casefile_projection_position", projection=name)
    assert 0 <= value(after, "casefile_audit_verification_age_seconds") < 60
    assert value(after, "casefile_audit_verification_ok") == 1
    assert value(after, "casefile_db_pool_connections", pool="events", state="size") >= 1
    assert counted("casefile_group_commit_batch_size_count") >= 1  # the registration's commit


def test_an_idempotent_replay_is_not_counted_as_a_command(api):
    key = {"Idempotency-Key": "metrics-replay"}
    before = samples(scrape(api).text)
    for _ in range(2):
        assert api.post("/api/v1/organizations", registration(1), headers=key).status_code \
            in (200, 201)
    after = samples(scrape(api).text)
    assert (value(after, "casefile_commands_recorded_total", command="register") or 0) - (
        value(before, "casefile_commands_recorded_total", command="register") or 0) == 1


def test_only_loopback_clients_or_the_token_may_read_the_metrics(api, monkeypatch):
    remote = {"REMOTE_ADDR": "192.0.2.10"}
    refused = scrape(api, environ_base=remote)
    assert refused.status_code == 403 and "casefile_" not in refused.text
    assert scrape(api, environ_base={"REMOTE_ADDR": "::1"}).status_code == 200

    monkeypatch.setenv("METRICS_TOKEN", "s3cret-metrics-token")
    assert scrape(api).status_code == 403  # once a token is set, loopback needs it too
    assert scrape(api, environ_base=remote,
                  headers={"Authorization": "Bearer wrong"}).status_code == 403
    allowed = scrape(api, environ_base=remote,
                     headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert allowed.status_code == 200
    assert re.search(r"^casefile_log_head_position ", allowed.text, re.M)
