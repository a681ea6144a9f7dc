"""The early-warning network's read model: warnings, proposals, nodes and inspection plans
as rows, and the network view's figures.

Organization-level figures (certificates, overdue rectifications, credit listings,
high-risk major events) come from the case-file rows; warnings and zombie candidates from
this projection's rows. A certificate is expiring by the ``certificate_expiry`` rule as it
stands when the figures are read (the caller passes it in, with its jurisdictions'
overrides), as on the case file. The figures are counted at the leaves (residents' committees) and
rolled up by ``roll_up``: a node's figure is the sum of its children's, by construction.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.codes import jurisdiction_level
from domain.inspection_plan import InspectionPlan
from domain.network import EarlyWarning, NetworkNode, Proposal
from domain.organization import Organization
from domain.rules import Rule
from projections.base import OrganizationProjection, StatefulView
from projections.documents import plain

FIGURES = (
    "organizations", "warnings_active", "warnings_low", "warnings_medium", "warnings_high",
    "warnings_age_0_3", "warnings_age_4_7", "warnings_age_8_30", "warnings_age_over_30",
    "certificates_expiring", "certificates_expired", "rectifications_open",
    "rectifications_overdue",
    "credit_listed", "zombie_candidates", "high_risk_major_events", "proposals_open",
)

# figure -> how the organizations behind it are found (drill-down)
FLAGS = ("warning", "warning_high", "certificate_expiring", "certificate_expired",
         "open_rectification", "overdue_rectification", "credit_listed", "zombie_candidate",
         "high_risk_major_event")


@dataclass
class Row:
    table: str
    key: str
    values: dict[str, Any]
    insert: bool = False


class NetworkView(StatefulView):
    @abstractmethod
    def leaf_figures(self, prefix: str, today: date, *, certificate_expiry: Rule,
                     supervisory_unit: str | None = None) -> dict[str, dict[str, int]]:
        """{committee code: {figure: count}} for the committees under the prefix (of the
        organizations the ``supervisory_unit`` supervises, if given)."""

    @abstractmethod
    def monthly_trends(self, prefix: str, since: date, *,
                       supervisory_unit: str | None = None) -> dict[str, dict[str, int]]:
        """{committee: {YYYY-MM: warnings raised}}."""

    @abstractmethod
    def organizations(self, prefix: str, flag: str, today: date, limit: int, offset: int,
                      *, certificate_expiry: Rule) -> tuple[int, list[dict]]:
        """The organizations behind a figure."""

    @abstractmethod
    def warnings(self, *, prefix: str | None, status: str | None, severity: str | None,
                 node: str | None, limit: int, offset: int,
                 supervisory_unit: str | None = None) -> tuple[int, list[dict]]:
        ...

    @abstractmethod
    def proposals(self, *, prefix: str | None, status: str | None, limit: int,
                  offset: int, supervisory_unit: str | None = None) -> tuple[int, list[dict]]:
        ...

    @abstractmethod
    def waiting(self, *, prefix: str | None,
                supervisory_unit: str | None = None) -> tuple[list[dict], list[dict]]:
        """The warnings not resolved (whose node is within the prefix) and the proposals
        not decided (the work queue's)."""

    @abstractmethod
    def nodes(self, prefix: str) -> list[dict]:
        ...

    @abstractmethod
    def plans(self, *, prefix: str | None, limit: int, offset: int,
              published: bool = False) -> tuple[int, list[dict]]:
        """The inspection plans over jurisdictions under the prefix (None: every plan),
        the latest drawn first; ``published``: only those whose results are published,
        the latest published first."""

    @abstractmethod
    def open_warning_ids(self) -> list:
        ...


class NetworkProjection(OrganizationProjection[NetworkView]):
    """Follows warnings, proposals, nodes and inspection plans (organization events need
    no rows here)."""

    name = "network"
    keeps_states = False

    def rows_for(self, event: Any, position: int, before: Any,
                 org: Organization | None) -> list[Any]:
        meta = getattr(event, "meta", None)
        on = meta.effective_date if meta else None
        wid = str(event.originator_id)
        if isinstance(event, EarlyWarning.Raised):
            return [Row("warnings", wid, {
                "warning_id": wid, "organization": event.organization,
                "jurisdiction": event.jurisdiction, "node": event.node, "level": event.level,
                "severity": event.severity, "source": event.source, "title": event.title,
                "rule": event.rule, "status": "open", "raised_on": on, "level_since": on,
                "resolved_on": None, "version": 1, "position": position}, insert=True)]
        name = type(event).__name__
        if isinstance(event, EarlyWarning.Event):
            values: dict[str, Any] = {"version": event.originator_version, "position": position}
            if name == "Acknowledged":
                values["status"] = "acknowledged"
            elif name == "Escalated":
                values.update(status="open", node=event.to_node, level=event.level,
                              level_since=on)
            elif name == "Resolved":
                values.update(status="resolved", resolved_on=on)
            return [Row("warnings", wid, values)]
        if isinstance(event, Proposal.Made):
            return [Row("proposals", wid, {
                "proposal_id": wid, "kind": event.kind, "organization": event.organization,
                "jurisdiction": event.jurisdiction, "credit_list": event.credit_list,
                "listing_id": event.listing_id, "year": event.year, "reason": event.reason,
                "rule": event.rule, "status": "proposed", "proposed_on": on,
                "decided_on": None, "decided_by": None, "version": 1,
                "position": position}, insert=True)]
        if isinstance(event, Proposal.Event):
            return [Row("proposals", wid, {
                "status": "confirmed" if name == "Confirmed" else "rejected",
                "decided_on": on, "decided_by": meta.actor_id,
                "version": event.originator_version, "position": position})]
        if isinstance(event, InspectionPlan.Planned):
            return [Row("plans", wid, {
                "plan_id": wid, "number": event.number, "jurisdiction": event.jurisdiction,
                "authority_level": event.authority_level, "population": len(event.population),
                "high_risk": len(event.high_risk), "drawn": len(event.drawn),
                "on_site": len(event.on_site), "inspectors": len(event.inspectors),
                "rule_version": event.rule_version, "planned_on": on,
                "planned_by": meta.actor_id, "published_on": None, "position": position},
                insert=True)]
        if isinstance(event, InspectionPlan.ResultsPublished):
            return [Row("plans", wid, {"published_on": on, "results": plain(event.results),
                                       "position": position})]
        if isinstance(event, NetworkNode.Established):
            return [Row("nodes", wid, {"node_id": wid, "code": event.code, "name": event.name,
                                       "level": event.level, "parent": event.parent},
                        insert=True)]
        if name in ("OfficerAssigned", "OfficerRemoved") and isinstance(event,
                                                                        NetworkNode.Event):
            return [Row("officers", wid, {"username": event.username,
                                          "assigned": name == "OfficerAssigned"})]
        return []


@dataclass
class NodeFigures:
    code: str
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))


def child_code(leaf: str, node: str) -> str:
    """The child of ``node`` on the way to ``leaf``."""
    level = jurisdiction_level(node)
    if level == "district":
        return leaf[:9] + "000"
    return leaf


def roll_up(node: str, leaves: dict[str, dict[str, int]]) -> tuple[dict[str, int],
                                                                  dict[str, dict[str, int]]]:
    """A node's figures and its children's, summed from the leaves under it."""
    children: dict[str, dict[str, int]] = {}
    for leaf, figures in leaves.items():
        child = children.setdefault(child_code(leaf, node), dict.fromkeys(FIGURES, 0))
        for name in FIGURES:
            child[name] += figures.get(name, 0)
    total = dict.fromkeys(FIGURES, 0)
    for figures in children.values():
        for name in FIGURES:
            total[name] += figures[name]
    return total, dict(sorted(children.items()))
