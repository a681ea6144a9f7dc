"""o. The open-data extract in constant memory (issue 16 item 5): case-file rows for N
organizations (each with three conclusions, a credit listing and a penalty) written
straight into the case-file view's table, then the extract produced from them
(``adapters.store.open_data``) twice: once under tracemalloc for its peak of Python
memory, once without it for its time. Ceiling: a raw read of the same rows through a
server-side cursor (psycopg, no JSON work), in the same run. Target: the peak at the
largest size no more than 1.5 x the peak at a tenth of it (memory does not grow with the
register), at 100,000 organizations.

``python -m bench.run --only opendata`` (2,000 and 20,000 quick; 10,000 and 100,000 full).
"""

from __future__ import annotations

import json
import time
import tracemalloc
from datetime import date

import psycopg

from bench.common import Context, Row, app_env, fresh_schema

TARGET_GROWTH = 1.5


def template() -> dict:
    """A case file's document as the view stores it, with a row in every table."""
    from decimal import Decimal

    from bench.common import org_code, staff_meta

    from domain.organization import Organization
    from projections.documents import organization_document

    org = Organization.register(
        code=org_code(1), name="杨浦区基准测试协会", org_type="social_association",
        domicile={"address": "上海市杨浦区示例路1号", "jurisdiction": "310110001001"},
        business_scope="志愿服务", registered_funds=Decimal(30000), supervisory_unit=None,
        founded_on=date(2020, 5, 1), certificate_valid_until=date(2030, 4, 30),
        meta=staff_meta(date(2020, 5, 1)))
    document = organization_document(org)
    document["annual_inspections"] = [{"year": y, "result": "qualified", "findings": "",
                                       "concluded_on": f"{y + 1}-05-20", "corrections": []}
                                      for y in (2021, 2022, 2023)]
    document["credit_listings"] = [{"id": "L1", "list": "abnormal_activity", "reason": "",
                                    "listed_on": "2024-07-01", "removed_on": None,
                                    "removal_reason": None}]
    document["penalties"] = [{"decision_number": "P1", "kind": "warning", "legal_basis": "",
                              "amount": None, "decision_date": "2024-03-01",
                              "suspended_until": None, "rescinded": False,
                              "rescinded_on": None}]
    return document


def fill(url: str, schema: str, count: int) -> None:
    """``count`` case-file rows (COPY), each its own organization."""
    document = template()
    with psycopg.connect(url) as conn, conn.cursor() as curs:
        with curs.copy(f'COPY "{schema}".casefiles_rows (organization_id, identifier, code, '
                       "name, org_type, status, jurisdiction, credit_lists, risk_flags, "
                       "version, position, document) FROM STDIN") as copy:
            for n in range(count):
                identifier = f"51310110MJ{n:07d}X"
                document.update(code=identifier, identifier=identifier,
                                name=f"杨浦区基准测试协会{n}")
                copy.write_row((f"00000000-0000-0000-0000-{n:012d}", identifier, identifier,
                                document["name"], "social_association", "active",
                                "310110001001", ["abnormal_activity"], [], 1, n + 1,
                                json.dumps(document, ensure_ascii=False)))
        conn.commit()


def raw_read(url: str, schema: str) -> float:
    with psycopg.connect(url) as conn, conn.cursor(name="bench_open_data") as cursor:
        cursor.itersize = 200
        started = time.perf_counter()
        cursor.execute(f'SELECT document, jurisdiction FROM "{schema}".casefiles_rows '
                       "ORDER BY identifier")
        for _ in cursor:
            pass
        return time.perf_counter() - started


def measure(ctx: Context, count: int) -> dict:
    from adapters.runtime.registry import open_view
    from adapters.store.open_data import OpenDataStore

    with fresh_schema(ctx.url, "opendata") as schema:
        view = open_view(app_env(schema), "casefiles")
        try:
            fill(ctx.url, schema, count)
            store = OpenDataStore(view.datastore)
            tracemalloc.start()
            store.produce(date.today())
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            extract = store.produce(date.today())
            raw = raw_read(ctx.url, schema)
        finally:
            view.datastore.close()
    return {"organizations": count, "peak_bytes": peak, "seconds": extract.seconds,
            "raw_seconds": raw, "bytes": sum(f.bytes for f in extract.files),
            "rows": sum(f.rows for f in extract.files)}


def run(ctx: Context) -> list[Row]:
    large = ctx.size(20_000, 100_000)
    small_run, large_run = measure(ctx, large // 10), measure(ctx, large)
    growth = large_run["peak_bytes"] / small_run["peak_bytes"]
    rate = large / large_run["seconds"]
    ceiling = large / large_run["raw_seconds"]
    return [Row(f"o. open data: {large:,} orgs",
                f"{large_run['seconds']:.1f} s ({rate:,.0f} orgs/s), peak "
                f"{large_run['peak_bytes'] / 2 ** 20:.1f} MiB",
                f"{ceiling:,.0f} orgs/s raw read", rate / ceiling,
                f"peak <= {TARGET_GROWTH} x", growth <= TARGET_GROWTH,
                note=(f"peak {growth:.2f} x the peak at {large // 10:,} organizations "
                      f"({small_run['peak_bytes'] / 2 ** 20:.1f} MiB); "
                      f"{large_run['rows']:,} rows, {large_run['bytes'] / 2 ** 20:.0f} MiB "
                      "of CSV and JSON written"),
                data={"small": small_run, "large": large_run})]
