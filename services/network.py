"""Use cases of the early-warning network: its nodes and officers, warnings, and the
proposals the rules make (services.rules) for staff to confirm or reject."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.errors import NotFound, RuleViolation
from domain.meta import Meta
from domain.network import EarlyWarning, NetworkNode, Proposal
from services.errors import VersionConflict


class NetworkUseCases:
    """Mixed into CaseFiles: the network's commands."""

    # ------------------------------------------------------------------ nodes

    def get_node(self, code: str) -> NetworkNode:
        try:
            return self.repository.get(NetworkNode.create_id(code))
        except AggregateNotFoundError:
            raise NotFound(f"no network node {code}", rule="unknown_node", field="code") from None

    def establish_node(self, *, code: str, name: str, meta: Meta) -> NetworkNode:
        node = NetworkNode.establish(code=code, name=name, meta=meta)
        try:
            self.save(node)
        except IntegrityError:
            raise RuleViolation(f"node {code} already exists", rule="node_exists",
                                field="code") from None
        return node

    def assign_officer(self, code: str, username: str, meta: Meta, *, remove: bool = False):
        node = self.get_node(code)
        self.get_account(username)
        if remove:
            node.remove_officer(username=username, meta=meta)
        else:
            node.assign_officer(username=username, meta=meta)
        self.save(node)
        return node

    # --------------------------------------------------------------- warnings

    def get_warning(self, warning_id: UUID) -> EarlyWarning:
        try:
            return self.repository.get(warning_id)
        except AggregateNotFoundError:
            raise NotFound(f"no warning {warning_id}", rule="unknown_warning",
                           field="id") from None

    def raise_warning(self, *, organization: str, severity: str, source: str, title: str,
                      description: str, key: str, meta: Meta) -> EarlyWarning:
        org = self.get_organization(organization)
        if org.is_closed:
            raise RuleViolation(f"{org.identifier} is {org.status}",
                                rule="closed_organization")
        warning = EarlyWarning.raise_(key=key, organization=org.identifier,
                                      jurisdiction=org.domicile["jurisdiction"],
                                      severity=severity, source=source, title=title,
                                      description=description, rule=None, meta=meta)
        try:
            recordings = self.save(warning)
        except IntegrityError:
            return self.get_warning(warning.id)
        warning.position = recordings[-1].notification.id
        return warning

    def handle_warning(self, warning_id: UUID, action: str, *, meta: Meta,
                       note: str | None = None, expected_version: int | None = None):
        warning = self.get_warning(warning_id)
        if expected_version is not None and warning.version != expected_version:

            raise VersionConflict(f"the warning is at version {warning.version}",
                                  rule="expected_version")
        if action == "acknowledgement":
            warning.acknowledge(meta=meta)
        elif action == "escalation":
            warning.escalate(rule=None, meta=meta)
        else:
            warning.resolve(note=note or "", meta=meta)
        try:
            recordings = self.save(warning)
        except IntegrityError:

            raise VersionConflict("the warning was changed meanwhile; read it again",
                                  rule="expected_version") from None
        warning.position = recordings[-1].notification.id
        return warning

    # -------------------------------------------------------------- proposals

    def get_proposal(self, proposal_id: UUID) -> Proposal:
        try:
            return self.repository.get(proposal_id)
        except AggregateNotFoundError:
            raise NotFound(f"no proposal {proposal_id}", rule="unknown_proposal",
                           field="id") from None

    def decide_proposal(self, proposal_id: UUID, *, confirm: bool, meta: Meta):
        """Confirmation records the decision on the organization in the same transaction."""
        proposal = self.get_proposal(proposal_id)
        if not confirm:
            proposal.reject(meta=meta)
            recordings = self.save(proposal)
            return proposal, recordings[-1].notification.id
        proposal.confirm(meta=meta)
        org = self.get_organization(proposal.organization)
        why = Meta(actor_id=meta.actor_id, actor_role=meta.actor_role,
                   effective_date=meta.effective_date, correlation_id=meta.correlation_id,
                   reason=f"{proposal.reason} (proposed by {proposal.rule}, confirmed)",
                   reference=meta.reference)
        if proposal.kind == "listing":
            org.list_on_credit_list(credit_list=proposal.credit_list, meta=why)
        elif proposal.kind == "delisting":
            org.remove_from_credit_list(listing_id=proposal.listing_id, meta=why)
        else:
            rules, why = self.applying(org.conclude_annual_inspection,
                                       org.domicile["jurisdiction"], why)
            org.conclude_annual_inspection(year=proposal.year, result="unqualified",
                                           findings=proposal.reason, meta=why, **rules)
        recordings = self.save(proposal, org)
        return proposal, recordings[-1].notification.id
