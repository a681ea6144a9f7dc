"""The demo's recording clock: when each act of the demo's history was recorded.

An office records a decision some days after it takes effect, a few weeks later when it
is busy, and now and then a filing long after (a late filing). The demo gives each act of
its history a recording moment so, and the events the act creates are stamped with it
(domain.recording), so that "as known at" a past moment differs from "as in effect on"
that day, as it does after years of real use:

- the act's effective date plus a delay: 0-4 days for most acts, 5-30 days for a quarter
  of them, 60-400 days for one in twenty; on a working day, in office hours, China
  Standard Time;
- after everything recorded so far in the organization's history (``latest``, since
  ``begin``: its events, and its leaders' since they took a post there), so that each
  aggregate's events are recorded in the order of their versions, and the log (written
  in recording order by adapters.seed.batch) is in the order of the recorded times;
- never after the start of the demo's "today" (a delay that would reach it is shortened),
  so the demo is recorded before anything recorded at the wall clock after loading it.

The delays are drawn from a generator of their own (seeded from the demo's seed): the
same seed gives the same moments, and the district itself (drawn from the demo's
generator) is the one it was before the clock existed.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from random import Random
from typing import Iterator

from adapters.seed.demo_plan import working_day
from domain.calendar import CHINA
from domain.recording import recording_clock

TICK = timedelta(microseconds=1)  # between two events of one act
OFFICE_OPENS, OFFICE_HOURS = time(8, 30), 9 * 3600


class DemoClock:
    def __init__(self, seed: int, today: date, *, after: datetime | None = None):
        self.rng = Random(f"demo-clock:{seed}")
        self.ceiling = datetime.combine(today, time(0), CHINA)
        self.floor = after  # a larger data set's later part: after the part before
        self.current: datetime | None = None  # the act being recorded: its moment
        self.latest: datetime | None = None  # the last stamp since ``begin``
        self._next: datetime | None = None
        self.events = 0  # stamped so far (for the progress bar)

    def begin(self) -> None:
        """A new organization's history: its acts are recorded after one another."""
        self.latest = None

    def moment(self, on: date, after: datetime | None) -> datetime:
        """When an act that takes effect ``on`` is recorded, after ``after``."""
        rng = self.rng
        roll = rng.random()
        days = (rng.randint(0, 4) if roll < 0.70 else rng.randint(5, 30) if roll < 0.95
                else rng.randint(60, 400))
        seconds = rng.randint(0, OFFICE_HOURS)
        moment = datetime.combine(working_day(on + timedelta(days=days)), OFFICE_OPENS,
                                  CHINA) + timedelta(seconds=seconds)
        if moment > self.ceiling:  # recorded by now: within the days since it took effect
            start = datetime.combine(on, time(0), CHINA)
            moment = start + max(self.ceiling - start, timedelta(0)) * rng.random()
        for earlier in (after, self.floor):
            if earlier is not None and moment <= earlier:
                moment = earlier + TICK
        return moment

    @contextmanager
    def recording(self, on: date) -> Iterator[datetime]:
        """Record an act of the organization inside: its events are stamped with its
        moment, one tick apart."""
        self.current = self._next = self.moment(on, self.latest)
        with recording_clock(self._stamp):
            yield self.current
        self.current = None

    def recorded_before_now(self, moment: datetime | None) -> bool:
        """Whether ``moment`` (an aggregate's last recorded time) is before the act being
        recorded: its next event may then be stamped now."""
        return moment is None or (self.current is not None and moment < self.current)

    def _stamp(self) -> datetime:
        stamp, self._next = self._next, self._next + TICK
        self.latest = stamp if self.latest is None else max(self.latest, stamp)
        self.events += 1
        return stamp
