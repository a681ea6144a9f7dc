"""Double-random inspection plans over HTTP: draw one, read one (with its verification).

The population is the case-file read model's active organizations under the plan's
jurisdiction, once it has caught up with every recorded event; the high-risk ones are those with a
risk flag of ``HIGH_RISK_FLAGS``. Both are recorded in the plan.
"""

from __future__ import annotations

import secrets

from flask import jsonify

from adapters.commands import validation as v
from adapters.web.api import ApiError, accepts, authorize, bp, casefiles, current_actor, \
    make_meta, parse_body, today
from adapters.web.reads import read_models
from domain.access import allowed
from domain.codes import jurisdiction_contains, jurisdiction_prefix
from domain.errors import InvalidValue
from domain.inspection_plan import (AUTHORITY_LEVELS, HIGH_RISK_FLAGS, MAX_SEED,
                                    InspectionPlan, validate_plan_jurisdiction)
from projections.documents import plain
from services.inspection_plans import get_plan, plan_inspections

PAGE = 500
CATCH_UP_SECONDS = 5.0
GENERATED_SEED_BITS = 53  # a generated seed stays exact in any JSON client's numbers


def _plan_number(value: str, path: str) -> str:
    if "/" in value:
        raise v.BadRequest(f"{path} must not contain '/'", field=path)
    return value


PLAN = {
    "number": v.F("str", True, max_len=64, check=_plan_number),
    "jurisdiction": v.jurisdiction(),
    "seed": v.integer(0, MAX_SEED, required=False),
    "inspectors": v.lines(max_items=200),
    "authority_level": v.enum(AUTHORITY_LEVELS, required=False),
}


@bp.post("/inspection-plans")
@accepts(PLAN)
def plan_inspection():
    actor = authorize("inspection")
    fields, meta_fields = parse_body()
    jurisdiction = fields["jurisdiction"]
    try:
        validate_plan_jurisdiction(jurisdiction)
    except InvalidValue as e:
        raise ApiError(400, "invalid_value", e.message, "jurisdiction") from None
    _check_scope(actor, jurisdiction)
    seed = fields.get("seed")
    if seed is None:
        seed = secrets.randbits(GENERATED_SEED_BITS)
    population, high_risk = _population(jurisdiction)
    plan = plan_inspections(casefiles(), number=fields["number"], jurisdiction=jurisdiction,
                            seed=seed, inspectors=fields["inspectors"],
                            authority_level=fields.get("authority_level"),
                            population=population, high_risk=high_risk,
                            meta=make_meta(actor, meta_fields))
    response = jsonify(plan_document(plan))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/inspection-plans/{plan.number}"
    response.headers["ETag"] = f'"{plan.version}"'
    return response


@bp.get("/inspection-plans/<number>")
def read_inspection_plan(number: str):
    actor = current_actor()
    if actor.role != "auditor":
        authorize("inspection")
    plan = get_plan(casefiles(), number)
    if actor.role != "auditor":
        _check_scope(actor, plan.jurisdiction)
    discrepancies = plan.discrepancies()
    response = jsonify({**plan_document(plan), "verified": not discrepancies,
                        "discrepancies": discrepancies})
    response.headers["ETag"] = f'"{plan.version}"'
    return response


def _check_scope(actor, jurisdiction: str) -> None:
    """The plan's jurisdiction lies within the actor's (a district or sub-district code,
    which ``in_scope`` does not take: it compares leaves by prefix)."""
    if not allowed(actor.role, "read_all") and not (
            actor.jurisdiction and jurisdiction_contains(actor.jurisdiction, jurisdiction)):
        raise ApiError(403, "forbidden_jurisdiction",
                       f"{jurisdiction} is outside your jurisdiction", "jurisdiction")


def _population(jurisdiction: str) -> tuple[list[str], list[str]]:
    """Every active organization under the jurisdiction, and the high-risk ones, from a
    case-file view that has caught up with every event recorded before the request (not
    only the planner's own writes: a plan drawn from a stale population would be
    recorded as if it were the register)."""
    from adapters.runtime.readmodels import wait_for

    view = read_models()["casefiles"]
    end = casefiles().recorder.max_notification_id() or 0
    if not wait_for(view, end, CATCH_UP_SECONDS):
        raise ApiError(503, "read_model_behind", "the case files are still catching up with "
                       "recorded events; retry shortly")
    prefix = jurisdiction_prefix(jurisdiction)
    population: set[str] = set()
    high_risk: set[str] = set()
    offset = 0
    while True:
        total, rows = view.search(jurisdiction=prefix, status="active", limit=PAGE,
                                  offset=offset)
        for row in rows:
            population.add(row["identifier"])
            if set(row["risk_flags"] or ()) & set(HIGH_RISK_FLAGS):
                high_risk.add(row["identifier"])
        offset += len(rows)
        if not rows or offset >= total:
            break
    # the network's flags: zombie candidates and open high-severity warnings
    network = read_models()["network"]
    for flag in ("zombie_candidate", "warning_high"):
        offset = 0
        while True:
            total, rows = network.organizations(prefix, flag, today(), PAGE, offset)
            high_risk.update(r["identifier"] for r in rows if r["identifier"] in population)
            offset += len(rows)
            if not rows or offset >= total:
                break
    return sorted(population), sorted(high_risk)


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
        "planned_by": plan.meta.actor_id,
        "effective_date": plan.meta.effective_date,
        "reason": plan.meta.reason,
        "reference": plan.meta.reference,
        "recorded_at": plan.created_on,
        "version": plan.version,
    })
