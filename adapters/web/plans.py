"""Double-random inspection plans over HTTP: read one (with its verification), and the
register a plan is drawn from (services.inspection_plans.Register) over the read models.
Drawing one is a command like the others (adapters.commands.catalog)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from adapters.runtime.status import wait_for
from adapters.web.requests import (ApiError, authorize, casefiles, check_plan_scope,
                                   current_actor, read_models)
from domain.calendar import today_in_china
from domain.inspection_plan import InspectionPlan
from projections.documents import plain
from services.inspection_plans import Register, get_plan

bp = Blueprint("plans", __name__, url_prefix="/api/v1")

CATCH_UP_SECONDS = 5.0


@bp.get("/inspection-plans/<number>")
def read_inspection_plan(number: str):
    """An inspection plan as recorded, with its verification (the draw recomputed)."""
    actor = current_actor()
    if actor.role != "auditor":
        authorize("inspection")
    plan = get_plan(casefiles(), number)
    if actor.role != "auditor":
        check_plan_scope(actor, plan.jurisdiction)
    discrepancies = plan.discrepancies()
    response = jsonify({**plan_document(plan), "verified": not discrepancies,
                        "discrepancies": discrepancies})
    response.headers["ETag"] = f'"{plan.version}"'
    return response


class ReadModelRegister:
    """The register as the case-file and network views show it."""

    def __init__(self, models: dict):
        self.casefiles, self.network = models["casefiles"], models["network"]

    def active(self, prefix: str, limit: int, offset: int) -> tuple[int, list[dict]]:
        return self.casefiles.search(jurisdiction=prefix, status="active", limit=limit,
                                     offset=offset)

    def flagged(self, prefix: str, flag: str, limit: int, offset: int
                ) -> tuple[int, list[dict]]:
        return self.network.organizations(prefix, flag, today_in_china(), limit, offset,
                                          certificate_expiry=casefiles().rule(
                                              "certificate_expiry"))


def caught_up_register() -> Register:
    """The register, once the case-file view has caught up with every event recorded
    before the request (not only the planner's own writes: a plan drawn from a stale
    population would be recorded as if it were the register)."""
    models = read_models()
    end = casefiles().recorder.max_notification_id() or 0
    if not wait_for(models["casefiles"], end, CATCH_UP_SECONDS):
        raise ApiError(503, "read_model_behind", "the case files are still catching up with "
                       "recorded events; retry shortly")
    return ReadModelRegister(models)


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
