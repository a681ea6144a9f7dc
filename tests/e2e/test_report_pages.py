"""The pages that stopped at the API (issue 14, item 4): inspection plans, statistics and
the rules with their history, on the demo district, as each role reads them: what a
reader checks (totals, figures that equal the demo's own counts, exports that equal the
page's tables), and that nobody sees beyond their jurisdiction."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote

import pytest

from tests.demo_site import Page, open_demo_site

DISTRICT = "310110000000"
OTHER_DISTRICT = "310120000000"


@pytest.fixture(scope="module")
def site(database_url):
    yield from open_demo_site(database_url)


def api(site, who: str, path: str):
    return site.web.test_client().get(
        path, headers={"Authorization": f"Bearer {site.tokens[who]}"})


def text_of(html: str, lang: str) -> str:
    return " ".join(Page(html, lang).texts)


def other_district_staff(site):
    """Registration staff of another district (not in the demo), signed in."""
    from tests.support import post_signin
    from domain.meta import Meta
    import uuid
    from datetime import date
    username = "staff-elsewhere"
    try:
        site.casefiles.get_account(username)
    except Exception:
        site.casefiles.open_account(
            username=username, password="correct horse battery elsewhere",
            display_name="另一区登记管理机关", role="registration_staff",
            jurisdiction=OTHER_DISTRICT, organization=None,
            meta=Meta(actor_id="test", actor_role="admin", effective_date=date.today(),
                      correlation_id=str(uuid.uuid4()), reason="test"))
    client = site.web.test_client()
    client.set_cookie("lang", "en")
    answer = post_signin(client, {"username": username, "next": "/",
                                  "password": "correct horse battery elsewhere"})
    assert answer.status_code == 302, answer.text
    return client


# --------------------------------------------------------------- inspection plans

def test_the_plans_list_and_a_plan_page_show_the_draw_and_its_inspections(site):
    listed = api(site, "demo-staff", "/api/v1/inspection-plans")
    assert listed.status_code == 200, listed.text
    plans = listed.json["plans"]
    assert listed.json["total"] == len(plans) == 2
    district = next(p for p in plans if p["jurisdiction"] == DISTRICT)
    number = district["number"]
    one = api(site, "demo-staff", f"/api/v1/inspection-plans/{quote(number)}").json
    assert one["verified"] is True
    assert district["population"] == one["counts"]["population"]
    assert district["drawn"] == one["counts"]["drawn"] == len(one["drawn"])

    for lang in ("zh", "en"):
        client = site.client("demo-staff", lang)
        html = client.get("/inspection-plans").get_data(as_text=True)
        page = Page(html, lang)
        assert page.pager["total"] == 2 and page.rows == 2
        assert f"/inspection-plans/{number}" in page.links
        answer = client.get(f"/inspection-plans/{quote(number)}")
        assert answer.status_code == 200
        html = answer.get_data(as_text=True)
        shown = text_of(html, lang)
        assert str(one["seed"]) in html
        assert ("已核验" if lang == "zh" else "Verified") in shown
        links = Page(html, lang).links
        for drawn in one["drawn"]:
            assert f"/organizations/{drawn['identifier']}" in links
            for inspector in drawn["inspectors"]:
                assert inspector in shown
        names = {r["identifier"]: r["name"] for r in api(
            site, "demo-auditor", "/api/v1/organizations?limit=500").json["organizations"]}
        for drawn in one["drawn"]:
            assert names[drawn["identifier"]] in shown
    # the first half of the drawn organizations were inspected against the plan (demo)
    inspected = 0
    for drawn in one["drawn"]:
        org = api(site, "demo-staff", f"/api/v1/organizations/{drawn['identifier']}").json
        against = [i for i in org["inspections"] if i["plan_id"] == number]
        inspected += bool(against)
        for i in against:
            assert i["inspectors"] == drawn["inspectors"]
    assert inspected == (len(one["drawn"]) + 1) // 2
    assert re.search(rf"Inspected\s*{inspected}\s*of {len(one['drawn'])} drawn",
                     text_of(site.client("demo-staff", "en").get(
                         f"/inspection-plans/{quote(number)}").get_data(as_text=True), "en"))


def test_plans_are_read_only_within_the_jurisdiction(site):
    assert api(site, "demo-auditor", "/api/v1/inspection-plans").json["total"] == 2
    sub = api(site, "demo-staff", "/api/v1/inspection-plans?jurisdiction=310110001000")
    assert sub.json["total"] == 1 and sub.json["plans"][0]["jurisdiction"] == "310110001000"
    for who in ("demo-street", "demo-officer", "demo-supervisor", "demo-org"):
        assert api(site, who, "/api/v1/inspection-plans").status_code == 403, who
        assert site.client(who, "en").get("/inspection-plans").status_code == 403, who
        assert "/inspection-plans" not in Page(
            site.client(who, "en").get("/").get_data(as_text=True) if who != "demo-org"
            else "", "en").links
    elsewhere = other_district_staff(site)
    number = api(site, "demo-staff", "/api/v1/inspection-plans").json["plans"][0]["number"]
    answer = elsewhere.get("/inspection-plans")
    assert answer.status_code == 200 and Page(answer.get_data(as_text=True), "en").pager[
        "total"] == 0
    assert elsewhere.get(f"/inspection-plans/{quote(number)}").status_code == 403
    assert elsewhere.get(f"/inspection-plans?jurisdiction={DISTRICT}").status_code == 403
    bad = api(site, "demo-staff", "/api/v1/inspection-plans?jurisdiction=31011")
    assert bad.status_code == 400 and bad.json["error"]["field"] == "jurisdiction"
    assert site.client("demo-staff", "en").get("/inspection-plans/NO-SUCH").status_code == 404
