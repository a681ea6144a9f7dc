"""The Flask application factory: the JSON API (its commands, reads, network and
inspection plans), the operators' health endpoints, the OpenAPI document, the staff
pages and their forms, the register import, the accounts page and public disclosure, one
blueprint each."""

from __future__ import annotations

import logging
import os
from typing import Any

import psycopg
from eventsourcing.persistence import DataError, InterfaceError, OperationalError
from flask import Flask, g, make_response, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from adapters import bootstrap
from adapters.config import application_env, session_cookie_secure
from adapters.kafka.relay import KafkaSettings, relay_tracking
from adapters.runtime.registry import READ_MODELS
from adapters.runtime.replica import ReadReplica
from adapters.web import (accounts, api, confirmation, display, documents, forms, health,
                          import_pages, metrics, network, openapi, pages, paging, plan_pages,
                          plans, printing, public, reads, rule_pages, statistics, tasks)
from adapters.web.i18n import init_babel
from adapters.web.requests import (ApiError, domain_refusal, error_document, error_response,
                                   status_of)
from adapters.web.sessions import SessionStore
from adapters.web.signin import init_signin
from domain.errors import DomainError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# No inline script or style anywhere (the pages' CSS and the docs' script are static
# files), no framing, no plugins, forms post only here.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"
# Paths whose answers hold nothing of a signed-in user's: a cache may keep them.
CACHEABLE_PATHS = ("/static/", "/public/", "/docs", "/openapi.json")
# Paths that answer JSON, errors too; every other path is a page, and its errors pages.
JSON_PATHS = ("/api/", "/openapi.json", "/healthz", "/readyz")
MODULES = (api, reads, network, plans, printing, documents, health, openapi, pages, forms,
           import_pages, accounts, public, plan_pages, rule_pages, tasks)  # one blueprint each
           # (statistics: two)

__all__ = ["close_app", "create_app", "error_response", "status_of"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the web application. ``config["CASEFILES"]`` may hand in an application
    (tests do); otherwise one is built from the environment (adapters.config)."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False,
                      SESSION_COOKIE_SECURE=session_cookie_secure(default=False))
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    if config:
        app.config.update(config)
    casefiles = app.config.get("CASEFILES")
    if casefiles is None:
        casefiles = bootstrap.build_casefiles(env=application_env())
    app.extensions["casefiles"] = casefiles
    if casefiles.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        app.extensions["read_models"] = {name: bootstrap.open_view(dict(casefiles.env), name)
                                         for name in READ_MODELS}
        replica = ReadReplica.from_env(dict(casefiles.env))  # READ_DATABASE_URL
        if replica is not None:
            app.extensions["read_replica"] = replica
        if KafkaSettings.from_env(dict(casefiles.env)) is not None:
            app.extensions["relay_tracking"] = relay_tracking(dict(casefiles.env))
    init_babel(app)
    display.register(app)
    paging.register(app)
    confirmation.register(app)
    for module in MODULES:
        app.register_blueprint(module.bp)
    app.register_blueprint(statistics.api_bp)
    app.register_blueprint(statistics.bp)
    metrics.init_app(app)
    if "read_models" in app.extensions:
        app.extensions["sessions"] = SessionStore(casefiles.recorder.datastore)
    init_signin(app)
    hops = int(app.config.get("PROXY_HOPS") or os.environ.get("PROXY_HOPS") or 0)
    if hops:  # the client's address from X-Forwarded-For, as many proxies deep
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)

    @app.before_request
    def refuse_nul():
        """A NUL byte in the path or a query argument is never valid input."""
        if "\x00" in request.path or any("\x00" in k or "\x00" in v
                                          for k, v in request.args.items(multi=True)):
            return error_answer(400, "invalid_value", "NUL bytes are not allowed")
        return None

    app.after_request(security_headers)

    @app.after_request
    def served_from(response):
        """With a read replica: which database answered the read (replica or primary)."""
        if g.get("served_from"):
            response.headers.setdefault("X-Served-From", g.served_from)
        return response

    @app.errorhandler(DataError)
    def bad_data(e: Exception):
        return error_response(400, "invalid_value", "the request holds a value the database "
                              "cannot store")

    @app.after_request
    def log_denials(response):
        """Every refusal (403) is logged once: who, what, when (the log line's time)."""
        if response.status_code == 403:
            actor = g.get("actor")
            who = f"{actor.username} ({actor.role})" if actor else "anonymous"
            log.warning("denied: %s %s %s", who, request.method, request.path)
        return response

    @app.errorhandler(ApiError)
    def api_error(e: ApiError):
        return error_answer(e.status, e.code, e.message, e.field)

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        status, document = domain_refusal(e)
        first = document["error"]
        return error_answer(status, first["code"], first["message"], first["field"],
                            document["errors"])

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(psycopg.OperationalError)  # psycopg used directly (sessions, DDL)
    @app.errorhandler(psycopg.InterfaceError)
    def database_unavailable(e: Exception):
        log.error("database unavailable: %s", type(e).__name__)
        response = error_answer(503, "database_unavailable",
                                "the database is unavailable; retry shortly")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(413)
    def too_large(e: HTTPException):
        return error_answer(413, "request_entity_too_large",
                            f"the body is larger than the limit of {MAX_BODY_BYTES // 1024} KiB")

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.response is not None:  # an answer made for it (the sign-in page's 429)
            return e.response
        response = error_answer(e.code or 500, e.name.lower().replace(" ", "_"),
                                e.description)
        for name, value in e.get_headers():  # e.g. a 405's Allow
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    return app


def error_answer(status: int, code: str, message: str, field: str | None = None,
                 errors: list[dict] | None = None):
    """An error as the JSON API answers it, or, for a page, as a page in the reader's
    language (templates/error.html), never the API's JSON."""
    if request.path.startswith(JSON_PATHS):
        return error_response(status, code, message, field, errors)
    return make_response(render_template("error.html", error=error_document(
        status, code, message, field)["error"]), status)


def security_headers(response):
    """On every answer: the Content-Security-Policy, no framing, no sniffing, no
    referrer; ``no-store`` unless the path is public; HSTS when the request came over
    TLS (a proxy's X-Forwarded-Proto counts as gunicorn's forwarded_allow_ips allow)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.path.startswith(CACHEABLE_PATHS):
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def close_app(app: Flask) -> None:
    """Release the read models' connections (the CaseFiles application is the caller's)."""
    for view in app.extensions.get("read_models", {}).values():
        view.datastore.close()
    if "relay_tracking" in app.extensions:
        app.extensions["relay_tracking"].datastore.close()
    if "read_replica" in app.extensions:
        app.extensions["read_replica"].close()
