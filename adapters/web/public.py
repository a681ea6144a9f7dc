"""The public disclosure pages: an organization's registration data, conclusions by year,
credit listings and penalties, and a search by name; nothing about persons."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, request

from adapters.web.paging import paged, window
from adapters.web.requests import ApiError, fresh_view, not_found, page, refusal
from domain.errors import DomainError
from projections.documents import plain

bp = Blueprint("public", __name__, url_prefix="/public", template_folder="templates")


def _public_document(org) -> dict:
    """Basic registration data, conclusions by year, listings and penalties; nothing
    about persons."""
    return {"code": org.code, "identifier": org.identifier, "name": org.name,
            "type": org.org_type, "status": org.status,
            "domicile": org.domicile["address"], "registered_on": org.registered_on,
            "business_scope": org.business_scope,
            "supervisory_unit": org.supervisory_unit,
            "certificate_valid_until": org.certificate_valid_until,
            "conclusions": sorted(({"year": c["year"], "result": c["result"]}
                                   for c in org.conclusions.values()),
                                  key=lambda c: c["year"]),
            "credit_listings": [{"list": c["list"], "listed_on": c["listed_on"],
                                 "removed_on": c["removed_on"]}
                                for c in org.credit_listings.values()],
            "penalties": [{"decision_number": p["decision_number"], "kind": p["kind"],
                           "decision_date": p["decision_date"],
                           "rescinded": p["rescinded"]} for p in org.penalties.values()]}


@bp.get("/organizations/<code>")
def public_organization(code: str):
    try:
        org = current_app.extensions["casefiles"].get_organization(code)
    except DomainError:
        return not_found()
    document = plain(_public_document(org))
    if request.args.get("format") == "json":
        return current_app.response_class(json.dumps(document, ensure_ascii=False),
                                          mimetype="application/json")
    return page("public_org.html", org=document)


@bp.get("/organizations")
def public_search():
    """The public register by name or code (every organization without a query), a page
    at a time (adapters.web.paging); 400 for a bad page."""
    text = request.args.get("q", "")[:100]
    try:
        at = window(request.args)
    except ApiError as e:
        return page("error.html", e.status, error=refusal(e)[1]["error"])
    models = current_app.extensions.get("read_models")
    total, rows = 0, []
    if models is not None:
        total, rows = fresh_view("casefiles", 0)[0].search(text=text or None, limit=at.limit,
                                                 offset=at.offset)
    return page("public_search.html", q=text, data=paged(
        "organizations", total, [{"identifier": r["identifier"], "name": r["name"],
                                  "status": r["status"]} for r in rows], at))
