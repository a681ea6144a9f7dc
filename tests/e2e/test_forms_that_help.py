"""Forms that help (issue 14 item 5): a refused submission shows every error at once,
each next to its field, in Chinese, and records nothing, as the JSON API answers every
error in ``errors``; no form page shows an API path or a raw field name; an organization
is chosen by its name among those of the user's scope only; the required fields are
those the command declares; a recorded command is confirmed on the page it leads to."""

from __future__ import annotations

import html
import re

from tests.conftest import stored_event_count
from tests.e2e.test_pages import csrf, sign_in
from tests.support import OTHER_COMMITTEE, code, registration

FIELD = r'name="{0}".*?<div id="e-{0}" class="field-error" role="alert">([^<]*)<'


def visible_text(page: str) -> str:
    """A page's text as a reader sees it: no tags, no script, no attribute values."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_every_error_at_once_next_to_its_field_in_chinese(api, pg_app):
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    client = api.client.application.test_client()
    sign_in(client)
    url = "/forms/organizations"
    form = client.get(url + "?lang=zh")
    bad = {"csrf_token": csrf(form.text), "code": "51310110MJ00000010",  # a wrong check
           "name": "", "type": "social_association", "domicile.address": "示例路2号",
           "domicile.jurisdiction": "310110001001", "business_scope": "志愿服务",
           "registered_funds": "-5", "founded_on": "2020-02-30",
           "certificate_valid_until": "2026-01-01", "effective_date": "2999-01-01"}
    before = stored_event_count(pg_app)
    refused = client.post(url, data=bad)
    assert refused.status_code == 400
    assert stored_event_count(pg_app) == before  # nothing recorded
    shown = {name: re.search(FIELD.format(re.escape(name)), refused.text, re.S)
             for name in ("code", "name", "registered_funds", "founded_on", "effective_date")}
    assert all(shown.values()), {k: bool(x) for k, x in shown.items()}
    text = {k: x.group(1) for k, x in shown.items()}
    # the API's specific reason, in Chinese: the check character it should be
    assert "校验" in text["code"] and re.search(r"第 ?18 ?位", text["code"]), text["code"]
    assert "名称" in text["name"] and "必填" in text["name"]
    assert "不是有效日期" in text["founded_on"]
    assert "注册资金" in text["registered_funds"]
    assert "生效" in text["effective_date"] or "未来" in text["effective_date"]
    for message in text.values():
        assert re.search(r"[\u4e00-\u9fff]", message) and not re.search(r"\b[a-z]+_[a-z]+\b",
                                                                        message), message
    assert "有 5 处需要更正" in refused.text
    # the values typed stay in the form
    assert 'value="示例路2号"' in refused.text
    # the JSON API: the first error as before, and every one of them
    direct = api.post("/api/v1/organizations", {
        **registration(2), "code": bad["code"], "name": "", "registered_funds": -5,
        "founded_on": "2020-02-30", "effective_date": "2999-01-01"})
    assert direct.status_code == 400
    errors = direct.json["errors"]
    assert direct.json["error"] == errors[0]
    assert [e["field"] for e in errors] == ["code", "name", "registered_funds", "founded_on",
                                            "effective_date"]
    assert all({"status", "code", "message", "field"} <= set(e) for e in errors)
    assert "the 18th character should be" in errors[0]["message"]
    assert stored_event_count(pg_app) == before


def test_no_form_page_shows_an_api_path_or_a_field_name(api, pg_app):
    from adapters.commands.catalog import BY_ENDPOINT
    from adapters.web.forms import command_endpoints, flatten, form_schema
    from tests.e2e.test_page_forms import api_path

    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    client = api.client.application.test_client()
    sign_in(client)
    items = {"code": code(1), "year": "2023", "report_id": "ME1", "notice_number": "N1",
             "listing_id": "CL1", "person_id": "00000000-0000-4000-8000-000000000001",
             "decision_number": "P1", "warning_id": "00000000-0000-4000-8000-000000000002",
             "proposal_id": "00000000-0000-4000-8000-000000000003", "username": "officer",
             "name": "warning_escalation", "token_id": "t0", "number": "F1",
             "objection_id": "OB1", "application_id": "CR1"}
    shown = 0
    for _method, rule, endpoint in command_endpoints():
        path = api_path(rule, items)
        form = client.get("/forms/" + path[len("/api/v1/"):] + "?lang=zh",
                          follow_redirects=True)
        if form.status_code != 200:
            continue  # a form the staff may not open
        shown += 1
        assert "/api/v1/" not in form.text, endpoint
        text = visible_text(form.text)
        for name, _spec in flatten(form_schema(BY_ENDPOINT[endpoint])):
            for part in {name, name.rsplit(".", 1)[-1]}:
                assert not re.search(rf"(?<![\w.]){re.escape(part)}(?![\w.])", text), \
                    f"{endpoint} shows the field name {part}"
        # a refusal too: its messages name the fields by their labels
        refused = client.post(form.request.path, data={"csrf_token": csrf(form.text),
                                                        "effective_date": "2024-02-30"})
        text = visible_text(refused.text)
        assert "/api/v1/" not in refused.text
        for name, _spec in flatten(form_schema(BY_ENDPOINT[endpoint])):
            if "_" in name or "." in name:
                assert name not in text, f"{endpoint}: the refusal shows {name}"
    assert shown >= 30


def test_the_organization_is_chosen_by_name_within_the_scope_only(api, pg_app):
    mine, theirs = registration(1), registration(
        2, name="控江路另一居委会的协会", domicile={"address": "示例路9号",
                                          "jurisdiction": OTHER_COMMITTEE})
    for body in (mine, theirs):
        assert api.post("/api/v1/organizations", body).status_code == 201
    api.get(api.org(2))  # the read models have caught up
    officer = api.client.application.test_client()
    sign_in(officer, "officer")
    form = officer.get("/forms/warnings")
    assert form.status_code == 200
    listed = re.search(r'<datalist id="l-organization">(.*?)</datalist>', form.text, re.S)
    assert listed, "the organization is offered in a list"
    assert f'value="{code(1)}">{mine["name"]}<' in listed.group(1)
    assert code(2) not in form.text and theirs["name"] not in form.text
    assert 'data-pick="organization"' in form.text
    # a name outside the scope names nothing, and nothing is recorded
    before = stored_event_count(pg_app)
    outside = officer.post("/forms/warnings", data={
        "csrf_token": csrf(form.text), "organization": theirs["name"], "severity": "low",
        "source": "information_officer", "title": "越界", "description": "d"})
    assert outside.status_code == 400
    assert re.search(FIELD.format("organization"), outside.text, re.S).group(1) == \
        f"您的辖区内没有名为“{theirs['name']}”的对象。"
    assert code(2) not in outside.text
    # typed as a code, the command's own scope check refuses it
    coded = officer.post("/forms/warnings", data={
        "csrf_token": csrf(form.text), "organization": code(2), "severity": "low",
        "source": "information_officer", "title": "越界", "description": "d"})
    assert coded.status_code == 400
    assert re.search(FIELD.format("organization"), coded.text, re.S).group(1) == \
        "该事项不在您的管辖范围内。"
    assert theirs["name"] not in coded.text
    # a mistyped code: its check character's reason, next to the field
    wrong = code(1)[:-1] + ("0" if code(1)[-1] != "0" else "1")
    mistyped = officer.post("/forms/warnings", data={
        "csrf_token": csrf(form.text), "organization": wrong, "severity": "low",
        "source": "information_officer", "title": "", "description": "d"})
    shown = re.search(FIELD.format("organization"), mistyped.text, re.S).group(1)
    assert f"第 18 位应为 {code(1)[-1]}" in shown, shown
    assert re.search(FIELD.format("title"), mistyped.text, re.S)  # and the others
    # a code no organization has: not found, next to the field
    unknown = officer.post("/forms/warnings", data={
        "csrf_token": csrf(form.text), "organization": code(99), "severity": "low",
        "source": "information_officer", "title": "t", "description": "d"})
    assert re.search(FIELD.format("organization"), unknown.text, re.S).group(1) == "未找到。"
    assert stored_event_count(pg_app) == before
    # the register search behind the picker's script answers the scope only
    found = officer.get("/api/v1/organizations?q=协会&limit=20").get_json()
    assert [o["identifier"] for o in found["organizations"]] == [code(1)]
    # chosen by (part of) its name: recorded, and confirmed on the next page
    raised = officer.post("/forms/warnings", data={
        "csrf_token": csrf(form.text), "organization": "示例志愿者协会1",
        "severity": "medium", "source": "information_officer", "title": "疑似停止活动",
        "description": "居民反映", "next": f"/organizations/{code(1)}"})
    assert raised.status_code == 302, raised.text
    case = officer.get(raised.headers["Location"])
    assert re.search(r'role="status" class="done">已录入：发起预警（疑似停止活动）。<', case.text)
    assert "疑似停止活动" in case.text
    again = officer.get(raised.headers["Location"])
    assert 'class="done"' not in again.text  # shown once
    # the staff see both organizations of the district
    staff = api.client.application.test_client()
    sign_in(staff)
    both = staff.get("/forms/warnings").text
    assert code(1) in both and code(2) in both


def test_required_fields_are_those_the_command_requires(api):
    from adapters.commands.catalog import BY_ENDPOINT
    from adapters.web.forms import required_fields

    assert required_fields(BY_ENDPOINT["api.raise_warning"]) == {
        "organization", "severity", "source", "title", "description"}
    assert "reason" in required_fields(BY_ENDPOINT["api.command_credit_listing"])
    assert "reason" not in required_fields(BY_ENDPOINT["api.command_rectification"])
    appoint = required_fields(BY_ENDPOINT["api.appoint_leader"])
    assert {"person.name", "person.id_number", "roles", "term_start"} <= appoint
    assert not appoint & {"public_notice.from", "replaces", "departure_audit_done",
                          "official_status"}
    client = api.client.application.test_client()
    sign_in(client)
    form = client.get("/forms/warnings").text
    marked = set(re.findall(r'<label for="f-([\w.]+)">[^<]*<span class="required"', form))
    assert marked == {"organization", "severity", "source", "title", "description"}
    assert "aria-required" not in re.search(r'<textarea id="f-reason".*?>', form,
                                            re.S).group(0)


def test_a_recorded_command_is_confirmed_in_the_users_language(api):
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    client = api.client.application.test_client()
    sign_in(client)
    url = f"/organizations/{code(1)}/forms/rectifications"
    form = client.get(url + "?lang=en")
    done = client.post(url, data={"csrf_token": csrf(form.text), "notice_number": "N7",
                                  "issues": "账目不清", "deadline": "2030-06-30"})
    assert done.status_code == 302
    case = client.get(done.headers["Location"])
    assert (f'role="status" class="done">Recorded: Order a rectification '
            f'({registration(1)["name"]}).<') in case.text


def test_a_leader_is_chosen_by_name_among_the_serving_ones(api, pg_app):
    from tests.support import id_number

    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    leader = api.post(f"{api.org(1)}/leaders", {
        "person": {"name": "赵敏", "id_number": id_number(n=31)},
        "roles": ["legal_representative"], "term_start": "2021-01-01",
        "term_end": "2025-12-31"})
    assert leader.status_code == 201, leader.text
    person_id = leader.json["organization"]["leaders"][0]["person_id"]
    client = api.client.application.test_client()
    sign_in(client)
    url = f"/organizations/{code(1)}/forms/leaders"
    form = client.get(url)
    listed = re.search(r'<datalist id="l-replaces">(.*?)</datalist>', form.text, re.S)
    assert listed and f'value="{person_id}">赵敏<' in listed.group(1)
    body = {"csrf_token": csrf(form.text), "person.name": "孙丽",
            "person.id_number": id_number(n=32), "roles": "legal_representative",
            "term_start": "2024-01-01", "term_end": "2028-12-31",
            "departure_audit_done": "on", "official_status": "none"}
    before = stored_event_count(pg_app)
    unknown = client.post(url, data={**body, "replaces": "钱七"})
    assert unknown.status_code == 400
    assert re.search(FIELD.format("replaces"), unknown.text, re.S).group(1) == \
        "该组织没有名为“钱七”的现任负责人。"
    assert stored_event_count(pg_app) == before
    replaced = client.post(url, data={**body, "replaces": "赵敏"})
    assert replaced.status_code == 302, re.findall(r'role="alert">([^<]*)<', replaced.text)
    leaders = api.get(api.org(1)).json["leaders"]
    assert [x["name"] for x in leaders] == ["孙丽"]


def test_an_account_change_is_confirmed(api, pg_app):
    from tests.conftest import meta
    from tests.e2e.test_pages import PASSWORD

    pg_app.open_account(username="root", password=PASSWORD, display_name="管理员", role="admin",
                        jurisdiction=None, organization=None, meta=meta())
    client = api.client.application.test_client()
    sign_in(client, "root")
    listing = client.get("/admin/accounts")
    opened = client.post("/admin/accounts", data={
        "csrf_token": csrf(listing.text), "action": "open", "username": "new-officer",
        "password": "a long enough pass", "role": "information_officer",
        "jurisdiction": "310110002001"})
    assert opened.status_code == 302
    shown = client.get(opened.headers["Location"])
    assert 'role="status" class="done">已录入：新建账户（new-officer）。<' in shown.text


def test_a_domicile_is_chosen_by_its_committees_name_within_the_scope(api, pg_app):
    from tests.support import COMMITTEE, OTHER_DISTRICT

    other = f"{OTHER_DISTRICT[:6]}001001"
    for node, name, who in ((COMMITTEE, "控江路居委会", "staff"),
                            (other, "外区居委会", "other_staff")):
        made = api.client.put(f"/api/v1/network/{node}", json={"name": name},
                              headers=api.headers(who, None))
        assert made.status_code == 201, made.text
    client = api.client.application.test_client()
    sign_in(client)
    form = client.get("/forms/organizations")
    listed = re.search(r'<datalist id="l-domicile.jurisdiction">(.*?)</datalist>', form.text,
                       re.S).group(1)
    assert f'value="{COMMITTEE}">控江路居委会<' in listed and "外区居委会" not in form.text
    body = {k: x for k, x in registration(5).items() if not isinstance(x, dict)}
    body = {**body, "supervisory_unit": "", "csrf_token": csrf(form.text),
            "domicile.address": "示例路5号", "domicile.jurisdiction": "外区居委会"}
    before = stored_event_count(pg_app)
    refused = client.post("/forms/organizations", data=body)
    assert re.search(FIELD.format(re.escape("domicile.jurisdiction")), refused.text,
                     re.S).group(1) == "您的辖区内没有名为“外区居委会”的对象。"
    assert stored_event_count(pg_app) == before
    done = client.post("/forms/organizations", data={**body,
                                                     "domicile.jurisdiction": "控江路居委会"})
    assert done.status_code == 302, re.findall(r'role="alert">([^<]*)<', done.text)
    assert api.get(api.org(5)).json["domicile"]["jurisdiction"] == COMMITTEE
