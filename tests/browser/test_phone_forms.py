"""On a phone (390 px wide), in headless Chromium: an information officer raises a
warning from the warnings inbox, choosing the organization by its name among those of
its residents' committee (never another's), has every missing field refused at once next
to its field, then sees the confirmation of what was recorded; no page scrolls sideways
and the form's fields take the screen's width. Screenshots in var/test-artifacts/browser/."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures fail the test with what to do (`make tools`)
    expect = None

from tests.browser.conftest import PASSWORD
from tests.support import OTHER_COMMITTEE, code, registration

PHONE = {"width": 390, "height": 844}
MINE = "杨浦区示例志愿者协会1"
THEIRS = "延吉新村睦邻互助会"
TITLE = "疑似停止活动"


def no_sideways_scrolling(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: the page is {width} px wide"


def test_an_officer_raises_a_warning_on_a_phone(live_server, page, artifacts):
    status, body = live_server.api("POST", "/organizations", registration(1))
    assert status == 201, body
    status, body = live_server.api("POST", "/organizations", registration(
        2, name=THEIRS, domicile={"address": "示例路9号", "jurisdiction": OTHER_COMMITTEE}))
    assert status == 201, body
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/signin")
    no_sideways_scrolling(page)
    page.get_by_label("用户名").fill("officer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/signin" not in url)  # its landing page
    no_sideways_scrolling(page)
    artifacts.take(page, "phone-landing")
    page.locator("header").get_by_role("link", name="预警", exact=True).click()
    page.wait_for_url(re.compile(r"/warnings"))
    no_sideways_scrolling(page)
    page.get_by_role("link", name="发起预警").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("发起预警")
    no_sideways_scrolling(page)
    picker = page.get_by_label("社会组织")
    # the fields take the width of the screen (less the page's margins)
    box = picker.bounding_box()
    assert box["width"] >= PHONE["width"] - 40 and box["x"] + box["width"] <= PHONE["width"]
    # the organizations offered: the committee's, not another committee's
    offered = page.locator("#l-organization option")
    expect(offered).to_have_count(1)
    assert offered.first.get_attribute("value") == code(1)
    assert offered.first.text_content() == MINE
    assert THEIRS not in page.content()
    # every missing field refused at once, each next to its field
    picker.fill("示例志愿者协会1")
    page.get_by_label("级别").select_option("medium")
    page.get_by_role("button", name="录入").click()
    expect(page.locator("#e-title")).to_have_text("标题为必填项。")
    expect(page.locator("#e-description")).to_have_text("情况描述为必填项。")
    expect(page.locator(".error-summary")).to_contain_text("2 处需要更正")
    expect(page.get_by_label("社会组织")).to_have_value("示例志愿者协会1")
    no_sideways_scrolling(page)
    artifacts.take(page, "phone-warning-refused")
    # chosen by its name, recorded and confirmed
    page.get_by_label("来源").select_option("information_officer")
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("情况描述").fill("居民反映该组织长期无活动")
    artifacts.take(page, "phone-warning-form")
    page.get_by_role("button", name="录入").click()
    page.wait_for_url(re.compile(r"/warnings"))
    expect(page.get_by_role("status")).to_have_text(f"已录入：发起预警（{TITLE}）。")
    expect(page.locator("main table").first).to_contain_text(TITLE)
    no_sideways_scrolling(page)
    artifacts.take(page, "phone-warning-recorded")
    # the case file on the phone: its tables scroll inside themselves
    page.goto(f"{live_server.url}/organizations/{code(1)}")
    expect(page.locator("main")).to_contain_text(TITLE)
    no_sideways_scrolling(page)
    artifacts.take(page, "phone-casefile")


def test_the_staff_pages_fit_a_phone(live_server, page, artifacts):
    """Every page of the staff's navigation, and a form of each kind, at 390 px: nothing
    scrolls sideways (a wide table scrolls inside itself)."""
    status, body = live_server.api("POST", "/organizations", registration(1))
    assert status == 201, body
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/signin")
    page.get_by_label("用户名").fill("staff")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/signin" not in url)
    paths = {link.get_attribute("href") for link in page.locator("header a").all()}
    paths |= {"/organizations?q=协会", f"/organizations/{code(1)}",
              f"/organizations/{code(1)}/audit", "/forms/organizations",
              f"/organizations/{code(1)}/forms/leaders",
              f"/organizations/{code(1)}/forms/annual-reports",
              f"/organizations/{code(1)}/forms/major-events", "/forms/inspection-plans"}
    for path in sorted(p for p in paths if p and p.startswith("/") and "lang=" not in p):
        page.goto(live_server.url + path)
        no_sideways_scrolling(page)
    artifacts.take(page, "phone-plan-form")


def test_the_picker_searches_beyond_the_organizations_listed(live_server, page,
                                                             monkeypatch):
    """Where the scope holds more organizations than the page lists, the picker's script
    asks the register search (of the user's scope) as a name is typed."""
    monkeypatch.setattr("adapters.web.pickers.LISTED", 1)
    for n, name in ((1, MINE), (2, "杨浦区书画艺术研究会")):
        status, body = live_server.api("POST", "/organizations", registration(n, name=name))
        assert status == 201, body
    page.goto(f"{live_server.url}/signin")
    page.get_by_label("用户名").fill("staff")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/signin" not in url)
    page.goto(f"{live_server.url}/forms/warnings")
    expect(page.locator("#l-organization option")).to_have_count(1)
    page.get_by_label("社会组织").press_sequentially("书画", delay=50)
    expect(page.locator(f"#l-organization option[value='{code(2)}']")).to_have_text(
        "杨浦区书画艺术研究会")
