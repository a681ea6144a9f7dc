"""Every rule parameter takes effect (issue 13 item 3): for each rule of the catalog, one
parameter changed everywhere, and for one jurisdiction (the sub-district of HERE, not
THERE), changes the next decision of that rule; the events say which rule versions they
applied. The in-memory application: no database (the projections' and views' share of
it is in tests/integration/test_rule_parameters.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from adapters.store.transcoding import make_transcoder
from domain.errors import RuleViolation
from domain.meta import Meta
from domain.network import EarlyWarning, Proposal
from domain.organization import Organization
from domain.person import Person
from domain.rules import CATALOG, Rule, defaults
from projections.base import follow_rule
from projections.documents import organization_document, with_certificate_state
from services.rules import RulesEngine, rules_applied_by
from tests.conftest import meta
from tests.support import code, id_number

HERE, THERE = "310110001001", "310110002001"  # two committees of one district
SUB_DISTRICT = "310110001000"  # HERE's, not THERE's
SCOPES = ("everywhere", "jurisdiction")
REPORT = dict(income=Decimal(100000), expenditure=Decimal(90000), net_assets=Decimal(50000),
              activities_held=12, party_organization=True)


def register(app, n: int, jurisdiction: str, on: str = "2020-05-01",
             certificate_valid_until: date = date(2030, 4, 30),
             supervisory_unit: str | None = None) -> str:
    app.register_organization(
        meta=meta(on), code=code(n), name=f"示例协会{n}", org_type="social_association",
        domicile={"address": "示例路1号", "jurisdiction": jurisdiction},
        business_scope="志愿服务", registered_funds=Decimal(30000),
        supervisory_unit=supervisory_unit,
        founded_on=date.fromisoformat(on), certificate_valid_until=certificate_valid_until)
    return code(n)


def here_and_there(app, **kwargs) -> tuple[str, str]:
    return register(app, 1, HERE, **kwargs), register(app, 2, THERE, **kwargs)


def change(app, name: str, scope: str, **parameters) -> Rule:
    return app.change_rule(name, parameters=parameters,
                           jurisdiction=None if scope == "everywhere" else SUB_DISTRICT,
                           meta=meta("2020-01-01", actor="rules-admin", reason="pilot"))


def changed_there(scope: str) -> bool:
    """Whether THERE follows the change too (only a change everywhere reaches it)."""
    return scope == "everywhere"


def recorded(app, kind: type) -> list:
    """The recorded events of a kind, in order."""
    events = (app.mapper.to_domain_event(n)
              for n in app.recorder.select_notifications(start=1, limit=10 ** 6))
    return [e for e in events if isinstance(e, kind)]


def fired(app, kind: type, rule: str) -> list:
    """The warnings or proposals a rule made, as recorded."""
    made = EarlyWarning.Raised if kind is EarlyWarning else Proposal.Made
    return [app.repository.get(e.originator_id) for e in recorded(app, made)
            if (e.rule or "").startswith(f"rule:{rule}@")]


def of(aggregates: list, identifier: str) -> list:
    return [a for a in aggregates if a.organization == identifier]


def tick(app, *days: date, warnings=(), organizations=(code(1), code(2))) -> None:
    engine = RulesEngine(app)
    for day in days:
        engine.process_pending()
        engine.tick(day, list(organizations), list(warnings),
                    Meta("clock", "system", day, f"clock:{day}"))
    engine.process_pending()


# ---------------------------------------------------------------- the catalog

def test_the_principle_has_no_parameters():
    assert CATALOG["record_not_changed_silently"][2] == {}
    assert Rule.from_catalog("record_not_changed_silently").parameters_for(HERE) == {}


def test_each_rule_with_parameters_is_proved_here():
    """A test below per rule of the catalog that has parameters."""
    proved = {name.removeprefix("test_").split("__")[0] for name in globals()
              if name.startswith("test_") and "__" in name}
    assert {name for name, (_, _, params) in CATALOG.items() if params} <= proved


def test_a_domain_command_names_the_rules_it_applies():
    assert rules_applied_by(Organization.assess_level) == ("rating", "annual_inspection")
    assert rules_applied_by(Organization.report_major_event) == ("major_event_reporting",)
    assert rules_applied_by(Person.take_post) == ("leaders",)
    assert rules_applied_by(Organization.register_change) == ()


# ------------------------------------------------------- the version recorded

def test_meta_without_rules_reads_and_writes_as_before():
    old = {"actor_id": "a", "actor_role": "system", "effective_date": "2024-01-01",
           "correlation_id": "c", "reason": None, "reference": None, "imported": False}
    assert Meta.from_dict(old).rules == ()
    assert Meta.from_dict(old).as_dict() == old  # the audit trail's canonical form
    transcoder = make_transcoder()
    assert transcoder.decode(transcoder.encode(Meta.from_dict(old))) == Meta.from_dict(old)
    assert b"rules" not in transcoder.encode(Meta.from_dict(old))
    applied = Meta.from_dict(old).applying("rating@v2", "annual_inspection@v1", "rating@v2")
    assert applied.rules == ("rating@v2", "annual_inspection@v1")
    assert transcoder.decode(transcoder.encode(applied)) == applied
    assert applied.as_dict()["rules"] == ["rating@v2", "annual_inspection@v1"]


# ------------------------------------------------------------ the commands

@pytest.mark.parametrize("scope", SCOPES)
def test_major_event_reporting__notice_days(memory_app, scope):
    """Reported 12 days ahead: late under 15 days' notice, in time under 10."""
    here, there = here_and_there(memory_app)
    change(memory_app, "major_event_reporting", scope, notice_days=10)
    for identifier in (here, there):
        memory_app.execute(identifier, "major_event", meta=meta("2024-03-01"),
                           category="important_activity", planned_date=date(2024, 3, 13),
                           description="公益活动", sent_to=["registration_authority"])
    late = {identifier: memory_app.get_organization(identifier).major_events["ME1"]["late"]
            for identifier in (here, there)}
    assert late == {here: False, there: not changed_there(scope)}
    reported = [e for identifier in (here, there)
                for e in memory_app.organization_history(identifier)
                if type(e).__name__ == "MajorEventReported"]
    assert [e.meta.rules for e in reported] == [("major_event_reporting@v2",)] * 2
    tick(memory_app)  # the event rule warns of the late one only
    assert [w.organization for w in fired(memory_app, EarlyWarning, "major_event_reporting")] \
        == ([] if changed_there(scope) else [there])


@pytest.mark.parametrize("scope", SCOPES)
def test_credit_objection__decision_working_days(memory_app, scope):
    """An objection filed on Monday 4 March 2024 is due 10 working days later (18 March),
    5 under the change (11 March); the clock of 13 March warns of the one past it."""
    here, there = here_and_there(memory_app)
    change(memory_app, "credit_objection", scope, decision_working_days=5)
    for identifier in (here, there):
        memory_app.execute(identifier, "credit_listing", credit_list="abnormal_activity",
                           meta=meta("2024-03-01", reason="未年检"))
        memory_app.execute(identifier, "objection", entry="credit_listing", entry_id="CL1",
                           evidence=None, meta=meta("2024-03-04", actor="org",
                                                    role="organization", reason="有误"))
    due = {identifier: memory_app.get_organization(identifier).objections["OB1"]["due_by"]
           for identifier in (here, there)}
    assert due == {here: date(2024, 3, 11),
                   there: date(2024, 3, 11) if changed_there(scope) else date(2024, 3, 18)}
    tick(memory_app, date(2024, 3, 13))
    assert [w.organization for w in fired(memory_app, EarlyWarning, "credit_objection")] \
        == ([here, there] if changed_there(scope) else [here])


@pytest.mark.parametrize("scope", SCOPES)
def test_rating__valid_years(memory_app, scope):
    here, there = here_and_there(memory_app)
    change(memory_app, "rating", scope, valid_years=3)
    for identifier in (here, there):
        memory_app.execute(identifier, "annual_report", meta=meta("2024-03-01"), year=2023,
                           **REPORT)
        memory_app.execute(identifier, "annual_inspection", meta=meta("2024-06-01"),
                           year=2023, result="qualified", findings="")
        memory_app.execute(identifier, "level_assessment", meta=meta("2024-07-01"), grade="4A")
    until = {i: memory_app.get_organization(i).level["valid_until"] for i in (here, there)}
    assert until == {here: date(2027, 6, 30),
                     there: date(2027 if changed_there(scope) else 2029, 6, 30)}
    [assessed, *_] = [e for e in memory_app.organization_history(here)
                      if type(e).__name__ == "LevelAssessed"]
    assert assessed.meta.rules == ("rating@v2", "annual_inspection@v1")


@pytest.mark.parametrize("scope", SCOPES)
def test_rating__min_registered_years(memory_app, scope):
    here, there = here_and_there(memory_app, on="2023-01-10")
    change(memory_app, "rating", scope, min_registered_years=1)
    outcomes = {}
    for identifier in (here, there):
        memory_app.execute(identifier, "annual_report", meta=meta("2024-03-01"), year=2023,
                           **REPORT)
        memory_app.execute(identifier, "annual_inspection", meta=meta("2024-06-01"),
                           year=2023, result="qualified", findings="")
        try:
            memory_app.execute(identifier, "level_assessment", meta=meta("2024-07-01"),
                               grade="3A")
            outcomes[identifier] = "rated"
        except RuleViolation as refused:
            outcomes[identifier] = refused.rule
    assert outcomes == {here: "rated", there: "rated" if changed_there(scope)
                        else "rating_registered_two_years"}


@pytest.mark.parametrize("scope", SCOPES)
def test_leaders__retired_max_age(memory_app, scope):
    """A retired official of 74: over 70, within 75."""
    here, there = here_and_there(memory_app)
    change(memory_app, "leaders", scope, retired_max_age=75)
    outcomes = {}
    for n, identifier in enumerate((here, there)):
        try:
            memory_app.appoint_leader(
                identifier, person={"name": f"王{n}", "id_number": id_number("19500101", n)},
                roles=["chair"], term_start=date(2024, 3, 1), term_end=date(2028, 2, 28),
                official_status="retired", meta=meta("2024-03-01"))
            outcomes[identifier] = "appointed"
        except RuleViolation as refused:
            outcomes[identifier] = refused.rule
    assert outcomes == {here: "appointed", there: "appointed" if changed_there(scope)
                        else "retired_official_age"}
    person = memory_app.get_person(memory_app.person_id_for(id_number("19500101", 0)))
    assert person.posts[here]["official_status"] == "retired"
    taken = [e for e in memory_app.events.get(person.id) if type(e).__name__ == "PostTaken"]
    assert taken[0].meta.rules == ("leaders@v2",)


@pytest.mark.parametrize("scope", SCOPES)
def test_leaders__sanctioned_years(memory_app, scope):
    """A leader of an organization revoked three years ago: barred for 5, free after 2."""
    here, there = here_and_there(memory_app)
    revoked = register(memory_app, 3, HERE)
    memory_app.appoint_leader(revoked, person={"name": "李", "id_number": id_number(n=7)},
                              roles=["chair"], term_start=date(2020, 6, 1),
                              term_end=date(2024, 5, 31), meta=meta("2020-06-01"))
    memory_app.close_organization(revoked, "revoke", meta=meta("2021-01-10", reason="fraud"))
    change(memory_app, "leaders", scope, sanctioned_years=2)
    outcomes = {}
    for identifier in (there, here):
        try:
            memory_app.appoint_leader(identifier, person={"name": "李",
                                                          "id_number": id_number(n=7)},
                                      roles=["chair"], term_start=date(2024, 3, 1),
                                      term_end=date(2028, 2, 28), meta=meta("2024-03-01"))
            outcomes[identifier] = "appointed"
        except RuleViolation as refused:
            outcomes[identifier] = refused.rule
    assert outcomes == {here: "appointed", there: "appointed" if changed_there(scope)
                        else "led_sanctioned_organization"}


@pytest.mark.parametrize("scope", SCOPES)
def test_double_random_sampling__inspectors_per_check(memory_app, scope):
    here, there = here_and_there(memory_app)
    change(memory_app, "double_random_sampling", scope, inspectors_per_check=3)
    outcomes = {}
    for identifier in (here, there):
        try:
            memory_app.execute(identifier, "inspection", meta=meta("2024-03-01"),
                               items=["财务"], findings="", on_site=True,
                               inspectors=["王", "李"], plan_id=None)
            outcomes[identifier] = "inspected"
        except RuleViolation as refused:
            outcomes[identifier] = refused.rule
    assert outcomes == {here: "two_inspectors_on_site",
                        there: "two_inspectors_on_site" if changed_there(scope)
                        else "inspected"}


@pytest.mark.parametrize("scope", SCOPES)
def test_annual_inspection__exempt_months(memory_app, scope):
    """Registered 1 August 2023: within the last 6 months of the year (exempt, no report
    for 2023), not within the last 4."""
    here, there = here_and_there(memory_app, on="2023-08-01")
    change(memory_app, "annual_inspection", scope, exempt_months=4)
    outcomes = {}
    for identifier in (here, there):
        try:
            memory_app.execute(identifier, "annual_report", meta=meta("2024-03-01"),
                               year=2023, **REPORT)
            outcomes[identifier] = "filed"
        except RuleViolation as refused:
            outcomes[identifier] = refused.rule
    assert outcomes == {here: "filed", there: "filed" if changed_there(scope)
                        else "six_month_exemption"}
    # the clock agrees: a year no longer exempt is due, and without a report, proposed
    tick(memory_app, date(2025, 6, 1))
    years = {(p.organization, p.year) for p in fired(memory_app, Proposal, "annual_inspection")}
    assert (here, 2024) in years


@pytest.mark.parametrize("scope", SCOPES)
def test_annual_inspection__registration_authority_deadline(memory_app, scope):
    """No report for 2023: the unqualified conclusion is proposed the day after the
    deadline, 31 May by default, 30 April once changed."""
    here, there = here_and_there(memory_app)
    change(memory_app, "annual_inspection", scope, registration_authority_deadline="04-30")
    tick(memory_app, date(2024, 5, 1))
    proposed = {p.organization for p in fired(memory_app, Proposal, "annual_inspection")}
    assert proposed == ({here, there} if changed_there(scope) else {here})


@pytest.mark.parametrize("scope", SCOPES)
def test_annual_inspection__supervisory_unit_deadline(memory_app, scope):
    """No report for 2023 from an organization with a supervisory unit: warned the day
    after 31 March by default, after 15 March once changed; one registered directly (no
    supervisory unit) is not."""
    here, there = here_and_there(memory_app, supervisory_unit="区教育局")
    direct = register(memory_app, 3, HERE)
    change(memory_app, "annual_inspection", scope, supervisory_unit_deadline="03-15")
    organizations = (here, there, direct)
    tick(memory_app, date(2024, 3, 16), organizations=organizations)
    warned = fired(memory_app, EarlyWarning, "annual_inspection")
    assert {w.organization for w in warned} == ({here, there} if changed_there(scope)
                                                else {here})
    assert warned[0].title == ("annual report for 2023 not submitted to the supervisory "
                               "unit by 2024-03-15")
    assert warned[0].severity == "low" and warned[0].rule == "rule:annual_inspection@v2"
    tick(memory_app, date(2024, 4, 1), organizations=organizations)  # the default's day after
    warned = fired(memory_app, EarlyWarning, "annual_inspection")
    assert sorted(w.organization for w in warned) == [here, there]
    assert of(warned, there)[0].title.endswith("by 2024-03-15" if changed_there(scope)
                                               else "by 2024-03-31")


# ---------------------------------------------------------- the event rules

@pytest.mark.parametrize("scope", SCOPES)
def test_abnormal_activity_listing__small_fine_limit(memory_app, scope):
    """A fine of 30,000 CNY is small under 50,000 (listed as abnormal), not under 20,000."""
    here, there = here_and_there(memory_app)
    change(memory_app, "abnormal_activity_listing", scope, small_fine_limit=20000)
    for identifier in (here, there):
        fine(memory_app, identifier, "F1", 30000)
    tick(memory_app)
    listed = {p.organization for p in fired(memory_app, Proposal, "abnormal_activity_listing")}
    assert listed == (set() if changed_there(scope) else {there})


def fine(app, identifier: str, decision: str, amount: int, on: str = "2024-03-01") -> None:
    app.close_organization(identifier, "penalty", meta=meta(on), decision_number=decision,
                           kind="fine", legal_basis="条例第30条", amount=Decimal(amount),
                           decision_date=date.fromisoformat(on), suspended_until=None)


def list_and_rectify(app, identifier: str, completed: str = "2024-03-11",
                     notices: tuple[str, ...] = ("N1",)) -> None:
    """On the abnormal-activity list since 1 March 2024; the notices ordered then, the
    first completed (verified) on ``completed``."""
    app.execute(identifier, "credit_listing", meta=meta("2024-03-01", reason="举报核实"),
                credit_list="abnormal_activity")
    for notice in notices:
        app.execute(identifier, "rectification", meta=meta("2024-03-01"),
                    notice_number=notice, issues=["财务"], deadline=date(2024, 6, 1))
    app.execute(identifier, "rectification_completion", meta=meta(completed),
                notice_number=notices[0], note="已整改")


@pytest.mark.parametrize("scope", SCOPES)
def test_abnormal_activity_listing__removal_working_days(memory_app, scope):
    """Rectification verified on Monday 11 March 2024: the delisting is proposed, and the
    removal is overdue after 5 working days (18 March) by default, after 2 (13 March)
    once changed."""
    here, there = here_and_there(memory_app)
    change(memory_app, "abnormal_activity_listing", scope, removal_working_days=2)
    for identifier in (here, there):
        list_and_rectify(memory_app, identifier)
    tick(memory_app, date(2024, 3, 14))
    delistings = [p for p in fired(memory_app, Proposal, "abnormal_activity_listing")
                  if p.kind == "delisting"]
    assert sorted(p.organization for p in delistings) == [here, there]
    assert {p.listing_id for p in delistings} == {"CL1"}
    assert of(delistings, here)[0].reason.endswith("(by 2024-03-13)")
    assert of(delistings, there)[0].reason.endswith(
        "(by 2024-03-13)" if changed_there(scope) else "(by 2024-03-18)")
    overdue = fired(memory_app, EarlyWarning, "abnormal_activity_listing")
    assert {w.organization for w in overdue} == ({here, there} if changed_there(scope)
                                                 else {here})
    assert overdue[0].title == "removal overdue: rectification verified on 2024-03-11"
    assert overdue[0].severity == "low"
    tick(memory_app, date(2024, 3, 19))  # the default's day after
    overdue = fired(memory_app, EarlyWarning, "abnormal_activity_listing")
    assert sorted(w.organization for w in overdue) == [here, there]


def test_a_removal_is_not_proposed_while_another_rectification_is_open_nor_overdue_once_decided(
        memory_app):
    here, there = here_and_there(memory_app)
    list_and_rectify(memory_app, here, notices=("N1", "N2"))
    list_and_rectify(memory_app, there)
    tick(memory_app, date(2024, 3, 12))
    [delisting] = [p for p in fired(memory_app, Proposal, "abnormal_activity_listing")
                   if p.kind == "delisting"]
    assert delisting.organization == there
    memory_app.decide_proposal(delisting.id, confirm=True, meta=meta("2024-03-12"))
    assert memory_app.get_organization(there).active_listings() == []
    tick(memory_app, date(2024, 4, 1))
    assert fired(memory_app, EarlyWarning, "abnormal_activity_listing") == []


def test_an_event_rule_applies_the_rule_as_it_stood_at_each_event(memory_app):
    """Two fines of 30,000 CNY, the small-fine limit lowered between them, evaluated in
    one pass: the first is listed by version 1, the second is not small any more."""
    here = register(memory_app, 1, HERE)
    fine(memory_app, here, "F1", 30000)
    change(memory_app, "abnormal_activity_listing", "everywhere", small_fine_limit=20000)
    fine(memory_app, here, "F2", 30000, on="2024-03-02")
    tick(memory_app)
    [proposal] = fired(memory_app, Proposal, "abnormal_activity_listing")
    assert proposal.rule == "rule:abnormal_activity_listing@v1" and "F1" in proposal.reason


@pytest.mark.parametrize("scope", SCOPES)
def test_serious_dishonesty_listing__large_fine_limit(memory_app, scope):
    here, there = here_and_there(memory_app)
    change(memory_app, "serious_dishonesty_listing", scope, large_fine_limit=20000)
    for identifier in (here, there):
        fine(memory_app, identifier, "F1", 30000)
    tick(memory_app)
    serious = {p.organization for p in fired(memory_app, Proposal, "serious_dishonesty_listing")}
    assert serious == ({here, there} if changed_there(scope) else {here})
    [here_proposal] = of(fired(memory_app, Proposal, "serious_dishonesty_listing"), here)
    assert here_proposal.rule == "rule:serious_dishonesty_listing@v2"


# ---------------------------------------------------------- the clock rules

@pytest.mark.parametrize("scope", SCOPES)
def test_certificate_expiry__expiring_days(memory_app, scope):
    """A certificate with 100 days left: not yet expiring within 90 days, expiring within
    120, for the clock's warning and the case file's state alike."""
    day = date(2024, 3, 1)
    here, there = here_and_there(memory_app,
                                 certificate_valid_until=day + timedelta(days=100))
    change(memory_app, "certificate_expiry", scope, expiring_days=120)
    tick(memory_app, day)
    warned = {w.organization for w in fired(memory_app, EarlyWarning, "certificate_expiry")}
    assert warned == ({here, there} if changed_there(scope) else {here})
    rule = memory_app.rule("certificate_expiry")
    states = {i: with_certificate_state(organization_document(memory_app.get_organization(i)),
                                        day, rule)["certificate"]["state"]
              for i in (here, there)}
    assert states == {here: "expiring", there: "expiring" if changed_there(scope) else "valid"}


@pytest.mark.parametrize("scope", SCOPES)
def test_zombie_candidate__inactive_years(memory_app, scope):
    """Nothing recorded since 1 May 2020: inactive for 1 year on 2 May 2021, not yet 2."""
    here, there = here_and_there(memory_app)
    change(memory_app, "zombie_candidate", scope, inactive_years=1)
    tick(memory_app, date(2021, 5, 2))
    inactive = {w.organization for w in fired(memory_app, EarlyWarning, "zombie_candidate")
                if "nothing recorded" in w.title}
    assert inactive == ({here, there} if changed_there(scope) else {here})


@pytest.mark.parametrize("scope", SCOPES)
def test_warning_escalation__committee_days(memory_app, scope):
    """A warning left alone for 2 days: climbs after 2 days, not yet after 3."""
    here, there = here_and_there(memory_app)
    change(memory_app, "warning_escalation", scope, committee_days=2)
    day = date(2024, 3, 1)
    warnings = [memory_app.raise_warning(organization=identifier, severity="medium",
                                         source="tip_off", title="投诉", description="x",
                                         key=f"w:{identifier}", meta=meta(day.isoformat()))
                for identifier in (here, there)]
    tick(memory_app, day, day + timedelta(days=2), warnings=[w.id for w in warnings])
    levels = {w.organization: memory_app.get_warning(w.id).level for w in warnings}
    assert levels == {here: "sub_district",
                      there: "sub_district" if changed_there(scope) else "committee"}


@pytest.mark.parametrize("scope", SCOPES)
def test_abnormal_activity_listing__annual_report_deadline(memory_app, scope):
    """No report for 2023: proposed for the abnormal-activity list the day after 30 April
    once that is the deadline (the conclusion still waits for 31 May)."""
    here, there = here_and_there(memory_app)
    change(memory_app, "abnormal_activity_listing", scope, annual_report_deadline="04-30")
    tick(memory_app, date(2024, 5, 1))
    listed = {p.organization for p in fired(memory_app, Proposal, "abnormal_activity_listing")}
    assert listed == ({here, there} if changed_there(scope) else {here})
    assert fired(memory_app, Proposal, "annual_inspection") == []


# ------------------------------------------------------- the projections' rule

def test_timeliness__working_days_as_recorded(memory_app):
    """The rule as it stood when something was recorded (a time-travel timeline's late
    entries): the catalog's before it was recorded, each version from its recording on.
    (The case file and the audit trail: tests/integration/test_rule_parameters.py.)"""
    before = datetime.now(timezone.utc)
    change(memory_app, "timeliness", "everywhere", working_days=10)
    change(memory_app, "timeliness", "jurisdiction", working_days=3)
    at = memory_app.rule_as_recorded("timeliness")
    assert at(before - timedelta(days=1)).parameters_for(HERE)["working_days"] == 5
    assert at(datetime.now(timezone.utc)).parameters_for(HERE)["working_days"] == 3
    assert at(datetime.now(timezone.utc)).parameters_for(THERE)["working_days"] == 10


def test_a_projection_that_missed_the_rule_definition_starts_from_the_catalog():
    rule = Rule.define("timeliness", meta("2020-01-01"))
    rule.change(parameters={"working_days": 8}, jurisdiction=None,
                meta=meta("2020-01-02", reason="x"))
    _, changed = rule.collect_events()
    followed = follow_rule("timeliness", None, changed)
    assert followed.parameters_for(HERE) == {**defaults("timeliness"), "working_days": 8}
    assert followed.rule_version == 2
