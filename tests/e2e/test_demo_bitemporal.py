"""The demo shows the bitemporal view (issue 14 item 8). Its history is recorded with a
simulated recording clock, days to weeks (now and then long) after each act takes effect,
so an organization "as in effect on" a past day differs from "as known at" that day, as
it would after years of real use; the log stays in the order of the recorded times; and
every event of the demo says it is demo data, in the API, the audit trail and the case
file page, while an event recorded through the API does not."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from statistics import median

import pytest

from adapters.seed.demo import generate
from domain.calendar import CHINA, date_in_china
from tests.conftest import meta
from tests.e2e.test_pages import sign_in
from tests.support import open_accounts, registration

TODAY = date(2026, 6, 30)
ORGS, YEARS, SEED = 40, 4, 2024


@pytest.fixture
def demo(pg_app) -> dict:
    return generate(pg_app, orgs=ORGS, years=YEARS, seed=SEED, echo=lambda _: None,
                    today=TODAY)


@pytest.fixture
def tokens(demo, pg_app) -> dict[str, str]:
    """The test accounts, opened after the demo was loaded (as `make run` does)."""
    return open_accounts(pg_app, meta("2020-01-01", actor="setup", role="admin"))


def demo_organizations(pg_app) -> list[str]:
    seen = dict.fromkeys(n.originator_id for n in pg_app.recorder.select_notifications(1, 10**6)
                         if n.topic.startswith("domain.organization:Organization."))
    return [pg_app.repository.get(i).identifier for i in seen]


def recorded_after_effect(event) -> bool:
    """Recorded on a day after the one it took effect."""
    return date_in_china(event.timestamp) > event.meta.effective_date


def test_as_in_effect_on_a_day_differs_from_as_known_at_that_day(api, pg_app):
    differing = []
    for identifier in demo_organizations(pg_app):
        history = pg_app.organization_history(identifier)
        late = next((e for e in history[1:] if recorded_after_effect(e) and
                     date_in_china(history[0].timestamp) <= e.meta.effective_date), None)
        if late is None:  # (none, or the registration itself was recorded later)
            continue
        day = late.meta.effective_date  # in effect that day, recorded only days later
        path = f"/api/v1/organizations/{identifier}"
        in_effect = api.get(f"{path}?as_of={day}").json
        known = api.get(f"{path}?known_at={day}T23:59:59%2B08:00").json
        assert late.originator_version in {e["version"] for e in in_effect["timeline"]}
        assert late.originator_version not in {e["version"] for e in known["timeline"]}
        assert in_effect["version"] != known["version"]
        differing.append(identifier)
    assert len(differing) > ORGS // 2, differing


def test_the_demo_is_recorded_days_to_weeks_after_it_takes_effect_in_log_order(demo, pg_app):
    events = [pg_app.mapper.to_domain_event(n)
              for n in pg_app.recorder.select_notifications(1, 10 ** 6)]
    assert len(events) == demo["events"] and events
    stamps = [e.timestamp for e in events]
    assert stamps == sorted(stamps), "the log is in the order of the recorded times"
    versions: dict = {}  # ... and each aggregate's events in the order of their versions
    for event in events:
        assert event.originator_version == versions.get(event.originator_id, 0) + 1
        versions[event.originator_id] = event.originator_version
    assert stamps[-1] <= datetime.combine(TODAY, datetime.min.time(), CHINA) + \
        timedelta(seconds=1)
    delays = [(date_in_china(e.timestamp) - e.meta.effective_date).days for e in events]
    assert min(delays) >= 0
    assert 1 <= median(delays) <= 30, median(delays)
    assert sum(d > 30 for d in delays) > len(delays) // 50  # late filings, long after
    assert sum(d >= 60 for d in delays) > 0


def test_demo_events_are_marked_and_api_events_are_not(api, pg_app):
    identifier = demo_organizations(pg_app)[0]
    events = api.get(f"/api/v1/organizations/{identifier}/events").json["events"]
    assert events and all(e["meta"]["demo"] is True for e in events)
    audit = api.get(f"/api/v1/organizations/{identifier}/audit", as_="auditor").json
    assert audit["entries"] and all(e["demo"] is True for e in audit["entries"])

    body = registration(900, effective_date="2024-01-10")
    assert api.post("/api/v1/organizations", body).status_code == 201
    real = f"/api/v1/organizations/{body['code']}"
    change = api.post(f"{real}/changes", {"changes": {"business_scope": "志愿服务；社区治理"},
                                          "approval_date": "2024-02-01",
                                          "effective_date": "2024-02-01"})
    assert change.status_code == 200, change.json
    recorded = api.get(f"{real}/events").json["events"]
    assert recorded and all("demo" not in e["meta"] for e in recorded)
    assert all("demo" not in e for e in api.get(f"{real}/audit").json["entries"])

    client = api.client.application.test_client()
    sign_in(client)
    page = client.get(f"/organizations/{identifier}")
    assert page.status_code == 200 and "演示数据" in page.text
    assert "演示数据" not in client.get(f"/organizations/{body['code']}").text
    assert "演示数据" in client.get(f"/organizations/{identifier}/audit").text
