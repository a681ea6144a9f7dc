"""The pages of double-random inspection plans: the list of plans within the reader's
jurisdiction, and one plan with its draw, its verification and the inspections recorded
against it. They read through the JSON API's own read functions (adapters.web.plans);
a plan is drawn with its command's form (/forms/inspection-plans)."""

from __future__ import annotations

from flask import Blueprint, request

from adapters.web.paging import paged_list, window
from adapters.web.plans import plan_with_organizations, plans
from adapters.web.requests import answer_or_refusal, login_redirect, page, signed_in

bp = Blueprint("plan_pages", __name__, template_folder="templates")

LIST_ARGS = ("jurisdiction", "offset", "limit")


@bp.get("/inspection-plans")
def list_plans():
    if signed_in() is None:
        return login_redirect()
    query = {k: x for k, x in request.args.items() if k in LIST_ARGS and x}
    status, data = answer_or_refusal(plans, query)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    return page("plans.html", data=data, query=query)


@bp.get("/inspection-plans/<number>")
def plan(number: str):
    if signed_in() is None:
        return login_redirect()
    status, data = answer_or_refusal(_plan_page, number, request.args)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    return page("plan.html", plan=data["plan"], drawn=data["drawn"])


def _plan_page(number: str, args) -> dict:
    """The plan, and a page of its drawn organizations (a large jurisdiction's plan
    draws hundreds)."""
    document = plan_with_organizations(number, {})
    at = window(args)
    drawn = document["drawn"]
    return {"plan": document, "drawn": paged_list("drawn", drawn, at)}
