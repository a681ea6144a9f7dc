"""The work queue (工作台) in headless Chromium: a member of the registration staff lands
on it, sees what waits with its deadline and the counts per kind, and handles one item of
each kind from it (confirms a proposal, concludes an annual report, reviews a major-event
report, completes a rectification), each leaving the queue; an information officer lands
on its own queue, opens the warning's page, acknowledges it and resolves it, and sees the
warning's history and the queue empty. The queue's screenshot is saved as
var/test-artifacts/tasks.png."""

from __future__ import annotations

import re
from datetime import timedelta

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures fail the test with what to do (`make tools`)
    expect = None

from domain.calendar import today_in_china
from domain.network import Proposal
from tests.browser.conftest import STEP_TIMEOUT_MS, sign_in
from tests.conftest import ROOT, meta
from tests.support import COMMITTEE, code, registration

NAME = "杨浦区示例志愿者协会1"
NOTICE = "杨民社整〔2026〕7号"
SCREENSHOT = ROOT / "var" / "test-artifacts" / "tasks.png"


def seed(server, pg_app) -> dict:
    """One organization with one item of each kind waiting: a warning an officer
    raised, a proposed listing, last year's annual report, a major-event report, a
    rectification due tomorrow."""
    today = today_in_china()
    status, body = server.api("POST", "/organizations", registration(
        1, certificate_valid_until="2035-12-31"))
    assert status == 201, body
    org = f"/organizations/{code(1)}"
    status, warning = server.api("POST", "/warnings", {
        "organization": code(1), "severity": "high", "source": "information_officer",
        "title": "场所异常", "description": "夜间聚集",
        "effective_date": (today - timedelta(days=300)).isoformat()}, as_="officer")
    assert status == 201, warning
    status, body = server.api("POST", f"{org}/annual-reports", {
        "year": today.year - 1, "income": 1000, "expenditure": 900, "net_assets": 100,
        "activities_held": 3, "party_organization": False})
    assert status == 200, body
    status, body = server.api("POST", f"{org}/major-events", {
        "category": "important_activity", "description": "社区志愿服务嘉年华",
        "planned_date": (today + timedelta(days=30)).isoformat(),
        "sent_to": ["registration_authority"]})
    assert status == 201, body
    status, body = server.api("POST", f"{org}/rectifications", {
        "notice_number": NOTICE, "issues": ["建立财务制度"],
        "deadline": (today + timedelta(days=1)).isoformat()})
    assert status == 200, body
    proposal = Proposal.propose(key="browser:1", kind="listing", organization=code(1),
                                jurisdiction=COMMITTEE, credit_list="abnormal_activity",
                                listing_id=None, year=None, reason="失联", rule="rule:x@v1",
                                meta=meta(today.isoformat()))
    pg_app.save(proposal)
    head = pg_app.recorder.max_notification_id()
    status, tasks = server.api("GET", f"/tasks?after={head}")  # the views have caught up
    assert status == 200 and tasks["total"] == 5, tasks
    return {"warning": warning["id"]}


def submit(page) -> None:
    """Record the form and come back to the queue (the form's ``next``)."""
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/tasks$"))


def test_the_work_queue_as_staff_and_as_an_information_officer(live_server, pg_app, page,
                                                               artifacts):
    made = seed(live_server, pg_app)
    base = live_server.url
    rows = page.locator("main table tr.item")

    sign_in(page, base, "staff")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(rows).to_have_count(5)
    for kind in ("warning", "proposal", "annual_report", "major_event", "rectification"):
        expect(page.locator(f"#count-{kind} b")).to_have_text("1")
    # the warning raised 300 days ago is past its escalation deadline (3 days) by more
    # than last year's annual report is past its deadline (31 May): it comes first
    expect(rows.first).to_have_class(re.compile(r"task-warning.*overdue"))
    expect(rows.first).to_contain_text("已逾期")
    expect(rows.first).to_contain_text(NAME)
    expect(rows.first).to_contain_text(code(1))
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True, timeout=STEP_TIMEOUT_MS)
    artifacts.take(page, "staff-queue")

    # a proposal: confirmed
    page.locator("tr.task-proposal").get_by_role("link", name="确认", exact=True).click()
    page.wait_for_url(re.compile(r"/forms/proposals/.*/confirmation"))
    submit(page)
    expect(page.locator("tr.task-proposal")).to_have_count(0)
    expect(rows).to_have_count(4)

    # an annual report: concluded (the year comes filled in)
    page.locator("tr.task-annual_report").get_by_role("link", name="作出结论", exact=True).click()
    page.wait_for_url(re.compile(r"/forms/annual-inspections\?year="))
    expect(page.locator("main [name=year]")).to_have_value(str(today_in_china().year - 1))
    page.locator("main [name=result]").select_option("qualified")
    page.locator("main [name=findings]").fill("材料齐全")
    artifacts.take(page, "staff-conclusion-form")
    submit(page)
    expect(page.locator("tr.task-annual_report")).to_have_count(0)

    # a major-event report: reviewed
    page.locator("tr.task-major_event").get_by_role("link", name="审查", exact=True).click()
    page.wait_for_url(re.compile(r"/major-events/.*/review"))
    page.locator("main [name=opinion]").fill("同意举办，注意安全")
    page.locator("main [name=risk_level]").select_option("low")
    submit(page)
    expect(page.locator("tr.task-major_event")).to_have_count(0)

    # a rectification due tomorrow: completed
    row = page.locator("tr.task-rectification")
    expect(row).to_contain_text(NOTICE)
    expect(row).to_contain_text("还剩 1 天")
    row.get_by_role("link", name="完成", exact=True).click()
    page.wait_for_url(re.compile(r"/rectifications/.*/completion"))
    page.locator("main [name=note]").fill("已建立财务制度")
    submit(page)
    expect(page.locator("tr.task-rectification")).to_have_count(0)
    expect(rows).to_have_count(1)  # the warning waits for the officer
    artifacts.take(page, "staff-queue-handled")

    # the case file's filings table shows the report concluded
    page.goto(f"{base}/organizations/{code(1)}")
    expect(page.locator("#filings + table")).to_contain_text("合格")
    page.get_by_role("button", name="退出").click()

    # an information officer: its committee's warning, handled from its own page
    sign_in(page, base, "officer")
    expect(rows).to_have_count(1)
    expect(page.locator("main nav.counts .card")).to_have_count(2)  # everything, warnings
    page.locator("tr.task-warning").get_by_role("link", name="处理", exact=True).click()
    page.wait_for_url(re.compile(rf"/warnings/{made['warning']}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("场所异常")
    history = page.locator("#history tr.item")
    expect(history).to_have_count(1)
    page.locator("form[action$='/acknowledgement'] button").click()
    page.wait_for_url(re.compile(rf"/warnings/{made['warning']}$"))
    expect(history).to_have_count(2)
    expect(history.nth(1)).to_contain_text("officer")
    page.locator("form[action$='/resolution'] textarea[name=note]").fill("已核实，已劝散")
    page.locator("form[action$='/resolution'] button").click()
    page.wait_for_url(re.compile(rf"/warnings/{made['warning']}$"))
    expect(history).to_have_count(3)
    expect(page.locator("main")).to_contain_text("已核实，已劝散")
    artifacts.take(page, "warning-history")
    page.locator("header").get_by_role("link", name="工作台").click()
    page.wait_for_url(re.compile(r"/tasks$"))
    expect(rows).to_have_count(0)
    artifacts.take(page, "officer-queue-empty")
