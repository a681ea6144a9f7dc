"""The work queue's deadlines (domain.worklist), each from its rule's parameters: the
escalation deadline is the day the clock escalates (rule 11), a proposal is decided
within the timeliness rule's working days (rule 12), a year's report concluded by the
registration authority's deadline of the next year (rule 4), a rectification waits from
the timeliness rule's working days before its deadline."""

from __future__ import annotations

from datetime import date

from domain.rules import defaults
from domain.worklist import (conclusion_deadline, decision_deadline, escalation_deadline,
                             rectification_waits)

ESCALATION = defaults("warning_escalation")  # committee 3 days, sub-district 7


def test_an_open_warning_is_due_when_the_clock_would_escalate_it():
    since = date(2024, 3, 1)
    assert escalation_deadline(level="committee", level_since=since, status="open",
                               warning_escalation=ESCALATION) == date(2024, 3, 4)
    assert escalation_deadline(level="sub_district", level_since=since, status="open",
                               warning_escalation=ESCALATION) == date(2024, 3, 8)
    changed = {**ESCALATION, "committee_days": 10}
    assert escalation_deadline(level="committee", level_since=since, status="open",
                               warning_escalation=changed) == date(2024, 3, 11)
    # handled (it waits for its resolution) or at the top: the clock escalates it no more
    for level, status in (("committee", "acknowledged"), ("district", "open")):
        assert escalation_deadline(level=level, level_since=since, status=status,
                                   warning_escalation=ESCALATION) is None


def test_a_proposal_is_decided_within_the_timeliness_rules_working_days():
    # Friday 2024-09-27, then the National Day holidays (1-7 October) and the make-up
    # working days 29 September and 12 October (调休)
    assert decision_deadline(date(2024, 9, 27), {"working_days": 5}) == date(2024, 10, 10)
    assert decision_deadline(date(2024, 3, 4), {"working_days": 1}) == date(2024, 3, 5)


def test_a_years_report_is_concluded_by_the_deadline_of_the_next_year():
    inspection = defaults("annual_inspection")
    assert conclusion_deadline(2023, inspection) == date(2024, 5, 31)
    assert conclusion_deadline(2023, {**inspection, "registration_authority_deadline":
                                      "06-30"}) == date(2024, 6, 30)


def test_a_rectification_waits_from_a_few_working_days_before_its_deadline():
    timeliness = {"working_days": 5}
    deadline = date(2024, 3, 15)  # a Friday: it is five working days after Sunday the 10th
    assert not rectification_waits(deadline, date(2024, 3, 8), timeliness)
    assert rectification_waits(deadline, date(2024, 3, 10), timeliness)
    assert rectification_waits(deadline, date(2024, 3, 11), timeliness)
    assert rectification_waits(deadline, date(2024, 4, 1), timeliness)  # and after it
