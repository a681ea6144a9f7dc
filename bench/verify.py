"""i. Audit verification in O(new events) (issue 18 item 2): a store of N events, its audit
trail projected and verified once in full (the stored head); then 10,000 more events,
projected, and the verification that extends the head over them, timed. Ceiling: a raw
read of the same new rows (the events and their audit entries, psycopg, no decoding), in
the same run. Target: the extension after 10,000 new events under 1 s, whatever N.

``python -m bench.run --only verify`` (N = 20,000 quick, 200,000 full); the scale table
(bench/scale.py) measures the same extension at each of its sizes, up to 5 million.
"""

from __future__ import annotations

import time

import psycopg

from bench.common import Context, Row, app_env, count_events, events_table, fresh_schema

NEW_EVENTS = 10_000
TARGET_SECONDS = 1.0


def raw_read_after(url: str, schema: str, position: int) -> tuple[int, float]:
    """The rows an extension reads, without decoding them: events and audit entries after
    ``position``; returns (events, seconds)."""
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        n = 0
        for table in (events_table(schema), f'"{schema}".audittrail_entries'):
            column = "notification_id" if "events" in table else "position"
            with conn.cursor(name="bench_raw_after") as cursor:
                cursor.itersize = 2000
                cursor.execute(f"SELECT * FROM {table} WHERE {column} > %s ORDER BY {column}",
                               (position,))
                for _ in cursor:
                    n += 1
        return n // 2, time.perf_counter() - started


def verify_now(env: dict, *, full: bool = False) -> dict:
    """Catch the audit trail up, then verify (extend, or in full); the run's figures."""
    from adapters.bootstrap import build_casefiles
    from adapters.runtime.catch_up import catch_up
    from adapters.runtime.registry import open_view
    from adapters.views.audit_verification import AuditVerifier

    catch_up(env, "audittrail")
    app = build_casefiles(env=env)
    view = open_view(env, "audittrail")
    try:
        run = AuditVerifier(view, app).run(full=full)
        assert run.result.ok, run.as_dict()
        return {"checked": run.checked, "seconds": run.seconds, "mode": run.mode,
                "started_after": run.started_after, "verified": run.result.verified}
    finally:
        view.datastore.close()
        app.close()


def add_events(url: str, schema: str, count: int, seeds: list[int]) -> int:
    """About ``count`` more events (a district of its own seed); returns how many."""
    from bench.scale import EVENTS_PER_ORG, _chunk

    before = count_events(url, schema)
    seeds.append(seeds[-1] + 1)
    _chunk(schema, max(20, round(count / EVENTS_PER_ORG)), seeds[-1])
    return count_events(url, schema) - before


def extension_after_new_events(ctx: Context, schema: str, env: dict,
                               seeds: list[int]) -> dict:
    """Verify what is there (the head), add about 10,000 events, time the extension over
    them and the raw read of the same rows."""
    head = verify_now(env)
    added = add_events(ctx.url, schema, NEW_EVENTS, seeds)
    extension = verify_now(env)
    rows, raw_seconds = raw_read_after(ctx.url, schema, extension["started_after"])
    return {"head": head, "added": added, "extension": extension,
            "raw_rows": rows, "raw_seconds": raw_seconds}


def run(ctx: Context) -> list[Row]:
    from bench.scale import grow

    size = ctx.size(20_000, 200_000)
    seeds = [9_000]
    with fresh_schema(ctx.url, "verify") as schema:
        env = app_env(schema)
        from adapters.bootstrap import build_casefiles

        build_casefiles(env=env).close()
        grow(ctx.url, schema, size, seeds)
        events = count_events(ctx.url, schema)
        measured = extension_after_new_events(ctx, schema, env, seeds)
        full = verify_now(env, full=True)
    extension = measured["extension"]
    seconds = extension["seconds"]
    eps = extension["checked"] / seconds
    ceiling = measured["raw_rows"] / measured["raw_seconds"]
    full_eps = full["checked"] / full["seconds"]
    return [
        Row("i. verify: extend by 10k", f"{seconds:.2f} s ({eps:,.0f} entries/s)",
            f"{ceiling:,.0f} rows/s raw read", eps / ceiling, f"< {TARGET_SECONDS:.0f} s",
            seconds < TARGET_SECONDS,
            note=(f"{extension['checked']:,} new entries on top of {events:,} events; the "
                  f"full verification of all {full['checked']:,} took {full['seconds']:.1f} "
                  f"s ({full_eps:,.0f} entries/s)"),
            data={"events": events, **measured, "full": full}),
    ]
