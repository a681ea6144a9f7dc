"""The staff web pages (server-rendered Flask + Jinja; no JavaScript build step) and the
public disclosure pages.

Pages act through exactly the same code as the JSON API: a form is turned into the JSON
body of the matching API endpoint and that endpoint's view runs with the signed-in
account as the actor, so validation, authorization, rules and recording are one code
path. Chinese is the default language, English on request (``?lang=en``), through
Flask-Babel.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import Any

from flask import (Blueprint, current_app, g, make_response, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound as HTTPNotFound

from adapters.commands import validation as v
from adapters.web.sessions import COOKIE

log = logging.getLogger(__name__)
pages = Blueprint("pages", __name__, template_folder="templates")
public = Blueprint("public", __name__, url_prefix="/public", template_folder="templates")

SAFE_METHODS = ("GET", "HEAD")


def sessions():
    return current_app.extensions["sessions"]


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
            from adapters.web.api import ApiError

            raise ApiError(403, "csrf", "the form's CSRF token is missing or wrong")
    g.session = session
    try:
        account = current_app.extensions["casefiles"].get_account(session.username)
    except Exception:  # the account was removed: the session ends with it
        return None
    return None if account.disabled else account


def secure_cookies() -> bool:
    setting = current_app.config.get("SECURE_COOKIES", "auto")
    if setting == "auto":
        return request.host.split(":")[0] not in ("127.0.0.1", "localhost", "[::1]")
    return bool(setting)


def signed_in():
    """The signed-in account, or None; a refused CSRF token is not swallowed."""
    from adapters.web.api import ApiError, current_actor

    try:
        return current_actor()
    except ApiError as e:
        if e.status == 401:
            return None
        raise


@pages.app_context_processor
def common() -> dict:
    return {"actor": g.get("actor"), "csrf": g.session.csrf if g.get("session") else "",
            "lang": g.get("lang", "zh"), "today": date.today().isoformat()}


# ------------------------------------------------------------------- sign-in/out

@pages.get("/signin")
def signin_form():
    return render_template("signin.html", error=None, next=request.args.get("next", "/"))


@pages.post("/signin")
def signin():
    from services.errors import AuthenticationFailed

    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")[:200]
    target = request.form.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    try:
        account = current_app.extensions["casefiles"].authenticate_password(username, password)
    except AuthenticationFailed:
        log.warning("denied: sign-in failed for %r", username)
        return render_template("signin.html", error=_("Wrong username or password."),
                               next=target), 401
    old = request.cookies.get(COOKIE)
    if old:
        sessions().end(old)
    session_id, _session = sessions().create(account.username)  # a fresh id at sign-in
    response = make_response(redirect(target))
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="Lax",
                        secure=secure_cookies())
    return response


@pages.post("/signout")
def signout():
    actor = signed_in()
    if actor is None:
        return redirect(url_for("pages.signin_form"))
    sessions().end(request.cookies[COOKIE])
    response = make_response(redirect(url_for("pages.signin_form")))
    response.delete_cookie(COOKIE)
    return response


def require_actor():
    actor = signed_in()
    if actor is None:
        return None
    return actor


def page(template: str, status: int = 200, **context):
    return render_template(template, **context), status


# ------------------------------------------------------------ dispatch to the API

def call_api(method: str, path: str, body: Any = None, query: str = "") -> tuple[int, Any]:
    """Run the API endpoint for ``path`` as the signed-in account, in-process."""
    from adapters.web import error_response, status_of
    from adapters.web.api import ApiError
    from domain.errors import DomainError

    adapter = current_app.url_map.bind("")
    try:
        endpoint, args = adapter.match(path, method=method)
    except HTTPNotFound:
        return 404, {"error": {"message": _("Not found."), "field": None}}
    actor, session = g.actor, g.get("session")
    with current_app.test_request_context(path + (f"?{query}" if query else ""),
                                          method=method, json=body,
                                          headers={"Cookie": request.headers.get("Cookie",
                                                                                 "")}):
        g.actor, g.session, g.csrf_checked = actor, session, True
        try:
            response = current_app.make_response(current_app.view_functions[endpoint](**args))
        except ApiError as e:
            response = error_response(e.status, e.code, e.message, e.field)
        except DomainError as e:
            status, code = status_of(e)
            response = error_response(status, code, e.message, e.field)
        return response.status_code, response.get_json(silent=True) or {}


# --------------------------------------------------------------------- the pages

@pages.get("/")
def home():
    actor = require_actor()
    if actor is None:
        return redirect(url_for("pages.signin_form"))
    if actor.role == "organization":
        return redirect(url_for("pages.case_file", code=actor.organization))
    if actor.jurisdiction:
        return redirect(url_for("pages.network", code=actor.jurisdiction))
    return redirect(url_for("pages.organizations"))


def _login_redirect():
    return redirect(url_for("pages.signin_form", next=request.full_path.rstrip("?")))


@pages.get("/organizations")
def organizations():
    if require_actor() is None:
        return _login_redirect()
    query = {k: v for k, v in request.args.items()
             if k in ("q", "status", "type", "risk", "list", "offset") and v}
    status, data = call_api("GET", "/api/v1/organizations",
                            query="&".join(f"{k}={_q(v)}" for k, v in query.items()))
    return page("organizations.html", status=200 if status == 200 else status, data=data,
                query=query)


def _q(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


@pages.get("/organizations/<code>")
def case_file(code: str):
    if require_actor() is None:
        return _login_redirect()
    as_of, known_at = request.args.get("as_of", ""), request.args.get("known_at", "")
    query = "&".join(f"{k}={_q(v)}" for k, v in (("as_of", as_of), ("known_at", known_at))
                     if v)
    status, org = call_api("GET", f"/api/v1/organizations/{code}", query=query)
    if status != 200:
        return page("error.html", status, error=org.get("error", {}))
    _, warnings = call_api("GET", "/api/v1/warnings",
                           query=f"jurisdiction={org['domicile']['jurisdiction']}")
    org_warnings = [w for w in warnings.get("warnings", []) if w["organization"] == code
                    and (not as_of or str(w.get("raised_on")) <= as_of)]  # raised by then
    return page("casefile.html", org=org, warnings=org_warnings, as_of=as_of,
                known_at=known_at, forms=command_forms(code))


@pages.get("/organizations/<code>/audit")
def audit(code: str):
    if require_actor() is None:
        return _login_redirect()
    status, trail = call_api("GET", f"/api/v1/organizations/{code}/audit")
    if status != 200:
        return page("error.html", status, error=trail.get("error", {}))
    _, verification = call_api("GET", "/api/v1/audit/verify")
    return page("audit.html", code=code, trail=trail, verification=verification)


@pages.get("/network/<code>")
def network(code: str):
    if require_actor() is None:
        return _login_redirect()
    status, node = call_api("GET", f"/api/v1/network/{code}")
    if status != 200:
        return page("error.html", status, error=node.get("error", {}))
    _, stats = call_api("GET", "/api/v1/statistics", query=f"jurisdiction={code}")
    rules = call_api("GET", "/api/v1/rules")[1].get("rules", []) if may("manage_rules") else []
    return page("network.html", node=node, stats=stats, rules=rules)


@pages.get("/network/<code>/organizations")
def network_organizations(code: str):
    if require_actor() is None:
        return _login_redirect()
    status, data = call_api("GET", f"/api/v1/network/{code}/organizations",
                            query=f"flag={_q(request.args.get('flag', ''))}")
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    return page("drilldown.html", code=code, data=data)


@pages.get("/warnings")
def warnings():
    if require_actor() is None:
        return _login_redirect()
    status_filter = request.args.get("status", "open")
    status, data = call_api("GET", "/api/v1/warnings", query=f"status={_q(status_filter)}")
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    _, proposals = call_api("GET", "/api/v1/proposals", query="status=proposed")
    return page("warnings.html", data=data, status_filter=status_filter,
                proposals=proposals.get("proposals", []))


@pages.post("/warnings/<warning_id>/<action>")
def warning_action(warning_id: str, action: str):
    if require_actor() is None:
        return _login_redirect()
    if action not in ("acknowledgement", "escalation", "resolution"):
        return page("error.html", 404, error={"message": _("Not found.")})
    body = {"note": request.form.get("note", "")} if action == "resolution" else {}
    status, result = call_api("POST", f"/api/v1/warnings/{warning_id}/{action}", body)
    if status >= 400:
        return page("error.html", status, error=result.get("error", {}))
    return redirect(url_for("pages.warnings"))


# --------------------------------------------------------------------- the forms
#
# Every command endpoint of the JSON API (a POST or PUT under /api/v1 with a body
# declared with ``accepts``) has a page form generated from that declaration, at
# /forms/<the API path after /api/v1/> (organization-level commands also at
# /organizations/<code>/forms/<name>). The form's fields become the JSON body and the
# API's own view runs it: validation, authorization, rules and recording stay there.

WRITE_METHODS = ("POST", "PUT")

# The policy action (domain/access.py) each command endpoint asks for: the API decides;
# the pages use it only to offer a form or a link to those whose role allows it.
ACTIONS = {
    "api.register": "register", "api.record_community": "record_community",
    "api.impose_penalty": "penalty", "api.rescind_penalty": "penalty",
    "api.close_deregister": "deregister", "api.close_revoke": "revoke", "api.close_ban": "ban",
    "api.appoint_leader": "leadership", "api.leader_departure": "leadership",
    "api.term_election": "term_election", "api.register_person": "leadership",
    "api.occupational_ban": "occupational_ban", "api.raise_warning": "raise_warning",
    "api.warning_acknowledgement": "handle_warning", "api.warning_escalation": "handle_warning",
    "api.warning_resolution": "handle_warning", "api.change_rule": "manage_rules",
    "api.proposal_confirmation": "decide_proposal", "api.proposal_rejection": "decide_proposal",
    "api.establish_node": "manage_network", "api.assign_officer": "manage_network",
    "api.remove_officer": "manage_network", "api.plan_inspection": "inspection",
    "api.erase_person": "erase_person",
}


def action_of(endpoint: str) -> str | None:
    from adapters.web.api import COMMANDS

    if endpoint in ACTIONS:
        return ACTIONS[endpoint]
    return {f"api.command_{c.command}": c.action for c in COMMANDS}.get(endpoint)


def may(endpoint_or_action: str) -> bool:
    """Whether the signed-in account's role may run this endpoint (or action)."""
    from domain.access import allowed

    actor = g.get("actor")
    if actor is None:
        return False
    action = action_of(endpoint_or_action) if "." in endpoint_or_action else endpoint_or_action
    return action is not None and allowed(actor.role, action)


@pages.app_context_processor
def form_helpers() -> dict:
    from adapters.web.i18n import field_label, form_title, translate_error

    def error_text(error: dict) -> str:
        """An API error for the page, translated (the original stays in a title)."""
        return translate_error(error) if error.get("code") else error.get("message", "")

    return {"may": may, "label": field_label, "form_title": form_title,
            "error_text": error_text}


def command_endpoints(app=None) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every command endpoint of the JSON API."""
    app = app or current_app
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted(set(rule.methods or ()) & set(WRITE_METHODS)):
            found.append((method, rule.rule, rule.endpoint))
    return sorted(found, key=lambda f: f[1])


def resolve_command(path: str):
    """The command endpoint at an API path: (method, endpoint, view) or None."""
    from werkzeug.exceptions import MethodNotAllowed

    adapter = current_app.url_map.bind("")
    for method in WRITE_METHODS:
        try:
            endpoint, _args = adapter.match(path, method=method)
        except (HTTPNotFound, MethodNotAllowed):
            continue
        if endpoint.startswith("api."):
            return method, endpoint, current_app.view_functions[endpoint]
    return None


def command_forms(code: str) -> list[dict]:
    """The organization-level command forms (no item in the path) this user may run."""
    forms = []
    prefix = "/api/v1/organizations/<code>/"
    for method, rule, endpoint in command_endpoints():
        if not rule.startswith(prefix) or "<" in rule[len(prefix):] or not may(endpoint):
            continue  # forms on items (a report, a notice) open from the item
        forms.append({"name": rule[len(prefix):], "endpoint": endpoint})
    return sorted(forms, key=lambda f: f["name"])


def form_schema(view) -> dict[str, v.F]:
    from adapters.web.api import META_SCHEMA

    return {**getattr(view, "body_schema", {}), **META_SCHEMA}


def flatten(schema: dict[str, v.F], prefix: str = "") -> list[tuple[str, v.F]]:
    fields = []
    for name, spec in schema.items():
        if spec.kind == "object":
            fields += flatten(spec.schema, f"{prefix}{name}.")
        else:
            fields.append((prefix + name, spec))
    return fields


def is_identity_number(spec: v.F) -> bool:
    from domain.codes import validate_id_number

    return spec.check is validate_id_number


def _map_value(raw: str) -> Any:
    """``key=value`` per line (numbers and true/false typed), as for ``casefile rules
    set``; anything else is handed on as text for the API to refuse."""
    out: dict[str, Any] = {}
    for line in raw.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            return raw
        try:
            out[key.strip()] = json.loads(value.strip())
        except ValueError:
            out[key.strip()] = value.strip()
    return out


def form_to_body(schema: dict[str, v.F], form) -> dict:
    """Typed JSON from the form's strings: numbers, booleans, one list item per line (or
    one checkbox per choice), nested objects from dotted names; empty optional fields are
    left out."""
    body: dict[str, Any] = {}
    for name, spec in flatten(schema):
        raw = form.get(name, "")
        if spec.kind == "bool":
            value: Any = raw in ("on", "true", "1")
            if not raw and not spec.required:
                continue
        elif spec.kind == "list" and spec.item is not None and spec.item.kind == "enum":
            value = form.getlist(name) if hasattr(form, "getlist") else [raw]
            value = [item for item in value if item]
            if not value:
                continue
        elif not raw.strip():
            continue
        elif spec.kind == "int":
            value = int(raw) if re.fullmatch(r"-?[0-9]{1,12}", raw.strip()) else raw
        elif spec.kind == "decimal":
            try:
                value = float(raw) if "." in raw else int(raw)
            except ValueError:
                value = raw
        elif spec.kind == "list":
            value = [line.strip() for line in raw.splitlines() if line.strip()]
        elif spec.kind == "map":
            value = _map_value(raw)
        else:
            value = raw.strip()
        target = body
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return body


def _error_field(error: dict, fields: list[tuple[str, v.F]]) -> str:
    """The form field an API error names (``issues[2]`` is the ``issues`` field)."""
    field = re.sub(r"\[[0-9]+\]", "", error.get("field") or "")
    names = {name for name, _spec in fields}
    return field if field in names else "_form"


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


def run_form(api_path: str, *, cancel: str, default_next: str | None = None,
             context: dict | None = None):
    """Show the form of the command at ``api_path``, or submit it through the API."""
    from adapters.web.i18n import translate_error

    found = resolve_command(api_path)
    if found is None:
        return page("error.html", 404, error={"message": _("Not found.")})
    method, endpoint, view = found
    schema = form_schema(view)
    fields = flatten(schema)
    secret = {name for name, spec in fields if is_identity_number(spec)}
    errors: dict[str, dict] = {}
    next_url = _safe_next(request.values.get("next")) or default_next
    if request.method == "POST":
        values = {k: (request.form.getlist(k) if len(request.form.getlist(k)) > 1 else x)
                  for k, x in request.form.items() if k not in secret}
        status, result = call_api(method, api_path, form_to_body(schema, request.form))
        if status < 300:
            if next_url:
                return redirect(next_url)
            if isinstance(result.get("organization"), dict):
                return redirect(url_for("pages.case_file",
                                        code=result["organization"]["identifier"]))
            return page("form.html", 200, endpoint=endpoint, fields=fields, errors={},
                        values={}, result=_shown_result(result), cancel=cancel,
                        next=next_url, api_path=api_path, method=method, **(context or {}))
        error = result.get("error", {})
        errors[_error_field(error, fields)] = {"text": translate_error(error),
                                               "original": error.get("message", "")}
        return page("form.html", 400 if status < 500 else status, endpoint=endpoint,
                    fields=fields, errors=errors, values=values, result=None, cancel=cancel,
                    next=next_url, api_path=api_path, method=method, **(context or {}))
    values = {k: x for k, x in request.args.items() if k not in secret and k != "next"}
    return page("form.html", endpoint=endpoint, fields=fields, errors=errors, values=values,
                result=None, cancel=cancel, next=next_url, api_path=api_path, method=method,
                **(context or {}))


def _shown_result(result: dict) -> dict:
    """The top-level plain values of the API's answer (never an identity number: the API
    answers only the masked one)."""
    return {k: x for k, x in result.items() if isinstance(x, (str, int, float, bool))
            and k not in ("position",)}


@pages.route("/organizations/<code>/forms/<path:name>", methods=["GET", "POST"])
def command_form(code: str, name: str):
    if require_actor() is None:
        return _login_redirect()
    if resolve_command(f"/api/v1/organizations/{code}/{name}") is None:
        return page("error.html", 404, error={"message": _("Not found.")})
    status, org = call_api("GET", f"/api/v1/organizations/{code}")  # may this user see it?
    if status != 200:
        return page("error.html", status, error=org.get("error", {}))
    return run_form(f"/api/v1/organizations/{code}/{name}",
                    cancel=url_for("pages.case_file", code=code),
                    context={"code": code, "org_name": org.get("name")})


@pages.route("/forms/<path:target>", methods=["GET", "POST"])
def api_form(target: str):
    """The form of any command of the JSON API, e.g. /forms/warnings,
    /forms/proposals/ID/confirmation, /forms/persons/ID/occupational-bans."""
    from adapters.web.api import ApiError, authorize
    from adapters.web.i18n import translate_error

    if require_actor() is None:
        return _login_redirect()
    if target.startswith("organizations/"):
        parts = target.split("/", 2)
        if len(parts) == 3:  # an organization's own command: its case-file form
            return redirect(url_for("pages.command_form", code=parts[1], name=parts[2],
                                    **request.args))
    found = resolve_command("/api/v1/" + target)
    if found is None:
        return page("error.html", 404, error={"message": _("Not found.")})
    action = action_of(found[1])
    if action is None:
        return page("error.html", 404, error={"message": _("Not found.")})
    try:
        authorize(action)  # the form is offered only to a role that may run it
    except ApiError as e:
        return page("error.html", e.status, error={"message": translate_error(
            {"code": e.code, "message": e.message, "field": e.field})})
    back = _safe_next(request.values.get("next")) or url_for("pages.home")
    return run_form("/api/v1/" + target, cancel=back)


# ------------------------------------------------------------- public disclosure

def _public_document(org) -> dict:
    """Basic registration data, conclusions by year, listings and penalties; nothing
    about persons."""
    return {"code": org.code, "identifier": org.identifier, "name": org.name,
            "type": org.org_type, "status": org.status,
            "domicile": org.domicile["address"], "registered_on": org.registered_on,
            "business_scope": org.business_scope,
            "supervisory_unit": org.supervisory_unit,
            "certificate_valid_until": org.certificate_valid_until,
            "conclusions": sorted(({"year": c["year"], "result": c["result"]}
                                   for c in org.conclusions.values()),
                                  key=lambda c: c["year"]),
            "credit_listings": [{"list": c["list"], "listed_on": c["listed_on"],
                                 "removed_on": c["removed_on"]}
                                for c in org.credit_listings.values()],
            "penalties": [{"decision_number": p["decision_number"], "kind": p["kind"],
                           "decision_date": p["decision_date"],
                           "rescinded": p["rescinded"]} for p in org.penalties.values()]}


@public.get("/organizations/<code>")
def public_organization(code: str):
    from domain.errors import DomainError
    from projections.documents import plain

    try:
        org = current_app.extensions["casefiles"].get_organization(code)
    except DomainError:
        return page("error.html", 404, error={"message": _("Not found.")})
    document = plain(_public_document(org))
    if request.args.get("format") == "json":
        return current_app.response_class(json.dumps(document, ensure_ascii=False),
                                          mimetype="application/json")
    return page("public_org.html", org=document)


@public.get("/organizations")
def public_search():
    text = request.args.get("q", "")[:100]
    models = current_app.extensions.get("read_models")
    rows = []
    if text and models is not None:
        _total, rows = models["casefiles"].search(text=text, limit=50)
    return page("public_search.html", q=text,
                rows=[{"identifier": r["identifier"], "name": r["name"],
                       "status": r["status"]} for r in rows])


# ---------------------------------------------------------------------- accounts

def _admin():
    from adapters.web.api import authorize

    actor = require_actor()
    if actor is None:
        return None
    authorize("manage_accounts")
    return actor


@pages.get("/admin/accounts")
def accounts():
    if _admin() is None:
        return _login_redirect()
    listed = current_app.extensions["casefiles"].list_accounts()
    return page("accounts.html", accounts=listed, error=None, values={})


@pages.post("/admin/accounts")
def account_action():
    """Open an account, change its role and scope, or disable it; each is an event."""
    from domain.errors import DomainError
    from adapters.web.api import make_meta

    actor = _admin()
    if actor is None:
        return _login_redirect()
    casefiles = current_app.extensions["casefiles"]
    form = request.form
    action = form.get("action", "")
    meta = make_meta(actor, {"reason": f"account {action} by {actor.username}"})
    values = form.to_dict()
    blank = lambda name: (form.get(name) or "").strip() or None  # noqa: E731
    try:
        if action == "open":
            password = form.get("password", "")
            if len(password) < 12:
                raise v.BadRequest(_("The password needs at least 12 characters."),
                                   field="password")
            casefiles.open_account(username=form.get("username", "").strip(),
                                   password=password,
                                   display_name=blank("display_name") or form.get("username"),
                                   role=form.get("role", ""), jurisdiction=blank("jurisdiction"),
                                   organization=blank("organization"), meta=meta)
        elif action == "grant":
            casefiles.grant(form.get("username", ""), role=form.get("role", ""),
                            jurisdiction=blank("jurisdiction"),
                            organization=blank("organization"), meta=meta)
        elif action == "disable":
            casefiles.disable_account(form.get("username", ""), meta)
        else:
            raise v.BadRequest(_("Unknown action."), field="action")
    except DomainError as e:
        listed = casefiles.list_accounts()
        return page("accounts.html", 400, accounts=listed, error=e.message, values=values)
    return redirect(url_for("pages.accounts"))
