"""Profile a hot path with pyinstrument: ``python -m bench.profile NAME [--seconds S]``.

NAME is one of: append (one interview command through CaseFiles), command (the same over
the Flask app, in process), read (GET /api/v1/organizations/{code}, in process), rebuild
(replaying each projection), timetravel (organization_at on a 10,000-event
organization). ``--env KEY=VALUE`` tries an application setting. Prints the call tree (functions above 2% of the time) and the functions
with the most time of their own.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from bench.common import (INTERVIEW, app_env, configure_process, database_url,
                          fresh_schema, open_staff_account, register_orgs, staff_meta)


def _loop(seconds: float, step) -> int:
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        step(n)
        n += 1
    return n


def profile(name: str, seconds: float, overrides: dict[str, str] | None = None) -> None:
    from pyinstrument import Profiler

    from adapters.bootstrap import build_casefiles


    url = database_url()
    configure_process(url)
    with fresh_schema(url, "profile") as schema:
        env = app_env(schema, **(overrides or {}))
        casefiles = build_casefiles(env=env)
        profiler = Profiler(interval=0.0005)
        try:
            if name == "append":
                codes = register_orgs(casefiles, 20)
                step = lambda n: casefiles.execute(codes[n % 20], "interview",  # noqa: E731
                                                   meta=staff_meta(), **INTERVIEW)
                _loop(1, step)
            elif name in ("command", "read"):
                from adapters.seed.demo import generate
                from adapters.runtime.catch_up import catch_up
                from adapters.web import create_app

                if name == "read":
                    generate(casefiles, orgs=100, years=5, echo=lambda *_: None)
                    catch_up(env, "casefiles")
                    from adapters.runtime.registry import open_view

                    view = open_view(env, "casefiles")
                    _, found = view.search(limit=100)
                    codes = [r["identifier"] for r in found]
                    view.datastore.close()
                else:
                    codes = register_orgs(casefiles, 20)
                token = open_staff_account(casefiles)
                client = create_app({"CASEFILES": casefiles}).test_client()
                headers = {"Authorization": f"Bearer {token}"}
                if name == "read":
                    def step(n):
                        r = client.get(f"/api/v1/organizations/{codes[n % len(codes)]}",
                                       headers=headers)
                        assert r.status_code == 200, r.get_data(as_text=True)
                else:
                    def step(n):
                        r = client.post(f"/api/v1/organizations/{codes[n % 20]}/interviews",
                                        json=INTERVIEW, headers=headers)
                        assert r.status_code == 200, r.get_data(as_text=True)
                _loop(1, step)
            elif name == "rebuild":
                from adapters.seed.demo import generate
                from adapters.runtime.catch_up import rebuild

                from adapters.runtime.registry import READ_MODELS

                generate(casefiles, orgs=150, years=5, echo=lambda *_: None)
                for model in READ_MODELS:
                    profiler = Profiler(interval=0.0005)
                    profiler.start()
                    result = rebuild(env, model, progress=False, echo=lambda *_: None)
                    profiler.stop()
                    print(f"rebuild {model}: {result['events']} events in "
                          f"{result['seconds']} s")
                    profiler.print(show_all=False, time="percent_of_total")
                    print(self_time_table(profiler.last_session, 12))
                return
            elif name == "timetravel":
                from bench.timetravel import build_long_history

                code, dates = build_long_history(casefiles, 10_000)
                mid = dates[len(dates) // 2]
                step = lambda n: casefiles.organization_at(code, as_of=mid)  # noqa: E731
                _loop(1, step)
            else:
                raise SystemExit(f"unknown profile {name}")
            profiler.start()
            n = _loop(seconds, step)
            profiler.stop()
        finally:
            casefiles.close()
    cpu = profiler.last_session.cpu_time  # this process's CPU, not PostgreSQL's
    print(f"{name}: {n} iterations in {seconds:.0f} s ({n / seconds:,.0f}/s), "
          f"{cpu / max(n, 1) * 1e6:,.0f} us of CPU each in this process")
    profiler.print(show_all=False, time="percent_of_total")
    print(self_time_table(profiler.last_session))


def self_time_table(session, top: int = 25) -> str:
    """The functions with the most time of their own (not in their callees)."""
    from collections import Counter

    totals: Counter = Counter()

    def walk(frame) -> None:
        real = [c for c in frame.children if not c.is_synthetic]
        own = frame.time - sum(child.time for child in real)
        totals[(frame.function, frame.file_path_short, frame.line_no)] += own
        for child in real:
            walk(child)

    root = session.root_frame()
    if root is None:
        return "(no samples)"
    walk(root)
    whole = root.time or 1
    lines = [f"top {top} functions by own time:"]
    for (function, path, line), t in totals.most_common(top):
        lines.append(f"  {t / whole:6.1%}  {function}  {path}:{line}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("name", choices=["append", "command", "read", "rebuild",
                                         "timetravel"])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="an application setting to try, e.g. AGGREGATE_CACHE_MAXSIZE=1000")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="platformdirs")
    profile(args.name, args.seconds, dict(e.split("=", 1) for e in args.env))
    return 0


if __name__ == "__main__":
    sys.exit(main())
