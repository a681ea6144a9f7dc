"""Optimistic concurrency and idempotency over real HTTP (a threaded server on loopback)."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from adapters.bootstrap import build_casefiles
from adapters.web import close_app, create_app
from tests.conftest import stored_event_count
from tests.support import code, registration


@pytest.fixture
def server(pg_app, tokens):
    with serving(pg_app) as base:
        yield base, tokens


@contextlib.contextmanager
def serving(casefiles):
    web = create_app({"CASEFILES": casefiles})
    httpd = make_server("127.0.0.1", 0, web, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        close_app(web)


def post(url: str, token: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_twenty_concurrent_writers_with_one_expected_version(server, pg_app):
    base, tokens = server
    status, _ = post(f"{base}/api/v1/organizations", tokens["staff"], registration(1))
    assert status == 201
    before = stored_event_count(pg_app)
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def write(i: int) -> None:
        barrier.wait()
        status, _ = post(f"{base}/api/v1/organizations/{code(1)}/interviews", tokens["staff"],
                         {"person_name": f"负责人{i}", "person_role": "理事长",
                          "topics": ["财务管理"]}, {"If-Match": '"1"'})
        statuses.append(status)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 19
    assert stored_event_count(pg_app) == before + 1


def test_the_same_command_twice_with_one_idempotency_key_adds_one_event(server, pg_app):
    base, tokens = server
    before = stored_event_count(pg_app)
    headers = {"Idempotency-Key": "reg-51310110"}
    first = post(f"{base}/api/v1/organizations", tokens["staff"], registration(1), headers)
    second = post(f"{base}/api/v1/organizations", tokens["staff"], registration(1), headers)
    assert first[0] == second[0] == 201
    assert first[1]["organization"] == second[1]["organization"]
    assert stored_event_count(pg_app) == before + 1
    body = {"category": "important_activity", "planned_date": "2030-01-01",
            "description": "年会", "sent_to": ["registration_authority"]}
    headers = {"Idempotency-Key": "me-1"}
    one = post(f"{base}/api/v1/organizations/{code(1)}/major-events", tokens["staff"], body,
               headers)
    two = post(f"{base}/api/v1/organizations/{code(1)}/major-events", tokens["staff"], body,
               headers)
    assert one == two and one[0] == 201 and one[1]["id"] == "ME1"
    assert stored_event_count(pg_app) == before + 2


def test_commands_alternating_between_two_processes_see_each_other_s_writes(
        server, pg_app, postgres_env):
    """Two web processes (each its own application, command cache and listener) on one
    database: a client sends each command to the other one, with the version the last
    answer gave as If-Match. Each is recorded on the organization as the other left it
    (services.command_cache: the other's NOTIFY drops the cached instance, or its save
    is refused and decided again)."""
    base, tokens = server
    assert post(f"{base}/api/v1/organizations", tokens["staff"], registration(1))[0] == 201
    other_app = build_casefiles(env=postgres_env)
    try:
        with serving(other_app) as other:
            version = 1
            for n in range(12):
                at = (base, other)[n % 2]
                status, answer = post(
                    f"{at}/api/v1/organizations/{code(1)}/interviews", tokens["staff"],
                    {"person_name": f"负责人{n}", "person_role": "理事长", "topics": ["财务"]},
                    {"If-Match": f'"{version}"'})
                assert status == 200, answer
                assert answer["version"] == version + 1
                assert len(answer["organization"]["interviews"]) == n + 1
                version = answer["version"]
            stale = post(f"{other}/api/v1/organizations/{code(1)}/interviews",
                         tokens["staff"], {"person_name": "甲", "person_role": "理事长",
                                           "topics": ["财务"]}, {"If-Match": '"12"'})
            assert stale[0] == 409
    finally:
        other_app.close()
    assert [e.originator_version for e in pg_app.organization_history(code(1))] == \
        list(range(1, 14))
