"""What the read models share: each keeps the organizations' states as of the last event
it applied, applies new events with the aggregate's own event methods, derives its rows,
and stores states, rows and the tracking position in one transaction.

Events arrive in batches: what the worker's subscription fetched at once (one event
when they come one at a time, hundreds after the daily clock), or pages from a catch-up or
a rebuild (``process_batch``); ``process_event`` applies a single event the same way.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Generic, Sequence, TypeVar
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection

from domain.organization import Organization


class ProjectionError(Exception):
    """An event the projection cannot apply; it stops rather than skip it (habit 12)."""


class StatefulView(TrackingRecorder):
    @abstractmethod
    def load_states(self, ids: Sequence[UUID]) -> dict[UUID, Organization]:
        """The organizations' states as last stored by this view (absent if none)."""

    @abstractmethod
    def store(self, states: Sequence[Organization], rows: list[Any],
              tracking: Tracking) -> None:
        """States, derived rows and tracking position, in one transaction."""

    @abstractmethod
    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        """(row count, digest) of the view's rows, to compare a rebuild with the live view."""


TView = TypeVar("TView", bound=StatefulView)


def is_organization_event(event: Any) -> bool:
    return isinstance(event, (Organization.Event, Organization.Founded))


class OrganizationProjection(Projection[TView], Generic[TView]):
    """Subclasses derive rows from each event with ``rows_for``."""

    keeps_states = True  # False: rows_for sees every event with no organization state

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process_batch([(domain_event, tracking.notification_id)], tracking)

    def process_batch(self, events: Sequence[tuple[Any, int]], tracking: Tracking) -> None:
        if not self.keeps_states:
            rows = [row for event, position in events
                    for row in self.rows_for(event, position, None, None)]
            self.view.store([], rows, tracking)
            return
        ids = list({e.originator_id for e, _ in events if is_organization_event(e)})
        states = self.view.load_states(ids) if ids else {}
        changed: dict[UUID, Organization] = {}
        rows: list[Any] = []
        for event, position in events:
            before = None
            if is_organization_event(event):
                org = states.get(event.originator_id)
                before = self.before(org)
                try:
                    org = event.mutate(org)
                except Exception as e:
                    raise ProjectionError(
                        f"{self.name} cannot apply {type(event).__qualname__} "
                        f"v{event.originator_version} of {event.originator_id} at position "
                        f"{position}: {type(e).__name__}: {e}") from e
                states[event.originator_id] = changed[event.originator_id] = org
                rows.extend(self.rows_for(event, position, before, org))
            else:
                rows.extend(self.rows_for(event, position, None, None))
        self.view.store(list(changed.values()), rows, tracking)

    def before(self, org: Organization | None) -> Any:
        """What ``rows_for`` needs to know of the state before the event."""
        return None

    @abstractmethod
    def rows_for(self, event: Any, position: int, before: Any,
                 org: Organization | None) -> list[Any]:
        """The rows this event contributes (the view decides how to write them)."""
