"""The Flask application factory: the JSON API and the operators' health endpoints."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from eventsourcing.persistence import DataError, InterfaceError, OperationalError
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from domain.errors import Conflict, DomainError, InvalidValue, NotFound, RuleViolation
from adapters.bootstrap import build_casefiles
from services.casefiles import CaseFiles
from services.errors import (IdempotencyKeyReused, OrganizationNotFound, PersonNotFound,
                             VersionConflict)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def error_response(status: int, code: str, message: str, field: str | None = None):
    response = jsonify({"error": {"status": status, "code": code, "message": message,
                                  "field": field}})
    response.status_code = status
    return response


def status_of(error: DomainError) -> tuple[int, str]:
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


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the web application. ``config["CASEFILES"]`` may hand in an application
    (tests do); otherwise one is built from the environment (adapters.config)."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    if config:
        app.config.update(config)
    casefiles = app.config.get("CASEFILES")
    if casefiles is None:
        from adapters.config import application_env

        casefiles = build_casefiles(env=application_env())
    app.extensions["casefiles"] = casefiles

    from adapters.web import network, reads  # noqa: F401  (add their endpoints to the blueprint)
    from adapters.web import plans  # noqa
    from adapters.web.api import ApiError, bp
    from adapters.web.health import health

    if casefiles.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        from adapters.runtime.readmodels import READ_MODELS, open_view

        app.extensions["read_models"] = {name: open_view(dict(casefiles.env), name)
                                         for name in READ_MODELS}
        from adapters.kafka.relay import KafkaSettings, relay_tracking

        if KafkaSettings.from_env(dict(casefiles.env)) is not None:
            app.extensions["relay_tracking"] = relay_tracking(dict(casefiles.env))

    from adapters.web.i18n import init_babel
    from adapters.web.openapi import docs
    from adapters.web.pages import pages, public

    init_babel(app)
    app.register_blueprint(bp)
    app.register_blueprint(health)
    app.register_blueprint(docs)
    app.register_blueprint(pages)
    from adapters.web.import_pages import imports
    app.register_blueprint(imports)
    app.register_blueprint(public)
    if "read_models" in app.extensions:
        from adapters.web.sessions import SessionStore

        app.extensions["sessions"] = SessionStore(casefiles.recorder.datastore)

    @app.before_request
    def refuse_nul():
        """A NUL byte in the path or a query argument is never valid input."""
        from flask import request

        if "\x00" in request.path or any("\x00" in k or "\x00" in v
                                          for k, v in request.args.items(multi=True)):
            return error_response(400, "invalid_value", "NUL bytes are not allowed")
        return None

    @app.errorhandler(DataError)
    def bad_data(e: Exception):
        return error_response(400, "invalid_value", "the request holds a value the database "
                              "cannot store")

    @app.after_request
    def log_denials(response):
        """Every refusal (403) is logged once: who, what, when (the log line's time)."""
        if response.status_code == 403:
            from flask import g, request

            actor = g.get("actor")
            who = f"{actor.username} ({actor.role})" if actor else "anonymous"
            log.warning("denied: %s %s %s", who, request.method, request.path)
        return response

    @app.errorhandler(ApiError)
    def api_error(e: ApiError):
        return error_response(e.status, e.code, e.message, e.field)

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        status, code = status_of(e)
        return error_response(status, code, e.message, e.field)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(psycopg.OperationalError)  # psycopg used directly (sessions, DDL)
    @app.errorhandler(psycopg.InterfaceError)
    def database_unavailable(e: Exception):
        log.error("database unavailable: %s", type(e).__name__)
        response = error_response(503, "database_unavailable",
                                  "the database is unavailable; retry shortly")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(413)
    def too_large(e: HTTPException):
        return error_response(413, "request_entity_too_large",
                              f"the body is larger than the limit of {MAX_BODY_BYTES // 1024} KiB")

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        return error_response(e.code or 500, e.name.lower().replace(" ", "_"), e.description)

    return app


def close_app(app: Flask) -> None:
    """Release the read models' connections (the CaseFiles application is the caller's)."""
    for view in app.extensions.get("read_models", {}).values():
        view.datastore.close()
    if "relay_tracking" in app.extensions:
        app.extensions["relay_tracking"].datastore.close()
