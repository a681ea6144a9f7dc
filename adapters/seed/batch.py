"""Many use cases, one write: the demo's unit of work.

Appointing a leader, a leader's departure, a term election, closing an organization or
banning a person change an Organization and its leaders' Person aggregates together;
that coordination is the service's (``CaseFiles.appoint_leader``,
``record_leader_departure``, ``hold_term_election``, ``close_organization``...) and the
demo calls those use cases. On the application each would be a transaction of its own,
and the demo plays tens of thousands of them. On ``Batch.casefiles`` they run unchanged
against the aggregates played so far: loading an aggregate finds the kept one first (a
copy, as the repository gives a copy, so a refused command changes nothing), and saving
keeps what the command decided. ``flush()`` then writes everything kept through the
application's ``save``, in the order the events were recorded (their timestamps: the
demo's recording clock, adapters.seed.demo_clock), a few hundred events a transaction,
so that the log's order is the order of the recorded times.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Recording
from eventsourcing.domain import Aggregate

from services.casefiles import CaseFiles


class _KeptFirst:
    """The application's repository, with the batch's kept aggregates found first, and
    the aggregates it reads but never changes (``read_once``) read only once."""

    def __init__(self, repository: Any, kept: dict[UUID, Aggregate],
                 read_once: Iterable[UUID]):
        self._repository, self._kept = repository, kept
        self._read_once = set(read_once)
        self._read: dict[UUID, Aggregate | None] = {}  # None: not found

    def get(self, aggregate_id: UUID, *, version: int | None = None, **options: Any) -> Any:
        if version is None:
            kept = self._kept.get(aggregate_id)
            if kept is not None:
                return _copy(kept)
            if aggregate_id in self._read_once:
                return self._get_once(aggregate_id)
        return self._repository.get(aggregate_id, version=version, **options)

    def _get_once(self, aggregate_id: UUID) -> Any:
        if aggregate_id not in self._read:
            try:
                self._read[aggregate_id] = self._repository.get(aggregate_id)
            except AggregateNotFoundError:
                self._read[aggregate_id] = None
        found = self._read[aggregate_id]
        if found is None:
            raise AggregateNotFoundError(aggregate_id)
        return copy.deepcopy(found)

    def __contains__(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self._kept or aggregate_id in self._repository


def _copy(aggregate: Aggregate) -> Aggregate:
    """A copy to decide on, as the repository gives one: its state copied, its pending
    events (immutable) shared, since one of the two is dropped once a command has run."""
    memo = {id(event): event for event in aggregate.pending_events}
    return copy.deepcopy(aggregate, memo)


class Batch:
    """The aggregates decided and not yet written, and the application that keeps them."""

    def __init__(self, casefiles: CaseFiles, *, read_once: Iterable[UUID] = ()):
        self.application = casefiles
        self.kept: dict[UUID, Aggregate] = {}  # in the order first kept
        self.casefiles = _keeping(casefiles, _KeptFirst(casefiles.repository, self.kept,
                                                        read_once), self.kept)

    def keep(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self.kept[aggregate.id] = aggregate

    def get(self, aggregate_id: UUID) -> Aggregate:
        """The kept aggregate itself (not a copy): to play commands on it directly."""
        return self.kept[aggregate_id]

    def pending_events(self) -> int:
        return sum(len(a.pending_events) for a in self.kept.values())

    def flush(self, chunk: int) -> list[Recording]:
        """Write everything kept, its events in the order of their recorded times (each
        aggregate's events are recorded in the order of their versions, so that order
        keeps them in sequence), at most ``chunk`` events a transaction, with the
        snapshots the application takes; the batch is then empty."""
        kinds = {aggregate.id: type(aggregate) for aggregate in self.kept.values()}
        events = sorted((e for aggregate in self.kept.values()
                         for e in aggregate.collect_events()),
                        key=lambda e: (e.timestamp, str(e.originator_id), e.originator_version))
        self.kept.clear()
        app, recordings = self.application, []
        for start in range(0, len(events), chunk):
            part = events[start:start + chunk]
            recordings += app.save(*part)
            # (save takes the snapshots of the aggregates it is given; these are events)
            for event in part:
                interval = app.snapshotting_intervals.get(kinds[event.originator_id])
                if interval and event.originator_version % interval == 0:
                    app.take_snapshot(event.originator_id, version=event.originator_version)
        return recordings


def _keeping(casefiles: CaseFiles, repository: _KeptFirst,
             kept: dict[UUID, Aggregate]) -> CaseFiles:
    """The same application (its store, keys and settings, shared), whose repository finds
    the kept aggregates first and whose ``save`` keeps what it is given."""

    class Keeping(type(casefiles)):  # type: ignore[misc, valid-type]
        name = casefiles.name

        @property
        def repository(self) -> Any:
            return self._kept_first

        def close(self) -> None:
            """The store is the application's: closing it is left to the application."""

        def save(self, *objs: Any, **kwargs: Any) -> list[Recording]:
            if kwargs.get("idempotency") is not None:
                raise ValueError("a batch keeps no Idempotency-Key records")
            for obj in objs:
                if obj is not None:
                    kept[obj.id] = obj
            return []

    keeping = object.__new__(Keeping)
    keeping.__dict__.update(vars(casefiles))
    keeping._kept_first = repository
    keeping.command_cache = None  # the kept aggregates are the batch's cache
    return keeping
