"""When an event is recorded: the recording clock.

The library stamps each new event with the time it is created (the event class's
``create_timestamp``: the wall clock); that stamp is the event's recorded time, the one
"as known at" time travel filters by. Inside ``recording_clock(clock)`` the events of the
aggregates whose event classes mix in ``StampedByRecordingClock`` (organizations and
persons) take their stamp from ``clock`` instead: the demo generator records years of
history with a simulated clock (adapters.seed.demo_clock). Nothing else sets one, and
outside it the stamp is the library's, unchanged. Like the meta, the recording time is an
input: no domain decision reads it.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Callable, Iterator

from eventsourcing.domain import CanCreateTimestamp

Clock = Callable[[], datetime]

_clock: ContextVar[Clock | None] = ContextVar("recording_clock", default=None)


class StampedByRecordingClock:
    """Mixed into an aggregate's event classes: the recording clock in force stamps them,
    else the wall clock (the library's ``create_timestamp``)."""

    @staticmethod
    def create_timestamp() -> datetime:
        clock = _clock.get()
        return CanCreateTimestamp.create_timestamp() if clock is None else clock()


@contextmanager
def recording_clock(clock: Clock) -> Iterator[None]:
    """The events created inside are stamped by ``clock`` (a timezone-aware moment per
    call)."""
    token = _clock.set(clock)
    try:
        yield
    finally:
        _clock.reset(token)
