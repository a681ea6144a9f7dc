"""Double-random inspection plans over HTTP, on the real PostgreSQL store and read model:
the population comes from the case files, the draw is reproducible from its seed, and
only registration staff of the jurisdiction may plan."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from math import ceil

from tests.support import DISTRICT, OTHER_DISTRICT, SUB_DISTRICT, code, registration

PLANS = "/api/v1/inspection-plans"
ORGANIZATIONS = range(1, 41)
LISTED = (3, 11, 19, 27, 35)
CLOSED = 40
INSPECTORS = ["张伟", "王芳", "李娜", "刘洋", "陈静"]


def plan_body(number: str, **overrides) -> dict:
    body = {"number": number, "jurisdiction": DISTRICT, "seed": 42,
            "inspectors": INSPECTORS, "effective_date": "2024-03-01",
            "reason": "2024年第一季度双随机抽查"}
    body.update(overrides)
    return body


def populate(api) -> None:
    for n in ORGANIZATIONS:
        founded = f"20{10 + n % 10}-0{1 + n % 9}-01"
        response = api.post("/api/v1/organizations", registration(
            n, founded_on=founded, effective_date=founded, certificate_valid_until="2030-12-31"))
        assert response.status_code == 201, response.json
    for n in LISTED:
        response = api.post(f"{api.org(n)}/credit-listings", {
            "list": "abnormal_activity", "reason": "未按时报送年度工作报告",
            "effective_date": "2023-06-15"})
        assert response.status_code == 201, response.json
    response = api.post(f"{api.org(CLOSED)}/deregistration",
                        {"effective_date": "2023-12-01", "reason": "自行解散"})
    assert response.status_code in (200, 201), response.json
    assert api.get(api.org(CLOSED)).json["status"] == "deregistered"  # waits for the worker


def test_a_plan_is_drawn_from_the_active_case_files_and_verifies(api, worker):
    populate(api)
    created = api.post(PLANS, plan_body("2024-SJ-001"))
    assert created.status_code == 201, created.json
    plan = created.json
    assert created.headers["Location"] == f"{PLANS}/2024-SJ-001"
    high_risk = sorted(code(n) for n in LISTED)
    active = sorted(code(n) for n in ORGANIZATIONS if n != CLOSED)
    assert plan["population"] == active and plan["high_risk"] == high_risk
    assert plan["seed"] == 42 and plan["rule"] == {"name": "double_random_sampling",
                                                    "version": 1}
    assert plan["authority_level"] == "district"
    assert plan["ratios"] == {"ratio": 0.03, "ratio_high_risk": 0.10,
                              "on_site_ratio": 0.005, "inspectors_per_check": 2}
    counts = plan["counts"]
    assert counts["population"] == 39 and counts["high_risk"] == 5 and counts["normal"] == 34
    assert counts["drawn_normal"] >= 0.03 * 34 and counts["drawn_normal"] == ceil(0.03 * 34)
    assert counts["drawn_high_risk"] >= 0.10 * 5 and counts["drawn_high_risk"] == 1
    assert counts["drawn"] == len(plan["drawn"]) == counts["drawn_normal"] + 1
    assert counts["on_site"] >= max(1, 0.005 * 39) and set(plan["on_site"]) <= {
        d["identifier"] for d in plan["drawn"]}
    for drawn in plan["drawn"]:
        assert drawn["identifier"] in active
        assert drawn["high_risk"] == (drawn["identifier"] in high_risk)
        assert len(set(drawn["inspectors"])) == len(drawn["inspectors"]) >= 2
        assert set(drawn["inspectors"]) <= set(INSPECTORS)

    # The same seed over the same population draws the same, whatever the pool's order.
    again = api.post(PLANS, plan_body("2024-SJ-002", inspectors=INSPECTORS[::-1]))
    assert again.status_code == 201, again.json
    assert again.json["drawn"] == plan["drawn"] and again.json["on_site"] == plan["on_site"]

    read = api.get(f"{PLANS}/2024-SJ-001")
    assert read.status_code == 200
    assert read.json["verified"] is True and read.json["discrepancies"] == []
    assert read.json["drawn"] == plan["drawn"] and read.json["planned_by"] == "staff"
    assert read.json["reason"] == "2024年第一季度双随机抽查"
    assert api.get(f"{PLANS}/2024-SJ-001", as_="auditor").json["verified"] is True
    assert api.get(f"{PLANS}/2024-SJ-404").status_code == 404

    duplicate = api.post(PLANS, plan_body("2024-SJ-001", seed=7))
    assert duplicate.status_code == 409, duplicate.json
    assert duplicate.json["error"]["code"] == "duplicate_plan_number"

    # A plan over a sub-district, with a generated seed that is recorded.
    street = api.post(PLANS, plan_body("2024-SJ-003", jurisdiction=SUB_DISTRICT,
                                       authority_level="city", seed=None))
    assert street.status_code == 400  # null is not a seed: leave it out instead
    body = plan_body("2024-SJ-003", jurisdiction=SUB_DISTRICT, authority_level="city")
    del body["seed"]
    street = api.post(PLANS, body)
    assert street.status_code == 201, street.json
    assert isinstance(street.json["seed"], int) and street.json["ratios"]["ratio"] == 0.04
    assert api.get(f"{PLANS}/2024-SJ-003").json["verified"] is True

    # The read models pass over the plans' events: a later write is read back, the audit
    # trail (which keeps an entry per plan) still verifies, and no projection stopped.
    renewed = api.post(f"{api.org(1)}/interviews", {
        "person_name": "张三", "person_role": "秘书长", "topics": ["抽查结果"],
        "effective_date": "2024-03-05"})
    assert renewed.status_code in (200, 201), renewed.json
    assert api.get(api.org(1)).json["version"] == renewed.json["version"]
    verified = api.get("/api/v1/audit/verify", as_="auditor")
    assert verified.status_code == 200 and verified.json["ok"] is True, verified.json
    assert worker.errors == {}


def test_who_may_plan_and_what_is_refused(api):
    response = api.post("/api/v1/organizations", registration(1))
    assert response.status_code == 201
    api.get(api.org(1))

    assert api.post(PLANS, plan_body("P-1"), as_="officer").status_code == 403
    assert api.post(PLANS, plan_body("P-1"), as_="supervisor").status_code == 403
    outside = api.post(PLANS, plan_body("P-1"), as_="other_staff")
    assert outside.status_code == 403
    assert outside.json["error"]["code"] == "forbidden_jurisdiction"
    assert api.post(PLANS, plan_body("P-1", jurisdiction=OTHER_DISTRICT)).status_code == 403
    assert api.post(PLANS, plan_body("P-1"), as_=None).status_code == 401

    for bad, field in ((plan_body("P-1", seed="42"), "seed"),
                       (plan_body("P-1", seed=-1), "seed"),
                       (plan_body("P-1", jurisdiction="3101"), "jurisdiction"),
                       (plan_body("P-1", jurisdiction="310110001001"), "jurisdiction"),
                       (plan_body("P-1", inspectors="张伟"), "inspectors"),
                       (plan_body("P-1", authority_level="county"), "authority_level"),
                       (plan_body("a/b"), "number"),
                       (plan_body("P-1", colour="red"), "colour"),
                       ({k: v for k, v in plan_body("P-1").items() if k != "number"},
                        "number")):
        refused = api.post(PLANS, bad)
        assert refused.status_code == 400, (bad, refused.json)
        assert refused.json["error"]["field"] == field, (bad, refused.json)

    too_few = api.post(PLANS, plan_body("P-1", inspectors=["张伟"]))
    assert too_few.status_code == 422
    assert too_few.json["error"]["code"] == "two_inspectors_on_site"

    made = api.post(PLANS, plan_body("P-1"))
    assert made.status_code == 201, made.json
    assert made.json["drawn"][0]["identifier"] == code(1)  # one active organization
    assert api.get(f"{PLANS}/P-1", as_="officer").status_code == 403
    assert api.get(f"{PLANS}/P-1", as_="other_staff").status_code == 403


def test_a_plans_results_are_published_once_its_inspections_are_recorded(api, worker):
    """双随机一公开 (issue 16 item 4): refused while a drawn organization has no inspection
    against the plan; then each drawn organization's outcome from its case file; once."""
    populate(api)
    plan = api.post(PLANS, plan_body("2024-GS-001")).json
    publication = f"{PLANS}/2024-GS-001/publication"
    early = api.post(publication, {"effective_date": "2024-03-02"})
    assert early.status_code == 422 and early.json["error"]["code"] == "inspections_not_concluded"
    assert api.post(publication, {}, as_="other_staff").status_code == 403
    assert api.post(f"{PLANS}/2024-GS-404/publication", {}).status_code == 404
    drawn = plan["drawn"]
    assert len(drawn) >= 3, drawn
    for item in drawn:
        organization = f"/api/v1/organizations/{item['identifier']}"
        inspected = api.post(f"{organization}/inspections", {
            "items": ["财务"], "findings": "账目齐全", "on_site": item["on_site"],
            "inspectors": item["inspectors"], "plan_id": "2024-GS-001",
            "effective_date": "2024-04-01"})
        assert inspected.status_code == 200, inspected.json
        if item is not drawn[-1]:  # still some to inspect
            assert api.post(publication, {}).status_code == 422
    first, second = (f"/api/v1/organizations/{drawn[i]['identifier']}" for i in (0, 1))
    assert api.post(f"{first}/rectifications", {
        "notice_number": "GS-N1", "issues": ["账目不清"], "deadline": "2024-06-30",
        "effective_date": "2024-04-02"}).status_code in (200, 201)
    assert api.post(f"{second}/penalties", {
        "decision_number": "GS-P1", "kind": "warning", "legal_basis": "条例第三十条",
        "decision_date": "2024-04-03", "effective_date": "2024-04-03"}).status_code in (200, 201)
    before = api.get(f"{PLANS}/2024-GS-001").json
    assert before["published_on"] is None and before["results"] is None
    public = api.client  # no account: nothing of the plan is public before its publication
    assert public.get("/public/inspections/2024-GS-001").status_code == 404
    assert "2024-GS-001" not in public.get("/public/inspections").get_data(as_text=True)

    published = api.post(publication, {"effective_date": "2024-05-01",
                                       "reason": "2024年第一批抽查结果公示"})
    assert published.status_code == 200, published.json
    results = {r["identifier"]: r for r in published.json["results"]}
    assert published.json["published_on"] == "2024-05-01"
    assert sorted(results) == sorted(item["identifier"] for item in drawn)
    assert results[drawn[0]["identifier"]]["outcome"] == "rectification_ordered"
    assert results[drawn[1]["identifier"]]["outcome"] == "penalty"
    assert all(results[item["identifier"]]["outcome"] == "no_problem_found"
               for item in drawn[2:])
    assert all(r["inspected_on"] == "2024-04-01" and r["name"] for r in results.values())
    again = api.post(publication, {})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_published"
    assert api.get(f"{PLANS}/2024-GS-001").json["results"] == published.json["results"]

    # public from now on: the plan's page, the list of published plans, the open data
    page = public.get("/public/inspections/2024-GS-001").get_data(as_text=True)
    assert "责令整改" in page and "行政处罚" in page and "未发现问题" in page
    assert all(item["identifier"] in page for item in drawn)
    assert all(name not in page for name in INSPECTORS)  # the staff's names stay inside
    listed = ""
    for _ in range(100):  # the list reads the network view, which follows the events
        listed = public.get("/public/inspections").get_data(as_text=True)
        if "2024-GS-001" in listed:
            break
        time.sleep(0.1)
    assert "/public/inspections/2024-GS-001" in listed and "共 1 条" in listed
    from adapters.store.open_data import OpenDataStore

    store = OpenDataStore(api.client.application.extensions["read_models"]["casefiles"]
                          .datastore)
    extract = store.produce(date(2024, 5, 2))
    text = b"".join(store.content(extract.id, "published_inspections.csv")).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["plan"], r["identifier"], r["outcome"]) for r in rows} == {
        ("2024-GS-001", i, r["outcome"]) for i, r in results.items()}
