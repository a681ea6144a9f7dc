"""The JSON API, /api/v1: parse, authorize, call a use case, serialize.

Every write takes the business date it takes effect (``effective_date``, default today in
China Standard Time), an optional ``reason`` and ``reference``; the ``Idempotency-Key``
header makes a retry safe and the ``If-Match`` header carries the expected version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from uuid import UUID

from flask import Blueprint, current_app, g, jsonify, request

from adapters.commands import validation as v
from projections.documents import (organization_document, plain,
                                  with_certificate_state)
from domain.access import allowed, in_scope
from domain.meta import Meta
from domain.organization import (CONCLUSIONS, CREDIT_LISTS, GRADES, LEADER_ROLES,
                                 MAJOR_EVENT_CATEGORIES, MAJOR_EVENT_RECIPIENTS,
                                 OFFICIAL_STATUSES, PENALTY_KINDS, REGISTERED_TYPES,
                                 RISK_LEVELS)
from services.errors import AuthenticationFailed
from services.casefiles import CaseFiles
from services.application import CommandResult

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")

CHINA = timezone(timedelta(hours=8))
IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9_\-:.]{1,100}")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def casefiles() -> CaseFiles:
    return current_app.extensions["casefiles"]


def today() -> Any:
    return datetime.now(CHINA).date()


# ------------------------------------------------------------------ authentication

def current_actor():
    """The acting account: from the API token, or (for the staff pages) from the
    server-side session named by the session cookie."""
    if "actor" not in g:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            try:
                g.actor = authenticate(header[len("Bearer "):].strip())
            except AuthenticationFailed:
                raise ApiError(401, "unauthenticated", "unknown or revoked API token") from None
        else:
            from adapters.web.pages import session_actor

            actor = session_actor()
            if actor is None:
                raise ApiError(401, "unauthenticated",
                               "send an API token: Authorization: Bearer ...")
            g.actor = actor
    return g.actor


VERIFIED_TOKENS_MAX = 1000


def authenticate(token: str):
    """The account of an API token, checked against the account's latest event on every
    request. ``CaseFiles.authenticate_token`` decides; its answer is kept per process with
    the account's version, and reused only while the account has no newer event (one
    indexed query, the same the repository's fast-forward makes), so a revoked token or a
    disabled account is refused at once, by every process. What it saves is the account's
    deep copy and replay on every request. The key is the token's SHA-256, never the token.
    Valid while authenticate_token depends on nothing but the token and the account's
    events (no clock, no other aggregate)."""
    app = casefiles()
    verified = current_app.extensions.setdefault("verified_tokens", {})
    key = hashlib.sha256(token.encode()).digest()
    account = verified.get(key)
    if account is not None and not app.recorder.select_events(
            account.id, gt=account.version, limit=1):
        return account
    verified.pop(key, None)
    account = app.authenticate_token(token)  # raises AuthenticationFailed
    if len(verified) >= VERIFIED_TOKENS_MAX:
        verified.clear()
    verified[key] = account  # a copy of its own: shared by requests, never changed
    return account


def authorize(action: str, org=None, *, identifier: str | None = None,
              jurisdiction: str | None = None) -> Any:
    """Role may do the action (policy table), and the organization (an aggregate, or its
    identifier and jurisdiction) lies within the actor's scope. Every 403 answer is
    logged once, by the application (``log_denials``)."""
    actor = current_actor()
    if not allowed(actor.role, action):
        raise ApiError(403, "forbidden", f"role {actor.role} may not {action.replace('_', ' ')}")
    if org is not None:
        identifier, jurisdiction = org.identifier, org.domicile["jurisdiction"]
    if jurisdiction is not None and not in_scope(
            role=actor.role, jurisdiction=actor.jurisdiction,
            own_organization=actor.organization, org_identifier=identifier or "",
            org_jurisdiction=jurisdiction):
        raise ApiError(403, "forbidden_jurisdiction",
                       f"{identifier or 'the organization'} is outside your jurisdiction")
    return actor


# ---------------------------------------------------------------------- requests

META_SCHEMA = {"effective_date": v.a_date(required=False, nullable=True),
               "reason": v.text(False, 1000, nullable=True),
               "reference": v.line(False, 100, nullable=True)}


def body() -> dict:
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send Content-Type: application/json")
    raw = request.get_data(cache=True)
    if request.content_length is None:  # chunked: get_data stops at the limit silently
        from werkzeug.exceptions import RequestEntityTooLarge

        try:
            beyond = request.stream.read(1)
        except RequestEntityTooLarge:
            beyond = b"x"
        if beyond:
            raise ApiError(413, "request_entity_too_large",
                           "the body is larger than the limit of 64 KiB")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from None
    return data


def accepts(schema: dict[str, v.F], summary: str | None = None):
    """Declare the body an endpoint accepts: ``parse_body`` checks it and /openapi.json
    documents it, from this one declaration."""
    def declare(view):
        view.body_schema = schema
        if summary:
            view.summary = summary
        return view
    return declare


def query(**parameters: tuple[dict, str]):
    """Declare a read's query parameters, name -> (JSON schema, description), for
    /openapi.json and the interactive /docs (the view itself checks them)."""
    def declare(view):
        view.query_parameters = parameters
        return view
    return declare


def declared_schema() -> dict[str, v.F]:
    return getattr(current_app.view_functions[request.endpoint], "body_schema", {})


def parse_body(schema: dict[str, v.F] | None = None) -> tuple[dict, dict]:
    """Split the body into the command's fields and the meta fields; the schema is the
    one the endpoint declared with ``accepts`` unless given."""
    schema = declared_schema() if schema is None else schema
    parsed = v.parse(body(), {**schema, **META_SCHEMA})
    meta_fields = {k: parsed.pop(k) for k in list(parsed) if k in META_SCHEMA}
    return parsed, meta_fields


def make_meta(actor, meta_fields: dict) -> Meta:
    effective = meta_fields.get("effective_date")
    if effective is not None and effective > today():
        raise ApiError(400, "invalid_value", f"effective_date {effective} is in the future; "
                       "record what has taken effect", "effective_date")
    correlation = request.headers.get("X-Correlation-Id") or str(uuid.uuid4())
    return Meta(actor_id=actor.username, actor_role=actor.role,
                effective_date=meta_fields.get("effective_date") or today(),
                correlation_id=correlation[:100], reason=meta_fields.get("reason"),
                reference=meta_fields.get("reference"))


def expected_version() -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,12})"?\s*', header)
    if not match:
        raise ApiError(400, "bad_if_match", 'If-Match must be the ETag, e.g. "3"', "If-Match")
    return int(match.group(1))


def idempotency() -> tuple[str | None, str]:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ApiError(400, "bad_idempotency_key",
                       "Idempotency-Key must be 1-100 characters of A-Z a-z 0-9 _ - : .",
                       "Idempotency-Key")
    fingerprint = hashlib.sha256(request.method.encode() + request.path.encode()
                                 + request.get_data(cache=True)).hexdigest()
    return key, fingerprint


def respond(result: CommandResult, status: int = 200):
    org = result.aggregate  # the organization as saved: no second read
    if org is None or not hasattr(org, "domicile"):  # a replay, or not an organization
        org = casefiles().get_organization(result.identifier, version=result.version)
    payload = {"organization": with_certificate_state(organization_document(org), today()), "version": result.version,
               "position": result.position, **result.result}
    response = jsonify(payload)
    response.status_code = status
    response.headers["ETag"] = f'"{result.version}"'
    response.headers["Location"] = f"/api/v1/organizations/{result.identifier}"
    if result.position is not None:
        response.headers["X-Position"] = str(result.position)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    remember_position(response, result.position)
    return response


POSITION_COOKIE = "casefile_position"


def remember_position(response, position: int | None) -> None:
    """Read-your-writes: the position of the client's last write travels back in a
    cookie, and is also kept per actor in this process for clients without cookies."""
    if position is None:
        return
    positions = current_app.extensions.setdefault("last_positions", {})
    actor = g.actor.username
    positions[actor] = max(positions.get(actor, 0), position)
    response.set_cookie(POSITION_COOKIE, str(position), httponly=True, samesite="Lax",
                        secure=current_app.config.get("SECURE_COOKIES", False))


def load_in_scope(code: str, action: str):
    current_actor()
    org = organization_to_check(code)
    authorize(action, org)
    return org


def organization_to_check(code: str):
    """The organization as it stands now, for the authorization check before a command or
    a history read: the repository's cached instance, not the deep copy a command needs,
    since nothing here changes it (the command loads and copies it again)."""
    return casefiles().get_organization(code, shared=True)


# ----------------------------------------------------------------- organizations

DOMICILE = v.obj({"address": v.line(max_len=300), "jurisdiction": v.jurisdiction()})

REGISTRATION = {
    "code": v.credit_code(), "name": v.line(max_len=200), "type": v.enum(REGISTERED_TYPES),
    "domicile": DOMICILE, "business_scope": v.text(max_len=2000),
    "registered_funds": v.money(), "supervisory_unit": v.line(nullable=True),
    "founded_on": v.a_date(), "certificate_valid_until": v.a_date(),
}


@bp.post("/organizations")
@accepts(REGISTRATION)
def register():
    """Register an organization (成立登记)."""
    actor = authorize("register")
    fields, meta_fields = parse_body()
    jurisdiction_ok = in_scope(role=actor.role, jurisdiction=actor.jurisdiction,
                               own_organization=actor.organization,
                               org_identifier=fields["code"],
                               org_jurisdiction=fields["domicile"]["jurisdiction"])
    if not jurisdiction_ok:
        raise ApiError(403, "forbidden_jurisdiction",
                       "the domicile is outside your jurisdiction", "domicile.jurisdiction")
    fields["org_type"] = fields.pop("type")
    fields.setdefault("supervisory_unit", None)
    key, fingerprint = idempotency()
    result = casefiles().register_organization(meta=make_meta(actor, meta_fields),
                                               idempotency_key=key, fingerprint=fingerprint,
                                               **fields)
    return respond(result, 201)


COMMUNITY = {"code": v.credit_code(required=False, nullable=True), "name": v.line(max_len=200),
             "domicile": DOMICILE, "business_scope": v.text(max_len=2000),
             "founded_on": v.a_date()}


@bp.post("/community-organizations")
@accepts(COMMUNITY)
def record_community():
    """Record a community organization (备案)."""
    actor = authorize("record_community")
    fields, meta_fields = parse_body()
    if not in_scope(role=actor.role, jurisdiction=actor.jurisdiction,
                    own_organization=actor.organization, org_identifier="",
                    org_jurisdiction=fields["domicile"]["jurisdiction"]):
        raise ApiError(403, "forbidden_jurisdiction",
                       "the domicile is outside your jurisdiction", "domicile.jurisdiction")
    key, fingerprint = idempotency()
    result = casefiles().record_community_organization(
        meta=make_meta(actor, meta_fields), idempotency_key=key, fingerprint=fingerprint,
        **fields)
    return respond(result, 201)


@dataclass(frozen=True)
class Command:
    """An endpoint that runs one of the organization's own commands."""

    path: str
    command: str
    action: str
    schema: dict[str, v.F]
    args: Callable[[dict, dict], dict] = lambda fields, url: fields


def _run(spec: Command, code: str, url_args: dict):
    org = load_in_scope(code, spec.action)
    actor = g.actor
    fields, meta_fields = parse_body()
    key, fingerprint = idempotency()
    result = casefiles().execute(org.identifier, spec.command,
                                 meta=make_meta(actor, meta_fields),
                                 expected_version=expected_version(), idempotency_key=key,
                                 fingerprint=fingerprint, **spec.args(fields, url_args))
    return respond(result, 201 if "id" in result.result else 200)


def _with(**renames: str) -> Callable[[dict, dict], dict]:
    def args(fields: dict, url: dict) -> dict:
        out = dict(fields)
        for target, source in renames.items():
            out[target] = url[source] if source in url else out.pop(source)
        return out
    return args


def _defaults(**defaults: Any) -> Callable[[dict, dict], dict]:
    return lambda fields, url: {**defaults, **fields}


REPORT_FIELDS = {"year": v.integer(1980, 2100), "income": v.money(),
                 "expenditure": v.money(), "net_assets": v.money(minimum=None),
                 "activities_held": v.integer(0, 100000), "party_organization": v.boolean()}

COMMANDS = [
    Command("changes", "change", "change",
            {"changes": v.obj({"name": v.line(False, 200), "domicile": v.obj(
                DOMICILE.schema, required=False), "business_scope": v.text(False, 2000),
                "registered_funds": v.money(False), "supervisory_unit": v.line(False, nullable=True)}),
             "approval_date": v.a_date()}),
    Command("annual-reports", "annual_report", "annual_report", REPORT_FIELDS),
    Command("annual-inspections", "annual_inspection", "annual_inspection",
            {"year": v.integer(1980, 2100), "result": v.enum(CONCLUSIONS),
             "findings": v.text()}),
    Command("annual-inspections/<int:year>/correction", "annual_inspection_correction",
            "annual_inspection", {"result": v.enum(CONCLUSIONS), "findings": v.text()},
            _with(year="year")),
    Command("level-assessments", "level_assessment", "level_assessment",
            {"grade": v.enum(GRADES)}),
    Command("major-events", "major_event", "major_event_report",
            {"category": v.enum(MAJOR_EVENT_CATEGORIES), "planned_date": v.a_date(),
             "description": v.text(),
             "sent_to": v.F("list", True, maximum=3, item=v.enum(MAJOR_EVENT_RECIPIENTS))}),
    Command("major-events/<report_id>/review", "major_event_review", "major_event_review",
            {"opinion": v.text(), "risk_level": v.enum(RISK_LEVELS)},
            _with(report_id="report_id")),
    Command("inspections", "inspection", "inspection",
            {"items": v.lines(), "findings": v.text(), "on_site": v.boolean(),
             "inspectors": v.lines(max_items=20), "plan_id": v.line(False, 64, True)},
            _defaults(plan_id=None)),
    Command("rectifications", "rectification", "rectification",
            {"notice_number": v.line(max_len=64), "issues": v.lines(),
             "deadline": v.a_date()}),
    Command("rectifications/<notice_number>/follow-ups", "rectification_follow_up",
            "rectification", {"note": v.text()}, _with(notice_number="notice_number")),
    Command("rectifications/<notice_number>/completion", "rectification_completion",
            "rectification", {"note": v.text()}, _with(notice_number="notice_number")),
    Command("management-suggestions", "management_suggestion", "management_suggestion",
            {"number": v.line(max_len=64), "content": v.text()}),
    Command("resumption", "resumption", "penalty", {}),
    Command("credit-listings", "credit_listing", "credit_listing",
            {"list": v.enum(CREDIT_LISTS)}, _with(credit_list="list")),
    Command("credit-listings/<listing_id>/removal", "credit_listing_removal",
            "credit_listing", {}, _with(listing_id="listing_id")),
    Command("interviews", "interview", "interview",
            {"person_name": v.line(max_len=100), "person_role": v.line(max_len=100),
             "topics": v.lines()}),
    Command("leaders/<person_id>/warning", "leader_warning", "leadership", {},
            _with(person_id="person_id")),
    Command("leaders/<person_id>/replacement-order", "leader_replacement_order",
            "leadership", {"deadline": v.a_date()}, _with(person_id="person_id")),
    Command("certificate-renewals", "certificate_renewal", "certificate_renewal",
            {"valid_until": v.a_date()}),
]


def _register_command(spec: Command) -> None:
    def view(code: str, **url_args: Any):
        return _run(spec, code, url_args)

    view.__name__ = "command_" + spec.command
    view.body_schema = spec.schema
    view.summary = spec.command.replace("_", " ")
    bp.add_url_rule(f"/organizations/<code>/{spec.path}", view_func=view, methods=["POST"])


for _spec in COMMANDS:
    _register_command(_spec)


def _organization_write(code: str, action: str):
    org = load_in_scope(code, action)
    fields, meta_fields = parse_body()
    key, fingerprint = idempotency()
    return org, fields, dict(meta=make_meta(g.actor, meta_fields),
                             expected_version=expected_version(), idempotency_key=key,
                             fingerprint=fingerprint)


@bp.post("/organizations/<code>/penalties")
@accepts({"decision_number": v.line(max_len=64), "kind": v.enum(PENALTY_KINDS),
          "legal_basis": v.text(max_len=1000), "amount": v.money(False, nullable=True),
          "decision_date": v.a_date(), "suspended_until": v.a_date(False, nullable=True)})
def impose_penalty(code: str):
    """Impose a penalty (行政处罚); a suspension suspends, a revocation revokes."""
    org, fields, ctx = _organization_write(code, "penalty")
    fields.setdefault("amount", None)
    fields.setdefault("suspended_until", None)
    result = casefiles().close_organization(org.identifier, "penalty", **ctx, **fields)
    return respond(result, 201)


@bp.post("/organizations/<code>/penalties/<decision_number>/rescission")
@accepts({})
def rescind_penalty(code: str, decision_number: str):
    """Rescind a penalty after reconsideration or a court ruling."""
    org, fields, ctx = _organization_write(code, "penalty")
    return respond(casefiles().rescind_penalty(org.identifier, decision_number=decision_number,
                                               **ctx))


def _closing(how: str, action: str):
    @accepts({})
    def view(code: str):
        org, fields, ctx = _organization_write(code, action)
        if how in ("revoke", "ban") and not ctx["meta"].reason:
            raise ApiError(400, "invalid_value", "reason is required", "reason")
        return respond(casefiles().close_organization(org.identifier, how, **ctx))
    view.__name__ = "close_" + how
    return view


bp.add_url_rule("/organizations/<code>/deregistration", view_func=_closing("deregister",
                                                                              "deregister"),
                methods=["POST"])
bp.add_url_rule("/organizations/<code>/revocation", view_func=_closing("revoke", "revoke"),
                methods=["POST"])
bp.add_url_rule("/organizations/<code>/ban", view_func=_closing("ban", "ban"),
                methods=["POST"])

PERSON = v.obj({"name": v.line(max_len=100), "id_number": v.id_number()})


@bp.post("/organizations/<code>/leaders")
@accepts({"person": PERSON, "roles": v.F("list", True, maximum=5, item=v.enum(LEADER_ROLES)),
          "term_start": v.a_date(), "term_end": v.a_date(),
          "public_notice": v.obj({"from": v.a_date(), "to": v.a_date()}, False, True),
          "official_status": v.enum(OFFICIAL_STATUSES, False),
          "approval_reference": v.line(False, 100, True),
          "replaces": v.line(False, 64, True), "departure_audit_done": v.boolean(False)})
def appoint_leader(code: str):
    """Appoint a leader; a new legal representative replaces the serving one."""
    org, fields, ctx = _organization_write(code, "leadership")
    result = casefiles().appoint_leader(org.identifier, **ctx, **fields)
    return respond(result, 201)


@bp.post("/organizations/<code>/leaders/<person_id>/departure")
@accepts({"departure_reason": v.text(max_len=1000), "departure_audit_done": v.boolean()})
def leader_departure(code: str, person_id: str):
    """Record a leader's departure."""
    org, fields, ctx = _organization_write(code, "leadership")
    return respond(casefiles().record_leader_departure(org.identifier, person_id, **ctx,
                                                       **fields))


@bp.post("/organizations/<code>/term-elections")
@accepts({"term_start": v.a_date(), "term_end": v.a_date()})
def term_election(code: str):
    """Record a term election (换届)."""
    org, fields, ctx = _organization_write(code, "term_election")
    return respond(casefiles().hold_term_election(org.identifier, **ctx, **fields), 201)


# ------------------------------------------------------------------------ persons

def person_document(person) -> dict:
    return plain({"person_id": str(person.id), "name": person.name,
                  "id_number_masked": person.id_number_masked, "bans": person.bans,
                  "posts": person.posts, "sanctioned_organizations":
                  person.sanctioned_organizations, "version": person.version})


def _person_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ApiError(404, "not_found", f"no person {value}", "person") from None


@bp.post("/persons")
@accepts(PERSON.schema)
def register_person():
    """Look up or record a person by identity number; answers the pseudonymous id."""
    actor = authorize("leadership")
    fields, meta_fields = parse_body()
    person, created = casefiles().register_person(meta=make_meta(actor, meta_fields), **fields)
    response = jsonify(person_document(person))
    response.status_code = 201 if created else 200
    return response


@bp.get("/persons/<person_id>")
def read_person(person_id: str):
    authorize("read_persons")
    return jsonify(person_document(casefiles().get_person(_person_id(person_id))))


@bp.post("/persons/<person_id>/occupational-bans")
@accepts({"from": v.a_date(), "until": v.a_date(False, True)})
def occupational_ban(person_id: str):
    """Record an occupational ban (从业禁止) against a person."""
    actor = authorize("occupational_ban")
    pid = _person_id(person_id)
    casefiles().get_person(pid)
    fields, meta_fields = parse_body()
    if fields.get("until") and fields["until"] < fields["from"]:
        raise ApiError(400, "invalid_value", "until must not be before from", "until")
    if not meta_fields.get("reason"):
        raise ApiError(400, "invalid_value", "reason is required", "reason")
    key, fingerprint = idempotency()
    result = casefiles().record_occupational_ban(
        pid, banned_from=fields["from"], banned_until=fields.get("until"),
        meta=make_meta(actor, meta_fields), expected_version=expected_version(),
        idempotency_key=key, fingerprint=fingerprint)
    response = jsonify({**person_document(casefiles().get_person(pid)),
                        "position": result.position})
    response.status_code = 201
    response.headers["ETag"] = f'"{result.version}"'
    remember_position(response, result.position)
    return response


@bp.post("/persons/<person_id>/erasure")
@accepts({}, "Erase a person's personal data (crypto-shredding); reason required")
def erase_person(person_id: str):
    """Record an erasure request and destroy the person's key: their name, identity
    number and birth date then read as erased everywhere (admins only)."""
    actor = authorize("erase_person")
    pid = _person_id(person_id)
    casefiles().get_person(pid)
    fields, meta_fields = parse_body()
    if not meta_fields.get("reason"):
        raise ApiError(400, "invalid_value", "reason is required", "reason")
    key, fingerprint = idempotency()
    result = casefiles().erase_person(pid, meta=make_meta(actor, meta_fields),
                                      idempotency_key=key, fingerprint=fingerprint)
    response = jsonify({**person_document(casefiles().get_person(pid)),
                        "organizations": result.result.get("organizations", []),
                        "position": result.position})
    response.status_code = 201
    response.headers["ETag"] = f'"{result.version}"'
    remember_position(response, result.position)
    return response
