"""双随机一公开 in headless Chromium (issue 16 item 4): a plan whose drawn organizations are
all inspected is not public; the staff member publishes its results from the plan's page;
then the public (signed out) finds the plan in the list of published results and each
drawn organization with its outcome."""

from __future__ import annotations

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures fail the test with what to do (`make tools`)
    expect = None

from tests.browser.conftest import sign_in, sign_out
from tests.support import DISTRICT, registration

NUMBER = "GS-B1"


def seed(server) -> list[dict]:
    for n in (1, 2, 3):
        status, body = server.api("POST", "/organizations", registration(n))
        assert status == 201, body
    status, plan = server.api("POST", "/inspection-plans", {
        "number": NUMBER, "jurisdiction": DISTRICT, "seed": 11, "inspectors": ["甲", "乙"]})
    assert status == 201, plan
    for item in plan["drawn"]:
        status, body = server.api("POST", f"/organizations/{item['identifier']}/inspections", {
            "items": ["财务"], "findings": "账目齐全", "on_site": item["on_site"],
            "inspectors": item["inspectors"], "plan_id": NUMBER})
        assert status == 200, body
    return plan["drawn"]


def test_staff_publish_a_plans_results_and_the_public_sees_them(live_server, page,
                                                                 artifacts):
    drawn = seed(live_server)
    base = live_server.url
    assert page.goto(f"{base}/public/inspections/{NUMBER}").status == 404  # not yet
    page.goto(f"{base}/public/inspections")
    expect(page.locator("main")).to_contain_text("尚未公示任何抽查结果")

    sign_in(page, base, "staff")
    page.goto(f"{base}/inspection-plans/{NUMBER}")
    page.get_by_role("link", name="公示抽查结果").click()
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(rf"/inspection-plans/{NUMBER}$"))
    expect(page.locator("#results")).to_be_visible()
    expect(page.locator("main")).to_contain_text("已录入：公示抽查结果")  # the confirmation
    sign_out(page)

    for _ in range(50):  # the list follows the network view, which follows the events
        page.goto(f"{base}/public/inspections")
        if page.get_by_role("link", name=NUMBER).count():
            break
        page.wait_for_timeout(200)
    page.get_by_role("link", name=NUMBER).click()
    page.wait_for_url(re.compile(rf"/public/inspections/{NUMBER}$"))
    results = page.locator("tr.result")
    expect(results).to_have_count(len(drawn))
    for item in drawn:
        expect(page.locator("main")).to_contain_text(item["identifier"])
    expect(results.first).to_contain_text("未发现问题")
    expect(page.locator("main")).not_to_contain_text("甲")  # no inspectors' names
    artifacts.take(page, "published-inspection")
