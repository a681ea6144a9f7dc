"""The import page: staff upload a register (multipart, with the session's CSRF token) and
see the count imported, or every error by row and column with nothing recorded; other
roles are refused."""

from __future__ import annotations

import io
import re

from adapters.seed.importer import COLUMNS
from tests.conftest import stored_event_count
from tests.e2e.test_pages import csrf, sign_in
from tests.support import code

HEADER = ",".join(COLUMNS)


def register_csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8-sig")


def association(n: int, jurisdiction: str = "310110001001", code_: str | None = None) -> str:
    return (f"{code_ or code(n)},导入示例协会{n},social_association,上海市杨浦区示例路{n}号,"
            f"{jurisdiction},志愿服务,30000,杨浦区民政局,2020-05-01,2025-04-30,2020-05-01,")


def upload(client, token: str, data: bytes, filename: str = "register.csv"):
    return client.post("/import", data={"csrf_token": token,
                                        "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_staff_import_a_register_or_see_every_error(api):
    events = api.client.application.extensions["casefiles"]
    client = api.client.application.test_client()
    assert client.get("/import").status_code == 302  # to the sign-in page
    sign_in(client, "staff")
    form = client.get("/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    token = csrf(form.text)
    community = ",导入示例合唱队,community_organization,示例路3号,310110001002,合唱,,,2021-01-01,,2021-01-04,"

    done = upload(client, token, register_csv(association(1), association(2), community))
    assert done.status_code == 200, done.text
    assert 'data-imported="3"' in done.text
    organization = api.get(api.org(1)).get_json()
    assert organization["name"] == "导入示例协会1" and organization["imported"] is True
    recorded = stored_event_count(events)

    bad = code(4)[:-1] + ("A" if code(4)[-1] != "A" else "B")
    refused = upload(client, token, register_csv(association(3), association(4, code_=bad),
                                                 association(5, jurisdiction="310230001001")))
    assert refused.status_code == 400
    assert 'data-imported="0"' in refused.text
    # every error by row, column and message, in the page's language
    assert re.search(r'class="row">3</td>\s*<td class="field">统一社会信用代码</td>\s*'
                     r'<td>统一社会信用代码校验位不正确：第 18 位应为 [0-9A-Z]，而不是 [0-9A-Z]。</td>',
                     refused.text)
    assert re.search(r'class="field">所属居委会</td>\s*<td>310230001001 不在您的管辖范围'
                     r'（310110000000）内。', refused.text)
    client.set_cookie("lang", "en")
    english = upload(client, token, register_csv(association(5, jurisdiction="310230001001")))
    client.delete_cookie("lang")
    assert re.search(r'class="field">jurisdiction</td>\s*<td>310230001001 lies outside your '
                     r'jurisdiction 310110000000.', english.text)
    assert stored_event_count(events) == recorded  # nothing recorded
    assert api.get(api.org(3)).status_code == 404

    # uploads may be larger than the API's 64 KiB bodies: here one error in 600 rows
    large = register_csv(*(association(n) for n in range(10, 610)), association(10))
    assert len(large) > 64 * 1024
    report = upload(client, token, large)
    assert report.status_code == 400
    assert re.search(r'class="row">602</td>\s*<td class="field">统一社会信用代码</td>',
                     report.text)
    assert upload(client, "wrong", register_csv(association(6))).status_code == 403  # CSRF
    assert stored_event_count(events) == recorded


def test_import_page_refuses_roles_that_may_not_register(api):
    client = api.client.application.test_client()
    sign_in(client, "officer")
    page = client.get("/import")
    assert page.status_code == 403
    assert 'type="file"' not in page.text
    token = csrf(client.get("/organizations").text)
    assert upload(client, token, register_csv(association(1))).status_code == 403
    assert api.get(api.org(1)).status_code == 404
