"""Objections (异议) and credit repair (信用修复) over HTTP (issue 16 items 2 and 3): the
organization's own account files, the registration staff of its jurisdiction decide; each
decision changes exactly what it should on the case file and the public disclosure (the
entry marked disputed while its objection is pending, not after); an objection past its
deadline waits in the queue and the daily clock warns of it; a premature repair is
refused naming the rule and the date; and the refusals record nothing."""

from __future__ import annotations

from datetime import date, timedelta

from domain.calendar import today_in_china, working_days_after
from tests.support import code, registration

ORG = "/api/v1/organizations"


def setup(api, n: int = 1) -> str:
    """An organization on the abnormal-activity list (CL1), with a warning penalty (CF1)
    and a concluded annual inspection for 2021."""
    assert api.post(ORG, registration(n)).status_code == 201
    path = api.org(n)
    assert api.post(f"{path}/credit-listings", {"list": "abnormal_activity",
                                                "reason": "未按时报送年报",
                                                "effective_date": "2023-06-01"}
                    ).status_code == 201
    assert api.post(f"{path}/penalties", {
        "decision_number": "CF1", "kind": "warning", "legal_basis": "条例",
        "decision_date": "2023-07-01", "effective_date": "2023-07-01"}).status_code == 201
    assert api.post(f"{path}/annual-reports", {
        "year": 2021, "income": 1000, "expenditure": 900, "net_assets": 100,
        "activities_held": 3, "party_organization": False, "effective_date": "2022-03-01"}
    ).status_code == 200
    assert api.post(f"{path}/annual-inspections", {
        "year": 2021, "result": "basically_qualified", "findings": "账目不清",
        "effective_date": "2022-05-01"}).status_code == 200
    return path


def case(api, path: str) -> dict:
    return api.get(path).json


def public(api, n: int = 1) -> dict:
    return api.client.get(f"/public/organizations/{code(n)}?format=json").json


def public_page(api, n: int = 1) -> str:
    return api.client.get(f"/public/organizations/{code(n)}").get_data(as_text=True)


def types(document: dict) -> list[str]:
    return [e["type"] for e in document["timeline"]]


def test_an_upheld_objection_removes_the_listing_and_the_disputed_mark(api):
    path = setup(api)
    filed = api.post(f"{path}/objections", {"entry": "credit_listing", "entry_id": "CL1",
                                            "reason": "已按时报送，系统未登记",
                                            "evidence": "邮寄回执 EMS123"}, as_="org1")
    assert filed.status_code == 201, filed.json
    assert filed.json["id"] == "OB1"
    objection = filed.json["organization"]["objections"][0]
    assert objection["status"] == "pending" and objection["evidence"] == "邮寄回执 EMS123"
    assert [c["disputed"] for c in public(api)["credit_listings"]] == [True]
    assert [p["disputed"] for p in public(api)["penalties"]] == [False]
    assert 'class="flag disputed"' in public_page(api)
    assert 'class="flag disputed"' in api.client.get(
        f"/organizations/{code(1)}", headers={"Authorization": f"Bearer {api.tokens['staff']}"}
    ).get_data(as_text=True)
    before = case(api, path)
    upheld = api.post(f"{path}/objections/OB1/upholding", {"reason": "核实回执，撤销列入"})
    assert upheld.status_code == 200, upheld.json
    after = case(api, path)
    assert after["credit_listings"][0]["removed_on"] == today_in_china().isoformat()
    assert after["objections"][0]["status"] == "upheld"
    assert after["objections"][0]["decision"]["reason"] == "核实回执，撤销列入"
    assert after["penalties"] == before["penalties"]  # nothing else changes
    assert after["annual_inspections"] == before["annual_inspections"]
    assert types(after)[-2:] == ["CreditListingRemoved", "ObjectionUpheld"]
    listed = public(api)["credit_listings"]
    assert listed == [{"list": "abnormal_activity", "listed_on": "2023-06-01",
                       "removed_on": today_in_china().isoformat(), "disputed": False}]
    assert 'class="flag disputed"' not in public_page(api)
    # deciding twice: refused, nothing recorded
    again = api.post(f"{path}/objections/OB1/dismissal", {"reason": "x"})
    assert again.status_code == 422 and again.json["error"]["code"] == "objection_decided"
    assert case(api, path)["version"] == after["version"]


def test_a_dismissed_objection_changes_only_itself(api):
    path = setup(api)
    assert api.post(f"{path}/objections", {"entry": "penalty", "entry_id": "CF1",
                                           "reason": "处罚过重"}, as_="org1").status_code == 201
    assert [p["disputed"] for p in public(api)["penalties"]] == [True]
    before = case(api, path)
    dismissed = api.post(f"{path}/objections/OB1/dismissal", {"reason": "事实清楚，证据确凿"})
    assert dismissed.status_code == 200, dismissed.json
    after = case(api, path)
    assert after["penalties"] == before["penalties"] and not after["penalties"][0]["rescinded"]
    assert after["credit_listings"] == before["credit_listings"]
    assert after["objections"][0]["status"] == "dismissed"
    assert types(after)[-1] == "ObjectionDismissed"
    assert public(api)["penalties"][0] == {"decision_number": "CF1", "kind": "warning",
                                           "decision_date": "2023-07-01",
                                           "rescinded": False, "disputed": False}


def test_an_upheld_objection_corrects_a_conclusion(api):
    path = setup(api)
    assert api.post(f"{path}/objections", {"entry": "annual_inspection", "entry_id": "2021",
                                           "reason": "账目已补正"}, as_="org1").status_code == 201
    assert public(api)["conclusions"][0]["disputed"] is True
    missing = api.post(f"{path}/objections/OB1/upholding", {"reason": "核实"})
    assert missing.status_code == 400 and missing.json["error"]["field"] == "result"
    upheld = api.post(f"{path}/objections/OB1/upholding",
                      {"reason": "核实", "result": "qualified"})
    assert upheld.status_code == 200, upheld.json
    assert public(api)["conclusions"] == [{"year": 2021, "result": "qualified",
                                           "disputed": False}]
    assert types(case(api, path))[-2:] == ["AnnualInspectionCorrected", "ObjectionUpheld"]


def test_refusals_record_nothing(api):
    path = setup(api)
    other = setup(api, 2)
    version = case(api, path)["version"]
    body = {"entry": "credit_listing", "entry_id": "CL1", "reason": "有误"}
    assert api.post(f"{path}/objections", body).status_code == 403  # staff do not file
    assert api.post(f"{other}/objections", body, as_="org1").status_code in (403, 404)
    assert api.post(f"{path}/objections", {**body, "entry_id": "CL9"},
                    as_="org1").status_code == 404
    assert api.post(f"{path}/objections", {**body, "reason": None},
                    as_="org1").status_code == 400
    assert api.post(f"{path}/credit-repairs", {"listing_id": "CL1", "reason": "已整改"}
                    ).status_code == 403
    assert case(api, path)["version"] == version
    assert api.post(f"{path}/objections", body, as_="org1").status_code == 201
    assert api.post(f"{path}/objections", body, as_="org1").status_code == 409  # one pending
    version = case(api, path)["version"]
    assert api.post(f"{path}/objections/OB1/upholding", {"reason": "x"},
                    as_="org1").status_code == 403  # the organization does not decide
    assert api.post(f"{path}/objections/OB1/upholding", {"reason": "x"},
                    as_="other_staff").status_code in (403, 404)  # another district
    assert api.post(f"{path}/objections/OB1/dismissal", {}).status_code == 400  # no reason
    assert api.post(f"{path}/objections/OB7/dismissal", {"reason": "x"}).status_code == 404
    assert case(api, path)["version"] == version


def test_an_objection_past_its_deadline_waits_in_the_queue_and_raises_a_warning(
        api, pg_app, postgres_env):
    from adapters.runtime.clock import clock_tick

    path = setup(api)
    today = today_in_china()
    filed_on = (today - timedelta(days=40)).isoformat()
    assert api.post(f"{path}/objections", {"entry": "penalty", "entry_id": "CF1",
                                           "reason": "有误", "effective_date": filed_on},
                    as_="org1").status_code == 201
    queue = api.get("/api/v1/tasks?kind=objection").json
    [item] = queue["tasks"]
    assert item["kind"] == "objection" and item["overdue"] and item["entry_id"] == "CF1"
    assert queue["overdue"]["objection"] == 1
    assert item["deadline"] < today.isoformat()
    assert api.get("/api/v1/tasks?kind=objection", as_="other_staff").json["tasks"] == []
    mine = api.get("/api/v1/tasks", as_="org1").json  # the organization sees its own
    assert [(t["kind"], t["entry_id"]) for t in mine["tasks"]] == [("objection", "CF1")]
    assert clock_tick(postgres_env, today) == [today]
    head = pg_app.recorder.max_notification_id()
    warnings = api.get(f"/api/v1/warnings?jurisdiction=310110000000&after={head}"
                       ).json["warnings"]
    raised = [w for w in warnings if (w.get("rule") or "").startswith("rule:credit_objection")]
    assert len(raised) == 1 and raised[0]["organization"] == code(1)
    # once decided it leaves both queues
    assert api.post(f"{path}/objections/OB1/dismissal", {"reason": "证据不足"}).status_code == 200
    assert api.get("/api/v1/tasks?kind=objection").json["tasks"] == []
    assert api.get("/api/v1/tasks", as_="org1").json["tasks"] == []


def test_a_credit_repair_approved_removes_the_listing_with_its_date(api):
    path = setup(api)
    applied = api.post(f"{path}/credit-repairs", {"listing_id": "CL1",
                                                  "reason": "已补报年报", "evidence": "年报回执"},
                       as_="org1")
    assert applied.status_code == 201, applied.json
    assert applied.json["id"] == "CR1"
    [item] = api.get("/api/v1/tasks?kind=credit_repair").json["tasks"]
    assert item["listing_id"] == "CL1" and item["list"] == "abnormal_activity"
    # decided within rule 2's removal period (5 working days), which a district may change;
    # the timeliness rule (recording credit information) is not what sets it
    applied_on = date.fromisoformat(item["since"])
    assert item["deadline"] == working_days_after(applied_on, 5).isoformat()
    for rule, parameters in (("abnormal_activity_listing", {"removal_working_days": 12}),
                             ("timeliness", {"working_days": 30})):
        changed = api.client.put(f"/api/v1/rules/{rule}", json={
            "parameters": parameters, "jurisdiction": "310110000000", "reason": "试行"},
            headers=api.headers("staff", None))
        assert changed.status_code == 200, changed.json
    [item] = api.get("/api/v1/tasks?kind=credit_repair").json["tasks"]
    assert item["deadline"] == working_days_after(applied_on, 12).isoformat()
    approved = api.post(f"{path}/credit-repairs/CR1/approval", {"reason": "整改到位"})
    assert approved.status_code == 200, approved.json
    after = case(api, path)
    assert after["repair_applications"][0]["status"] == "approved"
    assert types(after)[-2:] == ["CreditListingRemoved", "CreditRepairApproved"]
    today = today_in_china().isoformat()
    assert public(api)["credit_listings"][0]["removed_on"] == today
    assert "2023" in public_page(api)  # the listing is still shown, as removed
    assert api.post(f"{path}/credit-repairs/CR1/refusal", {"reason": "x"}).status_code == 422
    assert api.get("/api/v1/tasks?kind=credit_repair").json["tasks"] == []


def test_a_credit_repair_refused_as_premature_names_the_rule_and_the_date(api):
    path = setup(api)
    listed_on = (today_in_china() - timedelta(days=30)).isoformat()
    assert api.post(f"{path}/credit-listings", {"list": "serious_dishonesty",
                                                "reason": "罚款五万元以上",
                                                "effective_date": listed_on}
                    ).status_code == 201
    version = case(api, path)["version"]
    refused = api.post(f"{path}/credit-repairs", {"listing_id": "CL2", "reason": "已整改"},
                       as_="org1")
    assert refused.status_code == 422
    error = refused.json["error"]
    assert error["code"] == "removal_premature"
    assert "serious_dishonesty_listing" in error["message"]
    possible = today_in_china() - timedelta(days=30)
    assert f"possible from {possible.replace(year=possible.year + 2)}" in error["message"]
    assert case(api, path)["version"] == version
    # the abnormal-activity listing, with an open rectification: once it is completed
    assert api.post(f"{path}/rectifications", {
        "notice_number": "ZG1", "issues": ["补报年报"],
        "deadline": (today_in_china() + timedelta(days=30)).isoformat()}).status_code == 200
    premature = api.post(f"{path}/credit-repairs", {"listing_id": "CL1", "reason": "已整改"},
                         as_="org1")
    assert premature.status_code == 422
    assert "rectification ZG1" in premature.json["error"]["message"]


def test_an_objection_s_evidence_documents_are_recorded_with_it(api):
    """The organization attaches its evidence (a document, through the command's meta, as
    every command may); the staff who decide read it."""
    path = setup(api)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    uploaded = api.post("/api/v1/documents", as_="org1", data=pdf,
                        content_type="application/pdf")
    assert uploaded.status_code == 201, uploaded.get_json()
    sha256 = uploaded.get_json()["sha256"]
    filed = api.post(f"{path}/objections", {
        "entry": "credit_listing", "entry_id": "CL1", "reason": "已按时报送",
        "evidence": "邮寄回执", "documents": [{"sha256": sha256, "name": "回执.pdf"}]},
        as_="org1")
    assert filed.status_code == 201, filed.json
    events = api.get(f"{path}/events").json["events"]
    recorded = next(e for e in events if e["type"] == "ObjectionFiled")
    assert [d["sha256"] for d in recorded["meta"]["documents"]] == [sha256]
    got = api.get(f"{path}/documents/{sha256}")
    assert got.status_code == 200 and got.data == pdf
