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
        if against:  # the case file links back to the plan
            case_file = site.client("demo-staff", "en").get(
                f"/organizations/{drawn['identifier']}").get_data(as_text=True)
            assert f"/inspection-plans/{number}" in Page(case_file, "en").links
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


# --------------------------------------------------------------------- statistics

def demo_counts(site, prefix: str) -> dict[int, dict[str, int]]:
    """Counts per year from the event log itself: what the statistics must show."""
    from domain.organization import Organization
    app = site.casefiles
    states: dict = {}
    counts: dict[int, dict[str, int]] = {}

    def add(year: int, kind: str, n: int = 1) -> None:
        counts.setdefault(year, {}).setdefault(kind, 0)
        counts[year][kind] += n

    for n in app.recorder.select_notifications(start=1, limit=10 ** 7):
        event = app.mapper.to_domain_event(n)
        if not isinstance(event, (Organization.Event, Organization.Founded)):
            continue
        org = states[event.originator_id] = event.mutate(states.get(event.originator_id))
        if not org.domicile["jurisdiction"].startswith(prefix):
            continue
        name, year = type(event).__name__, event.meta.effective_date.year
        if name == "Deregistered":
            add(year, "deregistered")
        elif name == "RegistrationRevoked":
            add(year, "revoked")
        elif name == "PenaltyImposed":
            add(year, "penalties")
            if event.kind == "revocation":
                add(year, "revoked")
        elif name == "CreditListed":
            add(year, f"listed_{event.credit_list}")
        elif name == "AnnualInspectionConcluded":
            add(event.year, "inspection_due")
            add(event.year, f"conclusion_{event.result}")
        elif name == "AnnualInspectionCorrected":
            add(event.year, f"conclusion_{event.previous_result}", -1)
            add(event.year, f"conclusion_{event.result}")
        elif name == "Registered":
            add(year, "registered")
    return counts


def page_tables(html: str) -> dict[str, list[list[str]]]:
    """The page's statistics tables as the reader sees them: name -> rows of cells."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.current, self.row, self.cell = {}, None, None, None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table" and attrs.get("data-table"):
                self.current = self.tables.setdefault(attrs["data-table"], [])
            elif tag == "tr" and self.current is not None:
                self.row = []
                self.current.append(self.row)
            elif tag in ("td", "th") and self.row is not None:
                self.cell = ""

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.row.append(self.cell.strip())
                self.cell = None
            elif tag == "table":
                self.current = self.row = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Tables()
    parser.feed(html)
    return parser.tables


def test_the_statistics_page_shows_the_demo_counts_and_exports_its_tables(site):
    from openpyxl import load_workbook

    expected = demo_counts(site, "310110")
    client = site.client("demo-staff", "en")
    answer = client.get("/statistics")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    tables = page_tables(html)
    assert set(tables) == {"inspections", "registrations", "supervision", "penalties",
                           "credit_lists", "jurisdictions"}
    assert html.count("<svg") >= 5  # a chart per table
    column = lambda name, title: tables[name][0].index(title)  # noqa: E731
    rows = {r[0]: r for r in tables["inspections"][1:]}
    for year, counts in expected.items():
        if counts.get("inspection_due"):
            row = rows[str(year)]
            assert row[column("inspections", "Concluded")] == str(counts["inspection_due"])
            assert row[column("inspections", "Qualified")] == str(
                counts.get("conclusion_qualified", 0))
            rate = 100 * counts.get("conclusion_qualified", 0) / counts["inspection_due"]
            assert row[column("inspections", "Pass rate")] == f"{rate:.1f}%"
    for name, title, kind in (("registrations", "Deregistered", "deregistered"),
                              ("registrations", "Registration revoked", "revoked"),
                              ("registrations", "Registered", "registered"),
                              ("penalties", "Penalties", "penalties"),
                              ("credit_lists", "Listed: abnormal activity",
                               "listed_abnormal_activity"),
                              ("credit_lists", "Listed: serious dishonesty",
                               "listed_serious_dishonesty")):
        by_year = {r[0]: r[column(name, title)] for r in tables[name][1:]}
        whole = sum(c.get(kind, 0) for c in expected.values())
        assert by_year.pop("Total") == str(whole), (name, title)
        assert whole > 0 or kind == "listed_serious_dishonesty", (name, title)
        for year, counts in expected.items():
            if str(year) in by_year:
                assert by_year[str(year)] == str(counts.get(kind, 0)), (name, title, year)
    # per jurisdiction: the sub-districts add up to the district's totals
    juris = tables["jurisdictions"]
    col = column("jurisdictions", "Deregistered")
    assert sum(int(r[col]) for r in juris[1:-1]) == int(juris[-1][col]) == sum(
        c.get("deregistered", 0) for c in expected.values())
    assert any("街道" in r[0] for r in juris[1:-1])

    for name, cells in tables.items():
        exported = client.get(f"/statistics/{name}.csv")
        assert exported.status_code == 200 and exported.mimetype == "text/csv"
        assert "attachment" in exported.headers["Content-Disposition"]
        assert list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig")))) == cells
        book = client.get(f"/statistics/{name}.xlsx")
        assert book.status_code == 200
        sheet = load_workbook(io.BytesIO(book.get_data())).active
        values = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert [str(x) for x in values[0]] == cells[0]
        for got, shown in zip(values[1:], cells[1:]):
            as_shown = [str(got[0])] + [
                "—" if x is None else f"{100 * x:.1f}%" if s.endswith("%") else str(x)
                for x, s in zip(got[1:], shown[1:])]
            assert as_shown == shown

    # one year: the per-jurisdiction table of that year alone
    year = max(y for y, c in expected.items() if c.get("deregistered"))
    tables = page_tables(client.get(f"/statistics?year={year}").get_data(as_text=True))
    assert tables["jurisdictions"][-1][col] == str(expected[year]["deregistered"])
    assert [r[0] for r in tables["registrations"][1:]] == [str(year), "Total"]


def test_statistics_api_and_scope(site):
    whole = api(site, "demo-staff", "/api/v1/statistics")
    assert whole.status_code == 200 and whole.json["jurisdiction"] == DISTRICT
    tables = whole.json["tables"]
    assert tables["registrations"]["total"]["deregistered"] == sum(
        c.get("deregistered", 0) for c in demo_counts(site, "310110").values())
    street = api(site, "demo-street", "/api/v1/statistics")
    assert street.status_code == 200 and street.json["jurisdiction"] == "310110001000"
    assert street.json["tables"]["registrations"]["total"]["registered"] == sum(
        c.get("registered", 0) for c in demo_counts(site, "310110001").values())
    assert api(site, "demo-street", f"/api/v1/statistics?jurisdiction={DISTRICT}"
               ).status_code == 403
    assert site.client("demo-street", "en").get(
        f"/statistics?jurisdiction={DISTRICT}").status_code == 403
    assert site.client("demo-street", "en").get(
        f"/statistics/registrations.csv?jurisdiction={DISTRICT}").status_code == 403
    assert api(site, "demo-org", "/api/v1/statistics").status_code == 403
    assert site.client("demo-org", "en").get("/statistics").status_code == 403
    assert api(site, "demo-auditor", "/api/v1/statistics").status_code == 400
    assert api(site, "demo-auditor", f"/api/v1/statistics?jurisdiction={DISTRICT}"
               ).json["tables"] == tables
    chooser = site.client("demo-auditor", "en").get("/statistics").get_data(as_text=True)
    assert f"/statistics?jurisdiction={DISTRICT}" in Page(chooser, "en").links
    elsewhere = other_district_staff(site)
    assert elsewhere.get(f"/statistics?jurisdiction={DISTRICT}").status_code == 403
    own = page_tables(elsewhere.get("/statistics").get_data(as_text=True))
    assert all(r[1:] == ["0"] * (len(r) - 1) or "—" in r for r in own["registrations"][1:])
    assert api(site, "demo-staff", "/api/v1/statistics?year=1900").status_code == 400
    assert site.client("demo-staff", "en").get("/statistics/nothing.csv").status_code == 404


# -------------------------------------------------------------------------- rules

def test_a_rule_page_shows_its_parameters_and_who_changed_it_when_and_why(site):
    # the demo overrides certificate_expiry for 310110012000 (a pilot), by demo-staff
    listed = site.client("demo-staff", "en").get("/rules")
    assert listed.status_code == 200
    assert "/rules/certificate_expiry" in Page(listed.get_data(as_text=True), "en").links
    read = api(site, "demo-auditor", "/api/v1/rules/certificate_expiry")
    assert read.status_code == 200, read.text
    history = read.json["history"]
    assert history[0]["jurisdiction"] == "310110012000"
    assert history[0]["parameters"] == {"expiring_days": {"old": 90, "new": 120}}
    assert history[0]["actor"] == "demo-staff"
    assert history[-1]["event"] == "defined"
    for lang, why in (("en", "试点：提前提示登记证书临期"), ("zh", "试点：提前提示登记证书临期")):
        html = site.client("demo-auditor", lang).get("/rules/certificate_expiry").get_data(
            as_text=True)
        shown = text_of(html, lang)
        assert why in shown and "90 → 120" in shown and "310110012000" in shown
    assert re.search(r"Expiring within \(days\)\s*90\s*90\s*310110012000: 120", text_of(
        site.client("demo-auditor", "en").get("/rules/certificate_expiry").get_data(
            as_text=True), "en"))
    # another district's staff sees the rule but nothing of this district's override
    elsewhere = other_district_staff(site)
    html = elsewhere.get("/rules/certificate_expiry").get_data(as_text=True)
    assert "310110012000" not in html and "试点" not in html
    assert api(site, "demo-staff", "/api/v1/rules/no_such_rule").status_code == 404
    assert site.client("demo-staff", "en").get("/rules/no_such_rule").status_code == 404


def test_the_rule_form_lists_each_parameter_and_records_a_change_through_the_command(site):
    client = site.client("demo-staff", "en")
    form = client.get("/rules/warning_escalation/change")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert 'name="p.committee_days" value="3"' in html
    assert 'name="p.sub_district_days" value="7"' in html
    assert "key=value" not in html and "/api/v1" not in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    # nothing changed, no reason, a bad value: refused with the reason beside the field
    same = client.post("/rules/warning_escalation/change", data={
        "csrf_token": csrf, "jurisdiction": "310110001000", "p.committee_days": "3",
        "p.sub_district_days": "7", "reason": "x"})
    assert same.status_code == 400 and "Change at least one value" in same.get_data(
        as_text=True)
    bad = client.post("/rules/warning_escalation/change", data={
        "csrf_token": csrf, "jurisdiction": "310110001000", "p.committee_days": "many",
        "p.sub_district_days": "7", "reason": "试点"})
    assert bad.status_code == 400
    assert re.search(r'id="f-committee_days".*?field-error', bad.get_data(as_text=True), re.S)
    global_change = client.post("/rules/warning_escalation/change", data={
        "csrf_token": csrf, "jurisdiction": "", "p.committee_days": "4",
        "p.sub_district_days": "7", "reason": "全区统一"})
    assert global_change.status_code == 400  # the global defaults are the admins'
    assert re.search(r'id="f-where".*?field-error', global_change.get_data(as_text=True),
                     re.S)
    assert site.casefiles.rule("warning_escalation").parameters["committee_days"] == 3
    done = client.post("/rules/warning_escalation/change", data={
        "csrf_token": csrf, "jurisdiction": "310110001000", "p.committee_days": "2",
        "p.sub_district_days": "7", "reason": "定海路街道试点：加快上报"})
    assert done.status_code == 302, done.get_data(as_text=True)
    rule = site.casefiles.rule("warning_escalation")
    assert rule.parameters_for("310110001001")["committee_days"] == 2
    assert rule.overrides["310110001000"] == {"committee_days": 2}  # only what changed
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"now version {rule.rule_version}" in page
    top = api(site, "demo-staff", "/api/v1/rules/warning_escalation").json["history"][0]
    assert top["actor"] == "demo-staff" and top["reason"] == "定海路街道试点：加快上报"
    assert top["parameters"] == {"committee_days": {"old": 3, "new": 2}}
    # only the roles that may change rules see the form
    for who in ("demo-street", "demo-officer", "demo-auditor", "demo-supervisor"):
        reader = site.client(who, "en")
        assert reader.get("/rules/warning_escalation/change").status_code == 403, who
        assert "/rules/warning_escalation/change" not in reader.get(
            "/rules/warning_escalation").get_data(as_text=True)
    other = other_district_staff(site)
    page = other.get(f"/rules/warning_escalation/change?jurisdiction=310110001000")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    refused = other.post("/rules/warning_escalation/change", data={
        "csrf_token": csrf, "jurisdiction": "310110001000", "p.committee_days": "9",
        "p.sub_district_days": "7", "reason": "越权"})
    assert refused.status_code == 400
    assert site.casefiles.rule("warning_escalation").overrides["310110001000"] == {
        "committee_days": 2}


def test_an_administrator_changes_a_rules_global_default_with_the_form(site):
    client = site.client("demo-admin", "en")
    assert "/rules" in Page(client.get("/admin/accounts").get_data(as_text=True), "en").links
    form = client.get("/rules/timeliness/change").get_data(as_text=True)
    assert 'name="p.working_days" value="5"' in form and "Global defaults" in form
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
    done = client.post("/rules/timeliness/change", data={
        "csrf_token": csrf, "jurisdiction": "", "p.working_days": "7",
        "reason": "新办法：七个工作日内记录", "reference": "民发〔2026〕1号"})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert site.casefiles.rule("timeliness").parameters["working_days"] == 7
    html = client.get("/rules/timeliness").get_data(as_text=True)
    shown = text_of(html, "en")
    assert "5 → 7" in shown and "Global defaults" in shown and "民发〔2026〕1号" in shown
    # the page of every reader shows the new default beside the catalog's
    assert re.search(r"Recorded within \(working days\)\s*5\s*7", text_of(
        site.client("demo-street", "en").get("/rules/timeliness").get_data(as_text=True),
        "en"))


def test_a_plan_page_shows_its_published_results_or_what_still_waits(site):
    plans = {p["jurisdiction"]: p for p in api(
        site, "demo-staff", "/api/v1/inspection-plans").json["plans"]}
    published, waiting = plans["310110001000"], plans[DISTRICT]
    assert published["published_on"] and waiting["published_on"] is None
    one = api(site, "demo-staff", f"/api/v1/inspection-plans/{published['number']}").json
    html = site.client("demo-staff", "en").get(
        f"/inspection-plans/{published['number']}").get_data(as_text=True)
    shown = text_of(html, "en")
    assert f"Results published on {published['published_on']}" in shown
    labels = {"no_problem_found": "No problem found",
              "rectification_ordered": "Rectification ordered", "penalty": "Penalty imposed"}
    for result in one["results"]:
        assert re.search(rf"{result['identifier']}.*?{labels[result['outcome']]}", shown)
    html = site.client("demo-staff", "en").get(
        f"/inspection-plans/{waiting['number']}").get_data(as_text=True)
    assert "Not every drawn organization has an inspection recorded" in text_of(html, "en")


def pages_of(client, url: str, lang: str) -> tuple[int, list[str | None]]:
    """Follow a list's pager from ``url`` to its last page: the total it announced (the
    same on every page) and each row's first link, in order."""
    total, items = None, []
    while url:
        answer = client.get(url)
        assert answer.status_code == 200, url
        page = Page(answer.get_data(as_text=True), lang)
        assert page.pager and (total is None or page.pager["total"] == total), url
        total = page.pager["total"]
        assert page.rows == min(page.pager["limit"], total - page.pager["offset"]), url
        items += page.items
        url = page.rel.get("next")
    return total, items


def test_a_plans_drawn_organizations_and_its_published_results_page(site):
    """A plan of a large jurisdiction draws hundreds: its page lists the drawn
    organizations a page at a time, as does the public page of its results."""
    plans = {p["jurisdiction"]: p for p in api(
        site, "demo-staff", "/api/v1/inspection-plans").json["plans"]}
    for lang in ("zh", "en"):
        client = site.client("demo-staff", lang)
        number = plans[DISTRICT]["number"]
        drawn = api(site, "demo-staff", f"/api/v1/inspection-plans/{quote(number)}").json[
            "drawn"]
        assert len(drawn) > 4  # three pages of two at least
        total, items = pages_of(client, f"/inspection-plans/{quote(number)}?limit=2", lang)
        assert total == len(drawn)
        assert items == [f"/organizations/{d['identifier']}" for d in drawn]
        bad = client.get(f"/inspection-plans/{quote(number)}?limit=0")
        assert bad.status_code == 400 and bad.mimetype == "text/html"

        published = plans["310110001000"]["number"]
        results = site.web.test_client().get(
            f"/public/inspections/{quote(published)}?format=json").json["results"]
        assert len(results) > 1
        total, items = pages_of(site.client(None, lang),
                                f"/public/inspections/{quote(published)}?limit=1", lang)
        assert total == len(results)
        assert items == [f"/public/organizations/{r['identifier']}" for r in results]
        assert site.client(None, lang).get(
            f"/public/inspections/{quote(published)}?offset=-1").status_code == 400


def test_the_demo_has_objections_and_credit_repairs_waiting_for_staff(site):
    """The demo's organizations on the abnormal-activity list answer it: objections and
    credit repair applications wait in the staff's work queue, and the case file of an
    organization with an objection marks its listing as disputed."""
    queue = api(site, "demo-staff", "/api/v1/tasks").json
    assert queue["counts"]["objection"] == 2 and queue["counts"]["credit_repair"] >= 1, \
        queue["counts"]
    objection = next(t for t in api(site, "demo-staff", "/api/v1/tasks?kind=objection"
                                    ).json["tasks"])
    identifier = objection["organization"]["identifier"]
    html = site.client("demo-staff", "zh").get(f"/organizations/{identifier}").get_data(
        as_text=True)
    assert "异议" in html and "年报报送回执" in html
