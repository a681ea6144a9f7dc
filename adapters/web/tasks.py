"""The work queue (工作台): what waits for the signed-in account within its scope, with its
deadline (domain.worklist: from the rules' parameters for the item's jurisdiction) and
how long it has waited, most urgent first: past its deadline, then the nearest deadline,
then what has no deadline, the longest waiting first.

The items come from the read models that already hold them: warnings (at a node within
the account's jurisdiction: one escalated above it waits for the level it reached) and
proposals from the network view, the annual reports, major-event reports and rectifications from the
case files. Each kind is offered to the roles that may handle it (domain.worklist
HANDLED_BY, the policy table); a supervisory unit sees the major-event reports sent to it
by the organizations it supervises. The five sources are merged and sorted by deadlines
that depend on each jurisdiction's rules (and on the holiday schedule), so the queue is
sorted and paged here, over the items waiting in one account's scope."""

from __future__ import annotations

from datetime import date
from typing import Mapping
from urllib.parse import quote

from flask import Blueprint, jsonify, request

from adapters.web.openapi import query
from adapters.web.paging import PAGING, paged_list, window
from adapters.web.reads import AFTER
from adapters.web.requests import ApiError, authorize, casefiles, fresh
from domain.access import allowed, supervised_by
from domain.calendar import today_in_china
from domain.codes import jurisdiction_prefix
from projections.documents import plain
from domain.annual_report_review import due, submission_deadline
from domain.credit_remedies import repair_deadline
from domain.worklist import (FILED_BY, HANDLED_BY, KINDS, OWN_KINDS, conclusion_deadline,
                             decision_deadline, escalation_deadline, rectification_waits)

bp = Blueprint("tasks", __name__, url_prefix="/api/v1")


def _day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _item(kind: str, key: str, org: Mapping, jurisdiction: str, subject: str,
          since: date, deadline: date | None, link: str, today: date, **more) -> dict:
    return {"kind": kind, "id": key,
            "organization": {"identifier": org.get("identifier"), "code": org.get("code"),
                             "name": org.get("name")},
            "jurisdiction": jurisdiction, "subject": subject, "since": since,
            "waited_days": max((today - since).days, 0), "deadline": deadline,
            "days_left": None if deadline is None else (deadline - today).days,
            "overdue": deadline is not None and today > deadline, "link": link, **more}


def _network_items(kinds: set[str], prefix: str | None, unit: str | None, args,
                   today: date) -> list[dict]:
    if not kinds & {"warning", "proposal"}:
        return []
    warnings, proposals = fresh("network", args).waiting(prefix=prefix, supervisory_unit=unit)
    warnings = warnings if "warning" in kinds else []
    proposals = proposals if "proposal" in kinds else []
    names = fresh("casefiles", args).names(
        {row["organization"] for row in warnings} | {row["organization"] for row in proposals})
    escalation = casefiles().rule("warning_escalation")
    timeliness = casefiles().rule("timeliness")
    items = []
    for row in warnings:
        org = names.get(row["organization"], {"identifier": row["organization"]})
        deadline = escalation_deadline(
            level=row["level"], level_since=row["level_since"], status=row["status"],
            warning_escalation=escalation.parameters_for(row["jurisdiction"]))
        items.append(_item("warning", str(row["warning_id"]), org, row["jurisdiction"],
                           row["title"], row["raised_on"], deadline,
                           f"/warnings/{row['warning_id']}", today, status=row["status"],
                           level=row["level"], severity=row["severity"]))
    for row in proposals:
        org = names.get(row["organization"], {"identifier": row["organization"]})
        deadline = decision_deadline(row["proposed_on"],
                                     timeliness.parameters_for(row["jurisdiction"]))
        items.append(_item("proposal", str(row["proposal_id"]), org, row["jurisdiction"],
                           row["reason"], row["proposed_on"], deadline,
                           f"/forms/proposals/{row['proposal_id']}/confirmation", today,
                           proposal_kind=row["kind"], credit_list=row["credit_list"],
                           year=row["year"],
                           reject=f"/forms/proposals/{row['proposal_id']}/rejection"))
    return items


def _online_report_item(kind: str, row: Mapping, item: Mapping, inspection, today: date
                        ) -> dict:
    """An online annual report (issue 16): submitted, waiting for the supervisory unit's
    pre-review by its deadline; or drafted or returned, waiting for its organization by
    the deadline of its next step. Each links to the form that takes that step."""
    year, code, where = int(item["year"]), quote(row["identifier"]), row["jurisdiction"]
    parameters = inspection.parameters_for(where)
    forms = f"/organizations/{code}/forms/annual-reports/{year}"
    if kind == "annual_report_review":
        return _item(kind, f"{row['identifier']}:{year}", row, where, str(year),
                     _day(item.get("submitted_on")) or today,
                     submission_deadline(year, parameters), f"{forms}/approval", today,
                     year=year, stage=item["state"], reject=f"{forms}/return")
    returned = item.get("returned") or []
    return _item(kind, f"{row['identifier']}:{year}", row, where, str(year),
                 _day(returned[-1]["returned_on"] if item["state"] == "returned" and returned
                      else item.get("saved_on")) or today,
                 due(year, row.get("supervisory_unit"), parameters),
                 f"/organizations/{code}/annual-reports", today, year=year,
                 stage=item["state"],
                 comments=returned[-1]["comments"] if item["state"] == "returned"
                 and returned else None, submit=f"{forms}/submission")


def _case_file_items(kinds: set[str], prefix: str | None, unit: str | None, actor, args,
                     today: date, organization: str | None = None) -> list[dict]:
    wanted = [k for k in ("annual_report", "major_event", "rectification", "objection",
                          "credit_repair", "annual_report_review", "annual_report_draft")
              if k in kinds]
    if not wanted:
        return []
    rows = fresh("casefiles", args).waiting(
        prefix=prefix, kinds=wanted, supervisory_unit=unit, organization=organization,
        major_events_sent_to="supervisory_unit" if actor.role == "supervisory_unit"
        else "registration_authority")
    inspection = casefiles().rule("annual_inspection")
    timeliness = casefiles().rule("timeliness")
    abnormal = casefiles().rule("abnormal_activity_listing")
    items = []
    for row in rows:
        item, code, where = row["item"], quote(row["identifier"]), row["jurisdiction"]
        forms = f"/organizations/{code}/forms"
        if row["kind"] in ("annual_report_review", "annual_report_draft"):
            items.append(_online_report_item(row["kind"], row, item, inspection, today))
        elif row["kind"] == "annual_report":
            year = int(item["year"])
            deadline = conclusion_deadline(year, inspection.parameters_for(where))
            items.append(_item("annual_report", f"{row['identifier']}:{year}", row, where,
                               str(year), _day(item.get("filed_on")) or deadline, deadline,
                               f"{forms}/annual-inspections?year={year}", today, year=year))
        elif row["kind"] == "major_event":
            planned = _day(item["planned_date"])
            items.append(_item("major_event", item["id"], row, where, item["description"],
                               _day(item.get("reported_on")) or planned, planned,
                               f"{forms}/major-events/{quote(item['id'])}/review", today,
                               category=item["category"], late=item["late"]))
        elif row["kind"] == "objection":
            # the organization's own account sees where it stands; staff decide it
            items.append(_item("objection", f"{row['identifier']}:{item['id']}", row, where,
                               f"{item['entry']} {item['entry_id']}",
                               _day(item["filed_on"]), _day(item["due_by"]),
                               f"{forms}/objections/{quote(item['id'])}/upholding", today,
                               objection=item["id"], entry=item["entry"],
                               entry_id=item["entry_id"], reason=item["reason"],
                               dismiss=f"{forms}/objections/{quote(item['id'])}/dismissal"))
        elif row["kind"] == "credit_repair":
            applied = _day(item["applied_on"])
            items.append(_item("credit_repair", f"{row['identifier']}:{item['id']}", row,
                               where, item["listing_id"], applied,
                               repair_deadline(applied, item.get("list"),
                                               abnormal.parameters_for(where),
                                               timeliness.parameters_for(where)),
                               f"{forms}/credit-repairs/{quote(item['id'])}/approval", today,
                               application=item["id"], listing_id=item["listing_id"],
                               list=item.get("list"),
                               reason=item["reason"],
                               refuse=f"{forms}/credit-repairs/{quote(item['id'])}/refusal"))
        else:
            deadline = _day(item["deadline"])
            if not rectification_waits(deadline, today, timeliness.parameters_for(where)):
                continue
            number = quote(item["notice_number"], safe="")
            items.append(_item("rectification", item["notice_number"], row, where,
                               item["notice_number"], _day(item.get("ordered_on")) or deadline,
                               deadline,
                               f"{forms}/rectifications/{number}/completion", today,
                               status=item["status"], issues=item["issues"],
                               follow_up=f"{forms}/rectifications/{number}/follow-ups"))
    return items


def urgency(item: dict) -> tuple:
    """Past the deadline first, then the nearest deadline; then what has none, the
    longest waiting first."""
    deadline = item["deadline"]
    return (deadline is None, deadline or date.max, item["since"], item["kind"], item["id"])


def tasks(args: Mapping[str, str]) -> dict:
    """What waits for the signed-in account within its scope, most urgent first, a page
    at a time; ``counts`` and ``overdue`` per kind, whatever the ``kind`` filter."""
    actor = authorize("read")
    kind = args.get("kind")
    if kind is not None and kind not in KINDS:
        raise ApiError(400, "invalid_value", f"kind must be one of {', '.join(KINDS)}",
                       "kind")
    at = window(args)
    kinds = {k for k in KINDS if allowed(actor.role, HANDLED_BY[k])}
    own = None
    if actor.role == "organization":
        # an organization's own account: what it filed, waiting for staff's decision,
        # and the online annual reports it has to submit or correct
        kinds = ({k for k, action in FILED_BY.items() if allowed(actor.role, action)}
                 | (kinds & set(OWN_KINDS)))
        own = actor.organization or ""
    elif actor.role != "auditor" and actor.jurisdiction is None:
        kinds = set()  # an account without a jurisdiction handles nothing here
    prefix = jurisdiction_prefix(actor.jurisdiction) if actor.jurisdiction else None
    unit = supervised_by(actor.role, actor.organization)
    today = today_in_china()
    items = (([] if own is not None else _network_items(kinds, prefix, unit, args, today))
             + _case_file_items(kinds, prefix, unit, actor, args, today, organization=own))
    if own is not None:  # the organization decides nothing it filed: those lead to its case
        for item in (i for i in items if i["kind"] in FILED_BY):  # file
            anchor = "objections" if item["kind"] == "objection" else "credit-repairs"
            item["link"] = f"/organizations/{quote(own)}#{anchor}"
    counts = {k: 0 for k in KINDS if k in kinds}
    overdue = dict(counts)
    for item in items:
        counts[item["kind"]] += 1
        overdue[item["kind"]] += item["overdue"]
    shown = sorted((i for i in items if kind is None or i["kind"] == kind), key=urgency)
    return plain(paged_list("tasks", shown, at, kinds=[k for k in KINDS if k in kinds],
                            counts=counts, overdue=overdue, today=today, own=own))


@bp.get("/tasks")
@query(kind=({"type": "string", "enum": list(KINDS)}, "only the items of this kind"),
       after=AFTER, **PAGING)
def list_tasks():
    """The work queue: what waits for the signed-in account within its scope (warnings
    to handle, proposals to decide, annual reports to conclude, major-event reports to
    review, rectifications due, objections and credit repair applications to decide; a
    supervisory unit's annual reports to pre-review), each with its deadline from the
    rules, most urgent first; ``counts`` and ``overdue`` per kind. An organization's own
    account sees its objections and applications waiting for a decision and its online
    annual reports to submit or correct."""
    return jsonify(tasks(request.args))
