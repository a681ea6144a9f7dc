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
from flask_babel import get_locale, gettext as _

from adapters.commands.catalog import BY_ENDPOINT
from adapters.web import network as network_reads, signin as controls
from adapters.web.commands import Submission, attempt
from adapters.web.forms import command_forms, may
from adapters.web.printing import pdf_response, printed_case_file
from adapters.web.reads import audit_trail, case_file as read_case_file, figures, search, \
    latest_verification
from adapters.web.paging import paged_list, window
from adapters.web.requests import (ApiError, answer_or_refusal, login_redirect, not_found,
                                   page, refusal, same_site_path, secure_cookies, signed_in)
from adapters.web.sessions import COOKIE
from adapters.web.tasks import tasks as read_tasks
from domain.access import allowed
from domain.annual_report_review import due
from domain.calendar import today_in_china
from domain.errors import DomainError
from services.errors import AuthenticationFailed

log = logging.getLogger(__name__)
bp = Blueprint("pages", __name__, template_folder="templates")

SEARCH_ARGS = ("q", "status", "type", "risk", "list", "offset", "limit")
LIST_ARGS = ("offset", "limit")
CASE_FILE_WARNINGS = 20  # the latest on the case file; the rest on the warnings list
WARNING_ACTIONS = ("acknowledgement", "escalation", "resolution")
# The audit page extends the verified head over at most this many new entries a view
# (about a second of work); the next view goes on from there.
PAGE_VERIFICATION_LIMIT = 5000


def sessions():
    return current_app.extensions["sessions"]


@bp.app_context_processor
def common() -> dict:
    return {"actor": g.get("actor"), "csrf": g.session.csrf if g.get("session") else "",
            "lang": str(get_locale() or "zh"), "today": today_in_china().isoformat()}


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
    if not allowed(actor.role, "read"):  # an administrator of accounts only
        return redirect(url_for("accounts.list_accounts"))
    if actor.jurisdiction:  # staff, sub-district offices, officers, supervisory units
        return redirect(url_for("pages.work_queue"))
    return redirect(url_for("pages.organizations"))


@bp.get("/tasks")
def work_queue():
    """The work queue (工作台): what waits for me, most urgent first, a page at a time."""
    if signed_in() is None:
        return login_redirect()
    query = _args(("kind", *LIST_ARGS))
    status, data = answer_or_refusal(read_tasks, query)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    return page("tasks.html", data=data, query=query)


@bp.get("/organizations")
def organizations():
    if signed_in() is None:
        return login_redirect()
    query = _args(SEARCH_ARGS)
    status, data = answer_or_refusal(search, query)
    return page("organizations.html", status=status, data=data, query=query)


@bp.get("/organizations/<code>")
def case_file(code: str):
    if signed_in() is None:
        return login_redirect()
    as_of, known_at = request.args.get("as_of", ""), request.args.get("known_at", "")
    args = {k: x for k, x in (("as_of", as_of), ("known_at", known_at)) if x}
    status, org = answer_or_refusal(lambda: read_case_file(code, args).as_dict())
    if status == 200:
        status, timeline = answer_or_refusal(_timeline_page, org, request.args)
        if status != 200:
            return page("error.html", status, error=timeline.get("error", {}))
    if status != 200:
        return page("error.html", status, error=org.get("error", {}))
    _, warnings = answer_or_refusal(network_reads.warnings, {
        "jurisdiction": org["domicile"]["jurisdiction"], "organization": code,
        "limit": str(CASE_FILE_WARNINGS), **({"raised_until": as_of} if as_of else {})})
    return page("casefile.html", org=org, timeline=timeline,
                warnings=warnings.get("warnings", []),
                warnings_total=warnings.get("total", 0), as_of=as_of,
                known_at=known_at, forms=command_forms(code),
                pdf_link=url_for("pages.case_file_pdf", code=code, **args))


def _timeline_page(org: dict, args) -> dict:
    """A page of the case file's timeline, the latest in effect first (an organization
    of decades holds thousands of events)."""
    at = window(args)
    events = sorted(org.get("timeline") or [], key=lambda e: e["effective_date"],
                    reverse=True)
    return paged_list("events", events, at)


@bp.get("/organizations/<code>/annual-reports")
def annual_reports(code: str):
    """The organization's annual reports by year (issue 16): where each stands (draft,
    submitted, returned with the comments, approved, filed, concluded), its deadline by
    the annual-inspection rule, its history, and the steps the reader may take: the
    organization edits (the draft form, filled with the draft) and submits, its
    supervisory unit approves or returns."""
    if signed_in() is None:
        return login_redirect()
    status, org = answer_or_refusal(lambda: read_case_file(code, {}).as_dict())
    if status != 200:
        return page("error.html", status, error=org.get("error", {}))
    inspection = current_app.extensions["casefiles"].rule("annual_inspection") \
        .parameters_for(org["domicile"]["jurisdiction"])
    return page("annual_reports.html", org=org,
                years=report_years(org, inspection, today_in_china()))


def report_years(org: dict, inspection, today) -> list[dict]:
    """Each year with a report drafted, filed or concluded, and last year (to start its
    draft), the latest first."""
    reviews = {r["year"]: r for r in org.get("annual_report_reviews", [])}
    filed = {r["year"]: r for r in org["annual_reports"]}
    concluded = {c["year"]: c for c in org["annual_inspections"]}
    years = set(reviews) | set(filed) | set(concluded)
    if org["type"] != "community_organization" and org["status"] in ("active", "suspended") \
            and int(org["registered_on"][:4]) < today.year:
        years.add(today.year - 1)
    rows = []
    for year in sorted(years, reverse=True):
        review = reviews.get(year)
        stage = (review or {}).get("stage") or (
            "concluded" if year in concluded else "filed" if year in filed else None)
        draft = (review or {}).get("report") or {}
        prefill = {"year": year, **{k: v for k, v in draft.items()
                                    if v is not None and k != "party_organization"}}
        if draft.get("party_organization"):
            prefill["party_organization"] = "on"
        rows.append({"year": year, "stage": stage, "review": review,
                     "filed": filed.get(year), "conclusion": concluded.get(year),
                     "prefill": prefill,
                     "due": due(year, org.get("supervisory_unit"), inspection),
                     "editable": stage in (None, "draft", "returned"),
                     "submittable": stage in ("draft", "returned"),
                     "reviewable": stage == "submitted"})
    return rows


@bp.get("/organizations/<code>/pdf")
def case_file_pdf(code: str):
    """The case file (with the page's time-travel dates) as a PDF to print."""
    if signed_in() is None:
        return login_redirect()
    try:
        printed = printed_case_file(code, request.args)
    except (ApiError, DomainError) as e:
        status, error = refusal(e)
        return page("error.html", status, error=error["error"])
    return pdf_response(printed)


@bp.get("/organizations/<code>/audit")
def audit(code: str):
    if signed_in() is None:
        return login_redirect()
    status, trail = answer_or_refusal(audit_trail, code, _args(LIST_ARGS))
    if status != 200:
        return page("error.html", status, error=trail.get("error", {}))
    verifier, checked = answer_or_refusal(latest_verification, PAGE_VERIFICATION_LIMIT)
    return page("audit.html", code=code, trail=trail, may_verify=verifier == 200,
                verification=checked if verifier == 200 and checked else {})


@bp.get("/network/<code>")
def network(code: str):
    if signed_in() is None:
        return login_redirect()
    status, node = answer_or_refusal(network_reads.node, code, {})
    if status != 200:
        return page("error.html", status, error=node.get("error", {}))
    _, stats = answer_or_refusal(figures, {"jurisdiction": code})
    listed = answer_or_refusal(network_reads.rules)[1] if may("manage_rules") else {}
    return page("network.html", node=node, stats=stats, rules=listed.get("rules", []),
                working_days=listed.get("working_days"))


@bp.get("/network/<code>/organizations")
def network_organizations(code: str):
    if signed_in() is None:
        return login_redirect()
    status, data = answer_or_refusal(network_reads.drilldown, code,
                                     {"flag": request.args.get("flag", ""),
                                      **_args(LIST_ARGS)})
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    return page("drilldown.html", code=code, data=data)


@bp.get("/warnings")
def warnings():
    """The warnings inbox, by state and severity, a page at a time."""
    if signed_in() is None:
        return login_redirect()
    query = {"status": "open", **_args(("status", "severity", "organization", *LIST_ARGS))}
    asked = {k: x for k, x in query.items() if (k, x) != ("status", "all")}
    status, data = answer_or_refusal(network_reads.warnings, asked)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    _, proposed = answer_or_refusal(network_reads.proposals, {"status": "proposed",
                                                               "limit": "1"})
    return page("warnings.html", data=data, query=query,
                proposals_waiting=proposed.get("total", 0))


@bp.get("/warnings/<warning_id>")
def warning(warning_id: str):
    """A warning's own page: what it says, its full history, and its actions."""
    if signed_in() is None:
        return login_redirect()
    status, found = answer_or_refusal(network_reads.warning_history, warning_id)
    if status != 200:
        return page("error.html", status, error=found.get("error", {}))
    return page("warning.html", w=found)


@bp.get("/proposals")
def proposals():
    """The listings, delistings and conclusions the rules propose, by state, a page at a
    time, with the forms that confirm or reject them."""
    if signed_in() is None:
        return login_redirect()
    query = {"status": "proposed", **_args(("status", *LIST_ARGS))}
    status, data = answer_or_refusal(network_reads.proposals, query)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    return page("proposals.html", data=data, query=query)


def _args(names: tuple[str, ...]) -> dict[str, str]:
    """The request's arguments of these names that are not empty."""
    return {k: x for k, x in request.args.items() if k in names and x}


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
    return redirect(same_site_path(request.form.get("next")) or url_for("pages.warnings"))
