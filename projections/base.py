"""What the read models share: each keeps the organizations' states as of the last event
it applied, applies new events with the aggregate's own event methods, derives its rows,
and stores states, rows and the tracking position in one transaction.

Events arrive in batches: what the worker's subscription fetched at once (one event
when they come one at a time, hundreds after the daily clock), or pages from a catch-up or
a rebuild (``process_batch``); ``process_event`` applies a single event the same way.

A projection whose rows apply a rule (``follows_rules``, e.g. the timeliness of credit
information) folds that rule's own events from the log into a state it keeps beside the
organizations' (in the same transaction as its tracking position): each event is judged by
the rule as it stood when the event was recorded, so a changed parameter decides the
events after the change, and a rebuild decides every event exactly as the live view did.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Generic, Sequence, TypeVar
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection

from domain.organization import Organization
from domain.rules import Parameters, Rule, rule_id


class ProjectionError(Exception):
    """An event the projection cannot apply; it stops rather than skip it (habit 12)."""


class StatefulView(TrackingRecorder):
    @abstractmethod
    def load_states(self, ids: Sequence[UUID]) -> dict[UUID, Aggregate]:
        """The states (organizations, and the rules the projection follows) as last
        stored by this view (absent if none)."""

    @abstractmethod
    def store(self, states: Sequence[Aggregate], rows: list[Any],
              tracking: Tracking) -> None:
        """States, derived rows and tracking position, in one transaction. The rows
        derive from the organizations' states; a rule's state is only kept."""

    @abstractmethod
    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        """(row count, digest) of the view's rows, to compare a rebuild with the live view."""


TView = TypeVar("TView", bound=StatefulView)
CATALOG_RULES: dict[str, Rule] = {}  # the catalog's definitions, made once (never changed)


def is_organization_event(event: Any) -> bool:
    return isinstance(event, (Organization.Event, Organization.Founded))


def follow_rule(name: str, rule: Rule | None, event: Any) -> Rule:
    """A rule's state after one of its recorded events. A view that passed the rule's
    earlier events before it followed rules starts from the catalog's definition."""
    if isinstance(event, Rule.Defined):
        return event.mutate(None)
    if rule is None:
        rule = Rule.from_catalog(name)
        rule.version = event.originator_version - 1
    return event.mutate(rule)


class OrganizationProjection(Projection[TView], Generic[TView]):
    """Subclasses derive rows from each event with ``rows_for``."""

    keeps_states = True  # False: rows_for sees every event with no organization state
    follows_rules: tuple[str, ...] = ()  # the rules whose parameters rows_for applies

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
        followed = {rule_id(name): name for name in self.follows_rules}
        if ids:
            ids += followed
        elif any(e.originator_id in followed for e, _ in events):
            ids = list(followed)
        states = self.view.load_states(ids) if ids else {}
        self.rules = {name: states.pop(i) for i, name in followed.items() if i in states}
        changed: dict[UUID, Aggregate] = {}
        rows: list[Any] = []
        for event, position in events:
            before = None
            if event.originator_id in followed and isinstance(event, (Rule.Defined,
                                                                      Rule.Changed)):
                name = followed[event.originator_id]
                self.rules[name] = changed[event.originator_id] = self._follow(
                    name, self.rules.get(name), event, position)
                rows.extend(self.rows_for(event, position, None, None))
            elif is_organization_event(event):
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

    def _follow(self, name: str, rule: Rule | None, event: Any, position: int) -> Rule:
        try:
            return follow_rule(name, rule, event)
        except Exception as e:
            raise ProjectionError(
                f"{self.name} cannot apply {type(event).__qualname__} "
                f"v{event.originator_version} of rule {event.originator_id} at position "
                f"{position}: {type(e).__name__}: {e}") from e

    def parameters(self, name: str, jurisdiction: str) -> Parameters:
        """A followed rule's parameters for the jurisdiction, as the rule stands at the
        event being projected (the catalog's defaults before it was recorded)."""
        rule = getattr(self, "rules", {}).get(name)
        if rule is None:  # never recorded: the catalog's defaults
            if name not in CATALOG_RULES:
                CATALOG_RULES[name] = Rule.from_catalog(name)
            rule = CATALOG_RULES[name]
        return rule.parameters_for(jurisdiction)

    def before(self, org: Organization | None) -> Any:
        """What ``rows_for`` needs to know of the state before the event."""
        return None

    @abstractmethod
    def rows_for(self, event: Any, position: int, before: Any,
                 org: Organization | None) -> list[Any]:
        """The rows this event contributes (the view decides how to write them)."""
