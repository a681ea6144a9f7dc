"""Reads over HTTP: read-your-writes, search within a jurisdiction, audit trail and its
verification, statistics, time travel."""

from __future__ import annotations

from tests.support import code, registration


def register(api, n: int, **overrides):
    response = api.post("/api/v1/organizations", registration(n, **overrides))
    assert response.status_code == 201, response.json
    return response


def test_a_write_is_visible_in_the_case_file_read_right_after_it(api):
    register(api, 1)
    for year in (2021, 2022, 2023):
        written = api.post(f"{api.org(1)}/annual-reports", {
            "year": year, "income": 1000, "expenditure": 900, "net_assets": 100,
            "activities_held": 3, "party_organization": False,
            "effective_date": f"{year + 1}-03-01"})
        assert written.status_code == 200, written.json
        read = api.get(api.org(1))
        assert read.status_code == 200
        assert "X-Served-From" not in read.headers  # from the read model, not the fallback
        assert read.headers["ETag"] == written.headers["ETag"]
        assert [r["year"] for r in read.json["annual_reports"]][-1] == year
        assert int(read.headers["X-Position"]) >= int(written.headers["X-Position"])
    assert [e["type"] for e in read.json["timeline"]] == ["Registered"] + ["AnnualReportFiled"] * 3


def test_after_position_from_another_client(api):
    written = register(api, 1)
    fresh = api.client.application.test_client()  # no cookie
    read = fresh.get(f"{api.org(1)}?after={written.headers['X-Position']}",
                     headers={"Authorization": f"Bearer {api.tokens['auditor']}"})
    assert read.status_code == 200 and read.json["version"] == 1
    bad = fresh.get(f"{api.org(1)}?after=soon",
                    headers={"Authorization": f"Bearer {api.tokens['auditor']}"})
    assert bad.status_code == 400 and bad.json["error"]["field"] == "after"


def test_search_is_limited_to_the_readers_jurisdiction(api):
    register(api, 1)
    register(api, 2, domicile={"address": "x", "jurisdiction": "310110002001"})
    api.get(api.org(2))  # waits for the worker
    everything = api.get("/api/v1/organizations", as_="staff").json
    assert everything["total"] == 2
    street = api.get("/api/v1/organizations", as_="street").json
    assert [o["identifier"] for o in street["organizations"]] == [code(1)]
    assert api.get("/api/v1/organizations?jurisdiction=310110002000",
                   as_="street").status_code == 403
    assert api.get("/api/v1/organizations?q=协会2", as_="auditor").json["total"] == 1
    assert api.get("/api/v1/organizations", as_="other_staff").json["total"] == 0


def test_audit_trail_and_verification_over_http(api):
    register(api, 1)
    api.post(f"{api.org(1)}/changes", {"changes": {"name": "新名称"},
                                       "approval_date": "2023-01-05",
                                       "effective_date": "2023-01-05", "reason": "更名"})
    api.get(api.org(1))
    trail = api.get(f"{api.org(1)}/audit", as_="auditor").json["entries"]
    change = trail[-1]
    assert change["event_type"] == "Organization.ChangeRegistered"
    assert change["actor_id"] == "staff" and change["reason"] == "更名"
    assert {"field": "name", "before": registration(1)["name"], "after": "新名称"} in change["changes"]
    verified = api.get("/api/v1/audit/verify", as_="auditor")
    assert verified.status_code == 200 and verified.json["ok"] is True
    assert verified.json["head"]["position"] >= change["position"]
    assert api.get("/api/v1/audit/verify", as_="officer").status_code == 403


def test_statistics_over_http(api):
    register(api, 1)
    api.post(f"{api.org(1)}/annual-inspections", {"year": 2021, "result": "unqualified",
                                                  "findings": "no report",
                                                  "effective_date": "2022-07-01"})
    api.get(api.org(1))
    stats = api.get("/api/v1/statistics?jurisdiction=310110000000").json
    assert stats["years"]["2021"]["counts"]["conclusion_unqualified"] == 1
    assert stats["years"]["2021"]["inspection_pass_rates"]["unqualified"] == 1.0
    assert api.get("/api/v1/statistics?jurisdiction=310230000000").status_code == 403


def test_time_travel_over_http(api):
    register(api, 1)
    api.post(f"{api.org(1)}/changes", {"changes": {"name": "新名称"},
                                       "approval_date": "2023-01-05",
                                       "effective_date": "2023-01-05"})
    then = api.get(f"{api.org(1)}?as_of=2022-12-31").json
    assert then["name"] == registration(1)["name"] and then["as_of"] == "2022-12-31"
    assert api.get(f"{api.org(1)}?as_of=2023-01-05").json["name"] == "新名称"
    known = api.get(f"{api.org(1)}?known_at=2000-01-01T00:00:00Z")
    assert known.status_code == 404
    assert api.get(f"{api.org(1)}?as_of=2023-02-30").status_code == 400
    # only the documented form: the case file and its warnings read the day alike
    assert api.get(f"{api.org(1)}?as_of=20230105").status_code == 400


def test_the_event_history_comes_a_page_at_a_time(api):
    register(api, 1)
    for n in range(11):
        assert api.post(f"{api.org(1)}/interviews", {
            "person_name": "张某", "person_role": "秘书长", "topics": [f"议题{n}"],
            "effective_date": "2023-03-01"}).status_code == 200
    everything = api.get(f"{api.org(1)}/events").json
    assert [e["version"] for e in everything["events"]] == list(range(1, 13))
    assert everything["next"] is None and everything["version"] == 12

    pages, query = [], "?limit=5"
    while query:
        page = api.get(f"{api.org(1)}/events{query}", as_="auditor").json
        pages.append([e["version"] for e in page["events"]])
        query = page["next"]
    assert pages == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]
    assert api.get(f"{api.org(1)}/events?after_version=12").json["events"] == []

    for bad in ("limit=0", "limit=5001", "limit=ten", "after_version=-1"):
        response = api.get(f"{api.org(1)}/events?{bad}")
        assert response.status_code == 400, bad
        assert response.json["error"]["field"] == bad.split("=")[0]
