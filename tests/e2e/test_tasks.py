"""The work queue over HTTP (GET /api/v1/tasks): each kind waits for the roles that handle
it, within their scope (another district sees nothing of this one; a supervisory unit
the major-event reports sent to it by the organizations it supervises), most urgent
first, with deadlines from the rules' parameters; and the supervisory unit's scope in
every read."""

from __future__ import annotations

from datetime import date, timedelta

from domain.calendar import today_in_china
from domain.network import Proposal
from tests.conftest import meta
from tests.support import COMMITTEE, SUPERVISORY_UNIT, code, registration

TASKS = "/api/v1/tasks"
OTHER_COMMITTEE = "310230001001"
OTHER_UNIT = "杨浦区体育局"


def org_path(n: int, division: str = "310110") -> str:
    return f"/api/v1/organizations/{code(n, division=division)}"


def ids(answer: dict, kind: str | None = None) -> list[tuple[str, str]]:
    return [(t["kind"], t["organization"]["identifier"]) for t in answer["tasks"]
            if kind is None or t["kind"] == kind]


def world(api, pg_app) -> dict:
    """Two organizations of this district (one supervised by the test supervisor's unit,
    one by another unit) and one of another district, with something of every kind
    waiting on the first and a warning on the third."""
    today = today_in_china()
    certificate = {"certificate_valid_until": "2035-12-31"}
    assert api.post("/api/v1/organizations", registration(
        1, supervisory_unit=SUPERVISORY_UNIT, **certificate)).status_code == 201
    assert api.post("/api/v1/organizations", registration(
        2, supervisory_unit=OTHER_UNIT, **certificate)).status_code == 201
    other = registration(3, code=code(3, division="310230"), **certificate,
                         domicile={"address": "y", "jurisdiction": OTHER_COMMITTEE})
    assert api.post("/api/v1/organizations", other, as_="other_staff").status_code == 201
    late = (today - timedelta(days=300)).isoformat()
    warning = api.post("/api/v1/warnings", {
        "organization": code(1), "severity": "high", "source": "information_officer",
        "title": "场所异常", "description": "夜间聚集", "effective_date": late},
        as_="officer")
    assert warning.status_code == 201, warning.json
    assert api.post("/api/v1/warnings", {
        "organization": code(3, division="310230"), "severity": "low", "source": "tip_off",
        "title": "外区", "description": "d"}, as_="other_staff").status_code == 201
    report = api.post(f"{org_path(1)}/annual-reports", {
        "year": today.year - 1, "income": 1000, "expenditure": 900, "net_assets": 100,
        "activities_held": 3, "party_organization": False})
    assert report.status_code == 200, report.json
    planned = (today + timedelta(days=40)).isoformat()
    for n, sent_to in ((1, ["registration_authority", "supervisory_unit"]),
                       (2, ["supervisory_unit"])):
        reported = api.post(f"{org_path(n)}/major-events", {
            "category": "important_activity", "planned_date": planned,
            "description": f"活动{n}", "sent_to": sent_to})
        assert reported.status_code == 201, reported.json
    for number, days in (("ZG-NEAR", 1), ("ZG-FAR", 300)):
        ordered = api.post(f"{org_path(1)}/rectifications", {
            "notice_number": number, "issues": ["建立财务制度"],
            "deadline": (today + timedelta(days=days)).isoformat()})
        assert ordered.status_code == 200, ordered.json
    proposal = Proposal.propose(key="tasks:1", kind="listing", organization=code(1),
                                jurisdiction=COMMITTEE, credit_list="abnormal_activity",
                                listing_id=None, year=None, reason="r", rule="rule:x@v1",
                                meta=meta(today.isoformat()))
    pg_app.save(proposal)
    head = pg_app.recorder.max_notification_id()
    api.get(f"{TASKS}?after={head}")  # the read models have caught up
    return {"warning": warning.json["id"], "proposal": str(proposal.id)}


def test_the_queue_holds_what_waits_within_the_readers_scope(api, pg_app):
    made = world(api, pg_app)
    own = code(1)
    staff = api.get(f"{TASKS}?limit=500").json
    assert staff["kinds"] == ["warning", "proposal", "annual_report", "major_event",
                              "rectification", "objection", "credit_repair"]
    mine = [(k, o) for k, o in ids(staff) if o == own]
    assert sorted(mine) == sorted([("warning", own), ("proposal", own),
                                   ("annual_report", own), ("major_event", own),
                                   ("rectification", own)])
    # another district's warning is not here, nor org 2's report sent only to its unit
    assert code(3, division="310230") not in {o for _, o in ids(staff)}
    assert ("major_event", code(2)) not in ids(staff)
    # the far rectification is not due yet: only the near one waits
    assert [t["id"] for t in staff["tasks"] if t["kind"] == "rectification"] == ["ZG-NEAR"]
    assert staff["counts"]["warning"] == len(ids(staff, "warning"))
    # the warning raised 300 days ago is past its escalation deadline (rule 11: 3 days at
    # a committee): it comes first (before last year's annual report, due by 31 May),
    # marked, with its organization's name and code and how long it waited
    first = staff["tasks"][0]
    assert (first["kind"], first["id"]) == ("warning", made["warning"])
    assert first["overdue"] is True and first["waited_days"] == 300
    assert first["organization"] == {"identifier": own, "code": own,
                                     "name": registration(1)["name"]}
    raised = today_in_china() - timedelta(days=300)
    assert first["deadline"] == (raised + timedelta(days=3)).isoformat()
    assert first["link"] == f"/warnings/{made['warning']}"
    deadlines = [t["deadline"] for t in staff["tasks"] if t["deadline"]]
    assert deadlines == sorted(deadlines)
    assert staff["overdue"]["warning"] >= 1

    # the deadline follows the rule's parameters (a district's override)
    changed = api.client.put("/api/v1/rules/warning_escalation", json={
        "parameters": {"committee_days": 400}, "jurisdiction": "310110000000",
        "reason": "试行"}, headers=api.headers("staff", None))
    assert changed.status_code == 200, changed.json
    again = api.get(f"{TASKS}?kind=warning").json
    (warning,) = [t for t in again["tasks"] if t["id"] == made["warning"]]
    assert warning["deadline"] == (raised + timedelta(days=400)).isoformat()
    assert warning["overdue"] is False

    # an information officer: the warnings of its committee only
    officer = api.get(TASKS, as_="officer").json
    assert officer["kinds"] == ["warning"] and ids(officer) == [("warning", own)]
    # escalated to the sub-district, it waits there, no longer at the committee
    assert api.post(f"/api/v1/warnings/{made['warning']}/escalation", {}).status_code == 200
    head = pg_app.recorder.max_notification_id()
    assert api.get(f"{TASKS}?after={head}", as_="officer").json["total"] == 0
    (escalated,) = api.get(TASKS, as_="street").json["tasks"]
    assert escalated["id"] == made["warning"] and escalated["level"] == "sub_district"
    # its deadline: 7 days at the sub-district level, from today
    assert escalated["deadline"] == (today_in_china() + timedelta(days=7)).isoformat()

    # another district sees nothing of this one
    other = api.get(f"{TASKS}?limit=500", as_="other_staff").json
    assert {o for _, o in ids(other)} == {code(3, division="310230")}
    # the supervisory unit: the major-event reports sent to it by what it supervises
    # (and the online annual reports submitted to it: none here, issue 16)
    supervisor = api.get(TASKS, as_="supervisor").json
    assert supervisor["kinds"] == ["major_event", "annual_report_review"]
    assert ids(supervisor) == [("major_event", own)]
    # an auditor handles nothing here
    assert api.get(TASKS, as_="auditor").json["total"] == 0
    # an organization's own account: its objections and credit repair applications
    # waiting for a decision (none here; tests/e2e/test_credit_remedies.py), and its own
    # online annual reports to submit (none here: tests/e2e/test_annual_report_review.py)
    mine = api.get(TASKS, as_="org1").json
    assert mine["kinds"] == ["objection", "credit_repair", "annual_report_draft"]
    assert mine["tasks"] == [] and mine["total"] == 0

    # a kind, a page; a handled item leaves the queue
    page = api.get(f"{TASKS}?kind=rectification&limit=1").json
    assert page["total"] == 1 and page["limit"] == 1 and len(page["tasks"]) == 1
    assert api.post(f"/api/v1/warnings/{made['warning']}/resolution",
                    {"note": "已核实处理"}, as_="officer").status_code == 200
    assert ("warning", own) not in ids(api.get(f"{TASKS}?limit=500").json)
    assert api.post(f"/api/v1/proposals/{made['proposal']}/confirmation",
                    {}).status_code == 200
    assert ("proposal", own) not in ids(api.get(f"{TASKS}?limit=500").json)
    year = today_in_china().year - 1
    assert api.post(f"{org_path(1)}/annual-inspections", {
        "year": year, "result": "qualified", "findings": "无"}).status_code == 200
    after = api.get(f"{TASKS}?limit=500").json
    assert ("annual_report", own) not in ids(after)


def test_bad_queries_are_refused(api):
    assert api.get(f"{TASKS}?kind=nothing").status_code == 400
    assert api.get(f"{TASKS}?limit=0").status_code == 400
    assert api.get(TASKS, as_=None).status_code == 401


def test_a_supervisory_unit_reads_only_the_organizations_it_supervises(api, pg_app):
    world(api, pg_app)
    own, other = org_path(1), org_path(2)
    found = api.get("/api/v1/organizations", as_="supervisor").json
    assert [o["identifier"] for o in found["organizations"]] == [code(1)]
    assert found["total"] == 1
    for path in (own, f"{own}/audit", f"{own}/events", f"{own}?as_of=2024-01-01"):
        assert api.get(path, as_="supervisor").status_code == 200, path
    for path in (other, f"{other}/audit", f"{other}/events", f"{other}?as_of=2024-01-01",
                 f"{other}?known_at=2030-01-01T00:00:00", f"{other}/pdf"):
        assert api.get(path, as_="supervisor").status_code == 403, path
    warnings = api.get("/api/v1/warnings", as_="supervisor").json
    assert {w["organization"] for w in warnings["warnings"]} <= {code(1)}
    drill = api.get("/api/v1/network/310110000000/organizations?flag=warning",
                    as_="supervisor").json
    assert {o["identifier"] for o in drill["organizations"]} <= {code(1)}
    # the network's figures count what it supervises: org 1 and its warning
    district = "/api/v1/network/310110000000"
    figures = api.get(district, as_="supervisor").json["figures"]
    assert figures["organizations"] == 1 and figures["warnings_active"] == 1
    assert api.get(district).json["figures"]["organizations"] == 2
    proposals = api.get("/api/v1/proposals", as_="supervisor").json
    assert {p["organization"] for p in proposals["proposals"]} == {code(1)}
    # it reviews the reports of what it supervises, not of another unit's organization
    reports = {n: api.get(org_path(n)).json["major_events"][0]["id"] for n in (1, 2)}
    review = {"opinion": "同意", "risk_level": "low"}
    assert api.post(f"{own}/major-events/{reports[1]}/review", review,
                    as_="supervisor").status_code == 200
    assert api.post(f"{other}/major-events/{reports[2]}/review", review,
                    as_="supervisor").status_code == 403
    assert api.get(TASKS, as_="supervisor").json["total"] == 0
