"""Every rule parameter takes effect, where a read model applies it (issue 13 item 3): the
timeliness rule in the case file's timeline and the audit trail (each event judged by the
rule as it stood when it was recorded, kept with the views' states), and the certificate
rule in the network view's figures and drill-down and in the case file read over HTTP.
The commands' and the engine's share: tests/unit/test_rule_parameters.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from adapters.runtime.catch_up import catch_up
from adapters.runtime.registry import open_view
from domain.calendar import today_in_china, working_days_before
from projections.documents import with_certificate_state
from tests.conftest import meta
from tests.support import code
from tests.unit.test_rule_parameters import (HERE, SCOPES, THERE, change, changed_there,
                                             here_and_there, register)


def projected(env, *names: str) -> None:
    for name in names:
        catch_up(env, name)


@pytest.mark.parametrize("scope", SCOPES)
def test_timeliness__working_days(pg_app, postgres_env, scope):
    """A warning recorded 10 working days after its decision: late after 5, in time
    within 12. The change is projected in a catch-up of its own, so the views keep the
    rule between runs (and a rebuild judges the same)."""
    here, there = here_and_there(pg_app)
    change(pg_app, "timeliness", scope, working_days=12)
    projected(postgres_env, "casefiles", "audittrail")
    decided = working_days_before(today_in_china(), 10).isoformat()
    for identifier in (here, there):
        pg_app.close_organization(identifier, "penalty", meta=meta(decided),
                                  decision_number="W1", kind="warning",
                                  legal_basis="条例第30条", amount=None,
                                  decision_date=date.fromisoformat(decided),
                                  suspended_until=None)
    projected(postgres_env, "casefiles", "audittrail")
    expected = {here: False, there: not changed_there(scope)}
    casefiles = open_view(postgres_env, "casefiles")
    audit = open_view(postgres_env, "audittrail")
    try:
        for identifier, late in expected.items():
            timeline = casefiles.get(identifier)["timeline"]
            assert [e["late"] for e in timeline if e["type"] == "PenaltyImposed"] == [late]
            entries = audit.entries(identifier=identifier)
            assert [e["late"] for e in entries
                    if e["event_type"] == "Organization.PenaltyImposed"] == [late]
    finally:
        casefiles.datastore.close()
        audit.datastore.close()


@pytest.mark.parametrize("scope", SCOPES)
def test_certificate_expiry__expiring_days_in_the_network_view(pg_app, postgres_env, scope):
    """100 days left: counted and listed as expiring within 120 days, not within 90."""
    today = date(2024, 3, 1)
    here, there = here_and_there(pg_app, certificate_valid_until=today + timedelta(days=100))
    register(pg_app, 3, HERE, certificate_valid_until=today + timedelta(days=30))
    change(pg_app, "certificate_expiry", scope, expiring_days=120)
    projected(postgres_env, "casefiles", "network")
    rule = pg_app.rule("certificate_expiry")
    network = open_view(postgres_env, "network")
    casefiles = open_view(postgres_env, "casefiles")
    try:
        leaves = network.leaf_figures("310110", today, certificate_expiry=rule)
        counted = {leaf: leaves.get(leaf, {}).get("certificates_expiring", 0)
                   for leaf in (HERE, THERE)}
        assert counted == {HERE: 2, THERE: 1 if changed_there(scope) else 0}
        total, rows = network.organizations("310110", "certificate_expiring", today, 10, 0,
                                            certificate_expiry=rule)
        listed = {row["identifier"] for row in rows}
        assert listed == ({here, there, code(3)} if changed_there(scope) else {here, code(3)})
        assert total == len(listed)
        document = casefiles.get(there)["document"]
        assert with_certificate_state(document, today, rule)["certificate"]["state"] == (
            "expiring" if changed_there(scope) else "valid")
    finally:
        network.datastore.close()
        casefiles.datastore.close()


def test_changed_rules_decide_the_next_request_over_http(api):
    """The issue's two cases over the API: a changed notice period decides the next
    major-event report (and the event says which version applied); a changed expiring
    period decides the case file's certificate state."""
    ahead = (today_in_china() + timedelta(days=100)).isoformat()
    api.post("/api/v1/organizations", {
        "code": code(1), "name": "示例协会", "type": "social_association",
        "domicile": {"address": "示例路1号", "jurisdiction": HERE},
        "business_scope": "志愿服务", "registered_funds": 30000, "supervisory_unit": None,
        "founded_on": "2020-05-01", "certificate_valid_until": ahead,
        "effective_date": "2020-05-01", "reason": "成立登记"})
    assert api.get(api.org(1)).json["certificate"]["state"] == "valid"
    for name, parameters in (("major_event_reporting", {"notice_days": 30}),
                             ("certificate_expiry", {"expiring_days": 120})):
        changed = api.client.put(f"/api/v1/rules/{name}",
                                 json={"parameters": parameters, "reason": "试点",
                                       "jurisdiction": "310110001000"},
                                 headers={"Authorization": f"Bearer {api.tokens['staff']}"})
        assert changed.status_code == 200, changed.json
    assert api.get(api.org(1)).json["certificate"]["state"] == "expiring"
    reported = api.post(f"{api.org(1)}/major-events", {
        "category": "important_activity", "planned_date": "2024-03-21",
        "description": "公益活动", "sent_to": ["registration_authority"],
        "effective_date": "2024-03-01"})
    assert reported.status_code in (200, 201), reported.json
    [event] = reported.json["organization"]["major_events"]
    assert event["late"] is True and event["required_notice_days"] == 30
    history = api.get(f"{api.org(1)}/events").json
    [recorded] = [e for e in history["events"] if e["type"] == "MajorEventReported"]
    assert recorded["meta"]["rules"] == ["major_event_reporting@v2"]
