"""The staff pages and the public disclosure through a browser-like client: sign-in with
server-side sessions, CSRF on every form, forms that record through the same code as the
API, time travel, the audit trail, the network dashboard, Chinese and English."""

from __future__ import annotations

import re

from tests.support import code, id_number, post_signin, registration

PASSWORD = "correct horse battery"


def sign_in(client, username: str = "staff"):
    response = post_signin(client, {"username": username, "password": PASSWORD,
                                    "next": "/organizations"})
    assert response.status_code == 302, response.text
    return response


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_sign_in_sessions_and_csrf(api):
    client = api.client.application.test_client()
    assert client.get("/organizations").status_code == 302  # to the sign-in page
    wrong = post_signin(client, {"username": "staff", "password": "nope"})
    assert wrong.status_code == 401
    client.set_cookie("casefile_session", "planted-by-an-attacker")
    response = sign_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    session_id = re.search(r"casefile_session=([^;]+)", cookie).group(1)
    assert session_id != "planted-by-an-attacker"  # a fresh session id at sign-in
    page = client.get("/organizations")
    assert page.status_code == 200 and "社会组织" in page.text
    assert client.post("/signout").status_code == 403  # no CSRF token
    assert client.post("/signout", data={"csrf_token": csrf(page.text)}).status_code == 302
    replay = api.client.application.test_client()
    replay.set_cookie("casefile_session", session_id)
    assert replay.get("/organizations").status_code == 302  # ended on the server
    assert replay.get(api.org(1)).status_code == 401


def test_record_through_a_form_with_validation_messages(api):
    api.post("/api/v1/organizations", registration(1, effective_date="2024-01-10"))
    client = api.client.application.test_client()
    sign_in(client)
    form = client.get(f"/organizations/{code(1)}/forms/rectifications")
    assert form.status_code == 200 and 'name="deadline"' in form.text
    token = csrf(form.text)
    refused = client.post(f"/organizations/{code(1)}/forms/rectifications", data={
        "csrf_token": token, "notice_number": "杨民社整〔2024〕9号", "issues": "财务制度不健全",
        "deadline": "2024-02-30", "effective_date": "2024-02-01"})
    assert refused.status_code == 400
    assert re.search(r'name="deadline".*?field-error[^>]*>[^<]*2024-02-30', refused.text, re.S)
    no_token = client.post(f"/organizations/{code(1)}/forms/rectifications", data={
        "notice_number": "N", "issues": "x", "deadline": "2024-03-30"})
    assert no_token.status_code == 403
    done = client.post(f"/organizations/{code(1)}/forms/rectifications", data={
        "csrf_token": token, "notice_number": "杨民社整〔2024〕9号", "issues": "财务制度不健全",
        "deadline": "2024-03-30", "effective_date": "2024-02-01"})
    assert done.status_code == 302
    case = client.get(f"/organizations/{code(1)}")
    assert "杨民社整〔2024〕9号" in case.text
    past = client.get(f"/organizations/{code(1)}?as_of=2024-01-31")
    assert past.status_code == 200 and "杨民社整〔2024〕9号" not in past.text
    assert client.get(f"/organizations/{code(1)}/audit").status_code == 200
    english = client.get(f"/organizations/{code(1)}?lang=en")
    assert "Supervision and penalties" in english.text


def test_pages_respect_role_and_jurisdiction(api):
    api.post("/api/v1/organizations", registration(1))
    other = api.client.application.test_client()
    sign_in(other, "other_staff")
    assert other.get(f"/organizations/{code(1)}").status_code == 403
    officer = api.client.application.test_client()
    sign_in(officer, "officer")
    form = officer.get(f"/organizations/{code(1)}/forms/penalties")
    refused = officer.post(f"/organizations/{code(1)}/forms/penalties", data={
        "csrf_token": csrf(form.text), "decision_number": "P1", "kind": "warning",
        "legal_basis": "x", "decision_date": "2024-01-01"})
    assert refused.status_code == 400 and "您的角色无权办理此事项。" in refused.text
    network = officer.get("/network/310110001001")
    assert network.status_code == 200 and "310110001001" in network.text


def test_public_disclosure_shows_no_personal_data(api):
    api.post("/api/v1/organizations", registration(1))
    number = id_number(n=31)
    api.post(f"{api.org(1)}/leaders", {"person": {"name": "赵敏", "id_number": number},
                                       "roles": ["legal_representative"],
                                       "term_start": "2021-01-01", "term_end": "2025-12-31"})
    anonymous = api.client.application.test_client()
    page = anonymous.get(f"/public/organizations/{code(1)}")
    as_json = anonymous.get(f"/public/organizations/{code(1)}?format=json")
    search = anonymous.get("/public/organizations?q=协会")
    for response in (page, as_json, search):
        assert response.status_code == 200
        assert number not in response.text and number[-4:] not in response.text
        assert "赵敏" not in response.text
    assert registration(1)["name"] in page.text


def test_an_admin_manages_accounts_and_every_change_is_recorded(api, pg_app):
    from tests.conftest import meta

    pg_app.open_account(username="root", password=PASSWORD, display_name="管理员", role="admin",
                        jurisdiction=None, organization=None, meta=meta())
    client = api.client.application.test_client()
    sign_in(client, "root")
    listing = client.get("/admin/accounts")
    assert listing.status_code == 200 and "officer" in listing.text
    token = csrf(listing.text)
    opened = client.post("/admin/accounts", data={
        "csrf_token": token, "action": "open", "username": "new-officer",
        "password": "a long enough pass", "role": "information_officer",
        "jurisdiction": "310110002001"})
    assert opened.status_code == 302
    refused = client.post("/admin/accounts", data={
        "csrf_token": token, "action": "grant", "username": "new-officer",
        "role": "registration_staff", "jurisdiction": ""})
    assert refused.status_code == 400 and "jurisdiction" in refused.text
    client.post("/admin/accounts", data={"csrf_token": token, "action": "grant",
                                         "username": "new-officer",
                                         "role": "sub_district_office",
                                         "jurisdiction": "310110002000"})
    client.post("/admin/accounts", data={"csrf_token": token, "action": "disable",
                                         "username": "new-officer"})
    account = pg_app.get_account("new-officer")
    assert account.role == "sub_district_office" and account.disabled
    kinds = [type(e).__name__ for e in pg_app.events.get(account.id)]
    assert kinds == ["Opened", "Granted", "Disabled"]
    staff = api.client.application.test_client()
    sign_in(staff)
    assert staff.get("/admin/accounts").status_code == 403


def test_the_timeline_tab_travels_in_time_with_the_other_tabs(api):
    import time
    from datetime import datetime, timezone
    from urllib.parse import quote

    api.post("/api/v1/organizations", registration(1, effective_date="2024-01-10"))
    client = api.client.application.test_client()
    sign_in(client)
    time.sleep(0.05)
    between = datetime.now(timezone.utc).isoformat()
    time.sleep(0.05)
    assert api.post(f"{api.org(1)}/rectifications", {
        "notice_number": "杨民社整〔2024〕7号", "issues": ["账目不清"], "deadline": "2024-06-30",
        "effective_date": "2024-02-01"}).status_code in (200, 201)

    def timeline(query: str = "") -> str:
        page = client.get(f"/organizations/{code(1)}{query}")
        assert page.status_code == 200
        return page.text.split('id="timeline"', 1)[1]

    assert "责令整改" in timeline() and "成立登记" in timeline()
    for query in ("?as_of=2024-01-31", f"?known_at={quote(between)}"):
        past = timeline(query)
        assert "成立登记" in past and "责令整改" not in past, query
        assert "杨民社整〔2024〕7号" not in client.get(f"/organizations/{code(1)}{query}").text
    later = timeline("?as_of=2024-02-01")
    assert "责令整改" in later
    document = api.get(f"{api.org(1)}?as_of=2024-01-31").json
    assert [e["type"] for e in document["timeline"]] == ["Registered"]
