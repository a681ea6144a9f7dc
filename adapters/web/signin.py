"""The sign-in controls (issue 15; OWASP ASVS 5.0 V6/V7, the login controls of 等保 2.0
level 3), around the sign-in form of adapters/web/pages.py:

- **Throttling** with Flask-Limiter, per account (the username typed, known or not) and
  per client address, counting failed sign-ins only (a 401 answer). Each limit is a list
  of windows, e.g. "5 per 5 minutes; 10 per hour; 20 per day": after the first is used up
  the next attempt waits for the end of that window, then the longer ones' (an increasing
  delay). A refused attempt answers 429 with Retry-After and checks no password. The
  counts are kept in PostgreSQL (adapters.store.rate_limits), shared by every process of
  ``casefile serve``; in memory for the in-memory store of unit tests.
- **Lockout**: after ``SIGNIN_LOCKOUT_AFTER`` failures ("10 per hour") an existing
  account is locked for ``SIGNIN_LOCKOUT_MINUTES`` (30): a LockedOut event on the Account
  aggregate, with its end. No password opens it meanwhile; it ends by itself, or an admin
  lifts it (LockoutLifted). A locked account answers as a wrong password does.
- **One answer for every failure**, in the same time: an unknown username is verified
  against a dummy scrypt hash (services.accounts.authenticate_password).
- **Login CSRF**: the sign-in form carries a token that must equal a pre-session cookie
  (``casefile_signin``, HttpOnly, SameSite=Lax, for /signin only) set when the form is
  shown: another site cannot sign a browser in to an account of its choosing.

The settings are read once at start-up: the application's config, else the environment,
else the defaults below (README, "Settings").
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time

from flask import Flask, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter, RequestLimit
from limits import parse

from adapters.randomness import new_correlation_id
from adapters.store.rate_limits import SCHEME
from adapters.web.requests import secure_cookies
from domain.calendar import today_in_china
from domain.meta import Meta

log = logging.getLogger(__name__)

SETTINGS = {
    "SIGNIN_ACCOUNT_LIMITS": "5 per 5 minutes; 10 per hour; 20 per day",
    "SIGNIN_ADDRESS_LIMITS": "20 per 5 minutes; 100 per hour; 300 per day",
    "SIGNIN_LOCKOUT_AFTER": "10 per hour",
    "SIGNIN_LOCKOUT_MINUTES": "30",
}
CSRF_COOKIE = "casefile_signin"
CSRF_COOKIE_SECONDS = 3600


def setting(app: Flask, name: str) -> str:
    return str(app.config.get(name) or os.environ.get(name) or SETTINGS[name])


def failed(response) -> bool:
    """Only a failed sign-in counts against the limits (a wrong password or user)."""
    return response.status_code == 401


def account_key() -> str:
    return "account:" + request.form.get("username", "")[:64].strip().lower()


def address_key() -> str:
    return "address:" + (request.remote_addr or "unknown")


def init_signin(app: Flask) -> None:
    """Throttle the sign-in form's POST (``pages.signin``) per account and per address,
    and keep the lockout's failure counts, on one Flask-Limiter."""
    for name in SETTINGS:
        app.config[name] = setting(app, name)
    casefiles = app.extensions["casefiles"]
    datastore = getattr(casefiles.recorder, "datastore", None)
    limiter = Limiter(address_key, app=app, strategy="fixed-window", headers_enabled=True,
                      key_prefix="signin",
                      storage_uri=f"{SCHEME}://" if datastore is not None else "memory://",
                      storage_options={"datastore": datastore} if datastore is not None
                      else {})
    view = app.view_functions["pages.signin"]
    for limits, key in ((app.config["SIGNIN_ACCOUNT_LIMITS"], account_key),
                        (app.config["SIGNIN_ADDRESS_LIMITS"], address_key)):
        view = limiter.limit(limits, key_func=key, deduct_when=failed, methods=["POST"],
                             on_breach=throttled)(view)
    app.view_functions["pages.signin"] = view
    app.extensions["signin_limiter"] = limiter
    app.extensions["signin_lockout"] = parse(app.config["SIGNIN_LOCKOUT_AFTER"])


def throttled(limit: RequestLimit):
    """The sign-in page again, 429, with how long to wait (Retry-After)."""
    wait = max(1, int(limit.reset_at - time.time()))
    log.warning("denied: sign-in throttled (%s) for %s", limit.limit, address_key())
    minutes = max(1, -(-wait // 60))
    response = make_response(render_template(
        "signin.html", error=_("Too many failed sign-ins: try again in %(n)s minutes.",
                               n=minutes),
        next="/", signin_csrf=csrf_token()), 429)
    response.headers["Retry-After"] = str(wait)
    set_csrf_cookie(response)
    return response


# ------------------------------------------------------------------- login CSRF

def csrf_token() -> str:
    """The pre-session token of this browser (from its cookie), or a new one."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) != 32 or not token.isalnum():
        token = getattr(request, "_signin_csrf", None) or secrets.token_hex(16)
    request._signin_csrf = token  # the same for the cookie set on this answer
    return token


def set_csrf_cookie(response) -> None:
    response.set_cookie(CSRF_COOKIE, csrf_token(), httponly=True, samesite="Lax",
                        secure=secure_cookies(), path="/signin", max_age=CSRF_COOKIE_SECONDS)


def csrf_ok() -> bool:
    """The form's token equals the pre-session cookie's."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.form.get("csrf_token", "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())


# --------------------------------------------------------------------- lockout

def _lockout_identifiers(username: str) -> tuple[str, str]:
    return "lockout", username.strip().lower()[:64]


def sign_in_failed(username: str) -> None:
    """Count a failure towards the account's lockout; at the threshold, lock it (if it
    exists) and start counting again."""
    limiter = current_app.extensions["signin_limiter"].limiter
    item = current_app.extensions["signin_lockout"]
    ids = _lockout_identifiers(username)
    limiter.hit(item, *ids)
    if limiter.test(item, *ids):
        return
    limiter.clear(item, *ids)
    minutes = float(current_app.config["SIGNIN_LOCKOUT_MINUTES"])
    meta = Meta(actor_id="system:signin", actor_role="system",
                effective_date=today_in_china(), correlation_id=new_correlation_id(),
                reason=f"{item.amount} failed sign-ins within {item.multiples} "
                       f"{item.GRANULARITY.name}(s), the last from {request.remote_addr}")
    locked = current_app.extensions["casefiles"].lock_out(
        ids[1], minutes=minutes, failures=item.amount, meta=meta)
    if locked is not None:
        log.warning("account %s locked out for %s minutes", locked.username, minutes)


def sign_in_succeeded(username: str) -> None:
    """A successful sign-in starts the lockout's count afresh."""
    current_app.extensions["signin_limiter"].limiter.clear(
        current_app.extensions["signin_lockout"], *_lockout_identifiers(username))
