"""The annual report's number of full-time staff (AnnualReportFiled v2, issue 17) over
HTTP: optional in the body (absent or null: not reported), a whole number of 0 or more
(else 400 next to the field, nothing recorded), on the case file, in the history, in the
statistics, and on the page form with its Chinese label."""

from __future__ import annotations

import pytest

from tests.e2e.test_bad_input import ok, report
from tests.e2e.test_pages import csrf, sign_in
from tests.support import code, registration


def reports_of(api) -> dict[int, dict]:
    return {r["year"]: r for r in api.get(api.org(1)).json["annual_reports"]}


def test_filed_given_and_not_given(api):
    ok(api.post("/api/v1/organizations", registration(1, effective_date="2020-05-01")))
    ok(api.post(f"{api.org(1)}/annual-reports", report(2021, full_time_staff=7)), 200)
    ok(api.post(f"{api.org(1)}/annual-reports", report(2022)), 200)
    ok(api.post(f"{api.org(1)}/annual-reports", report(2023, full_time_staff=None)), 200)
    reports = reports_of(api)
    assert [reports[y]["full_time_staff"] for y in (2021, 2022, 2023)] == [7, None, None]
    events = api.get(f"{api.org(1)}/events").json["events"]
    assert [e["data"]["full_time_staff"] for e in events
            if e["type"] == "AnnualReportFiled"] == [7, None, None]
    years = api.get("/api/v1/statistics?jurisdiction=310110000000").json["years"]
    assert years["2021"]["counts"]["full_time_staff"] == 7
    assert years["2021"]["counts"]["annual_report_with_staff"] == 1
    assert "full_time_staff" not in years["2022"]["counts"]
    assert years["2022"]["counts"]["annual_report"] == 1


@pytest.mark.parametrize("value, message", [(-1, "between 0 and"), ("7", "whole number"),
                                            (2.5, "whole number"), (True, "whole number")])
def test_a_bad_number_is_refused_and_records_nothing(api, value, message):
    ok(api.post("/api/v1/organizations", registration(1, effective_date="2020-05-01")))
    refused = api.post(f"{api.org(1)}/annual-reports", report(2021, full_time_staff=value))
    assert refused.status_code == 400, refused.json
    assert refused.json["error"]["field"] == "full_time_staff"
    assert message in refused.json["error"]["message"]
    assert reports_of(api) == {}


def test_the_page_form_has_the_field_with_its_label(api):
    ok(api.post("/api/v1/organizations", registration(1, effective_date="2020-05-01")))
    client = api.client.application.test_client()
    sign_in(client)
    form = client.get(f"/organizations/{code(1)}/forms/annual-reports")
    assert form.status_code == 200
    assert 'name="full_time_staff"' in form.text and "专职工作人员数" in form.text
    fields = {"csrf_token": csrf(form.text), "year": "2021", "income": "100000",
              "expenditure": "80000", "net_assets": "20000", "activities_held": "6",
              "effective_date": "2022-04-01"}
    refused = client.post(f"/organizations/{code(1)}/forms/annual-reports",
                          data={**fields, "full_time_staff": "-3"})
    assert refused.status_code == 400 and "专职工作人员数须在 0 至 1000000 之间" in refused.text
    filed = client.post(f"/organizations/{code(1)}/forms/annual-reports",
                        data={**fields, "full_time_staff": "5"})
    assert filed.status_code in (200, 302), filed.text
    assert reports_of(api)[2021]["full_time_staff"] == 5
    assert "Full-time staff" in client.get(
        f"/organizations/{code(1)}/forms/annual-reports?lang=en").text
