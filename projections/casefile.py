"""The case file (案卷): one row per organization, built from its events.

Indexed columns for search (code, name, type, status, jurisdiction, certificate end,
credit lists, latest conclusion, rating, risk flags), the full document, and a timeline
with one entry per event (who, when recorded, when in effect, and whether it was recorded
late under rule 12, by the ``timeliness`` rule as it stood when the event was recorded).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence
from uuid import UUID

from domain.calendar import date_in_china, working_days_between
from domain.organization import Organization
from domain.rules import Parameters
from projections.base import OrganizationProjection, StatefulView
from projections.documents import latest_conclusion, organization_document, risk_flags

CREDIT_INFORMATION_EVENTS = ("PenaltyImposed", "PenaltyRescinded", "CreditListed",
                             "CreditListingRemoved")


def recorded_late(event: Any, timeliness: Parameters) -> bool:
    """Credit information recorded more than the ``timeliness`` rule's working days after
    the decision took effect (rule 12); what was back-filled from an earlier register
    never is."""
    if type(event).__name__ not in CREDIT_INFORMATION_EVENTS or event.meta.imported:
        return False
    recorded_on = date_in_china(event.timestamp)
    return (working_days_between(event.meta.effective_date, recorded_on)
            > timeliness["working_days"])


def timeline_entry(event: Any, position: int | None = None, *,
                   timeliness: Parameters) -> dict:
    """One event's entry in the case file's timeline (who, when recorded, when in effect,
    whether recorded late by the ``timeliness`` rule's parameters given, those in force
    when it was recorded, and ``demo`` on demo data); the live timeline's entries carry
    their log position."""
    entry: dict[str, Any] = {} if position is None else {"position": position}
    entry.update({
        "version": event.originator_version, "type": type(event).__name__,
        "effective_date": event.meta.effective_date.isoformat(),
        "recorded_at": event.timestamp.isoformat(), "actor": event.meta.actor_id,
        "role": event.meta.actor_role, "reason": event.meta.reason,
        "reference": event.meta.reference, "late": recorded_late(event, timeliness)})
    if event.meta.demo:  # (only then: real data's entries read as they did)
        entry["demo"] = True
    if event.meta.documents:  # the documents it rests on (only then, likewise)
        entry["documents"] = [dict(document) for document in event.meta.documents]
    return entry


@dataclass
class TimelineEntry:
    organization_id: UUID
    position: int
    entry: dict


@dataclass
class CaseFileRow:
    organization_id: UUID
    identifier: str
    code: str | None
    name: str
    org_type: str
    status: str
    jurisdiction: str
    certificate_valid_until: date | None
    credit_lists: list[str]
    latest_conclusion: str | None
    latest_conclusion_year: int | None
    rating: str | None
    risk_flags: list[str]
    version: int
    document: dict


def case_file_row(org: Organization) -> CaseFileRow:
    latest = latest_conclusion(org)
    return CaseFileRow(
        organization_id=org.id, identifier=org.identifier, code=org.code, name=org.name,
        org_type=org.org_type, status=org.status, jurisdiction=org.domicile["jurisdiction"],
        certificate_valid_until=org.certificate_valid_until,
        credit_lists=sorted({c["list"] for c in org.active_listings()}),
        latest_conclusion=latest["result"] if latest else None,
        latest_conclusion_year=latest["year"] if latest else None,
        rating=org.level["grade"] if org.level else None, risk_flags=risk_flags(org),
        version=org.version, document=organization_document(org))


class CaseFileView(StatefulView):
    @abstractmethod
    def get(self, identifier: str) -> dict | None:
        """One organization: ``{"row": {...columns}, "document": {...}, "timeline": [...]}``."""

    @abstractmethod
    def search(self, *, text: str | None = None, jurisdiction: str | None = None,
               status: str | None = None, org_type: str | None = None,
               risk_flag: str | None = None, credit_list: str | None = None,
               limit: int = 50, offset: int = 0,
               supervisory_unit: str | None = None) -> tuple[int, list[dict]]:
        """Rows matching the filters (by name; ``supervisory_unit``: the organizations
        it supervises), and the total count."""

    @abstractmethod
    def names(self, identifiers: Sequence[str]) -> dict[str, dict]:
        """{identifier: {identifier, code, name}} of these organizations."""

    @abstractmethod
    def waiting(self, *, prefix: str | None, kinds: Sequence[str],
                major_events_sent_to: str, supervisory_unit: str | None = None,
                organization: str | None = None) -> list[dict]:
        """What waits for staff on the case files of organizations not closed, within the
        prefix (None: everywhere; ``organization``: that one only), of these ``kinds``:
        ``annual_report`` (filed, not concluded), ``major_event`` (not reviewed, sent to
        ``major_events_sent_to``), ``rectification`` (not completed), ``objection`` and
        ``credit_repair`` (not decided; its item with the ``list`` of the listing it would
        remove), ``annual_report_review`` (an online report
        submitted to the supervisory unit), ``annual_report_draft`` (an online report
        drafted or returned, not submitted); each {kind, identifier, code, name,
        jurisdiction, item: the document's entry}."""


class CaseFileProjection(OrganizationProjection[CaseFileView]):
    """Processes every event (tracking each), so a reader waiting for the position of its
    last write never waits for an event this view does not show."""

    name = "casefiles"
    follows_rules = ("timeliness",)

    def rows_for(self, event: Any, position: int, before: Any,
                 org: Organization | None) -> list[Any]:
        if org is None:
            return []
        timeliness = self.parameters("timeliness", org.domicile["jurisdiction"])
        return [TimelineEntry(org.id, position,
                              timeline_entry(event, position, timeliness=timeliness))]
