"""The commands, each declared once: its HTTP method and path, the policy action it asks
for (domain/access.py), the body it accepts, the use case it calls and how the body and
the URL become that use case's arguments.

Everything that offers or runs a command reads this one declaration: the JSON API's
routes (adapters/web/api.py), the page forms and which roles see their links
(adapters/web/forms.py), the OpenAPI document (adapters/web/openapi.py) and the register
importer (adapters/seed/importer.py, which takes the registration's field declarations).
Nothing here knows about Flask: the web reads it, and so may any other entry point.

Every command's body also takes the meta fields (``META_SCHEMA``): the business date it
takes effect, why, and the decision or notice number.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Callable
from uuid import UUID

from adapters.commands import validation as v
from domain.codes import validate_jurisdiction
from domain.credit_remedies import OBJECTION_ENTRIES
from domain.documents import SHA256_RE
from domain.errors import InvalidValue, NotFound
from domain.inspection_plan import AUTHORITY_LEVELS, MAX_SEED, validate_plan_jurisdiction
from domain.network import SEVERITIES, SOURCES
from domain.organization import (CONCLUSIONS, CREDIT_LISTS, GRADES, LEADER_ROLES,
                                 MAJOR_EVENT_CATEGORIES, MAJOR_EVENT_RECIPIENTS,
                                 OFFICIAL_STATUSES, PENALTY_KINDS, REGISTERED_TYPES,
                                 RISK_LEVELS)
from services.errors import PersonNotFound
from services.inspection_plans import draw_inspection_plan, publish_plan_results

META_SCHEMA = {"effective_date": v.a_date(required=False, nullable=True),
               "reason": v.text(False, 1000, nullable=True),
               "reference": v.line(False, 100, nullable=True)}


def sha256_hex(value: str, path: str) -> str:
    if not SHA256_RE.fullmatch(value):
        raise v.BadRequest(f"{path} must be a SHA-256 in 64 lowercase hex digits", field=path)
    return value


# The documents an entry rests on (issue 16 item 6), uploaded first (POST
# /api/v1/documents); ``public``: the public may download it with a public entry;
# ``personal``: it is the personal data of the person the command is about, erased with
# theirs. Only the commands that record a case-file entry take it (``Command.meta_schema``).
DOCUMENTS = v.F("list", False, maximum=20, item=v.obj({
    "sha256": v.F("str", True, max_len=64, check=sha256_hex, identifier=True),
    "name": v.line(max_len=200), "public": v.boolean(False), "personal": v.boolean(False)}))
ENTRY_META_SCHEMA = {**META_SCHEMA, "documents": DOCUMENTS}
# The targets of the commands that record an entry of an organization's case file.
ENTRY_TARGETS = ("organization", "domicile")

Args = Callable[[dict, dict], dict]  # (body fields, URL arguments) -> keyword arguments
Check = Callable[[dict, dict], None]  # (body fields, meta fields): raises BadRequest


@dataclass(frozen=True)
class Command:
    """One command, as every entry point offers it.

    ``target`` names what the actor's scope is checked against: ``organization`` (the
    path's organization, checked by the use case on the aggregate it loads), ``domicile``
    (a new organization's, in the body), ``person`` (the path's person, checked by the
    use case on the person it loads: their record's jurisdictions), ``named_person`` (the
    body's person, likewise, or a new one), ``node`` (the path's network node), ``warning`` / ``proposal`` (the
    organization of the path's item, checked by the use case on the item it loads),
    ``warned`` (the body's organization, likewise), ``plan`` (the body's jurisdiction),
    ``plan_path`` (the path's plan: it must exist, its jurisdiction within the actor's),
    ``rule`` (the body's jurisdiction: none, the global defaults, needs the action
    ``change_rule_defaults`` besides ``action``; domain.access.may_change_rule) or None.
    ``context`` lists what the use case takes beyond its arguments: ``meta`` (who, when,
    why), ``expected_version`` (If-Match), ``idempotency`` (Idempotency-Key and the
    request's fingerprint), ``warning_key`` (a manual warning's key: from the
    Idempotency-Key, so after ``idempotency``) and ``register``
    (the register the inspection plan draws from), ``jurisdiction`` (the actor's, where a
    ban is recorded), ``own_account`` (the actor's username: a command on one's own
    account). ``account``: the path's account, which must exist. ``answer`` names what the answer shows;
    ``status`` is its HTTP status (None: 201 when the command issued an item's id, else
    200)."""

    name: str
    method: str
    path: str
    action: str
    schema: dict[str, v.F]
    use_case: str | Callable[..., Any]
    args: Args
    target: str | None
    answer: str
    status: int | None = 200
    context: tuple[str, ...] = ("meta", "expected_version", "idempotency")
    summary: str | None = None
    checks: tuple[Check, ...] = ()
    parse: Callable[[Any], tuple[dict, dict]] | None = None  # a body beyond the schema

    @property
    def meta_schema(self) -> dict[str, v.F]:
        """The meta fields its body takes: with ``documents`` where it records a case-file
        entry."""
        if self.target in ENTRY_TARGETS and "meta" in self.context:
            return ENTRY_META_SCHEMA
        return META_SCHEMA

    @property
    def endpoint(self) -> str:
        return "api." + self.name

    @property
    def rule(self) -> str:
        return "/api/v1" + self.path


# ------------------------------------------------------------------ arguments

def fields(body: dict, url: dict) -> dict:
    return dict(body)


def renamed(**renames: str) -> Args:
    """The body's fields, with some renamed or taken from the URL: target=source."""
    def args(body: dict, url: dict) -> dict:
        out = dict(body)
        for target, source in renames.items():
            out[target] = url[source] if source in url else out.pop(source)
        return out
    return args


def defaults(**values: Any) -> Callable[[Args], Args]:
    def wrap(inner: Args) -> Args:
        return lambda body, url: {**values, **inner(body, url)}
    return wrap


def on(*path_args: str, then: Args = fields, **constants: Any) -> Args:
    """The use case's leading arguments from the URL, constants such as a command's name,
    then the body's."""
    def args(body: dict, url: dict) -> dict:
        return {**{a: url[a] for a in path_args}, **constants, **then(body, url)}
    return args


def at_organization(*path_args: str, then: Args = fields, **constants: Any) -> Args:
    """An organization's command: the path's ``code`` is the use case's ``identifier``."""
    inner = on(*path_args, then=then, **constants)

    def args(body: dict, url: dict) -> dict:
        return {"identifier": url["code"], **inner(body, url)}
    return args


def person_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise PersonNotFound(f"no person {value}", field="person") from None


def item_id(value: str, what: str) -> UUID:
    """A warning's or a proposal's id from the path; not one: there is no such item."""
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(f"no {what} {value}", field="id") from None


def on_person(then: Args = fields) -> Args:
    return lambda body, url: {"person_id": person_id(url["person_id"]), **then(body, url)}


# --------------------------------------------------------------------- checks

def reason_required(body: dict, meta: dict) -> None:
    if not meta.get("reason"):
        raise v.BadRequest("reason is required", field="reason")


def until_not_before_from(body: dict, meta: dict) -> None:
    if body.get("until") and body.get("from") and body["until"] < body["from"]:
        raise v.BadRequest("until must not be before from", field="until")


def plan_jurisdiction(value: str, path: str) -> str:
    """A plan's jurisdiction: a district or a sub-district, not a single committee."""
    try:
        return validate_plan_jurisdiction(value)
    except InvalidValue as e:
        raise v.BadRequest(e.message.replace("jurisdiction", path, 1), field=path) from None


def rule_change_body(data: Any) -> tuple[dict, dict]:
    """A rule's change: its parameters are the rule's own (the rule checks them), so the
    body is read here rather than by the schema alone."""
    if not isinstance(data, dict):
        raise v.BadRequest("the body must be a JSON object")
    unknown = set(data) - {"parameters", "jurisdiction", "reason", "reference",
                           "effective_date"}
    if unknown:
        raise v.BadRequest(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    parameters = data.get("parameters")
    if not isinstance(parameters, dict) or not parameters or len(parameters) > 20:
        raise v.BadRequest("parameters must be an object of 1-20 values", field="parameters")
    meta_fields = v.parse({k: data[k] for k in META_SCHEMA if k in data}, META_SCHEMA)
    return {"parameters": parameters, "jurisdiction": data.get("jurisdiction")}, meta_fields


def plan_number(value: str, path: str) -> str:
    if "/" in value:
        raise v.BadRequest(f"{path} must not contain '/'", field=path)
    return value


GENERATED_SEED_BITS = 53  # a generated seed stays exact in any JSON client's numbers


def _plan_args(body: dict, url: dict) -> dict:
    seed = body.get("seed")
    return {"number": body["number"], "jurisdiction": body["jurisdiction"],
            "seed": secrets.randbits(GENERATED_SEED_BITS) if seed is None else seed,
            "inspectors": body["inspectors"], "authority_level": body.get("authority_level")}


# --------------------------------------------------------------------- bodies

DOMICILE = v.obj({"address": v.line(max_len=300), "jurisdiction": v.committee()})

REGISTRATION = {
    "code": v.credit_code(), "name": v.line(max_len=200), "type": v.enum(REGISTERED_TYPES),
    "domicile": DOMICILE, "business_scope": v.text(max_len=2000),
    "registered_funds": v.money(), "supervisory_unit": v.line(nullable=True),
    "founded_on": v.a_date(), "certificate_valid_until": v.a_date(),
}

COMMUNITY = {"code": v.credit_code(required=False, nullable=True), "name": v.line(max_len=200),
             "domicile": DOMICILE, "business_scope": v.text(max_len=2000),
             "founded_on": v.a_date()}

PERSON = v.obj({"name": v.line(max_len=100), "id_number": v.id_number()})

REPORT_FIELDS = {"year": v.integer(1980, 2100), "income": v.money(),
                 "expenditure": v.money(), "net_assets": v.money(minimum=None),
                 "activities_held": v.integer(0, 100000), "party_organization": v.boolean(),
                 # optional (AnnualReportFiled v2): absent or null, not reported
                 "full_time_staff": v.integer(0, 1000000, required=False, nullable=True)}

CHANGES = {"changes": v.obj({
    "name": v.line(False, 200), "domicile": v.obj(DOMICILE.schema, required=False),
    "business_scope": v.text(False, 2000), "registered_funds": v.money(False),
    "supervisory_unit": v.line(False, nullable=True)}),
    "approval_date": v.a_date()}

PENALTY = {"decision_number": v.line(max_len=64), "kind": v.enum(PENALTY_KINDS),
           "legal_basis": v.text(max_len=1000), "amount": v.money(False, nullable=True),
           "decision_date": v.a_date(), "suspended_until": v.a_date(False, nullable=True)}

APPOINTMENT = {"person": PERSON,
               "roles": v.F("list", True, maximum=5, item=v.enum(LEADER_ROLES)),
               "term_start": v.a_date(), "term_end": v.a_date(),
               "public_notice": v.obj({"from": v.a_date(), "to": v.a_date()}, False, True),
               "official_status": v.enum(OFFICIAL_STATUSES, False),
               "approval_reference": v.line(False, 100, True),
               "replaces": v.line(False, 64, True), "departure_audit_done": v.boolean(False)}

# the evidence an organization offers (a description or a document's reference; attached
# documents come through every command's meta once they exist)
EVIDENCE = v.text(False, 4000, nullable=True)

BAN = {"from": v.a_date(), "until": v.a_date(False, True)}


def ban_dates(body: dict, url: dict) -> dict:
    return {"banned_from": body["from"], "banned_until": body.get("until")}


WARNING = {"organization": v.line(max_len=40), "severity": v.enum(SEVERITIES),
           "source": v.enum(tuple(s for s in SOURCES if s != "rule")),
           "title": v.line(max_len=200), "description": v.text(max_len=4000)}

RULE_CHANGE = {"parameters": v.F("map", True, maximum=20),  # read by rule_change_body
               "jurisdiction": v.F("str", False, max_len=12, nullable=True,
                                   check=validate_jurisdiction)}

PLAN = {
    "number": v.F("str", True, max_len=64, check=plan_number),
    "jurisdiction": v.jurisdiction(plan_jurisdiction),
    "seed": v.integer(0, MAX_SEED, required=False),
    "inspectors": v.lines(max_items=200),
    "authority_level": v.enum(AUTHORITY_LEVELS, required=False),
}


# ------------------------------------------------------------------ commands

def organization_command(path: str, command: str, action: str, schema: dict[str, v.F],
                         then: Args = fields, checks: tuple[Check, ...] = ()) -> Command:
    """One of the organization's single-aggregate commands (``CaseFiles.execute``), at
    /organizations/<code>/<path>; 201 when it issues an item's id."""
    return Command(f"command_{command}", "POST", f"/organizations/<code>/{path}", action,
                   schema, "execute", at_organization(command=command, then=then),
                   "organization", "organization", status=None, checks=checks)


ORG = "/organizations/<code>"

COMMANDS: list[Command] = [
    Command("register", "POST", "/organizations", "register", REGISTRATION,
            "register_organization",
            defaults(supervisory_unit=None)(renamed(org_type="type")),
            "domicile", "organization", 201, ("meta", "idempotency"),
            "Register an organization (成立登记)."),
    Command("record_community", "POST", "/community-organizations", "record_community",
            COMMUNITY, "record_community_organization", fields, "domicile", "organization",
            201, ("meta", "idempotency"), "Record a community organization (备案)."),
    organization_command("changes", "change", "change", CHANGES),
    organization_command("annual-reports", "annual_report", "annual_report", REPORT_FIELDS),
    # the online annual report (issue 16): the organization drafts and submits, its
    # supervisory unit pre-reviews; an approved (or directly registered organization's
    # submitted) report is filed as by annual-reports above
    organization_command("annual-report-drafts", "annual_report_draft",
                         "annual_report_draft", REPORT_FIELDS),
    organization_command("annual-reports/<int:year>/submission", "annual_report_submission",
                         "annual_report_draft", {}, renamed(year="year")),
    organization_command("annual-reports/<int:year>/return", "annual_report_return",
                         "annual_report_review", {"comments": v.text(max_len=4000)},
                         renamed(year="year")),
    organization_command("annual-reports/<int:year>/approval", "annual_report_approval",
                         "annual_report_review", {}, renamed(year="year")),
    organization_command("annual-inspections", "annual_inspection", "annual_inspection",
                         {"year": v.integer(1980, 2100), "result": v.enum(CONCLUSIONS),
                          "findings": v.text()}),
    organization_command("annual-inspections/<int:year>/correction",
                         "annual_inspection_correction", "annual_inspection",
                         {"result": v.enum(CONCLUSIONS), "findings": v.text()},
                         renamed(year="year")),
    organization_command("level-assessments", "level_assessment", "level_assessment",
                         {"grade": v.enum(GRADES)}),
    organization_command("major-events", "major_event", "major_event_report",
                         {"category": v.enum(MAJOR_EVENT_CATEGORIES),
                          "planned_date": v.a_date(), "description": v.text(),
                          "sent_to": v.F("list", True, maximum=3,
                                         item=v.enum(MAJOR_EVENT_RECIPIENTS))}),
    organization_command("major-events/<report_id>/review", "major_event_review",
                         "major_event_review",
                         {"opinion": v.text(), "risk_level": v.enum(RISK_LEVELS)},
                         renamed(report_id="report_id")),
    organization_command("inspections", "inspection", "inspection",
                         {"items": v.lines(), "findings": v.text(), "on_site": v.boolean(),
                          "inspectors": v.lines(max_items=20),
                          "plan_id": v.line(False, 64, True)},
                         defaults(plan_id=None)(fields)),
    organization_command("rectifications", "rectification", "rectification",
                         {"notice_number": v.line(max_len=64), "issues": v.lines(),
                          "deadline": v.a_date()}),
    organization_command("rectifications/<notice_number>/follow-ups",
                         "rectification_follow_up", "rectification", {"note": v.text()},
                         renamed(notice_number="notice_number")),
    organization_command("rectifications/<notice_number>/completion",
                         "rectification_completion", "rectification", {"note": v.text()},
                         renamed(notice_number="notice_number")),
    organization_command("management-suggestions", "management_suggestion",
                         "management_suggestion",
                         {"number": v.line(max_len=64), "content": v.text()}),
    organization_command("resumption", "resumption", "penalty", {}),
    organization_command("credit-listings", "credit_listing", "credit_listing",
                         {"list": v.enum(CREDIT_LISTS)}, renamed(credit_list="list"),
                         (reason_required,)),
    organization_command("credit-listings/<listing_id>/removal", "credit_listing_removal",
                         "credit_listing", {}, renamed(listing_id="listing_id"),
                         (reason_required,)),
    # issue 16: objections (异议) and credit repair (信用修复), by the organization's own
    # account, decided by the registration staff of its jurisdiction (domain.credit_remedies)
    organization_command("objections", "objection", "file_objection",
                         {"entry": v.enum(OBJECTION_ENTRIES), "entry_id": v.line(max_len=64),
                          "evidence": EVIDENCE},
                         defaults(evidence=None)(fields), (reason_required,)),
    organization_command("objections/<objection_id>/upholding", "objection_upheld",
                         "decide_objection",
                         {"result": v.enum(CONCLUSIONS, required=False),
                          "findings": v.text(False, nullable=True)},
                         defaults(result=None, findings=None)(
                             renamed(objection_id="objection_id")), (reason_required,)),
    organization_command("objections/<objection_id>/dismissal", "objection_dismissed",
                         "decide_objection", {}, renamed(objection_id="objection_id"),
                         (reason_required,)),
    organization_command("credit-repairs", "credit_repair", "apply_credit_repair",
                         {"listing_id": v.line(max_len=64), "evidence": EVIDENCE},
                         defaults(evidence=None)(fields), (reason_required,)),
    organization_command("credit-repairs/<application_id>/approval",
                         "credit_repair_approved", "decide_credit_repair", {},
                         renamed(application_id="application_id"), (reason_required,)),
    organization_command("credit-repairs/<application_id>/refusal", "credit_repair_refused",
                         "decide_credit_repair", {}, renamed(application_id="application_id"),
                         (reason_required,)),
    organization_command("interviews", "interview", "interview",
                         {"person_name": v.line(max_len=100),
                          "person_role": v.line(max_len=100), "topics": v.lines()}),
    organization_command("leaders/<person_id>/warning", "leader_warning", "leadership", {},
                         renamed(person_id="person_id"), (reason_required,)),
    organization_command("leaders/<person_id>/replacement-order",
                         "leader_replacement_order", "leadership",
                         {"deadline": v.a_date()}, renamed(person_id="person_id")),
    organization_command("certificate-renewals", "certificate_renewal",
                         "certificate_renewal", {"valid_until": v.a_date()}),
    Command("impose_penalty", "POST", f"{ORG}/penalties", "penalty", PENALTY,
            "close_organization",
            at_organization(how="penalty",
                            then=defaults(amount=None, suspended_until=None)(fields)),
            "organization", "organization", 201,
            summary="Impose a penalty (行政处罚); a suspension suspends, a revocation revokes."),
    Command("rescind_penalty", "POST", f"{ORG}/penalties/<decision_number>/rescission",
            "penalty", {}, "rescind_penalty", at_organization("decision_number"), "organization",
            "organization", summary="Rescind a penalty after reconsideration or a court "
                                    "ruling."),
    Command("close_deregister", "POST", f"{ORG}/deregistration", "deregister", {},
            "close_organization", at_organization(how="deregister"), "organization",
            "organization"),
    Command("close_revoke", "POST", f"{ORG}/revocation", "revoke", {}, "close_organization",
            at_organization(how="revoke"), "organization", "organization",
            checks=(reason_required,)),
    Command("close_ban", "POST", f"{ORG}/ban", "ban", {}, "close_organization",
            at_organization(how="ban"), "organization", "organization",
            checks=(reason_required,)),
    Command("appoint_leader", "POST", f"{ORG}/leaders", "leadership", APPOINTMENT,
            "appoint_leader", at_organization(), "organization", "organization", 201,
            summary="Appoint a leader; a new legal representative replaces the serving "
                    "one."),
    Command("leader_departure", "POST", f"{ORG}/leaders/<person_id>/departure",
            "leadership", {"departure_reason": v.text(max_len=1000),
                           "departure_audit_done": v.boolean()},
            "record_leader_departure", at_organization("person_id"), "organization",
            "organization", summary="Record a leader's departure."),
    Command("term_election", "POST", f"{ORG}/term-elections", "term_election",
            {"term_start": v.a_date(), "term_end": v.a_date()}, "hold_term_election",
            at_organization(), "organization", "organization", 201,
            summary="Record a term election (换届)."),
    Command("lookup_person", "POST", "/persons/lookup", "read_persons",
            {"id_number": v.id_number()}, "find_person", fields, None, "person_found",
            context=(),
            summary="Look a person up by identity number (in the body, never in a URL): "
                    "their pseudonymous id, masked number, bans and posts; 404 for a "
                    "number never recorded, an erased person or one outside your "
                    "jurisdiction. Records nothing."),
    Command("ban_person", "POST", "/persons/occupational-bans", "occupational_ban",
            {"person": PERSON, **BAN}, "ban_person",
            lambda body, url: {"person": body["person"], **ban_dates(body, url)},
            "named_person", "person_changed", 201,
            ("meta", "idempotency", "jurisdiction"),
            "Record an occupational ban (从业禁止) against a person named by identity "
            "number, recording the person if they are new.",
            checks=(until_not_before_from, reason_required)),
    Command("occupational_ban", "POST", "/persons/<person_id>/occupational-bans",
            "occupational_ban", BAN, "record_occupational_ban", on_person(ban_dates),
            "person", "person_changed", 201,
            ("meta", "expected_version", "idempotency", "jurisdiction"),
            summary="Record an occupational ban (从业禁止) against a recorded person.",
            checks=(until_not_before_from, reason_required)),
    Command("erase_person", "POST", "/persons/<person_id>/erasure", "erase_person", {},
            "erase_person", on_person(), "person", "person_erased", 201,
            ("meta", "idempotency"),
            "Erase a person's personal data (crypto-shredding); reason required",
            checks=(reason_required,)),
    Command("raise_warning", "POST", "/warnings", "raise_warning", WARNING, "raise_warning",
            fields, "warned", "warning", 201, ("meta", "idempotency", "warning_key"),
            "Raise a warning about an organization, at its residents' committee."),
    *(Command(f"warning_{action}", "POST", f"/warnings/<warning_id>/{action}",
              "handle_warning", {"note": v.text(max_len=2000)} if action == "resolution"
              else {}, "handle_warning",
              lambda body, url, _a=action: {
                  "warning_id": item_id(url["warning_id"], "warning"), "action": _a,
                  "note": body.get("note")},
              "warning", "warning", context=("meta", "expected_version", "idempotency"))
      for action in ("acknowledgement", "escalation", "resolution")),
    Command("change_rule", "PUT", "/rules/<name>", "manage_rules", RULE_CHANGE,
            "change_rule", on("name"), "rule", "rule", context=("meta",),
            summary="Change a rule's global defaults (no jurisdiction: admins only, "
                    "action change_rule_defaults), or the overrides of a jurisdiction within "
                    "yours; the change is an event and the rule's version goes up.",
            checks=(reason_required,), parse=rule_change_body),
    *(Command(f"proposal_{decision}", "POST", f"/proposals/<proposal_id>/{decision}",
              "decide_proposal", {}, "decide_proposal",
              lambda body, url, confirm=confirm: {
                  "proposal_id": item_id(url["proposal_id"], "proposal"), "confirm": confirm},
              "proposal", "proposal", context=("meta", "idempotency"), checks=checks)
      for decision, verb, confirm, checks in (("confirmation", "confirm", True, ()),
                                              ("rejection", "reject", False,
                                               (reason_required,)))),
    Command("establish_node", "PUT", "/network/<code>", "manage_network",
            {"name": v.line(max_len=100)}, "establish_node", on("code", then=fields), "node",
            "node", 201, ("meta",), "Establish a node of the network."),
    Command("assign_officer", "POST", "/network/<code>/officers", "manage_network",
            {"username": v.line(max_len=64)}, "assign_officer", on("code", then=fields),
            "node", "officers", 201, ("meta",), "Assign an information officer to a node."),
    Command("remove_officer", "POST", "/network/<code>/officers/<username>/removal",
            "manage_network", {}, "assign_officer",
            on("code", "username", remove=True), "node", "officers", context=("meta",),
            summary="Remove an information officer from a node."),
    Command("issue_own_token", "POST", "/account/tokens", "own_account",
            {"name": v.line(max_len=100)}, "issue_token", fields, None, "token_issued",
            201, ("meta", "own_account"),
            "Issue a new API token for yourself, named; it expires after TOKEN_LIFETIME_DAYS "
            "(default 90). The answer shows it once."),
    Command("revoke_own_token", "POST", "/account/tokens/<token_id>/revocation",
            "own_account", {}, "revoke_token", on("token_id"), None, "account",
            context=("meta", "own_account"), summary="Revoke one of your API tokens."),
    Command("revoke_token", "POST", "/accounts/<username>/tokens/<token_id>/revocation",
            "manage_accounts", {}, "revoke_token", on("username", "token_id"), "account",
            "account", context=("meta",), summary="Revoke one API token of an account "
                                                   "(admins)."),
    Command("lift_lockout", "POST", "/accounts/<username>/lockout-lifting",
            "manage_accounts", {}, "lift_lockout", on("username"), "account", "account",
            context=("meta",),
            summary="Lift an account's sign-in lockout before it ends (admins)."),
    Command("plan_inspection", "POST", "/inspection-plans", "inspection", PLAN,
            draw_inspection_plan, _plan_args, "plan", "plan", 201, ("meta", "register"),
            "Draw a double-random inspection plan."),
    Command("publish_inspection_results", "POST", "/inspection-plans/<number>/publication",
            "inspection", {}, publish_plan_results, on("number"), "plan_path", "plan", 200,
            ("meta",), "Publish a plan's results (双随机一公开): each drawn organization's "
            "outcome, once every one has an inspection recorded against the plan; public "
            "from then on, at /public/inspections."),
]

BY_ENDPOINT: dict[str, Command] = {c.endpoint: c for c in COMMANDS}
