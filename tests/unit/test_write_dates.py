"""Nothing takes effect before the organization was registered (issue 15, finding 5): the
domain refuses every command dated before the registration, naming ``effective_date``;
time travel to a date before the registration finds no organization, also for one whose
history already holds such an event (recorded before the refusal). No database: the
domain, and the application on the in-memory store."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from eventsourcing.domain import Aggregate

from domain.errors import RuleViolation
from domain.organization import Organization
from domain.rules import defaults
from services.errors import OrganizationNotFound
from tests.conftest import meta
from tests.support import COMMITTEE, code

REGISTERED_ON = "2020-05-01"

COMMANDS = {
    "management suggestion": lambda org, on: org.issue_management_suggestion(
        number="S1", content="c", meta=meta(on)),
    "interview": lambda org, on: org.hold_interview(
        person_name="甲", person_role="会长", topics=["t"], meta=meta(on)),
    "change": lambda org, on: org.register_change(
        changes={"name": "新名称"}, approval_date=date(2020, 4, 1), meta=meta(on)),
    "penalty": lambda org, on: org.impose_penalty(
        decision_number="P1", kind="warning", legal_basis="art", amount=None,
        decision_date=date(1, 1, 1), suspended_until=None, meta=meta(on)),
    "credit listing": lambda org, on: org.list_on_credit_list(
        credit_list="abnormal_activity", meta=meta(on, reason="失联")),
    "inspection": lambda org, on: org.conduct_inspection(
        items=["账目"], findings="f", on_site=True, inspectors=["甲", "乙"], plan_id=None,
        double_random_sampling=defaults("double_random_sampling"), meta=meta(on)),
    "certificate renewal": lambda org, on: org.renew_certificate(
        valid_until=date(2031, 1, 1), meta=meta(on)),
    "deregistration": lambda org, on: org.deregister(meta=meta(on)),
}


def registered() -> Organization:
    org = Organization.register(
        code=code(1), name="示例协会", org_type="social_association",
        domicile={"address": "示例路1号", "jurisdiction": COMMITTEE}, business_scope="志愿服务",
        registered_funds=Decimal(30000), supervisory_unit=None,
        founded_on=date.fromisoformat(REGISTERED_ON), certificate_valid_until=date(2030, 4, 30),
        meta=meta(REGISTERED_ON))
    org.collect_events()
    return org


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("on", ["2020-04-30", "2019-05-01", "0001-01-01"])
def test_a_command_dated_before_the_registration_is_refused_naming_the_effective_date(
        command, on):
    org = registered()
    with pytest.raises(RuleViolation) as refused:
        command(org, on)
    assert refused.value.field == "effective_date"
    assert refused.value.rule == "before_registration"
    assert REGISTERED_ON in refused.value.message
    assert org.collect_events() == [] and org.version == 1


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_command_dated_on_the_registration_day_is_accepted(command):
    org = registered()
    command(org, REGISTERED_ON)
    assert len(org.collect_events()) == 1


def test_the_replay_of_a_recorded_event_dated_before_the_registration_still_succeeds(
        monkeypatch):
    """Events only apply state: the refusal is the command's, so old data still loads."""
    org = Organization.register(
        code=code(1), name="示例协会", org_type="social_association",
        domicile={"address": "示例路1号", "jurisdiction": COMMITTEE}, business_scope="志愿服务",
        registered_funds=Decimal(30000), supervisory_unit=None,
        founded_on=date.fromisoformat(REGISTERED_ON), certificate_valid_until=date(2030, 4, 30),
        meta=meta(REGISTERED_ON))
    with monkeypatch.context() as before_the_refusal:
        before_the_refusal.setattr(Organization, "trigger_event", Aggregate.trigger_event)
        COMMANDS["interview"](org, "2019-05-01")
    replayed = None
    for recorded in org.collect_events():
        replayed = recorded.mutate(replayed)
    assert replayed.version == 2 and len(replayed.interviews) == 1


def record(app) -> None:
    app.register_organization(
        meta=meta(REGISTERED_ON), code=code(1), name="示例协会", org_type="social_association",
        domicile={"address": "x", "jurisdiction": COMMITTEE}, business_scope="s",
        registered_funds=Decimal(1), supervisory_unit=None,
        founded_on=date.fromisoformat(REGISTERED_ON), certificate_valid_until=date(2030, 1, 1))


def test_the_service_refuses_a_write_before_the_registration_and_records_nothing(memory_app):
    record(memory_app)
    with pytest.raises(RuleViolation) as refused:
        memory_app.execute(code(1), "interview", meta=meta("2019-05-01"), person_name="甲",
                           person_role="会长", topics=["t"])
    assert refused.value.field == "effective_date"
    assert memory_app.get_organization(code(1)).version == 1


@pytest.mark.parametrize("old_data", [False, True], ids=["clean", "an early event recorded"])
def test_time_travel_before_the_registration_finds_no_organization(memory_app, monkeypatch,
                                                                   old_data):
    record(memory_app)
    if old_data:  # recorded before the domain refused such dates
        with monkeypatch.context() as before_the_refusal:
            before_the_refusal.setattr(Organization, "trigger_event", Aggregate.trigger_event)
            org = memory_app.get_organization(code(1))
            COMMANDS["interview"](org, "2019-05-01")
            memory_app.save(org)
    for as_of in (date(2018, 1, 1), date(2019, 6, 1), date(2020, 4, 30)):
        with pytest.raises(OrganizationNotFound):
            memory_app.organization_at(code(1), as_of=as_of)
    on_the_day = memory_app.organization_at(code(1), as_of=date(2020, 5, 1))
    assert on_the_day.version == (2 if old_data else 1)  # the early event: in effect by then
    later = memory_app.organization_at(code(1), as_of=date(2024, 1, 1))
    assert len(later.interviews) == (1 if old_data else 0)
