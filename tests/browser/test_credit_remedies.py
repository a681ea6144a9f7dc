"""Objections (异议) and credit repair (信用修复) in headless Chromium: the organization's
own account files an objection against its penalty from its case file, sees it marked
disputed and waiting in its own queue; the registration staff dismiss it from their work
queue; the organization applies for credit repair of its listing, and the staff approve
it from the queue; the public disclosure shows the listing removed, with the date."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures fail the test with what to do (`make tools`)
    expect = None

from domain.calendar import today_in_china
from tests.browser.conftest import sign_in, sign_out
from tests.support import code, registration


def seed(server) -> None:
    status, body = server.api("POST", "/organizations", registration(
        1, certificate_valid_until="2035-12-31"))
    assert status == 201, body
    org = f"/organizations/{code(1)}"
    status, body = server.api("POST", f"{org}/credit-listings", {
        "list": "abnormal_activity", "reason": "未按时报送年报", "effective_date": "2023-06-01"})
    assert status == 201, body
    status, body = server.api("POST", f"{org}/penalties", {
        "decision_number": "CF1", "kind": "warning", "legal_basis": "条例",
        "decision_date": "2023-07-01", "effective_date": "2023-07-01"})
    assert status == 201, body


def submit(page, lands: str) -> None:
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(lands))


def test_an_objection_dismissed_and_a_credit_repair_approved_from_the_work_queue(
        live_server, page, artifacts):
    seed(live_server)
    base = live_server.url
    case_file = rf"/organizations/{code(1)}$"
    rows = page.locator("main table tr.item")

    # the organization objects to its penalty, from its case file
    sign_in(page, base, "org1", case_file)
    page.locator("main tr", has_text="CF1").get_by_role(
        "link", name="提出异议", exact=True).click()
    page.wait_for_url(re.compile(r"/forms/objections\?entry=penalty&entry_id=CF1"))
    page.locator("main [name=reason]").fill("处罚所依据的事实有误")
    page.locator("main [name=evidence]").fill("现场照片及证人证言")
    artifacts.take(page, "objection-form")
    submit(page, case_file)
    expect(page.locator("main")).to_contain_text("有异议")
    expect(page.locator("#objections + table")).to_contain_text("处理中")
    page.locator("header").get_by_role("link", name="工作台").click()
    page.wait_for_url(re.compile(r"/tasks$"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("等待登记管理机关决定")
    artifacts.take(page, "organization-queue")
    sign_out(page)

    # the staff dismiss it from their work queue
    sign_in(page, base, "staff", r"/tasks$")
    row = page.locator("tr.task-objection")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("CF1")
    artifacts.take(page, "staff-queue-objection")
    row.get_by_role("link", name="驳回", exact=True).click()
    page.wait_for_url(re.compile(r"/objections/OB1/dismissal"))
    page.locator("main [name=reason]").fill("事实清楚，证据确凿")
    submit(page, r"/tasks$")
    expect(page.locator("tr.task-objection")).to_have_count(0)
    sign_out(page)

    # the organization applies for credit repair of its listing
    sign_in(page, base, "org1", case_file)
    expect(page.locator("#objections + table")).to_contain_text("已驳回")
    expect(page.locator("main .flag.disputed")).to_have_count(0)
    page.locator("main tr", has_text="2023-06-01").get_by_role(
        "link", name="申请信用修复", exact=True).click()
    page.wait_for_url(re.compile(r"/forms/credit-repairs\?listing_id=CL1"))
    page.locator("main [name=reason]").fill("已补报年报并完成整改")
    submit(page, case_file)
    expect(page.locator("#credit-repairs + table")).to_contain_text("处理中")
    sign_out(page)

    # the staff approve it from the queue
    sign_in(page, base, "staff", r"/tasks$")
    row = page.locator("tr.task-credit_repair")
    expect(row).to_have_count(1)
    row.get_by_role("link", name="批准", exact=True).click()
    page.wait_for_url(re.compile(r"/credit-repairs/CR1/approval"))
    page.locator("main [name=reason]").fill("整改到位，准予移出")
    submit(page, r"/tasks$")
    expect(page.locator("tr.task-credit_repair")).to_have_count(0)
    sign_out(page)

    # the public disclosure: the listing removed, with the date
    page.goto(f"{base}/public/organizations/{code(1)}")
    listing = page.locator("main tr", has_text="2023-06-01")
    expect(listing).to_contain_text(f"移出日期 {today_in_china().isoformat()}")
    artifacts.take(page, "public-disclosure")
