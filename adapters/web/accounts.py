"""The administrators' page of accounts: open one, change its role and scope, or disable
it; each is an event."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, url_for
from flask_babel import gettext as _

from adapters.commands import validation as v
from adapters.web.paging import paged, window
from adapters.web.requests import (authorize, correlation_header, login_redirect, make_meta,
                                   page, signed_in)
from domain.errors import DomainError

bp = Blueprint("accounts", __name__, template_folder="templates")


def _admin():
    actor = signed_in()
    if actor is None:
        return None
    authorize("manage_accounts")
    return actor


def _listed() -> dict:
    """A page of the accounts, in the order opened (adapters.web.paging)."""
    at = window(request.args)
    total, accounts = current_app.extensions["casefiles"].accounts_page(at.offset, at.limit)
    return paged("accounts", total, accounts, at)


@bp.get("/admin/accounts")
def list_accounts():
    if _admin() is None:
        return login_redirect()
    return page("accounts.html", data=_listed(), error=None, values={})


@bp.post("/admin/accounts")
def account_action():
    """Open an account, change its role and scope, or disable it; each is an event."""
    actor = _admin()
    if actor is None:
        return login_redirect()
    casefiles = current_app.extensions["casefiles"]
    form = request.form
    action = form.get("action", "")
    meta = make_meta(actor, {"reason": f"account {action} by {actor.username}"},
                     correlation_header())
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
        return page("accounts.html", 400, data=_listed(), error=e.message, values=values)
    return redirect(url_for("accounts.list_accounts"))
