"""The organization's filings, decisions and closures."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from domain import credit_remedies
from domain.meta import Meta
from domain.organization import Organization
from services.application import CommandResult


SIMPLE_COMMANDS = {
    "change": "register_change",
    "annual_report": "file_annual_report",
    "annual_report_draft": "save_annual_report_draft",
    "annual_report_submission": "submit_annual_report",
    "annual_report_return": "return_annual_report",
    "annual_report_approval": "approve_annual_report",
    "annual_inspection": "conclude_annual_inspection",
    "annual_inspection_correction": "correct_annual_inspection",
    "level_assessment": "assess_level",
    "certificate_renewal": "renew_certificate",
    "major_event": "report_major_event",
    "major_event_review": "review_major_event",
    "inspection": "conduct_inspection",
    "rectification": "order_rectification",
    "rectification_follow_up": "follow_up_rectification",
    "rectification_completion": "complete_rectification",
    "rectification_overdue": "mark_rectification_overdue",
    "management_suggestion": "issue_management_suggestion",
    "resumption": "resume_activities",
    "credit_listing": "list_on_credit_list",
    "credit_listing_removal": "remove_from_credit_list",
    "interview": "hold_interview",
    "leader_warning": "warn_leader",
    "leader_replacement_order": "order_leader_replacement",
}

# the objections and credit repair (domain.credit_remedies): functions of the organization
REMEDY_COMMANDS = {
    "objection": credit_remedies.file_objection,
    "objection_upheld": credit_remedies.uphold_objection,
    "objection_dismissed": credit_remedies.dismiss_objection,
    "credit_repair": credit_remedies.apply_for_credit_repair,
    "credit_repair_approved": credit_remedies.approve_credit_repair,
    "credit_repair_refused": credit_remedies.refuse_credit_repair,
}


class OrganizationUseCases:
    """Mixed into the application (services.casefiles.CaseFiles)."""

    def register_organization(self, *, meta: Meta, idempotency_key: str | None = None,
                              fingerprint: str = "", **fields: Any) -> CommandResult:
        return self._create(lambda: Organization.register(meta=meta, **fields), meta=meta,
                            idempotency_key=idempotency_key, fingerprint=fingerprint)

    def record_community_organization(self, *, meta: Meta, code: str | None = None,
                                      idempotency_key: str | None = None,
                                      fingerprint: str = "", **fields: Any) -> CommandResult:
        jurisdiction = fields["domicile"]["jurisdiction"]
        record_number = f"BA{jurisdiction}{secrets.token_hex(3).upper()}"
        return self._create(
            lambda: Organization.record(meta=meta, code=code, record_number=record_number,
                                        **fields),
            meta=meta, idempotency_key=idempotency_key, fingerprint=fingerprint)

    def execute(self, identifier: str, command: str, *, meta: Meta,
                expected_version: int | None = None, idempotency_key: str | None = None,
                fingerprint: str = "", **args: Any) -> CommandResult:
        """Run one of the organization's single-aggregate commands by name, with the
        parameters of the rules it applies (services.rules) as they stand now."""
        remedy = REMEDY_COMMANDS.get(command)
        method = None if remedy else SIMPLE_COMMANDS[command]

        def decide(org: Organization):
            function = remedy or getattr(org, method)
            rules, applied = self.applying(function, org.domicile["jurisdiction"], meta)
            returned = (remedy(org, meta=applied, **args, **rules) if remedy
                        else function(meta=applied, **args, **rules))
            return (), ({"id": returned} if returned is not None else {})

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def close_organization(self, identifier: str, how: str, *, meta: Meta,
                           expected_version: int | None = None,
                           idempotency_key: str | None = None, fingerprint: str = "",
                           **penalty: Any) -> CommandResult:
        """Deregistration, revocation, ban, or a penalty (which may revoke): the leaders'
        posts end, and for a revocation or ban each leader's record keeps it (rule 8)."""

        def decide(org: Organization):
            persons = [self.get_person(UUID(p)) for p in sorted(org.leaders)]
            if how == "penalty":
                org.impose_penalty(meta=meta, **penalty)
            else:
                getattr(org, {"deregister": "deregister", "revoke": "revoke",
                              "ban": "ban"}[how])(meta=meta)
            if org.is_closed:
                for person in persons:
                    if org.status == "deregistered":
                        person.leave_post(organization=identifier, meta=meta)
                    else:
                        person.record_sanctioned_organization(organization=identifier,
                                                              status=org.status, meta=meta)
            return persons, {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def rescind_penalty(self, identifier: str, *, decision_number: str, meta: Meta,
                        expected_version: int | None = None,
                        idempotency_key: str | None = None,
                        fingerprint: str = "") -> CommandResult:
        """A rescinded revocation no longer bars the leaders it removed (rule 8)."""

        def decide(org: Organization):
            closure = org.closure or {}
            revoked = (org.penalties.get(decision_number, {}).get("kind") == "revocation"
                       and org.status == "revoked")
            org.rescind_penalty(decision_number=decision_number, meta=meta)
            persons = []
            if revoked:
                for person_id in closure.get("leaders", []):
                    person = self.get_person(UUID(person_id))
                    person.lift_sanction(organization=identifier, meta=meta)
                    persons.append(person)
            return persons, {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)
