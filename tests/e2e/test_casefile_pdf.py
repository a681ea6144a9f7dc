"""The printable case file (issue 14 item 6): a demo case file as a PDF whose text holds
the bureau's heading, the organization's name and code, when it was produced (China
Standard Time) and the event-log position it reflects, in Chinese or English, identity
numbers masked; the same scope as the case file (403 and no PDF outside it, time travel
included); a time-travel PDF shows the past state; the page links to it; the OpenAPI
document declares it. The first page is saved as a PNG in var/test-artifacts/pdf/."""

from __future__ import annotations

import io
import re
import time
from datetime import date
from pathlib import Path

import pypdf
import pypdfium2
import pytest

from adapters.seed.demo import generate
from tests.conftest import ROOT, meta, stored_event_count
from tests.e2e.test_pages import sign_in
from tests.support import code, open_accounts, registration

TODAY = date(2026, 6, 30)
ARTIFACTS = ROOT / "var" / "test-artifacts" / "pdf"
ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9X](?![0-9])")


@pytest.fixture
def demo(pg_app) -> dict:
    summary = generate(pg_app, orgs=12, years=4, seed=2024, echo=lambda _: None, today=TODAY)
    pg_app.establish_node(code="310110000000", name="杨浦区", meta=meta("2026-06-01"))
    return summary


@pytest.fixture
def tokens(demo, pg_app) -> dict[str, str]:
    """The test accounts, opened after the demo was loaded (as `make run` does)."""
    return open_accounts(pg_app, meta("2020-01-01", actor="setup", role="admin"))


def pdf_text(response) -> str:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def save_first_page(pdf: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil().save(path)
    return path


def test_a_demo_case_file_as_pdf(api, demo, pg_app):
    identifier = demo["demo_organization"]
    head = stored_event_count(pg_app)
    deadline = time.monotonic() + 60  # the worker, started after the demo, catches up first
    while True:  # (each read waits up to its own bound for the view to reach the head)
        read = api.get(f"/api/v1/organizations/{identifier}?after={head}")
        if "X-Position" in read.headers or time.monotonic() > deadline:
            break
    assert read.status_code == 200 and "X-Position" in read.headers, read.headers
    position, name = read.headers["X-Position"], read.json["name"]
    response = api.get(f"/api/v1/organizations/{identifier}/pdf")
    text = pdf_text(response)
    assert f'filename="casefile-{identifier}.pdf"' in response.headers["Content-Disposition"]
    assert "杨浦区民政局" in text and "社 会 组 织 案 卷" in text  # the bureau's heading
    assert name in text and identifier in text
    assert f"事件日志第 {position} 号" in text
    assert re.search(r"生成时间 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d（北京时间，UTC\+8）", text)
    assert "演示数据" in text  # demo data says so
    assert "法定代表人" in text and "legal_representative" not in text
    masked = re.findall(r"[0-9]{3}\*{11}[0-9X]{4}", text)
    assert masked and not ID_NUMBER.search(text)
    assert save_first_page(response.data, "casefile-demo-zh").stat().st_size > 10_000

    english = api.get(f"/api/v1/organizations/{identifier}/pdf?lang=en")
    text = pdf_text(english)
    assert "杨浦区 Civil Affairs Bureau" in text and "Case file of a social organization" in text
    assert f"Position {position} of the event log" in text
    assert "China Standard Time (UTC+8)" in text and "Legal representative" in text
    save_first_page(english.data, "casefile-demo-en")


def test_outside_the_case_files_scope_there_is_no_pdf(api, demo):
    identifier = demo["demo_organization"]
    for who in ("other_staff", "org1"):  # another district; another organization
        for query in ("", "?as_of=2024-01-01", "?known_at=2025-01-01T00:00:00%2B08:00"):
            response = api.get(f"/api/v1/organizations/{identifier}/pdf{query}", as_=who)
            assert response.status_code == 403, (who, query)
            assert not response.data.startswith(b"%PDF")
            assert response.json["error"]["code"] in ("forbidden", "forbidden_jurisdiction")
    assert api.get(f"/api/v1/organizations/{identifier}/pdf", as_=None).status_code == 401
    assert api.get(f"/api/v1/organizations/{code(77)}/pdf").status_code == 404
    assert api.get(f"/api/v1/organizations/{identifier}/pdf?as_of=someday").status_code == 400


def test_a_time_travel_pdf_shows_the_past_state(api):
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    path = api.org(1)
    before = api.get(f"{path}/events").json["events"][-1]["recorded_at"]
    renamed = api.post(f"{path}/changes", {"changes": {"name": "杨浦区示例公益服务协会"},
                                           "approval_date": "2023-01-01",
                                           "effective_date": "2023-01-01"})
    assert renamed.status_code == 200, renamed.json
    now = pdf_text(api.get(f"{path}/pdf"))
    assert "杨浦区示例公益服务协会" in now and "当前状态" in now
    for query, shown in (("?as_of=2022-12-31", "截至 2022-12-31 生效的状态"),
                         (f"?known_at={before.replace('+', '%2B')}", "已知悉的状态")):
        past = api.get(f"{path}/pdf{query}")
        text = pdf_text(past)
        assert "杨浦区示例志愿者协会1" in text and "杨浦区示例公益服务协会" not in text, query
        assert shown in text and "事件日志第" in text
    save_first_page(past.data, "casefile-known-at")


def test_the_case_file_page_links_to_its_pdf(api, demo):
    identifier = demo["demo_organization"]
    client = api.client.application.test_client()
    assert client.get(f"/organizations/{identifier}/pdf").status_code == 302  # sign in
    sign_in(client)
    page = client.get(f"/organizations/{identifier}?as_of=2024-01-01")
    link = re.search(r'href="([^"]+)">打印 / PDF</a>', page.text).group(1)
    assert link == f"/organizations/{identifier}/pdf?as_of=2024-01-01"
    text = pdf_text(client.get(link))
    assert "截至 2024-01-01 生效的状态" in text and identifier in text
    sign_in(client, "other_staff")
    refused = client.get(f"/organizations/{identifier}/pdf")
    assert refused.status_code == 403 and not refused.data.startswith(b"%PDF")


def test_the_openapi_document_declares_the_pdf(api):
    operation = api.get("/openapi.json").json["paths"]["/api/v1/organizations/{code}/pdf"]["get"]
    assert "application/pdf" in operation["responses"]["200"]["content"]
    assert {"as_of", "known_at", "lang"} <= {p["name"] for p in operation["parameters"]}
    assert operation["security"] == [{"bearer": []}]
