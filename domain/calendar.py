"""Dates as the bureaus count them: China Standard Time, working days by the State
Council's holiday schedule, and month and year arithmetic. The one place for "today in
China"; a domain decision never calls ``today_in_china`` itself (who and when are inputs:
the meta's effective date), the adapters and the clock pass it in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib.metadata import version as _version

from chinese_calendar import constants as _official

log = logging.getLogger(__name__)

CHINA = timezone(timedelta(hours=8), "CST")


def today_in_china(now: datetime | None = None) -> date:
    """The calendar date in China Standard Time (UTC+8) now, or at ``now``."""
    return (now or datetime.now(timezone.utc)).astimezone(CHINA).date()


def date_in_china(moment: datetime) -> date:
    """The date a recorded moment (aware) falls on in China."""
    return moment.astimezone(CHINA).date()


def add_years(d: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def months_later(d: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day where it has none."""
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)


# ------------------------------------------------------------------ working days
#
# Working days follow the State Council's holiday schedule (国务院办公厅关于部分节假日安排的
# 通知), published each year late in the year before: the days off of the Spring Festival,
# National Day and the other holidays, and the weekend days that are working days in
# exchange (调休). The schedule is data, and it comes from the ``chinese-calendar`` package,
# which ships every year's notice as two tables (days off, make-up working days) and
# nothing else: no I/O, no clock, no settings. It is the one library the domain imports
# besides eventsourcing (tests/unit/test_architecture.py says why): a working-day count
# decides what the read models show (rule 12's late entries) and what the rules record
# (the removal deadline of rule 2), so every process (web, worker, rebuild, unit test)
# must count with the same schedule, which a port plugged in at start-up would not
# guarantee. A year the package does not know yet (before 2004, or not yet published
# when the package was released) is counted Monday to Friday, with a warning in the log
# (once per year and process) and on the rules (``schedule_status``): the package is
# updated with ``pip install -U chinese-calendar`` when the new notice is out.


@dataclass(frozen=True)
class HolidaySchedule:
    """A holiday schedule as data: the weekdays off and the make-up working days (调休) of
    the years from ``first_year`` to ``last_year``; outside them, Monday to Friday."""

    source: str
    first_year: int
    last_year: int
    days_off: frozenset[date]
    make_up_days: frozenset[date]

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def is_working_day(self, d: date) -> bool:
        if not self.covers(d.year):
            _fallen_back(self, d.year)
            return d.weekday() < 5
        if d in self.make_up_days:
            return True
        return d.weekday() < 5 and d not in self.days_off


def official_schedule() -> HolidaySchedule:
    """The State Council's schedule as the installed ``chinese-calendar`` knows it."""
    years = {d.year for d in _official.holidays}
    return HolidaySchedule(
        source=f"chinese-calendar {_version('chinese-calendar')}",
        first_year=min(years), last_year=max(years),
        days_off=frozenset(_official.holidays), make_up_days=frozenset(_official.workdays))


OFFICIAL = official_schedule()
_warned: set[tuple[str, int]] = set()


def _fallen_back(schedule: HolidaySchedule, year: int) -> None:
    if (schedule.source, year) not in _warned:
        _warned.add((schedule.source, year))
        log.warning("working days of %s are counted Monday to Friday: the holiday schedule "
                    "(%s) covers %s-%s only; update it when the State Council's notice "
                    "for %s is out", year, schedule.source, schedule.first_year,
                    schedule.last_year, year)


def is_working_day(d: date, schedule: HolidaySchedule = OFFICIAL) -> bool:
    """A working day by the holiday schedule: Monday to Friday except the days off, and
    the make-up working days (调休) on a weekend."""
    return schedule.is_working_day(d)


def working_days_after(d: date, days: int, schedule: HolidaySchedule = OFFICIAL) -> date:
    """The date ``days`` working days after ``d``."""
    while days > 0:
        d += timedelta(days=1)
        if schedule.is_working_day(d):
            days -= 1
    return d


def working_days_before(d: date, days: int, schedule: HolidaySchedule = OFFICIAL) -> date:
    """The date ``days`` working days before ``d`` (the day from which ``d`` is
    ``days`` working days later: ``working_days_between(result, d) == days``)."""
    while days > 0:
        if schedule.is_working_day(d):
            days -= 1
        d -= timedelta(days=1)
    return d


def working_days_between(start: date, end: date, schedule: HolidaySchedule = OFFICIAL) -> int:
    """The working days after ``start`` up to and including ``end``."""
    days, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if schedule.is_working_day(current):
            days += 1
    return days


def schedule_status(today: date, horizon_working_days: int,
                    schedule: HolidaySchedule = OFFICIAL) -> dict:
    """What the rules say about the working days they count: the schedule's source and
    years, and the years it does not know that a count starting today can reach
    (today's year up to the year ``horizon_working_days`` working days later), which
    are counted Monday to Friday (``fallback_years``, empty when there are none)."""
    end = working_days_after(today, horizon_working_days, schedule)
    return {"source": schedule.source, "first_year": schedule.first_year,
            "last_year": schedule.last_year,
            "fallback_years": [y for y in range(today.year, end.year + 1)
                               if not schedule.covers(y)]}


def month_day(text: str, year: int) -> date:
    """A rule's "MM-DD" parameter (e.g. "05-31") in a year."""
    month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)
