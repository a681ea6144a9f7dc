"""Malformed or refused requests: each gets its exact status, a JSON error that names the
field or the rule, and records nothing (the number of stored events does not change)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

import pytest

from domain.calendar import today_in_china as today
from domain.codes import CREDIT_CODE_CHARSET
from tests.conftest import stored_event_count
from tests.support import COMMITTEE, Api, code, id_number, registration

API = "/api/v1"
ORGS = f"{API}/organizations"
ORG = f"{ORGS}/{code(1)}"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


# --------------------------------------------------------------------- bodies

def report(year: int = 2021, **overrides: Any) -> dict:
    return {"year": year, "income": 100000, "expenditure": 80000, "net_assets": 20000,
            "activities_held": 6, "party_organization": False,
            "effective_date": f"{year + 1}-04-01", **overrides}


def leader(n: int, roles: list[str], **overrides: Any) -> dict:
    body = {"person": {"name": f"负责人{n}", "id_number": id_number("19700101", n)},
            "roles": roles, "term_start": "2021-01-01", "term_end": "2025-12-31",
            "effective_date": "2021-01-05"}
    body.update(overrides)
    return body


def penalty(**overrides: Any) -> dict:
    body = {"decision_number": "杨民罚〔2024〕1号", "kind": "fine",
            "legal_basis": "《社会团体登记管理条例》第三十条", "amount": 5000,
            "decision_date": "2024-05-01", "effective_date": "2024-05-02"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def interview(**overrides: Any) -> dict:
    return {"person_name": "张某", "person_role": "秘书长", "topics": ["财务管理"],
            "effective_date": "2023-03-01", **overrides}


def inspection(**overrides: Any) -> dict:
    return {"items": ["财务状况"], "findings": "无异常", "on_site": False, "inspectors": [],
            "effective_date": "2023-05-01", **overrides}


def change(**changes: Any) -> dict:
    return {"changes": changes, "approval_date": "2021-02-26", "effective_date": "2021-03-01"}


def major_event(**overrides: Any) -> dict:
    return {"category": "important_activity", "planned_date": "2023-09-01",
            "description": "年度公益活动", "sent_to": ["registration_authority"],
            "effective_date": "2023-07-01", **overrides}


def without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


def wrong_check_character(valid: str) -> str:
    return valid[:17] + CREDIT_CODE_CHARSET[(CREDIT_CODE_CHARSET.index(valid[17]) + 1) % 31]


# ---------------------------------------------------------------------- setups

def ok(response, status: int = 201) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def registered(api: Api) -> dict:
    ok(api.post(ORGS, registration(1)))
    return {}


def second_org_too(api: Api) -> dict:
    registered(api)
    ok(api.post(ORGS, registration(2)))
    return {}


def with_report(api: Api) -> dict:
    registered(api)
    ok(api.post(f"{ORG}/annual-reports", report(2021)), 200)
    return {}


def deregistered(api: Api) -> dict:
    registered(api)
    ok(api.post(f"{ORG}/deregistration", {"effective_date": "2022-01-10",
                                          "reason": "自行申请注销"}), 200)
    return {}


def registered_late_in_2023(api: Api) -> dict:
    ok(api.post(ORGS, registration(1, founded_on="2023-07-20", effective_date="2023-08-01")))
    return {}


def with_legal_representative(api: Api) -> dict:
    registered(api)
    doc = ok(api.post(f"{ORG}/leaders", leader(1, ["legal_representative"])))
    return {"lr": doc["person_id"]}


def with_major_event(api: Api) -> dict:
    registered(api)
    return {"report": ok(api.post(f"{ORG}/major-events", major_event()))["id"]}


def with_keyed_interview(api: Api) -> dict:
    registered(api)
    ok(api.post(f"{ORG}/interviews", interview(), headers={"Idempotency-Key": "iv-2023-1"}),
       200)
    return {}


def with_banned_person(api: Api) -> dict:
    registered(api)
    ok(api.post(f"{API}/persons/occupational-bans",
                {"person": {"name": "钱某", "id_number": id_number(n=9)},
                 "from": "2020-01-01", "reason": "刑事判决从业禁止"}), 201)
    return {}


def nothing(api: Api) -> dict:
    return {}


# ----------------------------------------------------------------------- cases

@dataclass
class Case:
    name: str
    status: int
    code: str
    mentions: tuple[str, ...]
    send: Callable[[Api, dict], Any]
    setup: Callable[[Api], dict] = nothing
    bug: bool = field(default=False)


def post(path: str, body: Any, as_: str | None = "staff", headers: dict | None = None):
    return lambda api, ctx: api.post(path.format(**ctx), body, as_=as_, headers=headers)


def raw(path: str, data: bytes | str, content_type: str = "application/json"):
    return lambda api, ctx: api.post(path, data=data, content_type=content_type)


CASES = [
    # ---- identifiers
    Case("code_wrong_check_character", 400, "invalid_value",
         ("check character", f"should be {code(1)[17]}", "code"),
         post(ORGS, registration(1, code=wrong_check_character(code(1))))),
    Case("code_with_forbidden_letters", 400, "invalid_value",
         ("character set: IOSVZ", "code"),
         post(ORGS, registration(1, code=code(1)[:8] + "IOSVZ" + code(1)[13:]))),
    Case("code_category_not_matching_type", 400, "invalid_value",
         ("position 2", "social_association", "code"),
         post(ORGS, registration(1, code=code(1, category="3")))),
    Case("identity_number_too_short", 400, "invalid_value", ("person.id_number",),
         post(ORG + "/leaders", leader(1, ["chair"], person={
             "name": "张某", "id_number": id_number(n=1)[:17]})), registered),
    # ---- enums
    Case("unknown_type", 400, "invalid_value", ("type", "social_association"),
         post(ORGS, registration(1, type="company"))),
    Case("unknown_result", 400, "invalid_value", ("result", "basically_qualified"),
         post(ORG + "/annual-inspections", {"year": 2021, "result": "excellent",
                                            "findings": "x", "effective_date": "2022-06-01"}),
         with_report),
    Case("unknown_penalty_kind", 400, "invalid_value", ("kind", "suspension"),
         post(ORG + "/penalties", penalty(kind="detention")), registered),
    Case("unknown_risk_level", 400, "invalid_value", ("risk_level",),
         post(ORG + "/major-events/{report}/review", {"opinion": "x", "risk_level": "extreme"}),
         with_major_event),
    Case("unknown_major_event_category", 400, "invalid_value", ("category",),
         post(ORG + "/major-events", major_event(category="party")), registered),
    Case("unknown_credit_list", 400, "invalid_value", ("list", "abnormal_activity"),
         post(ORG + "/credit-listings", {"list": "blacklist", "reason": "x"}), registered),
    Case("unknown_leader_role", 400, "invalid_value", ("roles[0]", "legal_representative"),
         post(ORG + "/leaders", leader(1, ["treasurer"])), registered),
    # ---- shape of the body
    Case("missing_required_field", 400, "invalid_value", ("name", "required"),
         post(ORGS, without(registration(1), "name"))),
    Case("unknown_extra_field", 400, "invalid_value", ("unknown field", "website"),
         post(ORGS, registration(1, website="https://example.org"))),
    Case("impossible_date", 400, "invalid_value", ("founded_on", "2023-02-30"),
         post(ORGS, registration(1, founded_on="2023-02-30"))),
    Case("wrong_date_format", 400, "invalid_value", ("founded_on", "YYYY-MM-DD"),
         post(ORGS, registration(1, founded_on="2023/02/28"))),
    Case("negative_registered_funds", 400, "invalid_value", ("registered_funds",),
         post(ORGS, registration(1, registered_funds=-1))),
    Case("negative_fine", 400, "invalid_value", ("amount",),
         post(ORG + "/penalties", penalty(amount=-500)), registered),
    Case("fine_without_amount", 400, "invalid_value", ("amount",),
         post(ORG + "/penalties", penalty(amount=...)), registered),
    Case("name_longer_than_200", 400, "invalid_value", ("name", "200"),
         post(ORGS, registration(1, name="协" * 201))),
    Case("string_for_a_number", 400, "invalid_value", ("year", "whole number"),
         post(ORG + "/annual-reports", {**report(2021), "year": "2021"}), registered),
    Case("number_for_a_string", 400, "invalid_value", ("name", "string"),
         post(ORGS, registration(1, name=12345))),
    Case("list_for_an_object", 400, "invalid_value", ("domicile", "object"),
         post(ORGS, registration(1, domicile=["上海市杨浦区示例路1号", COMMITTEE]))),
    Case("not_json", 400, "malformed_json", ("JSON",),
         raw(ORGS, "{'code': '51310110MJ0000001B',")),
    Case("wrong_content_type", 415, "unsupported_media_type", ("Content-Type",),
         raw(ORGS, json.dumps(registration(1)), "text/plain")),
    Case("body_over_64_KiB", 413, "request_entity_too_large", ("limit",),
         raw(ORGS, json.dumps(registration(1, business_scope="志" * 30000)))),
    Case("deeply_nested_list", 400, "malformed_json", ("JSON",),
         raw(ORGS, "[" * 60000)),
    Case("rectification_deadline_before_effective_date", 400, "invalid_value", ("deadline",),
         post(ORG + "/rectifications", {"notice_number": "杨民社整〔2023〕1号", "issues": ["x"],
                                        "deadline": "2023-01-31",
                                        "effective_date": "2023-02-01"}), registered),
    # ---- unknown things
    Case("unknown_organization", 404, "not_found", (code(9),),
         post(f"{ORGS}/{code(9)}/annual-reports", report(2021))),
    # ---- domain rules
    Case("filing_after_deregistration", 422, "closed_organization", ("deregistered",),
         post(ORG + "/annual-reports", report(2021)), deregistered),
    Case("second_annual_report_same_year", 422, "one_annual_report_per_year",
         ("year", "2021"), post(ORG + "/annual-reports", report(2021, income=1)), with_report),
    Case("qualified_without_report", 422, "unfiled_report_unqualified", ("result",),
         post(ORG + "/annual-inspections", {"year": 2021, "result": "qualified",
                                            "findings": "x", "effective_date": "2022-06-01"}),
         registered),
    Case("exempt_year", 422, "six_month_exemption", ("year", "exempt"),
         post(ORG + "/annual-reports", report(2023)), registered_late_in_2023),
    Case("second_legal_representative", 422, "one_legal_representative", ("replaces",),
         post(ORG + "/leaders", leader(2, ["legal_representative"])),
         with_legal_representative),
    Case("legal_representative_departs", 422, "one_legal_representative",
         ("legal representative",),
         post(ORG + "/leaders/{lr}/departure", {"departure_reason": "辞职",
                                                "departure_audit_done": True,
                                                "effective_date": "2022-01-01"}),
         with_legal_representative),
    Case("serving_official_without_approval", 422, "serving_official_approval",
         ("approval_reference",),
         post(ORG + "/leaders", leader(2, ["chair"], official_status="serving")), registered),
    Case("on_site_with_one_inspector", 422, "two_inspectors_on_site", ("inspectors",),
         post(ORG + "/inspections", inspection(on_site=True, inspectors=["王某"])),
         registered),
    Case("idempotency_key_reused", 422, "idempotency_key_reused", ("Idempotency-Key",),
         post(ORG + "/interviews", interview(topics=["别的议题"]),
              headers={"Idempotency-Key": "iv-2023-1"}), with_keyed_interview),
    # ---- conflicts
    Case("duplicate_registration", 409, "already_registered", (code(1),),
         post(ORGS, registration(1, name="另一个名称")), registered),
    Case("stale_if_match", 409, "version_conflict", ("version",),
         post(ORG + "/interviews", interview(), headers={"If-Match": '"7"'}), registered),
    Case("malformed_if_match", 400, "bad_if_match", ("If-Match",),
         post(ORG + "/interviews", interview(), headers={"If-Match": "version seven"}),
         registered),
    # ---- who may do what, where
    Case("no_token", 401, "unauthenticated", ("token",),
         post(ORGS, registration(1), as_=None)),
    Case("unknown_token", 401, "unauthenticated", ("token",),
         post(ORGS, registration(1), as_="staff.0badf00d.not-the-secret")),
    Case("information_officer_registers", 403, "forbidden", ("information_officer", "register"),
         post(ORGS, registration(1), as_="officer")),
    Case("staff_outside_jurisdiction", 403, "forbidden_jurisdiction", ("jurisdiction",),
         post(ORG + "/interviews", interview(), as_="other_staff"), registered),
    Case("organization_reads_another", 403, "forbidden_jurisdiction", ("jurisdiction",),
         lambda api, ctx: api.get(f"{ORGS}/{code(2)}", as_="org1"), second_org_too),
    # ---- application bugs: these fail until the application is fixed (see the report)
    Case("change_domicile_to_null", 400, "invalid_value", ("changes.domicile",),
         post(ORG + "/changes", change(domicile=None)), registered, bug=True),
    Case("change_name_to_null", 400, "invalid_value", ("changes.name",),
         post(ORG + "/changes", change(name=None)), registered, bug=True),
    Case("lone_surrogate_in_text", 400, "invalid_value", ("person_name",),
         lambda api, ctx: api.post(
             ORG + "/interviews", data=b'{"person_name": "\\ud800", "person_role": "x",'
                                       b' "topics": ["a"], "effective_date": "2023-03-01"}',
             content_type="application/json"), registered, bug=True),
    Case("identity_number_in_fullwidth_digits", 400, "invalid_value", ("id_number",),
         post(ORG + "/leaders", leader(9, ["chair"], person={
             "name": "钱某", "id_number": id_number(n=9)[:17].translate(FULLWIDTH)
             + id_number(n=9)[17]})),
         with_banned_person, bug=True),
    Case("report_for_a_year_not_yet_ended_via_future_effective_date", 400, "invalid_value",
         ("effective_date",),
         lambda api, ctx: api.post(ORG + "/annual-reports", report(
             today().year, effective_date=str(today().replace(month=1, day=1)
                                              + timedelta(days=400)))),
         registered, bug=True),
]


@pytest.fixture
def web(api) -> Api:
    """Unexpected exceptions answer 500 (as in production) instead of reaching the test."""
    api.client.application.config["PROPAGATE_EXCEPTIONS"] = False
    return api


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_refused(case: Case, web: Api, pg_app):
    ctx = case.setup(web)
    before = stored_event_count(pg_app)
    response = case.send(web, ctx)
    body = response.get_json(silent=True)
    assert response.status_code == case.status, (response.status_code, body)
    assert response.mimetype == "application/json"
    error = body["error"]
    assert error["status"] == case.status
    assert error["code"] == case.code, error
    assert isinstance(error["message"], str) and error["message"]
    said = f"{error['message']} {error.get('field') or ''}"
    for word in case.mentions:
        assert word in said, error
    assert stored_event_count(pg_app) == before, "a refused request recorded events"


def test_there_are_enough_cases():
    assert len([c for c in CASES if not c.bug]) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
