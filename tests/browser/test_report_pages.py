"""The pages of issue 14 item 4 in headless Chromium, on the demo district: the staff
member opens this year's inspection plan from the navigation, the statistics and a
rule's history. Screenshots (PNG) of each are saved as test artifacts in
var/test-artifacts/browser/ (report_pages-NN-<step>.png)."""

from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures fail the test with what to do (`make tools`)
    expect = None

from tests.demo_site import open_demo_site


@pytest.fixture(scope="module")
def demo(database_url):
    yield from open_demo_site(database_url)


@pytest.fixture
def demo_url(demo):
    httpd = make_server("127.0.0.1", 0, demo.web, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def test_report_pages(demo, demo_url, page, artifacts):
    page.goto(f"{demo_url}/signin")
    page.get_by_label("用户名").fill("demo-staff")
    page.get_by_label("密码").fill(demo.passwords["demo-staff"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/network/"))

    # The plans, from the navigation; the district's plan of this year.
    page.locator("header").get_by_role("link", name="抽查计划").click()
    page.wait_for_url(re.compile(r"/inspection-plans$"))
    expect(page.get_by_text("共 2 条")).to_be_visible()
    artifacts.take(page, "plans")
    page.locator("main table").get_by_role("link", name=re.compile(r"SJ-01$")).click()
    page.wait_for_url(re.compile(r"/inspection-plans/[0-9]{4}-SJ-01$"))
    expect(page.locator("#verification")).to_contain_text("已核验")
    expect(page.locator("main")).to_contain_text("抽中的社会组织")
    expect(page.locator("tr.drawn").first).to_be_visible()
    shot = artifacts.take(page, "plan")
    assert shot.stat().st_size > 10_000

    # The statistics: a chart and a table for each figure, with the exports.
    page.locator("header").get_by_role("link", name="统计").click()
    page.wait_for_url(re.compile(r"/statistics$"))
    expect(page.locator("section#inspections svg")).to_be_visible()
    expect(page.locator("section#inspections table")).to_contain_text("合格率")
    expect(page.locator("section#registrations")).to_contain_text("注销")
    assert page.locator("main svg").count() >= 5
    shot = artifacts.take(page, "statistics")
    assert shot.stat().st_size > 10_000
    with page.expect_download() as download:
        page.locator("section#inspections").get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.endswith("-inspections.csv")

    # A rule and its history, and its form.
    page.goto(f"{demo_url}/rules/certificate_expiry")
    expect(page.locator("table.history")).to_contain_text("90 → 120")
    artifacts.take(page, "rule")
    page.get_by_role("link", name="修改本规则").click()
    expect(page.get_by_label("临期提示天数")).to_have_value("90")
    artifacts.take(page, "rule-form")
