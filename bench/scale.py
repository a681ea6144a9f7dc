"""The scale table: one data set grown with ``adapters.seed.demo.generate`` through increasing
sizes (10k and 100k events quick; 10k, 100k and 1M with the full run), measured at each
size: append latency, projection rate, case-file read latency and storage per event.

``python -m bench.scale [--full | --sizes 10000,1000000,5000000]`` runs it alone;
``python -m bench.run`` runs it last.

The demo district runs out of distinct organization names at a few thousand
organizations, so a large data set is grown in chunks of 2,000 organizations, each a
district of its own seed (its own codes) and its own pseudonym key (its own person ids),
generated in parallel processes (one per core) into the same event store, each written
as the demo writes (adapters.seed.batch: its events in recorded-time order, 600 a
transaction).

At each size:
- append: p50/p99 of 200 interview commands through CaseFiles on random organizations;
- projection: the casefiles view is caught up (``adapters.runtime.catch_up.catch_up``, the
  worker's paged replay) over the events added since the previous size: events/s;
- read: p50/p99 of 300 ``GET /api/v1/organizations/{code}`` through the Flask app in
  process (no network), answered from the caught-up case-file view;
- storage: pg_total_relation_size of the events table (with its indexes and TOAST) per
  event, and of the snapshots table;
- verification (bench/verify.py): the audit trail caught up and its head verified (an
  extension over what the previous size added: the first size verifies from the start),
  then about 10,000 more events and the extension over them, timed (target < 1 s).
  The 10,000 stay in the store and count towards the next size.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import random
import secrets
import sys
import time

import psycopg

from bench.common import (INTERVIEW, Context, Row, app_env, count_events, events_table,
                          fresh_schema, ms, percentile, staff_meta)
from bench.verify import extension_after_new_events

CHUNK_ORGS = 2000
EVENTS_PER_ORG = 19  # about, with 5 years of history (the demo's default)


def _chunk(schema: str, orgs: int, seed: int) -> int:
    """In a child process: one district into the shared store."""
    import warnings

    warnings.filterwarnings("ignore")
    from adapters.seed.demo import generate
    from adapters.bootstrap import build_casefiles

    casefiles = build_casefiles(env=app_env(schema, PSEUDONYM_KEY=secrets.token_urlsafe(24),
                                      POSTGRES_POOL_SIZE="2"))
    try:
        return generate(casefiles, orgs=orgs, years=5, seed=seed,
                        echo=lambda *_: None)["events"]
    finally:
        casefiles.close()


def grow(url: str, schema: str, target_events: int, seeds: list[int]) -> float:
    """Add districts until the store holds about ``target_events``; returns seconds."""
    started = time.perf_counter()
    have = count_events(url, schema)
    workers = max(1, min(os.cpu_count() or 1, 4))
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        while have < target_events * 0.97:
            missing = target_events - have
            jobs = []
            while missing > 0 and len(jobs) < workers:
                orgs = max(20, min(CHUNK_ORGS, int(missing / EVENTS_PER_ORG)))
                seeds.append(seeds[-1] + 1)
                jobs.append(pool.submit(_chunk, schema, orgs, seeds[-1]))
                missing -= orgs * EVENTS_PER_ORG
            for job in jobs:
                job.result()
            have = count_events(url, schema)
    return time.perf_counter() - started


def measure(ctx: Context, schema: str, env: dict, token_cache: list[str]) -> dict:
    from adapters.runtime.catch_up import catch_up
    from adapters.runtime.registry import open_view
    from adapters.web import close_app, create_app
    from bench.common import open_staff_account
    from adapters.bootstrap import build_casefiles

    out: dict = {"events": count_events(ctx.url, schema)}
    t0 = time.perf_counter()
    applied = catch_up(env, "casefiles")
    seconds = time.perf_counter() - t0
    out["projected"], out["projection_rate"] = applied, applied / seconds if seconds else 0
    view = open_view(env, "casefiles")
    try:
        _, rows = view.search(limit=100_000)
        codes = [r["identifier"] for r in rows]
    finally:
        view.datastore.close()
    rng = random.Random(out["events"])
    casefiles = build_casefiles(env=env)
    try:
        latencies = []
        for code in rng.sample(codes, min(len(codes), 2000)):
            if len(latencies) >= 200:
                break
            t = time.perf_counter()
            try:
                casefiles.execute(code, "interview", meta=staff_meta(), **INTERVIEW)
            except Exception:  # a closed organization refuses: pick another
                continue
            latencies.append(time.perf_counter() - t)
        out["append_p50"], out["append_p99"] = percentile(latencies, 50), percentile(
            latencies, 99)
        catch_up(env, "casefiles")
        token = token_cache[0] if token_cache else open_staff_account(casefiles)
        token_cache[:] = [token]
        app = create_app({"CASEFILES": casefiles})
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        reads, served_from_log = [], 0
        for code in rng.sample(codes, min(len(codes), 300)):
            t = time.perf_counter()
            response = client.get(f"/api/v1/organizations/{code}", headers=headers)
            reads.append(time.perf_counter() - t)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            served_from_log += response.headers.get("X-Served-From") == "event-log"
        close_app(app)
        out["read_p50"], out["read_p99"] = percentile(reads, 50), percentile(reads, 99)
        out["reads_from_log"] = served_from_log
    finally:
        casefiles.close()
    with psycopg.connect(ctx.url, autocommit=True) as conn:
        out["events_bytes"] = conn.execute(
            f"SELECT pg_total_relation_size('{events_table(schema)}')").fetchone()[0]
        out["snapshots_bytes"] = conn.execute(
            f"SELECT pg_total_relation_size('\"{schema}\".casefile_snapshots')").fetchone()[0]
        out["state_bytes"] = conn.execute(
            f"SELECT avg(octet_length(state))::int FROM {events_table(schema)}").fetchone()[0]
    return out


def table(results: list[dict]) -> str:
    lines = [f"  {'events':>10} {'grown in':>9} {'append p50/p99':>18} "
             f"{'projection':>16} {'read p50/p99':>18} {'bytes/event':>12} {'state':>6} "
             f"{'snapshots':>10} {'verify +10k':>12} {'catch-up verify':>16}",
             "  " + "-" * 136]
    for r in results:
        lines.append(
            f"  {r['events']:>10,} {r['grow_seconds']:>8.0f}s "
            f"{ms(r['append_p50']):>8} / {ms(r['append_p99']):>8}"
            f" {r['projection_rate']:>10,.0f} ev/s "
            f"{ms(r['read_p50']):>8} / {ms(r['read_p99']):>8}"
            f" {r['events_bytes'] / r['events']:>12,.0f} {r['state_bytes']:>6}"
            f" {r['snapshots_bytes'] / 2 ** 20:>7,.0f} MiB"
            f" {r['verify']['extension']['seconds']:>10.2f} s"
            f" {r['verify']['head']['seconds']:>8.0f} s ({r['verify']['head']['mode']})")
    return "\n".join(lines)


def run(ctx: Context) -> list[Row]:
    sizes = SIZES or ([10_000, 100_000] if ctx.quick else [10_000, 100_000, 1_000_000])
    results = []
    seeds = [7_000]
    token: list[str] = []
    with fresh_schema(ctx.url, "scale") as schema:
        env = app_env(schema)
        from adapters.bootstrap import build_casefiles

        build_casefiles(env=env).close()  # create the tables once, before the parallel chunks
        for size in sizes:
            grown = grow(ctx.url, schema, size, seeds)
            result = measure(ctx, schema, env, token)
            result["grow_seconds"] = grown
            result["verify"] = extension_after_new_events(ctx, schema, env, seeds)
            result["target"] = size
            results.append(result)
            print(f"    scale: {result['events']:,} events measured", flush=True)
            print(table([result]), flush=True)  # each size as it comes: a long run may stop
    print(table(results), flush=True)
    ctx.extra["scale"] = results
    rows = []
    for r in results:
        rows.append(Row(f"scale {r['target']:,} events",
                        f"read p99 {ms(r['read_p99'])}",
                        f"append p99 {ms(r['append_p99'])}", None, "-", None,
                        note=(f"{r['events']:,} events; projection "
                              f"{r['projection_rate']:,.0f} ev/s; "
                              f"{r['events_bytes'] / r['events']:,.0f} B/event; audit "
                              f"verification of {r['verify']['extension']['checked']:,} "
                              f"new events {r['verify']['extension']['seconds']:.2f} s"),
                        data=r))
    return rows


SIZES: list[int] = []  # set by --sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--full", action="store_true", help="up to 1M events")
    parser.add_argument("--sizes", default="",
                        help="event counts to grow to and measure, e.g. 10000,1000000,5000000")
    args = parser.parse_args(argv)
    from bench.run import main as run_main

    import bench.scale as module  # run as __main__, this file is a second module object

    module.SIZES[:] = [int(n) for n in args.sizes.split(",") if n.strip()]
    return run_main(["--only", "scale"] + ([] if args.full or module.SIZES else ["--quick"]))


if __name__ == "__main__":
    sys.exit(main())
