"""h. Freshness: at a steady write load, the time from a write's answer to the case-file
read model having applied it, with the projection worker (``casefile worker``, i.e.
``adapters.runtime.worker.Worker``: every projection, the rules and the clock) running in
its own process, as in production.

Each write is ``CaseFiles.execute(code, "interview", ...)``; its answer carries the
event's position. A poller reads the casefiles view's tracking position every millisecond
(what ``adapters.runtime.status.wait_for`` polls, without its back-off) and stamps each write
when the position reaches it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

from bench.common import (INTERVIEW, ROOT, Context, Row, app_env, fresh_schema, ms,
                          percentile, register_orgs, staff_meta)

TARGET = 0.100


@contextlib.contextmanager
def worker_process(url: str, schema: str, output: list[str] | None = None
                   ) -> Iterator[subprocess.Popen]:
    """``casefile worker`` on the bench schema, stopped with SIGTERM at the end; its log
    lines are appended to ``output``."""
    executable = Path(sys.executable).parent / "casefile"
    env = dict(os.environ, POSTGRES_SCHEMA=schema, DATABASE_URL=url, LOG_LEVEL="INFO")
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([str(executable), "worker"], cwd=ROOT, env=env, stdout=log,
                               stderr=log, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.seek(0)
        text = log.read().decode(errors="replace")
        if output is not None:
            output.extend(text.splitlines())
        if process.returncode not in (0, -signal.SIGTERM):
            print(text[-2000:], file=sys.stderr)
        log.close()


def wait_caught_up(view, position: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (view.max_tracking_id("casefile") or 0) >= position:
            return True
        time.sleep(0.05)
    return False


def run(ctx: Context) -> list[Row]:
    from adapters.runtime.registry import open_view
    from adapters.bootstrap import build_casefiles

    per_second = 50
    seconds = ctx.seconds(5, 15)
    with fresh_schema(ctx.url, "freshness") as schema:
        env = app_env(schema)
        casefiles = build_casefiles(env=env)
        view = None
        try:
            codes = register_orgs(casefiles, 100)
            worker_log: list[str] = []
            spawned = time.perf_counter()
            with worker_process(ctx.url, schema, worker_log) as process:
                view = open_view(env, "casefiles")
                head = casefiles.recorder.max_notification_id() or 0
                if not wait_caught_up(view, head, 60):
                    raise RuntimeError("the worker did not catch up within 60 s")
                written: dict[int, float] = {}  # position -> when the write answered
                seen: dict[int, float] = {}
                lock = threading.Lock()
                stop = threading.Event()

                def poll() -> None:
                    while not stop.is_set() or len(seen) < len(written):
                        position = view.max_tracking_id("casefile") or 0
                        now = time.perf_counter()
                        with lock:
                            for p in [p for p in written if p not in seen and p <= position]:
                                seen[p] = now
                        if stop.is_set() and time.perf_counter() - last[0] > 10:
                            return  # give up on what never arrived (counted below)
                        time.sleep(0.001)

                last = [time.perf_counter()]
                poller = threading.Thread(target=poll, daemon=True)
                poller.start()
                interval = 1 / per_second
                next_at = time.perf_counter()
                end = next_at + seconds
                n = 0
                while time.perf_counter() < end:
                    result = casefiles.execute(codes[n % len(codes)], "interview",
                                               meta=staff_meta(), **INTERVIEW)
                    with lock:
                        written[result.position] = last[0] = time.perf_counter()
                    n += 1
                    next_at += interval
                    time.sleep(max(0.0, next_at - time.perf_counter()))
                stop.set()
                poller.join(timeout=15)
                if process.poll() is not None:
                    raise RuntimeError("the worker exited during the benchmark")
        finally:
            if view is not None:
                view.datastore.close()
            casefiles.close()
    lags = [seen[p] - t for p, t in written.items() if p in seen]
    # when the slowest write was made, counted from the worker's start: a stall at a fixed
    # moment after the start (the first clock tick) shows here
    slowest = max(((seen[p] - t, t - spawned) for p, t in written.items() if p in seen),
                  default=(float("nan"), float("nan")))
    restarts = [line for line in worker_log if " ERROR " in line or "stopped:" in line]
    missing = len(written) - len(lags)
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    return [Row("h. freshness (write -> case file)", f"p50 {ms(p50)}, p99 {ms(p99)}",
                "-", None, "p99 < 100 ms", p99 < TARGET and not missing,
                note=(f"{len(written)} writes at {per_second}/s over {seconds:.0f} s, "
                      f"worker in its own process; max {ms(slowest[0])} (written "
                      f"{slowest[1]:.1f} s after the worker started)"
                      + (f"; {missing} never seen within 10 s" if missing else "")
                      + (f"; the worker logged {len(restarts)} error(s), e.g. "
                         f"{restarts[-1].split(': ', 1)[-1][:160]}" if restarts else "")),
                data={"p50": p50, "p99": p99, "max": slowest[0],
                      "max_written_after_start": slowest[1], "writes": len(written),
                      "missing": missing,
                      "rate": per_second, "restarts": restarts})]
