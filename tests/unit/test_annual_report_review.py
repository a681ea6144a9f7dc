"""Given / when / then on events: the online annual report and its pre-review (issue 16),
no database: drafted, saved, submitted; returned with comments, corrected, resubmitted;
approved and so filed (``AnnualReportFiled``); a directly registered organization's
submission filed at once; every step out of order refused by a rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.annual_report_review import filing_deadline, submission_deadline
from domain.errors import InvalidValue, RuleViolation
from domain.organization import Organization
from domain.rules import defaults
from tests.conftest import meta
from tests.support import COMMITTEE, code

INSPECTION = defaults("annual_inspection")
FIGURES = dict(income=Decimal(100000), expenditure=Decimal(90000), net_assets=Decimal(50000),
               activities_held=12, party_organization=True)
UNIT = "杨浦区民政局"


def registered(unit: str | None = UNIT) -> Organization:
    org = Organization.register(
        code=code(1), name="示例协会", org_type="social_association",
        domicile={"address": "示例路1号", "jurisdiction": COMMITTEE}, business_scope="志愿服务",
        registered_funds=Decimal(30000), supervisory_unit=unit, founded_on=date(2020, 5, 1),
        certificate_valid_until=date(2030, 4, 30), meta=meta("2020-05-01"))
    org.collect_events()
    return org


def save(org, year=2023, on="2024-02-01", **changed):
    org.save_annual_report_draft(year=year, annual_inspection=INSPECTION, meta=meta(on),
                                 **{**FIGURES, **changed})


def submit(org, year=2023, on="2024-02-10"):
    org.submit_annual_report(year=year, annual_inspection=INSPECTION, meta=meta(on))


def then(org) -> list[str]:
    return [type(e).__name__ for e in org.collect_events()]


def test_returned_corrected_resubmitted_approved_and_filed():
    org = registered()
    save(org)
    save(org, income=Decimal(120000))  # saving again replaces the draft
    assert then(org) == ["AnnualReportDraftSaved", "AnnualReportDraftSaved"]
    assert org.annual_report_stage(2023) == "draft"
    submit(org)
    assert then(org) == ["AnnualReportSubmitted"]
    assert org.annual_report_stage(2023) == "submitted"
    org.return_annual_report(year=2023, comments="净资产有误", meta=meta("2024-02-20"))
    assert then(org) == ["AnnualReportReturned"]
    assert org.annual_report_stage(2023) == "returned"
    assert org.annual_report_reviews["2023"]["returned"][0]["comments"] == "净资产有误"
    save(org, net_assets=Decimal(60000), on="2024-02-25")
    assert org.annual_report_stage(2023) == "returned"  # corrected, not yet resubmitted
    submit(org, on="2024-02-26")
    org.approve_annual_report(year=2023, meta=meta("2024-03-05"))
    assert then(org) == ["AnnualReportDraftSaved", "AnnualReportSubmitted",
                         "AnnualReportApproved", "AnnualReportFiled"]
    filed = org.annual_reports["2023"]
    assert (filed["income"], filed["net_assets"], filed["filed_on"]) == (
        Decimal(100000), Decimal(60000), date(2024, 3, 5))  # as last saved
    assert org.annual_report_stage(2023) == "approved"
    assert [s["step"] for s in org.annual_report_reviews["2023"]["history"]] == [
        "saved", "saved", "submitted", "returned", "saved", "submitted", "approved"]
    org.conclude_annual_inspection(year=2023, result="qualified", findings="",
                                   annual_inspection=INSPECTION, meta=meta("2024-04-01"))
    assert org.annual_report_stage(2023) == "concluded"


def test_without_a_supervisory_unit_the_submission_is_filed():
    org = registered(unit=None)
    save(org)
    submit(org)
    assert then(org) == ["AnnualReportDraftSaved", "AnnualReportSubmitted",
                         "AnnualReportFiled"]
    assert org.annual_report_stage(2023) == "filed"
    with pytest.raises(RuleViolation) as refused:
        org.approve_annual_report(year=2023, meta=meta("2024-03-01"))
    assert refused.value.rule == "not_submitted"


@pytest.mark.parametrize("steps, when, rule", [
    ((), lambda org: submit(org), "no_draft"),
    ((), lambda org: org.approve_annual_report(year=2023, meta=meta("2024-03-01")),
     "not_submitted"),
    ((save,), lambda org: org.return_annual_report(year=2023, comments="x",
                                                   meta=meta("2024-03-01")),
     "not_submitted"),
    ((save, submit), lambda org: submit(org), "already_submitted"),
    ((save, submit), lambda org: save(org), "report_under_review"),
    ((save, submit, lambda org: org.approve_annual_report(year=2023,
                                                          meta=meta("2024-03-01"))),
     lambda org: org.approve_annual_report(year=2023, meta=meta("2024-03-02")),
     "not_submitted"),
    ((save, submit, lambda org: org.approve_annual_report(year=2023,
                                                          meta=meta("2024-03-01"))),
     lambda org: save(org), "one_annual_report_per_year"),
    ((), lambda org: save(org, year=2024, on="2024-06-01"), "year_not_ended"),
])
def test_out_of_order_is_refused_and_records_nothing(steps, when, rule):
    org = registered()
    for step in steps:
        step(org)
    org.collect_events()
    with pytest.raises(RuleViolation) as refused:
        when(org)
    assert refused.value.rule == rule
    assert then(org) == []


def test_a_return_needs_comments():
    org = registered()
    save(org)
    submit(org)
    org.collect_events()
    with pytest.raises(InvalidValue) as refused:
        org.return_annual_report(year=2023, comments="  ", meta=meta("2024-03-01"))
    assert refused.value.field == "comments"


def test_deadlines_are_the_rule_parameters():
    assert submission_deadline(2023, INSPECTION) == date(2024, 3, 31)
    assert filing_deadline(2023, INSPECTION) == date(2024, 5, 31)
    assert submission_deadline(2023, {**INSPECTION, "supervisory_unit_deadline": "04-15"}) \
        == date(2024, 4, 15)


def test_submitted_to_a_unit_the_organization_no_longer_has_goes_straight_on():
    org = registered()
    save(org)
    submit(org)
    org.register_change(changes={"supervisory_unit": None}, approval_date=date(2024, 2, 15),
                        meta=meta("2024-02-15"))
    org.collect_events()
    submit(org, on="2024-02-16")
    assert then(org) == ["AnnualReportSubmitted", "AnnualReportFiled"]
    assert org.annual_report_stage(2023) == "filed"


def test_filed_by_staff_meanwhile_the_review_is_over():
    org = registered()
    save(org)
    submit(org)
    org.file_annual_report(year=2023, annual_inspection=INSPECTION, meta=meta("2024-02-20"),
                           **FIGURES)
    org.collect_events()
    assert org.annual_report_stage(2023) == "filed"
    for when in (lambda: org.approve_annual_report(year=2023, meta=meta("2024-03-01")),
                 lambda: org.return_annual_report(year=2023, comments="x",
                                                  meta=meta("2024-03-01")),
                 lambda: submit(org), lambda: save(org)):
        with pytest.raises(RuleViolation) as refused:
            when()
        assert refused.value.rule == "one_annual_report_per_year"
    assert then(org) == []
