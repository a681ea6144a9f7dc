"""The early-warning network over HTTP: officers raise and handle warnings in their own
committee, the network view rolls figures up and drills down, staff change rules and
decide proposals."""

from __future__ import annotations

from datetime import date

from tests.support import code, registration


def register(api, n: int, committee: str = "310110001001"):
    body = registration(n, domicile={"address": "x", "jurisdiction": committee})
    assert api.post("/api/v1/organizations", body).status_code == 201


def test_an_officer_raises_and_handles_a_warning_in_their_committee(api):
    register(api, 1)
    register(api, 2, "310110002001")
    raised = api.post("/api/v1/warnings", {
        "organization": code(1), "severity": "high", "source": "information_officer",
        "title": "场所异常", "description": "夜间聚集"}, as_="officer")
    assert raised.status_code == 201, raised.json
    warning = raised.json
    assert warning["level"] == "committee" and warning["node"] == "310110001001"
    outside = api.post("/api/v1/warnings", {
        "organization": code(2), "severity": "low", "source": "tip_off", "title": "t",
        "description": "d"}, as_="officer")
    assert outside.status_code == 403
    assert api.post("/api/v1/warnings", {"organization": code(1), "severity": "urgent",
                                         "source": "tip_off", "title": "t",
                                         "description": "d"}, as_="officer").status_code == 400
    inbox = api.get("/api/v1/warnings?status=open", as_="officer").json
    assert [w["warning_id"] for w in inbox["warnings"]] == [warning["id"]]
    acknowledged = api.post(f"/api/v1/warnings/{warning['id']}/acknowledgement", {},
                            as_="officer")
    assert acknowledged.status_code == 200 and acknowledged.json["status"] == "acknowledged"
    assert api.post(f"/api/v1/warnings/{warning['id']}/resolution", {},
                    as_="officer").status_code == 400
    resolved = api.post(f"/api/v1/warnings/{warning['id']}/resolution", {"note": "已处理"},
                        as_="officer")
    assert resolved.json["status"] == "resolved"
    node = api.get("/api/v1/network/310110000000", as_="staff").json
    assert node["figures"]["warnings_active"] == 0 and node["figures"]["organizations"] == 2


def test_the_network_view_rolls_up_and_drills_down(api):
    register(api, 1)
    register(api, 2, "310110001002")
    register(api, 3, "310110002001")
    for n in (1, 3):
        api.post("/api/v1/warnings", {"organization": code(n), "severity": "medium",
                                      "source": "tip_off", "title": "t", "description": "d"})
    api.post(f"{api.org(2)}/credit-listings", {"list": "abnormal_activity", "reason": "失联"})
    district = api.get("/api/v1/network/310110000000").json
    children = {c["code"]: c["figures"] for c in district["children"]}
    assert set(children) == {"310110001000", "310110002000"}
    for figure, total in district["figures"].items():
        assert total == sum(c[figure] for c in children.values()), figure
    assert children["310110001000"]["warnings_medium"] == 1
    assert children["310110001000"]["credit_listed"] == 1
    street = api.get("/api/v1/network/310110001000", as_="street").json
    assert {c["code"] for c in street["children"]} == {"310110001001", "310110001002"}
    assert api.get("/api/v1/network/310110002000", as_="street").status_code == 403
    drill = api.get("/api/v1/network/310110000000/organizations?flag=credit_listed").json
    assert [o["identifier"] for o in drill["organizations"]] == [code(2)]
    assert api.get("/api/v1/network/310110000000/organizations?flag=x").status_code == 400
    month = date.today().strftime("%Y-%m")
    assert sum(district["trend"].values()) == 2 and month in district["trend"]


def test_rules_as_data_and_proposals_over_http(api, pg_app, postgres_env):
    register(api, 1)
    rules = {r["name"]: r for r in api.get("/api/v1/rules").json["rules"]}
    assert rules["warning_escalation"]["parameters"] == {"committee_days": 3,
                                                         "sub_district_days": 7}
    changed = api.client.put("/api/v1/rules/warning_escalation",
                      json={"parameters": {"committee_days": 2}, "reason": "试点",
                            "jurisdiction": "310110000000"},
                      headers={"Authorization": f"Bearer {api.tokens['staff']}"})
    assert changed.status_code == 200 and changed.json["version"] == 2
    refused = api.client.put("/api/v1/rules/warning_escalation",
                             json={"parameters": {"committee_days": 2}, "reason": "x"},
                             headers={"Authorization": f"Bearer {api.tokens['officer']}"})
    assert refused.status_code == 403
    bad = api.client.put("/api/v1/rules/warning_escalation",
                         json={"parameters": {"committee_days": "soon"}, "reason": "x",
                               "jurisdiction": "310110000000"},
                         headers={"Authorization": f"Bearer {api.tokens['staff']}"})
    assert bad.status_code == 422  # a rule's parameters are its own (the document's body
    assert bad.json["error"]["code"] == "parameter_type"  # cannot say them per rule)
    api.post(f"{api.org(1)}/penalties", {"decision_number": "P1", "kind": "warning",
                                         "legal_basis": "条例", "decision_date": "2024-03-01",
                                         "effective_date": "2024-03-01"})
    from services.rules import RulesEngine

    RulesEngine(pg_app).process_pending()
    api.get(api.org(1))
    head = pg_app.recorder.max_notification_id()  # the proposal, recorded by the engine
    proposals = api.get(f"/api/v1/proposals?status=proposed&after={head}").json["proposals"]
    assert len(proposals) == 1 and proposals[0]["rule"] == "rule:abnormal_activity_listing@v1"
    pid = proposals[0]["proposal_id"]
    assert api.post(f"/api/v1/proposals/{pid}/confirmation", {}, as_="officer").status_code == 403
    confirmed = api.post(f"/api/v1/proposals/{pid}/confirmation", {"reason": "核实"})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    case = api.get(api.org(1)).json
    assert [c["list"] for c in case["credit_listings"]] == ["abnormal_activity"]
    assert api.post(f"/api/v1/proposals/{pid}/rejection", {"reason": "x"}).status_code == 422


def test_a_case_file_shows_its_latest_warnings_and_links_to_all_of_them(api):
    """The case file asks for its own organization's warnings (not the first page of its
    committee's, where they may be missing) and pages its timeline; the warnings list
    filters by organization."""
    from datetime import timedelta

    from tests.demo_site import Page
    from tests.e2e.test_pages import sign_in

    register(api, 1)
    register(api, 2)
    for n in range(23):
        assert api.post("/api/v1/warnings", {
            "organization": code(1), "severity": "low", "source": "tip_off",
            "title": f"线索{n}", "description": "d"}, as_="officer").status_code == 201
    api.post("/api/v1/warnings", {"organization": code(2), "severity": "high",
                                  "source": "tip_off", "title": "别家", "description": "d"})
    one = api.get(f"/api/v1/warnings?organization={code(1)}&limit=5", as_="staff").json
    assert one["total"] == 23 and len(one["warnings"]) == 5
    assert {w["organization"] for w in one["warnings"]} == {code(1)}
    assert api.get(f"/api/v1/warnings?organization={code(2)}").json["total"] == 1
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert api.get(f"/api/v1/warnings?organization={code(1)}&raised_until={yesterday}"
                   ).json["total"] == 0
    for bad in ("raised_until=2024-13-01", "raised_until=soon", f"organization={'9' * 65}"):
        answer = api.get(f"/api/v1/warnings?{bad}")
        assert answer.status_code == 400 and answer.json["error"]["field"] == bad.split("=")[0]

    client = api.client.application.test_client()
    sign_in(client, "staff")
    html = client.get(f"/organizations/{code(1)}").get_data(as_text=True)
    assert "共 23 条，显示最近 20 条" in html and html.count("线索") == 20
    link = f"/warnings?organization={code(1)}&status=all"
    assert link in Page(html, "zh").links
    listed = Page(client.get(link).get_data(as_text=True), "zh")
    assert listed.pager["total"] == 23 and listed.rows == 23
    assert listed.rel == {} and all(code(1) in (i or "") for i in listed.items)

    api.post(f"{api.org(1)}/credit-listings", {"list": "abnormal_activity", "reason": "失联"})
    timeline = api.get(f"{api.org(1)}").json["timeline"]
    assert len(timeline) >= 2
    paged = Page(client.get(f"/organizations/{code(1)}?limit=1").get_data(as_text=True), "zh")
    assert paged.pager == {"total": len(timeline), "offset": 0, "limit": 1}
    assert "offset=1" in paged.rel["next"] and "limit=1" in paged.rel["next"]
    assert client.get(f"/organizations/{code(1)}?limit=0").status_code == 400
