"""3. Database outage.

`casefile serve` (gunicorn), `casefile worker` (projections, rules, clock and the Kafka
relay, on the fault scripts' own broker) and a light load (two writers with
Idempotency-Keys, one reader of case files and /readyz). PostgreSQL is stopped
(`pg_ctl stop -m fast`) for 30 s (quick: 8 s), then started again; nothing is restarted
by hand.

Must hold: during the outage every answer is 503 with Retry-After, none is 500, none
takes more than --max-latency seconds (default 5), the service stays up; afterwards
writes succeed again, every acknowledged command's event exists once; the worker and the
relay resume by themselves (lag 0); the worker holds its advisory lock again (so that
`projections rebuild` does not swap tables under it); every view equals a fresh rebuild
and the audit trail verifies; every event reached Kafka, in order per organization.
Phase 2: PostgreSQL stopped again for 35 s and one gunicorn worker SIGKILLed meanwhile:
the server stays up, its replacement retries building its application while the
database is down, and once the database is back it boots and the service answers.

    python -m tests.faults.db_outage --quick       # ~2 min
    python -m tests.faults.db_outage               # ~3 min (30 s outage)
    python -m tests.faults.db_outage --no-kafka    # without the broker (and the relay)
"""

from __future__ import annotations

import collections
import random
import sys
import threading
import time

from tests.faults.common import (ROOT, Checks, Http, Ledger, PgCluster, Process, Service,
                                 casefiles, check_read_models, check_stream, environment,
                                 interview, local_kafka, open_accounts, percentile,
                                 projections_caught_up, published_ids, read_topic,
                                 register_organizations, say, verify_ledger, wait_for)


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description="database outage under light load")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--outage", type=float, default=None, help="seconds (30; quick 8)")
    parser.add_argument("--max-latency", type=float, default=5.0)
    parser.add_argument("--no-kafka", action="store_true")
    parser.add_argument("--connect-timeout", type=int, default=None,
                        help="POSTGRES_CONNECT_TIMEOUT for the worker (the library's "
                             "default is 30 s; the service's web processes use "
                             "WEB_DATABASE_TIMEOUT, 2 s)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    outage = args.outage or (8.0 if args.quick else 30.0)
    checks = Checks("db_outage")
    say(f"seed {seed}; outage {outage:.0f}s")

    cluster = PgCluster("outage").start()
    url = cluster.fresh_database("faults_outage")
    kafka, extra = None, {}
    if not args.no_kafka:
        say("starting the fault scripts' Kafka (127.0.0.1:49092)")
        kafka = local_kafka()
        extra = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap, "KAFKA_API_VERSION": "0.9",
                 "KAFKA_TOPIC": f"faults.outage.{seed}"}
    if args.connect_timeout:
        extra["POSTGRES_CONNECT_TIMEOUT"] = str(args.connect_timeout)
    env = environment("outage", url, **extra)
    from adapters.config import application_env

    app_env = application_env()
    tokens = open_accounts()
    organizations = register_organizations(4)
    logs = ROOT / "var" / "faults-outage"
    service = Service(env, logs / "serve.log").start()
    worker = Process("casefile worker", ["worker"], env, logs / "worker.log").start()
    client = Http(service.port, tokens["staff"])
    auditor = Http(service.port, tokens["auditor"])
    ledger = Ledger()
    reads: list[tuple[float, float, str, str | None]] = []
    stop = threading.Event()
    give_up_at = time.monotonic() + outage + 240

    def write(i: int) -> None:
        local, n = random.Random(seed * 10 + i), 0
        while not stop.is_set():
            command = ledger.add(interview(local.choice(organizations), n))
            n += 1
            ledger.send(client, command, give_up_at, timeout=30)
            time.sleep(0.25)

    def read() -> None:
        i = 0
        while not stop.is_set():
            path = (f"/api/v1/organizations/{organizations[i % 4]}" if i % 2
                    else "/readyz")
            started = time.monotonic()
            try:
                status, headers, _ = auditor.request("GET", path, timeout=30)
                outcome, retry_after = str(status), headers.get("retry-after")
            except OSError as e:
                outcome, retry_after = type(e).__name__, None
            reads.append((started, time.monotonic() - started, f"{path.split('/')[-1]} "
                          f"{outcome}", retry_after))
            i += 1
            time.sleep(0.5)

    threads = [threading.Thread(target=write, args=(i,), daemon=True) for i in range(2)]
    threads.append(threading.Thread(target=read, daemon=True))
    for t in threads:
        t.start()
    time.sleep(6)
    down_at = time.monotonic()
    say(f"stopping PostgreSQL (fast) for {outage:.0f}s; {len(ledger.successes)} acks so far")
    cluster.stop("fast")
    time.sleep(outage)
    up_at = time.monotonic()
    cluster.start()
    say(f"PostgreSQL started again after {up_at - down_at:.1f}s")
    time.sleep(8 if args.quick else 15)
    stop.set()
    for t in threads:
        t.join(timeout=300)
    ended = time.monotonic()

    # ---- during the outage: every request that overlapped it
    lo, hi = down_at + 0.5, up_at - 0.5
    overlapping = [a for a in ledger.attempts + reads if a[0] < hi and a[0] + a[1] > lo]
    ended_during = [a for a in overlapping if a[0] + a[1] < up_at]
    checks.figure("requests overlapping the outage / answered during it",
                  f"{len(overlapping)} / {len(ended_during)}")
    checks.figure("answers of those answered during the outage",
                  dict(collections.Counter(a[2].split()[-1] for a in ended_during)))
    checks.figure("latency of requests overlapping the outage p50 / max (s)",
                  f"{percentile([a[1] for a in overlapping], 50):.2f} / "
                  f"{max((a[1] for a in overlapping), default=0):.2f}")
    not_503 = [a for a in ended_during if a[2].split()[-1] != "503"]
    checks.check(not not_503, f"{len(not_503)} answers during the outage were not 503, e.g. "
                              f"{[(round(a[0] - down_at, 1), a[2]) for a in not_503[:5]]}")
    no_retry_after = [a for a in ended_during if a[2].endswith("503") and not a[3]]
    checks.check(not no_retry_after, f"{len(no_retry_after)} 503s without Retry-After")
    slow = [a for a in overlapping if a[1] > args.max_latency]
    checks.check(not slow, f"{len(slow)} of {len(overlapping)} requests overlapping the outage "
                           f"took more than {args.max_latency:.0f}s (up to "
                           f"{max((a[1] for a in slow), default=0):.1f}s, answers "
                           f"{sorted(set(a[2] for a in slow))}): they hang instead of "
                           "answering 503 at once")
    checks.check(len(ended_during) >= 3, f"only {len(ended_during)} requests were answered "
                                         "during the outage")
    checks.check(service.alive(), "casefile serve died during the outage")
    checks.check(worker.alive(), "casefile worker died during the outage")

    # ---- after it
    after = [t for t in ledger.successes if t > up_at]
    checks.figure("first acknowledged write after PostgreSQL was back (s)",
                  f"{min(after) - up_at:.1f}" if after else "never")
    checks.check(bool(after), "no write succeeded after the outage")
    checks.figure("writes after the outage: attempts that were not 2xx",
                  collections.Counter(a[2] for a in ledger.attempts
                                      if a[0] > up_at and not a[2].startswith("2")))
    figures = verify_ledger(ledger, checks)
    checks.figure("commands", figures)
    checks.check(all(c.acked for c in ledger.commands),
                 f"{sum(not c.acked for c in ledger.commands)} commands never acknowledged")

    caught_up = wait_for(lambda: projections_caught_up(app_env), 150)
    checks.figure("projections caught up by themselves, seconds after the restart",
                  f"{time.monotonic() - up_at:.0f}" if caught_up else "NO")
    checks.check(caught_up, "the worker's projections did not resume after the outage")
    from adapters.runtime.locks import worker_running

    checks.check(worker_running(app_env),
                 "after the outage the running worker no longer holds its advisory lock: "
                 "`casefile projections rebuild` would take it for stopped and swap the "
                 "live tables under it")
    if kafka is not None:
        from adapters.kafka.relay import relay_status

        relayed = wait_for(lambda: relay_status(app_env)["lag"] == 0, 150)
        checks.figure("relay caught up by itself, seconds after the restart",
                      f"{time.monotonic() - up_at:.0f}" if relayed else "NO")
        checks.check(relayed, f"the relay did not resume: {relay_status(app_env)}")
    worker.terminate()
    check_read_models(app_env, checks)

    # ---- phase 2: a web worker (re)booting while the database is down (after a crash,
    # a timeout, WEB_MAX_REQUESTS): gunicorn must replace it once the database is back
    import psutil

    master = psutil.Process(service.proc.pid)
    children = master.children()
    say(f"phase 2: stopping PostgreSQL again and SIGKILLing web worker {children[0].pid}")
    log_before = service.log.stat().st_size
    cluster.stop("fast")
    children[0].kill()
    time.sleep(35)  # longer than the pool's wait (POSTGRES_CONNECT_TIMEOUT, 30 s)
    phase2_up = time.monotonic()
    cluster.start()
    answered = wait_for(lambda: client.request("GET", "/readyz", timeout=10)[0] == 200, 60)
    checks.check(service.alive() and answered,
                 "a web worker that booted while PostgreSQL was down took the whole service "
                 "down for good (gunicorn: 'Worker failed to boot', master exits); "
                 f"casefile serve {'alive' if service.alive() else 'exited'}, /readyz "
                 f"{'answers' if answered else 'does not answer'} after PostgreSQL is back")

    def replacement_booted() -> bool:
        with open(service.log, errors="replace") as f:
            f.seek(log_before)
            return "application built at attempt" in f.read()

    booted = wait_for(replacement_booted, 60)
    checks.figure("phase 2: the replacement web worker built its application, seconds after "
                  "PostgreSQL was back", f"{time.monotonic() - phase2_up:.0f}" if booted
                  else "NO")
    with open(service.log, errors="replace") as f:
        f.seek(log_before)
        attempts = f.read().count("building the application failed")
    checks.figure("phase 2: boot attempts refused while PostgreSQL was down", attempts)
    workers_now = [c.pid for c in master.children()] if service.alive() else []
    checks.check(booted and len(workers_now) == len(children)
                 and children[0].pid not in workers_now,
                 f"the killed web worker was not replaced by one that booted once PostgreSQL "
                 f"was back (workers before {[c.pid for c in children]}, now {workers_now})")
    service.terminate()
    if kafka is not None:
        app = casefiles()
        expected = published_ids(app)
        app.close()
        messages = read_topic(kafka.bootstrap, extra["KAFKA_TOPIC"], set(expected))
        checks.figure("Kafka", check_stream(messages, expected, checks))
        kafka.stop()
    say(f"load ran {ended - down_at + 6:.0f}s")
    cluster.stop()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
