"""e. Time travel: ``CaseFiles.organization_at`` latency for an organization with 10,000
events (snapshots every 50), against the current state (``get_organization``).

Each query is timed by the time-travel index (what ``organization_at`` does on PostgreSQL)
and, in turn, by the snapshot path it replaced (``_organization_at_by_snapshots``: binary
search over the snapshots, every later event decoded): the row's note gives that figure.
Last, the cost of the first time travel of an organization recorded before the index
(its rows deleted, then backfilled by that call)."""

from __future__ import annotations

import time
from datetime import date, timedelta

from bench.common import Context, Row, app_env, fresh_schema, ms, percentile, staff_meta
from domain.rules import defaults

TARGET = 0.050
START = date(2001, 1, 2)


def build_long_history(casefiles, events: int) -> tuple[str, list[date], list]:
    """One social association with ``events`` events (interviews, management suggestions
    and desk inspections in turn) whose business dates run from 2001 to last year, saved
    50 at a time (so the application snapshots every 50). Returns its code, each event's
    effective date and each save's recorded time."""
    from decimal import Decimal

    from bench.common import org_code
    from domain.organization import Organization

    span = (date(date.today().year - 1, 12, 31) - START).days
    org = Organization.register(
        code=org_code(9_000_001), name="杨浦区时间旅行基准协会", org_type="social_association",
        domicile={"address": "上海市杨浦区示例路1号", "jurisdiction": "310110001001"},
        business_scope="志愿服务", registered_funds=Decimal(30000), supervisory_unit=None,
        founded_on=START, certificate_valid_until=date(2099, 1, 1), meta=staff_meta(START))
    dates = [START]
    recorded = []
    for i in range(1, events):
        on = START + timedelta(days=i * span // events)
        meta = staff_meta(on)
        kind = i % 3
        if kind == 0:
            org.hold_interview(person_name="张伟", person_role="法定代表人",
                               topics=["财务管理"], meta=meta)
        elif kind == 1:
            org.issue_management_suggestion(number=f"杨民社建〔{on.year}〕{i}号",
                                            content="规范财务管理", meta=meta)
        else:
            org.conduct_inspection(items=["财务", "活动"], findings="基本规范", on_site=False,
                                   inspectors=["王芳"], plan_id=None, meta=meta,
                                   double_random_sampling=defaults("double_random_sampling"))
        dates.append(on)
        if org.version % 50 == 0:
            casefiles.save(org)
            recorded.append(org.modified_on)
    casefiles.save(org)
    recorded.append(org.modified_on)
    return org.identifier, dates, recorded


def latencies(fn, seconds: float, count: int) -> list[float]:
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and len(out) < count:
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def run(ctx: Context) -> list[Row]:
    from domain.organization import Organization
    from adapters.bootstrap import build_casefiles

    events = 10_000
    per_query = ctx.seconds(3, 5)
    with fresh_schema(ctx.url, "timetravel") as schema:
        casefiles = build_casefiles(env=app_env(schema))
        try:
            t0 = time.perf_counter()
            code, dates, recorded = build_long_history(casefiles, events)
            build = time.perf_counter() - t0
            org = casefiles.get_organization(code)
            assert org.version == events, org.version
            org_id = Organization.create_id(code)
            mid, early = dates[events // 2], dates[events // 10]
            known_mid = recorded[len(recorded) // 2]
            asked = {
                "as_of today": dict(as_of=date.today()),
                "as_of 10% in": dict(as_of=early),
                "as_of midway": dict(as_of=mid),
                "known_at midway": dict(known_at=known_mid),
                "as_of 10% in, known_at midway": dict(as_of=early, known_at=known_mid),
            }
            casefiles.get_organization(code)  # warm
            measured = {"current": latencies(lambda: casefiles.get_organization(code),
                                             per_query, 200)}
            before = {}
            for label, args in asked.items():
                by_index = lambda: casefiles.organization_at(code, **args)  # noqa: E731
                by_snapshots = lambda: casefiles._organization_at_by_snapshots(  # noqa: E731
                    org_id, args.get("as_of"), args.get("known_at"))
                assert vars(by_index()) == vars(by_snapshots()), label
                measured[label] = latencies(by_index, per_query, 200)
                before[label] = latencies(by_snapshots, per_query, 50)
            backfill = first_call_without_index(ctx.url, casefiles, schema, code, org_id,
                                                mid)
        finally:
            casefiles.close()
    ceiling = percentile(measured.pop("current"), 50)
    rows = []
    for label, values in measured.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        old = before[label]
        note = (f"snapshot path (before the index): p50 {ms(percentile(old, 50))}, "
                f"p99 {ms(percentile(old, 99))}")
        if label == "as_of today":
            note = (f"{events:,} events, snapshots every 50, built in {build:.0f} s; "
                    f"{len(values)} calls; ratio = current state / this; " + note)
        rows.append(Row(f"e. time travel, {label}", f"p50 {ms(p50)}, p99 {ms(p99)}",
                        f"current {ms(ceiling)}", ceiling / p50 if p50 else None, "< 50 ms",
                        p99 < TARGET, note=note,
                        data={"p50": p50, "p99": p99, "current": ceiling,
                              "samples": len(values), "before_p50": percentile(old, 50),
                              "before_p99": percentile(old, 99)}))
    rows.append(Row("e. time travel, first call, no index rows", f"{ms(backfill)}",
                    note="once per organization recorded before the index: its rows are "
                         "backfilled (every event decoded), then the query runs",
                    data={"seconds": backfill}))
    return rows


def first_call_without_index(url: str, casefiles, schema: str, code: str, org_id,
                             as_of: date) -> float:
    """An organization recorded before the index existed: its rows deleted, one call."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DELETE FROM "{schema}".casefile_time_index WHERE originator_id = %s',
                     (org_id,))
    t0 = time.perf_counter()
    casefiles.organization_at(code, as_of=as_of)
    return time.perf_counter() - t0
