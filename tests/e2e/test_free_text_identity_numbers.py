"""An identity number typed into any free-text field (an interview's topics, a penalty's
reason, a management suggestion's content...) is refused with 422
``identity_number_in_text`` naming the field, and nothing is recorded, shown or published;
the register import refuses such a row the same way, by row and column. A number that
fails its check character (an ordinary reference) passes, and so does the person's own
identity-number field."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from adapters.seed.importer import COLUMNS, import_register
from domain.meta import Meta
from tests.conftest import stored_event_count
from tests.e2e.test_pages import csrf, sign_in
from tests.support import code, id_number, registration

API = "/api/v1"
ORG = f"{API}/organizations/{code(1)}"
NUMBER = id_number("19850615", 8)  # 31011019850615008X
REFERENCE = NUMBER[:17] + "1"  # 18 digits with a wrong check character: not a person's


@pytest.fixture
def web(api, pg_app):
    assert api.post(f"{API}/organizations", registration(1)).status_code == 201
    api.client.application.config["PROPAGATE_EXCEPTIONS"] = False
    return api


def interview(**overrides) -> dict:
    return {"person_name": "张某", "person_role": "秘书长", "topics": ["财务管理"],
            "effective_date": "2023-03-01", **overrides}


def penalty(**overrides) -> dict:
    return {"decision_number": "杨民罚〔2024〕1号", "kind": "fine",
            "legal_basis": "《社会团体登记管理条例》第三十条", "amount": 5000,
            "decision_date": "2024-05-01", "effective_date": "2024-05-02", **overrides}


def suggestion(**overrides) -> dict:
    return {"number": "杨民建〔2024〕1号", "content": "建议加强财务管理",
            "effective_date": "2024-05-02", **overrides}


REFUSED = [
    ("interview_topics", "interviews",
     interview(topics=["财务管理", f"谈话对象身份证号{NUMBER}"]), "topics[1]"),
    ("interview_topics_lower_x", "interviews",
     interview(topics=[f"身份证{NUMBER.lower()}"]), "topics[0]"),
    ("interview_reason", "interviews", interview(reason=f"约谈{NUMBER}本人"), "reason"),
    ("interview_person_name", "interviews", interview(person_name=f"张某{NUMBER}"),
     "person_name"),
    ("penalty_meta_reason", "penalties", penalty(reason=f"当事人（身份证{NUMBER}）违规"),
     "reason"),
    ("penalty_legal_basis", "penalties", penalty(legal_basis=f"条例第三十条 {NUMBER}"),
     "legal_basis"),
    ("penalty_reference", "penalties", penalty(reference=NUMBER), "reference"),
    ("management_suggestion_content", "management-suggestions",
     suggestion(content=f"建议核实{NUMBER}的任职情况"), "content"),
    ("management_suggestion_number", "management-suggestions",
     suggestion(number=f"{NUMBER}号"), "number"),
]


@pytest.mark.parametrize("path, body, field", [pytest.param(p, b, f, id=name)
                                               for name, p, b, f in REFUSED])
def test_refused_naming_the_field_and_nothing_recorded(web, pg_app, path, body, field):
    before = stored_event_count(pg_app)
    response = web.post(f"{ORG}/{path}", body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "identity_number_in_text"
    assert error["field"] == field
    assert field in error["message"] and "person" in error["message"]
    assert NUMBER not in response.text and NUMBER.lower() not in response.text
    assert stored_event_count(pg_app) == before, "a refused request recorded events"
    assert NUMBER not in web.get(f"{ORG}/events").text


def test_a_registration_and_a_warning_are_searched_too(web, pg_app):
    before = stored_event_count(pg_app)
    named = web.post(f"{API}/organizations",
                     registration(2, domicile={"address": f"示例路{NUMBER}",
                                               "jurisdiction": "310110001001"}))
    assert named.status_code == 422 and named.get_json()["error"]["field"] == "domicile.address"
    warned = web.post(f"{API}/warnings", {"organization": code(1), "severity": "low",
                                          "source": "tip_off", "title": "群众反映",
                                          "description": f"举报人{NUMBER}"})
    assert warned.status_code == 422 and warned.get_json()["error"]["field"] == "description"
    assert stored_event_count(pg_app) == before


def test_a_reference_failing_the_check_and_the_person_field_are_accepted(web):
    assert web.post(f"{ORG}/interviews", interview(topics=[f"案卷号{REFERENCE}"]),
                    ).status_code in (200, 201)
    leader = web.post(f"{ORG}/leaders", {"person": {"name": "赵敏", "id_number": NUMBER},
                                         "roles": ["chair"], "term_start": "2021-01-01",
                                         "term_end": "2025-12-31"})
    assert leader.status_code == 201, leader.get_json()


def test_the_page_form_shows_the_message_in_chinese_by_the_field(web, pg_app):
    client = web.client.application.test_client()
    sign_in(client)
    url = f"/organizations/{code(1)}/forms/interviews"
    form = client.get(url)
    before = stored_event_count(pg_app)
    refused = client.post(url, data={"csrf_token": csrf(form.text), "person_name": "张某",
                                     "person_role": "秘书长",
                                     "topics": f"财务管理\n身份证{NUMBER}",
                                     "effective_date": "2023-03-01"})
    assert refused.status_code == 400  # a page form re-renders every refusal with 400
    assert re.search(r'field-error[^>]*>[^<]*身份证号码', refused.text), refused.text
    assert stored_event_count(pg_app) == before


# ------------------------------------------------------------------- the import

def test_the_import_refuses_such_a_row_naming_row_and_column(pg_app, tmp_path):
    def row(n: int, name: str = "", scope: str = "志愿服务") -> str:
        return (f"{code(n)},{name or f'示例协会{n}'},social_association,上海市杨浦区示例路{n}号,"
                f"310110001001,{scope},30000,,2020-05-01,2025-04-30,2020-05-01,")

    path = tmp_path / "register.csv"
    path.write_text("\n".join([",".join(COLUMNS), row(1), row(2, scope=f"联系人{NUMBER}"),
                               row(3, name=f"示例协会{REFERENCE}")]) + "\n", encoding="utf-8")
    meta = Meta(actor_id="staff", actor_role="registration_staff",
                effective_date=date(2026, 6, 30), correlation_id=str(uuid.uuid4()))
    report = import_register(pg_app, path, actor_meta_base=meta, today=date(2026, 6, 30))
    assert report.imported == 0 and report.rows_read == 3
    [error] = report.errors
    assert (error.row, error.field) == (3, "business_scope")
    assert "identity number" in error.message and NUMBER not in error.message
    assert stored_event_count(pg_app) == 0
