"""The public disclosure pages: an organization's registration data, conclusions by year,
credit listings and penalties, a search by name, and the open-data extract of all of it
(issue 16 item 5); nothing about persons."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext

from adapters.store.open_data import OpenDataStore
from adapters.web.labels import LABELS, label
from adapters.web.paging import paged, paged_list, window
from adapters.web.documents import document_response
from adapters.web.requests import (ApiError, fresh_view, not_found, page, refusal,
                                   status_of)
from domain.errors import DomainError
from services.inspection_plans import get_plan
from projections.documents import organization_document, plain, public_document
from projections.open_data import TABLES

bp = Blueprint("public", __name__, url_prefix="/public", template_folder="templates")


@bp.get("/organizations/<code>")
def public_organization(code: str):
    try:
        org = current_app.extensions["casefiles"].get_organization(code)
    except DomainError:
        return not_found()
    document = public_document(organization_document(org))
    if request.args.get("format") == "json":
        return current_app.response_class(json.dumps(document, ensure_ascii=False),
                                          mimetype="application/json")
    return page("public_org.html", org=document,
                documents=current_app.extensions["casefiles"].public_documents(code))


@bp.get("/organizations/<code>/documents/<sha256>")
def public_document_download(code: str, sha256: str):
    """A document marked public of one of the entries the public disclosure shows (a
    penalty, a credit listing, an annual-inspection conclusion); any other: 404."""
    app = current_app.extensions["casefiles"]
    try:
        document, _event = app.attached_document(code, sha256, public=True)
        content = app.document_content(sha256)
    except DomainError as e:
        status = status_of(e)[0]
        return page("error.html", status if status in (404, 410) else 404,
                    error={"message": gettext("Not found.") if status != 410 else
                           gettext("This document was erased.")})
    return document_response(document, content, cache="public, max-age=3600")


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


# ------------------------------------------------------------------- open data

def open_data_store() -> OpenDataStore | None:
    """The open-data extracts (adapters.store.open_data), beside the case-file view."""
    models = current_app.extensions.get("read_models")
    if models is None:
        return None
    if "open_data" not in current_app.extensions:
        current_app.extensions["open_data"] = OpenDataStore(models["casefiles"].datastore)
    return current_app.extensions["open_data"]


def data_dictionary() -> list[dict]:
    """The tables and their columns, in the page's language, with a code column's values."""
    return [{"name": t.name, "title": gettext(t.title),
             "columns": [{"name": c.name, "type": c.type, "meaning": gettext(c.meaning),
                          "values": [{"code": code, "meaning": label(code, c.codes)}
                                     for code in LABELS[c.codes]] if c.codes else []}
                         for c in t.columns]} for t in TABLES]


@bp.get("/open-data")
def open_data():
    """The latest daily extract of the public register (CSV and JSON, one file per
    table), with its date, log position, each file's SHA-256 and the data dictionary;
    ``?format=json`` answers the same as JSON."""
    store = open_data_store()
    extract = store.latest() if store is not None else None
    document = {
        "extract": None if extract is None else {
            "produced_on": extract.produced_on.isoformat(),
            "produced_at": extract.produced_at.isoformat(),
            "position": extract.position, "organizations": extract.organizations,
            "files": [{"name": f.name, "table": f.table, "media_type": f.media_type,
                       "rows": f.rows, "bytes": f.bytes, "sha256": f.sha256,
                       "url": url_for("public.open_data_file", name=f.name)}
                      for f in extract.files]},
        "dictionary": data_dictionary()}
    if request.args.get("format") == "json":
        return current_app.response_class(json.dumps(document, ensure_ascii=False),
                                          mimetype="application/json")
    return page("open_data.html", **document)


@bp.get("/open-data/files/<name>")
def open_data_file(name: str):
    """A file of the latest extract, streamed a chunk at a time."""
    store = open_data_store()
    extract = store.latest() if store is not None else None
    found = extract.file(name) if extract is not None else None
    if found is None:
        return not_found()
    response = current_app.response_class(
        store.content(extract.id, name), mimetype=None,
        content_type=found.media_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(found.bytes)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{extract.produced_on.isoformat()}-{name}"')
    response.headers["ETag"] = f'"{found.sha256}"'
    response.headers["X-Position"] = str(extract.position)
    return response


# ------------------------------------------------------- published inspection results

def _plan_names(view, rows: list[dict]) -> dict[str, str]:
    return {n["code"]: n["name"] for district in {r["jurisdiction"][:6] for r in rows}
            for n in view.nodes(district)}


@bp.get("/inspections")
def published_inspections():
    """The double-random plans whose results are published (双随机一公开), the latest
    published first, a page at a time; nothing of a plan before it is published."""
    try:
        at = window(request.args)
    except ApiError as e:
        return page("error.html", e.status, error=refusal(e)[1]["error"])
    total, rows = 0, []
    if current_app.extensions.get("read_models") is not None:
        view = fresh_view("network", 0)[0]
        total, rows = view.plans(prefix=None, limit=at.limit, offset=at.offset,
                                 published=True)
        names = _plan_names(view, rows)
        rows = [{"number": r["number"], "jurisdiction": r["jurisdiction"],
                 "jurisdiction_name": names.get(r["jurisdiction"]),
                 "authority_level": r["authority_level"], "drawn": r["drawn"],
                 "planned_on": r["planned_on"], "published_on": r["published_on"]}
                for r in rows]
    return page("public_inspections.html", data=paged("plans", total, plain(rows), at))


@bp.get("/inspections/<number>")
def published_inspection(number: str):
    """A published plan: its number, dates, authority, sampling ratio, and each drawn
    organization with its outcome; 404 before its results are published."""
    try:
        plan = get_plan(current_app.extensions["casefiles"], number)
    except DomainError:
        return not_found()
    if plan.published_on is None:
        return not_found()
    json_wanted = request.args.get("format") == "json"
    try:
        at = None if json_wanted else window(request.args)  # the JSON: the whole plan
    except ApiError as e:
        return page("error.html", e.status, error=refusal(e)[1]["error"])
    names = {}
    if current_app.extensions.get("read_models") is not None:
        names = _plan_names(fresh_view("network", 0)[0], [{"jurisdiction": plan.jurisdiction}])
    document = plain({
        "number": plan.number, "jurisdiction": plan.jurisdiction,
        "jurisdiction_name": names.get(plan.jurisdiction),
        "authority_level": plan.authority_level, "planned_on": plan.meta.effective_date,
        "published_on": plan.published_on, "ratio": plan.ratios.get("ratio"),
        "ratio_high_risk": plan.ratios.get("ratio_high_risk"),
        "population": len(plan.population),
        "results": [{"identifier": r["identifier"], "name": r["name"],
                     "inspected_on": r["inspected_on"], "on_site": r["on_site"],
                     "outcome": r["outcome"]} for r in plan.results or []]})
    if json_wanted:
        return current_app.response_class(json.dumps(document, ensure_ascii=False),
                                          mimetype="application/json")
    results = document["results"]
    return page("public_inspection.html", plan=document,
                results=paged_list("results", results, at))
