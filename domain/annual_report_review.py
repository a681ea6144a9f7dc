"""The online annual report (网上年检, DOMAIN.md section 8) before it is filed: the
organization drafts and saves its report for a year, then submits it; an organization
with a supervisory unit has it pre-reviewed (初审) there, approved or returned with
comments (the organization corrects the draft and resubmits); once approved, or at
submission for an organization without a supervisory unit (directly registered), the
report reaches the registration authority as a filed report (``AnnualReportFiled``).

The Organization aggregate records the events (``AnnualReportDraftSaved``,
``AnnualReportSubmitted``, ``AnnualReportReturned``, ``AnnualReportApproved``); this
module holds what they decide with: the states a year's report passes through, the
checks that refuse a step out of order, and the deadlines of the ``annual_inspection``
rule (rule 4: due to the supervisory unit by its ``supervisory_unit_deadline``, to the
registration authority by its ``registration_authority_deadline``, of the next year).
"""

from __future__ import annotations

from datetime import date

from domain.calendar import month_day
from domain.errors import InvalidValue, RuleViolation
from domain.rules import Parameters

# The review's own states (a year's entry in ``Organization.annual_report_reviews``):
# ``filed`` is a directly registered organization's report, filed at its submission.
REVIEW_STATES = ("draft", "submitted", "returned", "approved", "filed")
# Where a year's report stands, as the case file and the organization's pages show it:
# the review's state until it is filed; ``approved`` (filed after the pre-review) or
# ``filed`` (filed directly, or by staff); ``concluded`` once the inspection is.
STAGES = ("draft", "submitted", "returned", "approved", "filed", "concluded")
REPORT_FIELDS = ("income", "expenditure", "net_assets", "activities_held",
                 "party_organization", "full_time_staff")


def check_full_time_staff(full_time_staff: int | None) -> None:
    if full_time_staff is not None and (
            isinstance(full_time_staff, bool) or not isinstance(full_time_staff, int)
            or full_time_staff < 0):
        raise InvalidValue("full_time_staff must be a whole number, 0 or more",
                           field="full_time_staff")


def submission_deadline(year: int, annual_inspection: Parameters) -> date:
    """A year's report is due to the supervisory unit by this day of the next year."""
    return month_day(annual_inspection["supervisory_unit_deadline"], year + 1)


def filing_deadline(year: int, annual_inspection: Parameters) -> date:
    """A year's report is due to the registration authority by this day of the next year
    (a directly registered organization's submission, a supervisory unit's approval)."""
    return month_day(annual_inspection["registration_authority_deadline"], year + 1)


def due(year: int, supervisory_unit: str | None, annual_inspection: Parameters) -> date:
    """The deadline of the next step of a report not yet filed: its submission to the
    supervisory unit, or, for an organization without one, to the registration authority."""
    return (submission_deadline(year, annual_inspection) if supervisory_unit
            else filing_deadline(year, annual_inspection))


def check_editable(review: dict | None, year: int) -> None:
    """A draft is saved (replacing the one saved before) while it is not with the
    supervisory unit: new, saved, or returned with comments."""
    if review is None or review["state"] in ("draft", "returned"):
        return
    if review["state"] == "submitted":
        raise RuleViolation(f"the annual report for {year} was submitted and awaits the "
                            "supervisory unit's pre-review: it can be edited only once "
                            "returned", rule="report_under_review", field="year")
    raise RuleViolation(f"the annual report for {year} was already filed",
                        rule="one_annual_report_per_year", field="year")


def check_submittable(review: dict | None, year: int, supervisory_unit: str | None) -> None:
    """Only a saved draft (or a returned one, corrected) is submitted, and only once
    until it is returned; but a report submitted to a supervisory unit that the
    organization no longer has (a change registration removed it) is submitted again,
    straight to the registration authority, rather than wait for a review nobody owes."""
    if review is None:
        raise RuleViolation(f"there is no draft of the annual report for {year} to submit: "
                            "save one first", rule="no_draft", field="year")
    if review["state"] == "submitted" and supervisory_unit:
        raise RuleViolation(f"the annual report for {year} was already submitted and awaits "
                            "the supervisory unit's pre-review", rule="already_submitted",
                            field="year")
    if review["state"] in ("approved", "filed"):
        raise RuleViolation(f"the annual report for {year} was already filed",
                            rule="one_annual_report_per_year", field="year")


def check_reviewable(review: dict | None, year: int) -> None:
    """The supervisory unit approves or returns a report it has been submitted, once."""
    if review is None or review["state"] != "submitted":
        state = "not drafted" if review is None else {
            "draft": "a draft not submitted", "returned": "returned, not resubmitted",
            "approved": "already approved", "filed": "already filed"}[review["state"]]
        raise RuleViolation(f"the annual report for {year} is {state}: only a submitted "
                            "report awaits the pre-review", rule="not_submitted",
                            field="year")


def stage(review: dict | None, filed: bool, concluded: bool) -> str | None:
    """Where a year's report stands (``STAGES``); None: nothing recorded for the year."""
    if concluded and (filed or review is not None):
        return "concluded"
    if filed:
        return "approved" if review is not None and review["state"] == "approved" \
            else "filed"
    return review["state"] if review is not None else None


def new_review(year: int) -> dict:
    return {"year": year, "state": "draft", "report": {}, "saved_on": None,
            "submitted_on": None, "supervisory_unit": None, "returned": [],
            "approved_on": None, "history": []}


def step(review: dict, what: str, on: date, actor: str, role: str,
         comments: str | None = None) -> None:
    """One step in the year's history (who, when, what, the comments of a return)."""
    entry = {"step": what, "on": on, "actor": actor, "role": role}
    if comments is not None:
        entry["comments"] = comments
    review["history"].append(entry)
