"""Statistics: counts per residents' committee, year and kind, the figures the seed
reports quote (inspection pass rates by year, registrations, deregistrations,
revocations, penalties by kind, listings), and the full-time staff the annual reports of
a year give (``full_time_staff``: their sum; ``annual_report_with_staff``: how many
reports gave it, the others did not report it). Queries roll the committees up to any
node.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

from domain.organization import Organization
from projections.base import OrganizationProjection, StatefulView


@dataclass
class Count:
    jurisdiction: str
    year: int
    kind: str
    delta: int


class StatisticsView(StatefulView):
    @abstractmethod
    def totals(self, *, jurisdiction_prefix: str, year: int | None = None
               ) -> dict[int, dict[str, int]]:
        """{year: {kind: count}} for every committee under the prefix."""

    @abstractmethod
    def totals_by_child(self, *, jurisdiction_prefix: str, child_digits: int,
                        year: int | None = None) -> dict[str, dict[str, int]]:
        """{child: {kind: count}} over the years (or one year), the committees under the
        prefix rolled up to their first ``child_digits`` digits (a child's code is those
        digits padded with zeros to 12)."""


class StatisticsProjection(OrganizationProjection[StatisticsView]):
    name = "statistics"

    def before(self, org: Organization | None) -> Any:
        if org is None:
            return None
        return {"jurisdiction": org.domicile["jurisdiction"],
                "conclusions": {y: c["result"] for y, c in org.conclusions.items()},
                "listings": {i: c["list"] for i, c in org.credit_listings.items()}}

    def rows_for(self, event: Any, position: int, before: Any,
                 org: Organization | None) -> list[Any]:
        if org is None:
            return []
        kind_name = type(event).__name__
        where = org.domicile["jurisdiction"]
        year = event.meta.effective_date.year

        def count(kind: str, delta: int = 1, in_year: int = year) -> Count:
            return Count(where, in_year, kind, delta)

        if kind_name in ("Registered", "Recorded"):
            return [count(kind_name.lower())]
        if kind_name == "Deregistered":
            return [count("deregistered")]
        if kind_name == "RegistrationRevoked":
            return [count("revoked")]
        if kind_name == "Banned":
            return [count("banned")]
        if kind_name == "AnnualReportFiled":
            counts = [count("annual_report", in_year=event.year)]
            if event.full_time_staff is not None:  # (None: not reported, as before v2)
                counts += [count("full_time_staff", event.full_time_staff, event.year),
                           count("annual_report_with_staff", in_year=event.year)]
            return counts
        if kind_name == "AnnualInspectionConcluded":
            return [count("inspection_due", in_year=event.year),
                    count(f"conclusion_{event.result}", in_year=event.year)]
        if kind_name == "AnnualInspectionCorrected":
            return [count(f"conclusion_{event.previous_result}", -1, event.year),
                    count(f"conclusion_{event.result}", 1, event.year),
                    count("conclusion_corrected", in_year=event.year)]
        if kind_name == "PenaltyImposed":
            counts = [count(f"penalty_{event.kind}")]
            if event.kind == "revocation":
                counts.append(count("revoked"))
            return counts
        if kind_name == "PenaltyRescinded":
            return [count("penalty_rescinded")]
        if kind_name == "CreditListed":
            return [count(f"listed_{event.credit_list}")]
        if kind_name == "CreditListingRemoved":
            return [count(f"delisted_{before['listings'][event.listing_id]}")]
        simple = {"InspectionConducted": "inspection", "RectificationOrdered": "rectification",
                  "ManagementSuggestionIssued": "management_suggestion",
                  "MajorEventReported": "major_event", "LevelAssessed": "rated",
                  "InterviewHeld": "interview", "RectificationOverdue": "rectification_overdue"}
        if kind_name in simple:
            return [count(simple[kind_name])]
        return []


def pass_rates(totals: dict[str, int]) -> dict[str, float] | None:
    due = totals.get("inspection_due", 0)
    if not due:
        return None
    return {result: round(totals.get(f"conclusion_{result}", 0) / due, 4)
            for result in ("qualified", "basically_qualified", "unqualified")}
