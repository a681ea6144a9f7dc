"""Working days by the State Council's holiday schedule (issue 17 item 1), for every rule
that counts them: the National Day week of 2024 (1-7 October off, Sunday 29 September a
make-up working day) and a make-up Saturday (12 October 2024). No database: the calendar
itself, rule 12's late entries as the read models judge them, and rule 2's removal
deadline in the rules engine on the in-memory store (tests/integration/test_working_days.py
runs both on PostgreSQL).

Monday to Friday would count 5 working days after Friday 27 September 2024 to end on
Friday 4 October, in the middle of the holiday; the schedule makes it Thursday 10
October. After Friday 11 October, Monday to Friday ends on the 18th; the make-up Saturday
makes it the 17th."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime, timedelta

import pytest

from domain.calendar import (CHINA, OFFICIAL, is_working_day, schedule_status,
                             working_days_after, working_days_before, working_days_between)
from domain.network import EarlyWarning, Proposal
from domain.organization import Organization
from projections.casefile import recorded_late, timeline_entry
from tests.conftest import meta
from tests.unit.test_rule_parameters import HERE, fired, register, tick

NATIONAL_DAY = [date(2024, 10, d) for d in range(1, 8)]
MAKE_UP_SUNDAY, MAKE_UP_SATURDAY = date(2024, 9, 29), date(2024, 10, 12)
TIMELINESS = {"working_days": 5}


def test_the_national_day_week_is_not_worked_and_the_make_up_days_are():
    assert not any(is_working_day(d) for d in NATIONAL_DAY)
    assert NATIONAL_DAY[0].weekday() == 1  # a Tuesday: Monday to Friday would work it
    assert MAKE_UP_SUNDAY.weekday() == 6 and is_working_day(MAKE_UP_SUNDAY)
    assert MAKE_UP_SATURDAY.weekday() == 5 and is_working_day(MAKE_UP_SATURDAY)
    assert not is_working_day(date(2024, 10, 13))  # the Sunday after: a weekend day
    assert is_working_day(date(2024, 10, 8))


def test_counting_across_the_national_day_week_and_a_make_up_saturday():
    assert working_days_after(date(2024, 9, 27), 5) == date(2024, 10, 10)
    assert working_days_after(date(2024, 10, 11), 5) == date(2024, 10, 17)
    assert working_days_between(date(2024, 9, 27), date(2024, 10, 10)) == 5
    assert working_days_between(date(2024, 10, 11), date(2024, 10, 17)) == 5
    assert working_days_before(date(2024, 10, 10), 5) == date(2024, 9, 28)
    assert working_days_between(working_days_before(date(2024, 10, 17), 5),
                                date(2024, 10, 17)) == 5


def test_a_year_the_schedule_does_not_know_is_counted_monday_to_friday_and_says_so(caplog):
    """The schedule as if 2024's notice were not out yet: its National Day week is counted
    Monday to Friday, with one warning in the log, and the rules' status names the year."""
    before_2024 = dataclasses.replace(OFFICIAL, source="schedule up to 2023",
                                      last_year=2023)
    with caplog.at_level(logging.WARNING, logger="domain.calendar"):
        assert working_days_after(date(2024, 9, 27), 5, before_2024) == date(2024, 10, 4)
        assert is_working_day(date(2024, 10, 1), before_2024)
        assert not is_working_day(MAKE_UP_SATURDAY, before_2024)
    warnings = [r.getMessage() for r in caplog.records if r.name == "domain.calendar"]
    assert warnings == ["working days of 2024 are counted Monday to Friday: the holiday "
                        "schedule (schedule up to 2023) covers 2004-2023 only; update it "
                        "when the State Council's notice for 2024 is out"]
    assert schedule_status(date(2023, 12, 27), 5, before_2024)["fallback_years"] == [2024]
    assert schedule_status(date(2023, 12, 1), 5, before_2024)["fallback_years"] == []
    assert schedule_status(date(2023, 12, 1), 5)["fallback_years"] == []


def test_the_rules_status_names_the_years_a_count_from_today_can_reach(memory_app):
    """The rules' longest working-day period (5 by default; an override counts too)
    decides how far ahead a count from today reaches."""
    last = OFFICIAL.last_year
    status = memory_app.working_days(date(last, 12, 30))
    assert status["fallback_years"] == [last + 1]
    assert f"Working days in {last + 1} are counted Monday to Friday" in status["warning"]
    assert memory_app.working_days(date(last, 12, 1)) == {
        "source": OFFICIAL.source, "first_year": 2004, "last_year": last,
        "fallback_years": [], "warning": None}
    memory_app.change_rule("timeliness", parameters={"working_days": 30},
                           jurisdiction="310110001000",
                           meta=meta("2020-01-01", actor="rules-admin", reason="pilot"))
    assert memory_app.working_days(date(last, 12, 1))["fallback_years"] == [last + 1]


# ------------------------------------------------- rule 12: timeliness of credit information

def recorded_at(monkeypatch, app, identifier: str, decided: date, recorded: date) -> object:
    """A warning penalty decided on ``decided``, recorded at 10:00 China time on
    ``recorded`` (the library's clock set to it)."""
    moment = datetime(recorded.year, recorded.month, recorded.day, 10, tzinfo=CHINA)
    monkeypatch.setattr("eventsourcing.domain.datetime_now_with_tzinfo", lambda: moment)
    number = f"P-{decided}-{recorded}"
    app.close_organization(identifier, "penalty", meta=meta(decided.isoformat()),
                           decision_number=number, kind="warning", legal_basis="第三十条",
                           amount=None, decision_date=decided, suspended_until=None)
    monkeypatch.undo()
    [event] = [e for e in app.organization_history(identifier)
               if isinstance(e, Organization.PenaltyImposed) and e.decision_number == number]
    assert event.timestamp == moment
    return event


@pytest.mark.parametrize("decided, recorded, late", [
    # 27 September to 10 October: 5 working days (29 Sep, 30 Sep, 8, 9, 10 Oct), not 9
    (date(2024, 9, 27), date(2024, 10, 10), False),
    (date(2024, 9, 27), date(2024, 10, 11), True),
    # recorded the day after the holiday: 3 working days (Monday to Friday: 7)
    (date(2024, 9, 27), date(2024, 10, 8), False),
    # 11 to 18 October: 6 working days with the make-up Saturday, 5 without
    (date(2024, 10, 11), date(2024, 10, 17), False),
    (date(2024, 10, 11), date(2024, 10, 18), True),
])
def test_timeliness__national_day_and_make_up_saturday(memory_app, monkeypatch, decided,
                                                      recorded, late):
    identifier = register(memory_app, 1, HERE)
    event = recorded_at(monkeypatch, memory_app, identifier, decided, recorded)
    assert recorded_late(event, TIMELINESS) is late
    assert timeline_entry(event, timeliness=TIMELINESS)["late"] is late


# ----------------------------------- rule 2: removal within 5 working days of a rectification

def rectified(app, identifier: str, completed: date) -> None:
    app.execute(identifier, "credit_listing", meta=meta("2024-08-01", reason="举报核实"),
                credit_list="abnormal_activity")
    app.execute(identifier, "rectification", meta=meta("2024-08-01"), notice_number="R1",
                issues=["财务"], deadline=date(2024, 12, 1))
    app.execute(identifier, "rectification_completion", meta=meta(completed.isoformat()),
                notice_number="R1", note="已整改")


@pytest.mark.parametrize("completed, due", [
    (date(2024, 9, 27), date(2024, 10, 10)),   # across the National Day week
    (date(2024, 10, 11), date(2024, 10, 17)),  # the make-up Saturday counts
])
def test_abnormal_activity_listing__removal_across_holidays(memory_app, completed, due):
    """The delisting proposed on the verified rectification names its due date by the
    schedule, and the removal is overdue (a warning) only the day after it."""
    identifier = register(memory_app, 1, HERE)
    rectified(memory_app, identifier, completed)
    tick(memory_app, completed, organizations=(identifier,))
    [delisting] = [p for p in fired(memory_app, Proposal, "abnormal_activity_listing")
                   if p.kind == "delisting"]
    assert delisting.reason.endswith(f"(by {due})")
    tick(memory_app, *[completed + timedelta(days=n) for n in
                       range(1, (due - completed).days + 1)], organizations=(identifier,))
    assert fired(memory_app, EarlyWarning, "abnormal_activity_listing") == []
    tick(memory_app, due + timedelta(days=1), organizations=(identifier,))
    [overdue] = fired(memory_app, EarlyWarning, "abnormal_activity_listing")
    assert overdue.title == f"removal overdue: rectification verified on {completed}"
    assert overdue.raised_on == due + timedelta(days=1)
