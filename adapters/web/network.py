"""The early-warning network over HTTP: the network view with drill-down, warnings,
rules as data, and the proposals staff confirm or reject."""

from __future__ import annotations

import secrets
from datetime import date
from uuid import UUID

from flask import jsonify, request

from adapters.commands import validation as v
from adapters.web.api import (ApiError, accepts, authorize, bp, casefiles, current_actor,
                              make_meta, parse_body, remember_position, today)
from adapters.web.reads import _int_arg, fresh
from domain.codes import jurisdiction_contains, jurisdiction_prefix, validate_jurisdiction
from domain.errors import InvalidValue
from domain.network import SEVERITIES, SOURCES
from projections.documents import plain
from projections.network import FLAGS, roll_up


def _node_in_scope(code: str) -> str:
    try:
        validate_jurisdiction(code, "code")
    except InvalidValue as e:
        raise ApiError(400, "invalid_value", e.message, "code") from None
    actor = current_actor()
    if actor.role != "auditor" and not (actor.jurisdiction and
                                        jurisdiction_contains(actor.jurisdiction, code)):
        raise ApiError(403, "forbidden_jurisdiction", f"{code} is outside your jurisdiction",
                       "code")
    return code


def _uuid(value: str, what: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ApiError(404, "not_found", f"no {what} {value}", "id") from None


@bp.get("/network/<code>")
def network_node(code: str):
    """A node's figures and its children's, each the sum of the committees under it, with
    monthly counts of warnings raised over the last 12 months."""
    authorize("read")
    _node_in_scope(code)
    fresh("casefiles")  # the organizations' figures come from the case files
    view = fresh("network")
    prefix = jurisdiction_prefix(code)
    day = today()
    leaves = view.leaf_figures(prefix, day)
    figures, children = roll_up(code, leaves)
    names = {n["code"]: n for n in view.nodes(prefix[:6])}
    since = date(day.year - 1, day.month, 1)
    trends_by_leaf = view.monthly_trends(prefix, since)
    trends: dict[str, dict[str, int]] = {}
    node_trend: dict[str, int] = {}
    for leaf, months in trends_by_leaf.items():
        child = next((c for c in children if leaf.startswith(jurisdiction_prefix(c))), leaf)
        for month, n in months.items():
            trends.setdefault(child, {})[month] = trends.setdefault(child, {}).get(month, 0) + n
            node_trend[month] = node_trend.get(month, 0) + n
    node = names.get(code, {})
    is_leaf = code[9:] != "000"
    return jsonify({
        "code": code, "name": node.get("name"), "level": node.get("level"),
        "officers": node.get("officers", []), "as_of": day.isoformat(), "figures": figures,
        "trend": dict(sorted(node_trend.items())),
        "children": [] if is_leaf else [
            {"code": child, "name": names.get(child, {}).get("name"), "figures": f,
             "trend": dict(sorted(trends.get(child, {}).items()))}
            for child, f in children.items()]})


@bp.get("/network/<code>/organizations")
def network_organizations(code: str):
    """The organizations behind a figure (drill-down), ``?flag=`` one of FLAGS."""
    authorize("read")
    _node_in_scope(code)
    flag = request.args.get("flag", "")
    if flag not in FLAGS:
        raise ApiError(400, "invalid_value", f"flag must be one of {', '.join(FLAGS)}", "flag")
    fresh("casefiles")
    total, rows = fresh("network").organizations(
        jurisdiction_prefix(code), flag, today(), _int_arg("limit", 100, 1, 1000),
        _int_arg("offset", 0, 0, 10 ** 7))
    return jsonify({"code": code, "flag": flag, "total": total,
                    "organizations": plain(rows)})


# ----------------------------------------------------------------------- warnings

def _warning_document(warning) -> dict:
    return plain({"id": str(warning.id), "organization": warning.organization,
                  "jurisdiction": warning.jurisdiction, "node": warning.node,
                  "level": warning.level, "severity": warning.severity,
                  "source": warning.source, "title": warning.title,
                  "description": warning.description, "rule": warning.rule,
                  "status": warning.status, "raised_on": warning.raised_on,
                  "level_since": warning.level_since, "resolution": warning.resolution,
                  "history": warning.history, "version": warning.version})


def _respond_warning(warning, status: int = 200):
    response = jsonify(_warning_document(warning))
    response.status_code = status
    response.headers["ETag"] = f'"{warning.version}"'
    remember_position(response, getattr(warning, "position", None))
    return response


@bp.post("/warnings")
@accepts({"organization": v.line(max_len=40), "severity": v.enum(SEVERITIES),
          "source": v.enum(tuple(s for s in SOURCES if s != "rule")),
          "title": v.line(max_len=200), "description": v.text(max_len=4000)})
def raise_warning():
    """Raise a warning about an organization, at its residents' committee."""
    actor = authorize("raise_warning")
    fields, meta_fields = parse_body()
    org = casefiles().get_organization(fields["organization"])
    authorize("raise_warning", org)
    key = request.headers.get("Idempotency-Key") or secrets.token_hex(16)
    warning = casefiles().raise_warning(key=f"manual:{actor.username}:{key}",
                                        meta=make_meta(actor, meta_fields), **fields)
    return _respond_warning(warning, 201)


def _handle(warning_id: str, action: str):
    actor = authorize("handle_warning")
    warning = casefiles().get_warning(_uuid(warning_id, "warning"))
    authorize("handle_warning", identifier=warning.organization,
              jurisdiction=warning.jurisdiction)
    fields, meta_fields = parse_body()
    from adapters.web.api import expected_version

    warning = casefiles().handle_warning(warning.id, action, meta=make_meta(actor, meta_fields),
                                         note=fields.get("note"),
                                         expected_version=expected_version())
    return _respond_warning(warning)


for _action in ("acknowledgement", "escalation", "resolution"):
    bp.add_url_rule(f"/warnings/<warning_id>/{_action}", f"warning_{_action}",
                    accepts({"note": v.text(max_len=2000)} if _action == "resolution" else {},
                            f"warning {_action}")(
                        lambda warning_id, _a=_action: _handle(warning_id, _a)),
                    methods=["POST"])


@bp.get("/warnings")
def list_warnings():
    """The warnings inbox: within the reader's jurisdiction, by status and severity."""
    actor = authorize("read")
    prefix = _scope_prefix(actor)
    status = request.args.get("status")
    if status is not None and status not in ("open", "acknowledged", "resolved"):
        raise ApiError(400, "invalid_value", "status must be open, acknowledged or resolved",
                       "status")
    severity = request.args.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise ApiError(400, "invalid_value", f"severity must be one of {', '.join(SEVERITIES)}",
                       "severity")
    node = request.args.get("node")
    total, rows = fresh("network").warnings(
        prefix=prefix, status=status, severity=severity, node=node,
        limit=_int_arg("limit", 50, 1, 500), offset=_int_arg("offset", 0, 0, 10 ** 7))
    return jsonify({"total": total, "warnings": plain(rows)})


def _scope_prefix(actor) -> str | None:
    """The jurisdiction filter: ``?jurisdiction=`` inside the actor's own."""
    wanted = request.args.get("jurisdiction")
    if wanted is not None:
        _node_in_scope(wanted)
        return jurisdiction_prefix(wanted)
    if actor.role == "auditor":
        return None
    if actor.jurisdiction is None:
        raise ApiError(403, "forbidden_jurisdiction", "your account has no jurisdiction")
    return jurisdiction_prefix(actor.jurisdiction)


# ----------------------------------------------------------------------- rules

def _rule_document(rule) -> dict:
    return plain({"name": rule.name, "title": rule.title, "trigger": rule.trigger,
                  "version": rule.rule_version, "parameters": rule.parameters,
                  "overrides": rule.overrides, "actor": rule.actor})


@bp.get("/rules")
def list_rules():
    authorize("read")
    return jsonify({"rules": [_rule_document(r) for r in casefiles().rules().values()]})


def _parameters_body() -> tuple[dict, str | None, dict]:
    from adapters.web.api import body

    data = body()
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_value", "the body must be a JSON object")
    unknown = set(data) - {"parameters", "jurisdiction", "reason", "reference",
                           "effective_date"}
    if unknown:
        raise ApiError(400, "invalid_value", f"unknown field {sorted(unknown)[0]}",
                       sorted(unknown)[0])
    parameters = data.get("parameters")
    if not isinstance(parameters, dict) or not parameters or len(parameters) > 20:
        raise ApiError(400, "invalid_value", "parameters must be an object of 1-20 values",
                       "parameters")
    jurisdiction = data.get("jurisdiction")
    meta_fields = v.parse({k: data[k] for k in ("reason", "reference", "effective_date")
                           if k in data},
                          {"reason": v.text(False, 1000), "reference": v.line(False, 100),
                           "effective_date": v.a_date(False)})
    return parameters, jurisdiction, meta_fields


@bp.put("/rules/<name>")
@accepts({"parameters": v.F("map", True, maximum=20),  # checked by _parameters_body
          "jurisdiction": v.F("str", False, max_len=12, nullable=True,
                              check=validate_jurisdiction)})
def change_rule(name: str):
    """Change a rule's defaults, or one jurisdiction's overrides; the change is an event
    and the rule's version goes up."""
    actor = authorize("manage_rules")
    parameters, jurisdiction, meta_fields = _parameters_body()
    if jurisdiction is not None:
        _node_in_scope(jurisdiction)
    rule = casefiles().change_rule(name, parameters=parameters, jurisdiction=jurisdiction,
                                   meta=make_meta(actor, meta_fields))
    return jsonify(_rule_document(rule))


# ---------------------------------------------------------------------- proposals

@bp.get("/proposals")
def list_proposals():
    actor = authorize("read")
    status = request.args.get("status")
    if status is not None and status not in ("proposed", "confirmed", "rejected"):
        raise ApiError(400, "invalid_value", "status must be proposed, confirmed or rejected",
                       "status")
    total, rows = fresh("network").proposals(
        prefix=_scope_prefix(actor), status=status, limit=_int_arg("limit", 50, 1, 500),
        offset=_int_arg("offset", 0, 0, 10 ** 7))
    return jsonify({"total": total, "proposals": plain(rows)})


def _decide(proposal_id: str, confirm: bool):
    actor = authorize("decide_proposal")
    proposal = casefiles().get_proposal(_uuid(proposal_id, "proposal"))
    authorize("decide_proposal", identifier=proposal.organization,
              jurisdiction=proposal.jurisdiction)
    _, meta_fields = parse_body()
    proposal, position = casefiles().decide_proposal(proposal.id, confirm=confirm,
                                                     meta=make_meta(actor, meta_fields))
    response = jsonify(plain({"id": str(proposal.id), "kind": proposal.kind,
                              "organization": proposal.organization,
                              "status": proposal.status, "decision": proposal.decision,
                              "rule": proposal.rule, "reason": proposal.reason}))
    remember_position(response, position)
    return response


bp.add_url_rule("/proposals/<proposal_id>/confirmation", "proposal_confirmation",
                accepts({}, "confirm a proposal")(lambda proposal_id: _decide(proposal_id, True)),
                methods=["POST"])
bp.add_url_rule("/proposals/<proposal_id>/rejection", "proposal_rejection",
                accepts({}, "reject a proposal")(lambda proposal_id: _decide(proposal_id, False)),
                methods=["POST"])


# -------------------------------------------------------------- nodes and officers

@bp.put("/network/<code>")
@accepts({"name": v.line(max_len=100)})
def establish_node(code: str):
    """Establish a node of the network."""
    actor = authorize("manage_network")
    _node_in_scope(code)
    fields, meta_fields = parse_body()
    node = casefiles().establish_node(code=code, name=fields["name"],
                                      meta=make_meta(actor, meta_fields))
    return jsonify({"code": node.code, "name": node.name, "level": node.level}), 201


@bp.post("/network/<code>/officers")
@accepts({"username": v.line(max_len=64)})
def assign_officer(code: str):
    """Assign an information officer to a node."""
    actor = authorize("manage_network")
    _node_in_scope(code)
    fields, meta_fields = parse_body()
    node = casefiles().assign_officer(code, fields["username"], make_meta(actor, meta_fields))
    return jsonify({"code": node.code, "officers": sorted(node.officers)}), 201


@bp.post("/network/<code>/officers/<username>/removal")
@accepts({})
def remove_officer(code: str, username: str):
    """Remove an information officer from a node."""
    actor = authorize("manage_network")
    _node_in_scope(code)
    _, meta_fields = parse_body()
    node = casefiles().assign_officer(code, username, make_meta(actor, meta_fields),
                                      remove=True)
    return jsonify({"code": node.code, "officers": sorted(node.officers)})
