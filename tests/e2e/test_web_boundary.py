"""The web trust boundary (issue 15, findings 1, 9 and parts of 10): a ``next`` that
leaves the site is never followed, every answer carries the security headers, the
cookies' ``Secure`` flag comes from a setting and never from the Host header, neither
server names its version, and malformed input (duplicated JSON keys, a forged
read-your-writes cookie, a wrong method) is answered precisely."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest

from adapters.web import close_app, create_app
from adapters.web.server import run_config
from tests.conftest import CIPHER_KEY, PSEUDONYM_KEY, ROOT, stored_event_count
from tests.support import code, post_signin, registration

PASSWORD = "correct horse battery"
# As typed into the address bar: percent-encoded where a browser would send it so.
LEAVING_THE_SITE = ["/%09/evil.example", "//evil.example", "/%5Cevil.example",
                    "https://evil.example", "/%0d%0aSet-Cookie:x=1", "%09//evil",
                    "/%0A/evil.example", "/%E3%80%80/evil.example", "javascript:alert(1)"]
SAME_SITE = "/organizations?page=2"


def fresh_client(api):
    return api.client.application.test_client()


def hidden_next(html: str) -> str | None:
    found = re.search(r'name="next" value="([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str = "staff", next_url: str = "/organizations"):
    response = post_signin(client, {"username": username, "password": PASSWORD,
                                    "next": next_url})
    assert response.status_code == 302, response.text
    return response


def session_rows(api) -> int:
    datastore = api.client.application.extensions["casefiles"].recorder.datastore
    with datastore.transaction(commit=False) as curs:
        curs.execute(f"SELECT count(*) AS n FROM {datastore.schema}.casefile_web_sessions")
        return curs.fetchone()["n"]


# ----------------------------------------------------------- 1: the open redirect

@pytest.mark.parametrize("typed", LEAVING_THE_SITE)
def test_sign_in_never_follows_a_next_that_leaves_the_site(api, typed):
    client = fresh_client(api)
    form = client.get(f"/signin?next={typed}")
    assert form.status_code == 200
    assert hidden_next(form.text) == "/"  # the form does not carry it on
    response = post_signin(client, {"username": "staff", "password": PASSWORD,
                                    "next": unquote(typed)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "evil" not in response.headers["Location"]
    assert "x=1" not in response.headers.get_all("Set-Cookie")


def test_a_next_with_a_line_break_signs_in_with_one_session_and_no_500(api):
    client = fresh_client(api)
    before = session_rows(api)
    response = post_signin(client, {"username": "staff", "password": PASSWORD,
                                    "next": "/\r\nSet-Cookie: x=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert session_rows(api) == before + 1  # the session behind the cookie it answered
    assert client.get("/organizations").status_code == 200


def test_sign_in_follows_a_same_site_next(api):
    client = fresh_client(api)
    form = client.get(f"/signin?next=/organizations%3Fpage%3D2")
    assert hidden_next(form.text) == SAME_SITE
    response = sign_in(client, next_url=hidden_next(form.text))
    assert response.headers["Location"] == SAME_SITE


def rectification(token: str, next_url: str | None) -> dict:
    data = {"csrf_token": token, "notice_number": "杨民社整〔2024〕9号",
            "issues": "财务制度不健全", "deadline": "2024-03-30", "effective_date": "2024-02-01"}
    if next_url is not None:
        data["next"] = next_url
    return data


@pytest.mark.parametrize("typed", LEAVING_THE_SITE)
def test_a_form_never_follows_a_next_that_leaves_the_site(api, typed):
    api.post("/api/v1/organizations", registration(1, effective_date="2024-01-10"))
    client = fresh_client(api)
    sign_in(client)
    path = f"/organizations/{code(1)}/forms/rectifications"
    form = client.get(f"{path}?next={typed}")
    assert form.status_code == 200 and hidden_next(form.text) is None
    done = client.post(path, data=rectification(csrf(form.text), unquote(typed)))
    assert done.status_code == 302
    assert done.headers["Location"] == f"/organizations/{code(1)}"  # the default page
    api_form = client.get(f"/forms/warnings?next={typed}")
    assert api_form.status_code == 200 and hidden_next(api_form.text) is None
    assert f'href="{unquote(typed)}"' not in api_form.text  # nor its cancel link


def test_a_form_follows_a_same_site_next(api):
    api.post("/api/v1/organizations", registration(1, effective_date="2024-01-10"))
    client = fresh_client(api)
    sign_in(client)
    path = f"/organizations/{code(1)}/forms/rectifications"
    form = client.get(f"{path}?next=/organizations%3Fpage%3D2")
    assert hidden_next(form.text) == SAME_SITE
    done = client.post(path, data=rectification(csrf(form.text), SAME_SITE))
    assert done.status_code == 302 and done.headers["Location"] == SAME_SITE


# ---------------------------------------------------------- 9: security headers

def assert_security_headers(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in ("no-referrer", "same-origin")
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def assert_no_inline_script_or_style(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html and not re.search(r"\sstyle=", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_every_answer_carries_the_security_headers(api):
    api.post("/api/v1/organizations", registration(1))
    client = fresh_client(api)
    anonymous = [client.get("/signin"), client.get("/docs"), client.get("/openapi.json"),
                 client.get("/static/pages.css"), client.get("/public/organizations?q=%E6%9D%A8%E6%B5%A6"),
                 client.get("/no-such-page"), client.get("/healthz")]
    sign_in(client)
    pages = [client.get(p) for p in ("/organizations", f"/organizations/{code(1)}",
                                     f"/organizations/{code(1)}/audit", "/warnings",
                                     f"/organizations/{code(1)}/forms/rectifications",
                                     "/forms/warnings", "/network/310110000000")]
    answers = [api.get(api.org(1)), api.get("/api/v1/organizations?q=x"),
               api.post("/api/v1/organizations", {}), api.get(api.org(1), as_=None)]
    for response in anonymous + pages + answers:
        assert_security_headers(response)
    for response in pages + answers:
        assert response.headers.get("Cache-Control") == "no-store", response.request.path
    for response in pages + anonymous[:2]:
        assert response.status_code == 200, response.request.path
        assert_no_inline_script_or_style(response.text)


def test_hsts_only_over_tls(api):
    over_tls = api.client.application.test_client().get("/signin",
                                                        base_url="https://localhost")
    assert over_tls.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in fresh_client(api).get("/signin").headers


# ----------------------------------------------------- 10: the Secure cookie flag

def set_cookies(response) -> list[str]:
    return response.headers.get_all("Set-Cookie")


def test_the_secure_flag_follows_the_setting_never_the_host_header(api, pg_app, monkeypatch):
    insecure = fresh_client(api)
    for host in ("127.0.0.1", "casefile.example.gov.cn"):
        response = post_signin(insecure, {"username": "staff", "password": PASSWORD},
                               headers={"Host": host})
        assert response.status_code == 302
        assert not any("Secure" in c for c in set_cookies(response))
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "yes")
    web = create_app({"CASEFILES": pg_app, "TESTING": True})
    try:
        for host in ("127.0.0.1", "localhost"):  # a proxy forwarding Host: 127.0.0.1
            response = post_signin(web.test_client(), {"username": "staff",
                                                       "password": PASSWORD},
                                   headers={"Host": host})
            assert response.status_code == 302
            assert all("Secure" in c for c in set_cookies(response))
    finally:
        close_app(web)


def test_casefile_run_secure_default_by_listening_address(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # no embedded
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert run_config("127.0.0.1") == {"SESSION_COOKIE_SECURE": "no"}
    assert run_config("0.0.0.0") == {"SESSION_COOKIE_SECURE": "yes"}
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "no")
    assert run_config("0.0.0.0") == {"SESSION_COOKIE_SECURE": "no"}
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "maybe")
    with pytest.raises(ValueError):
        run_config("127.0.0.1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_production_server_names_no_version_and_sets_secure_cookies(
        database_url, schema, tokens, tmp_path):
    """``casefile serve`` (gunicorn) against the test's schema, with its accounts."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "POSTGRES_SCHEMA": schema,
           "CIPHER_KEY": CIPHER_KEY, "PSEUDONYM_KEY": PSEUDONYM_KEY,
           "CASEFILE_VAR": str(tmp_path), "WEB_WORKERS": "1", "WEB_THREADS": "2",
           "PORT": str(port), "LOG_LEVEL": "WARNING"}
    env.pop("SESSION_COOKIE_SECURE", None)
    casefile = Path(sys.executable).with_name("casefile")
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([str(casefile), "serve"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                health = conn.getresponse()
                health.read()
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "casefile serve did not start"
                time.sleep(0.3)
        assert health.getheader("Server") == "gunicorn"  # no version
        assert health.getheader("X-Content-Type-Options") == "nosniff"
        conn.request("GET", "/signin", headers={"Host": "127.0.0.1"})
        form = conn.getresponse()
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.read().decode()).group(1)
        assert f"casefile_signin={token}" in form.getheader("Set-Cookie")
        conn.request("POST", "/signin", body=f"csrf_token={token}&username=staff&password="
                     f"{PASSWORD}".replace(" ", "+"), headers={
                         "Content-Type": "application/x-www-form-urlencoded",
                         "Host": "127.0.0.1", "Cookie": f"casefile_signin={token}"})
        signed = conn.getresponse()
        signed.read()
        conn.close()
        assert signed.status == 302
        assert "Secure" in signed.getheader("Set-Cookie")
        assert "frame-ancestors 'none'" in signed.getheader("Content-Security-Policy")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# --------------------------------------------------------- 10: smaller items

def test_duplicated_json_keys_are_refused_naming_the_key(api, pg_app):
    body = json.dumps(registration(1))
    before = stored_event_count(pg_app)
    twice = body[:-1] + ', "name": "另一个名称"}'
    nested = body.replace('"jurisdiction":', '"address": "别处", "jurisdiction":', 1)
    for raw, key in ((twice, "name"), (nested, "address")):
        response = api.post("/api/v1/organizations", data=raw,
                            content_type="application/json")
        assert response.status_code == 400, response.text
        error = response.get_json()["error"]
        assert error["code"] == "duplicate_key" and error["field"] == key
        assert key in error["message"]
    assert stored_event_count(pg_app) == before
    assert api.post("/api/v1/organizations", data=body,
                    content_type="application/json").status_code == 201


def test_a_forged_position_cookie_does_not_make_reads_wait(api):
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    api.get(api.org(1))  # the view has caught up with the write
    for forged in ("999999999999999", "9" * 40):
        api.client.set_cookie("casefile_position", forged)
        started = time.monotonic()
        response = api.get(api.org(1))
        took = time.monotonic() - started
        assert response.status_code == 200
        assert took < 1.0, f"the read waited {took:.2f}s for position {forged}"
        assert response.headers.get("X-Served-From") != "event-log"
    api.client.delete_cookie("casefile_position")


def test_method_not_allowed_answers_carry_allow(api):
    refused = api.client.put("/api/v1/organizations", headers=api.headers("staff", None))
    assert refused.status_code == 405
    allowed = {m.strip() for m in refused.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert refused.get_json()["error"]["status"] == 405
    page = fresh_client(api).delete("/signin")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]
