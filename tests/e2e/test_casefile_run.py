"""Issue 18 item 6: ``casefile run`` (what ``make run`` runs) is the deployment's shape on
one machine: gunicorn with its workers, the projection worker (and the relay) as
supervised child processes; one command; Ctrl-C stops every one of them."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
import json
from pathlib import Path

import psutil

from tests.conftest import CIPHER_KEY, PSEUDONYM_KEY, ROOT
from tests.e2e.test_web_boundary import free_port
from tests.support import code, registration


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, str, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read().decode(), dict(answer.getheaders())
    finally:
        conn.close()


def post(port: int, path: str, body: str, headers: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body.encode(), headers=headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


def wait_ready(port: int, process: subprocess.Popen, output: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, output.read_text()
        try:
            if get(port, "/readyz")[0] == 200 and "Serving on" in output.read_text():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("casefile run did not become ready:\n" + output.read_text())


def test_casefile_run_serves_with_gunicorn_and_ctrl_c_stops_every_child(
        database_url, schema, tokens, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "POSTGRES_SCHEMA": schema,
           "CIPHER_KEY": CIPHER_KEY, "PSEUDONYM_KEY": PSEUDONYM_KEY,
           "CASEFILE_VAR": str(tmp_path / "var"), "WEB_WORKERS": "2", "WEB_THREADS": "2",
           "LOG_LEVEL": "INFO"}
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "PROMETHEUS_MULTIPROC_DIR", "METRICS_TOKEN"):
        env.pop(name, None)
    output = tmp_path / "run.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("casefile")), "run", "--no-demo", "--port",
             str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(port, process, output)
        family = psutil.Process(process.pid).children(recursive=True)
        commands = [" ".join(p.cmdline()) for p in family]
        # gunicorn's master and its two workers, and the projection worker
        assert sum("adapters.cli serve" in c for c in commands) == 3, commands
        assert sum("adapters.cli worker" in c for c in commands) == 1, commands

        # a command through gunicorn, projected by the worker process, read back
        auth = {"Authorization": f"Bearer {tokens['staff']}",
                "Content-Type": "application/json"}
        assert post(port, "/api/v1/organizations", json.dumps(registration(1)), auth) == 201
        deadline = time.monotonic() + 30
        while get(port, f"/api/v1/organizations?q={code(1)}", auth)[1].count(code(1)) == 0:
            assert time.monotonic() < deadline, "the worker did not project the write"
            time.sleep(0.3)
        status, page, headers = get(port, "/signin")
        assert status == 200 and "登录" in page and headers["Server"] == "gunicorn"
        status, text, _ = get(port, "/metrics")
        assert status == 200 and 'casefile_commands_recorded_total{command="register"} 1.0' \
            in text, text[:2000]
        assert 'casefile_projection_lag_events{projection="casefiles"}' in text
        assert 'endpoint="/api/v1/organizations"' in text

        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=60) == 0
        gone, alive = psutil.wait_procs(family, timeout=10)
        assert not alive, [p.pid for p in alive]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = output.read_text()
    assert "development server" not in text.lower() and "werkzeug" not in text.lower()
    assert "Serving on" in text and "stopped" in text
