"""Reads from the read models: case files (with read-your-writes and time travel),
search, the audit trail and its verification, statistics."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from flask import current_app, g, jsonify, request

from adapters.views.audit_checkpoint import HASH_PATTERN, check_against, make_checkpoint, signing_key
from adapters.web.api import (CHINA, POSITION_COOKIE, ApiError, authorize, bp, casefiles,
                              current_actor, load_in_scope, query, today)
from domain.codes import jurisdiction_prefix, validate_jurisdiction
from domain.errors import InvalidValue
from projections.audit import verify
from projections.documents import (event_document, organization_document,
                                   with_certificate_state)
from projections.statistics import pass_rates

READ_WAIT_SECONDS = 2.0


def read_models():
    models = current_app.extensions.get("read_models")
    if models is None:
        raise ApiError(503, "read_models_unavailable",
                       "the read models need PostgreSQL; this service runs without them")
    return models


def fresh(name: str):
    """The named view, once it has reached the reader's last write (up to a bound; the
    answer says how far it got in X-Position either way)."""
    from adapters.runtime.readmodels import wait_for

    view = read_models()[name]
    g.view_fresh = wait_for(view, wanted_position(), READ_WAIT_SECONDS)
    return view


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw) or not low <= int(raw) <= high:
        raise ApiError(400, "invalid_value", f"{name} must be a whole number from {low} to "
                                             f"{high}", name)
    return int(raw)


def wanted_position() -> int:
    """The position this reader must see: ``?after=``, the cookie of its last write, or
    its last write through this process."""
    wanted = _int_arg("after", 0, 0, 10 ** 15)
    cookie = request.cookies.get(POSITION_COOKIE, "")
    if cookie.isdigit():
        wanted = max(wanted, int(cookie))
    positions = current_app.extensions.get("last_positions", {})
    return max(wanted, positions.get(g.actor.username, 0))


def _time_travel_args() -> tuple[date | None, datetime | None]:
    as_of = known_at = None
    if "as_of" in request.args:
        try:
            as_of = date.fromisoformat(request.args["as_of"])
        except ValueError:
            raise ApiError(400, "invalid_value", "as_of must be a date YYYY-MM-DD",
                           "as_of") from None
    if "known_at" in request.args:
        try:
            known_at = datetime.fromisoformat(request.args["known_at"].replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, "invalid_value", "known_at must be an ISO 8601 timestamp",
                           "known_at") from None
        if known_at.tzinfo is None:
            known_at = known_at.replace(tzinfo=CHINA)
    return as_of, known_at


def _timeline_at(code: str, as_of: date | None, known_at: datetime | None) -> list[dict]:
    """The timeline as it stood: the events in effect by ``as_of`` and recorded by
    ``known_at`` (the same filter as the case file's state), in the entries' shape of
    the live timeline."""
    from projections.casefile import recorded_late

    entries = []
    for event in casefiles().organization_history(code):
        if known_at is not None and event.timestamp > known_at:
            continue
        if as_of is not None and event.meta.effective_date > as_of:
            continue
        entries.append({"version": event.originator_version, "type": type(event).__name__,
                        "effective_date": event.meta.effective_date.isoformat(),
                        "recorded_at": event.timestamp.isoformat(),
                        "actor": event.meta.actor_id, "role": event.meta.actor_role,
                        "reason": event.meta.reason, "reference": event.meta.reference,
                        "late": recorded_late(event)})
    return entries


AFTER = ({"type": "integer", "minimum": 0},
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
    current_actor()
    as_of, known_at = _time_travel_args()
    if as_of or known_at:
        org = casefiles().organization_at(code, as_of=as_of, known_at=known_at)
        authorize("read", org)
        document = with_certificate_state(organization_document(org), as_of or today())
        response = jsonify({**document, "as_of": as_of and as_of.isoformat(),
                            "known_at": known_at and known_at.isoformat(),
                            "timeline": _timeline_at(code, as_of, known_at)})
        response.headers["ETag"] = f'"{org.version}"'
        return response
    row = None
    models = current_app.extensions.get("read_models")
    if models is not None:
        from adapters.runtime.readmodels import wait_for

        if wait_for(models["casefiles"], wanted_position(), READ_WAIT_SECONDS):
            row = models["casefiles"].case_file(code)
    if row is None:
        org = casefiles().get_organization(code)
        authorize("read", org)
        response = jsonify(with_certificate_state(organization_document(org), today()))
        response.headers["ETag"] = f'"{org.version}"'
        response.headers["X-Served-From"] = "event-log"
        return response
    authorize("read", identifier=row["identifier"], jurisdiction=row["jurisdiction"])
    document = with_certificate_state(row["document"], today())
    # {document..., "risk_flags", "timeline", "position"}, as jsonify would write it, with
    # the timeline's stored JSON text spliced in rather than parsed and written again
    head = current_app.json.dumps({**document, "risk_flags": row["risk_flags"]},
                                  separators=(",", ":"))
    response = current_app.response_class(
        f'{head[:-1]},"timeline":{row["timeline_json"]},"position":{int(row["position"])}}}\n',
        mimetype="application/json")
    response.headers["ETag"] = f'"{row["version"]}"'
    response.headers["X-Position"] = str(row["position"])
    return response


HISTORY_PAGE, HISTORY_PAGE_MAX = 500, 5000


@bp.get("/organizations/<code>/events")
@query(after_version=({"type": "integer", "minimum": 0},
                      "the events after this version (0: from the first)"),
       limit=({"type": "integer", "minimum": 1, "maximum": 5000},
              "at most this many events (default 500)"))
def read_history(code: str):
    """The organization's recorded events, oldest first, a page at a time.

    ``after_version`` (default 0: from the first event) and ``limit`` (default 500, at
    most 5,000); ``next`` is the query of the following page, null on the last. A long
    history costs a page, not the whole of it."""
    org = load_in_scope(code, "read")
    after = _int_arg("after_version", 0, 0, 10 ** 9)
    limit = _int_arg("limit", HISTORY_PAGE, 1, HISTORY_PAGE_MAX)
    events = casefiles().organization_history(code, after_version=after, limit=limit)
    last = events[-1].originator_version if events else after
    return jsonify({"identifier": code, "version": org.version,
                    "events": [event_document(e) for e in events],
                    "next": (f"?after_version={last}&limit={limit}"
                             if len(events) == limit and last < org.version else None)})


@bp.get("/organizations")
@query(q=({"type": "string", "maxLength": 100}, "name or code contains"),
       jurisdiction=({"type": "string"}, "within this jurisdiction (12-digit code)"),
       status=({"type": "string"}, "status, e.g. registered"),
       type=({"type": "string"}, "organization type"),
       risk=({"type": "string"}, "has this risk flag"),
       list=({"type": "string"}, "on this credit list"),
       limit=({"type": "integer", "minimum": 1, "maximum": 500}, "page size (default 50)"),
       offset=({"type": "integer", "minimum": 0}, "skip this many"))
def search_organizations():
    """Search the register within the reader's jurisdiction."""
    actor = authorize("read")
    jurisdiction = request.args.get("jurisdiction")
    if jurisdiction is not None:
        try:
            validate_jurisdiction(jurisdiction)
        except InvalidValue as e:
            raise ApiError(400, "invalid_value", e.message, "jurisdiction") from None
    prefix = jurisdiction_prefix(jurisdiction) if jurisdiction else None
    if actor.role == "organization":  # an organization sees itself only
        row = fresh("casefiles").get(actor.organization or "")
        found = [] if row is None else [{k: row[k] for k in (
            "identifier", "code", "name", "org_type", "status", "jurisdiction",
            "credit_lists", "latest_conclusion", "latest_conclusion_year", "rating",
            "risk_flags", "version")}]
        return jsonify({"total": len(found), "limit": 1, "offset": 0, "organizations": found})
    if actor.role not in ("auditor",):
        own = jurisdiction_prefix(actor.jurisdiction)
        if prefix is None or not prefix.startswith(own):
            if prefix is not None and not own.startswith(prefix):
                raise ApiError(403, "forbidden_jurisdiction",
                               "that jurisdiction is outside yours", "jurisdiction")
            prefix = own
    text = request.args.get("q")
    if text is not None and len(text) > 100:
        raise ApiError(400, "invalid_value", "q is longer than 100 characters", "q")
    limit = _int_arg("limit", 50, 1, 500)
    offset = _int_arg("offset", 0, 0, 10 ** 7)
    total, rows = fresh("casefiles").search(
        text=text, jurisdiction=prefix, status=request.args.get("status"),
        org_type=request.args.get("type"), risk_flag=request.args.get("risk"),
        credit_list=request.args.get("list"), limit=limit, offset=offset)
    for row in rows:
        row["certificate_valid_until"] = (row["certificate_valid_until"].isoformat()
                                          if row["certificate_valid_until"] else None)
    return jsonify({"total": total, "limit": limit, "offset": offset, "organizations": rows})


def _entry(row: dict) -> dict:
    out = dict(row)
    out["aggregate_id"] = str(row["aggregate_id"])
    out["recorded_at"] = row["recorded_at"].isoformat()
    out["effective_date"] = row["effective_date"].isoformat() if row["effective_date"] else None
    out.pop("canonical")
    return out


@bp.get("/organizations/<code>/audit")
def organization_audit(code: str):
    """Every change to one organization: who, when, why, field-level before/after."""
    org = casefiles().get_organization(code)
    authorize("read", org)
    entries = fresh("audittrail").entries(identifier=org.identifier)
    return jsonify({"identifier": org.identifier, "entries": [_entry(e) for e in entries]})


def _verified_trail():
    view = read_models()["audittrail"]
    app = casefiles()
    up_to = view.max_tracking_id(app.name) or 0
    return view, verify(view.all_entries(up_to), recorded_events(app, up_to))


@bp.get("/audit/verify")
def verify_audit_trail():
    """Recompute the hash chain from the event log; name the first broken entry. With
    ``since_position`` and ``since_hash`` (an earlier checkpoint's head), also say whether
    the trail still holds that head: history only grew."""
    authorize("read_all")
    since = None
    if "since_position" in request.args or "since_hash" in request.args:
        position = _int_arg("since_position", -1, 0, 2 ** 31 - 1)
        expected = request.args.get("since_hash", "")
        if position < 0:
            raise ApiError(400, "invalid_value", "since_position is required with since_hash",
                           "since_position")
        if not HASH_PATTERN.fullmatch(expected):
            raise ApiError(400, "invalid_value", "since_hash must be a SHA-256 hex digest",
                           "since_hash")
        since = (position, expected)
    view, result = _verified_trail()
    answer = {**result.as_dict(), "checked_at": datetime.now(timezone.utc).isoformat()}
    if since is not None:
        answer["since"] = check_against(*since, view, result)
    return jsonify(answer)


@bp.get("/audit/checkpoint")
def audit_checkpoint():
    """The verified head of the audit trail, signed, for an outside party to keep; 409
    when the trail does not verify."""
    authorize("read_all")
    _, result = _verified_trail()
    if not result.ok:
        raise ApiError(409, "audit_trail_broken", "the audit trail does not verify at "
                       f"position {result.first_broken['position']}: "
                       f"{result.first_broken['problem']}")
    return jsonify(make_checkpoint(result, signing_key()))


def recorded_events(app, up_to: int, page: int = 1000):
    """Every recorded event up to a position, as (domain event, position); an event that
    cannot be decoded comes as (None, position), so the verifier can name it (a rebuild,
    by contrast, pages through ``readmodels.recorded_pages`` and stops there)."""
    position = 0
    while position < up_to:
        notifications = app.recorder.select_notifications(start=position + 1, limit=page,
                                                          stop=up_to)
        if not notifications:
            return
        events = app.mapper.to_domain_events(notifications, keep_errors=True)
        for n, event in zip(notifications, events):
            # cannot be decrypted or decoded: altered in the store
            yield (None if isinstance(event, Exception) else event), n.id
        position = notifications[-1].id


@bp.get("/statistics")
def statistics():
    """Counts per year and kind for a jurisdiction (rolled up), with pass rates."""
    actor = authorize("read")
    jurisdiction = request.args.get("jurisdiction") or actor.jurisdiction
    if jurisdiction is None:
        raise ApiError(400, "invalid_value", "jurisdiction is required", "jurisdiction")
    try:
        validate_jurisdiction(jurisdiction)
    except InvalidValue as e:
        raise ApiError(400, "invalid_value", e.message, "jurisdiction") from None
    if actor.role != "auditor":
        own = jurisdiction_prefix(actor.jurisdiction or "")
        if not actor.jurisdiction or not jurisdiction_prefix(jurisdiction).startswith(own):
            raise ApiError(403, "forbidden_jurisdiction", "that jurisdiction is outside yours",
                           "jurisdiction")
    year = _int_arg("year", 0, 1980, 2100) if "year" in request.args else None
    totals = fresh("statistics").totals(
        jurisdiction_prefix=jurisdiction_prefix(jurisdiction), year=year)
    return jsonify({"jurisdiction": jurisdiction, "years": {
        str(y): {"counts": counts, "inspection_pass_rates": pass_rates(counts)}
        for y, counts in totals.items()}})
