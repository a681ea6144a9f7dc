"""The confirmation after a recorded command: a form that recorded something redirects
to the page it goes on to, carrying what it recorded in a one-time cookie (the command's
form title and what it was about, never a message text); that page says it in the
reader's language (templates/base.html), once.
"""

from __future__ import annotations

import json
from urllib.parse import quote, unquote

from flask import Flask, g, request
from flask_babel import gettext

from adapters.web.labels import FORM_TITLES, form_title
from adapters.web.requests import secure_cookies

COOKIE = "casefile_recorded"
SUBJECT_MAX = 200


def subject_of(result: dict) -> str | None:
    """What a command's answer is about: the organization's name, a warning's title, a
    node's or an account's name."""
    org = result.get("organization")
    if isinstance(org, dict):
        return org.get("name") or org.get("identifier")
    for key in ("title", "name", "username"):
        if isinstance(result.get(key), str):
            return result[key]
    return org if isinstance(org, str) else None


def recorded(response, endpoint: str, result: dict):
    """The redirect after a recorded command (``endpoint``: its key in FORM_TITLES),
    carrying what was recorded for the next page to confirm."""
    subject = (subject_of(result) or "")[:SUBJECT_MAX]
    response.set_cookie(COOKIE, quote(json.dumps([endpoint, subject], ensure_ascii=False)),
                        max_age=120, httponly=True, samesite="Lax", secure=secure_cookies())
    return response


def confirmation(endpoint: str, subject: str | None) -> str:
    """The confirmation of a recorded command, in the page's language."""
    if subject:
        return gettext("Recorded: %(what)s (%(subject)s).", what=form_title(endpoint),
                       subject=subject)
    return gettext("Recorded: %(what)s.", what=form_title(endpoint))


def pending() -> str | None:
    """The confirmation the previous form left for this page, if any (then cleared)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    g.confirmed = True
    try:
        endpoint, subject = json.loads(unquote(raw))
    except (ValueError, TypeError):
        return None
    if endpoint not in FORM_TITLES or not isinstance(subject, str):
        return None
    return confirmation(endpoint, subject[:SUBJECT_MAX] or None)


def clear(response):
    """The confirmation is shown once: the page that showed it clears it."""
    if g.get("confirmed") and response.status_code < 300:
        response.delete_cookie(COOKIE, httponly=True, samesite="Lax", secure=secure_cookies())
    return response


def register(app: Flask) -> None:
    app.context_processor(lambda: {"confirmation": pending})
    app.after_request(clear)
