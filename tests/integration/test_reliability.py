"""Reliability and security under faults and hostile input (issue 7), the parts that fit in
`make test`: a retry after a lost response, concurrent duplicates and If-Match writers over
real HTTP, hostile bodies and query strings the bad-input table does not cover, and
tampering with the stored events themselves. The longer fault scripts (SIGKILLs, outages)
are in tests/faults/ (see docs/RELIABILITY.md).

Each test runs the API on a real threaded HTTP server on loopback (werkzeug), over the
real PostgreSQL store, with the projection worker running.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from eventsourcing.domain import OriginatorVersionError
from werkzeug.serving import make_server

from adapters.runtime.registry import open_view
from adapters.runtime.status import wait_for
from services.log import recorded_events
from adapters.web import close_app, create_app
from projections.audit import verify
from tests.conftest import stored_event_count
from tests.support import code, id_number, registration

API = "/api/v1"
ORGS = f"{API}/organizations"


# ---------------------------------------------------------------------- the server

class Client:
    """A minimal HTTP client: one connection per request, nothing hidden (no retries)."""

    def __init__(self, host: str, port: int, tokens: dict[str, str]):
        self.host, self.port, self.tokens = host, port, tokens

    def request(self, method: str, path: str, body: Any = None, *, as_: str = "staff",
                headers: dict | None = None, raw: bytes | None = None,
                content_type: str | None = "application/json", chunked: bool = False,
                timeout: float = 30) -> tuple[int, dict, Any]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        all_headers = {"Authorization": f"Bearer {self.tokens[as_]}"} if as_ else {}
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        all_headers.update(headers or {})
        data = raw if raw is not None else (None if body is None else json.dumps(
            body, ensure_ascii=False).encode())
        try:
            if chunked:
                chunks = [data[i:i + 8192] for i in range(0, len(data), 8192)]
                conn.request(method, path, body=iter(chunks), headers=all_headers,
                             encode_chunked=True)
            else:
                conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload
        return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed

    def post(self, path: str, body: Any = None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def get(self, path: str, **kw):
        return self.request("GET", path, None, content_type=None, **kw)


@pytest.fixture
def server(pg_app, tokens, worker):
    """The API on a threaded HTTP server on loopback; 500s are answered, not raised."""
    web = create_app({"CASEFILES": pg_app})
    web.config["PROPAGATE_EXCEPTIONS"] = False
    httpd = make_server("127.0.0.1", 0, web, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Client("127.0.0.1", httpd.server_port, tokens)
    httpd.shutdown()
    close_app(web)


def org_path(n: int = 1) -> str:
    return f"{ORGS}/{code(n)}"


def interview(i: Any = 1) -> dict:
    return {"person_name": f"负责人{i}", "person_role": "理事长", "topics": ["财务管理"],
            "effective_date": "2023-03-01"}


def leader(n: int) -> dict:
    return {"person": {"name": f"负责人{n}", "id_number": id_number("19700101", n)},
            "roles": ["legal_representative"], "term_start": "2021-01-01",
            "term_end": "2025-12-31", "effective_date": "2021-01-05"}


def registered(client: Client, *numbers: int) -> None:
    for n in numbers or (1,):
        status, _, body = client.post(ORGS, registration(n))
        assert status == 201, body


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# ------------------------------------------------------- 2. retry after a lost response

def send_and_hang_up(client: Client, path: str, body: dict, headers: dict) -> None:
    """Send a whole request, then close the connection without reading the answer: the
    server does the work, its response is lost (the client's kernel resets the socket)."""
    data = json.dumps(body, ensure_ascii=False).encode()
    head = [f"POST {path} HTTP/1.1", f"Host: {client.host}:{client.port}",
            "Content-Type: application/json", f"Content-Length: {len(data)}",
            f"Authorization: Bearer {client.tokens['staff']}", "Connection: close",
            *[f"{k}: {v}" for k, v in headers.items()]]
    with socket.create_connection((client.host, client.port), timeout=10) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)


def test_a_command_whose_response_was_lost_is_retried_with_its_key_and_recorded_once(
        server, pg_app):
    """The appointment touches two aggregates (the organization and the person): the retry
    records neither again, answers 201 as the first did, and says it replayed."""
    registered(server)
    before = stored_event_count(pg_app)
    key = {"Idempotency-Key": "appoint-lr-1"}
    send_and_hang_up(server, f"{org_path()}/leaders", leader(1), key)
    # LeaderAppointed on the organization; Registered and PostTaken on the person
    assert wait_until(lambda: stored_event_count(pg_app) == before + 3), \
        "the server did not record the command whose response was lost"
    time.sleep(0.2)
    retry = server.post(f"{org_path()}/leaders", leader(1), headers=key)
    again = server.post(f"{org_path()}/leaders", leader(1), headers=key)
    assert retry[0] == again[0] == 201, retry
    assert retry[1].get("idempotent-replayed") == "true"
    assert retry[2] == again[2] and retry[1]["etag"] == again[1]["etag"] == '"2"'
    assert retry[2]["version"] == 2 and retry[2]["person_id"]
    assert stored_event_count(pg_app) == before + 3, "the retry recorded events again"
    org = pg_app.get_organization(code(1))
    assert org.version == 2 and list(org.leaders) == [retry[2]["person_id"]]


def test_one_keyed_command_sent_many_times_at_once_is_recorded_once(server, pg_app):
    """A client that times out and retries while the first attempt is still running."""
    registered(server)
    before = stored_event_count(pg_app)
    barrier = threading.Barrier(8)
    answers: list[tuple] = []

    def send() -> None:
        barrier.wait()
        answers.append(server.post(f"{org_path()}/interviews", interview(),
                                   headers={"Idempotency-Key": "iv-concurrent"}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a[0] for a in answers] == [200] * 8, [a[2] for a in answers]
    assert sum(a[1].get("idempotent-replayed") == "true" for a in answers) == 7
    assert stored_event_count(pg_app) == before + 1
    bodies = {json.dumps(a[2], sort_keys=True) for a in answers}
    assert len(bodies) == 1, "the replays answered different bodies"


def test_a_retry_answers_the_body_of_the_first_response(server, pg_app):
    """README: "a retry with the same key and body returns the first result". Other
    commands recorded between the first attempt and the retry (the normal case in
    production) must not change the answer. Fails today: the replay's `position` (and
    X-Position) is the log's head at the time of the retry (CaseFiles._position_of),
    not the position of the command's own event."""
    registered(server, 1, 2)
    key = {"Idempotency-Key": "iv-first-body"}
    first = server.post(f"{org_path(1)}/interviews", interview(1), headers=key)
    assert first[0] == 200
    for i in range(3):  # someone else's writes in between
        assert server.post(f"{org_path(2)}/interviews", interview(i))[0] == 200
    retry = server.post(f"{org_path(1)}/interviews", interview(1), headers=key)
    assert retry[0] == 200 and retry[1].get("idempotent-replayed") == "true"
    assert retry[1]["etag"] == first[1]["etag"]
    assert retry[2]["organization"] == first[2]["organization"]
    assert retry[2] == first[2], (f"replayed position {retry[2]['position']}, first "
                                  f"answer {first[2]['position']}")
    assert retry[1].get("x-position") == first[1].get("x-position")


# ------------------------------------------------------------------- 6. concurrency

def test_concurrent_duplicate_registrations_of_one_code_make_one_organization(server, pg_app):
    before = stored_event_count(pg_app)
    n = 16
    barrier = threading.Barrier(n)
    answers: list[tuple] = []

    def register(i: int) -> None:
        body = registration(1, name=f"杨浦区示例志愿者协会-{i}")
        headers = {"Idempotency-Key": f"reg-{i}"} if i % 2 else {}
        barrier.wait()
        answers.append(server.post(ORGS, body, headers=headers))

    threads = [threading.Thread(target=register, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a[0] for a in answers)
    assert statuses == [201] + [409] * (n - 1), [a[2] for a in answers]
    assert {a[2]["error"]["code"] for a in answers if a[0] == 409} == {"already_registered"}
    assert stored_event_count(pg_app) == before + 1
    winner = next(a for a in answers if a[0] == 201)
    events = pg_app.organization_history(code(1))
    assert len(events) == 1 and events[0].name == winner[2]["organization"]["name"]


def test_concurrent_writers_each_apply_on_the_version_they_read_or_get_409(server, pg_app):
    """Each writer reads the case file (ETag), then writes with If-Match: it applies on
    exactly the version it read, or is refused with 409 and records nothing."""
    registered(server)
    writers, rounds = 6, 5
    outcomes: list[dict] = []
    lock = threading.Lock()

    def write(w: int) -> None:
        for r in range(rounds):
            status, headers, _ = server.get(org_path())
            assert status == 200
            read = int(headers["etag"].strip('"'))
            correlation = f"w{w}-r{r}-{uuid.uuid4().hex[:6]}"
            status, headers, body = server.post(
                f"{org_path()}/interviews", interview(correlation),
                headers={"If-Match": f'"{read}"', "X-Correlation-Id": correlation})
            with lock:
                outcomes.append({"read": read, "status": status, "correlation": correlation,
                                 "version": body.get("version"),
                                 "code": (body.get("error") or {}).get("code")})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {o["status"] for o in outcomes} <= {200, 409}, outcomes
    applied = [o for o in outcomes if o["status"] == 200]
    refused = [o for o in outcomes if o["status"] == 409]
    assert applied and all(o["code"] == "version_conflict" for o in refused)
    assert all(o["version"] == o["read"] + 1 for o in applied), applied
    assert len({o["version"] for o in applied}) == len(applied)
    history = pg_app.organization_history(code(1))
    assert len(history) == 1 + len(applied) == pg_app.get_organization(code(1)).version
    assert [e.originator_version for e in history] == list(range(1, len(history) + 1))
    by_version = {e.originator_version: e.meta.correlation_id for e in history[1:]}
    assert by_version == {o["version"]: o["correlation"] for o in applied}, \
        "an acknowledged write is not the event at the version it answered"
    recorded = set(by_version.values())
    assert not recorded & {o["correlation"] for o in refused}, "a 409 recorded an event"


# ------------------------------------------------------------------ 7. hostile input

def assert_error(answer: tuple, status: int, code_: str | None = None) -> None:
    got, headers, body = answer
    assert got == status, (got, body)
    assert headers.get("content-type", "").startswith("application/json"), headers
    assert body["error"]["status"] == status
    if code_ is not None:
        assert body["error"]["code"] == code_, body


@pytest.fixture
def web(pg_app, tokens):
    """The same server without the projection worker (requests that never reach it)."""
    app = create_app({"CASEFILES": pg_app})
    app.config["PROPAGATE_EXCEPTIONS"] = False
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Client("127.0.0.1", httpd.server_port, tokens)
    httpd.shutdown()
    close_app(app)


def refusals(client: Client, pg_app, cases: list[tuple], send) -> list[str]:
    """Send each case; return what went wrong (wrong status, not a JSON error, or events
    recorded) for all of them, so one run names every failing case."""
    wrong = []
    for name, *case, status, code_ in cases:
        before = stored_event_count(pg_app)
        got, headers, body = send(*case)
        expected = status if isinstance(status, tuple) else (status,)
        if got not in expected or not isinstance(body, dict) or "error" not in body:
            wrong.append(f"{name}: {got} {str(body)[:160]}")
        elif code_ is not None and body["error"]["code"] != code_:
            wrong.append(f"{name}: {got} code {body['error']['code']}, expected {code_}")
        elif not headers.get("content-type", "").startswith("application/json"):
            wrong.append(f"{name}: {got} answered {headers.get('content-type')}")
        if stored_event_count(pg_app) != before:
            wrong.append(f"{name}: recorded events")
    return wrong


def with_funds(value: str) -> bytes:
    return json.dumps(registration(1)).replace('"registered_funds": 30000',
                                               f'"registered_funds": {value}').encode()


BODIES = [
    # name, content type, body, expected status, expected code (None: any)
    ("no_content_type", None, json.dumps(registration(1)).encode(), 415,
     "unsupported_media_type"),
    ("form", "application/x-www-form-urlencoded", b"code=51310110MJ0000001B", 415,
     "unsupported_media_type"),
    ("multipart", "multipart/form-data; boundary=x", b"--x\r\n\r\nhi\r\n--x--\r\n", 415,
     "unsupported_media_type"),
    ("jsonp", "application/jsonp", json.dumps(registration(1)).encode(), 415,
     "unsupported_media_type"),
    ("gb18030_bytes", "application/json; charset=gb18030",
     json.dumps(registration(1), ensure_ascii=False).encode("gb18030"), 400, None),
    ("invalid_utf8", "application/json", b"\xff\xfe\x00garbage", 400, None),
    ("array", "application/json", b"[]", 400, "invalid_value"),
    ("string", "application/json", b'"a string"', 400, "invalid_value"),
    ("null", "application/json", b"null", 400, "invalid_value"),
    ("empty", "application/json", b"", 400, "invalid_value"),
    # valid JSON nested deeper than the parser recurses, within the 64 KiB limit
    ("nested_arrays_30000", "application/json", b"[" * 30000 + b"]" * 30000, 400,
     "malformed_json"),
    ("nested_objects_10000", "application/json", b'{"a":' * 10000 + b"1" + b"}" * 10000,
     400, "malformed_json"),
    # numbers the parser accepts but a decimal must not
    ("nan", "application/json", with_funds("NaN"), 400, "invalid_value"),
    ("infinity", "application/json", with_funds("1e999"), 400, "invalid_value"),
    ("5000_digit_integer", "application/json", with_funds("9" * 5000), 400, None),
]


def test_hostile_bodies_are_refused_cleanly(web, pg_app):
    wrong = refusals(web, pg_app, BODIES, lambda content_type, data: web.request(
        "POST", ORGS, raw=data, content_type=content_type))
    assert not wrong, "\n".join(wrong)


def test_a_chunked_body_over_the_limit_is_413_without_a_content_length(web, pg_app):
    """Without Content-Length (Transfer-Encoding: chunked, which gunicorn passes on),
    Werkzeug stops reading at MAX_CONTENT_LENGTH instead of refusing: the API parses the
    first 64 KiB. Fails today: an oversized body is answered 400 malformed_json, and one
    whose first 64 KiB happen to be a whole JSON document (padded with spaces) is
    accepted and recorded (201)."""
    big = json.dumps(registration(1, business_scope="志" * 40000)).encode()
    padded = json.dumps(registration(2)).encode() + b" " * 100_000
    wrong = refusals(web, pg_app, [
        ("oversized_chunked", big, (413,), "request_entity_too_large"),
        ("padded_chunked", padded, (413,), "request_entity_too_large"),
    ], lambda data: web.request("POST", ORGS, raw=data, chunked=True))
    assert not wrong, "\n".join(wrong)


def test_deep_nesting_inside_a_declared_field_is_400(web, pg_app):
    registered(web)
    before = stored_event_count(pg_app)
    deep: Any = "x"
    for _ in range(900):
        deep = [deep]
    body = {**interview(), "topics": deep}
    assert_error(web.post(f"{org_path()}/interviews", body), 400, "invalid_value")
    nested_domicile = {"address": {"address": {"address": "x"}}, "jurisdiction": "310110001001"}
    assert_error(web.post(ORGS, registration(2, domicile=nested_domicile)), 400,
                 "invalid_value")
    assert stored_event_count(pg_app) == before


PATHS = [
    ("q", f"{ORGS}?q=%00"), ("status", f"{ORGS}?status=%00"), ("type", f"{ORGS}?type=a%00b"),
    ("list", f"{ORGS}?list=%00"), ("risk", f"{ORGS}?risk=%00"),
    ("code", f"{ORGS}/%00"), ("code_suffix", f"{ORGS}/{code(1)}%00"),
    ("events", f"{ORGS}/%00/events"), ("audit", f"{ORGS}/%00/audit"),
    ("as_of_year_0", f"{ORGS}/{code(1)}?as_of=0000-01-01"),
    ("known_at_nul", f"{ORGS}/{code(1)}?known_at=%00"),
    ("after_huge", f"{ORGS}/{code(1)}?after=99999999999999999999"),
    ("limit_negative", f"{ORGS}?limit=-1"),
    ("person", f"{API}/persons/%00"), ("statistics", f"{API}/statistics?jurisdiction=%00"),
    ("warnings", f"{API}/warnings?status=%00"), ("network", f"{API}/network/%00"),
    ("drill_down", f"{API}/network/310110000000/organizations?flag=%00"),
    ("plan", f"{API}/inspection-plans/%00"),
]


def test_hostile_query_strings_and_paths_are_4xx_not_500(web):
    """A NUL byte cannot be sent to PostgreSQL as text: it must be refused (or found
    absent) before it reaches a query, not come back as 500. Fails today for the search
    filters and the case-file code (psycopg DataError, not handled: 500)."""
    wrong = []
    for name, path in PATHS:
        status, _, body = web.get(path)
        if not (400 <= status < 500 and isinstance(body, dict) and "error" in body):
            wrong.append(f"{name} {path}: {status} {str(body)[:120]}")
    assert not wrong, "\n".join(wrong)


def test_a_nul_character_in_text_is_refused_or_else_projected(server, pg_app, postgres_env):
    """PostgreSQL's text and jsonb cannot hold U+0000. A command carrying one is either
    refused with 400 naming the field, or, if accepted, every read model still moves past
    it. Fails today: it is accepted (200) and the read models that store the text
    (casefiles, audittrail) stop at that event for good, for every organization: the
    worker restarts them with back-off and they fail again on the same event."""
    registered(server, 1, 2)
    body = {**interview(), "person_name": "张\u0000某"}
    status, _, answer = server.post(f"{org_path()}/interviews", body)
    if status == 400:
        assert answer["error"]["field"] == "person_name"
        return
    assert status == 200, answer
    assert server.post(f"{org_path(2)}/interviews", interview(2))[0] == 200  # someone else's
    head = pg_app.recorder.max_notification_id()
    views = {name: open_view(postgres_env, name)
             for name in ("casefiles", "audittrail", "statistics", "network")}
    wait_until(lambda: all((v.max_tracking_id(pg_app.name) or 0) >= head
                           for v in views.values()), 4)
    stuck = {name: v.max_tracking_id(pg_app.name) for name, v in views.items()
             if (v.max_tracking_id(pg_app.name) or 0) < head}
    for v in views.values():
        v.datastore.close()
    assert not stuck, (f"accepted a NUL in person_name (position {head - 1}); read models "
                       f"stuck at {stuck}, head {head}")


# -------------------------------------------------------------- 8. tampering with events

def events_table(postgres_env) -> str:
    return f'{postgres_env["POSTGRES_SCHEMA"]}.casefile_events'


def history_with_audit(server: Client, pg_app, postgres_env) -> int:
    registered(server, 1, 2)
    for i in range(3):
        assert server.post(f"{org_path(1)}/interviews", interview(i))[0] == 200
        assert server.post(f"{org_path(2)}/interviews", interview(10 + i))[0] == 200
    head = pg_app.recorder.max_notification_id()
    assert wait_for(open_view(postgres_env, "audittrail"), head, 10)
    return head


def verify_now(pg_app, postgres_env):
    view = open_view(postgres_env, "audittrail")
    up_to = view.max_tracking_id(pg_app.name) or 0
    try:
        return verify(view.all_entries(up_to), recorded_events(pg_app, up_to))
    finally:
        view.datastore.close()


def position_of(database_url, postgres_env, identifier: str, version: int) -> int:
    from domain.organization import Organization

    with psycopg.connect(database_url) as conn:
        return conn.execute(
            f"SELECT notification_id FROM {events_table(postgres_env)} "
            "WHERE originator_id = %s AND originator_version = %s",
            (Organization.create_id(identifier), version)).fetchone()[0]


def tamper(database_url, statement: str, *args: Any) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(statement, args).rowcount


def test_an_altered_stored_event_fails_authentication_when_read(server, pg_app, postgres_env,
                                                                 database_url):
    """One byte of the encrypted state flipped: AES-GCM's tag no longer matches, so the
    event cannot be read; the organization cannot be loaded (no silent wrong state)."""
    history_with_audit(server, pg_app, postgres_env)
    from domain.organization import Organization

    changed = tamper(database_url,
                     f"UPDATE {events_table(postgres_env)} SET state = "
                     "set_byte(state, 20, get_byte(state, 20) # 1) "
                     "WHERE originator_id = %s AND originator_version = 3",
                     Organization.create_id(code(1)))
    assert changed == 1
    with pytest.raises(Exception, match="(?i)deserialise|MAC check"):
        pg_app.get_organization(code(1))
    status, _, body = server.get(f"{org_path(1)}/events")
    assert status >= 500, body  # refused, not served wrong (a 500; see RELIABILITY.md)
    assert server.get(f"{org_path(2)}/events")[0] == 200  # the others are unaffected


def test_the_audit_verifier_names_an_altered_stored_event(server, pg_app, postgres_env,
                                                          database_url):
    """The verifier must name the first broken position rather than fail. Fails today:
    recorded_events() decodes every stored event and the cipher's error escapes verify(),
    so `GET /audit/verify` answers 500 and `casefile audit verify` ends with a traceback."""
    history_with_audit(server, pg_app, postgres_env)
    p = position_of(database_url, postgres_env, code(1), 3)
    tamper(database_url, f"UPDATE {events_table(postgres_env)} SET state = "
           "set_byte(state, 20, get_byte(state, 20) # 1) WHERE notification_id = %s", p)
    status, _, body = server.get(f"{API}/audit/verify", as_="auditor")
    assert status == 200, body
    assert body["ok"] is False and body["first_broken"]["position"] == p, body


def test_a_deleted_stored_event_is_detected(server, pg_app, postgres_env, database_url):
    """A row deleted from the middle of an organization's history: loading the
    organization fails (versions must follow each other), and the audit verifier, which
    had projected that event, reports the first broken position."""
    history_with_audit(server, pg_app, postgres_env)
    p = position_of(database_url, postgres_env, code(1), 2)
    assert tamper(database_url,
                  f"DELETE FROM {events_table(postgres_env)} WHERE notification_id = %s", p) == 1
    with pytest.raises(OriginatorVersionError):
        pg_app.get_organization(code(1))
    result = verify_now(pg_app, postgres_env)
    assert not result.ok and result.first_broken["position"] == p, result.as_dict()


def test_a_deleted_last_event_is_detected_by_the_audit_verifier(server, pg_app, postgres_env,
                                                                 database_url):
    """The newest event of an organization deleted: the organization still loads (one
    version shorter; nothing in the log itself shows the loss), and only the audit trail,
    which had projected it, detects it."""
    history_with_audit(server, pg_app, postgres_env)
    last = pg_app.get_organization(code(1)).version
    p = position_of(database_url, postgres_env, code(1), last)
    tamper(database_url, f"DELETE FROM {events_table(postgres_env)} WHERE notification_id = %s",
           p)
    assert pg_app.get_organization(code(1)).version == last - 1  # undetected on load
    result = verify_now(pg_app, postgres_env)
    assert not result.ok and result.first_broken["position"] == p, result.as_dict()


def test_a_stored_event_copied_from_another_row_is_detected_by_the_audit_verifier(
        server, pg_app, postgres_env, database_url):
    """The encrypted state of organization 2's interview copied over organization 1's:
    since the fix of bug J the state is bound to its row, so it no longer decrypts there
    (organization 1 cannot be loaded rather than showing organization 2's interview), and
    the audit trail, projected before, names the position."""
    history_with_audit(server, pg_app, postgres_env)
    target = position_of(database_url, postgres_env, code(1), 2)
    source = position_of(database_url, postgres_env, code(2), 2)
    table = events_table(postgres_env)
    tamper(database_url, f"UPDATE {table} t SET state = s.state FROM {table} s "
           "WHERE t.notification_id = %s AND s.notification_id = %s", target, source)
    with pytest.raises(Exception, match="(?i)deserialise|cipher tag"):
        pg_app.get_organization(code(1))
    result = verify_now(pg_app, postgres_env)
    assert not result.ok and result.first_broken["position"] == target
    assert "altered" in result.first_broken["problem"]
