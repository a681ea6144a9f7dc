"""The OpenAPI 3.1 document of the JSON API, generated from the code: the routes from
Flask's URL map, each command's body and summary from its declaration
(adapters.commands.catalog, the same the command path checks requests against), each
read's query parameters from ``query``. Served at /openapi.json, with a readable
reference at /docs."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template

from adapters.commands import validation as v
from adapters.commands.catalog import (BY_ENDPOINT, META_SCHEMA, Command, plan_jurisdiction,
                                       plan_number, reason_required, sha256_hex)
from adapters.web.labels import operation_title
from adapters.web.requests import IDEMPOTENCY_KEY_RE
from domain.calendar import today_in_china
from domain.codes import (validate_committee, validate_credit_code, validate_id_number,
                          validate_jurisdiction)

bp = Blueprint("docs", __name__, template_folder="templates")

CODE_CHARS = "0-9A-HJ-NP-RTUW-Y"  # the credit code's character set: no I, O, S, V, Z
# What each field check (adapters.commands.validation) accepts, as far as a pattern can
# say it: not a credit code's or an identity number's check character, nor a birth date
# that does not exist (tests/e2e/test_schemathesis.py lists what the document cannot say).
PATTERNS = {
    validate_credit_code: f"^[{CODE_CHARS}]{{2}}[0-9]{{6}}[{CODE_CHARS}]{{10}}$",
    validate_id_number: "^[0-9]{6}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
                        "[0-9]{3}[0-9X]$",
    validate_jurisdiction: "^[0-9]{12}$",
    validate_committee: "^[0-9]{9}([0-9]{2}[1-9]|[0-9][1-9][0-9]|[1-9][0-9]{2})$",
    plan_jurisdiction: "^[0-9]{9}000$",
}
# Text: no NUL character, and something besides white space (the server strips it: what
# Python's str.strip removes, listed, since a pattern's \s is not quite the same).
WHITE = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x3000 + 1)) if c.isspace())
NO_NUL = "^[^\\u0000]*$"
TEXT = f"^[^\\u0000]*[^\\u0000{WHITE}][^\\u0000]*$"
PATTERNS[sha256_hex] = "^[0-9a-f]{64}$"
PATTERNS[plan_number] = f"^[^\\u0000/]*[^\\u0000/{WHITE}][^\\u0000/]*$"  # a path segment
IF_MATCH = '^\\s*(W/)?"?[0-9]{1,12}"?\\s*$'
# Path parameters by name (and, for a code, the path it is in): what the route accepts.
PATH_PARAMETERS = {
    "code": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NO_NUL},
    "year": {"type": "integer", "minimum": 1980, "maximum": 2100},
    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},  # a document's
}
NETWORK_CODE = {"type": "string", "pattern": PATTERNS[validate_jurisdiction]}
META = {"effective_date": "the business date it takes effect (default today, China time; "
                          "not in the future)",
        "reason": "why (the paper process's reason)",
        "reference": "decision or notice number",
        "documents": "the documents the entry rests on, each uploaded first (POST "
                     "/api/v1/documents): its sha256, file name, public (the public may "
                     "download it with a public entry) and personal (the personal data of "
                     "the person the command is about: erased with theirs)"}
REFUSAL = {"type": "object", "required": ["status", "code", "message"],
           "properties": {"status": {"type": "integer"}, "code": {"type": "string"},
                          "message": {"type": "string"},
                          "field": {"type": ["string", "null"]}}}
ERROR = {"type": "object", "required": ["error"], "properties": {
    "error": {**REFUSAL, "description": "the first refusal"},
    "errors": {"type": "array", "items": REFUSAL, "minItems": 1,
               "description": "every refusal, one for each bad field of the body (the "
                              "first is error)"}}}
ERRORS = {"400": "malformed input (every bad field in errors, the first as error)",
          "401": "no or unknown API token", "403": "role or jurisdiction refuses it",
          "404": "unknown organization, person or item", "409": "version conflict or duplicate",
          "413": "body over 64 KiB", "415": "not application/json",
          "422": "a domain rule refused it (the code names the rule)",
          "503": "the database is unavailable (Retry-After)"}


def query(**parameters: tuple[dict, str]):
    """Declare a read's query parameters, name -> (JSON schema, description), for
    /openapi.json and the interactive /docs (the read itself checks them)."""
    def declare(view):
        view.query_parameters = parameters
        return view
    return declare


def responds(media_type: str | tuple[str, ...], description: str):
    """Declare that a read answers ``media_type`` (not JSON; or one of several) on
    success, for /openapi.json; its errors are JSON as everywhere."""
    def declare(view):
        view.response_content = (media_type, description)
        return view
    return declare


def accepts(content: dict[str, dict]):
    """Declare a route's request body that is not a JSON command body: media type ->
    {"schema": ...}, for /openapi.json (an upload's file)."""
    def declare(view):
        view.request_content = content
        return view
    return declare


def json_schema(spec: v.F) -> dict:
    kind = spec.kind
    if kind == "str":
        schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": spec.max_len,
                                  "pattern": PATTERNS.get(spec.check, TEXT)}
    elif kind == "enum":
        schema = {"type": "string", "enum": list(spec.choices)}
    elif kind == "date":
        schema = {"type": "string", "format": "date"}
    elif kind == "decimal":
        schema = {"type": "number", "maximum": float(spec.maximum), "multipleOf": 0.01}
        if spec.minimum is not None:
            schema["minimum"] = float(spec.minimum)
        else:
            schema["minimum"] = -float(spec.maximum)
    elif kind == "int":
        schema = {"type": "integer", "minimum": spec.minimum, "maximum": spec.maximum}
    elif kind == "bool":
        schema = {"type": "boolean"}
    elif kind == "map":  # an object of named values (a rule's parameters)
        schema = {"type": "object", "minProperties": 1, "maxProperties": spec.maximum}
    elif kind == "list":
        schema = {"type": "array", "maxItems": spec.maximum, "items": json_schema(spec.item)}
    else:
        schema = object_schema(spec.schema)
    if spec.nullable:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def object_schema(fields: dict[str, v.F]) -> dict:
    return {"type": "object", "additionalProperties": False,
            "required": [name for name, spec in fields.items() if spec.required],
            "properties": {name: json_schema(spec) for name, spec in fields.items()}}


def body_schema(command: Command | None) -> dict:
    """A command's body: its fields and the meta fields; a command that needs a reason
    (``reason_required``) requires it, not null."""
    fields = {**(command.schema if command else {}),
              **(command.meta_schema if command else META_SCHEMA)}
    if command is not None and reason_required in command.checks:
        fields["reason"] = v.text(True, META_SCHEMA["reason"].max_len)
    body = object_schema(fields)
    for name, text in META.items():
        if name in body["properties"]:
            body["properties"][name]["description"] = text
    return body


def path_parameter(name: str, converter: str, rule: str) -> dict:
    if rule.startswith("/api/v1/network/") and name == "code":
        schema = NETWORK_CODE
    elif converter == "int":
        schema = PATH_PARAMETERS.get(name, {"type": "integer"})
    elif converter == "uuid":
        schema = {"type": "string", "format": "uuid"}
    else:
        schema = PATH_PARAMETERS.get(name, {"type": "string", "minLength": 1,
                                            "maxLength": 64, "pattern": NO_NUL})
    return {"name": name, "in": "path", "required": True, "schema": schema}


def query_schema(schema: dict) -> dict:
    """A query parameter as the server reads it: a string never holds a NUL."""
    if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema \
            and "format" not in schema:
        return {**schema, "pattern": NO_NUL}
    return schema


def operation_id(endpoint: str, method: str) -> str:
    """``api.<view>.<method>`` for every route of the JSON API, whichever module's
    blueprint holds it (the ids clients generated from the document know)."""
    blueprint, _, view = endpoint.rpartition(".")
    return f"{'api' if blueprint in API_BLUEPRINTS else blueprint}.{view}.{method.lower()}"


API_BLUEPRINTS = ("api", "reads", "network", "plans", "printing", "statistics", "documents")


def build(app) -> dict:
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(("/api/", "/healthz", "/readyz")):
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:(\w+):)?(\w+)>", r"{\2}", rule.rule)
        parameters = [path_parameter(name, conv, rule.rule)
                      for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule)]
        command = BY_ENDPOINT.get(rule.endpoint)
        media_types, described = getattr(view, "response_content", ("application/json",
                                                                    "success"))
        if isinstance(media_types, str):
            media_types = (media_types,)
        success = {media_type: {"schema": {"type": "object"}}
                   if media_type == "application/json"
                   else {"schema": {"type": "string", "format": "binary"}}
                   for media_type in media_types}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            doc = (view.__doc__ or "").strip().split("\n")[0]
            title = operation_title(rule.endpoint, translate=False)
            described_as = (command.summary if command else doc) or title or rule.endpoint
            operation: dict[str, Any] = {
                "operationId": operation_id(rule.endpoint, method),
                "summary": title or described_as,
                "description": described_as,
                "parameters": parameters,
                "responses": {"200" if method == "GET" else "2XX": {
                    "description": described, "content": success},
                    **{code: {"description": text, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}}
                       for code, text in ERRORS.items()}}}
            if rule.rule.startswith("/api/"):
                operation["security"] = [{"bearer": []}]
            if method == "GET":
                operation["parameters"] = parameters + [
                    {"name": name, "in": "query", "required": False,
                     "schema": query_schema(schema), "description": text}
                    for name, (schema, text) in getattr(view, "query_parameters", {}).items()]
            if method in ("POST", "PUT"):
                operation["requestBody"] = {"required": True, "content": getattr(
                    view, "request_content", None) or {
                    "application/json": {"schema": body_schema(command)}}}
                operation["parameters"] = parameters + [
                    {"name": "Idempotency-Key", "in": "header", "required": False,
                     "schema": {"type": "string",
                                "pattern": f"^{IDEMPOTENCY_KEY_RE.pattern}$"}},
                    {"name": "If-Match", "in": "header", "required": False,
                     "schema": {"type": "string", "pattern": IF_MATCH}}]
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Social-organization case files (社会组织案卷) API", "version": "1",
                 "description": "Every write is recorded as an immutable event. See the "
                                "README for the conventions."},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(build(current_app))


def example(schema: dict) -> Any:
    """A value that fits the schema, to prefill the interactive docs' body: required
    properties only, the first choice, the smallest number; no identity number (the docs
    never show one, not even a made-up one)."""
    if "anyOf" in schema:
        return example(schema["anyOf"][0])
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        properties = schema.get("properties")
        if properties is None:
            return {"name": "value"}
        return {name: example(properties[name]) for name in schema.get("required", [])
                if name in properties}
    if kind == "array":
        return [example(schema["items"])] if "items" in schema else []
    if kind == "boolean":
        return False
    if kind == "integer":
        return max(schema.get("minimum", 0), 0)
    if kind == "number":
        return max(schema.get("minimum", 0), 0)
    if schema.get("format") == "date":
        return today_in_china().isoformat()
    pattern = schema.get("pattern")
    if pattern == PATTERNS[validate_credit_code]:
        return "51310110MJ0000001B"
    if pattern in (PATTERNS[validate_committee], PATTERNS[validate_jurisdiction]):
        return "310110001001"
    if pattern == PATTERNS[plan_jurisdiction]:
        return "310110000000"
    if pattern == PATTERNS[validate_id_number]:
        return ""
    return "text"


@bp.get("/docs")
def docs_page():
    """The reference of every endpoint, rendered on the server, and interactive: per
    operation, inputs for its path parameters and query, a JSON body prefilled with an
    example from its declared schema, the API token, and a Send button
    (static/docs.js: no build step)."""
    spec = build(current_app)
    endpoints = {operation_id(rule.endpoint, method): rule.endpoint
                 for rule in current_app.url_map.iter_rules() for method in rule.methods}
    operations = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            content = op.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            fields = (schema or {}).get("properties", {})
            required = set((schema or {}).get("required", []))
            operations.append({
                "id": re.sub(r"[^A-Za-z0-9_-]", "-", op["operationId"]),
                "method": method.upper(), "path": path,
                "title": operation_title(endpoints[op["operationId"]]) or op["summary"],
                "description": op["description"] if op["description"] != op["summary"]
                else None,
                "parameters": [p["name"] for p in op["parameters"] if p["in"] == "path"],
                "query": "&".join(f'{p["name"]}=' for p in op["parameters"]
                                  if p["in"] == "query"),
                "fields": [(n, n in required) for n in fields],
                "body": json.dumps(example(schema), ensure_ascii=False, indent=2)
                if schema else None,
                "file": bool(content) and not schema})  # a file as the body (an upload)
    return render_template("docs.html", operations=operations)
