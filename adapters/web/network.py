"""The early-warning network's reads over HTTP: the network view with drill-down, the
warnings inbox, the rules as data and the proposals staff confirm or reject (their
commands are declared with the others, in adapters.commands.catalog).

Each read is a function of its query arguments that answers a document; the routes
serialize it, and the staff pages call the same functions."""

from __future__ import annotations

from datetime import date
from typing import Mapping

from flask import Blueprint, jsonify, request

from adapters.web.openapi import NETWORK_CODE, PATH_PARAMETERS, query
from adapters.web.paging import PAGING, paged, window
from adapters.commands.catalog import item_id
from adapters.web.requests import (ApiError, authorize, casefiles, check_scope,
                                   current_actor, date_arg, fresh, jurisdiction_arg,
                                   node_in_scope)
from domain.calendar import today_in_china
from domain.access import allowed, may_change_rule, supervised_by
from domain.codes import jurisdiction_contains, jurisdiction_prefix
from domain.network import SEVERITIES
from domain.rules import CATALOG, defaults, rule_id
from domain.worklist import escalation_deadline
from projections.documents import plain
from projections.network import FLAGS, roll_up

bp = Blueprint("network", __name__, url_prefix="/api/v1")


def node(code: str, args: Mapping[str, str]) -> dict:
    """A node's figures and its children's, each the sum of the committees under it, with
    monthly counts of warnings raised over the last 12 months."""
    actor = authorize("read")
    node_in_scope(code)
    unit = supervised_by(actor.role, actor.organization)  # a unit: what it supervises
    fresh("casefiles", args)  # the organizations' figures come from the case files
    view = fresh("network", args)
    prefix = jurisdiction_prefix(code)
    day = today_in_china()
    leaves = view.leaf_figures(prefix, day,
                               certificate_expiry=casefiles().rule("certificate_expiry"),
                               supervisory_unit=unit)
    figures, children = roll_up(code, leaves)
    names = {n["code"]: n for n in view.nodes(prefix[:6])}
    since = date(day.year - 1, day.month, 1)
    trends_by_leaf = view.monthly_trends(prefix, since, supervisory_unit=unit)
    trends: dict[str, dict[str, int]] = {}
    node_trend: dict[str, int] = {}
    for leaf, months in trends_by_leaf.items():
        child = next((c for c in children if leaf.startswith(jurisdiction_prefix(c))), leaf)
        for month, n in months.items():
            trends.setdefault(child, {})[month] = trends.setdefault(child, {}).get(month, 0) + n
            node_trend[month] = node_trend.get(month, 0) + n
    found = names.get(code, {})
    is_leaf = code[9:] != "000"
    return {
        "code": code, "name": found.get("name"), "level": found.get("level"),
        "officers": found.get("officers", []), "as_of": day.isoformat(), "figures": figures,
        "trend": dict(sorted(node_trend.items())),
        "children": [] if is_leaf else [
            {"code": child, "name": names.get(child, {}).get("name"), "figures": f,
             "trend": dict(sorted(trends.get(child, {}).items()))}
            for child, f in children.items()]}


@bp.get("/network/<code>")
def network_node(code: str):
    """A node's figures and its children's, each the sum of the committees under it, with
    monthly counts of warnings raised over the last 12 months."""
    return jsonify(node(code, request.args))


def drilldown(code: str, args: Mapping[str, str]) -> dict:
    """The organizations behind a figure (drill-down), ``?flag=`` one of FLAGS."""
    actor = authorize("read")
    node_in_scope(code)
    flag = args.get("flag", "")
    if flag not in FLAGS:
        raise ApiError(400, "invalid_value", f"flag must be one of {', '.join(FLAGS)}", "flag")
    at = window(args)
    fresh("casefiles", args)
    total, rows = fresh("network", args).organizations(
        jurisdiction_prefix(code), flag, today_in_china(), at.limit, at.offset,
        certificate_expiry=casefiles().rule("certificate_expiry"),
        supervisory_unit=supervised_by(actor.role, actor.organization))
    return paged("organizations", total, plain(rows), at, code=code, flag=flag)


@bp.get("/network/<code>/organizations")
@query(flag=({"type": "string", "enum": list(FLAGS)}, "the figure behind which to look"),
       **PAGING)
def network_organizations(code: str):
    """The organizations behind a figure (drill-down), ``?flag=`` one of FLAGS."""
    return jsonify(drilldown(code, request.args))


# ----------------------------------------------------------------------- warnings

def warning_document(warning) -> dict:
    return plain({"id": str(warning.id), "organization": warning.organization,
                  "jurisdiction": warning.jurisdiction, "node": warning.node,
                  "level": warning.level, "severity": warning.severity,
                  "source": warning.source, "title": warning.title,
                  "description": warning.description, "rule": warning.rule,
                  "status": warning.status, "raised_on": warning.raised_on,
                  "level_since": warning.level_since, "resolution": warning.resolution,
                  "history": warning.history, "version": warning.version})


def warning_history(warning_id: str) -> dict:
    """One warning (within the reader's scope: its organization's) and its full history:
    raised, acknowledged, escalated, resolved, each with who (and in which role), when it
    took effect and was recorded, and the note or reason given."""
    actor = authorize("read")
    found = casefiles().get_warning(item_id(warning_id, "warning"))
    org = casefiles().get_organization(found.organization, shared=True)
    check_scope(actor, org)
    history = []
    for event in casefiles().events.get(found.id):
        name = type(event).__name__
        entry = {"type": f"EarlyWarning.{name}", "version": event.originator_version,
                 "by": event.meta.actor_id, "role": event.meta.actor_role,
                 "effective_date": event.meta.effective_date,
                 "recorded_at": event.timestamp, "note": event.meta.reason,
                 "reference": event.meta.reference}
        if name == "Escalated":
            entry.update(from_node=event.from_node, to_node=event.to_node,
                         level=event.level, rule=event.rule)
        elif name == "Resolved":
            entry["note"] = event.note
        history.append(entry)
    deadline = escalation_deadline(
        level=found.level, level_since=found.level_since, status=found.status,
        warning_escalation=casefiles().rule("warning_escalation").parameters_for(
            found.jurisdiction))
    return {**warning_document(found), "history": plain(history),
            "organization_name": org.name, "organization_code": org.code,
            "escalation_deadline": deadline and deadline.isoformat()}


def warnings(args: Mapping[str, str]) -> dict:
    """The warnings inbox: within the reader's jurisdiction, by status and severity."""
    actor = authorize("read")
    prefix = _scope_prefix(actor, args)
    status = args.get("status")
    if status is not None and status not in ("open", "acknowledged", "resolved"):
        raise ApiError(400, "invalid_value", "status must be open, acknowledged or resolved",
                       "status")
    severity = args.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise ApiError(400, "invalid_value", f"severity must be one of {', '.join(SEVERITIES)}",
                       "severity")
    organization = args.get("organization")
    if organization is not None and not 0 < len(organization) <= 64:
        raise ApiError(400, "invalid_value", "organization must be an organization's "
                       "identifier (at most 64 characters)", "organization")
    until = date_arg(args, "raised_until")
    at = window(args)
    total, rows = fresh("network", args).warnings(
        prefix=prefix, status=status, severity=severity, node=args.get("node"),
        limit=at.limit, offset=at.offset, organization=organization, raised_until=until,
        supervisory_unit=supervised_by(actor.role, actor.organization))
    return paged("warnings", total, plain(rows), at)


@bp.get("/warnings")
@query(jurisdiction=(NETWORK_CODE, "within this jurisdiction (12-digit code)"),
       status=({"type": "string", "enum": ["open", "acknowledged", "resolved"]},
               "the warnings in this state"),
       severity=({"type": "string", "enum": list(SEVERITIES)}, "of this severity"),
       node=(NETWORK_CODE, "at this node of the network (12-digit code)"),
       organization=(PATH_PARAMETERS["code"], "about this organization (its identifier)"),
       raised_until=({"type": "string", "format": "date"},
                     "raised on or before this day (YYYY-MM-DD)"), **PAGING)
def list_warnings():
    """The warnings inbox: within the reader's jurisdiction, by status and severity."""
    return jsonify(warnings(request.args))


def _scope_prefix(actor, args: Mapping[str, str]) -> str | None:
    """The jurisdiction filter: ``?jurisdiction=`` inside the actor's own."""
    wanted = args.get("jurisdiction")
    if wanted is not None:
        node_in_scope(wanted)
        return jurisdiction_prefix(wanted)
    if actor.role == "auditor":
        return None
    if actor.jurisdiction is None:
        raise ApiError(403, "forbidden_jurisdiction", "your account has no jurisdiction")
    return jurisdiction_prefix(actor.jurisdiction)


# ----------------------------------------------------------------------- rules

def rule_document(rule) -> dict:
    return plain({"name": rule.name, "title": rule.title, "trigger": rule.trigger,
                  "version": rule.rule_version, "parameters": rule.parameters,
                  "overrides": rule.overrides, "actor": rule.actor})


def check_rule_change(actor, jurisdiction: str | None) -> None:
    """The actor may change the rule's global defaults (no ``jurisdiction``: admins) or
    this jurisdiction's overrides (within the actor's own), by ``may_change_rule``."""
    jurisdiction_arg(jurisdiction)
    if may_change_rule(role=actor.role, jurisdiction=actor.jurisdiction,
                       rule_jurisdiction=jurisdiction):
        return
    if jurisdiction is None:
        raise ApiError(403, "forbidden", "a rule's global defaults govern every district: "
                       "only an admin may change them; set an override for your "
                       "jurisdiction instead", "jurisdiction")
    raise ApiError(403, "forbidden_jurisdiction", f"{jurisdiction} is outside your "
                   "jurisdiction", "jurisdiction")


def rules() -> dict:
    authorize("read")
    return {"rules": [rule_document(r) for r in casefiles().rules().values()],
            "working_days": casefiles().working_days(today_in_china())}


@bp.get("/rules")
def list_rules():
    """Every rule of the catalog as data: its parameters, overrides and version, and the
    holiday schedule working days are counted by (``working_days``: its source and
    years; ``warning`` when a count starting today can reach a year it does not know,
    which is counted Monday to Friday)."""
    return jsonify(rules())


def _sees_jurisdiction(actor, jurisdiction: str | None) -> bool:
    """Whether a reader sees a rule's override (or its change) for a jurisdiction: the
    global defaults everyone; an override on the way to the reader's jurisdiction (in
    force there) or within it; every one for the auditor and the administrator."""
    if jurisdiction is None or actor.role in ("auditor", "admin"):
        return True
    own = actor.jurisdiction
    return bool(own) and (jurisdiction_contains(own, jurisdiction)
                          or jurisdiction_contains(jurisdiction, own))


def may_read_rules():
    """The acting account, if it may read the rules: any reader, and an administrator
    (who changes their global defaults); otherwise 403."""
    actor = current_actor()
    if not allowed(actor.role, "manage_rules"):
        authorize("read")
    return actor


def rule_history(name: str) -> dict:
    """A rule: each parameter's catalog default, its current global value, the
    overrides the reader may see and the value in force in the reader's jurisdiction;
    and its history from its events, newest first: who changed it, when, why, where, and
    each parameter's old and new value (an override's old value is the one in force
    there before)."""
    actor = may_read_rules()
    if name not in CATALOG:
        raise ApiError(404, "not_found", f"no rule {name}", "name")
    rule = casefiles().rule(name)
    catalog = defaults(name)
    overrides = {j: values for j, values in sorted(rule.overrides.items())
                 if _sees_jurisdiction(actor, j)}
    in_force = rule.parameters_for(actor.jurisdiction)
    parameters = [{"key": key, "default": catalog.get(key), "current": value,
                   "in_force": in_force.get(key),
                   "overrides": {j: v[key] for j, v in overrides.items() if key in v}}
                  for key, value in rule.parameters.items()]
    history, state = [], None
    events = list(casefiles().events.get(rule_id(name)))
    # a change the reader may not see: the rule's definition recorded with it (the first
    # change records the catalog's defaults first, with the change's meta) keeps its why
    hidden = {e.meta.correlation_id for e in events
              if not _sees_jurisdiction(actor, getattr(e, "jurisdiction", None))}
    for event in events:
        jurisdiction = getattr(event, "jurisdiction", None)
        was = None if state is None else dict(
            state.parameters if jurisdiction is None else state.parameters_for(jurisdiction))
        state = event.mutate(state)  # (the same object, changed)
        meta = event.meta
        if was is None:
            changes = {k: {"old": None, "new": x} for k, x in state.parameters.items()}
        else:
            changes = {k: {"old": was.get(k), "new": x}
                       for k, x in event.parameters.items()}
        if not _sees_jurisdiction(actor, jurisdiction):
            continue
        history.append({"version": state.rule_version,
                        "event": "defined" if was is None else "changed",
                        "recorded_at": event.timestamp, "effective_date": meta.effective_date,
                        "actor": meta.actor_id, "actor_role": meta.actor_role,
                        **({"reason": None, "reference": None}
                           if meta.correlation_id in hidden else
                           {"reason": meta.reason, "reference": meta.reference}),
                        "jurisdiction": jurisdiction, "parameters": changes})
    history.reverse()
    return plain({**rule_document(rule), "overrides": overrides,
                  "reader_jurisdiction": actor.jurisdiction, "parameters": parameters,
                  "history": history})


@bp.get("/rules/<name>")
def read_rule(name: str):
    """A rule: each parameter's catalog default, current value and overrides, and the
    rule's history (who changed it, when, why, where, old and new values), newest
    first."""
    return jsonify(rule_history(name))


# ---------------------------------------------------------------------- proposals

def proposals(args: Mapping[str, str]) -> dict:
    actor = authorize("read")
    status = args.get("status")
    if status is not None and status not in ("proposed", "confirmed", "rejected"):
        raise ApiError(400, "invalid_value", "status must be proposed, confirmed or rejected",
                       "status")
    at = window(args)
    total, rows = fresh("network", args).proposals(
        prefix=_scope_prefix(actor, args), status=status, limit=at.limit, offset=at.offset,
        supervisory_unit=supervised_by(actor.role, actor.organization))
    return paged("proposals", total, plain(rows), at)


@bp.get("/proposals")
@query(jurisdiction=(NETWORK_CODE, "within this jurisdiction (12-digit code)"),
       status=({"type": "string", "enum": ["proposed", "confirmed", "rejected"]},
               "the proposals in this state"), **PAGING)
def list_proposals():
    """The proposals staff confirm or reject, within the reader's jurisdiction."""
    return jsonify(proposals(request.args))
