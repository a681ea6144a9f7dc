"""The online annual report over HTTP (issue 16 item 1): the organization drafts, saves
and submits its report; its supervisory unit finds it in its work queue and returns it
with comments; the organization sees them (its queue, its case file), corrects and
resubmits; the unit approves, and the report reaches the registration authority as
filed, where staff conclude it from their queue. A directly registered organization's
submission is filed at once. A wrong role, another unit, another organization or a step
out of order answers 4xx and records nothing."""

from __future__ import annotations

import pytest

from domain.calendar import today_in_china
from tests.conftest import meta
from tests.e2e.test_casefile_pdf import pdf_text
from tests.support import SUPERVISORY_UNIT, code, registration

OTHER_UNIT = "杨浦区体育局"
YEAR = today_in_china().year - 1


def draft(**changed) -> dict:
    return {"year": YEAR, "income": 100000, "expenditure": 80000, "net_assets": 20000,
            "activities_held": 6, "party_organization": True, "full_time_staff": 3,
            **changed}


def tasks(api, as_: str, kind: str) -> list[dict]:
    head = api.client.application.config["CASEFILES"].recorder.max_notification_id()
    answer = api.get(f"/api/v1/tasks?after={head}", as_=as_)
    assert answer.status_code == 200, answer.json
    return [t for t in answer.json["tasks"] if t["kind"] == kind]


def stage(api, n: int = 1, as_: str = "staff") -> dict | None:
    reviews = api.get(api.org(n), as_=as_).json.get("annual_report_reviews", [])
    return next((r for r in reviews if r["year"] == YEAR), None)


@pytest.fixture
def accounts(api, pg_app):
    for username, role, jurisdiction, organization in (
            ("org2", "organization", None, code(2)),
            ("other_unit", "supervisory_unit", "310110000000", OTHER_UNIT)):
        pg_app.open_account(username=username, password="correct horse battery",
                            display_name=username, role=role, jurisdiction=jurisdiction,
                            organization=organization, meta=meta("2020-01-01"))
        api.tokens[username] = pg_app.issue_token(username, meta("2020-01-01"))
    assert api.post("/api/v1/organizations", registration(
        1, supervisory_unit=SUPERVISORY_UNIT)).status_code == 201
    assert api.post("/api/v1/organizations", registration(2)).status_code == 201  # direct
    return api


def post(api, path: str, body=None, as_="org1", n: int = 1):
    return api.post(f"{api.org(n)}/{path}", body or {}, as_=as_)


def test_drafted_returned_resubmitted_approved_and_concluded(accounts):
    api = accounts
    assert post(api, "annual-report-drafts", draft(income=90000)).status_code == 200
    saved = post(api, "annual-report-drafts", draft(), as_="org1")  # replaces the draft
    assert saved.status_code == 200, saved.json
    assert stage(api)["stage"] == "draft" and stage(api)["report"]["income"] == 100000
    assert [t["year"] for t in tasks(api, "org1", "annual_report_draft")] == [YEAR]
    assert tasks(api, "supervisor", "annual_report_review") == []

    submitted = post(api, f"annual-reports/{YEAR}/submission", as_="org1")
    assert submitted.status_code == 200, submitted.json
    waiting = tasks(api, "supervisor", "annual_report_review")
    assert [(t["organization"]["identifier"], t["year"]) for t in waiting] == [(code(1), YEAR)]
    assert waiting[0]["deadline"] == f"{YEAR + 1}-03-31"
    assert tasks(api, "other_unit", "annual_report_review") == []
    assert tasks(api, "org1", "annual_report_draft") == []

    returned = post(api, f"annual-reports/{YEAR}/return",
                    {"comments": "净资产与审计报告不符", "reason": "初审"}, as_="supervisor")
    assert returned.status_code == 200, returned.json
    mine = tasks(api, "org1", "annual_report_draft")
    assert mine[0]["stage"] == "returned" and mine[0]["comments"] == "净资产与审计报告不符"
    assert stage(api, as_="org1")["returned"][0]["comments"] == "净资产与审计报告不符"

    assert post(api, "annual-report-drafts", draft(net_assets=25000)).status_code == 200
    assert post(api, f"annual-reports/{YEAR}/submission").status_code == 200
    approved = post(api, f"annual-reports/{YEAR}/approval", as_="supervisor")
    assert approved.status_code == 200, approved.json
    document = approved.json["organization"]
    assert [(r["year"], r["net_assets"], r["full_time_staff"])
            for r in document["annual_reports"]] == [(YEAR, 25000, 3)]
    assert document["annual_report_reviews"][0]["stage"] == "approved"
    assert [h["step"] for h in document["annual_report_reviews"][0]["history"]] == [
        "saved", "saved", "submitted", "returned", "saved", "submitted", "approved"]
    assert tasks(api, "supervisor", "annual_report_review") == []

    # the registration authority's queue: filed, not concluded, as for any filed report
    staff = tasks(api, "staff", "annual_report")
    assert [(t["organization"]["identifier"], t["year"]) for t in staff] == [(code(1), YEAR)]
    concluded = api.post(f"{api.org(1)}/annual-inspections",
                         {"year": YEAR, "result": "qualified", "findings": "材料齐全"})
    assert concluded.status_code == 200, concluded.json
    assert stage(api)["stage"] == "concluded"
    events = [e["type"] for e in api.get(f"{api.org(1)}/events").json["events"]]
    assert events[-5:] == ["AnnualReportDraftSaved", "AnnualReportSubmitted",
                           "AnnualReportApproved", "AnnualReportFiled",
                           "AnnualInspectionConcluded"]
    assert events.count("AnnualReportFiled") == 1
    # the printed case file shows the year's stage and history too
    printed = pdf_text(api.get(f"{api.org(1)}/pdf"))
    assert "网上年度工作报告" in printed and "净资产与审计报告不符" in printed


def test_a_directly_registered_organization_files_at_submission(accounts):
    api = accounts
    assert post(api, "annual-report-drafts", draft(), as_="org2", n=2).status_code == 200
    filed = post(api, f"annual-reports/{YEAR}/submission", as_="org2", n=2)
    assert filed.status_code == 200, filed.json
    assert filed.json["organization"]["annual_report_reviews"][0]["stage"] == "filed"
    assert [r["year"] for r in filed.json["organization"]["annual_reports"]] == [YEAR]
    assert code(2) in [t["organization"]["identifier"] for t in tasks(api, "staff",
                                                                       "annual_report")]


def refused(api, path, body, as_, status, n=1) -> None:
    before = api.get(api.org(n)).json["version"]
    answer = post(api, path, body, as_=as_, n=n)
    assert answer.status_code == status, (path, as_, answer.json)
    assert api.get(api.org(n)).json["version"] == before  # nothing recorded


def test_wrong_role_other_unit_other_organization_and_out_of_order(accounts):
    api = accounts
    # out of order: nothing to submit, nothing submitted to review
    refused(api, f"annual-reports/{YEAR}/submission", {}, "org1", 422)
    refused(api, f"annual-reports/{YEAR}/approval", {}, "supervisor", 422)
    assert post(api, "annual-report-drafts", draft()).status_code == 200
    refused(api, f"annual-reports/{YEAR}/return", {"comments": "x"}, "supervisor", 422)
    # the wrong role: staff neither draft nor pre-review; the unit does not draft
    refused(api, "annual-report-drafts", draft(), "staff", 403)
    refused(api, "annual-report-drafts", draft(), "supervisor", 403)
    # another organization's account, another unit
    refused(api, "annual-report-drafts", draft(), "org2", 403)
    refused(api, f"annual-reports/{YEAR}/submission", {}, "org2", 403)
    assert post(api, f"annual-reports/{YEAR}/submission").status_code == 200
    refused(api, f"annual-reports/{YEAR}/submission", {}, "org1", 422)  # twice
    refused(api, "annual-report-drafts", draft(), "org1", 422)          # under review
    refused(api, f"annual-reports/{YEAR}/approval", {}, "other_unit", 403)
    refused(api, f"annual-reports/{YEAR}/return", {"comments": "x"}, "staff", 403)
    refused(api, f"annual-reports/{YEAR}/approval", {}, "org1", 403)
    refused(api, f"annual-reports/{YEAR}/return", {}, "supervisor", 400)  # no comments
    assert post(api, f"annual-reports/{YEAR}/approval", as_="supervisor").status_code == 200
    refused(api, f"annual-reports/{YEAR}/approval", {}, "supervisor", 422)  # twice
    refused(api, f"annual-reports/{YEAR}/return", {"comments": "x"}, "supervisor", 422)


def test_the_pages_offer_each_reader_its_own_steps(accounts):
    """The annual-reports page and the case file: the organization may edit and submit
    its draft, its supervisory unit approve or return what was submitted; another
    organization's account sees neither page."""
    from tests.e2e.test_pages import sign_in

    api = accounts
    assert post(api, "annual-report-drafts", draft()).status_code == 200
    clients = {}
    for user in ("org1", "supervisor", "org2"):
        clients[user] = api.client.application.test_client()
        sign_in(clients[user], user)
    reports = f"/organizations/{code(1)}/annual-reports"
    own = clients["org1"].get(reports)
    assert own.status_code == 200 and "草稿，尚未报送" in own.text
    assert "/forms/annual-report-drafts?" in own.text and "income=100000" in own.text
    assert f"/forms/annual-reports/{YEAR}/submission" in own.text
    assert f"/forms/annual-reports/{YEAR}/approval" not in own.text
    assert clients["org2"].get(reports).status_code == 403
    assert post(api, f"annual-reports/{YEAR}/submission").status_code == 200
    api.get(api.org(1))  # the read models have caught up
    for path in (reports, f"/organizations/{code(1)}"):
        unit = clients["supervisor"].get(path)
        assert unit.status_code == 200, path
        assert f"/forms/annual-reports/{YEAR}/approval" in unit.text
        assert f"/forms/annual-reports/{YEAR}/return" in unit.text
        assert "已报送，待业务主管单位初审" in unit.text
        assert f"/forms/annual-reports/{YEAR}/submission" not in unit.text
    english = clients["org1"].get(f"{reports}?lang=en")
    assert "Submitted, awaiting the supervisory unit" in english.text


def test_the_audit_trail_says_each_step_in_words(accounts):
    from tests.e2e.test_pages import sign_in

    api = accounts
    assert post(api, "annual-report-drafts", draft()).status_code == 200
    assert post(api, f"annual-reports/{YEAR}/submission").status_code == 200
    assert post(api, f"annual-reports/{YEAR}/return", {"comments": "请补充"},
                as_="supervisor").status_code == 200
    api.get(api.org(1))  # the read models have caught up
    client = api.client.application.test_client()
    sign_in(client)
    trail = client.get(f"/organizations/{code(1)}/audit")
    assert trail.status_code == 200
    for words in ("年度工作报告草稿已保存", "年度工作报告已报送", "年度工作报告被退回修改",
                  "已退回修改", "请补充"):
        assert words in trail.text, words
    for code_ in (">returned<", ">submitted<", ">draft<", "annual_report_reviews"):
        assert code_ not in trail.text, code_
