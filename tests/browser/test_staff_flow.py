"""A member of the registration staff in headless Chromium, through the pages as a user
sees them: sign in, find an organization, look at its case file in the past, record a
rectification notice (after the server refused an impossible deadline, its message in
Chinese next to the field), see the district's
figures, sign out. Every step leaves a screenshot in var/test-artifacts/browser/.

The assertions are on what the page shows (texts, where an error appears), in Chinese,
the pages' default language.
"""

from __future__ import annotations

import re
import time

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures fail the test with what to do (`make tools`)
    expect = None

from tests.browser.conftest import PASSWORD
from tests.support import DISTRICT, code, registration

NAME = "杨浦区示例志愿者协会1"
OTHER_NAME = "杨浦区书画艺术研究会"
LATER_EVENT = "2024年度会员代表大会暨换届选举"
NOTICE = "杨民社整〔2024〕9号"


def seed(server) -> None:
    """Two organizations registered early in 2024 (the first with a major event reported
    in June), through the JSON API with the staff member's token."""
    status, body = server.api("PUT", f"/network/{DISTRICT}", {"name": "杨浦区"})
    assert status in (200, 201), body
    status, body = server.api("POST", "/organizations",
                              registration(1, effective_date="2024-01-10"))
    assert status == 201, body
    status, body = server.api("POST", "/organizations", registration(
        2, name=OTHER_NAME, effective_date="2024-01-15"))
    assert status == 201, body
    status, body = server.api("POST", f"/organizations/{code(1)}/major-events", {
        "category": "meeting_or_election", "planned_date": "2024-08-20",
        "description": LATER_EVENT, "sent_to": ["registration_authority"],
        "effective_date": "2024-06-01"})
    assert status == 201, body


def test_staff_flow(live_server, page, artifacts):
    """Sign in, search, open the case file, go back to 1 March 2024, have a deadline
    refused and then record the notice, see the district's figures, sign out."""
    started = time.monotonic()
    seed(live_server)
    base = live_server.url

    # Signing in: the home page sends a visitor to the sign-in form.
    page.goto(f"{base}/")
    page.wait_for_url(re.compile(r"/signin"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("用户名").fill("staff")
    page.get_by_label("密码").fill(PASSWORD)
    artifacts.take(page, "signin")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/tasks$"))  # staff land on their work queue
    expect(page.locator("header")).to_contain_text("staff · 登记管理机关")  # the role in words

    # Searching by name and opening the case file from the results.
    page.locator("header").get_by_role("link", name="社会组织").click()
    page.wait_for_url(re.compile(r"/organizations$"))
    page.get_by_placeholder("名称或统一社会信用代码").fill("志愿者协会")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(r"/organizations\?q="))
    expect(page.get_by_text("共 1 条")).to_be_visible()
    results = page.locator("main table")
    expect(results).to_contain_text(NAME)
    expect(results).not_to_contain_text(OTHER_NAME)
    artifacts.take(page, "search-results")
    results.get_by_role("row").filter(has_text=NAME).get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/organizations/{code(1)}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)
    expect(page.locator("main")).to_contain_text(LATER_EVENT)  # reported in June 2024
    artifacts.take(page, "casefile-now")

    # Time travel: in effect on 1 March 2024 the June report is not there yet.
    page.get_by_label("生效日期").fill("2024-03-01")
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(re.compile(r"as_of=2024-03-01"))
    expect(page.get_by_role("status")).to_have_text("显示 2024-03-01 生效的案卷")
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)
    expect(page.locator("main")).not_to_contain_text(LATER_EVENT)
    artifacts.take(page, "casefile-as-of-2024-03-01")
    page.get_by_role("link", name="当前", exact=True).click()
    page.wait_for_url(re.compile(rf"/organizations/{code(1)}\??$"))
    expect(page.locator("main")).to_contain_text(LATER_EVENT)

    # The rectification form: an impossible deadline (before the notice takes effect) is
    # refused by the server, with its message next to the deadline field.
    page.get_by_role("link", name="责令整改", exact=True).click()
    page.wait_for_url(re.compile(rf"/organizations/{code(1)}/forms/rectifications$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("责令整改")  # labels in Chinese
    page.get_by_label("通知书文号").fill(NOTICE)
    page.get_by_label("存在问题").fill("财务制度不健全\n未按期换届")
    page.get_by_label("整改期限").fill("2024-01-20")
    page.get_by_label("生效日期").fill("2024-02-01")
    page.get_by_label("原因").fill("年检发现问题")
    artifacts.take(page, "rectification-form")
    page.get_by_role("button", name="录入").click()
    message = page.locator("#f-deadline + .field-error")
    expect(message).to_have_text("整改期限须晚于该决定的生效日期。")  # the server's, translated
    field, below = page.get_by_label("整改期限").bounding_box(), \
        page.locator("label[for='f-effective_date']").bounding_box()
    shown = message.bounding_box()
    assert field["y"] < shown["y"] < below["y"], (field, shown, below)  # between the two
    expect(page.get_by_role("alert")).to_have_count(1)  # and nowhere else
    expect(page.get_by_label("通知书文号")).to_have_value(NOTICE)  # nothing is lost
    artifacts.take(page, "rectification-refused")

    page.get_by_label("整改期限").fill("2024-03-30")
    page.get_by_role("button", name="录入").click()
    page.wait_for_url(re.compile(rf"/organizations/{code(1)}$"))
    expect(page.get_by_role("heading", name="整改", exact=True)).to_be_visible()
    row = page.locator("main table tr").filter(has_text=NOTICE)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("2024-03-30")
    expect(row).to_contain_text("财务制度不健全、未按期换届")
    artifacts.take(page, "casefile-with-rectification")

    # The district's dashboard: two organizations in 310110000000.
    page.locator("header").get_by_role("link", name="预警网络").click()
    page.wait_for_url(re.compile(rf"/network/{DISTRICT}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("杨浦区")
    expect(page.get_by_role("heading", level=1)).to_contain_text(DISTRICT)
    figures = page.locator("main .card")
    expect(figures.filter(has_text="社会组织")).to_have_text(re.compile(r"社会组织\s*2$"))
    expect(figures.filter(has_text="在办预警")).to_have_text(re.compile(r"在办预警\s*0$"))
    # the rectification just recorded shows on the dashboard, and drills down to the case
    expect(figures.filter(has_text="整改中")).to_have_text(re.compile(r"整改中\s*1$"))
    expect(page.get_by_role("heading", name="下级节点", exact=True)).to_be_visible()
    artifacts.take(page, "network-dashboard-figures")
    figures.filter(has_text="整改中").get_by_role("link").click()
    expect(page.locator("main table")).to_contain_text(code(1))
    page.go_back()
    artifacts.take(page, "network-dashboard")

    # Signing out ends the session: the pages send the visitor back to the sign-in form.
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/signin$"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.locator("header")).not_to_contain_text("staff")
    page.goto(f"{base}/organizations/{code(1)}")
    page.wait_for_url(re.compile(r"/signin\?next="))
    artifacts.take(page, "signed-out")
    assert time.monotonic() - started < 60
