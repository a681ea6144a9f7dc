"""API tokens and sessions end (issue 15, finding 8): every token has a name, an expiry
(TOKEN_LIFETIME_DAYS, default 90) and a last-used time; a user revokes one of their own
tokens and an admin one of anybody's (API, page, CLI); a new password or a disabled
account ends every session and token of the account; a session also ends a fixed time
after its sign-in (SESSION_ABSOLUTE_HOURS), however busy; an expired token is refused
even though the process verified it before (its per-process cache)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from adapters.bootstrap import build_casefiles
from adapters.cli.main import main
from adapters.web import close_app, create_app
from tests.conftest import CIPHER_KEY, PSEUDONYM_KEY, meta
from tests.support import Api, open_accounts, post_signin

PASSWORD = "correct horse battery"
NEW_PASSWORD = "tulip submarine orchestra"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def signed_in_client(api, username: str = "staff"):
    client = api.client.application.test_client()
    assert post_signin(client, {"username": username, "password": PASSWORD}).status_code == 302
    assert client.get("/account").status_code == 200
    return client


@pytest.fixture
def admin(api, pg_app):
    pg_app.open_account(username="root", password=PASSWORD, display_name="root",
                        role="admin", jurisdiction=None, organization=None, meta=meta())
    api.tokens["root"] = pg_app.issue_token("root", meta())
    return api


def test_a_token_has_a_name_an_expiry_and_a_last_use(api):
    issued = api.post("/api/v1/account/tokens", {"name": "报表系统"})
    assert issued.status_code == 201, issued.json
    token, token_id = issued.json["token"], issued.json["id"]
    assert token.startswith("staff.") and issued.json["name"] == "报表系统"
    expires = datetime.fromisoformat(issued.json["expires_at"])
    lifetime = expires - datetime.now(timezone.utc)
    assert timedelta(days=89) < lifetime <= timedelta(days=90)
    listed = api.get("/api/v1/account/tokens").json
    mine = {t["id"]: t for t in listed["tokens"]}[token_id]
    assert mine["last_used_at"] is None and "token" not in mine and "hash" not in str(mine)
    assert listed["total"] == len(listed["tokens"]) == 2  # the fixture's and this one
    assert api.get("/api/v1/rules", headers=bearer(token), as_=None).status_code == 200
    mine = {t["id"]: t for t in api.get("/api/v1/account/tokens").json["tokens"]}[token_id]
    assert mine["last_used_at"] is not None


def test_a_user_revokes_one_of_their_tokens_and_an_admin_one_of_anybodys(admin):
    api = admin
    first = api.post("/api/v1/account/tokens", {"name": "one"}).json
    second = api.post("/api/v1/account/tokens", {"name": "two"}).json
    assert api.get("/api/v1/rules", headers=bearer(first["token"]), as_=None).status_code == 200
    revoked = api.post(f"/api/v1/account/tokens/{first['id']}/revocation", {})
    assert revoked.status_code == 200
    assert first["id"] not in {t["id"] for t in revoked.json["tokens"]}
    assert api.get("/api/v1/rules", headers=bearer(first["token"]), as_=None).status_code == 401
    assert api.get("/api/v1/rules", headers=bearer(second["token"]), as_=None).status_code == 200
    # nobody but an admin revokes another account's token
    path = f"/api/v1/accounts/staff/tokens/{second['id']}/revocation"
    assert api.post(path, {}, as_="other_staff").status_code == 403
    assert api.post(path, {}, as_="root").status_code == 200
    assert api.get("/api/v1/rules", headers=bearer(second["token"]), as_=None).status_code == 401
    assert api.post(path, {}, as_="root").status_code == 404  # gone
    assert api.get("/api/v1/rules").status_code == 200  # the account's other token works
    admin_view = api.get("/api/v1/accounts/staff", as_="root").json
    assert admin_view["status"] == "active" and len(admin_view["tokens"]) == 1


def test_tokens_are_listed_and_revoked_on_the_pages(admin, pg_app):
    api = admin
    token = api.post("/api/v1/account/tokens", {"name": "页面吊销"}).json
    client = signed_in_client(api)
    mine = client.get("/account")
    assert mine.status_code == 200 and "页面吊销" in mine.text and "北京时间" in mine.text
    form = client.get(f"/forms/account/tokens/{token['id']}/revocation?next=/account")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = client.post(f"/forms/account/tokens/{token['id']}/revocation",
                       data={"csrf_token": csrf, "next": "/account"})
    assert done.status_code == 302
    assert "页面吊销" not in client.get("/account").text
    assert api.get("/api/v1/rules", headers=bearer(token["token"]), as_=None).status_code == 401
    root = signed_in_client(api, "root")
    page = root.get("/admin/accounts/staff")
    assert page.status_code == 200 and "/revocation" in page.text


def test_a_new_password_ends_every_session_and_token(admin, pg_app):
    api = admin
    browser = signed_in_client(api)
    token = api.tokens["staff"]
    assert api.get("/api/v1/rules").status_code == 200  # verified, and cached
    root = signed_in_client(api, "root")
    page = root.get("/admin/accounts")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    weak = root.post("/admin/accounts", data={"csrf_token": csrf, "action": "password",
                                              "username": "staff", "password": "password1234"})
    assert weak.status_code == 400 and "常见" in weak.text  # the policy applies here too
    assert browser.get("/organizations").status_code == 200
    changed = root.post("/admin/accounts", data={"csrf_token": csrf, "action": "password",
                                                 "username": "staff",
                                                 "password": NEW_PASSWORD})
    assert changed.status_code == 302
    assert browser.get("/organizations").status_code == 302  # to the sign-in page
    assert api.get("/api/v1/rules", headers=bearer(token), as_=None).status_code == 401
    assert api.get("/api/v1/account", as_="other_staff").status_code == 200  # not theirs
    # a password set elsewhere (the CLI, the use case itself) ends the sessions too
    again = api.client.application.test_client()
    assert post_signin(again, {"username": "staff", "password": NEW_PASSWORD}
                       ).status_code == 302
    assert again.get("/organizations").status_code == 200
    pg_app.change_password("staff", "violet harbour lantern", meta())
    assert again.get("/organizations").status_code == 302


def test_changing_ones_own_password_needs_the_current_one_and_signs_out(api):
    client = signed_in_client(api)
    page = client.get("/account")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    wrong = client.post("/account", data={"csrf_token": csrf, "current_password": "nope",
                                          "password": NEW_PASSWORD})
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    short = client.post("/account", data={"csrf_token": csrf, "current_password": PASSWORD,
                                          "password": "short"})
    assert short.status_code == 400 and "12" in short.text
    named = client.post("/account", data={"csrf_token": csrf, "current_password": PASSWORD,
                                          "password": "staff-staff-staff-2024"})
    assert named.status_code == 400 and "用户名" in named.text
    done = client.post("/account", data={"csrf_token": csrf, "current_password": PASSWORD,
                                         "password": NEW_PASSWORD})
    assert done.status_code == 302 and "/signin" in done.headers["Location"]
    assert client.get("/organizations").status_code == 302
    assert api.get("/api/v1/rules").status_code == 401  # the token ended too


def test_disabling_an_account_ends_its_sessions_and_tokens(admin):
    api = admin
    browser = signed_in_client(api, "street")
    assert api.get("/api/v1/rules", as_="street").status_code == 200
    root = signed_in_client(api, "root")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                     root.get("/admin/accounts").text).group(1)
    assert root.post("/admin/accounts", data={"csrf_token": csrf, "action": "disable",
                                              "username": "street"}).status_code == 302
    assert browser.get("/organizations").status_code == 302
    assert api.get("/api/v1/rules", as_="street").status_code == 401


def short_lived(postgres_env, monkeypatch, **settings):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    app = build_casefiles(env={**postgres_env, **settings})
    tokens = open_accounts(app, meta("2020-01-01", actor="setup", role="admin"))
    web = create_app({"CASEFILES": app, "TESTING": True})
    return app, web, Api(web.test_client(), tokens)


def test_an_expired_token_is_refused_even_when_this_process_verified_it(
        postgres_env, worker, monkeypatch):
    app, web, api = short_lived(postgres_env, monkeypatch, TOKEN_LIFETIME_DAYS="0.00004")
    try:  # 3.5 seconds
        assert api.get("/api/v1/rules").status_code == 200  # verified and cached
        time.sleep(4)
        refused = api.get("/api/v1/rules")
        assert refused.status_code == 401
    finally:
        close_app(web)
        app.close()


def test_a_session_ends_its_absolute_lifetime_after_the_sign_in(
        postgres_env, worker, monkeypatch):
    app, web, api = short_lived(postgres_env, monkeypatch, SESSION_ABSOLUTE_HOURS="0.001")
    try:  # 3.6 seconds, while the idle timeout (30 minutes) never comes
        client = web.test_client()
        assert post_signin(client, {"username": "staff", "password": PASSWORD}
                           ).status_code == 302
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert client.get("/organizations").status_code == 200  # busy
            time.sleep(0.5)
        time.sleep(1.5)
        assert client.get("/organizations").status_code == 302
    finally:
        close_app(web)
        app.close()


def test_the_cli_lists_and_revokes_tokens(pg_app, postgres_env, database_url, tokens,
                                          tmp_path):
    env = {"DATABASE_URL": database_url, "POSTGRES_SCHEMA": postgres_env["POSTGRES_SCHEMA"],
           "CIPHER_KEY": CIPHER_KEY, "PSEUDONYM_KEY": PSEUDONYM_KEY,
           "CASEFILE_VAR": str(tmp_path)}
    runner = CliRunner()
    issued = runner.invoke(main, ["accounts", "token", "staff", "--name", "夜间导出"], env=env)
    assert issued.exit_code == 0, issued.output
    token_id = issued.output.strip().split(".")[1]
    listed = runner.invoke(main, ["accounts", "tokens", "staff"], env=env)
    assert listed.exit_code == 0 and "夜间导出" in listed.output and "expires" in listed.output
    assert "2 token(s)" in listed.output
    revoked = runner.invoke(main, ["accounts", "revoke", "staff", token_id], env=env)
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(Exception):
        pg_app.authenticate_token(issued.output.strip())
    weak = runner.invoke(main, ["accounts", "password", "staff"], env=env,
                         input="password1234\npassword1234\n")
    assert weak.exit_code != 0 and "common" in weak.output


def test_the_token_list_pages_in_the_api_and_on_the_account_page(admin):
    """A service account may hold many tokens: its list pages like every other."""
    from tests.demo_site import Page

    api = admin
    names = [f"接口{n}" for n in range(5)]
    for name in names:
        assert api.post("/api/v1/account/tokens", {"name": name}).status_code == 201
    everything = api.get("/api/v1/account/tokens").json
    total = everything["total"]
    assert total == len(everything["tokens"]) >= 6  # the fixture's and these
    seen, offset = [], 0
    while offset < total:
        page = api.get(f"/api/v1/account/tokens?limit=2&offset={offset}").json
        assert page["total"] == total and len(page["tokens"]) == min(2, total - offset)
        seen += [t["id"] for t in page["tokens"]]
        offset += 2
    assert seen == [t["id"] for t in everything["tokens"]]
    assert api.get("/api/v1/account/tokens?limit=0").status_code == 400

    client = signed_in_client(api)
    first = Page(client.get("/account?limit=2").get_data(as_text=True), "zh")
    assert first.pager == {"total": total, "offset": 0, "limit": 2}
    last = client.get(f"/account?limit=2&offset={total - 1}").get_data(as_text=True)
    assert names[-1] in last and names[0] not in last
    assert client.get("/account?offset=-1").status_code == 400
