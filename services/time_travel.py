"""Time travel: an organization as it was in effect on a business date, as the office
knew it at a moment (bitemporal), from the time-travel index or from the snapshots."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.organization import ORGANIZATION_EVENTS, Organization
from services.errors import OrganizationNotFound
from services.ports import TimeIndex, TimeIndexRow


class TimeTravelUseCases:
    """Mixed into the application (services.casefiles.CaseFiles)."""

    def organization_at(self, identifier: str, *, as_of: date | None = None,
                        known_at: datetime | None = None) -> Organization:
        """The organization bitemporally: ``as_of`` keeps the events in effect on that
        business date, ``known_at`` those recorded by that moment; both together is the
        state in effect on ``as_of`` as the office knew it at ``known_at``.

        A snapshot is a valid start when everything before it qualifies: it was recorded
        by ``known_at`` and the latest effective date it had seen is on or before
        ``as_of``; the events after it are replayed with the same filter.

        On PostgreSQL the time-travel index (``TimeIndex``) chooses that snapshot and the
        qualifying later events in SQL, so only they are decoded; an organization with
        events missing from the index (recorded before it existed) has them indexed
        first. Elsewhere (the in-memory store) the snapshots are binary-searched and every
        later event decoded and filtered."""
        org_id = Organization.create_id(identifier)
        if isinstance(self.recorder, TimeIndex) and self.snapshots is not None:
            org = self._organization_at_by_index(self.recorder, org_id, as_of, known_at)
        else:
            org = self._organization_at_by_snapshots(org_id, as_of, known_at)
        if org is None:
            when = " and ".join(filter(None, [as_of and f"in effect on {as_of}",
                                               known_at and f"known at {known_at.isoformat()}"]))
            raise OrganizationNotFound(f"no organization {identifier} {when}".strip(),
                                       field="code")
        return org

    def _organization_at_by_index(self, index: TimeIndex, org_id: UUID, as_of: date | None,
                                  known_at: datetime | None) -> Organization | None:
        plan = index.time_travel_plan(org_id, as_of=as_of, known_at=known_at)
        if not plan.complete:
            self._index_organization(index, org_id)
            plan = index.time_travel_plan(org_id, as_of=as_of, known_at=known_at)
            if not plan.complete:  # (rows that match no event: left alone, not trusted)
                return self._organization_at_by_snapshots(org_id, as_of, known_at)
        org = None
        if plan.snapshot is not None:
            org = self.snapshots.mapper.to_domain_event(plan.snapshot).mutate(None)
        for stored in plan.events:
            org = self._replayed(org, self.mapper.to_domain_event(stored))
        return org

    def _index_organization(self, index: TimeIndex, org_id: UUID) -> None:
        """Backfill the index rows of this organization's events that have none (decoding
        only those), once: afterwards every save writes its own."""
        events = [self.mapper.to_domain_event(stored)
                  for stored in index.select_unindexed_events(org_id)]
        index.insert_time_index([
            TimeIndexRow(e.originator_id, e.originator_version, e.meta.effective_date,
                         e.timestamp) for e in events if isinstance(e, ORGANIZATION_EVENTS)])

    def _organization_at_by_snapshots(self, org_id: UUID, as_of: date | None,
                                      known_at: datetime | None) -> Organization | None:
        """Without the index: binary-search the snapshots, filter every later event."""
        start: Organization | None = None
        upper: int | None = None  # the oldest snapshot found not to qualify

        def qualifies(candidate: Organization) -> bool:
            return not ((known_at is not None and candidate.modified_on > known_at) or
                        (as_of is not None and candidate.latest_effective_date > as_of))

        def snapshot_at(version: int) -> Organization:
            return next(iter(self.snapshots.get(org_id, gt=version - 1, lte=version))
                        ).mutate(None)

        if self.snapshots is not None:
            # Both tests are monotonic in the version (latest_effective_date is a running
            # maximum, modified_on the recording time): test the newest snapshot first
            # ("as of today" needs only it), else binary-search, decoding about log2(n)
            # snapshots instead of walking back through all of them.
            versions = self._snapshot_versions(org_id)
            lo, hi = 0, len(versions) - 1
            if versions:
                newest = snapshot_at(versions[-1])
                if qualifies(newest):
                    start, lo = newest, hi + 1
                else:
                    upper, hi = versions[-1], hi - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                candidate = snapshot_at(versions[mid])
                if qualifies(candidate):
                    start, lo = candidate, mid + 1
                else:
                    upper, hi = versions[mid], mid - 1
        org = start
        # With known_at alone, everything after ``upper`` was recorded after known_at; with
        # as_of, a later event may still be in effect (a late filing): read them all.
        lte = upper if as_of is None else None
        for event in self.events.get(org_id, gt=start.version if start else None, lte=lte):
            if known_at is not None and event.timestamp > known_at:
                break
            if as_of is not None and event.meta.effective_date > as_of:
                continue
            org = self._replayed(org, event)
        return org

    def _snapshot_versions(self, org_id: UUID) -> list[int]:
        """The versions of the organization's snapshots, oldest first (the store may
        answer without reading their states: adapters.store.application)."""
        return [s.originator_version for s in self.snapshots.get(org_id)]

    def _replayed(self, org: Organization | None, event: Any) -> Organization | None:
        """The state with one more qualifying event. Before its registration qualifies
        there is no organization: a later event dated before the registration (recorded
        before the domain refused such dates) leaves it absent rather than failing."""
        if org is None:
            return event.mutate(None) if event.originator_version == 1 else None
        return self._apply_out_of_sequence(org, event)

    @staticmethod
    def _apply_out_of_sequence(org: Organization, event: Any) -> Organization:
        """Apply an event whose predecessors were filtered out (not yet in effect), keeping
        the running maximum of the effective dates as ``Organization.Event.mutate`` does
        (so the state does not depend on which snapshot the replay started from)."""
        event.apply(org)
        org.version = event.originator_version
        org.modified_on = event.timestamp
        org.latest_effective_date = max(org.latest_effective_date, event.meta.effective_date)
        return org
