"""Dates as the bureaus count them: China Standard Time, working days, and month and year
arithmetic. The one place for "today in China"; a domain decision never calls
``today_in_china`` itself (who and when are inputs: the meta's effective date), the
adapters and the clock pass it in."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

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


def is_working_day(d: date) -> bool:
    """Monday to Friday (the State Council's holiday schedule is not modelled yet)."""
    return d.weekday() < 5


def working_days_after(d: date, days: int) -> date:
    """The date ``days`` working days after ``d``."""
    while days > 0:
        d += timedelta(days=1)
        if is_working_day(d):
            days -= 1
    return d


def working_days_between(start: date, end: date) -> int:
    """The working days after ``start`` up to and including ``end``."""
    days, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            days += 1
    return days


def month_day(text: str, year: int) -> date:
    """A rule's "MM-DD" parameter (e.g. "05-31") in a year."""
    month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)
