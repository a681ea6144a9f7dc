"""The online annual report in headless Chromium (issue 16, "Done when"): an organization
drafts its report, saves it, edits and saves it again, and submits it; its supervisory
unit finds it in its work queue and returns it with comments; the organization sees the
comments in its queue and on its annual-reports page, corrects the draft and resubmits;
the supervisory unit approves it; the registration staff conclude the inspection from
their work queue, and the case file shows the year's report concluded, with its history.
Screenshots of each step go to var/test-artifacts/browser/."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures fail the test with what to do (`make tools`)
    expect = None

from domain.calendar import today_in_china
from tests.browser.conftest import sign_in, sign_out
from tests.support import SUPERVISORY_UNIT, code, registration

YEAR = today_in_china().year - 1
COMMENTS = "净资产与审计报告不符，请核实后重新报送"


def record(page, back: str) -> None:
    """Record the form and come back (the form's ``next``)."""
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(back))


def fill_draft(page, income: str, net_assets: str) -> None:
    page.locator("main [name=income]").fill(income)
    page.locator("main [name=expenditure]").fill("80000")
    page.locator("main [name=net_assets]").fill(net_assets)
    page.locator("main [name=activities_held]").fill("6")


def test_drafted_returned_resubmitted_approved_and_concluded(live_server, pg_app, page,
                                                             artifacts):
    status, body = live_server.api("POST", "/organizations", registration(
        1, supervisory_unit=SUPERVISORY_UNIT, certificate_valid_until="2035-12-31"))
    assert status == 201, body
    base, reports = live_server.url, rf"/organizations/{code(1)}/annual-reports$"
    year_row = page.locator(f"tr.report-year[data-year='{YEAR}']")

    # the organization: drafts, saves, edits and saves again, submits
    sign_in(page, base, "org1", rf"/organizations/{code(1)}$")
    page.locator("header").get_by_role("link", name="年度工作报告").click()
    page.wait_for_url(re.compile(reports))
    expect(year_row).to_contain_text("尚未填报")
    year_row.get_by_role("link", name="开始填报").click()
    expect(page.locator("main [name=year]")).to_have_value(str(YEAR))
    fill_draft(page, "90000", "20000")
    artifacts.take(page, "org-draft-form")
    record(page, reports)
    expect(year_row).to_have_attribute("data-stage", "draft")
    expect(year_row).to_contain_text("草稿，尚未报送")
    year_row.get_by_role("link", name="修改草稿").click()
    expect(page.locator("main [name=income]")).to_have_value("90000")  # the saved draft
    page.locator("main [name=income]").fill("100000")
    record(page, reports)
    expect(year_row).to_contain_text("100,000")
    year_row.get_by_role("link", name="报送").click()
    record(page, reports)
    expect(year_row).to_have_attribute("data-stage", "submitted")
    expect(year_row).to_contain_text("待业务主管单位初审")
    artifacts.take(page, "org-submitted")
    sign_out(page)

    # the supervisory unit: finds it in its queue and returns it with comments
    sign_in(page, base, "supervisor", r"/tasks$")
    task = page.locator("tr.task-annual_report_review")
    expect(task).to_have_count(1)
    expect(task).to_contain_text(f"{YEAR + 1}-03-31")  # the rule's supervisory_unit_deadline
    artifacts.take(page, "unit-queue")
    task.get_by_role("link", name="退回修改").click()
    page.locator("main [name=comments]").fill(COMMENTS)
    record(page, r"/tasks$")
    expect(task).to_have_count(0)
    sign_out(page)

    # the organization: sees the comments, corrects the draft and resubmits
    sign_in(page, base, "org1", rf"/organizations/{code(1)}$")
    page.locator("header").get_by_role("link", name="工作台").click()
    mine = page.locator("tr.task-annual_report_draft")
    expect(mine).to_contain_text(COMMENTS)
    expect(mine).to_contain_text("已退回修改")
    artifacts.take(page, "org-queue-returned")
    mine.get_by_role("link", name="修改", exact=True).click()
    page.wait_for_url(re.compile(reports))
    expect(year_row).to_contain_text(COMMENTS)
    year_row.get_by_role("link", name="修改草稿").click()
    expect(page.locator("main [name=income]")).to_have_value("100000")
    page.locator("main [name=net_assets]").fill("25000")
    record(page, reports)
    year_row.get_by_role("link", name="报送").click()
    record(page, reports)
    expect(year_row).to_have_attribute("data-stage", "submitted")
    sign_out(page)

    # the supervisory unit approves it: it reaches the registration authority
    sign_in(page, base, "supervisor", r"/tasks$")
    task.get_by_role("link", name="初审同意").click()
    record(page, r"/tasks$")
    expect(task).to_have_count(0)
    sign_out(page)

    # the registration staff conclude it from their queue
    sign_in(page, base, "staff", r"/tasks$")
    filed = page.locator("tr.task-annual_report")
    expect(filed).to_have_count(1)
    filed.get_by_role("link", name="作出结论", exact=True).click()
    page.wait_for_url(re.compile(r"/forms/annual-inspections\?year="))
    page.locator("main [name=result]").select_option("qualified")
    page.locator("main [name=findings]").fill("材料齐全")
    record(page, r"/tasks$")
    expect(filed).to_have_count(0)

    # the case file: the year's report concluded, with its history
    page.goto(f"{base}/organizations/{code(1)}")
    online = page.locator(f"tr.online-report[data-year='{YEAR}']")
    expect(online).to_have_attribute("data-stage", "concluded")
    expect(online).to_contain_text("作出年检结论")
    expect(online.locator("ul.history li")).to_have_count(7)
    expect(online).to_contain_text(COMMENTS)
    expect(page.locator("#filings + table")).to_contain_text("合格")
    artifacts.take(page, "casefile-concluded")
