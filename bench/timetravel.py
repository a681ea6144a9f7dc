"""e. Time travel: ``CaseFiles.organization_at`` latency for an organization with 10,000
events (snapshots every 50), against the current state (``get_organization``)."""

from __future__ import annotations

import time
from datetime import date, timedelta

from bench.common import Context, Row, app_env, fresh_schema, ms, percentile, staff_meta

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
                                   inspectors=["王芳"], plan_id=None, meta=meta)
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
    from services.casefiles import CaseFiles

    events = 10_000
    per_query = ctx.seconds(3, 5)
    with fresh_schema(ctx.url, "timetravel") as schema:
        casefiles = CaseFiles(env=app_env(schema))
        try:
            t0 = time.perf_counter()
            code, dates, recorded = build_long_history(casefiles, events)
            build = time.perf_counter() - t0
            org = casefiles.get_organization(code)
            assert org.version == events, org.version
            mid, early = dates[events // 2], dates[events // 10]
            queries = {
                "current state (get_organization)": lambda: casefiles.get_organization(code),
                "as_of today": lambda: casefiles.organization_at(code, as_of=date.today()),
                "as_of 10% in": lambda: casefiles.organization_at(code, as_of=early),
                "as_of midway": lambda: casefiles.organization_at(code, as_of=mid),
                "known_at midway": lambda: casefiles.organization_at(
                    code, known_at=recorded[len(recorded) // 2]),
            }
            measured = {}
            for label, fn in queries.items():
                fn()  # warm
                measured[label] = latencies(fn, per_query, 200)
        finally:
            casefiles.close()
    ceiling = percentile(measured.pop("current state (get_organization)"), 50)
    rows = []
    for label, values in measured.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        rows.append(Row(f"e. time travel, {label}", f"p50 {ms(p50)}, p99 {ms(p99)}",
                        f"current {ms(ceiling)}", ceiling / p50 if p50 else None, "< 50 ms",
                        p99 < TARGET,
                        note=(f"{events:,} events, snapshots every 50, built in {build:.0f} s; "
                              f"{len(values)} calls; ratio = current state / this")
                        if label == "as_of today" else "",
                        data={"p50": p50, "p99": p99, "current": ceiling,
                              "samples": len(values)}))
    return rows
