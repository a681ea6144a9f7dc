"""10. Soak: a mixed read/write load at a steady rate for a long while.

`casefile serve` (gunicorn, 2 workers x 4 threads) with `casefile worker` running, on the
script's own PostgreSQL (var/faults-pg/soak). The load is open-loop at a fixed rate
(default 20 writes/s + 80 reads/s): writer threads send interviews to 2,000 organizations
(a steady state: about 6 interviews each in 10 minutes; with 100, each history grows
120-fold and so do a command's and a read's cost, docs/RELIABILITY.md row 10),
each with its own Idempotency-Key (retried with the same key after a 5xx or a connection
error, as a client would, but every such attempt counts as an error); reader threads
cycle through a case file (read model), an organization's events (event store), a list
query and /readyz; a control thread asks /healthz (no database) 5 times a second, whose
latency shows what the machine itself adds. A send slot more than one interval late is
skipped and counted.

Must hold:
- no errors: every attempt answered 2xx (no 5xx, no 4xx, no connection error);
- memory: the resident set (RSS) of the gunicorn master, of each gunicorn worker and of
  `casefile worker`, sampled every --sample seconds, does not grow after the warm-up
  (the first period) beyond a bound: the median of the last period's samples is at most
  max(20 MiB, 10 %) above the median of the first steady period's; and no gunicorn worker
  was replaced (a replaced one would hide a leak, or be a crash);
- latency stable: the last period's p99 (writes and reads separately) at most twice the
  first steady period's (or within 50 ms of it, for very small figures);
- the rate held: at least 80 % of the scheduled requests were sent;
- everything acknowledged is in the log, once, at the version answered; the projections
  catch up (lag 0) afterwards.

Periods are minutes (quick: 15 s). The machine's load average is printed per period
(the CPU is shared: a period's latency may reflect other jobs).

    python -m tests.faults.soak --quick            # 60 s of load, ~1.5 min in all
    python -m tests.faults.soak                    # 10 minutes of load
    python -m tests.faults.soak --minutes 30 --writes 10 --reads 40
"""

from __future__ import annotations

import collections
import http.client
import os
import random
import statistics
import sys
import threading
import time
from urllib.parse import quote

from tests.faults.common import (ROOT, Checks, Http, Ledger, PgCluster, Process, Service,
                                 environment, interview, open_accounts, percentile,
                                 projections_caught_up, register_organizations, say,
                                 verify_ledger, wait_for)

MIB = 1024 * 1024


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description="a steady mixed load for a long while")
    parser.add_argument("--quick", action="store_true", help="60 s, periods of 15 s")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--minutes", type=float, default=None, help="load duration (10)")
    parser.add_argument("--writes", type=float, default=20.0, help="writes per second")
    parser.add_argument("--reads", type=float, default=80.0, help="reads per second")
    parser.add_argument("--sample", type=float, default=None,
                        help="seconds between memory samples (10; quick 5)")
    parser.add_argument("--organizations", type=int, default=2000)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    duration = 60.0 * (args.minutes or (1.0 if args.quick else 10.0))
    period = 15.0 if args.quick else 60.0
    sample_every = args.sample or (5.0 if args.quick else 10.0)
    checks = Checks("soak")
    say(f"seed {seed}; {duration:.0f}s of load at {args.writes:g} writes/s + "
        f"{args.reads:g} reads/s; periods of {period:.0f}s, the first is the warm-up")

    cluster = PgCluster("soak").start()
    url = cluster.fresh_database("faults_soak")
    env = environment("soak", url)
    tokens = open_accounts()
    organizations = register_organizations(args.organizations)
    logs = ROOT / "var" / "faults-soak"
    service = Service(env, logs / "serve.log").start()
    worker = Process("casefile worker", ["worker"], env, logs / "worker.log").start()
    staff = Http(service.port, tokens["staff"])
    auditor = Http(service.port, tokens["auditor"])

    import psutil

    master = psutil.Process(service.proc.pid)
    web_workers = {p.pid for p in master.children()}
    say(f"gunicorn master {master.pid}, workers {sorted(web_workers)}, casefile worker "
        f"{worker.proc.pid}")

    ledger = Ledger()
    # (started, seconds, kind, outcome) of every request, writes' retries included
    requests: list[tuple[float, float, str, str]] = []
    lock = threading.Lock()
    skipped = collections.Counter()
    scheduled = collections.Counter()
    stop = threading.Event()
    begin = time.monotonic() + 1.0
    end = begin + duration

    def paced(kind: str, rate: float, act) -> None:
        """Send at ``rate`` per second from this thread, on a fixed schedule."""
        interval, n = 1.0 / rate, 0
        next_at = begin + random.random() * interval
        while next_at < end and not stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif -delay > interval:  # more than one slot late: skip, do not burst
                with lock:
                    skipped[kind] += 1
                    scheduled[kind] += 1
                next_at += interval
                continue
            with lock:
                scheduled[kind] += 1
            act(n)
            n += 1
            next_at += interval

    def writer(i: int, rate: float) -> None:
        local = random.Random(seed * 100 + i)

        def act(n: int) -> None:
            command = ledger.add(interview(local.choice(organizations), i * 1_000_000 + n))
            before = len(command.outcomes)
            ledger.send(staff, command, give_up_at=end + 60, timeout=30)
            with lock:
                started = time.monotonic() - sum(command.latencies[before:])
                for outcome, seconds in zip(command.outcomes[before:],
                                            command.latencies[before:]):
                    requests.append((started, seconds, "write", outcome))
                    started += seconds

        paced("write", rate, act)

    def reader(i: int, rate: float) -> None:
        local = random.Random(seed * 100 + 50 + i)

        def act(n: int) -> None:
            organization = local.choice(organizations)
            path = [f"/api/v1/organizations/{organization}",
                    f"/api/v1/organizations/{organization}/events",
                    f"/api/v1/organizations?q={quote(local.choice('协会测试故障'))}&limit=20",
                    "/readyz"][n % 4]
            started = time.monotonic()
            try:
                status = auditor.request("GET", path, timeout=30)[0]
                outcome = str(status)
            except (OSError, http.client.HTTPException) as e:
                outcome = type(e).__name__
            except Exception as e:  # the client's own fault: counted, and the load goes on
                outcome = f"client {type(e).__name__}"
            with lock:
                requests.append((started, time.monotonic() - started, "read", outcome))

        paced("read", rate, act)

    def control() -> None:
        """/healthz (no database): its latency is the machine's, not the service's."""
        def act(n: int) -> None:
            started = time.monotonic()
            try:
                outcome = str(auditor.request("GET", "/healthz", timeout=30)[0])
            except (OSError, http.client.HTTPException) as e:
                outcome = type(e).__name__
            with lock:
                requests.append((started, time.monotonic() - started, "control", outcome))

        paced("control", 5.0, act)

    writers, readers = 4, 8
    threads = [threading.Thread(target=writer, args=(i, args.writes / writers), daemon=True)
               for i in range(writers)]
    threads += [threading.Thread(target=reader, args=(i, args.reads / readers), daemon=True)
                for i in range(readers)]
    threads.append(threading.Thread(target=control, daemon=True))

    # memory and load, sampled beside the load
    samples: list[tuple[float, dict[str, float], tuple[float, float, float]]] = []

    def rss() -> dict[str, float]:
        found = {"master": master.memory_info().rss / MIB}
        for child in master.children():
            try:
                found[f"web {child.pid}"] = child.memory_info().rss / MIB
            except psutil.NoSuchProcess:
                pass
        found["worker"] = psutil.Process(worker.proc.pid).memory_info().rss / MIB
        return found

    def sampler() -> None:
        while not stop.is_set() and time.monotonic() < end + sample_every:
            try:
                samples.append((time.monotonic(), rss(), os.getloadavg()))
            except psutil.Error as e:
                say(f"memory sample failed: {e}")
            stop.wait(sample_every)

    threads.append(threading.Thread(target=sampler, daemon=True))
    for t in threads:
        t.start()
    last_report = begin
    while time.monotonic() < end:
        time.sleep(1.0)
        if time.monotonic() - last_report >= period:
            last_report += period
            with lock:
                done = len(requests)
                errors = sum(1 for r in requests if not r[3].startswith("2"))
            say(f"{last_report - begin:5.0f}s: {done} requests, {errors} errors, load "
                f"{os.getloadavg()[0]:.2f}, RSS "
                f"{ {k: round(v) for k, v in samples[-1][1].items()} if samples else '-'} MiB")
    for t in threads[:-1]:
        t.join(timeout=120)
    stop.set()
    threads[-1].join(timeout=30)

    # ---- errors and rate
    outcomes = collections.Counter((r[2], r[3]) for r in requests)
    checks.figure("answers (kind, status): count", dict(outcomes))
    errors = [r for r in requests if not r[3].startswith("2")]
    checks.check(not errors, f"{len(errors)} requests were not answered 2xx, e.g. "
                             f"{[(round(r[0] - begin, 1), r[2], r[3]) for r in errors[:5]]}")
    for kind, rate in (("write", args.writes), ("read", args.reads)):
        sent = scheduled[kind] - skipped[kind]
        target = rate * duration
        checks.figure(f"{kind}s sent / scheduled at {rate:g}/s (skipped, late)",
                      f"{sent} / {target:.0f} ({skipped[kind]})")
        checks.check(sent >= 0.8 * target, f"only {sent} of {target:.0f} {kind}s were sent "
                                           "(the rate was not held)")

    # ---- latency per period
    periods = max(1, int(duration // period))
    table, p99 = [], collections.defaultdict(list)
    for n in range(periods):
        lo, hi = begin + n * period, begin + (n + 1) * period
        row = [f"{n * period / 60:4.1f}-{(n + 1) * period / 60:4.1f} min"]
        for kind in ("write", "read", "control"):
            values = [r[1] * 1000 for r in requests if lo <= r[0] < hi and r[2] == kind]
            p99[kind].append(percentile(values, 99))
            row.append(f"{kind}s {len(values):5} p50 {percentile(values, 50):6.1f} "
                       f"p99 {percentile(values, 99):7.1f} ms")
        loads = [s[2][0] for s in samples if lo <= s[0] < hi]
        row.append(f"load {max(loads, default=0):.2f}")
        table.append("  ".join(row))
    say("per period:\n    " + "\n    ".join(table))
    checks.figure("latency per period (ms): write p99", [round(v) for v in p99["write"]])
    checks.figure("latency per period (ms): read p99", [round(v) for v in p99["read"]])
    checks.figure("latency per period (ms): control (/healthz, no database) p99",
                  [round(v) for v in p99["control"]])
    checks.figure("load average (1 min) per period, highest sample",
                  [round(max((s[2][0] for s in samples
                              if begin + n * period <= s[0] < begin + (n + 1) * period),
                             default=0), 1) for n in range(periods)])
    everything = [r[1] * 1000 for r in requests
                  if r[0] >= begin + period and r[2] != "control"]
    checks.figure("after the warm-up: p50 / p99 / max (ms)",
                  f"{percentile(everything, 50):.1f} / {percentile(everything, 99):.1f} / "
                  f"{max(everything, default=0):.0f}")
    if periods >= 3:
        for kind in ("write", "read"):
            first, last = p99[kind][1], p99[kind][-1]
            control = (p99["control"][-1], p99["control"][1])
            checks.check(last <= max(2 * first, first + 50),
                         f"{kind} p99 of the last period {last:.0f} ms is more than twice "
                         f"the first steady period's {first:.0f} ms (/healthz p99 "
                         f"{control[0]:.0f} ms against {control[1]:.0f} ms: the machine's "
                         "share of it)")
    checks.figure("load average 1/5/15 min at the end", os.getloadavg())

    # ---- memory after the warm-up
    steady = [s for s in samples if begin + period <= s[0] < begin + 2 * period]
    last = [s for s in samples if end - period <= s[0]]
    names = sorted({k for s in samples for k in s[1]})
    growth = {}
    for name in names:
        first_values = [s[1][name] for s in steady if name in s[1]]
        last_values = [s[1][name] for s in last if name in s[1]]
        if not first_values or not last_values:
            continue
        base, now = statistics.median(first_values), statistics.median(last_values)
        peak = max(s[1][name] for s in samples if name in s[1])
        bound = max(20.0, 0.10 * base)
        growth[name] = f"{base:.0f} -> {now:.0f} MiB (peak {peak:.0f}, bound +{bound:.0f})"
        checks.check(now - base <= bound, f"{name}: RSS grew from {base:.0f} to {now:.0f} MiB "
                                          f"after the warm-up (bound +{bound:.0f} MiB)")
    checks.figure("RSS, median of the first steady period -> of the last", growth)
    replaced = {p.pid for p in master.children()} != web_workers
    checks.check(not replaced, "a gunicorn worker was replaced during the soak (a crash or a "
                               "timeout)")
    checks.check(service.alive(), "casefile serve exited")
    checks.check(worker.alive(), "casefile worker exited")

    # ---- everything acknowledged is in the log
    figures = verify_ledger(ledger, checks)
    checks.figure("commands", figures)
    checks.check(all(c.acked for c in ledger.commands),
                 f"{sum(not c.acked for c in ledger.commands)} commands never acknowledged")
    from adapters.config import application_env

    caught_up = wait_for(lambda: projections_caught_up(application_env()), 180)
    checks.check(caught_up, "the projections did not catch up after the load")
    worker.terminate()
    service.terminate()
    cluster.stop()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
