"""d. Projection rebuild: events/s of ``adapters.runtime.catch_up.rebuild`` per projection over a
generated district, against a raw sequential read of the events table with psycopg."""

from __future__ import annotations

import time

import psycopg

from bench.common import Context, Row, app_env, events_table, fresh_schema, rate

TARGET = 5_000


def raw_read(url: str, schema: str) -> tuple[int, float]:
    """SELECT * FROM the events table ORDER BY notification_id, every row fetched (a
    server-side cursor, 2,000 rows a round trip); returns (rows, seconds)."""
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.cursor(name="bench_raw_read") as cursor:
            cursor.itersize = 2000
            cursor.execute(f"SELECT * FROM {events_table(schema)} ORDER BY notification_id")
            n = 0
            for _ in cursor:
                n += 1
        return n, time.perf_counter() - started


def generate_district(env: dict, orgs: int, years: int = 5) -> dict:
    from adapters.seed.demo import generate
    from adapters.bootstrap import build_casefiles

    casefiles = build_casefiles(env=env)
    try:
        return generate(casefiles, orgs=orgs, years=years, echo=lambda *_: None)
    finally:
        casefiles.close()


def rebuild_rates(env: dict, names: tuple[str, ...]) -> dict[str, dict]:
    from adapters.runtime.catch_up import rebuild

    out = {}
    for name in names:
        started = time.perf_counter()
        result = rebuild(env, name, progress=False, echo=lambda *_: None)
        result["wall_seconds"] = time.perf_counter() - started
        out[name] = result
    return out


def run(ctx: Context) -> list[Row]:
    from adapters.runtime.registry import READ_MODELS

    orgs = ctx.size(150, 1000)
    with fresh_schema(ctx.url, "rebuild") as schema:
        env = app_env(schema)
        summary = generate_district(env, orgs)
        raw_read(ctx.url, schema)  # warm the cache, as the rebuilds will find it
        rows_read, seconds = raw_read(ctx.url, schema)
        ceiling = rows_read / seconds
        results = rebuild_rates(env, tuple(READ_MODELS))
    out = []
    for name, result in results.items():
        eps = result["events"] / result["seconds"]
        out.append(Row(f"d. rebuild {name}", rate(eps, "events/s"),
                       rate(ceiling, "rows/s read"), eps / ceiling, f">= {TARGET:,}/s",
                       eps >= TARGET,
                       note=(f"{result['events']:,} events of {summary['organizations']} "
                             f"organizations in {result['seconds']:.1f} s (with checksum "
                             f"and swap {result['wall_seconds']:.1f} s)")
                       if name == "casefiles" else
                       f"{result['events']:,} events in {result['seconds']:.1f} s",
                       data={"events_per_s": eps, "ceiling": ceiling,
                             "events": result["events"]}))
    return out
