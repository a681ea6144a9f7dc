"""Reads from the read models: case files (with read-your-writes and time travel),
search, the audit trail and its verification, statistics, persons.

Each read is a function of its query arguments that answers a document; the routes
serialize it, and the staff pages call the same functions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping
from uuid import UUID

from flask import Blueprint, current_app, jsonify, request

from adapters.commands.catalog import person_id as parse_person_id
from adapters.views.audit_checkpoint import HASH_PATTERN, check_against, make_checkpoint
from adapters.views.audit_verification import AuditVerifier
from adapters.web.openapi import query
from adapters.web.paging import PAGING, paged, paged_list, window
from adapters.web.requests import (ApiError, authorize, casefiles, check_person_scope,
                                   current_actor, date_arg, fresh, fresh_view, int_arg,
                                   jurisdiction_arg, read_models, wanted_position)
from domain.access import supervised_by
from domain.calendar import CHINA, today_in_china
from domain.codes import jurisdiction_prefix
from projections.casefile import timeline_entry
from projections.documents import (event_document, organization_document, plain,
                                   with_certificate_state)
from projections.statistics import pass_rates

bp = Blueprint("reads", __name__, url_prefix="/api/v1")


def _time_travel_args(args: Mapping[str, str]) -> tuple[date | None, datetime | None]:
    as_of, known_at = date_arg(args, "as_of"), None
    if "known_at" in args:
        try:
            known_at = datetime.fromisoformat(args["known_at"].replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, "invalid_value", "known_at must be an ISO 8601 timestamp",
                           "known_at") from None
        if known_at.tzinfo is None:
            known_at = known_at.replace(tzinfo=CHINA)
    return as_of, known_at


def timeline_at(code: str, as_of: date | None, known_at: datetime | None,
                 jurisdiction: str) -> list[dict]:
    """The timeline as it stood: the events in effect by ``as_of`` and recorded by
    ``known_at`` (the same filter as the case file's state), in the entries' shape of
    the live timeline (late by the timeliness rule as it stood when each was recorded)."""
    timeliness = casefiles().rule_as_recorded("timeliness")
    return [timeline_entry(event, timeliness=timeliness(event.timestamp).parameters_for(
                jurisdiction))
            for event in casefiles().organization_history(code)
            if (known_at is None or event.timestamp <= known_at)
            and (as_of is None or event.meta.effective_date <= as_of)]


@dataclass
class CaseFile:
    """A case file's answer: the document, and (from the read model) its timeline's
    stored JSON text, which the API splices in rather than parsing and writing it."""

    document: dict
    version: int
    headers: dict[str, str] = field(default_factory=dict)
    timeline_json: str | None = None
    position: int | None = None

    def as_dict(self) -> dict:
        if self.timeline_json is None:
            return self.document
        return {**self.document, "timeline": json.loads(self.timeline_json),
                "position": self.position}


def case_file(code: str, args: Mapping[str, str]) -> CaseFile:
    """The case file. It waits (up to a bound) for the read model to reach the reader's
    last write; if the read model is behind or absent it answers from the event log."""
    current_actor()
    as_of, known_at = _time_travel_args(args)
    if as_of or known_at:
        # the scope is the organization's as it is now (a past state is shown only to
        # those who may see the organization today), never its jurisdiction back then
        authorize("read", casefiles().get_organization(code, shared=True))
        org = casefiles().organization_at(code, as_of=as_of, known_at=known_at)
        document = with_certificate_state(organization_document(org),
                                          as_of or today_in_china(),
                                          casefiles().rule("certificate_expiry"))
        return CaseFile({**document, "as_of": as_of and as_of.isoformat(),
                         "known_at": known_at and known_at.isoformat(),
                         "timeline": timeline_at(code, as_of, known_at,
                                                  org.domicile["jurisdiction"])},
                        org.version)
    row = None
    if current_app.extensions.get("read_models") is not None:
        view, reached = fresh_view("casefiles", wanted_position(args))
        if reached:
            row = view.case_file(code)
    if row is None:
        org = casefiles().get_organization(code)
        authorize("read", org)
        return CaseFile(with_certificate_state(organization_document(org), today_in_china(),
                                               casefiles().rule("certificate_expiry")),
                        org.version, {"X-Served-From": "event-log"})
    authorize("read", identifier=row["identifier"], jurisdiction=row["jurisdiction"],
              supervisory_unit=row["document"].get("supervisory_unit"))
    document = with_certificate_state(row["document"], today_in_china(),
                                      casefiles().rule("certificate_expiry"))
    return CaseFile({**document, "risk_flags": row["risk_flags"]}, row["version"],
                    {"X-Position": str(row["position"])}, row["timeline_json"],
                    int(row["position"]))


AFTER = ({"type": "integer", "minimum": 0, "maximum": 10 ** 15},
         "wait (up to 2 s) until the view has applied this log position, e.g. the "
         "X-Position of your last write")


@bp.get("/organizations/<code>")
@query(as_of=({"type": "string", "format": "date"},
              "the case file as it was in effect on this date"),
       known_at=({"type": "string", "format": "date-time"},
                 "the case file as it was recorded at this time"),
       after=AFTER)
def read_organization(code: str):
    """The case file. It waits (up to a bound) for the read model to reach the reader's
    last write; if the read model is behind or absent it answers from the event log."""
    answer = case_file(code, request.args)
    if answer.timeline_json is None:
        response = jsonify(answer.document)
    else:
        # {document..., "risk_flags", "timeline", "position"}, as jsonify would write it,
        # with the timeline's stored JSON text spliced in rather than parsed and written
        head = current_app.json.dumps(answer.document, separators=(",", ":"))
        response = current_app.response_class(
            f'{head[:-1]},"timeline":{answer.timeline_json},"position":{answer.position}}}\n',
            mimetype="application/json")
    response.headers["ETag"] = f'"{answer.version}"'
    response.headers.update(answer.headers)
    return response


HISTORY_PAGE, HISTORY_PAGE_MAX = 500, 5000


@bp.get("/organizations/<code>/events")
@query(after_version=({"type": "integer", "minimum": 0, "maximum": 10 ** 9},
                      "the events after this version (0: from the first)"),
       limit=({"type": "integer", "minimum": 1, "maximum": 5000},
              "at most this many events (default 500)"))
def read_history(code: str):
    """The organization's recorded events, oldest first, a page at a time.

    ``after_version`` (default 0: from the first event) and ``limit`` (default 500, at
    most 5,000); ``next`` is the query of the following page, null on the last. A long
    history costs a page, not the whole of it."""
    current_actor()
    org = casefiles().get_organization(code, shared=True)  # read only: the cached copy
    authorize("read", org)
    after = int_arg(request.args, "after_version", 0, 0, 10 ** 9)
    limit = int_arg(request.args, "limit", HISTORY_PAGE, 1, HISTORY_PAGE_MAX)
    events = casefiles().organization_history(code, after_version=after, limit=limit)
    last = events[-1].originator_version if events else after
    return jsonify({"identifier": code, "version": org.version,
                    "events": [event_document(e) for e in events],
                    "next": (f"?after_version={last}&limit={limit}"
                             if len(events) == limit and last < org.version else None)})


SEARCH_COLUMNS = ("identifier", "code", "name", "org_type", "status", "jurisdiction",
                  "credit_lists", "latest_conclusion", "latest_conclusion_year", "rating",
                  "risk_flags", "version")


def search(args: Mapping[str, str]) -> dict:
    """Search the register within the reader's jurisdiction."""
    actor = authorize("read")
    jurisdiction = jurisdiction_arg(args.get("jurisdiction"))
    prefix = jurisdiction_prefix(jurisdiction) if jurisdiction else None
    if actor.role == "organization":  # an organization sees itself only
        row = fresh("casefiles", args).get(actor.organization or "")
        found = [] if row is None else [{k: row[k] for k in SEARCH_COLUMNS}]
        at = window(args)
        return paged_list("organizations", found, at)
    if actor.role not in ("auditor",):
        own = jurisdiction_prefix(actor.jurisdiction)
        if prefix is None or not prefix.startswith(own):
            if prefix is not None and not own.startswith(prefix):
                raise ApiError(403, "forbidden_jurisdiction",
                               "that jurisdiction is outside yours", "jurisdiction")
            prefix = own
    text = args.get("q")
    if text is not None and len(text) > 100:
        raise ApiError(400, "invalid_value", "q is longer than 100 characters", "q")
    at = window(args)
    total, rows = fresh("casefiles", args).search(
        text=text, jurisdiction=prefix, status=args.get("status"),
        org_type=args.get("type"), risk_flag=args.get("risk"),
        credit_list=args.get("list"), limit=at.limit, offset=at.offset,
        supervisory_unit=supervised_by(actor.role, actor.organization))
    for row in rows:
        row["certificate_valid_until"] = (row["certificate_valid_until"].isoformat()
                                          if row["certificate_valid_until"] else None)
    return paged("organizations", total, rows, at)


@bp.get("/organizations")
@query(q=({"type": "string", "maxLength": 100}, "name or code contains"),
       jurisdiction=({"type": "string", "pattern": "^[0-9]{12}$"},
                     "within this jurisdiction (12-digit code)"),
       status=({"type": "string"}, "status, e.g. registered"),
       type=({"type": "string"}, "organization type"),
       risk=({"type": "string"}, "has this risk flag"),
       list=({"type": "string"}, "on this credit list"), **PAGING)
def search_organizations():
    """Search the register within the reader's jurisdiction."""
    return jsonify(search(request.args))


def _entry(row: dict) -> dict:
    out = dict(row)
    out["aggregate_id"] = str(row["aggregate_id"])
    out["recorded_at"] = row["recorded_at"].isoformat()
    out["effective_date"] = row["effective_date"].isoformat() if row["effective_date"] else None
    if (json.loads(out.pop("canonical")).get("meta") or {}).get("demo"):
        out["demo"] = True  # demo data (Meta.demo), shown as such
    return out


def audit_trail(code: str, args: Mapping[str, str]) -> dict:
    """Every change to one organization, oldest first, a page at a time: who, when, why,
    field-level before/after."""
    org = casefiles().get_organization(code)
    authorize("read", org)
    at = window(args)
    total, entries = fresh("audittrail", args).page(org.identifier, at.offset, at.limit)
    return paged("entries", total, [_entry(e) for e in entries], at,
                 identifier=org.identifier)


@bp.get("/organizations/<code>/audit")
@query(**PAGING)
def organization_audit(code: str):
    """Every change to one organization, oldest first, a page at a time: who, when, why,
    field-level before/after."""
    return jsonify(audit_trail(code, request.args))


def verifier() -> AuditVerifier:
    """This web process's verifier of the audit trail (one per app: it holds the key)."""
    found = current_app.extensions.get("audit_verifier")
    if found is None:
        found = AuditVerifier(read_models()["audittrail"], casefiles())
        current_app.extensions["audit_verifier"] = found
    return found


def _full(args: Mapping[str, str]) -> bool:
    raw = args.get("full", "false").lower()
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ApiError(400, "invalid_value", "full must be true or false", "full")
    return raw in ("true", "1", "yes")


def verification(args: Mapping[str, str]) -> dict:
    """The audit trail's verification: the last verified head extended over the entries
    added since (``full=true``: the whole chain from the genesis), and (given an earlier
    checkpoint's head) whether the trail still holds it."""
    authorize("read_all")
    since = None
    if "since_position" in args or "since_hash" in args:
        position = int_arg(args, "since_position", -1, 0, 2 ** 31 - 1)
        expected = args.get("since_hash", "")
        if position < 0:
            raise ApiError(400, "invalid_value", "since_position is required with since_hash",
                           "since_position")
        if not HASH_PATTERN.fullmatch(expected):
            raise ApiError(400, "invalid_value", "since_hash must be a SHA-256 hex digest",
                           "since_hash")
        since = (position, expected)
    run = verifier().run(full=_full(args))
    answer = run.as_dict()
    if since is not None:
        answer["since"] = check_against(*since, verifier().view, run.result)
    return answer


def latest_verification(limit: int) -> dict | None:
    """For the audit page: an extension over at most ``limit`` new entries, or, while
    another verification runs, the latest stored result (None: never verified)."""
    authorize("read_all")
    run = verifier().run(limit=limit, wait=False)
    return run.as_dict() if run is not None else verifier().stored()[1]


FULL = ({"type": "boolean"}, "recompute the whole chain from the first entry (default: "
        "extend the last verified head over the entries added since)")


@bp.get("/audit/verify")
@query(full=FULL)
def verify_audit_trail():
    """Verify the audit trail against the event log: extend the last verified head over
    the entries added since (``full=true``: recompute the whole chain); name the first
    broken entry; say when the head was last verified. With ``since_position`` and
    ``since_hash`` (an earlier checkpoint's head), also say whether the trail still holds
    that head: history only grew."""
    return jsonify(verification(request.args))


@bp.get("/audit/checkpoint")
@query(full=FULL)
def audit_checkpoint():
    """The verified head of the audit trail, signed, for an outside party to keep (after
    an extension, or ``full=true``); 409 when the trail does not verify."""
    authorize("read_all")
    result = verifier().run(full=_full(request.args)).result
    if not result.ok:
        raise ApiError(409, "audit_trail_broken", "the audit trail does not verify at "
                       f"position {result.first_broken['position']}: "
                       f"{result.first_broken['problem']}")
    return jsonify(make_checkpoint(result, verifier().key))


def figures(args: Mapping[str, str]) -> dict:
    """Counts per year and kind for a jurisdiction (rolled up), with pass rates."""
    actor = authorize("read")
    if actor.role != "auditor" and not actor.jurisdiction:  # an organization's account
        raise ApiError(403, "forbidden_jurisdiction", "your account has no jurisdiction")
    if actor.role == "supervisory_unit":
        # the statistics count a jurisdiction's organizations, not a unit's: a supervisory
        # unit would see those it does not supervise (its own are on the network page)
        raise ApiError(403, "forbidden", "the statistics count whole jurisdictions; a "
                                         "supervisory unit sees its organizations' figures "
                                         "on the network page")
    jurisdiction = args.get("jurisdiction") or actor.jurisdiction
    if jurisdiction is None:
        raise ApiError(400, "invalid_value", "jurisdiction is required", "jurisdiction")
    jurisdiction_arg(jurisdiction)
    if actor.role != "auditor":
        own = jurisdiction_prefix(actor.jurisdiction or "")
        if not actor.jurisdiction or not jurisdiction_prefix(jurisdiction).startswith(own):
            raise ApiError(403, "forbidden_jurisdiction", "that jurisdiction is outside yours",
                           "jurisdiction")
    year = int_arg(args, "year", 0, 1980, 2100) if "year" in args else None
    totals = fresh("statistics", args).totals(
        jurisdiction_prefix=jurisdiction_prefix(jurisdiction), year=year)
    return {"jurisdiction": jurisdiction, "years": {
        str(y): {"counts": counts, "inspection_pass_rates": pass_rates(counts)}
        for y, counts in totals.items()}}


# ------------------------------------------------------------------------ persons

def person_document(person) -> dict:
    return plain({"person_id": str(person.id), "name": person.name,
                  "id_number_masked": person.id_number_masked, "bans": person.bans,
                  "posts": person.posts, "sanctioned_organizations":
                  person.sanctioned_organizations, "version": person.version})


@bp.get("/persons/<uuid:person_id>")  # a UUID: /persons/lookup is another route
def read_person(person_id: UUID):
    """A person by pseudonymous id: the masked identity number, bans and posts."""
    actor = authorize("read_persons")
    person = casefiles().get_person(parse_person_id(str(person_id)))
    check_person_scope(actor, person)
    return jsonify(person_document(person))

