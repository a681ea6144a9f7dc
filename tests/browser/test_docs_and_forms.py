"""In headless Chromium: the interactive API docs send a request with a token and show
the answer; an information officer raises a warning through its page form (a command
beyond the organization's own), after the server refused an empty title, and sees it in
the warnings inbox. Screenshots in var/test-artifacts/browser/."""

from __future__ import annotations

import json
import re

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures fail the test with what to do (`make tools`)
    expect = None

from tests.browser.conftest import PASSWORD
from tests.support import code, registration


def test_interactive_docs_send_a_request(live_server, page, artifacts):
    status, body = live_server.api("POST", "/organizations", registration(1))
    assert status == 201, body
    page.goto(f"{live_server.url}/docs?lang=en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("API")
    page.get_by_label("API token").fill(live_server.tokens["staff"])
    operation = page.locator("details[data-method='GET'][data-path='/api/v1/organizations']")
    operation.locator("summary").click()
    operation.get_by_label("query").fill("limit=5")
    artifacts.take(page, "docs-before-send")
    operation.get_by_role("button", name="Send").click()
    expect(operation.get_by_role("status")).to_have_text(re.compile(r"^200\b"))
    answer = json.loads(operation.locator("pre.out").text_content())
    assert [o["identifier"] for o in answer["organizations"]] == [code(1)]
    artifacts.take(page, "docs-200")
    # without the token the API refuses it, and the page says so
    page.get_by_label("API token").fill("")
    operation.get_by_role("button", name="Send").click()
    expect(operation.get_by_role("status")).to_have_text(re.compile(r"^401\b"))
    # a POST with the prefilled example body reaches the API's validation
    page.get_by_label("API token").fill(live_server.tokens["staff"])
    penalties = page.locator("details[data-path='/api/v1/organizations/{code}/penalties']")
    penalties.locator("summary").click()
    assert json.loads(penalties.locator("textarea.body").input_value())["kind"] == "warning"
    penalties.get_by_label("code").fill(code(1))
    penalties.get_by_role("button", name="Send").click()
    expect(penalties.get_by_role("status")).to_have_text(re.compile(r"^\d{3}\b"))
    artifacts.take(page, "docs-post")


def test_an_officer_raises_a_warning_through_its_form(live_server, page, artifacts):
    status, body = live_server.api("POST", "/organizations", registration(1))
    assert status == 201, body
    page.goto(f"{live_server.url}/signin")
    page.get_by_label("用户名").fill("officer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server.url}/organizations/{code(1)}")
    page.get_by_role("link", name="对该组织发起预警").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("发起预警")
    expect(page.get_by_label("社会组织")).to_have_value(code(1))
    page.get_by_label("级别").select_option("medium")
    page.get_by_label("情况描述").fill("居民反映该组织长期无活动")
    page.get_by_role("button", name="录入").click()
    expect(page.locator("#f-title + .field-error")).to_have_text("标题为必填项。")
    artifacts.take(page, "warning-refused")
    page.get_by_label("标题").fill("疑似停止活动")
    page.get_by_role("button", name="录入").click()
    page.wait_for_url(re.compile(rf"/organizations/{code(1)}$"))
    expect(page.locator("#warnings ~ table").first).to_contain_text("疑似停止活动")
    artifacts.take(page, "warning-on-casefile")
    page.locator("header").get_by_role("link", name="预警", exact=True).click()
    expect(page.locator("main table").first).to_contain_text("疑似停止活动")
    artifacts.take(page, "warnings-inbox")
