"""Who may do what, where: one policy table (role x action) plus the jurisdiction test.

The web issue extends this table; every endpoint asks ``allowed`` before it acts.
"""

from __future__ import annotations

from domain.codes import jurisdiction_contains

STAFF_WRITES = frozenset({
    "register", "change", "annual_inspection", "level_assessment", "certificate_renewal",
    "deregister", "revoke", "ban", "major_event_review", "inspection", "rectification",
    "management_suggestion", "penalty", "credit_listing", "interview", "leadership",
    "term_election", "occupational_ban", "annual_report", "major_event_report",
    "record_community", "raise_warning", "handle_warning", "manage_rules",
    "decide_proposal", "manage_network", "attach_document", "decide_objection",
    "decide_credit_repair",
})

# Every account manages its own credentials: lists, issues and revokes its API tokens.
OWN = frozenset({"own_account"})

POLICY: dict[str, frozenset[str]] = {
    "registration_staff": STAFF_WRITES | {"read", "read_persons"} | OWN,
    # the supervisory unit pre-reviews the annual reports of the organizations it
    # supervises (approves or returns them); the organization drafts and submits its own;
    # upload a document (attach_document): whoever records case-file entries
    "supervisory_unit": frozenset({"read", "major_event_review", "annual_report_review",
                                   "attach_document"}) | OWN,
    "sub_district_office": frozenset({"read", "record_community", "raise_warning",
                                      "handle_warning", "attach_document"}) | OWN,
    "information_officer": frozenset({"read", "raise_warning", "handle_warning"}) | OWN,
    "auditor": frozenset({"read", "read_all", "read_persons"}) | OWN,
    # objections and credit repair are the organization's own (issue 16)
    # its annual report only online, through its supervisory unit's pre-review (issue 16);
    # a report filed on paper is recorded by registration staff (``annual_report``)
    "organization": frozenset({"read", "annual_report_draft", "major_event_report",
                               "attach_document", "file_objection",
                               "apply_credit_repair"}) | OWN,
    # erasing a person's personal data (crypto-shredding) destroys it for good: admins only;
    # a rule's global defaults govern every district: admins only too (``may_change_rule``)
    "admin": frozenset({"manage_accounts", "erase_person", "manage_rules",
                        "change_rule_defaults"}) | OWN,
}


def allowed(role: str, action: str) -> bool:
    return action in POLICY.get(role, frozenset())


def in_scope(*, role: str, jurisdiction: str | None, own_organization: str | None,
             org_identifier: str, org_jurisdiction: str,
             org_supervisory_unit: str | None = None) -> bool:
    """Whether an actor may see or touch this organization (DOMAIN.md section 1): an
    auditor everything, an organization itself, a supervisory unit the organizations it
    supervises within its jurisdiction (``supervised_by``), everyone else their
    jurisdiction."""
    if role == "auditor":
        return True
    if role == "organization":
        return own_organization == org_identifier
    if jurisdiction is None:
        return False
    if role == "supervisory_unit" and not supervises(own_organization, org_supervisory_unit):
        return False
    return jurisdiction_contains(jurisdiction, org_jurisdiction)


def supervised_by(role: str, own_organization: str | None) -> str | None:
    """The supervisory unit whose organizations bound what this actor sees: a
    supervisory unit's account names its unit in its ``organization`` (as an
    organization's account names the organization), the name the organizations record as
    their ``supervisory_unit``; an account of that role naming none sees no organization
    (the empty name, which no organization records). None: the role is not bound so."""
    if role != "supervisory_unit":
        return None
    return own_organization or ""


def supervises(unit: str | None, org_supervisory_unit: str | None) -> bool:
    """The unit (a supervisory unit account's) supervises an organization that records
    this supervisory unit (names compared without surrounding spaces)."""
    return bool(unit and unit.strip()) and (org_supervisory_unit or "").strip() == unit.strip()


def person_in_scope(*, role: str, jurisdiction: str | None,
                    person_jurisdictions: set[str]) -> bool:
    """Whether an actor may see or touch a person's record: an auditor (``read_all``) and
    an admin (``erase_person``) every record; staff one that belongs to a jurisdiction
    within theirs (the person serves an organization there, or was banned there); an
    organization's account none."""
    if allowed(role, "read_all") or allowed(role, "erase_person"):
        return True
    if jurisdiction is None or role == "organization":
        return False
    return any(jurisdiction_contains(jurisdiction, j) for j in person_jurisdictions)


def may_change_rule(*, role: str, jurisdiction: str | None,
                    rule_jurisdiction: str | None) -> bool:
    """Whether an actor may change a rule: its global defaults (``rule_jurisdiction``
    None), which govern every district, only with ``change_rule_defaults`` (admins); one
    jurisdiction's overrides with that, or with ``manage_rules`` (registration staff)
    for a jurisdiction within the actor's own."""
    if allowed(role, "change_rule_defaults"):
        return True
    if rule_jurisdiction is None or jurisdiction is None or not allowed(role, "manage_rules"):
        return False
    return jurisdiction_contains(jurisdiction, rule_jurisdiction)
