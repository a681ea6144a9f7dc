"""The sign-in controls (issue 15, finding 2 and "Sign-in controls"): failed sign-ins are
throttled per account and per client address with an increasing delay, the counts shared
by every process (PostgreSQL, not each process's memory); repeated failures lock the
account for a while (an event, visible to admins, lifted by time or by an admin); an
unknown username answers as a known one does, in the same time; the sign-in form carries
a CSRF token of its own (login CSRF)."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from click.testing import CliRunner

from adapters.cli.main import main
from adapters.web import close_app, create_app
from tests.conftest import CIPHER_KEY, PSEUDONYM_KEY, meta
from tests.support import post_signin, signin_form

PASSWORD = "correct horse battery"
GENEROUS = {"SIGNIN_ACCOUNT_LIMITS": "100 per minute", "SIGNIN_ADDRESS_LIMITS": "100 per minute",
            "SIGNIN_LOCKOUT_AFTER": "100 per hour"}


@pytest.fixture
def web_with(pg_app, tokens, worker):
    """A web application over the test store with these sign-in settings."""
    made = []

    def make(**settings):
        app = create_app({"CASEFILES": pg_app, "TESTING": True, **GENEROUS, **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        close_app(app)


def attempt(client, username: str, password: str, address: str = "10.0.0.1"):
    return post_signin(client, {"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_failures_are_throttled_per_account_known_or_not(web_with):
    client = web_with(SIGNIN_ACCOUNT_LIMITS="3 per minute").test_client()
    for username in ("staff", "nobody-here"):
        for _ in range(3):
            assert attempt(client, username, "wrong guess").status_code == 401
        refused = attempt(client, username, PASSWORD)  # not even the right one is checked
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert "分钟后再试" in refused.text
    assert attempt(client, "officer", PASSWORD).status_code == 302  # another account
    assert attempt(client, "street", PASSWORD).status_code == 302  # successes never count


def test_failures_are_throttled_per_address(web_with):
    client = web_with(SIGNIN_ADDRESS_LIMITS="4 per minute").test_client()
    for username in ("staff", "officer", "street", "auditor"):  # password spraying
        assert attempt(client, username, "wrong guess").status_code == 401
    assert attempt(client, "supervisor", PASSWORD).status_code == 429
    assert attempt(client, "supervisor", PASSWORD, address="10.0.0.2").status_code == 302


def test_the_delay_increases_window_by_window(web_with):
    client = web_with(SIGNIN_ACCOUNT_LIMITS="2 per 2 seconds; 3 per minute").test_client()
    for _ in range(2):
        assert attempt(client, "staff", "wrong guess").status_code == 401
    first = attempt(client, "staff", "wrong guess")
    assert first.status_code == 429 and int(first.headers["Retry-After"]) <= 2
    time.sleep(2.2)
    assert attempt(client, "staff", "wrong guess").status_code == 401  # the short wait
    second = attempt(client, "staff", "wrong guess")
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 2  # longer now
    time.sleep(2.2)
    assert attempt(client, "staff", PASSWORD).status_code == 429  # still waiting


def test_the_counts_are_shared_by_every_process(web_with):
    """Two applications (as two gunicorn workers) each count in the database: the limit
    holds across them, not per process."""
    one = web_with(SIGNIN_ACCOUNT_LIMITS="3 per minute").test_client()
    two = web_with(SIGNIN_ACCOUNT_LIMITS="3 per minute").test_client()
    assert attempt(one, "staff", "wrong guess").status_code == 401
    assert attempt(two, "staff", "wrong guess").status_code == 401
    assert attempt(one, "staff", "wrong guess").status_code == 401
    assert attempt(two, "staff", PASSWORD).status_code == 429


def account_events(pg_app, username: str) -> list[str]:
    account = pg_app.get_account(username)
    return [type(e).__name__ for e in pg_app.events.get(account.id)]


def test_repeated_failures_lock_the_account_until_an_admin_lifts_it(
        web_with, pg_app, api, postgres_env, database_url, tmp_path):
    pg_app.open_account(username="root", password=PASSWORD, display_name="root",
                        role="admin", jurisdiction=None, organization=None, meta=meta())
    api.tokens["root"] = pg_app.issue_token("root", meta())
    client = web_with(SIGNIN_LOCKOUT_AFTER="3 per hour", SIGNIN_LOCKOUT_MINUTES="30"
                      ).test_client()
    wrong = [attempt(client, "staff", f"wrong guess {n}") for n in range(3)]
    assert [r.status_code for r in wrong] == [401] * 3
    assert account_events(pg_app, "staff")[-1] == "LockedOut"
    locked = attempt(client, "staff", PASSWORD)  # the right password, while locked
    assert locked.status_code == 401
    assert strip_token(locked.text) == strip_token(wrong[0].text)  # the same answer
    assert account_events(pg_app, "staff").count("LockedOut") == 1  # recorded once
    # admins see it: the API, the page, the command line
    listed = {a["username"]: a for a in api.get("/api/v1/accounts", as_="root").json[
        "accounts"]}
    assert listed["staff"]["status"] == "locked" and listed["staff"]["locked_until"]
    assert listed["officer"]["status"] == "active"
    admin = web_with().test_client()
    assert attempt(admin, "root", PASSWORD).status_code == 302
    page = admin.get("/admin/accounts")
    assert "已锁定" in page.text and "北京时间" in page.text
    cli = CliRunner().invoke(main, ["accounts", "list"], env={
        "DATABASE_URL": database_url, "POSTGRES_SCHEMA": postgres_env["POSTGRES_SCHEMA"],
        "CIPHER_KEY": CIPHER_KEY, "PSEUDONYM_KEY": PSEUDONYM_KEY,
        "CASEFILE_VAR": str(tmp_path)})
    assert re.search(r"^staff .* locked until \d{4}-\d\d-\d\d \d\d:\d\d CST$", cli.output, re.M)
    # an admin lifts it (an event); the right password works again
    assert api.post("/api/v1/accounts/staff/lockout-lifting", {}, as_="staff"
                    ).status_code == 403
    lifted = api.post("/api/v1/accounts/staff/lockout-lifting", {"reason": "本人核实"},
                      as_="root")
    assert lifted.status_code == 200 and lifted.json["status"] == "active"
    assert account_events(pg_app, "staff")[-1] == "LockoutLifted"
    assert attempt(client, "staff", PASSWORD).status_code == 302


def test_a_lockout_ends_by_itself(web_with, pg_app):
    client = web_with(SIGNIN_LOCKOUT_AFTER="2 per hour", SIGNIN_LOCKOUT_MINUTES="0.05"
                      ).test_client()  # 3 seconds
    for _ in range(2):
        assert attempt(client, "officer", "wrong guess").status_code == 401
    assert attempt(client, "officer", PASSWORD).status_code == 401
    time.sleep(3.2)
    assert attempt(client, "officer", PASSWORD).status_code == 302
    assert account_events(pg_app, "officer")[-1] == "LockedOut"  # its end is in the event


def strip_token(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_an_unknown_username_answers_as_a_known_one_in_the_same_time(web_with):
    client = web_with().test_client()
    known, unknown = [], []
    answers = {}
    for n in range(8):
        for username, times in (("staff", known), (f"ghost{n}", unknown)):
            token = signin_form(client)
            started = time.perf_counter()
            answer = client.post("/signin", data={"csrf_token": token, "username": username,
                                                  "password": "wrong guess"})
            times.append(time.perf_counter() - started)
            answers[username == "staff"] = (answer.status_code,
                                            strip_token(answer.text).replace(username, ""))
    assert answers[True] == answers[False]
    # without the dummy hash an unknown name answered in 7 ms, a known one in 103 ms
    assert statistics.median(unknown) > 0.6 * statistics.median(known)


def test_the_signin_form_needs_its_own_csrf_token(web_with):
    client = web_with().test_client()
    forged = client.post("/signin", data={"username": "staff", "password": PASSWORD})
    assert forged.status_code == 403 and "casefile_session" not in str(forged.headers)
    signin_form(client)
    wrong = client.post("/signin", data={"csrf_token": "0" * 32, "username": "staff",
                                         "password": PASSWORD})
    assert wrong.status_code == 403
    other = web_with().test_client()  # a token taken from another browser's form
    stolen = signin_form(client)
    assert other.post("/signin", data={"csrf_token": stolen, "username": "staff",
                                       "password": PASSWORD}).status_code == 403
    cookie = client.get("/signin").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/signin" in cookie
    assert post_signin(client, {"username": "staff", "password": PASSWORD}).status_code == 302


def test_behind_a_proxy_the_forwarded_address_is_the_clients(web_with):
    client = web_with(SIGNIN_ADDRESS_LIMITS="2 per minute", PROXY_HOPS=1).test_client()

    def through_proxy(username: str, password: str, client_address: str):
        return post_signin(client, {"username": username, "password": password},
                           environ_base={"REMOTE_ADDR": "10.9.9.9"},
                           headers={"X-Forwarded-For": f"1.2.3.4, {client_address}"})

    for username in ("staff", "officer"):
        assert through_proxy(username, "wrong guess", "203.0.113.7").status_code == 401
    assert through_proxy("street", PASSWORD, "203.0.113.7").status_code == 429
    # another client behind the same proxy; the left-most (forgeable) entry is not used
    assert through_proxy("street", PASSWORD, "203.0.113.8").status_code == 302
