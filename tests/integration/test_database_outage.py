"""A database outage seen by the web process (issue 7, item 3; bug B of
docs/RELIABILITY.md), without stopping the shared test PostgreSQL: the application is built
as a gunicorn worker builds it (``adapters.web.server.prepare_environment`` and ``build_app``)
and reaches PostgreSQL through a TCP proxy of this test. Cutting the proxy closes every
open connection and every new one at once, as a stopped server does.

Must hold while it is cut: reads, writes and /readyz answer 503 with Retry-After within a
few seconds (not after the library's ten retries of up to 30 s each) and record nothing;
once it is restored: the same keyed write succeeds, once, and nothing was lost or doubled.
The projection worker runs beside it on a direct connection, as `casefile worker` would.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

import pytest
from werkzeug.serving import make_server

from adapters.config import postgres_settings_from_url
from adapters.runtime.registry import READ_MODELS
from tests.integration.test_reliability import Client, interview, org_path, registered

MAX_SECONDS = 5.0  # an answer during the outage takes at most this long
RECOVERY_SECONDS = 20.0  # a write succeeds again within this long of the restore


class Proxy:
    """A TCP proxy on loopback in front of PostgreSQL (its TCP port or its Unix socket).
    ``cut()`` closes every forwarded connection and refuses new ones (each is accepted
    and closed at once); ``restore()`` forwards again."""

    def __init__(self, host: str, port: int):
        if host.startswith("/"):
            self.upstream = (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}")
        else:
            self.upstream = (socket.AF_INET, (host, port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.forwarding = True
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True, name="pg-proxy").start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.forwarding:
                client.close()
                continue
            family, address = self.upstream
            server = socket.socket(family, socket.SOCK_STREAM)
            try:
                server.connect(address)
            except OSError:
                client.close()
                server.close()
                continue
            with self.lock:
                self.sockets |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source, target)

    def _drop(self, *sockets: socket.socket) -> None:
        for s in sockets:
            with self.lock:
                self.sockets.discard(s)
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self) -> None:
        self.forwarding = False
        with self.lock:
            open_now = list(self.sockets)
        self._drop(*open_now)

    def restore(self) -> None:
        self.forwarding = True

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()


@pytest.fixture
def through_proxy(database_url, postgres_env, tokens, worker, monkeypatch, tmp_path):
    """The API as `casefile serve` builds it in a worker, on a threaded HTTP server,
    connected to PostgreSQL through the proxy."""
    from adapters.web import server as serve
    from adapters.web import close_app

    settings = postgres_settings_from_url(database_url)
    proxy = Proxy(settings["POSTGRES_HOST"], int(settings["POSTGRES_PORT"]))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for key in [k for k in os.environ if k.startswith("KAFKA_")]:
        monkeypatch.delenv(key)
    environment = {**{k: v for k, v in postgres_env.items() if k.startswith("POSTGRES_")},
                   "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(proxy.port),
                   "CIPHER_KEY": postgres_env["CIPHER_KEY"],
                   "PSEUDONYM_KEY": postgres_env["PSEUDONYM_KEY"],
                   "CASEFILE_VAR": str(tmp_path), "CREATE_TABLE": "no",
                   # set here so that monkeypatch restores them: serve sets them too
                   "POSTGRES_CONNECT_TIMEOUT": "30"}
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("WEB_DATABASE_TIMEOUT", raising=False)
    serve.prepare_environment()
    assert os.environ["POSTGRES_CONNECT_TIMEOUT"] == serve.DEFAULT_DATABASE_TIMEOUT
    web = serve.build_app()
    web.config["PROPAGATE_EXCEPTIONS"] = False
    httpd = make_server("127.0.0.1", 0, web, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield Client("127.0.0.1", httpd.server_port, tokens), proxy
    httpd.shutdown()
    proxy.close()
    close_app(web)
    web.extensions["casefiles"].close()


def timed(client: Client, method: str, path: str, body=None, headers=None):
    started = time.monotonic()
    try:
        status, answer_headers, answer = client.request(
            method, path, body, headers=headers,
            content_type="application/json" if body is not None else None, timeout=60)
    except OSError as e:
        return type(e).__name__, {}, None, time.monotonic() - started
    return status, answer_headers, answer, time.monotonic() - started


def events_by_correlation(pg_app, code: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for event in pg_app.organization_history(code):
        meta = getattr(event, "meta", None)
        if meta is not None:
            found.setdefault(meta.correlation_id, []).append(event.originator_version)
    return found


def test_during_a_database_outage_requests_answer_503_quickly_and_record_nothing(
        through_proxy, pg_app):
    client, proxy = through_proxy
    registered(client, 1)
    first = {"Idempotency-Key": f"k-{uuid.uuid4().hex}", "X-Correlation-Id": "before"}
    status, _, body = client.post(f"{org_path(1)}/interviews", interview(1), headers=first)
    assert status == 200, body
    assert client.get("/readyz")[0] == 200
    head = pg_app.recorder.max_notification_id()

    proxy.cut()
    key = f"k-{uuid.uuid4().hex}"
    during = {"Idempotency-Key": key, "X-Correlation-Id": "during"}
    requests = [("GET", "/readyz", None, None), ("GET", org_path(1), None, None),
                ("GET", f"{org_path(1)}/events", None, None),
                ("POST", f"{org_path(1)}/interviews", interview(2), during)]
    answers = []
    for method, path, payload, headers in requests:  # first on the pool's dead
        # connections (at once), then waiting for a connection (WEB_DATABASE_TIMEOUT)
        status, answer_headers, answer, seconds = timed(client, method, path, payload,
                                                        headers)
        answers.append((method, path, status, answer_headers.get("retry-after"),
                        round(seconds, 2)))
    print("during the outage:", answers)
    assert [a for a in answers if a[2] != 503] == []
    assert [a for a in answers if not a[3]] == []
    assert max(a[4] for a in answers) < MAX_SECONDS, answers
    assert pg_app.recorder.max_notification_id() == head  # nothing recorded

    proxy.restore()
    restored, recovered = time.monotonic(), None
    while time.monotonic() - restored < RECOVERY_SECONDS:
        status, _, body, _ = timed(client, "POST", f"{org_path(1)}/interviews",
                                   interview(2), during)
        if status == 200:
            recovered = time.monotonic() - restored
            break
        assert status == 503, body
        time.sleep(0.2)
    print(f"first write {recovered}s after the restore")
    assert recovered is not None, f"no write succeeded within {RECOVERY_SECONDS}s"
    version = body["version"]
    status, headers, again = client.post(f"{org_path(1)}/interviews", interview(2),
                                         headers=during)
    assert (status, headers.get("idempotent-replayed"), again["version"]) == (
        200, "true", version)
    status, _, ready = client.get("/readyz")
    assert (status, ready["database"], ready["position"]) == (200, "ok", head + 1)
    assert set(ready["projections"]) == set(READ_MODELS)
    assert client.get(org_path(1))[0] == 200

    recorded = events_by_correlation(pg_app, client_code := org_path(1).rsplit("/", 1)[1])
    assert recorded["before"] == [version - 1]
    assert recorded["during"] == [version], recorded  # once: nothing lost or doubled
    history = pg_app.organization_history(client_code)
    assert [e.originator_version for e in history] == list(range(1, version + 1))
