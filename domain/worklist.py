"""The deadlines of what waits for staff (the work queue, DOMAIN.md section 8), each from
the parameters of the rule that sets it, for the item's jurisdiction.

- a warning not handled at a committee or sub-district is escalated by rule 11
  (``warning_escalation``): its deadline is the day the clock escalates it;
- a proposal (a decision with legal effect, rule 1) is credit information to be recorded
  within the ``timeliness`` rule's working days (rule 12);
- a year's annual report is concluded from the reports the registration authority
  receives by the ``annual_inspection`` rule's ``registration_authority_deadline`` of the
  next year (rule 4);
- a rectification's deadline is its notice's; it comes into the queue the ``timeliness``
  rule's working days before it;
- an objection is decided by the day recorded when it was filed (the ``credit_objection``
  rule's working days); a credit repair application to leave the abnormal-activity list
  within that rule's ``removal_working_days`` (rule 2), one to leave the
  serious-dishonesty list within the ``timeliness`` rule's (domain.credit_remedies);
- an online annual report (issue 16) submitted to a supervisory unit waits for its
  pre-review until the ``annual_inspection`` rule's ``supervisory_unit_deadline``; a
  draft not submitted, or returned with comments, waits for its organization until the
  deadline of its next step (domain.annual_report_review.due).
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.calendar import month_day, working_days_after, working_days_before
from domain.rules import Parameters

KINDS = ("warning", "proposal", "annual_report", "major_event", "rectification",
         "objection", "credit_repair", "annual_report_review", "annual_report_draft")
# who handles each kind: the action of the policy table (domain.access)
HANDLED_BY = {"warning": "handle_warning", "proposal": "decide_proposal",
              "annual_report": "annual_inspection", "major_event": "major_event_review",
              "rectification": "rectification", "objection": "decide_objection",
              "credit_repair": "decide_credit_repair",
              "annual_report_review": "annual_report_review",
              "annual_report_draft": "annual_report_draft"}
# what an organization's own account sees waiting on its case: what it filed, until
# staff decide it (by the action with which it files it)
FILED_BY = {"objection": "file_objection", "credit_repair": "apply_credit_repair"}
# the kinds an organization's own account handles: on its own case file only
OWN_KINDS = ("annual_report_draft",)


def escalation_deadline(*, level: str, level_since: date, status: str,
                        warning_escalation: Parameters) -> date | None:
    """The day the clock escalates an open warning from its level (rule 11); None for one
    acknowledged (handled: it waits for its resolution) or already at the district."""
    if status != "open" or level == "district":
        return None
    days = (warning_escalation["committee_days"] if level == "committee"
            else warning_escalation["sub_district_days"])
    return level_since + timedelta(days=int(days))


def decision_deadline(proposed_on: date, timeliness: Parameters) -> date:
    """A proposal is decided within the ``timeliness`` rule's working days (rule 12)."""
    return working_days_after(proposed_on, int(timeliness["working_days"]))


def conclusion_deadline(year: int, annual_inspection: Parameters) -> date:
    """A year's report is concluded from what the registration authority has by its
    deadline in the next year (rule 4)."""
    return month_day(annual_inspection["registration_authority_deadline"], year + 1)


def rectification_waits(deadline: date, today: date, timeliness: Parameters) -> bool:
    """A rectification not completed is followed up from the ``timeliness`` rule's
    working days before its deadline, and every day after."""
    return today >= working_days_before(deadline, int(timeliness["working_days"]))
