"""1. Acknowledged means durable.

A load client (threads, loopback, bounded count and time) sends interviews and annual
reports, each with its own Idempotency-Key and X-Correlation-Id, to `casefile serve`
(gunicorn) on a private PostgreSQL; every 2xx is recorded. Meanwhile the service's
process group is SIGKILLed and restarted, and separately PostgreSQL's postmaster is
SIGKILLed (a crash, no shutdown checkpoint) and restarted. A failed request (connection
error, timeout, 5xx) is retried with the same key and body until it is acknowledged.
At the end PostgreSQL is SIGKILLed once more right after the last acknowledgement.

Must hold: every acknowledged command's event exists, once, at the version it answered;
no command has two events; no event exists that no command asked for; no 500 answers.

    python -m tests.faults.durability --quick      # ~30 s: 1 service kill, 1 PG kill
    python -m tests.faults.durability              # ~2 min: 3 + 3 kills at random times
"""

from __future__ import annotations

import random
import sys
import threading
import time

from tests.faults.common import (ROOT, Checks, Http, Ledger, PgCluster, Service, annual_report,
                                 arguments, environment, interview, open_accounts, percentile,
                                 register_organizations, say, verify_ledger)


def schedule(rng: random.Random, seconds: float, quick: bool) -> list[tuple[float, str]]:
    if quick:
        return [(seconds * 0.3, "service"), (seconds * 0.65, "postgres")]
    kinds = ["service", "postgres"] * 3
    rng.shuffle(kinds)
    slot = seconds / (len(kinds) + 1)
    return [(slot * (i + 1) + rng.uniform(-slot / 3, slot / 3), kind)
            for i, kind in enumerate(kinds)]


def main() -> int:
    args = arguments(__doc__.splitlines()[0], seconds=0.0, threads=0)
    seconds = args.seconds or (25.0 if args.quick else 100.0)
    threads = args.threads or 4
    rng = random.Random(args.seed)
    checks = Checks("durability")
    say(f"seed {args.seed}; {threads} client threads for {seconds:.0f}s")

    cluster = PgCluster("durability").start()
    url = cluster.fresh_database("faults_durability")
    settings = cluster.settings()
    say("PostgreSQL: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    checks.figure("SHOW fsync / synchronous_commit / full_page_writes",
                  f"{settings['fsync']} / {settings['synchronous_commit']} / "
                  f"{settings['full_page_writes']}")
    env = environment("durability", url)
    tokens = open_accounts()
    organizations = register_organizations(threads * 2)
    log = ROOT / "var" / "faults-durability" / "serve.log"
    service = Service(env, log).start()
    client = Http(service.port, tokens["staff"])
    ledger = Ledger()
    stop = threading.Event()
    give_up_at = time.monotonic() + seconds + 150

    def load(i: int) -> None:
        local = random.Random(args.seed * 100 + i)
        mine = organizations[2 * i:2 * i + 2]
        years = {o: list(range(2001, 2025)) for o in mine}
        n = 0
        while not stop.is_set():
            organization = local.choice(mine)
            if years[organization] and local.random() < 0.3:
                command = annual_report(organization, years[organization].pop(0))
            else:
                command = interview(organization, n)
            n += 1
            ledger.send(client, ledger.add(command), give_up_at, timeout=15)
            time.sleep(local.uniform(0, 0.02))

    workers = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(threads)]
    started = time.monotonic()
    for w in workers:
        w.start()
    faults = []
    try:
        for at, kind in schedule(rng, seconds, args.quick):
            time.sleep(max(0.0, started + at - time.monotonic()))
            began = time.monotonic()
            if kind == "service":
                service.sigkill()
                say(f"SIGKILLed casefile serve (process group) after {len(ledger.successes)} "
                    "acks; restarting")
                service.start()
            else:
                pid = cluster.sigkill_postmaster()
                down = rng.uniform(0.5, 3.0)
                say(f"SIGKILLed the postmaster {pid} after {len(ledger.successes)} acks; "
                    f"restarting in {down:.1f}s")
                time.sleep(down)
                cluster.start()
            faults.append((kind, began, time.monotonic()))
            say(f"{kind} back after {time.monotonic() - began:.1f}s")
        time.sleep(max(0.0, started + seconds - time.monotonic()))
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=200)
    ended = time.monotonic()
    say(f"load stopped: {len(ledger.commands)} commands, {len(ledger.successes)} acks")

    # a crash right after the last acknowledgement: nothing acknowledged may be lost
    service.sigkill()
    pid = cluster.sigkill_postmaster()
    say(f"SIGKILLed the service and the postmaster {pid} right after the last ack; "
        "restarting PostgreSQL only")
    cluster.start()

    figures = verify_ledger(ledger, checks)
    commands = ledger.commands
    latencies = [x for c in commands for x in c.latencies]
    checks.figure("commands sent / acknowledged", f"{len(commands)} / "
                  f"{sum(c.acked for c in commands)}")
    checks.figure("outcome of the commands", figures)
    checks.figure("answers and errors seen (all attempts)", dict(ledger.statuses))
    checks.figure("retried commands", sum(c.attempts > 1 for c in commands))
    checks.figure("request latency p50 / p99 / max (s)",
                  f"{percentile(latencies, 50):.3f} / {percentile(latencies, 99):.3f} / "
                  f"{max(latencies, default=0):.3f}")
    for i, (kind, began, back) in enumerate(faults):
        until = faults[i + 1][1] if i + 1 < len(faults) else ended
        after = [t for t in ledger.successes if t > back]
        checks.figure(f"fault {i + 1} ({kind}): down for / first ack after it was back / "
                      "longest time without an ack (s)",
                      f"{back - began:.1f} / "
                      f"{f'{min(after) - back:.1f}' if after else 'never'} / "
                      f"{ledger.longest_gap(began - 1, min(until, back + 10)):.1f}")
        checks.check(any(back < t < until for t in ledger.successes),
                     f"no acknowledgement after fault {i + 1} ({kind})")
    checks.check(all(c.acked for c in commands),
                 f"{sum(not c.acked for c in commands)} commands never acknowledged "
                 f"(refused: {[c.outcomes for c in commands if c.refused][:3]})")
    checks.check(ledger.statuses.get("500", 0) == 0,
                 f"{ledger.statuses.get('500')} answers were 500 (a database failure must "
                 "answer 503 with Retry-After)")
    checks.check(len(commands) >= 50, "too few commands to mean anything")
    cluster.stop()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
