"""Given / when / then on events: the single-organization rules, no database.

``given`` builds the history by running commands and discarding their pending events; the
``when`` is one command; ``then`` is the list of events it triggered, or the error.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import InvalidValue, RuleViolation
from domain.organization import Organization
from domain.person import Person
from domain.rules import defaults
from tests.conftest import meta
from tests.support import COMMITTEE, code, id_number

INSPECTION = defaults("annual_inspection")
RATING = dict(rating=defaults("rating"), annual_inspection=INSPECTION)
REPORT = dict(income=Decimal(100000), expenditure=Decimal(90000), net_assets=Decimal(50000),
              activities_held=12, party_organization=True)


def registered(on: str = "2020-05-01", n: int = 1, org_type: str = "social_association"
               ) -> Organization:
    category = {"social_association": "1", "social_service_institution": "2",
                "foundation": "3"}[org_type]
    return Organization.register(
        code=code(n, category), name="示例协会", org_type=org_type,
        domicile={"address": "示例路1号", "jurisdiction": COMMITTEE}, business_scope="志愿服务",
        registered_funds=Decimal(30000), supervisory_unit=None,
        founded_on=date.fromisoformat(on), certificate_valid_until=date(2030, 4, 30),
        meta=meta(on))


def given(org: Organization, *steps) -> Organization:
    for step in steps:
        step(org)
    org.collect_events()
    return org


def then(org: Organization) -> list[str]:
    return [type(e).__name__ for e in org.collect_events()]


def report(year: int, on: str = "2024-03-01"):
    return lambda org: org.file_annual_report(
        year=year, annual_inspection=defaults("annual_inspection"), meta=meta(on), **REPORT)


def conclude(year: int, result: str, on: str = "2024-06-01"):
    return lambda org: org.conclude_annual_inspection(year=year, result=result, findings="",
                                                      annual_inspection=INSPECTION,
                                                      meta=meta(on))


def appoint(person_id: str, roles: list[str], replaces: str | None = None,
            official_status: str = "none", approval_reference: str | None = None,
            audit: bool = True, on: str = "2021-01-01"):
    return lambda org: org.appoint_leader(
        person_id=person_id, name="张三", id_number_masked="310***********0011", roles=roles,
        term_start=date(2021, 1, 1), term_end=date(2025, 12, 31), public_notice=None,
        official_status=official_status, approval_reference=approval_reference,
        replaces=replaces, departure_audit_done=audit, meta=meta(on))


# -------------------------------------------------------------- registration

def test_registration_records_who_when_and_why():
    org = registered()
    [event] = org.collect_events()
    assert type(event).__name__ == "Registered"
    assert event.meta.actor_id == "staff" and event.meta.actor_role == "registration_staff"
    assert event.meta.effective_date == date(2020, 5, 1)
    assert org.status == "active"


def test_a_code_with_a_wrong_check_character_is_rejected():
    with pytest.raises(InvalidValue, match="check character"):
        Organization.register(
            code="51310110MJ0000001C", name="x", org_type="social_association",
            domicile={"address": "a", "jurisdiction": COMMITTEE}, business_scope="s",
            registered_funds=Decimal(1), supervisory_unit=None, founded_on=date(2020, 1, 1),
            certificate_valid_until=date(2025, 1, 1), meta=meta("2020-01-01"))


def test_the_code_category_must_match_the_type():
    with pytest.raises(InvalidValue, match="does not match type foundation"):
        Organization.register(
            code=code(1, "1"), name="x", org_type="foundation",
            domicile={"address": "a", "jurisdiction": COMMITTEE}, business_scope="s",
            registered_funds=Decimal(1), supervisory_unit=None, founded_on=date(2020, 1, 1),
            certificate_valid_until=date(2025, 1, 1), meta=meta("2020-01-01"))


def test_the_domicile_must_be_a_leaf_of_the_network():
    with pytest.raises(InvalidValue, match="committee"):
        Organization.register(
            code=code(1), name="x", org_type="social_association",
            domicile={"address": "a", "jurisdiction": "310110001000"}, business_scope="s",
            registered_funds=Decimal(1), supervisory_unit=None, founded_on=date(2020, 1, 1),
            certificate_valid_until=date(2025, 1, 1), meta=meta("2020-01-01"))


# ------------------------------------------------------------ closed statuses

@pytest.mark.parametrize("close", [
    lambda org: org.deregister(meta=meta("2023-01-01")),
    lambda org: org.revoke(meta=meta("2023-01-01", reason="fraud")),
    lambda org: org.impose_penalty(decision_number="P1", kind="revocation", legal_basis="art",
                                   amount=None, decision_date=date(2023, 1, 1),
                                   suspended_until=None, meta=meta("2023-01-01")),
])
@pytest.mark.parametrize("filing", [
    report(2022),
    lambda org: org.register_change(changes={"name": "新名称"}, approval_date=date(2024, 1, 1),
                                    meta=meta()),
    lambda org: org.report_major_event(category="other", planned_date=date(2024, 5, 1),
                                       description="d", sent_to=["registration_authority"],
                                       major_event_reporting=defaults("major_event_reporting"),
                                       meta=meta()),
    appoint("p1", ["chair"], on="2024-01-01"),
    lambda org: org.renew_certificate(valid_until=date(2035, 1, 1), meta=meta()),
])
def test_no_filings_for_a_deregistered_or_revoked_organization(close, filing):
    org = given(registered(), close)
    assert org.is_closed
    with pytest.raises(RuleViolation) as refused:
        filing(org)
    assert refused.value.rule == "closed_organization"
    assert then(org) == []


def test_a_banned_community_organization_accepts_no_filings():
    org = Organization.record(record_number="BA310110001001X", code=None, name="广场舞队",
                              domicile={"address": "a", "jurisdiction": COMMITTEE},
                              business_scope="文体", founded_on=date(2021, 1, 1),
                              meta=meta("2021-01-01", role="sub_district_office"))
    given(org, lambda o: o.ban(meta=meta("2022-01-01", reason="illegal fund-raising")))
    assert org.status == "banned"
    with pytest.raises(RuleViolation, match="banned"):
        org.hold_interview(person_name="x", person_role="y", topics=["t"], meta=meta())


def test_a_registered_organization_is_revoked_not_banned():
    with pytest.raises(RuleViolation) as refused:
        registered().ban(meta=meta(reason="x"))
    assert refused.value.rule == "ban_unregistered_only"


# ------------------------------------------------------------ status changes

def test_suspension_changes_the_status_and_its_rescission_restores_it():
    org = given(registered())
    org.impose_penalty(decision_number="P1", kind="suspension", legal_basis="art 30",
                       amount=None, decision_date=date(2024, 3, 1),
                       suspended_until=date(2024, 6, 1), meta=meta())
    assert then(org) == ["PenaltyImposed"] and org.status == "suspended"
    org.rescind_penalty(decision_number="P1", meta=meta("2024-04-01"))
    assert then(org) == ["PenaltyRescinded"] and org.status == "active"


def test_activities_resume_after_a_suspension_only():
    org = given(registered())
    with pytest.raises(RuleViolation, match="not suspended"):
        org.resume_activities(meta=meta())


def test_revocation_changes_the_status():
    org = given(registered())
    org.revoke(meta=meta(reason="registration obtained by fraud"))
    assert then(org) == ["RegistrationRevoked"]
    assert org.status == "revoked" and org.closure["reason"] == "registration obtained by fraud"


# ---------------------------------------------------------- annual inspection

def test_one_annual_report_per_year():
    org = given(registered(), report(2021))
    with pytest.raises(RuleViolation) as refused:
        report(2021)(org)
    assert refused.value.rule == "one_annual_report_per_year"


def test_an_organization_registered_less_than_six_months_before_year_end_skips_that_year():
    org = given(registered("2020-07-01"))
    with pytest.raises(RuleViolation) as refused:
        report(2020)(org)
    assert refused.value.rule == "six_month_exemption"
    with pytest.raises(RuleViolation):
        conclude(2020, "unqualified")(org)
    report(2021)(org)
    assert then(org) == ["AnnualReportFiled"]


def test_registered_on_30_june_is_not_exempt():
    org = given(registered("2020-06-30"))
    report(2020)(org)
    assert then(org) == ["AnnualReportFiled"]


def test_a_report_for_a_year_that_has_not_ended_is_refused():
    org = given(registered())
    with pytest.raises(RuleViolation) as refused:
        report(2024, on="2024-12-30")(org)
    assert refused.value.rule == "year_not_ended"


def test_one_conclusion_per_year():
    org = given(registered(), report(2021), conclude(2021, "qualified"))
    with pytest.raises(RuleViolation) as refused:
        conclude(2021, "unqualified")(org)
    assert refused.value.rule == "one_conclusion_per_year"


def test_without_a_report_the_only_conclusion_is_unqualified():
    org = given(registered())
    with pytest.raises(RuleViolation) as refused:
        conclude(2021, "qualified")(org)
    assert refused.value.rule == "unfiled_report_unqualified"
    conclude(2021, "unqualified")(org)
    assert then(org) == ["AnnualInspectionConcluded"]


def test_a_conclusion_is_corrected_by_a_correction_event_never_edited():
    org = given(registered(), report(2021), conclude(2021, "qualified"))
    org.correct_annual_inspection(year=2021, result="unqualified",
                                  findings="false accounts found", meta=meta("2024-09-01"))
    events = org.collect_events()
    assert [type(e).__name__ for e in events] == ["AnnualInspectionCorrected"]
    assert events[0].previous_result == "qualified"
    assert org.conclusions["2021"]["result"] == "unqualified"
    assert org.conclusions["2021"]["corrections"][0]["previous_result"] == "qualified"


def test_a_correction_needs_a_conclusion():
    with pytest.raises(RuleViolation, match="no annual inspection conclusion"):
        given(registered()).correct_annual_inspection(year=2021, result="qualified",
                                                      findings="x", meta=meta())


# ------------------------------------------------------------------ rating

def test_rating_needs_two_full_years_of_registration():
    org = given(registered("2022-05-01"), report(2022, "2023-03-01"),
                conclude(2022, "qualified", "2023-06-01"))
    with pytest.raises(RuleViolation) as refused:
        org.assess_level(grade="3A", **RATING, meta=meta("2024-03-01"))
    assert refused.value.rule == "rating_registered_two_years"


def test_rating_is_refused_after_a_failed_inspection_and_granted_for_five_years():
    failed = given(registered(), conclude(2023, "unqualified"))
    with pytest.raises(RuleViolation) as refused:
        failed.assess_level(grade="3A", **RATING, meta=meta("2024-07-01"))
    assert refused.value.rule == "rating_last_inspection"
    good = given(registered(), report(2023), conclude(2023, "qualified"))
    good.assess_level(grade="4A", **RATING, meta=meta("2024-07-01"))
    assert then(good) == ["LevelAssessed"]
    assert good.level["valid_until"] == date(2029, 6, 30)


def test_rating_is_refused_while_on_a_credit_list():
    org = given(registered(), report(2023), conclude(2023, "qualified"),
                lambda o: o.list_on_credit_list(credit_list="abnormal_activity",
                                                meta=meta(reason="unreachable")))
    with pytest.raises(RuleViolation) as refused:
        org.assess_level(grade="3A", **RATING, meta=meta("2024-07-01"))
    assert refused.value.rule == "rating_credit_listed"


# --------------------------------------------------------------- leadership

def test_exactly_one_legal_representative():
    org = given(registered(), appoint("p1", ["legal_representative", "chair"]))
    with pytest.raises(RuleViolation) as refused:
        appoint("p2", ["legal_representative"])(org)
    assert refused.value.rule == "one_legal_representative"
    with pytest.raises(RuleViolation) as refused:
        org.record_leader_departure(person_id="p1", departure_reason="retired",
                                    departure_audit_done=True, meta=meta())
    assert refused.value.rule == "one_legal_representative"
    appoint("p2", ["legal_representative"], replaces="p1")(org)
    assert then(org) == ["LeaderDeparted", "LeaderAppointed"]
    assert org.legal_representative() == "p2"
    assert [lr for lr in org.leaders.values() if "legal_representative" in lr["roles"]] == [
        org.leaders["p2"]]


def test_a_departing_legal_representative_needs_the_departure_audit():
    org = given(registered(), appoint("p1", ["legal_representative"]))
    with pytest.raises(RuleViolation) as refused:
        appoint("p2", ["legal_representative"], replaces="p1", audit=False)(org)
    assert refused.value.rule == "departure_audit_required"


def test_a_serving_official_needs_an_approval_reference():
    org = given(registered())
    with pytest.raises(RuleViolation) as refused:
        appoint("p1", ["chair"], official_status="serving")(org)
    assert refused.value.rule == "serving_official_approval"
    appoint("p1", ["chair"], official_status="serving", approval_reference="组干〔2021〕3号")(org)
    assert then(org) == ["LeaderAppointed"]


def person(birth: str = "19700101") -> Person:
    number = id_number(birth)
    return Person(id=__import__("uuid").uuid4(), name="张三", id_number=number,
                  birth_date=date.fromisoformat(f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"),
                  meta=meta("2020-01-01"))


def take(p: Person, org: str = "A", status: str = "none", on: str = "2024-03-01"):
    p.take_post(organization=org, roles=["chair"], official_status=status,
                leaders=defaults("leaders"), meta=meta(on))


def test_a_banned_person_cannot_be_appointed_until_the_ban_ends():
    p = person()
    p.record_occupational_ban(banned_from=date(2023, 1, 1), banned_until=date(2025, 12, 31),
                              meta=meta(reason="court judgment", reference="(2022)沪01刑初1号"))
    p.collect_events()
    with pytest.raises(RuleViolation) as refused:
        take(p, on="2024-03-01")
    assert refused.value.rule == "occupational_ban"
    take(p, on="2026-01-01")
    assert [type(e).__name__ for e in p.collect_events()] == ["PostTaken"]


def test_a_leader_of_a_revoked_organization_is_ineligible_for_five_years():
    p = person()
    p.record_sanctioned_organization(organization="A", status="revoked",
                                     meta=meta("2021-05-01"))
    with pytest.raises(RuleViolation) as refused:
        take(p, "B", on="2026-04-30")
    assert refused.value.rule == "led_sanctioned_organization"
    take(p, "B", on="2026-05-01")


def test_a_retired_official_holds_one_post_up_to_age_seventy_and_two_terms():
    p = person("19600101")
    take(p, "A", "retired")
    with pytest.raises(RuleViolation) as refused:
        take(p, "B", "retired")
    assert refused.value.rule == "retired_official_one_post"
    p.begin_new_term(organization="A", leaders=defaults("leaders"), meta=meta("2025-01-01"))
    with pytest.raises(RuleViolation) as refused:
        p.begin_new_term(organization="A", leaders=defaults("leaders"),
                         meta=meta("2028-01-01"))
    assert refused.value.rule == "retired_official_two_terms"
    old = person("19500101")
    with pytest.raises(RuleViolation) as refused:
        take(old, "A", "retired")
    assert refused.value.rule == "retired_official_age"


# ------------------------------------------------------------- supervision

def test_a_major_event_reported_too_late_is_marked_late():
    org = given(registered())
    org.report_major_event(category="leader_change", planned_date=date(2024, 4, 1),
                           description="换届", sent_to=["registration_authority"],
                           major_event_reporting=defaults("major_event_reporting"),
                           meta=meta("2024-03-01"))
    org.report_major_event(category="important_activity", planned_date=date(2024, 4, 1),
                           description="公益活动", sent_to=["supervisory_unit"],
                           major_event_reporting=defaults("major_event_reporting"),
                           meta=meta("2024-03-01"))
    assert [e["late"] for e in org.major_events.values()] == [True, False]


def test_an_on_site_check_needs_two_inspectors():
    org = given(registered())
    with pytest.raises(RuleViolation) as refused:
        org.conduct_inspection(items=["accounts"], findings="", on_site=True,
                               inspectors=["王"], plan_id=None,
                               double_random_sampling=defaults("double_random_sampling"),
                               meta=meta())
    assert refused.value.rule == "two_inspectors_on_site"


def test_rectification_is_ordered_followed_up_completed_and_cannot_complete_twice():
    org = given(registered())
    org.order_rectification(notice_number="杨民社整〔2024〕1号", issues=["accounts"],
                            deadline=date(2024, 4, 1), meta=meta())
    org.follow_up_rectification(notice_number="杨民社整〔2024〕1号", note="in progress",
                                meta=meta("2024-03-15"))
    org.complete_rectification(notice_number="杨民社整〔2024〕1号", note="done",
                               meta=meta("2024-03-30"))
    assert then(org) == ["RectificationOrdered", "RectificationFollowedUp",
                         "RectificationCompleted"]
    with pytest.raises(RuleViolation):
        org.complete_rectification(notice_number="杨民社整〔2024〕1号", note="again",
                                   meta=meta("2024-03-31"))


def test_overdue_is_recorded_only_after_the_deadline():
    org = given(registered(), lambda o: o.order_rectification(
        notice_number="N1", issues=["x"], deadline=date(2024, 4, 1), meta=meta()))
    with pytest.raises(RuleViolation) as refused:
        org.mark_rectification_overdue(notice_number="N1", meta=meta("2024-04-01"))
    assert refused.value.rule == "deadline_not_passed"
    org.mark_rectification_overdue(notice_number="N1", meta=meta("2024-04-02"))
    assert then(org) == ["RectificationOverdue"]


def test_a_fine_needs_a_positive_amount_and_a_warning_none():
    org = given(registered())
    with pytest.raises(InvalidValue, match="positive amount"):
        org.impose_penalty(decision_number="P1", kind="fine", legal_basis="x", amount=None,
                           decision_date=date(2024, 3, 1), suspended_until=None, meta=meta())
    with pytest.raises(InvalidValue, match="no amount"):
        org.impose_penalty(decision_number="P1", kind="warning", legal_basis="x",
                           amount=Decimal(5), decision_date=date(2024, 3, 1),
                           suspended_until=None, meta=meta())


def test_listing_and_removal():
    org = given(registered())
    listing = org.list_on_credit_list(credit_list="abnormal_activity",
                                      meta=meta(reason="annual report not filed"))
    with pytest.raises(RuleViolation) as refused:
        org.list_on_credit_list(credit_list="abnormal_activity", meta=meta(reason="again"))
    assert refused.value.rule == "already_listed"
    org.remove_from_credit_list(listing_id=listing, meta=meta("2024-05-01", reason="rectified"))
    assert then(org) == ["CreditListed", "CreditListingRemoved"]
    assert org.active_listings() == []


def test_history_replays_to_the_same_state():
    """Every event method only applies state, so a replay reproduces the aggregate."""
    org = registered()
    report(2021)(org)
    conclude(2021, "basically_qualified")(org)
    appoint("p1", ["legal_representative"])(org)
    replayed = None
    for e in org.collect_events():
        replayed = e.mutate(replayed)
    assert replayed.version == org.version == 4
    assert replayed.conclusions == org.conclusions
    assert replayed.leaders == org.leaders
