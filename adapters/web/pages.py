"""The staff web pages (server-rendered Flask + Jinja; no JavaScript build step): sign-in,
the register, a case file, its audit trail, the network and the warnings inbox.

A page reads through the JSON API's own read functions (adapters.web.reads, network) and
acts through the one command path (adapters.web.commands), with the signed-in account
as the actor, so validation, authorization, rules and recording are one code path. The
forms are in forms.py. Chinese is the default language, English on request
(``?lang=en``), through Flask-Babel.
"""

from __future__ import annotations

import logging

from flask import (Blueprint, current_app, g, make_response, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _

from adapters.commands.catalog import BY_ENDPOINT
from adapters.web import network as network_reads, signin as controls
from adapters.web.commands import Submission, attempt
from adapters.web.forms import command_forms, may
from adapters.web.reads import audit_trail, case_file as read_case_file, figures, search, \
    verification
from adapters.web.requests import (answer_or_refusal, login_redirect, not_found, page,
                                   same_site_path, secure_cookies, signed_in)
from adapters.web.sessions import COOKIE
from domain.calendar import today_in_china
from services.errors import AuthenticationFailed

log = logging.getLogger(__name__)
bp = Blueprint("pages", __name__, template_folder="templates")

SEARCH_ARGS = ("q", "status", "type", "risk", "list", "offset")
WARNING_ACTIONS = ("acknowledgement", "escalation", "resolution")


def sessions():
    return current_app.extensions["sessions"]


@bp.app_context_processor
def common() -> dict:
    return {"actor": g.get("actor"), "csrf": g.session.csrf if g.get("session") else "",
            "lang": g.get("lang", "zh"), "today": today_in_china().isoformat()}


# ------------------------------------------------------------------- sign-in/out

def signin_page(error: str | None, target: str, status: int = 200):
    """The sign-in form, with its pre-session CSRF token (adapters.web.signin)."""
    response = make_response(render_template("signin.html", error=error, next=target,
                                             signin_csrf=controls.csrf_token()), status)
    controls.set_csrf_cookie(response)
    return response


@bp.get("/signin")
def signin_form():
    return signin_page(None, same_site_path(request.args.get("next")) or "/")


@bp.post("/signin")
def signin():
    """Throttled per account and per address (adapters.web.signin.init_signin wraps
    it); a wrong username, a wrong password, a disabled or a locked-out account all
    answer the same 401."""
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")[:200]
    target = same_site_path(request.form.get("next")) or "/"
    if not controls.csrf_ok():
        return signin_page(_("The form has expired: reload the page."), target, 403)
    try:
        account = current_app.extensions["casefiles"].authenticate_password(username, password)
    except AuthenticationFailed:
        log.warning("denied: sign-in failed for %r", username)
        controls.sign_in_failed(username)
        return signin_page(_("Wrong username or password, or the account is locked for a "
                             "while after repeated failures."), target, 401)
    controls.sign_in_succeeded(username)
    old = request.cookies.get(COOKIE)
    if old:
        sessions().end(old)
    session_id, _session = sessions().create(account.username,  # a fresh id at sign-in
                                             account.credentials_epoch)
    response = make_response(redirect(target))
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="Lax",
                        secure=secure_cookies())
    return response


@bp.post("/signout")
def signout():
    actor = signed_in()
    if actor is None:
        return redirect(url_for("pages.signin_form"))
    sessions().end(request.cookies[COOKIE])
    response = make_response(redirect(url_for("pages.signin_form")))
    response.delete_cookie(COOKIE)
    return response


# --------------------------------------------------------------------- the pages

@bp.get("/")
def home():
    actor = signed_in()
    if actor is None:
        return redirect(url_for("pages.signin_form"))
    if actor.role == "organization":
        return redirect(url_for("pages.case_file", code=actor.organization))
    if actor.jurisdiction:
        return redirect(url_for("pages.network", code=actor.jurisdiction))
    return redirect(url_for("pages.organizations"))


@bp.get("/organizations")
def organizations():
    if signed_in() is None:
        return login_redirect()
    query = {k: x for k, x in request.args.items() if k in SEARCH_ARGS and x}
    status, data = answer_or_refusal(search, query)
    return page("organizations.html", status=status, data=data, query=query)


@bp.get("/organizations/<code>")
def case_file(code: str):
    if signed_in() is None:
        return login_redirect()
    as_of, known_at = request.args.get("as_of", ""), request.args.get("known_at", "")
    args = {k: x for k, x in (("as_of", as_of), ("known_at", known_at)) if x}
    status, org = answer_or_refusal(lambda: read_case_file(code, args).as_dict())
    if status != 200:
        return page("error.html", status, error=org.get("error", {}))
    _, warnings = answer_or_refusal(network_reads.warnings,
                                    {"jurisdiction": org["domicile"]["jurisdiction"]})
    org_warnings = [w for w in warnings.get("warnings", []) if w["organization"] == code
                    and (not as_of or str(w.get("raised_on")) <= as_of)]  # raised by then
    return page("casefile.html", org=org, warnings=org_warnings, as_of=as_of,
                known_at=known_at, forms=command_forms(code))


@bp.get("/organizations/<code>/audit")
def audit(code: str):
    if signed_in() is None:
        return login_redirect()
    status, trail = answer_or_refusal(audit_trail, code, {})
    if status != 200:
        return page("error.html", status, error=trail.get("error", {}))
    _, checked = answer_or_refusal(verification, {})
    return page("audit.html", code=code, trail=trail, verification=checked)


@bp.get("/network/<code>")
def network(code: str):
    if signed_in() is None:
        return login_redirect()
    status, node = answer_or_refusal(network_reads.node, code, {})
    if status != 200:
        return page("error.html", status, error=node.get("error", {}))
    _, stats = answer_or_refusal(figures, {"jurisdiction": code})
    rules = (answer_or_refusal(network_reads.rules)[1].get("rules", [])
             if may("manage_rules") else [])
    return page("network.html", node=node, stats=stats, rules=rules)


@bp.get("/network/<code>/organizations")
def network_organizations(code: str):
    if signed_in() is None:
        return login_redirect()
    status, data = answer_or_refusal(network_reads.drilldown, code,
                                     {"flag": request.args.get("flag", "")})
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    return page("drilldown.html", code=code, data=data)


@bp.get("/warnings")
def warnings():
    if signed_in() is None:
        return login_redirect()
    status_filter = request.args.get("status", "open")
    status, data = answer_or_refusal(network_reads.warnings, {"status": status_filter})
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    _, proposals = answer_or_refusal(network_reads.proposals, {"status": "proposed"})
    return page("warnings.html", data=data, status_filter=status_filter,
                proposals=proposals.get("proposals", []))


@bp.post("/warnings/<warning_id>/<action>")
def warning_action(warning_id: str, action: str):
    if signed_in() is None:
        return login_redirect()
    if action not in WARNING_ACTIONS:
        return not_found()
    body = {"note": request.form.get("note", "")} if action == "resolution" else {}
    status, result = attempt(BY_ENDPOINT[f"api.warning_{action}"],
                             {"warning_id": warning_id}, Submission.from_form(body))
    if status >= 400:
        return page("error.html", status, error=result.get("error", {}))
    return redirect(url_for("pages.warnings"))
