"""The daily clock as a use case: evaluate the rules of the events not yet evaluated,
then tick every day not yet ticked up to a date for the open organizations and the open
warnings, then evaluate what the ticks recorded (a tick's warnings and proposals may
trigger event rules in turn).

What the clock reads comes in through ports: the rules (``services.rules.RulesEngine``)
and the read models it asks which organizations and warnings are open, which the caller
brings up to date first (``ClockViews``). Taking the clock's lock, so that one ticker
ticks at a time, is the caller's."""

from __future__ import annotations

from datetime import date
from typing import Iterable, Protocol
from uuid import UUID

from domain.meta import Meta


class Rules(Protocol):
    """The rules engine as the clock uses it."""

    def process_pending(self) -> int:
        """Evaluate the recorded events not yet evaluated; return how many."""

    def tick(self, until: date, organizations: Iterable[str], open_warnings: Iterable[UUID],
             meta: Meta) -> list[date]:
        """Tick every day not yet ticked up to ``until``; return the days ticked."""


class ClockViews(Protocol):
    """The read models the clock reads."""

    def bring_up_to_date(self) -> None:
        """Bring the views read below up to the log's head."""

    def open_organization_ids(self) -> Iterable[str]:
        """The identifiers of every organization that is not closed."""

    def open_warning_ids(self) -> Iterable[UUID]:
        """The open warnings that may escalate."""


def clock_meta(day: date) -> Meta:
    """Who and when of what the clock records on a day."""
    return Meta(actor_id="clock", actor_role="system", effective_date=day,
                correlation_id=f"clock:{day}")


def tick_until(until: date, rules: Rules, views: ClockViews) -> list[date]:
    """Run the daily clock up to ``until``; return the days ticked (none: already
    ticked)."""
    rules.process_pending()
    views.bring_up_to_date()
    days = rules.tick(until, views.open_organization_ids(), views.open_warning_ids(),
                      clock_meta(until))
    rules.process_pending()  # what the clock recorded may trigger event rules
    return days
