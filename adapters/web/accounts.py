"""Accounts: the administrators' page (open one, change its role and scope, set its
password, disable it; each an event), an account's page for admins (its tokens and its
sign-in lockout), every account's own page (its tokens, its password), and the JSON
API's reads of them. Revoking a token and lifting a lockout are declared commands
(adapters.commands.catalog), run through their page forms (/forms/...) and the API.

Times are shown in China Standard Time, with the zone named (the ``when`` filter)."""

from __future__ import annotations


from flask import Blueprint, current_app, jsonify, make_response, redirect, request, url_for
from flask_babel import gettext as _

from adapters.commands import validation as v
from adapters.web.confirmation import recorded
from adapters.web.i18n import translate_error
from adapters.web.openapi import query
from adapters.web.paging import PAGING, paged, paged_list, window
from adapters.web.requests import (ApiError, authorize, casefiles, correlation_header,
                                   login_redirect, make_meta, page, refusal, signed_in)
from domain.errors import DomainError
from projections.documents import plain
from services.accounts import utc_now
from services.errors import AuthenticationFailed

bp = Blueprint("accounts", __name__, template_folder="templates")


# ------------------------------------------------------------------ documents

def account_or_404(username: str):
    """The account named in a path; 404 if there is none."""
    try:
        return casefiles().get_account(username)
    except DomainError:
        raise ApiError(404, "not_found", f"no account {username}", "username") from None


def account_document(account, *, tokens: bool = True) -> dict:
    """An account as the API shows it: role and scope, status, the lockout's end while
    it is locked, and its tokens (never their hashes) with their last use."""
    now = utc_now()
    locked = account.is_locked(now)
    doc = {"username": account.username, "display_name": account.display_name,
           "role": account.role, "jurisdiction": account.jurisdiction,
           "organization": account.organization,
           "status": "disabled" if account.disabled else "locked" if locked else "active",
           "locked_until": account.locked_until if locked else None,
           "version": account.version}
    if tokens:
        doc["tokens"] = casefiles().list_tokens(account.username, now)
    return plain(doc)


def accounts_page(args) -> dict:
    """A page of the accounts in the order opened, and their total (adapters.web.paging:
    a range of the accounts log, read as a range)."""
    at = window(args)
    total, accounts = casefiles().accounts_page(at.offset, at.limit)
    return paged("accounts", total, [account_document(a, tokens=False) for a in accounts],
                 at)


# -------------------------------------------------------------------- the API

@bp.get("/api/v1/account")
def own_account():
    """Your own account: role and scope, status and your API tokens."""
    actor = authorize("own_account")
    return jsonify(account_document(casefiles().get_account(actor.username)))


def tokens_page(username: str, args) -> dict:
    """A page of the account's tokens, the oldest issued first, and their total (a list
    held in the account itself: sliced with the one pager's window)."""
    at = window(args)
    tokens = casefiles().list_tokens(username)
    return paged_list("tokens", tokens, at)


@bp.get("/api/v1/account/tokens")
@query(**PAGING)
def own_tokens():
    """Your API tokens: name, issued, expires, last used (never the token), a page at a
    time."""
    actor = authorize("own_account")
    return jsonify(plain(tokens_page(actor.username, request.args)))


@bp.get("/api/v1/accounts")
def list_accounts_api():
    """The accounts (admins), a page at a time (limit, offset), with their status: active,
    locked (until when) or disabled."""
    authorize("manage_accounts")
    return jsonify(accounts_page(request.args))


@bp.get("/api/v1/accounts/<username>")
def account_api(username: str):
    """One account (admins): status, lockout and tokens."""
    authorize("manage_accounts")
    return jsonify(account_document(account_or_404(username)))


# ------------------------------------------------------------------ the pages

def _admin():
    actor = signed_in()
    if actor is None:
        return None
    authorize("manage_accounts")
    return actor


@bp.get("/admin/accounts")
def list_accounts():
    if _admin() is None:
        return login_redirect()
    return page("accounts.html", data=accounts_page(request.args), error=None,
                values={})


@bp.get("/admin/accounts/<username>")
def account_page(username: str):
    """One account for admins: its status, lockout (with the form that lifts it) and
    tokens (each with the form that revokes it)."""
    if _admin() is None:
        return login_redirect()
    return account_page_of(account_or_404(username), own=False)


def account_page_of(account, *, own: bool, error: str | None = None):
    """The page of one account with a page of its tokens (400 on a bad page)."""
    try:
        tokens = tokens_page(account.username, request.args)
    except ApiError as e:
        return page("error.html", e.status, error=refusal(e)[1]["error"])
    return page("account.html", 400 if error else 200,
                account=account_document(account, tokens=False), tokens=tokens, own=own,
                error=error)


@bp.post("/admin/accounts")
def account_action():
    """Open an account, change its role and scope, set its password, or disable it; each
    is an event. The password policy applies to every password set here."""
    actor = _admin()
    if actor is None:
        return login_redirect()
    app = current_app.extensions["casefiles"]
    form = request.form
    action = form.get("action", "")
    meta = make_meta(actor, {"reason": f"account {action} by {actor.username}"},
                     correlation_header())
    values = {k: x for k, x in form.to_dict().items() if k != "password"}
    blank = lambda name: (form.get(name) or "").strip() or None  # noqa: E731
    try:
        if action == "open":
            app.open_account(username=form.get("username", "").strip(),
                             password=form.get("password", ""),
                             display_name=blank("display_name") or form.get("username"),
                             role=form.get("role", ""), jurisdiction=blank("jurisdiction"),
                             organization=blank("organization"), meta=meta)
        elif action == "grant":
            app.grant(form.get("username", ""), role=form.get("role", ""),
                      jurisdiction=blank("jurisdiction"),
                      organization=blank("organization"), meta=meta)
        elif action == "password":
            app.change_password(form.get("username", ""), form.get("password", ""), meta)
            _end_sessions(form.get("username", ""))
        elif action == "disable":
            app.disable_account(form.get("username", ""), meta)
            _end_sessions(form.get("username", ""))
        else:
            raise v.BadRequest(_("Unknown action."), field="action")
    except DomainError as e:
        return page("accounts.html", 400, data=accounts_page(request.args),
                    error=_password_error(e), values=values)
    return recorded(redirect(url_for("accounts.list_accounts")), f"accounts.{action}",
                    {"username": form.get("username", "").strip()})


def _password_error(error: DomainError) -> str:
    return translate_error({"code": getattr(error, "rule", None) or "invalid_value",
                            "message": error.message, "field": error.field})


def _end_sessions(username: str) -> None:
    """The account's sessions end with its password or its being disabled (they are
    refused by their credentials epoch anyway; this removes them)."""
    store = current_app.extensions.get("sessions")
    if store is not None:
        store.end_all(username)


@bp.route("/account", methods=["GET", "POST"])
def my_account():
    """Your own account: your tokens (issue a named one, revoke one) and your password
    (the current one, then the new one; every session and token then ends, this one
    too)."""
    actor = signed_in()
    if actor is None:
        return login_redirect()
    app = casefiles()
    error = None
    if request.method == "POST":
        current = request.form.get("current_password", "")[:200]
        new = request.form.get("password", "")
        try:
            app.authenticate_password(actor.username, current)
        except AuthenticationFailed:
            error = _("The current password is wrong.")
        else:
            try:
                app.change_password(actor.username, new, make_meta(
                    actor, {"reason": "password changed by its holder"},
                    correlation_header()))
            except DomainError as e:
                error = _password_error(e)
            else:
                _end_sessions(actor.username)
                response = make_response(redirect(url_for("pages.signin_form")))
                response.delete_cookie("casefile_session")
                return response
    return account_page_of(app.get_account(actor.username), own=True, error=error)
