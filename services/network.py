"""Use cases of the early-warning network: its nodes and officers, warnings, and the
proposals the rules make (services.rules) for staff to confirm or reject."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.errors import Conflict, NotFound, RuleViolation
from domain.meta import Meta
from domain.network import EarlyWarning, NetworkNode, Proposal
from domain.organization import Organization
from domain.texts import render
from services.application import CommandResult


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
        """The node, once loaded, takes or loses an officer (an account that exists)."""
        def decide(node: NetworkNode):
            self.get_account(username)
            if remove:
                node.remove_officer(username=username, meta=meta)
            else:
                node.assign_officer(username=username, meta=meta)
            return (), {}

        return self._execute(NetworkNode.create_id(code), lambda _id: self.get_node(code),
                             decide, identifier=code, meta=meta, expected_version=None,
                             idempotency_key=None, fingerprint="").aggregate

    # --------------------------------------------------------------- warnings

    def get_warning(self, warning_id: UUID) -> EarlyWarning:
        try:
            return self.repository.get(warning_id)
        except AggregateNotFoundError:
            raise NotFound(f"no warning {warning_id}", rule="unknown_warning",
                           field="id") from None

    def _recorded(self, aggregate_id: UUID) -> bool:
        return next(iter(self.events.get(aggregate_id, limit=1)), None) is not None

    def raise_warning(self, *, organization: str, severity: str, source: str, title: str,
                      description: str, key: str, meta: Meta,
                      idempotency_key: str | None = None, fingerprint: str = ""
                      ) -> EarlyWarning:
        """A warning about the organization (loaded once, and scope-checked by
        ``checking_scope`` on that copy), at its committee. With an Idempotency-Key the
        first answer is replayed for the same request, refused for another."""
        warning_id = EarlyWarning.create_id(key)

        def decide(org: Organization):
            if org.is_closed:
                raise RuleViolation(f"{org.identifier} is {org.status}",
                                    rule="closed_organization")
            if self._recorded(warning_id):
                raise Conflict(f"a warning with the key {key} was already raised",
                               rule="warning_exists")
            warning = EarlyWarning.raise_(key=key, organization=org.identifier,
                                          jurisdiction=org.domicile["jurisdiction"],
                                          severity=severity, source=source, title=title,
                                          description=description, rule=None, meta=meta)
            return (warning,), {"warning_id": str(warning.id)}

        result = self._organization_command(organization, decide, meta=meta,
                                            idempotency_key=idempotency_key,
                                            fingerprint=fingerprint)
        return self._as_recorded(UUID(result.result["warning_id"]), 1, result)

    def handle_warning(self, warning_id: UUID, action: str, *, meta: Meta,
                       note: str | None = None, expected_version: int | None = None,
                       idempotency_key: str | None = None, fingerprint: str = ""
                       ) -> EarlyWarning:
        """Acknowledge, escalate or resolve the warning, loaded once."""
        def decide(warning: EarlyWarning):
            if action == "acknowledgement":
                warning.acknowledge(meta=meta)
            elif action == "escalation":
                warning.escalate(rule=None, meta=meta)
            else:
                warning.resolve(note=note or "", meta=meta)
            return (), {}

        result = self._execute(warning_id, self.get_warning, decide,
                               identifier=str(warning_id), meta=meta,
                               expected_version=expected_version,
                               idempotency_key=idempotency_key, fingerprint=fingerprint)
        return self._as_recorded(warning_id, result.version, result)

    # -------------------------------------------------------------- proposals

    def get_proposal(self, proposal_id: UUID) -> Proposal:
        try:
            return self.repository.get(proposal_id)
        except AggregateNotFoundError:
            raise NotFound(f"no proposal {proposal_id}", rule="unknown_proposal",
                           field="id") from None

    def decide_proposal(self, proposal_id: UUID, *, confirm: bool, meta: Meta,
                        idempotency_key: str | None = None, fingerprint: str = ""):
        """The proposal, loaded once, confirmed or rejected; a confirmation records the
        decision on the organization in the same transaction. Answers the proposal as
        decided and the position of the write."""
        def decide(proposal: Proposal):
            if not confirm:
                proposal.reject(meta=meta)
                return (), {}
            proposal.confirm(meta=meta)
            org = self.get_organization(proposal.organization)
            why = Meta(actor_id=meta.actor_id, actor_role=meta.actor_role,
                       effective_date=meta.effective_date, correlation_id=meta.correlation_id,
                       reason=render("proposal_confirmed", reason=proposal.reason,
                                     actor=proposal.rule),
                       reference=meta.reference, demo=meta.demo)
            if proposal.kind == "listing":
                org.list_on_credit_list(credit_list=proposal.credit_list, meta=why)
            elif proposal.kind == "delisting":
                org.remove_from_credit_list(listing_id=proposal.listing_id, meta=why)
            else:
                rules, why = self.applying(org.conclude_annual_inspection,
                                           org.domicile["jurisdiction"], why)
                org.conclude_annual_inspection(year=proposal.year, result="unqualified",
                                               findings=proposal.reason, meta=why, **rules)
            return (org,), {}

        result = self._execute(proposal_id, self.get_proposal, decide,
                               identifier=str(proposal_id), meta=meta, expected_version=None,
                               idempotency_key=idempotency_key, fingerprint=fingerprint)
        proposal = self._as_recorded(proposal_id, result.version, result)
        return proposal, proposal.position

    # ----------------------------------------------------------------- answers

    def _as_recorded(self, item_id: UUID, version: int, result: CommandResult) -> Any:
        """The network item at the version the command wrote (for a replay: as the first
        answer had it), with the log position to wait for as ``position``."""
        item = result.aggregate
        if item is None or item.id != item_id:  # a replay, or the organization's command
            item = self.repository.get(item_id, version=version)
        item.position = (self.recorder.position_of(item_id, version) if result.replayed
                         else result.position)
        return item
