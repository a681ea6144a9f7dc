"""Double-random inspection plans over HTTP: the list of plans (from the network read
model), one plan (with its verification), and the register a plan is drawn from
(services.inspection_plans.Register) over the read models. Drawing one is a command like
the others (adapters.commands.catalog).

Each read is a function of its arguments that answers a document; the routes serialize
it, and the staff pages call the same functions."""

from __future__ import annotations

from typing import Mapping

from flask import Blueprint, jsonify, request

from adapters.runtime.status import wait_for
from adapters.views.register import ReadModelRegister
from adapters.web.openapi import NETWORK_CODE, query
from adapters.web.paging import PAGING, paged, window
from adapters.web.requests import (ApiError, authorize, casefiles, check_plan_scope,
                                   current_actor, fresh, jurisdiction_arg, read_models)
from domain.calendar import today_in_china
from domain.codes import jurisdiction_prefix
from domain.inspection_plan import InspectionPlan
from projections.documents import plain
from services.inspection_plans import Register, get_plan

bp = Blueprint("plans", __name__, url_prefix="/api/v1")

CATCH_UP_SECONDS = 5.0


def may_read_plans():
    """The acting account, if it may read inspection plans: who plans them (the action
    ``inspection``) and the auditor; otherwise 403."""
    actor = current_actor()
    if actor.role != "auditor":
        authorize("inspection")
    return actor


def plans(args: Mapping[str, str]) -> dict:
    """The inspection plans within the reader's jurisdiction (``?jurisdiction=`` narrows
    it), the latest drawn first, a page at a time."""
    actor = may_read_plans()
    wanted = jurisdiction_arg(args.get("jurisdiction"))
    if wanted is not None:
        check_plan_scope(actor, wanted)
        prefix: str | None = jurisdiction_prefix(wanted)
    elif actor.role == "auditor":
        prefix = None
    elif actor.jurisdiction:
        prefix = jurisdiction_prefix(actor.jurisdiction)
    else:
        raise ApiError(403, "forbidden_jurisdiction", "your account has no jurisdiction")
    at = window(args)
    total, rows = fresh("network", args).plans(prefix=prefix, limit=at.limit,
                                               offset=at.offset)
    names = node_names(rows)
    for row in rows:
        row.pop("plan_id", None)
        row["jurisdiction_name"] = names.get(row["jurisdiction"])
    return paged("plans", total, plain(rows), at)


def node_names(rows: list[dict]) -> dict[str, str]:
    """The network's names of the rows' jurisdictions (a district's nodes at once)."""
    view = fresh("network", {})
    return {n["code"]: n["name"] for district in {r["jurisdiction"][:6] for r in rows}
            for n in view.nodes(district)}


@bp.get("/inspection-plans")
@query(jurisdiction=(NETWORK_CODE, "within this jurisdiction (12-digit code)"), **PAGING)
def list_inspection_plans():
    """The inspection plans within the reader's jurisdiction, the latest drawn first."""
    return jsonify(plans(request.args))


def inspection_plan(number: str) -> tuple[InspectionPlan, dict]:
    """An inspection plan as recorded, with its verification (the draw recomputed)."""
    actor = may_read_plans()
    plan = get_plan(casefiles(), number)
    if actor.role != "auditor":
        check_plan_scope(actor, plan.jurisdiction)
    discrepancies = plan.discrepancies()
    return plan, {**plan_document(plan), "verified": not discrepancies,
                  "discrepancies": discrepancies}


@bp.get("/inspection-plans/<number>")
def read_inspection_plan(number: str):
    """An inspection plan as recorded, with its verification (the draw recomputed)."""
    plan, document = inspection_plan(number)
    response = jsonify(document)
    response.headers["ETag"] = f'"{plan.version}"'
    return response


def plan_with_organizations(number: str, args: Mapping[str, str]) -> dict:
    """For the plan's page: the plan, and each drawn organization's name, status and the
    inspections recorded against this plan (from the case files)."""
    _plan, document = inspection_plan(number)
    found = fresh("casefiles", args).summaries([d["identifier"] for d in document["drawn"]])
    inspected = 0
    for drawn in document["drawn"]:
        row = found.get(drawn["identifier"]) or {}
        drawn["name"], drawn["status"] = row.get("name"), row.get("status")
        drawn["inspections"] = [i for i in row.get("inspections") or []
                                if i.get("plan_id") == number]
        inspected += bool(drawn["inspections"])
    document["counts"]["inspected"] = inspected
    document["jurisdiction_name"] = node_names([document]).get(document["jurisdiction"])
    return document


def caught_up_register() -> Register:
    """The register, once the case-file view has caught up with every event recorded
    before the request (not only the planner's own writes: a plan drawn from a stale
    population would be recorded as if it were the register)."""
    models = read_models()
    end = casefiles().recorder.max_notification_id() or 0
    if not wait_for(models["casefiles"], end, CATCH_UP_SECONDS):
        raise ApiError(503, "read_model_behind", "the case files are still catching up with "
                       "recorded events; retry shortly")
    return ReadModelRegister(models, lambda: casefiles().rule("certificate_expiry"),
                             today_in_china)


def plan_document(plan: InspectionPlan) -> dict:
    drawn_high_risk = sorted(set(plan.drawn) & set(plan.high_risk))
    on_site = set(plan.on_site)
    high_risk = set(plan.high_risk)
    return plain({
        "number": plan.number,
        "jurisdiction": plan.jurisdiction,
        "authority_level": plan.authority_level,
        "seed": plan.seed,
        "rule": {"name": plan.rule, "version": plan.rule_version},
        "rule_version": plan.rule_version,
        "ratios": plan.ratios,
        "algorithm": plan.algorithm,
        "counts": {
            "population": len(plan.population),
            "high_risk": len(plan.high_risk),
            "normal": len(plan.population) - len(plan.high_risk),
            "drawn": len(plan.drawn),
            "drawn_high_risk": len(drawn_high_risk),
            "drawn_normal": len(plan.drawn) - len(drawn_high_risk),
            "on_site": len(plan.on_site),
            "inspectors": len(plan.inspectors),
        },
        "drawn": [{"identifier": identifier, "high_risk": identifier in high_risk,
                   "on_site": identifier in on_site,
                   "inspectors": plan.assignments.get(identifier, [])}
                  for identifier in plan.drawn],
        "on_site": plan.on_site,
        "inspectors": plan.inspectors,
        "population": plan.population,
        "high_risk": plan.high_risk,
        "published_on": plan.published_on,
        "results": plan.results,
        "planned_by": plan.meta.actor_id,
        "effective_date": plan.meta.effective_date,
        "reason": plan.meta.reason,
        "reference": plan.meta.reference,
        "recorded_at": plan.created_on,
        "version": plan.version,
    })
