"""Optimistic concurrency and idempotency over real HTTP (a threaded server on loopback)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from adapters.web import close_app, create_app
from tests.conftest import stored_event_count
from tests.support import code, registration


@pytest.fixture
def server(pg_app, tokens):
    web = create_app({"CASEFILES": pg_app})
    httpd = make_server("127.0.0.1", 0, web, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", tokens
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
