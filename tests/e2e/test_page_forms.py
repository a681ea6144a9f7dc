"""A page form for every command of the JSON API, generated from the body the command
declares (adapters.commands.catalog) and run through the API's own command path: each one
is shown and submitted with the session's CSRF token; a refused submission
re-renders with the API's message next to the field and records nothing. Item-level forms
are linked from the pages only for the roles the policy table allows. Labels and messages
are in Chinese (default) and English."""

from __future__ import annotations

import html
import re

import pytest
from markupsafe import escape

from tests.conftest import meta, stored_event_count
from tests.e2e.test_pages import PASSWORD, csrf, sign_in
from tests.support import DISTRICT, SUPERVISORY_UNIT, code, id_number, registration

NODE = "310110001001"


@pytest.fixture
def world(api, pg_app):
    """An organization with an item of every kind a form acts on, a warning, a proposal
    and a person."""
    from domain.network import Proposal

    # supervised: its supervisory unit's forms (the annual report's pre-review) run too
    assert api.post("/api/v1/organizations", registration(
        1, effective_date="2024-01-10", supervisory_unit=SUPERVISORY_UNIT)).status_code == 201
    org = api.org(1)
    ordered = api.post(f"{org}/rectifications", {"notice_number": "N1", "issues": ["账目不清"],
                                                 "deadline": "2024-06-30",
                                                 "effective_date": "2024-02-01"})
    assert ordered.status_code in (200, 201), ordered.text
    penalty = api.post(f"{org}/penalties", {"decision_number": "P1", "kind": "warning",
                                            "legal_basis": "条例第三十条",
                                            "decision_date": "2024-03-01",
                                            "effective_date": "2024-03-01"})
    assert penalty.status_code in (200, 201), penalty.text
    listed = api.post(f"{org}/credit-listings", {"list": "abnormal_activity",
                                                 "reason": "未按时年检"})
    assert listed.status_code in (200, 201), listed.text
    leader = api.post(f"{org}/leaders", {"person": {"name": "赵敏", "id_number": id_number(n=31)},
                                         "roles": ["legal_representative"],
                                         "term_start": "2021-01-01", "term_end": "2025-12-31"})
    assert leader.status_code == 201, leader.text
    person_id = leader.json["organization"]["leaders"][0]["person_id"]
    warning = pg_app.raise_warning(organization=code(1), severity="low", source="tip_off",
                                   title="群众反映", description="d", key="forms:1", meta=meta())
    proposal = Proposal.propose(key="forms:1", kind="listing", organization=code(1),
                                jurisdiction=NODE, credit_list="serious_dishonesty",
                                listing_id=None, year=None, reason="连续两年未年检",
                                rule="rule:x@v1", meta=meta())
    pg_app.save(proposal)
    api.get(api.org(1))  # the read models have caught up
    plan = api.post("/api/v1/inspection-plans", {"number": "F1", "jurisdiction": DISTRICT,
                                                 "seed": 1, "inspectors": ["甲", "乙"]})
    assert plan.status_code == 201, plan.text
    return {"number": "F1", "code": code(1), "year": "2023", "report_id": "ME1", "notice_number": "N1",
            "listing_id": "CL1", "person_id": person_id, "decision_number": "P1",
            "warning_id": str(warning.id), "proposal_id": str(proposal.id),
            "username": "officer", "name": "warning_escalation", "token_id": "t0",
            "objection_id": "OB1", "application_id": "CR1"}


def api_path(rule: str, items: dict) -> str:
    """The concrete path of a rule: the organization's code, or a node's for /network."""
    values = dict(items, code=NODE if rule.startswith("/api/v1/network/") else items["code"])
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)


def test_every_command_endpoint_has_a_page_form_that_runs_the_api(api, pg_app, world):
    from adapters.web.forms import action_of, command_endpoints
    from adapters.web.i18n import translate_error
    from adapters.web.labels import FORM_TITLES

    from domain.access import allowed
    from tests.support import ACCOUNTS

    web = api.client.application
    endpoints = command_endpoints()
    assert len(endpoints) >= 40
    pg_app.open_account(username="root", password=PASSWORD, display_name="管理员", role="admin",
                        jurisdiction=None, organization=None, meta=meta())
    roles = {**{name: role for name, (role, *_scope) in ACCOUNTS.items()}, "root": "admin"}
    tokens = {**api.tokens, "root": pg_app.issue_token("root", meta())}
    clients: dict[str, object] = {}
    checked = []
    for method, rule, endpoint in endpoints:
        action = action_of(endpoint)
        assert action, f"{endpoint}: no policy action for its page form"
        assert endpoint in FORM_TITLES, f"{endpoint}: no form title"
        # an account whose role may run it (the staff member, else the administrator,
        # else the organization's own account or its supervisory unit's)
        user = next(u for u in ("staff", "root", "org1", "supervisor")
                    if allowed(roles[u], action))
        if user not in clients:
            clients[user] = web.test_client()
            sign_in(clients[user], user)
            clients[user].get("/organizations?lang=en")  # compared below: English
        client = clients[user]
        path = api_path(rule, world)
        form = client.get("/forms/" + path[len("/api/v1/"):], follow_redirects=True)
        assert form.status_code == 200, f"{method} {path}: {form.status_code}"
        assert str(escape(FORM_TITLES[endpoint])) in form.text
        assert 'name="effective_date"' in form.text and "/api/v1/" not in form.text
        url = form.request.path  # an organization's commands live under its case file
        # the API's own answer to the body the form makes
        direct = api.client.open(path, method=method, json={"effective_date": "2024-02-30"},
                                 headers={"Authorization": f"Bearer {tokens[user]}"})
        assert direct.status_code == 400, f"{method} {path}: {direct.text}"
        error = direct.json["error"]
        before = stored_event_count(pg_app)
        refused = client.post(url, data={"csrf_token": csrf(form.text),
                                         "effective_date": "2024-02-30"})
        assert refused.status_code == 400, f"{method} {path}: {refused.status_code}"
        with web.test_request_context("/?lang=en"):
            shown = str(escape(translate_error(error)))
        field = re.sub(r"\[[0-9]+\]", "", error["field"] or "")
        if f'name="{field}"' in refused.text:  # next to its field
            assert re.search(rf'name="{re.escape(field)}".*?class="field-error" role="alert">'
                             rf'{re.escape(shown)}<', refused.text, re.S), path
        else:
            assert f'class="error" role="alert">{shown}<' in refused.text, path
        assert stored_event_count(pg_app) == before, f"{method} {path} recorded something"
        no_token = client.post(url, data={"effective_date": "2024-02-30"})
        assert no_token.status_code == 403
        checked.append(endpoint)
    assert sorted(checked) == sorted(e for _m, _r, e in endpoints)


def test_forms_beyond_the_organization_record_through_the_api(api, pg_app, world):
    client = api.client.application.test_client()
    sign_in(client)
    # raise a warning from the case file's link, the organization filled in
    case = client.get(f"/organizations/{code(1)}")
    link = re.search(r'href="(/forms/warnings\?organization=[^"]+)"', case.text).group(1)
    form = client.get(html.unescape(link))
    assert f'value="{code(1)}"' in form.text
    raised = client.post("/forms/warnings", data={
        "csrf_token": csrf(form.text), "organization": code(1), "severity": "high",
        "source": "tip_off", "title": "网页发起的预警", "description": "活动异常",
        "next": f"/organizations/{code(1)}"})
    assert raised.status_code == 302 and raised.headers["Location"].endswith(code(1))
    inbox = client.get("/warnings")
    assert "网页发起的预警" in inbox.text
    # the inbox counts the proposals waiting; confirm one from their page
    assert 'href="/proposals"' in inbox.text
    proposals = client.get("/proposals")
    confirm = re.search(r'href="(/forms/proposals/[^"]+/confirmation[^"]*)"', proposals.text)
    assert confirm and world["proposal_id"] in confirm.group(1)
    form = client.get(html.unescape(confirm.group(1)))
    done = client.post(f"/forms/proposals/{world['proposal_id']}/confirmation",
                       data={"csrf_token": csrf(form.text), "reason": "核实属实",
                             "next": "/warnings"})
    assert done.status_code == 302
    from uuid import UUID

    assert pg_app.get_proposal(UUID(world["proposal_id"])).status == "confirmed"
    # a person banned by identity number, then looked up: the answers show the masked
    # identity number only
    number = id_number(n=47)
    form = client.get("/forms/persons/occupational-bans")
    banned = client.post("/forms/persons/occupational-bans", data={
        "csrf_token": csrf(form.text), "person.name": "钱七", "person.id_number": number,
        "from": "2024-01-01", "reason": "刑事判决"})
    assert banned.status_code == 200, banned.text
    assert number not in banned.text
    form = client.get("/forms/persons/lookup")
    person = client.post("/forms/persons/lookup", data={"csrf_token": csrf(form.text),
                                                        "id_number": number})
    assert person.status_code == 200 and number not in person.text
    assert number[-4:] in person.text and "***" in person.text and "钱七" in person.text
    refused = client.post("/forms/persons/lookup", data={"csrf_token": csrf(form.text),
                                                         "id_number": number[:-1] + "0"
                                                         if number[-1] != "0" else number[:-1] + "1"})
    assert refused.status_code == 400 and number[:-1] not in refused.text  # not echoed
    assert "身份证号校验位不正确" in refused.text
    # a rule's parameters, key=value per line, for the staff's own district (its global
    # defaults are the admins')
    form = client.get("/forms/rules/warning_escalation")
    changed = client.post("/forms/rules/warning_escalation", data={
        "csrf_token": csrf(form.text), "parameters": "committee_days=4", "reason": "试行",
        "jurisdiction": "310110000000", "next": "/warnings"})
    assert changed.status_code == 302, changed.text
    assert pg_app.rules()["warning_escalation"].parameters_for(NODE)["committee_days"] == 4
    # a node of the network (a PUT), then an information officer on it
    form = client.get(f"/forms/network/{NODE}?name=控江路居委会")
    assert 'value="控江路居委会"' in form.text
    established = client.post(f"/forms/network/{NODE}", data={
        "csrf_token": csrf(form.text), "name": "控江路居委会", "next": f"/network/{NODE}"})
    assert established.status_code == 302, established.text
    form = client.get(f"/forms/network/{NODE}/officers")
    assigned = client.post(f"/forms/network/{NODE}/officers", data={
        "csrf_token": csrf(form.text), "username": "street", "next": f"/network/{NODE}"})
    assert assigned.status_code == 302, assigned.text


def test_item_links_follow_the_role(api, world):
    staff = api.client.application.test_client()
    sign_in(staff)
    case = staff.get(f"/organizations/{code(1)}").text
    for item in ("rectifications/N1/completion", "rectifications/N1/follow-ups",
                 "penalties/P1/rescission", "credit-listings/CL1/removal",
                 f"leaders/{world['person_id']}/departure"):
        assert f"/organizations/{code(1)}/forms/{item}" in case, item
    assert f"/forms/persons/{world['person_id']}/occupational-bans" in case
    assert f"/forms/warnings/{world['warning_id']}/resolution" in case
    past = staff.get(f"/organizations/{code(1)}?as_of=2024-12-31").text
    assert "/forms/rectifications/N1/completion" not in past  # no forms on a past state
    auditor = api.client.application.test_client()
    sign_in(auditor, "auditor")
    case = auditor.get(f"/organizations/{code(1)}").text
    assert "/forms/" not in case
    officer = api.client.application.test_client()
    sign_in(officer, "officer")
    case = officer.get(f"/organizations/{code(1)}").text
    assert f"/forms/warnings/{world['warning_id']}/resolution" in case
    assert "rectifications/N1/completion" not in case
    inbox = officer.get("/warnings").text
    assert f"/forms/warnings/{world['warning_id']}/escalation" in inbox
    assert "/confirmation" not in officer.get("/proposals").text  # an officer does not
    # decide proposals
    assert officer.get(f"/forms/proposals/{world['proposal_id']}/confirmation"
                       ).status_code == 403
    assert officer.get("/forms/persons/lookup").status_code == 403


def test_labels_and_messages_in_chinese_and_english(api, world):
    from adapters.commands.catalog import BY_ENDPOINT
    from adapters.web.forms import command_endpoints, flatten, form_schema
    from adapters.web.display import choice as choice_label
    from adapters.web.labels import FIELD_LABELS, FORM_TITLES, field_label, form_title

    web = api.client.application
    with web.test_request_context("/?lang=zh"):
        for _method, _rule, endpoint in command_endpoints():
            for name, spec in flatten(form_schema(BY_ENDPOINT[endpoint])):
                english = FIELD_LABELS.get(name) or FIELD_LABELS.get(name.rsplit(".")[-1])
                assert english, f"{endpoint}: no label for {name}"
                assert field_label(name) != english, f"{endpoint}: {name} untranslated"
                for choice in spec.choices or (spec.item.choices if spec.item else ()):
                    label = choice_label(choice, name)
                    assert label != choice and re.search(r"[\u4e00-\u9fff]", label), \
                        f"{name}: {choice} has no Chinese label"
            assert form_title(endpoint) != FORM_TITLES[endpoint]
    client = web.test_client()
    sign_in(client)
    url = f"/organizations/{code(1)}/forms/rectifications"
    form = client.get(url)
    assert "整改期限" in form.text and "通知书文号" in form.text and "责令整改" in form.text
    bad = {"csrf_token": csrf(form.text), "notice_number": "N2", "issues": "x",
           "deadline": "2024-02-30"}
    refused = client.post(url, data=bad)
    assert refused.status_code == 400
    assert re.search(r'field-error[^>]*>整改期限：2024-02-30 不是有效日期。<', refused.text)
    missing = client.post(url, data={**bad, "deadline": "2024-03-30", "issues": ""})
    assert re.search(r'name="issues".*?field-error[^>]*>存在问题为必填项。<', missing.text, re.S)
    english = client.get(url + "?lang=en")
    assert "Deadline" in english.text and "整改期限" not in english.text
    refused = client.post(url, data=bad)
    assert re.search(r'field-error[^>]*>Deadline: 2024-02-30 is not a real date.<', refused.text)
    # a domain rule's refusal: the rule's name gives the message
    client.get(url + "?lang=zh")
    again = client.post(f"/organizations/{code(1)}/forms/penalties/P9/rescission",
                        data={"csrf_token": csrf(form.text)})
    assert again.status_code == 400 and "没有该处罚决定。" in again.text
    # the JSON API keeps its own English messages
    direct = api.post(f"{api.org(1)}/rectifications", {**{k: x for k, x in bad.items()
                                                          if k != "csrf_token"},
                                                       "issues": ["x"]})
    assert direct.json["error"]["message"] == "deadline is not a real date: 2024-02-30"


def test_every_message_of_the_body_checks_has_a_translation(memory_app):
    """Each way validation.py (and the code checks it calls) refuses a value is matched
    by a message pattern, so no page falls back to the untranslated message."""
    from adapters.web import create_app
    from adapters.commands import validation as v
    from adapters.web.i18n import translate_error
    from domain.codes import id_number_check_character
    from domain.errors import InvalidValue

    cases = [({}, {"x": v.line()}), ({"x": None}, {"x": v.line()}),
             ({"x": " "}, {"x": v.line()}), ({"x": "a" * 9}, {"x": v.line(max_len=3)}),
             ({"x": 1}, {"x": v.line()}), ({"x": "a\x00"}, {"x": v.line()}),
             ({"x": "z"}, {"x": v.enum(("a",))}), ({"x": "2024"}, {"x": v.a_date()}),
             ({"x": "2024-02-30"}, {"x": v.a_date()}), ({"x": "1"}, {"x": v.money()}),
             ({"x": -1}, {"x": v.money()}), ({"x": 1e20}, {"x": v.money()}),
             ({"x": 1.234}, {"x": v.money()}), ({"x": 1.5}, {"x": v.integer(0, 9)}),
             ({"x": 99}, {"x": v.integer(0, 9)}), ({"x": "y"}, {"x": v.boolean()}),
             ({"x": "y"}, {"x": v.lines()}), ({"x": ["a"] * 3}, {"x": v.lines(max_items=2)}),
             ({"x": 1}, {"x": v.obj({})}), ({"y": 1}, {"x": v.line(False)}),
             ({"x": "123"}, {"x": v.credit_code()}), ({"x": "51ABCDEFMJ0000001B"},
                                                      {"x": v.credit_code()}),
             ({"x": "123"}, {"x": v.id_number()}), ({"x": "110105194912310021"},
                                                   {"x": v.id_number()}),
             ({"x": "11010519491331002" + id_number_check_character("11010519491331002")},
              {"x": v.id_number()}),
             ({"x": "31"}, {"x": v.jurisdiction()})]
    web = create_app({"CASEFILES": memory_app})
    seen = set()
    for lang in ("zh", "en"):
        with web.test_request_context(f"/?lang={lang}"):
            for body, schema in cases:
                with pytest.raises(InvalidValue) as refused:
                    v.parse(body, schema)
                error = {"code": "invalid_value", "message": refused.value.message,
                         "field": refused.value.field}
                text = translate_error(error)
                assert "refused" not in text and "未被接受" not in text, error["message"]
                seen.add(error["message"])
    assert len(seen) >= len(cases) - 2
