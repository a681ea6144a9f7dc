"""b. Commands over HTTP and c. case-file reads over HTTP, under the production server
(adapters.web.server: gunicorn, 2 x cores workers x 4 threads), against a trivial JSON endpoint
on the same server (bench.wsgi's /bench/ping) at the same concurrency.

The load client is ``wrk`` (Debian package ``wrk``) when it is installed, else a Python
client in threads; both are bounded in time (and the Python one in count), loopback only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Iterator

from bench.common import (INTERVIEW, ROOT, Context, Row, app_env, fresh_schema, ms,
                          open_staff_account, percentile, rate, register_orgs)

COMMAND_CONNECTIONS = 16
READ_CONNECTIONS = 50


@dataclass
class Load:
    requests: int
    seconds: float
    p50: float
    p99: float
    errors: int  # non-2xx answers and socket errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# ------------------------------------------------------------- CPU per request (Linux)
#
# Throughput on two shared cores moves with whatever else runs (the load client, other
# work on the machine); the CPU time the server's processes spend per request does much
# less. The meter reads /proc: the web workers (children of the gunicorn master) and the
# PostgreSQL backends (children of the postmaster), before and after a measurement.

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()  # after the command name
    except OSError:
        return None


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == parent:
                found.append(int(entry))
    return found


def _cpu(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:  # utime and stime, fields 14 and 15 of stat
            out[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    return out


class CpuMeter:
    """CPU seconds used by the web workers and the PostgreSQL backends between ``start``
    and ``stop`` (a backend or worker that exits in between is not counted)."""

    def __init__(self, master_pid: int, url: str):
        self.master, self.postmaster = master_pid, None
        try:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
                fields = _stat(backend)  # a local server: the backend's parent
            self.postmaster = int(fields[1]) if fields is not None else None
        except Exception:  # not local, or no /proc: web CPU only
            self.postmaster = None

    def _sample(self) -> tuple[dict[int, float], dict[int, float]]:
        return (_cpu(_children(self.master)),
                _cpu(_children(self.postmaster)) if self.postmaster else {})

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> tuple[float, float | None]:
        after = self._sample()
        web, pg = (sum(v - before.get(pid, 0.0) for pid, v in now.items())
                   for now, before in zip(after, self.before))
        return web, (pg if self.postmaster else None)


def cpu_note(label: str, load: "Load", cpu: tuple[float, float | None]) -> str:
    web, pg = cpu
    n = max(load.requests, 1)
    text = f"{label}: web {web / n * 1e6:,.0f} us"
    if pg is not None:
        text += f" + PostgreSQL {pg / n * 1e6:,.0f} us"
    return text + " CPU per request"


def measure(meter: "CpuMeter", *args, **kwargs) -> tuple["Load", tuple[float, float | None]]:
    meter.start()
    result = load(*args, **kwargs)
    return result, meter.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(url: str, schema: str, workers: int | None = None,
           threads: int | None = None) -> Iterator[str]:
    """Start bench.server (gunicorn) on a free loopback port; yield its base URL."""
    port = free_port()
    env = dict(os.environ, POSTGRES_SCHEMA=schema, DATABASE_URL=url, LOG_LEVEL="WARNING",
               PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "bench.server", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError("the server exited:\n" + log.read().decode()[-3000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/bench/ping")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer within 60 s")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # graceful: the workers close their pools
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


# ------------------------------------------------------------------------ load clients

LUA = r"""
local paths = {%(paths)s}
local method = "%(method)s"
local body = %(body)s
local headers = {%(headers)s}
local n = 0
request = function()
  n = n + 1
  local path = paths[math.random(#paths)]
  return wrk.format(method, path, headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p99_us\": %%d, " ..
    "\"errors\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_string(s: str) -> str:
    assert "]==]" not in s
    return f"[==[{s}]==]"  # a Lua long string: no escapes, UTF-8 as is


def wrk(base: str, paths: list[str], *, method: str = "GET", body: str | None = None,
        headers: dict[str, str] | None = None, connections: int, seconds: float) -> Load:
    script = LUA % {
        "paths": ", ".join(_lua_string(p) for p in paths),
        "method": method,
        "body": _lua_string(body) if body is not None else "nil",
        "headers": ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}"
                             for k, v in (headers or {}).items()),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        threads = 1 if (os.cpu_count() or 1) <= 2 else 2
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, int(seconds))}s",
             "--timeout", "10s", "-s", f.name, base], capture_output=True, text=True,
            timeout=seconds + 60)
    finally:
        os.unlink(f.name)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    data = json.loads(line[len("BENCH "):])
    return Load(requests=data["requests"], seconds=data["duration_us"] / 1e6,
                p50=data["p50_us"] / 1e6, p99=data["p99_us"] / 1e6, errors=data["errors"])


def python_load(base: str, paths: list[str], *, method: str = "GET", body: str | None = None,
                headers: dict[str, str] | None = None, connections: int, seconds: float,
                max_requests: int = 1_000_000) -> Load:
    """The fallback client: one keep-alive connection per thread (the GIL makes it the
    bottleneck on small machines; install wrk for the real figures)."""
    import random

    host, port = base.removeprefix("http://").split(":")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    stop_at = time.monotonic() + seconds
    encoded = body.encode() if body is not None else None

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        rng = random.Random(i)
        while time.monotonic() < stop_at and len(latencies[i]) < max_requests // connections:
            t0 = time.perf_counter()
            try:
                conn.request(method, rng.choice(paths), body=encoded, headers=headers or {})
                response = conn.getresponse()
                response.read()
                if response.status >= 300:
                    errors[i] += 1
            except OSError:
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
            latencies[i].append(time.perf_counter() - t0)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = [x for ls in latencies for x in ls]
    return Load(len(flat), elapsed, percentile(flat, 50), percentile(flat, 99), sum(errors))


def load(*args, **kwargs) -> Load:
    return wrk(*args, **kwargs) if shutil.which("wrk") else python_load(*args, **kwargs)


def client_name() -> str:
    return "wrk" if shutil.which("wrk") else "python threads (wrk not installed)"


# ----------------------------------------------------------------------- benchmarks

def commands(ctx: Context) -> list[Row]:
    from adapters.bootstrap import build_casefiles

    seconds = ctx.seconds(4, 8)
    with fresh_schema(ctx.url, "commands") as schema:
        casefiles = build_casefiles(env=app_env(schema))
        try:
            codes = register_orgs(casefiles, 200)
            token = open_staff_account(casefiles)
        finally:
            casefiles.close()
        paths = [f"/api/v1/organizations/{c}/interviews" for c in codes]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = json.dumps(INTERVIEW, ensure_ascii=False)
        with server(ctx.url, schema) as (base, pid):
            meter = CpuMeter(pid, ctx.url)
            ping = ["/bench/ping"]
            load(base, ping, connections=COMMAND_CONNECTIONS, seconds=2)  # warm-up
            ceiling, ping_cpu = measure(meter, base, ping, connections=COMMAND_CONNECTIONS,
                                        seconds=seconds)
            load(base, paths, method="POST", body=body, headers=headers,
                 connections=COMMAND_CONNECTIONS, seconds=2)
            measured, cpu = measure(meter, base, paths, method="POST", body=body,
                                    headers=headers, connections=COMMAND_CONNECTIONS,
                                    seconds=seconds)
    ratio = measured.per_second / ceiling.per_second
    return [Row("b. commands over HTTP", rate(measured.per_second, "cmd/s") +
                f", p99 {ms(measured.p99)}",
                rate(ceiling.per_second, "ping/s") + f", p99 {ms(ceiling.p99)}", ratio,
                ">= 40%", ratio >= 0.4,
                note=(f"POST .../interviews, {COMMAND_CONNECTIONS} connections, {client_name()}"
                      f", p50 {ms(measured.p50)}, {measured.errors} errors; "
                      f"{server_shape()}; {cpu_note('command', measured, cpu)}, "
                      f"{cpu_note('ping', ceiling, ping_cpu)}"),
                data={"commands_per_s": measured.per_second, "p50": measured.p50,
                      "p99": measured.p99, "ceiling": ceiling.per_second,
                      "ceiling_p99": ceiling.p99, "errors": measured.errors,
                      "cpu_web_s": cpu[0], "cpu_pg_s": cpu[1],
                      "ping_cpu_web_s": ping_cpu[0], "ping_cpu_pg_s": ping_cpu[1]})]


def reads(ctx: Context) -> list[Row]:
    from adapters.seed.demo import generate
    from adapters.runtime.catch_up import catch_up
    from adapters.runtime.registry import open_view

    seconds = ctx.seconds(4, 8)
    with fresh_schema(ctx.url, "reads") as schema:
        env = app_env(schema)
        casefiles = build_casefiles(env=env)
        try:
            summary = generate(casefiles, orgs=ctx.size(100, 300), years=5,
                               echo=lambda *_: None)
            token = open_staff_account(casefiles)
        finally:
            casefiles.close()
        catch_up(env, "casefiles")
        view = open_view(env, "casefiles")
        try:
            total, found = view.search(limit=500)
            sizes = [len(json.dumps(view.get(r["identifier"])["timeline"]))
                     for r in found[:50]]
        finally:
            view.datastore.close()
        paths = [f"/api/v1/organizations/{r['identifier']}" for r in found]
        headers = {"Authorization": f"Bearer {token}"}
        with server(ctx.url, schema) as (base, pid):
            meter = CpuMeter(pid, ctx.url)
            ping = ["/bench/ping"]
            load(base, ping, connections=READ_CONNECTIONS, seconds=2)
            ceiling, ping_cpu = measure(meter, base, ping, connections=READ_CONNECTIONS,
                                        seconds=seconds)
            load(base, paths, headers=headers, connections=READ_CONNECTIONS, seconds=2)
            measured, cpu = measure(meter, base, paths, headers=headers,
                                    connections=READ_CONNECTIONS, seconds=seconds)
    ratio = measured.per_second / ceiling.per_second
    note = (f"GET /api/v1/organizations/{{code}} over {len(paths)} case files "
            f"({summary['events']} events), {READ_CONNECTIONS} connections, {client_name()}, "
            f"{measured.errors} errors; timeline JSON ~{sum(sizes) // max(len(sizes), 1):,} B; "
            f"{cpu_note('read', measured, cpu)}, {cpu_note('ping', ceiling, ping_cpu)}")
    data = {"reads_per_s": measured.per_second, "p50": measured.p50, "p99": measured.p99,
            "ceiling": ceiling.per_second, "ceiling_p50": ceiling.p50,
            "ceiling_p99": ceiling.p99, "errors": measured.errors,
            "cpu_web_s": cpu[0], "cpu_pg_s": cpu[1], "ping_cpu_web_s": ping_cpu[0],
            "ping_cpu_pg_s": ping_cpu[1]}
    return [
        Row("c. reads over HTTP", rate(measured.per_second, "req/s") +
            f", p50 {ms(measured.p50)}", rate(ceiling.per_second, "ping/s") +
            f", p50 {ms(ceiling.p50)}", ratio, ">= 70%", ratio >= 0.7, note=note, data=data),
        Row("c. reads over HTTP, p99", ms(measured.p99), ms(ceiling.p99), None, "< 25 ms",
            measured.p99 < 0.025, data=data),
    ]


def server_shape() -> str:
    from adapters.web.server import DEFAULT_THREADS, default_workers

    return f"gunicorn {default_workers()} workers x {DEFAULT_THREADS} threads"


def run_named(ctx: Context, name: str) -> list[Row]:
    return commands(ctx) if name == "commands" else reads(ctx)


def run(ctx: Context) -> list[Row]:
    return commands(ctx) + reads(ctx)


if __name__ == "__main__":  # python -m bench.http: both, quick
    from bench.run import main

    sys.exit(main(["--quick", "--only", "commands,reads"]))
