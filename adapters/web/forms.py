"""The page forms: one for every declared command (adapters.commands.catalog), generated
from its body's declaration and run through the one command path
(adapters.web.commands), with the signed-in account as the actor, so validation,
authorization, rules and recording are the JSON API's own.

A form lives at /forms/<the API path after /api/v1/>; an organization's own commands also
at /organizations/<code>/forms/<name>, linked from its case file for the roles the policy
table allows (``may``).

A form shows labels, never the API's path or field names; marks the fields the command
requires; offers an organization, a leader or a node to choose by name within the
user's scope (adapters.web.pickers); refuses a submission with every error at once, each
next to its field in the page's language; and after a recorded command shows what was
recorded on the page it goes on to (adapters.web.confirmation)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, g, redirect, request, url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound as HTTPNotFound
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import Map, Rule

from adapters.commands import validation as v
from adapters.commands.catalog import (BY_ENDPOINT, COMMANDS, META_SCHEMA, Command,
                                       reason_required)
from adapters.web import pickers
from adapters.web.commands import Submission, attempt, read_body
from adapters.web.confirmation import confirmation, recorded, subject_of
from adapters.web.documents import allow_form_uploads, form_documents, form_too_large
from adapters.web.i18n import translate_error
from adapters.web.labels import field_label, form_title
from adapters.web.reads import case_file
from adapters.web.requests import (ApiError, answer_or_refusal, authorize, login_redirect,
                                   not_found, page, refusal, same_site_path, signed_in)
from domain.errors import DomainError
from domain.access import allowed
from domain.codes import validate_id_number
from domain.errors import DomainError

bp = Blueprint("forms", __name__, template_folder="templates")

WRITE_METHODS = ("POST", "PUT")
ORGANIZATION_PREFIX = "/api/v1/organizations/<code>/"
# The commands' routes, for a form's path: the catalog's own, not the application's map.
ROUTES = Map([Rule(c.rule, endpoint=c.endpoint, methods=[c.method]) for c in COMMANDS])


bp.before_request(allow_form_uploads)  # documents ride on the form (multipart)
bp.register_error_handler(RequestEntityTooLarge, form_too_large)


# ------------------------------------------------------------- who sees which form

def action_of(endpoint: str) -> str | None:
    """The policy action (domain/access.py) a command endpoint asks for."""
    command = BY_ENDPOINT.get(endpoint)
    return command.action if command else None


def may(endpoint_or_action: str) -> bool:
    """Whether the signed-in account's role may run this endpoint (or action)."""
    actor = g.get("actor")
    if actor is None:
        return False
    action = action_of(endpoint_or_action) if "." in endpoint_or_action else endpoint_or_action
    return action is not None and allowed(actor.role, action)


@bp.app_context_processor
def form_helpers() -> dict:
    def error_text(error: dict) -> str:
        """An API error for the page, in the page's language."""
        return translate_error(error) if error.get("code") else error.get("message", "")

    return {"may": may, "label": field_label, "form_title": form_title,
            "error_text": error_text}


def command_endpoints() -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every command of the JSON API."""
    return sorted(((c.method, c.rule, c.endpoint) for c in COMMANDS), key=lambda f: f[1])


def resolve_command(path: str) -> tuple[Command, dict] | None:
    """The command at an API path, and its URL arguments; None if there is none."""
    adapter = ROUTES.bind("")
    for method in WRITE_METHODS:
        try:
            endpoint, args = adapter.match(path, method=method)
        except (HTTPNotFound, MethodNotAllowed):
            continue
        return BY_ENDPOINT[endpoint], args
    return None


def command_forms(code: str) -> list[dict]:
    """The organization-level command forms (no item in the path) this user may run."""
    found = []
    for command in COMMANDS:
        name = command.rule[len(ORGANIZATION_PREFIX):]
        if not command.rule.startswith(ORGANIZATION_PREFIX) or "<" in name \
                or not may(command.endpoint):
            continue  # forms on items (a report, a notice) open from the item
        found.append({"name": name, "endpoint": command.endpoint})
    return sorted(found, key=lambda f: f["name"])


# ------------------------------------------------------------- fields and values

def form_schema(command: Command) -> dict[str, v.F]:
    return {**command.schema, **META_SCHEMA}


def flatten(schema: dict[str, v.F], prefix: str = "") -> list[tuple[str, v.F]]:
    fields = []
    for name, spec in schema.items():
        if spec.kind == "object":
            fields += flatten(spec.schema, f"{prefix}{name}.")
        else:
            fields.append((prefix + name, spec))
    return fields


def required_fields(command: Command) -> set[str]:
    """The fields the command's declaration requires: required ones whose parents are
    required too, and ``reason`` where a check demands it. A checkbox is never marked (not
    ticked is an answer too), nor a field that may be empty (null)."""
    def walk(schema: dict[str, v.F], prefix: str) -> set[str]:
        found = set()
        for name, spec in schema.items():
            if not spec.required:
                continue
            if spec.kind == "object":
                found |= walk(spec.schema, f"{prefix}{name}.")
            elif spec.kind != "bool" and not spec.nullable:
                found.add(prefix + name)
        return found

    required = walk(form_schema(command), "")
    if reason_required in command.checks:
        required.add("reason")
    return required


def is_identity_number(spec: v.F) -> bool:
    return spec.check is validate_id_number


def _map_value(raw: str) -> Any:
    """``key=value`` per line (numbers and true/false typed), as for ``casefile rules
    set``; anything else is handed on as text for the command to refuse."""
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
            if not (spec.required and spec.nullable):
                continue
            value = None  # a field the body must hold, empty: none (a unit, for one)
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
    """The form field an error names (``issues[2]`` is the ``issues`` field)."""
    field = re.sub(r"\[[0-9]+\]", "", error.get("field") or "")
    names = {name for name, _spec in fields}
    return field if field in names else "_form"


def shown_errors(document: dict, fields: list[tuple[str, v.F]],
                 picked: dict[str, str] | None = None) -> dict:
    """Every refusal of an error document, in the page's language: the first of each
    field next to it (a picker's own finding first), those of no field under ``_form``
    (a list)."""
    errors: dict[str, Any] = {"_form": []}
    for name, text in (picked or {}).items():
        errors[name] = {"text": text, "original": ""}
    for error in document.get("errors") or [document.get("error", {})]:
        field = _error_field(error, fields)
        shown = {"text": translate_error(error), "original": error.get("message", "")}
        if field == "_form":
            if shown not in errors["_form"]:
                errors["_form"].append(shown)
        else:
            errors.setdefault(field, shown)
    return errors


def _checked_only(command: Command, body: dict) -> dict:
    """The error document of a body's refusals, without running the command (a form
    whose picker named nothing is not sent, but its other fields are checked)."""
    try:
        read_body(command, body)
    except (ApiError, DomainError) as e:
        return refusal(e)[1]
    return {"errors": []}


def _shown_result(result: dict) -> dict:
    """The top-level plain values of the answer (never an identity number: the answer
    holds only the masked one)."""
    return {k: x for k, x in result.items() if isinstance(x, (str, int, float, bool))
            and k not in ("position",)}


# ---------------------------------------------------------------------- the forms

def run_form(api_path: str, found: tuple[Command, dict], *, cancel: str,
             default_next: str | None = None, context: dict | None = None):
    """Show the form of the command at ``api_path``, or submit it."""
    command, url_args = found
    context = context or {}
    schema = form_schema(command)
    fields = flatten(schema)
    secret = {name for name, spec in fields if is_identity_number(spec)}
    documents = "documents" in command.meta_schema  # the entry may carry documents
    next_url = same_site_path(request.values.get("next")) or default_next

    def render(status: int = 200, **shown: Any):
        choices = {name: pickers.choices(pickers.picker(name), context)
                   for name, _spec in fields if pickers.picker(name)}
        errors = shown.get("errors", {})
        count = sum(len(x) if k == "_form" else 1 for k, x in errors.items())
        return page("form.html", status, endpoint=command.endpoint, fields=fields,
                    cancel=cancel, required=required_fields(command), pickers=choices,
                    error_count=count, documents=documents,
                    next=next_url, **{k: x for k, x in context.items() if k != "org"},
                    **shown)

    if request.method == "POST":
        values = {k: (request.form.getlist(k) if len(request.form.getlist(k)) > 1 else x)
                  for k, x in request.form.items() if k not in secret}
        body, picked = pickers.resolve_all(form_to_body(schema, request.form), context)
        if picked:  # a name that names nothing: checked, not sent
            status, result = 400, _checked_only(command, body)
        else:
            try:  # the files chosen (multipart), stored, then attached as the documents
                if documents and (attached := form_documents(request.files,
                                                             request.form)):
                    body["documents"] = attached
                status, result = attempt(command, url_args, Submission.from_form(body))
            except (ApiError, DomainError) as e:  # a file refused: its type, its size
                status, result = refusal(e)
        if status < 300:
            target = next_url
            if not target and isinstance(result.get("organization"), dict):
                target = url_for("pages.case_file", code=result["organization"]["identifier"])
            if target:
                return recorded(redirect(target), command.endpoint, result)
            return render(errors={}, values={}, result=_shown_result(result),
                          done=confirmation(command.endpoint, subject_of(result)))
        return render(400 if status < 500 else status, values=values, result=None,
                      errors=shown_errors(result, fields, picked))
    values = {k: x for k, x in request.args.items() if k not in secret and k != "next"}
    return render(errors={}, values=values, result=None)


@bp.route("/organizations/<code>/forms/<path:name>", methods=["GET", "POST"])
def command_form(code: str, name: str):
    if signed_in() is None:
        return login_redirect()
    api_path = f"/api/v1/organizations/{code}/{name}"
    found = resolve_command(api_path)
    if found is None:
        return not_found()
    status, org = answer_or_refusal(lambda: case_file(code, {}).as_dict())  # may they see it?
    if status != 200:
        return page("error.html", status, error=org.get("error", {}))
    return run_form(api_path, found, cancel=url_for("pages.case_file", code=code),
                    context={"code": code, "org_name": org.get("name"), "org": org})


@bp.route("/forms/<path:target>", methods=["GET", "POST"])
def api_form(target: str):
    """The form of any command of the JSON API, e.g. /forms/warnings,
    /forms/proposals/ID/confirmation, /forms/persons/ID/occupational-bans."""
    if signed_in() is None:
        return login_redirect()
    if target.startswith("organizations/"):
        parts = target.split("/", 2)
        if len(parts) == 3:  # an organization's own command: its case-file form
            return redirect(url_for("forms.command_form", code=parts[1], name=parts[2],
                                    **request.args))
    found = resolve_command("/api/v1/" + target)
    if found is None:
        return not_found()
    try:
        authorize(found[0].action)  # the form is offered only to a role that may run it
    except ApiError as e:
        return page("error.html", e.status, error={"message": translate_error(
            {"code": e.code, "message": e.message, "field": e.field})})
    back = same_site_path(request.values.get("next")) or url_for("pages.home")
    return run_form("/api/v1/" + target, found, cancel=back)
