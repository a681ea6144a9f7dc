"""The one command path of the web: the JSON API's routes and the page forms both run a
declared command (adapters.commands.catalog) through ``run``.

``run`` checks the actor's role, reads the body against the command's schema, builds the
command's context (meta, expected version, idempotency key) and calls the use case once;
a command on an organization, a warning or a proposal checks the actor's scope on the
aggregate the use case loads (``services.application.checking_scope``), so it is loaded
once. A request refused before the call (its role, body or headers) first looks its
target up, so a missing target answers 404 and one outside the actor's scope 403, before
any 400.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from flask import jsonify

from adapters import metrics
from adapters.commands.catalog import Command, item_id, person_id
from adapters.web.accounts import account_document, account_or_404
from adapters.web.network import check_rule_change, rule_document, warning_document
from adapters.web.plans import caught_up_register, plan_document
from adapters.web.reads import person_document
from adapters.web.requests import (ApiError, authorize, body, casefiles, check_person_scope,
                                   check_plan_scope, check_scope, check_scope_of, correlation_header,
                                   current_actor, expected_version, idempotency,
                                   make_meta, node_in_scope, parse_body, refusal,
                                   remember_position)
from domain.calendar import today_in_china
from services.inspection_plans import get_plan
from domain.errors import DomainError
from domain.organization import Organization
from projections.documents import organization_document, plain, with_certificate_state
from services.application import CommandResult, checking_scope, presenting
from services.errors import OrganizationNotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """A command as a client sent it: the body, and what its headers add."""

    body: Callable[[], Any]
    expected_version: Callable[[], int | None] = lambda: None
    idempotency: Callable[[], tuple[str | None, str]] = lambda: (None, "")
    correlation_id: str | None = None

    @classmethod
    def from_request(cls) -> "Submission":
        """The JSON API's request: its JSON body, If-Match and Idempotency-Key."""
        return cls(body, expected_version, idempotency, correlation_header())

    @classmethod
    def from_form(cls, data: dict) -> "Submission":
        """A page form's fields, as the JSON body they make."""
        return cls(lambda: data)


def run(command: Command, url: dict, submitted: Submission):
    """Run the command for the signed-in actor; answer as the JSON API does."""
    actor = current_actor()
    try:
        authorize(command.action)
    except ApiError:
        if command.target == "organization":  # a missing organization: 404 first
            casefiles().get_organization(url["code"], shared=True)
        raise
    _check_path_target(command, url)
    fields: dict | None = None
    try:
        fields, meta_fields = read_body(command, submitted.body())
        _check_body_target(command, fields, actor)
        context = _context(command, actor, meta_fields, submitted)
        args = command.args(fields, url)
    except (ApiError, DomainError):
        _look_up(command, url, actor, fields)
        raise
    app = casefiles()
    use_case = (getattr(app, command.use_case) if isinstance(command.use_case, str)
                else partial(command.use_case, app))
    scope = SCOPES.get(command.target)
    try:
        with contextlib.ExitStack() as stack:
            if scope is not None:
                stack.enter_context(checking_scope(partial(scope, actor)))
            if command.answer == "organization":  # its document as saved
                stack.enter_context(presenting(_document))
            result = use_case(**context, **args)
    except OrganizationNotFound as e:
        if command.target == "warned":  # the body's field names it
            e.field = "organization"
        raise
    if not getattr(result, "replayed", False):
        metrics.count_command(command.name)
    return ANSWERS[command.answer](command, result, args)


def read_body(command: Command, data: Any) -> tuple[dict, dict]:
    """The command's fields and meta fields from its body, checked against its schema and
    its checks; every refusal is raised at once (adapters.commands.validation.refused)."""
    if command.parse:  # a body beyond the schema: its own reading, then the checks
        fields, meta_fields = command.parse(data)
        for check in command.checks:
            check(fields, meta_fields)
        return fields, meta_fields
    return parse_body(data, command.schema, command.checks, command.meta_schema)


def attempt(command: Command, url: dict, submitted: Submission) -> tuple[int, dict]:
    """``run`` for a page: the answer's status and JSON document, or the refusal's."""
    try:
        response = run(command, url, submitted)
    except (ApiError, DomainError) as e:
        return refusal(e)
    return response.status_code, response.get_json(silent=True) or {}


# --------------------------------------------------------------------- targets

def _check_item_scope(actor, item) -> None:
    """A warning or a proposal lies within the actor's scope: its organization's."""
    check_scope_of(actor, item.organization, item.jurisdiction)


def _check_warned_scope(actor, org) -> None:
    """The organization a warning is raised about lies within the actor's scope; a
    refusal names the body's field."""
    try:
        check_scope(actor, org)
    except ApiError as e:
        e.field = "organization"
        raise


# The targets whose scope the use case checks on the aggregate it loads (checking_scope):
# the path's organization, the body's organization (a warning raised about it), the
# path's warning or proposal.
SCOPES: dict[str | None, Callable[[Any, Any], None]] = {
    "organization": check_scope, "warned": _check_warned_scope,
    "warning": _check_item_scope,
    "proposal": _check_item_scope, "person": check_person_scope,
    "named_person": check_person_scope}


def _look_up(command: Command, url: dict, actor, fields: dict | None) -> None:
    """The target, for a request refused before the call: it must exist and lie within
    the actor's scope."""
    app = casefiles()
    if command.target == "organization":
        check_scope(actor, app.get_organization(url["code"], shared=True))
    elif command.target == "warned" and fields is not None:
        try:
            org = app.get_organization(fields["organization"], shared=True)
        except OrganizationNotFound as e:
            e.field = "organization"
            raise
        _check_warned_scope(actor, org)
    elif command.target == "warning":
        _check_item_scope(actor, app.get_warning(item_id(url["warning_id"], "warning")))
    elif command.target == "proposal":
        _check_item_scope(actor, app.get_proposal(item_id(url["proposal_id"], "proposal")))
    elif command.target == "person":
        check_person_scope(actor, app.get_person(person_id(url["person_id"])))
    elif command.target == "account":
        account_or_404(url["username"])


def _check_path_target(command: Command, url: dict) -> None:
    """The path's target the use case does not check itself: a node, an account, a
    plan (it must exist: 404; and lie within the actor's jurisdiction)."""
    if command.target == "node":
        node_in_scope(url["code"])
    elif command.target == "plan_path":
        check_plan_scope(current_actor(),
                         get_plan(casefiles(), url["number"]).jurisdiction)
    elif command.target == "account":
        account_or_404(url["username"])


def _check_body_target(command: Command, fields: dict, actor) -> None:
    """The targets the body names and the use case does not check itself."""
    if command.target == "domicile":
        try:
            check_scope_of(actor, fields.get("code"), fields["domicile"]["jurisdiction"])
        except ApiError:
            raise ApiError(403, "forbidden_jurisdiction",
                           "the domicile is outside your jurisdiction",
                           "domicile.jurisdiction") from None
    elif command.target == "plan":
        check_plan_scope(actor, fields["jurisdiction"])
    elif command.target == "rule":
        check_rule_change(actor, fields["jurisdiction"])


def _context(command: Command, actor, meta_fields: dict, submitted: Submission) -> dict:
    """What the use case takes beyond its arguments, as the command declares."""
    context: dict[str, Any] = {}
    if "idempotency" in command.context:
        context["idempotency_key"], context["fingerprint"] = submitted.idempotency()
    if "meta" in command.context:
        context["meta"] = make_meta(actor, meta_fields, submitted.correlation_id)
    if "jurisdiction" in command.context:
        context["jurisdiction"] = actor.jurisdiction
    if "own_account" in command.context:
        context["username"] = actor.username
    if "expected_version" in command.context:
        context["expected_version"] = submitted.expected_version()
    if "warning_key" in command.context:  # the Idempotency-Key's, checked above
        key = context.get("idempotency_key") or secrets.token_hex(16)
        context["key"] = f"manual:{actor.username}:{key}"
    if "register" in command.context:
        context["register"] = caught_up_register()
    return context


# --------------------------------------------------------------------- answers

def _document(aggregate) -> dict | None:
    """An organization's document (projections.documents), for ``presenting``."""
    return organization_document(aggregate) if isinstance(aggregate, Organization) else None


def respond(result: CommandResult, status: int = 200):
    """An organization's command: the organization as saved, its version and position."""
    document = result.presented  # the organization as saved: no second read
    if document is None:
        org = result.aggregate
        if org is None or not isinstance(org, Organization):  # a replay, or not one
            org = casefiles().get_organization(result.identifier, version=result.version)
        document = organization_document(org)
    payload = {"organization": with_certificate_state(
                   document, today_in_china(), casefiles().rule("certificate_expiry")),
               "version": result.version, "position": result.position, **result.result}
    response = jsonify(payload)
    response.status_code = status
    response.headers["ETag"] = f'"{result.version}"'
    response.headers["Location"] = f"/api/v1/organizations/{result.identifier}"
    if result.position is not None:
        response.headers["X-Position"] = str(result.position)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    remember_position(response, result.position)
    return response


def _organization(command: Command, result: CommandResult, args: dict):
    status = command.status or (201 if "id" in result.result else 200)
    return respond(result, status)


def _person_found(command: Command, person, args: dict):
    """A lookup's answer: the person, if recorded, not erased and within the actor's
    scope; otherwise one and the same 404, which tells nothing (a refusal for the scope
    is logged as a denial)."""
    if person is not None:
        try:
            check_person_scope(current_actor(), person)
        except ApiError:
            log.warning("denied: %s (%s) POST person lookup outside the jurisdiction",
                        current_actor().username, current_actor().role)
            person = None
    if person is None:
        raise ApiError(404, "not_found", "no person with this identity number is recorded "
                       "in your jurisdiction", "id_number")
    return jsonify(person_document(person))


def _person_changed(command: Command, result: CommandResult, args: dict, **extra: Any):
    person = casefiles().get_person(result.aggregate_id)
    response = jsonify({**person_document(person), **extra, "position": result.position})
    response.status_code = command.status
    response.headers["ETag"] = f'"{result.version}"'
    remember_position(response, result.position)
    return response


def _person_erased(command: Command, result: CommandResult, args: dict):
    return _person_changed(command, result, args,
                           organizations=result.result.get("organizations", []))


def _token_issued(command: Command, token: str, args: dict):
    """A new token: shown this once (only its hash is stored), with its name and expiry."""
    username, token_id, _secret = token.split(".", 2)
    listed = {t["id"]: t for t in casefiles().list_tokens(username)}
    response = jsonify({"token": token, **plain(listed[token_id])})
    response.status_code = command.status
    return response


def _account(command: Command, account, args: dict):
    return jsonify(account_document(account))


def _warning(command: Command, warning, args: dict):
    response = jsonify(warning_document(warning))
    response.status_code = command.status
    response.headers["ETag"] = f'"{warning.version}"'
    remember_position(response, getattr(warning, "position", None))
    return response


def _rule(command: Command, rule, args: dict):
    return jsonify(rule_document(rule))


def _proposal(command: Command, decided: tuple, args: dict):
    proposal, position = decided
    response = jsonify(plain({"id": str(proposal.id), "kind": proposal.kind,
                              "organization": proposal.organization,
                              "status": proposal.status, "decision": proposal.decision,
                              "rule": proposal.rule, "reason": proposal.reason}))
    remember_position(response, position)
    return response


def _node(command: Command, node, args: dict):
    response = jsonify({"code": node.code, "name": node.name, "level": node.level})
    response.status_code = command.status
    return response


def _officers(command: Command, node, args: dict):
    response = jsonify({"code": node.code, "officers": sorted(node.officers)})
    response.status_code = command.status
    return response


def _plan(command: Command, plan, args: dict):
    response = jsonify(plan_document(plan))
    response.status_code = command.status
    response.headers["Location"] = f"/api/v1/inspection-plans/{plan.number}"
    response.headers["ETag"] = f'"{plan.version}"'
    return response


ANSWERS: dict[str, Callable[..., Any]] = {
    "organization": _organization, "person_found": _person_found,
    "person_changed": _person_changed,
    "person_erased": _person_erased, "warning": _warning, "rule": _rule,
    "proposal": _proposal, "node": _node, "officers": _officers, "plan": _plan,
    "token_issued": _token_issued, "account": _account,
}
