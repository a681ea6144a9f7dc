"""The authorization matrix: every role x (own jurisdiction, other jurisdiction, no
jurisdiction) x every endpoint, pages included, against the policy table of
domain/access.py. A cell is denied (403) exactly when the policy table refuses the
role the endpoint's action, or the object lies outside the account's scope; and every
denial is logged once.

The endpoint-to-action table below is the specification the views must follow; the
test fails on any route it does not list, so a new endpoint has to be placed in it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

import pytest

from domain.access import allowed
from domain.codes import jurisdiction_contains
from domain.documents import attachment
from tests.conftest import meta
from tests.support import code, post_signin, registration

PASSWORD = "correct horse battery"
OWN_ORG, OTHER_ORG = code(1), code(2, division="310230")
OWN_COMMITTEE, OTHER_COMMITTEE = "310110001001", "310230001001"

# The supervisory unit of the organizations in the path (OWN_ORG); a supervisory unit's
# account sees only the organizations it supervises: the "unsupervised" variant is a unit
# of the same district that does not supervise them.
UNIT, OTHER_UNIT = "杨浦区民政局", "杨浦区体育局"
# role -> (own jurisdiction, other jurisdiction); None: the role has no jurisdiction
SCOPES = {
    "registration_staff": ("310110000000", "310230000000"),
    "supervisory_unit": ("310110000000", "310230000000"),
    "sub_district_office": ("310110001000", "310230001000"),
    "information_officer": ("310110001001", "310230001001"),
    "auditor": (None, None),
    "organization": (None, None),
    "admin": (None, None),
}

# (method, path, action, scope): scope "org" = the organization in the path or body (a
# person: the organization they serve), "node" = the network node in the path or query,
# "own-node" = the reader's own node, None = no object
ORG = "{org}"
ROUTES = [
    ("POST", "/api/v1/organizations", "register", "org"),
    ("POST", "/api/v1/community-organizations", "record_community", "org"),
    ("GET", "/api/v1/organizations", "read", None),
    ("GET", f"/api/v1/organizations/{ORG}", "read", "org"),
    ("GET", f"/api/v1/organizations/{ORG}/events", "read", "org"),
    ("GET", f"/api/v1/organizations/{ORG}/audit", "read", "org"),
    # the printed case file, here as of a date (the case file's scope, time travel too)
    ("GET", f"/api/v1/organizations/{ORG}/pdf?as_of=2024-01-01", "read", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/changes", "change", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/annual-reports", "annual_report", "org"),
    # the online annual report: the organization drafts and submits its own, the unit
    # that supervises it pre-reviews it (issue 16)
    ("POST", f"/api/v1/organizations/{ORG}/annual-report-drafts", "annual_report_draft",
     "org"),
    ("POST", f"/api/v1/organizations/{ORG}/annual-reports/2023/submission",
     "annual_report_draft", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/annual-reports/2023/return",
     "annual_report_review", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/annual-reports/2023/approval",
     "annual_report_review", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/annual-inspections", "annual_inspection", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/annual-inspections/2023/correction",
     "annual_inspection", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/level-assessments", "level_assessment", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/major-events", "major_event_report", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/major-events/ME1/review", "major_event_review",
     "org"),
    ("POST", f"/api/v1/organizations/{ORG}/inspections", "inspection", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/rectifications", "rectification", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/rectifications/N1/follow-ups", "rectification",
     "org"),
    ("POST", f"/api/v1/organizations/{ORG}/rectifications/N1/completion", "rectification",
     "org"),
    ("POST", f"/api/v1/organizations/{ORG}/management-suggestions", "management_suggestion",
     "org"),
    ("POST", f"/api/v1/organizations/{ORG}/penalties", "penalty", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/penalties/P1/rescission", "penalty", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/resumption", "penalty", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/credit-listings", "credit_listing", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/credit-listings/CL1/removal", "credit_listing",
     "org"),
    # objections and credit repair: the organization's own account files, the staff of
    # its jurisdiction decide (issue 16)
    ("POST", f"/api/v1/organizations/{ORG}/objections", "file_objection", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/objections/OB1/upholding", "decide_objection",
     "org"),
    ("POST", f"/api/v1/organizations/{ORG}/objections/OB1/dismissal", "decide_objection",
     "org"),
    ("POST", f"/api/v1/organizations/{ORG}/credit-repairs", "apply_credit_repair", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/credit-repairs/CR1/approval",
     "decide_credit_repair", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/credit-repairs/CR1/refusal",
     "decide_credit_repair", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/interviews", "interview", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/leaders", "leadership", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/leaders/p1/departure", "leadership", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/leaders/p1/warning", "leadership", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/leaders/p1/replacement-order", "leadership", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/term-elections", "term_election", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/certificate-renewals", "certificate_renewal", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/deregistration", "deregister", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/revocation", "revoke", "org"),
    ("POST", f"/api/v1/organizations/{ORG}/ban", "ban", "org"),
    # documents: an upload by whoever records entries (a JSON body is no PDF: 415 when
    # allowed); a download by whoever may read the organization an entry of holds it
    ("POST", "/api/v1/documents", "attach_document", None),
    ("GET", f"/api/v1/organizations/{ORG}/documents/{{document}}", "read", "org"),
    # a person serves the organization; an admin erases anyone's personal data
    ("POST", "/api/v1/persons/lookup", "read_persons", "org"),
    ("GET", "/api/v1/persons/{person}", "read_persons", "org"),
    ("POST", "/api/v1/persons/occupational-bans", "occupational_ban", "org"),
    ("POST", "/api/v1/persons/{person}/occupational-bans", "occupational_ban", "org"),
    ("POST", "/api/v1/persons/{person}/erasure", "erase_person", None),
    ("GET", "/api/v1/audit/verify", "read_all", None),
    ("GET", "/api/v1/audit/checkpoint", "read_all", None),
    ("GET", "/api/v1/statistics?jurisdiction={node}", "read", "figures"),
    ("GET", "/api/v1/network/{node}", "read", "node"),
    ("GET", "/api/v1/network/{node}/organizations?flag=warning", "read", "node"),
    ("PUT", "/api/v1/network/{node}", "manage_network", "node"),
    ("POST", "/api/v1/network/{node}/officers", "manage_network", "node"),
    ("POST", "/api/v1/network/{node}/officers/officer/removal", "manage_network", "node"),
    ("POST", "/api/v1/warnings", "raise_warning", "org"),
    ("POST", "/api/v1/warnings/{warning}/acknowledgement", "handle_warning", "org"),
    ("POST", "/api/v1/warnings/{warning}/escalation", "handle_warning", "org"),
    ("POST", "/api/v1/warnings/{warning}/resolution", "handle_warning", "org"),
    ("GET", "/api/v1/warnings?jurisdiction={node}", "read", "node"),
    ("GET", "/api/v1/rules", "read", None),
    # without a jurisdiction: the rule's global defaults, which govern every district
    ("PUT", "/api/v1/rules/warning_escalation", "change_rule_defaults", None),
    ("GET", "/api/v1/proposals?jurisdiction={node}", "read", "node"),
    ("POST", "/api/v1/proposals/{proposal}/confirmation", "decide_proposal", "org"),
    ("POST", "/api/v1/proposals/{proposal}/rejection", "decide_proposal", "org"),
    ("POST", "/api/v1/inspection-plans", "inspection", "node"),
    # a plan is read by inspection staff of its jurisdiction and by auditors
    ("GET", "/api/v1/inspection-plans/PLAN-{node}", "inspection|read_all", "node"),
    # its results are published by inspection staff of its jurisdiction (a rule refuses
    # it while drawn organizations wait for their inspection)
    ("POST", "/api/v1/inspection-plans/PLAN-{node}/publication", "inspection", "node"),
    ("GET", "/api/v1/inspection-plans?jurisdiction={node}", "inspection|read_all", "node"),
    # a rule and its history: every reader, and the administrator who changes it
    ("GET", "/api/v1/rules/warning_escalation", "read|manage_rules", None),
    # one's own account and tokens: every role; other accounts: admins
    ("GET", "/api/v1/account", "own_account", None),
    ("GET", "/api/v1/account/tokens", "own_account", None),
    ("POST", "/api/v1/account/tokens", "own_account", None),
    ("POST", "/api/v1/account/tokens/nope/revocation", "own_account", None),
    ("GET", "/api/v1/accounts", "manage_accounts", None),
    ("GET", "/api/v1/accounts/m-auditor-none", "manage_accounts", None),
    ("POST", "/api/v1/accounts/m-auditor-none/tokens/nope/revocation", "manage_accounts",
     None),
    ("POST", "/api/v1/accounts/m-auditor-none/lockout-lifting", "manage_accounts", None),
    # the work queue: what waits for the reader within its own scope
    ("GET", "/api/v1/tasks", "read", None),
    # pages (signed in; they act through the API endpoints above)
    ("PAGE", "/tasks", "read", None),
    ("PAGE", "/warnings/{warning}", "read", "org"),
    ("PAGE", f"/organizations/{ORG}", "read", "org"),
    ("PAGE", f"/organizations/{ORG}/audit", "read", "org"),
    ("PAGE", f"/organizations/{ORG}/annual-reports", "read", "org"),
    ("PAGE", f"/organizations/{ORG}/pdf", "read", "org"),
    ("PAGE", "/network/{node}", "read", "node"),
    ("PAGE", "/admin/accounts", "manage_accounts", None),
    ("PAGE", "/admin/accounts/m-auditor-none", "manage_accounts", None),
    ("PAGE", "/account", "own_account", None),
    ("PAGE", "/organizations", "read", None),
    ("PAGE", f"/organizations/{ORG}/forms/rectifications", "read", "org"),
    ("PAGE", "/network/{node}/organizations?flag=warning", "read", "node"),
    ("PAGE", "/warnings", "read", "own-node"),
    ("PAGE", "/proposals", "read", "own-node"),
    ("PAGE", "/import", "register", None),  # each row's jurisdiction is checked on upload
    # the generated form of any command endpoint: offered to the roles that may run it
    ("PAGE", "/forms/warnings", "raise_warning", None),
    ("PAGE", "/inspection-plans?jurisdiction={node}", "inspection|read_all", "node"),
    ("PAGE", "/inspection-plans/PLAN-{node}", "inspection|read_all", "node"),
    ("PAGE", "/statistics?jurisdiction={node}", "read", "figures"),
    ("PAGE", "/statistics/inspections.csv?jurisdiction={node}", "read", "figures"),
    ("PAGE", "/rules", "read|manage_rules", None),
    ("PAGE", "/rules/warning_escalation", "read|manage_rules", None),
    # the rule's form: for the roles that change rules (where: checked when it posts)
    ("PAGE", "/rules/warning_escalation/change", "manage_rules", None),
]
PUBLIC = {"/healthz", "/readyz", "/openapi.json", "/docs", "/", "/signin", "/signout",
          "/public/organizations", "/public/organizations/<code>", "/public/open-data", "/public/inspections", "/public/inspections/<number>",
          "/public/open-data/files/<name>", "/public/organizations/<code>/documents/<sha256>"}
# the form posts of the pages run the API endpoints listed above; /metrics has a rule of
# its own (a loopback client or METRICS_TOKEN, no account: tests/e2e/test_metrics.py)
LISTED_ELSEWHERE = {"/warnings/<warning_id>/<action>", "/metrics"}
# a lookup by identity number refused for the jurisdiction answers as for a number never
# recorded (404), so that it tells nothing; it is logged as a denial all the same
DENIED_AS_NOT_FOUND = {"/api/v1/persons/lookup"}
LEADER_ID_NUMBER = "11010519491231002X"


def bodies(org: str, node: str, committee: str) -> dict[str, dict]:
    """Bodies that pass validation, so a refusal can only be authorization (or a rule)."""
    return {
        "/api/v1/organizations": registration(90 if org == OWN_ORG else 91, domicile={
            "address": "x", "jurisdiction": committee}),
        "/api/v1/community-organizations": {"name": "广场舞队", "business_scope": "文体",
                                            "founded_on": "2020-01-01",
                                            "domicile": {"address": "x",
                                                         "jurisdiction": committee}},
        "/api/v1/warnings": {"organization": org, "severity": "low", "source": "tip_off",
                             "title": "t", "description": "d"},
        "/api/v1/inspection-plans": {"number": f"PLAN-{node}", "jurisdiction": node,
                                     "inspectors": ["甲", "乙", "丙"], "seed": 1},
        "/api/v1/rules/warning_escalation": {"parameters": {"committee_days": 3},
                                             "reason": "matrix"},
        "/api/v1/persons/lookup": {"id_number": LEADER_ID_NUMBER},
        "/api/v1/persons/occupational-bans": {
            "person": {"name": "李四", "id_number": LEADER_ID_NUMBER}, "from": "2024-01-01",
            "reason": "matrix"},
        "/api/v1/network/{node}": {"name": "节点"},
        "/api/v1/account/tokens": {"name": "matrix"},
        "/api/v1/network/{node}/officers": {"username": "officer"},
        "/api/v1/persons/{person}/occupational-bans": {"from": "2024-01-01",
                                                      "reason": "matrix"},
    }


@pytest.fixture
def world(api, pg_app):
    """Two organizations (own and other district), a warning and a proposal on each,
    a person, and an account per role and scope."""
    assert api.post("/api/v1/organizations",
                    registration(1, supervisory_unit=UNIT)).status_code == 201
    other = registration(2, code=OTHER_ORG, domicile={"address": "y",
                                                      "jurisdiction": OTHER_COMMITTEE})
    assert api.post("/api/v1/organizations", other, as_="auditor").status_code == 403
    pg_app.register_organization(
        meta=meta("2020-05-01"), code=OTHER_ORG, name="外区协会", org_type="social_association",
        domicile={"address": "y", "jurisdiction": OTHER_COMMITTEE}, business_scope="s",
        registered_funds=1, supervisory_unit=None, founded_on=date(2020, 5, 1),
        certificate_valid_until=date(2030, 1, 1))
    warnings, proposals = {}, {}
    for org in (OWN_ORG, OTHER_ORG):
        warnings[org] = pg_app.raise_warning(organization=org, severity="low",
                                             source="tip_off", title="t", description="d",
                                             key=f"matrix:{org}", meta=meta()).id
        from domain.network import Proposal

        proposal = Proposal.propose(key=f"matrix:{org}", kind="listing", organization=org,
                                    jurisdiction=pg_app.get_organization(org)
                                    .domicile["jurisdiction"],
                                    credit_list="abnormal_activity", listing_id=None,
                                    year=None, reason="r", rule="rule:x@v1", meta=meta())
        pg_app.save(proposal)
        proposals[org] = proposal.id
    appointed = pg_app.appoint_leader(
        OWN_ORG, person={"name": "李四", "id_number": LEADER_ID_NUMBER},
        roles=["legal_representative"], term_start=date(2021, 1, 1),
        term_end=date(2025, 12, 31), meta=meta("2021-01-01"))
    person_id = appointed.result["person_id"]
    letter = pg_app.store_document(b"%PDF-1.4 matrix")
    pg_app.execute(OWN_ORG, command="interview", person_name="王", person_role="秘书长",
                   topics=["t"], meta=replace(meta("2021-02-01"), documents=(
                       attachment(letter, "约谈记录.pdf", False, False),)))
    accounts = {}
    for role, (own, other_scope) in SCOPES.items():
        variants = {"own": own, "other": other_scope} if own else {"none": None}
        if role == "organization":
            variants = {"own": OWN_ORG, "other": OTHER_ORG}
        if role == "supervisory_unit":
            variants["unsupervised"] = own
        for variant, scope in variants.items():
            username = f"m-{role.replace('_', '-')}-{variant}"
            organization = scope if role == "organization" else None
            if role == "supervisory_unit":  # the account names its unit
                organization = OTHER_UNIT if variant == "unsupervised" else UNIT
            pg_app.open_account(username=username, password=PASSWORD, display_name=username,
                                role=role,
                                jurisdiction=scope if role != "organization" else None,
                                organization=organization, meta=meta())
            accounts[(role, variant)] = (username, pg_app.issue_token(username, meta()))
    api.get(api.org(1))  # the read models have caught up
    return {"accounts": accounts, "warnings": warnings, "proposals": proposals,
            "person": person_id, "document": letter.sha256}


def expected_denied(role: str, variant: str, action: str, scope_kind: str | None) -> bool:
    """Denied when the policy table refuses the action, or the object (always in
    district 310110) is outside the account's scope."""
    if not any(allowed(role, a) for a in action.split("|")):
        return True
    if scope_kind is None or role == "auditor":
        return False
    if scope_kind == "figures":  # a jurisdiction's statistics: whole jurisdictions, which
        if role == "supervisory_unit":  # a supervisory unit does not see (its own
            return True  # organizations' figures are on the network page)
        scope_kind = "node"
    if scope_kind == "own-node":  # the reader's own node: any account that has one
        return SCOPES[role][0] is None
    if role == "organization":
        return scope_kind == "node" or variant == "other"
    if variant == "unsupervised":  # its own district, not the organization's unit
        return scope_kind == "org"
    jurisdiction = SCOPES[role][0 if variant == "own" else 1]
    target = OWN_COMMITTEE if scope_kind == "org" else SCOPES[role][0]
    return jurisdiction is None or not jurisdiction_contains(jurisdiction, target)


def test_every_cell_of_the_matrix_follows_the_policy_table(api, world, caplog):
    web = api.client.application
    routes = {r.rule for r in web.url_map.iter_rules() if not r.rule.startswith("/static")}
    matcher, covered = web.url_map.bind(""), set()
    differences, denials = [], 0
    caplog.set_level(logging.WARNING, logger="adapters.web")
    for (role, variant), (username, token) in world["accounts"].items():
        client = web.test_client()
        signed = post_signin(client, {"username": username, "password": PASSWORD})
        assert signed.status_code == 302, username
        for method, template, action, scope_kind in ROUTES:
            # the objects are always in district 310110: inside the "own" accounts'
            # jurisdiction, outside the "other" accounts'
            org, committee = OWN_ORG, OWN_COMMITTEE
            node = SCOPES[role][0] or "310110000000"
            path = template.format(org=org, node=node, warning=world["warnings"][org],
                                   proposal=world["proposals"][org], person=world["person"],
                                   document=world["document"])
            body = bodies(org, node, committee).get(template.split("?")[0].replace(
                "{org}", ORG)) or bodies(org, node, committee).get(
                template.split("?")[0]) or {}
            headers = {"Authorization": f"Bearer {token}"}
            rule, _ = matcher.match(path.split("?")[0], method="GET" if method == "PAGE"
                                    else method, return_rule=True)
            covered.add(rule.rule)
            if method == "PAGE":
                response = client.get(path)
            elif method == "GET":
                response = client.get(path, headers=headers)
            else:
                response = client.open(path, method=method, json=body, headers=headers)
            denied = response.status_code == 403 or (
                response.status_code == 404 and path in DENIED_AS_NOT_FOUND)
            denials += denied
            want = expected_denied(role, variant, action, scope_kind)
            if denied != want:
                differences.append(f"{role}/{variant} {method} {path}: got "
                                   f"{response.status_code}, policy says "
                                   f"{'deny' if want else 'allow'}")
    logged = sum(1 for r in caplog.records if r.getMessage().startswith("denied:"))
    assert differences == []
    assert logged == denials
    assert routes - PUBLIC - LISTED_ELSEWHERE - covered == set()
