"""Request plumbing shared by the JSON API and the pages: who is acting (an API token or
the staff pages' session), may they (the policy table and their scope), the body and the
command's context (meta, expected version, idempotency), the errors as JSON, and the
read models with read-your-writes.

Every write takes the business date it takes effect (``effective_date``, default today in
China Standard Time), an optional ``reason`` and ``reference``; the ``Idempotency-Key``
header makes a retry safe and the ``If-Match`` header carries the expected version.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from datetime import date, datetime, timezone
from typing import Any, Callable, Mapping

from flask import current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.urls import iri_to_uri

from adapters.commands import validation as v
from adapters.commands.catalog import META_SCHEMA
from adapters.randomness import new_correlation_id
from adapters.runtime.status import wait_for
from adapters.web.sessions import COOKIE
from domain.access import allowed, in_scope, person_in_scope
from domain.calendar import today_in_china
from domain.codes import jurisdiction_contains, validate_jurisdiction
from domain.documents import DocumentErased, DocumentTooLarge, UnsupportedDocumentType
from domain.errors import Conflict, DomainError, InvalidValue, NotFound, RuleViolation
from domain.meta import Meta
from services.casefiles import CaseFiles
from services.errors import (AuthenticationFailed, IdempotencyKeyReused,
                             OrganizationNotFound, PersonNotFound, VersionConflict)

IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9_\-:.]{1,100}")
SAFE_METHODS = ("GET", "HEAD")
VERIFIED_TOKENS_MAX = 1000
POSITION_COOKIE = "casefile_position"
READ_WAIT_SECONDS = 2.0


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def casefiles() -> CaseFiles:
    return current_app.extensions["casefiles"]


# ----------------------------------------------------------------------- errors

def status_of(error: DomainError) -> tuple[int, str]:
    if isinstance(error, UnsupportedDocumentType):
        return 415, "unsupported_media_type"
    if isinstance(error, DocumentTooLarge):
        return 413, "document_too_large"
    if isinstance(error, DocumentErased):
        return 410, "document_erased"
    if isinstance(error, (OrganizationNotFound, PersonNotFound)):
        return 404, "not_found"
    if isinstance(error, NotFound):
        return 404, error.rule or "not_found"
    if isinstance(error, VersionConflict):
        return 409, "version_conflict"
    if isinstance(error, Conflict):
        return 409, error.rule or "conflict"
    if isinstance(error, IdempotencyKeyReused):
        return 422, "idempotency_key_reused"
    if isinstance(error, InvalidValue):
        return 400, "invalid_value"
    if isinstance(error, RuleViolation):
        return 422, error.rule or "rule_violation"
    return 400, "invalid_value"


def error_document(status: int, code: str, message: str, field: str | None = None,
                   errors: list[dict] | None = None) -> dict:
    """The API's error: the first refusal as ``error``, and every refusal (a body with
    several bad fields has one each) as ``errors``."""
    first = {"status": status, "code": code, "message": message, "field": field}
    return {"error": first, "errors": errors or [first]}


def error_response(status: int, code: str, message: str, field: str | None = None,
                   errors: list[dict] | None = None):
    response = jsonify(error_document(status, code, message, field, errors))
    response.status_code = status
    return response


def domain_refusal(error: DomainError) -> tuple[int, dict]:
    """The status and JSON document of a domain error and every refusal it carries
    (adapters.commands.validation.refused); the first gives the status."""
    status, code = status_of(error)
    errors = []
    for each in v.every_error(error):
        each_status, each_code = status_of(each)
        errors.append({"status": each_status, "code": each_code, "message": each.message,
                       "field": each.field})
    return status, error_document(status, code, error.message, error.field, errors)


def refusal(error: ApiError | DomainError) -> tuple[int, dict]:
    """The status and JSON document the API answers for a refusal."""
    if isinstance(error, ApiError):
        return error.status, error_document(error.status, error.code, error.message,
                                            error.field)
    return domain_refusal(error)


def as_json(data: Any) -> Any:
    """Data as a JSON client reads it (dates and decimals as the API writes them)."""
    return current_app.json.loads(current_app.json.dumps(data))


def answer_or_refusal(read: Callable[..., Any], *args: Any) -> tuple[int, Any]:
    """A read's answer as the API would give it, for a page: (200, the document), or the
    refusal's status and error document."""
    try:
        return 200, as_json(read(*args))
    except (ApiError, DomainError) as e:
        return refusal(e)


# ------------------------------------------------------------------- the pages

def page(template: str, status: int = 200, **context):
    return render_template(template, **context), status


def login_redirect():
    return redirect(url_for("pages.signin_form", next=request.full_path.rstrip("?")))


def same_site_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: it starts with one "/" and
    holds no backslash, no whitespace and no control character, before and after the
    normalisation the redirect applies (``iri_to_uri`` drops tabs and line breaks, which
    browsers drop too: "/", a tab, "/evil.example" would become "//evil.example")."""
    if not target:
        return None
    for form in (target, iri_to_uri(target)):
        if not form.startswith("/") or form.startswith("//") or "\\" in form:
            return None
        if any(c.isspace() or unicodedata.category(c).startswith("C") for c in form):
            return None
    return target


def secure_cookies() -> bool:
    """Whether cookies carry ``Secure``: the SESSION_COOKIE_SECURE setting
    (adapters.config.session_cookie_secure), never the client's Host header."""
    return bool(current_app.config.get("SESSION_COOKIE_SECURE", False))


def not_found():
    return page("error.html", 404, error={"message": _("Not found.")})


# ----------------------------------------------------------------- who is acting

def session_actor():
    """The account of the signed-in session, if any; a state-changing request must also
    carry the session's CSRF token (form field or X-CSRF-Token header)."""
    store = current_app.extensions.get("sessions")
    session_id = request.cookies.get(COOKIE)
    if store is None or not session_id:
        return None
    session = store.get(session_id)
    if session is None:
        return None
    if request.method not in SAFE_METHODS and not g.get("csrf_checked"):
        sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
        if sent != session.csrf:
            raise ApiError(403, "csrf", "the form's CSRF token is missing or wrong")
    try:
        account = casefiles().get_account(session.username)
    except Exception:  # the account was removed: the session ends with it
        return None
    if account.disabled or session.epoch != account.credentials_epoch:
        store.end(session_id)  # its password changed or it was disabled since the sign-in
        return None
    g.session = session
    return account


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
            actor = session_actor()
            if actor is None:
                raise ApiError(401, "unauthenticated",
                               "send an API token: Authorization: Bearer ...")
            g.actor = actor
    return g.actor


def signed_in():
    """The signed-in account, or None; a refused CSRF token is not swallowed."""
    try:
        return current_actor()
    except ApiError as e:
        if e.status == 401:
            return None
        raise


def authenticate(token: str):
    """The account of an API token, checked against the account's latest event and the
    token's expiry on every request. ``CaseFiles.authenticate_token`` decides; its answer
    (the account, the token's id and expiry) is kept per process with the account's
    version, and reused only while the account has no newer event (one indexed query, the
    same the repository's fast-forward makes) and the token has not expired, so a revoked
    or expired token, a changed password or a disabled account is refused at once, by
    every process. What it saves is the account's deep copy and replay on every request.
    The key is the token's SHA-256, never the token. Valid while authenticate_token
    depends on nothing but the token, the account's events and the clock (no other
    aggregate). Each use is noted for the token's last-used time (at most a write a
    minute per token)."""
    app = casefiles()
    verified = current_app.extensions.setdefault("verified_tokens", {})
    key = hashlib.sha256(token.encode()).digest()
    cached = verified.get(key)
    if cached is not None:
        account, token_id, expires = cached
        if datetime.now(timezone.utc) < expires and not app.recorder.select_events(
                account.id, gt=account.version, limit=1):
            app.note_token_use(account.username, token_id)
            return account
    verified.pop(key, None)
    account, token_id, expires = app.authenticate_token(token)  # raises AuthenticationFailed
    if len(verified) >= VERIFIED_TOKENS_MAX:
        verified.clear()
    verified[key] = (account, token_id, expires)  # a copy of its own: never changed
    app.note_token_use(account.username, token_id)
    return account


# ------------------------------------------------------------------ may they

def authorize(action: str, org=None, *, identifier: str | None = None,
              jurisdiction: str | None = None, supervisory_unit: str | None = None) -> Any:
    """Role may do the action (policy table), and the organization (an aggregate, or its
    identifier and jurisdiction) lies within the actor's scope. Every 403 answer is
    logged once, by the application (``log_denials``)."""
    actor = current_actor()
    if not allowed(actor.role, action):
        raise ApiError(403, "forbidden", f"role {actor.role} may not {action.replace('_', ' ')}")
    if org is not None:
        check_scope(actor, org)
    elif jurisdiction is not None:
        check_scope_of(actor, identifier, jurisdiction, supervisory_unit)
    return actor


def check_scope(actor, org) -> None:
    """The organization (an aggregate) lies within the actor's scope."""
    check_scope_of(actor, org.identifier, org.domicile["jurisdiction"], org.supervisory_unit)


def check_person_scope(actor, person) -> None:
    """A person's record lies within the actor's scope (domain.access.person_in_scope):
    it belongs to a jurisdiction within theirs. A person this command records for the
    first time belongs to the actor's own."""
    if person.is_new:
        return
    if not person_in_scope(role=actor.role, jurisdiction=actor.jurisdiction,
                           person_jurisdictions=casefiles().person_jurisdictions(person)):
        raise ApiError(403, "forbidden_jurisdiction",
                       "this person serves no organization within your jurisdiction",
                       "person")


def check_scope_of(actor, identifier: str | None, jurisdiction: str,
                   supervisory_unit: str | None = None) -> None:
    """The organization (its identifier, jurisdiction and supervisory unit) lies within
    the actor's scope (domain.access.in_scope)."""
    if not in_scope(role=actor.role, jurisdiction=actor.jurisdiction,
                    own_organization=actor.organization, org_identifier=identifier or "",
                    org_jurisdiction=jurisdiction, org_supervisory_unit=supervisory_unit):
        raise ApiError(403, "forbidden_jurisdiction",
                       f"{identifier or 'the organization'} is outside your jurisdiction")


def jurisdiction_arg(value: str | None, field: str = "jurisdiction") -> str | None:
    """A jurisdiction's code given in a request (a query argument or a path), or None when
    none was given; 400 with the reason when it is not a valid 12-digit code."""
    if value is None:
        return None
    try:
        validate_jurisdiction(value, field)
    except InvalidValue as e:
        raise ApiError(400, "invalid_value", e.message, field) from None
    return value


def node_in_scope(code: str) -> str:
    """A network node's code, valid and within the actor's jurisdiction (an auditor's:
    everywhere)."""
    jurisdiction_arg(code, "code")
    actor = current_actor()
    if actor.role != "auditor" and not (actor.jurisdiction and
                                        jurisdiction_contains(actor.jurisdiction, code)):
        raise ApiError(403, "forbidden_jurisdiction", f"{code} is outside your jurisdiction",
                       "code")
    return code


def check_plan_scope(actor, jurisdiction: str) -> None:
    """An inspection plan's jurisdiction lies within the actor's (a district or
    sub-district code, which ``in_scope`` does not take: it compares leaves by prefix)."""
    if not allowed(actor.role, "read_all") and not (
            actor.jurisdiction and jurisdiction_contains(actor.jurisdiction, jurisdiction)):
        raise ApiError(403, "forbidden_jurisdiction",
                       f"{jurisdiction} is outside your jurisdiction", "jurisdiction")


# ---------------------------------------------------------------- the command

def body() -> Any:
    """The request's JSON body."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send Content-Type: application/json")
    raw = request.get_data(cache=True)
    if request.content_length is None:  # chunked: get_data stops at the limit silently
        try:
            beyond = request.stream.read(1)
        except RequestEntityTooLarge:
            beyond = b"x"
        if beyond:
            raise ApiError(413, "request_entity_too_large",
                           "the body is larger than the limit of 64 KiB")
    try:
        data = json.loads(raw or b"null", object_pairs_hook=_unique_keys)
    except DuplicateKey as e:
        raise ApiError(400, "duplicate_key", f"the key {e.key!r} appears more than once in "
                       "an object of the body", e.key) from None
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from None
    return data


class DuplicateKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object whose keys are all different (the last of two would win silently)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def parse_body(data: Any, schema: dict[str, v.F],
               checks: tuple[Callable[[dict, dict], None], ...] = (),
               meta_schema: dict[str, v.F] = META_SCHEMA) -> tuple[dict, dict]:
    """Check a body against a command's schema and its checks (each given what passed
    the schema); split it into the command's fields and the meta fields (``meta_schema``:
    the command's, Command.meta_schema). Every refusal is found, and raised at once
    (adapters.commands.validation.refused)."""
    parsed, errors = v.parse_all(data, {**schema, **meta_schema})
    meta_fields = {k: parsed.pop(k) for k in list(parsed) if k in meta_schema}
    for check in (*checks, effective_date_not_in_future):
        try:
            check(parsed, meta_fields)
        except DomainError as e:
            errors.extend(v.every_error(e))
    if errors:
        raise v.refused(errors)
    return parsed, meta_fields


def effective_date_not_in_future(fields: dict, meta_fields: dict) -> None:
    """Only what has taken effect is recorded (make_meta holds to it as well)."""
    effective = meta_fields.get("effective_date")
    if effective is not None and effective > today_in_china():
        raise v.BadRequest(f"effective_date {effective} is in the future; record what has "
                           "taken effect", field="effective_date")


def correlation_header() -> str | None:
    return request.headers.get("X-Correlation-Id")


def make_meta(actor, meta_fields: dict, correlation_id: str | None = None) -> Meta:
    """Who, when (the effective date: today in China unless given, never in the future),
    why, and the correlation id (a new one unless given)."""
    today = today_in_china()
    effective = meta_fields.get("effective_date")
    if effective is not None and effective > today:
        raise ApiError(400, "invalid_value", f"effective_date {effective} is in the future; "
                       "record what has taken effect", "effective_date")
    correlation = correlation_id or new_correlation_id()
    documents = (casefiles().attachments(meta_fields["documents"])
                 if meta_fields.get("documents") else ())
    return Meta(actor_id=actor.username, actor_role=actor.role,
                effective_date=effective or today,
                correlation_id=correlation[:100], reason=meta_fields.get("reason"),
                reference=meta_fields.get("reference"), documents=documents)


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


def remember_position(response, position: int | None) -> None:
    """Read-your-writes: the position of the client's last write travels back in a
    cookie, and is also kept per actor in this process for clients without cookies."""
    if position is None:
        return
    positions = current_app.extensions.setdefault("last_positions", {})
    actor = g.actor.username
    positions[actor] = max(positions.get(actor, 0), position)
    response.set_cookie(POSITION_COOKIE, str(position), httponly=True, samesite="Lax",
                        secure=secure_cookies())


# ------------------------------------------------------------------- reading

def read_models():
    models = current_app.extensions.get("read_models")
    if models is None:
        raise ApiError(503, "read_models_unavailable",
                       "the read models need PostgreSQL; this service runs without them")
    return models


def int_arg(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(f"[0-9]{{1,{len(str(high))}}}", raw) or not low <= int(raw) <= high:
        raise ApiError(400, "invalid_value", f"{name} must be a whole number from {low} to "
                                             f"{high}", name)
    return int(raw)


def date_arg(args: Mapping[str, str], name: str) -> date | None:
    """A day given as YYYY-MM-DD, or None when it is not given; 400 otherwise."""
    raw = args.get(name)
    if raw is None:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid_value", f"{name} must be a date YYYY-MM-DD",
                       name) from None


def wanted_position(args: Mapping[str, str]) -> int:
    """The position this reader must see: ``?after=``, the cookie of its last write, or
    its last write through this process; never beyond the log's head (a forged cookie
    would make every read wait the full bound)."""
    wanted = int_arg(args, "after", 0, 0, 10 ** 15)
    cookie = request.cookies.get(POSITION_COOKIE, "")
    if cookie.isdigit() and len(cookie) <= 15:
        wanted = max(wanted, int(cookie))
    positions = current_app.extensions.get("last_positions", {})
    wanted = max(wanted, positions.get(g.actor.username, 0))
    return min(wanted, log_head(wanted)) if wanted else 0


def log_head(at_least: int) -> int:
    """The log's head, as far as ``at_least`` needs: the highest head this process has
    seen answers without a query while it is at least that far."""
    seen = current_app.extensions.get("seen_head", 0)
    if at_least <= seen:
        return seen
    head = casefiles().recorder.max_notification_id() or 0
    current_app.extensions["seen_head"] = max(seen, head)
    return head


def fresh(name: str, args: Mapping[str, str]):
    """The named view, once it has reached the reader's last write (up to a bound; the
    answer says how far it got in X-Position either way)."""
    view, g.view_fresh = fresh_view(name, wanted_position(args))
    return view


def fresh_view(name: str, position: int):
    """The named view and whether it has reached ``position``: the read replica's
    (READ_DATABASE_URL) if it reaches it within its own bound, else the primary's once it
    reaches it (up to ``READ_WAIT_SECONDS`` in all). With a replica, the answer's
    ``X-Served-From`` says which one answered."""
    started = time.monotonic()
    replica = current_app.extensions.get("read_replica")
    if replica is not None:
        view = replica.view(name, position)
        g.served_from = "primary" if view is None else "replica"
        if view is not None:
            return view, True
    view = read_models()[name]
    return view, wait_for(view, position, READ_WAIT_SECONDS - (time.monotonic() - started))
