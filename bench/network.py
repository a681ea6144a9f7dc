"""f. The network view of a large district: response time of ``GET
/api/v1/network/{district}`` (the district node: its figures and its sub-districts',
rolled up from every committee, with 12 months of warning trends) and of its drill-down
``GET /api/v1/network/{district}/organizations?flag=...`` (the organizations behind a
figure, first page), through the Flask app in process (no network), for a district of
100,000 organizations (10,000 with ``--quick``).

The data are real events through ``CaseFiles.save`` (compressed, encrypted), projected by
the case-file and network projections (``adapters.runtime.catch_up.catch_up``): a lighter mix
than the demo. The district has 10 sub-districts of 20 residents' committees (211 nodes
established); each organization is registered in a committee with a certificate valid
until a date from a year ago to three years ahead (some expired, some expiring); 3 % get
a rectification order (open rectifications), 1 % a credit listing, and 3 % an early
warning (severity and raised date at random over the last 60 days). Aggregates are built
in memory and saved 200 at a time. After the load the view's tables are VACUUM ANALYZEd,
as autovacuum does after a bulk load (PostgreSQL 13 and later vacuum after inserts too):
the figures then come from an index-only scan of the case files' covering index
(``casefiles_figures_idx``), as in a steady state.

The ceiling, measured in the same run with the same client and token: ``GET
/api/v1/organizations/{code}``, one case file read from its view (authentication and one
indexed row). The ratio is ceiling / figure (as for time travel). Target: p50 under
100 ms for the district node and for the drill-down.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from bench.common import (Context, Row, app_env, fresh_schema, ms, open_staff_account,
                          org_code, percentile, staff_meta)

DISTRICT = "310110000000"
SUB_DISTRICTS = 10
COMMITTEES = 20  # per sub-district
SAVE = 200
TARGET_MS = 100.0
FLAGS = ("warning_high", "certificate_expiring", "open_rectification")


def committees() -> list[str]:
    return [f"310110{s:03d}{c:03d}" for s in range(1, SUB_DISTRICTS + 1)
            for c in range(1, COMMITTEES + 1)]


def load(casefiles, orgs: int, seed: int = 2026) -> dict:
    """Nodes, organizations, rectifications, listings and warnings, as events; returns
    what was recorded."""
    from domain.network import NetworkNode, EarlyWarning
    from domain.organization import Organization

    rng = random.Random(seed)
    today = date.today()
    leaves = committees()
    nodes = [NetworkNode.establish(code=DISTRICT, name="基准区", meta=staff_meta())]
    nodes += [NetworkNode.establish(code=f"310110{s:03d}000", name=f"基准街道{s}",
                                    meta=staff_meta()) for s in range(1, SUB_DISTRICTS + 1)]
    nodes += [NetworkNode.establish(code=leaf, name=f"基准居委会{leaf[-6:]}",
                                    meta=staff_meta()) for leaf in leaves]
    for i in range(0, len(nodes), SAVE):
        casefiles.save(*nodes[i:i + SAVE])
    counts = {"nodes": len(nodes), "organizations": 0, "rectifications": 0, "listings": 0,
              "warnings": 0}
    pending: list = []
    for n in range(1, orgs + 1):
        leaf = leaves[n % len(leaves)]
        registered = staff_meta(date(2020, 5, 1))
        org = Organization.register(
            code=org_code(n), name=f"基准区网络协会{n}", org_type="social_association",
            domicile={"address": "示例路1号", "jurisdiction": leaf},
            business_scope="志愿服务", registered_funds=Decimal(30000), supervisory_unit=None,
            founded_on=date(2020, 5, 1),
            certificate_valid_until=today + timedelta(days=rng.randint(-365, 3 * 365)),
            meta=registered)
        roll = rng.random()
        if roll < 0.03:
            org.order_rectification(notice_number=f"N{n}", issues=["财务管理不规范"],
                                    deadline=today + timedelta(days=30),
                                    meta=staff_meta(today - timedelta(days=5)))
            counts["rectifications"] += 1
        elif roll < 0.04:
            org.list_on_credit_list(credit_list="abnormal_activity",
                                    meta=_with_reason(staff_meta(today - timedelta(days=5))))
            counts["listings"] += 1
        pending.append(org)
        if rng.random() < 0.03:
            pending.append(EarlyWarning.raise_(
                key=f"bench:{n}", organization=org.identifier, jurisdiction=leaf,
                severity=rng.choice(("low", "medium", "high")), source="information_officer",
                title="信息员报告", description="基准", rule=None,
                meta=staff_meta(today - timedelta(days=rng.randint(0, 60)))))
            counts["warnings"] += 1
        counts["organizations"] += 1
        if len(pending) >= SAVE:
            casefiles.save(*pending)
            pending = []
    if pending:
        casefiles.save(*pending)
    return counts


def _with_reason(meta):
    import dataclasses

    return dataclasses.replace(meta, reason="无法联系")


def timed_get(client, path: str, headers: dict, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(path, headers=headers)
        out.append(time.perf_counter() - t)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    return out


def run(ctx: Context) -> list[Row]:
    from adapters.runtime.catch_up import catch_up
    from adapters.runtime.registry import open_view
    from adapters.web import close_app, create_app
    from adapters.bootstrap import build_casefiles

    orgs = ctx.size(10_000, 100_000)
    calls = ctx.size(20, 60)
    with fresh_schema(ctx.url, "network") as schema:
        env = app_env(schema)
        casefiles = build_casefiles(env=env)
        try:
            t0 = time.perf_counter()
            counts = load(casefiles, orgs)
            loaded = time.perf_counter() - t0
            events = casefiles.recorder.max_notification_id() or 0
            t0 = time.perf_counter()
            catch_up(env, "casefiles")
            catch_up(env, "network")
            projected = time.perf_counter() - t0
            with psycopg.connect(ctx.url, autocommit=True) as conn:
                for table in ("casefiles_rows", "network_warnings", "network_proposals",
                              "network_nodes"):
                    conn.execute(f'VACUUM ANALYZE "{schema}".{table}')
            token = open_staff_account(casefiles, jurisdiction=DISTRICT)
            view = open_view(env, "casefiles")
            try:
                _, some = view.search(limit=200)
                codes = [r["identifier"] for r in some]
            finally:
                view.datastore.close()
            app = create_app({"CASEFILES": casefiles})
            client = app.test_client()
            headers = {"Authorization": f"Bearer {token}"}
            node_path = f"/api/v1/network/{DISTRICT}"
            document = client.get(node_path, headers=headers).get_json()  # warm
            assert document["figures"]["organizations"] == orgs, document["figures"]
            measured = {"node": timed_get(client, node_path, headers, calls)}
            drill: list[float] = []
            totals = {}
            for flag in FLAGS:
                path = f"{node_path}/organizations?flag={flag}&limit=100"
                totals[flag] = client.get(path, headers=headers).get_json()["total"]
                drill += timed_get(client, path, headers, calls)
            measured["drill"] = drill
            ceiling_calls = []
            for code in codes[:calls]:
                ceiling_calls += timed_get(client, f"/api/v1/organizations/{code}", headers, 1)
            close_app(app)
            query = _query_alone(env, calls)
        finally:
            casefiles.close()
    ceiling = percentile(ceiling_calls, 50)
    data_note = (f"{orgs:,} organizations, {events:,} events ({counts['warnings']:,} "
                 f"warnings, {counts['rectifications']:,} rectifications, "
                 f"{counts['listings']:,} listings, {counts['nodes']} nodes); loaded in "
                 f"{loaded:.0f} s, projected in {projected:.0f} s")
    ctx.extra["network"] = {"counts": counts, "events": events, "load_seconds": loaded,
                            "projection_seconds": projected, "drill_totals": totals,
                            "query_alone": query}
    rows = []
    for key, label in (("node", "f. network view, district node"),
                       ("drill", "f. network drill-down, first page")):
        p50, p99 = percentile(measured[key], 50), percentile(measured[key], 99)
        note = data_note if key == "node" else (
            f"flags {', '.join(f'{f} ({totals[f]:,})' for f in FLAGS)}, {calls} calls each")
        if key == "node":
            note += (f"; the SQL alone (leaf_figures) p50 {ms(query['leaf_figures'])}, "
                     f"monthly_trends {ms(query['monthly_trends'])}")
        rows.append(Row(label, f"p50 {ms(p50)}, p99 {ms(p99)}", f"case file {ms(ceiling)}",
                        ceiling / p50 if p50 else None, f"p50 < {TARGET_MS:.0f} ms",
                        p50 * 1000 < TARGET_MS, note=note,
                        data={"p50": p50, "p99": p99, "ceiling_p50": ceiling,
                              "organizations": orgs, "events": events}))
    return rows


def _query_alone(env: dict, calls: int) -> dict[str, float]:
    """p50 of the view's two queries behind the district node, without Flask."""
    from adapters.runtime.registry import open_view
    from domain.codes import jurisdiction_prefix
    from domain.rules import Rule

    view = open_view(env, "network")
    try:
        prefix, today = jurisdiction_prefix(DISTRICT), date.today()
        rule = Rule.from_catalog("certificate_expiry")
        out = {}
        for name, call in (("leaf_figures", lambda: view.leaf_figures(
                               prefix, today, certificate_expiry=rule)),
                           ("monthly_trends", lambda: view.monthly_trends(
                               prefix, date(today.year - 1, today.month, 1)))):
            times = []
            for _ in range(calls):
                t = time.perf_counter()
                call()
                times.append(time.perf_counter() - t)
            out[name] = percentile(times, 50)
        return out
    finally:
        view.datastore.close()
