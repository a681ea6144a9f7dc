"""4. Projections exactly once under worker crashes at random points.

Commands of many kinds (interviews, annual reports, major events and high-risk reviews,
penalties, credit listings, rectifications, inspections, appointments, registrations)
are recorded continuously in this process while `casefile worker` (projections, the
rules that follow events, the clock) runs as a subprocess that is SIGKILLed at random
moments (during start-up, the batched catch-up, or following events) and restarted,
sometimes at once, sometimes after a backlog has built up.

Must hold at the end (after a last worker has caught up and stopped): every read model
equals a fresh rebuild from the log (adapters.runtime.catch_up.rebuild: comparison
"identical"), the audit trail verifies (projections.audit.verify), and the rules have
evaluated every event (their tracking position is the head of the log).

    python -m tests.faults.worker_crash --quick      # 6 kills, ~30 s
    python -m tests.faults.worker_crash              # 40 kills, ~2 min
    python -m tests.faults.worker_crash --overlap 0.3   # 30% of the restarts overlap:
        # the next worker starts 1-3 s before the old one is killed (a rolling deploy)
"""

from __future__ import annotations

import collections
import random
import sys
import threading
import time
from datetime import date
from decimal import Decimal

from tests.faults.common import (ROOT, Checks, PgCluster, Process, arguments, casefiles,
                                 check_read_models, environment, projections_caught_up,
                                 register_organizations, say, wait_for)


def writer(stop: threading.Event, seed: int, organizations: list[str],
           counts: collections.Counter, errors: list[str]) -> None:
    """Record random commands until stopped (refusals by the domain are fine)."""
    from domain.errors import DomainError
    from tests.conftest import meta
    from tests.support import COMMITTEE, code, id_number

    rng = random.Random(seed)
    app = casefiles()
    years = {o: list(range(2001, 2024)) for o in organizations}
    reports: dict[str, list[str]] = collections.defaultdict(list)
    listings: dict[str, list[str]] = collections.defaultdict(list)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            org = rng.choice(organizations)
            kind = rng.choices(["interview", "report", "major_event", "review", "penalty",
                                "listing", "delisting", "rectification", "inspection",
                                "leader", "register"],
                               [30, 10, 8, 6, 6, 5, 3, 6, 6, 5, 3])[0]
            try:
                if kind == "interview":
                    app.execute(org, "interview", meta=meta("2024-03-01"),
                                person_name=f"负责人{n}", person_role="理事长", topics=["t"])
                elif kind == "report" and years[org]:
                    year = years[org].pop(0)
                    app.execute(org, "annual_report", meta=meta(f"{year + 1}-03-01"),
                                year=year, income=Decimal(1000), expenditure=Decimal(900),
                                net_assets=Decimal(100), activities_held=2,
                                party_organization=rng.random() < 0.5)
                elif kind == "major_event":
                    result = app.execute(org, "major_event", meta=meta("2024-03-01"),
                                         category=rng.choice(["important_activity",
                                                              "leader_change", "litigation"]),
                                         planned_date=date(2024, 3, rng.randint(2, 28)),
                                         description="活动",
                                         sent_to=["registration_authority"])
                    reports[org].append(result.result["id"])
                elif kind == "review" and reports[org]:
                    app.execute(org, "major_event_review", meta=meta("2024-03-05"),
                                report_id=reports[org].pop(0), opinion="意见",
                                risk_level=rng.choice(["low", "high"]))
                elif kind == "penalty":
                    kind_ = rng.choice(["warning", "fine", "fine"])
                    app.close_organization(
                        org, "penalty", meta=meta("2024-03-01"), decision_number=f"P{n}",
                        kind=kind_, legal_basis="第三十条",
                        amount=Decimal(rng.choice([1000, 80000])) if kind_ == "fine" else None,
                        decision_date=date(2024, 3, 1), suspended_until=None)
                elif kind == "listing":
                    result = app.execute(org, "credit_listing",
                                         meta=meta("2024-03-01", reason="无法联系"),
                                         credit_list="abnormal_activity")
                    listings[org].append(result.result["id"])
                elif kind == "delisting" and listings[org]:
                    app.execute(org, "credit_listing_removal",
                                meta=meta("2024-04-01", reason="已整改"),
                                listing_id=listings[org].pop(0))
                elif kind == "rectification":
                    app.execute(org, "rectification", meta=meta("2024-03-01"),
                                notice_number=f"N{n}", issues=["问题"],
                                deadline=date(2024, 3, 15))
                elif kind == "inspection":
                    app.execute(org, "inspection", meta=meta("2024-03-01"), items=["财务"],
                                findings="", on_site=True, inspectors=["王", "李"],
                                plan_id=None)
                elif kind == "leader":
                    app.appoint_leader(org, person={"name": f"负责人{n}",
                                                    "id_number": id_number(n=n % 999 + 1)},
                                       roles=["other"], term_start=date(2024, 1, 1),
                                       term_end=date(2027, 12, 31), meta=meta("2024-01-05"))
                elif kind == "register":
                    number = 1000 + n
                    app.register_organization(
                        meta=meta("2020-01-01"), code=code(number), name=f"新协会{number}",
                        org_type="social_association",
                        domicile={"address": "示例路2号", "jurisdiction": COMMITTEE},
                        business_scope="公益", registered_funds=Decimal(30000),
                        supervisory_unit=None, founded_on=date(2020, 1, 1),
                        certificate_valid_until=date(2030, 1, 1))
                else:
                    continue
                counts[kind] += 1
            except DomainError:
                counts["refused"] += 1
            except Exception as e:  # a failure of the store itself: reported
                errors.append(f"{kind}: {type(e).__name__}: {e}")
            time.sleep(rng.uniform(0, 0.01))
    finally:
        app.close()


def main() -> int:
    args = arguments(__doc__.splitlines()[0], kills=0, overlap=0.0)
    kills = args.kills or (6 if args.quick else 40)
    rng = random.Random(args.seed)
    checks = Checks("worker_crash")
    say(f"seed {args.seed}; {kills} SIGKILLs of casefile worker")
    cluster = PgCluster("worker").start()
    url = cluster.fresh_database("faults_worker")
    env = environment("worker", url)
    from adapters.config import application_env

    app_env = application_env()
    organizations = register_organizations(12)
    stop = threading.Event()
    counts: collections.Counter = collections.Counter()
    errors: list[str] = []
    writing = threading.Thread(target=writer, args=(stop, args.seed, organizations, counts,
                                                     errors), daemon=True)
    writing.start()
    log = ROOT / "var" / "faults-worker" / "worker.log"
    worker = Process("casefile worker", ["worker"], env, log)
    lived = []
    from adapters.runtime.status import status

    overlaps = 0
    for i in range(kills):
        if not worker.alive():
            worker.start()
        alive_for = rng.choice([rng.uniform(0.2, 1.5), rng.uniform(1.5, 4.0)])
        time.sleep(alive_for)
        if args.overlap and rng.random() < args.overlap:
            # a rolling restart: the next worker starts before the old one is killed
            old, worker = worker, Process("casefile worker", ["worker"], env, log).start()
            time.sleep(rng.uniform(1.0, 3.0))
            old.sigkill()
            overlaps += 1
        else:
            worker.sigkill()
        lived.append(alive_for)
        lag = max(row["lag"] for row in status(app_env))
        say(f"kill {i + 1}/{kills} after {alive_for:.1f}s; largest lag {lag}")
        if rng.random() < 0.3:
            time.sleep(rng.uniform(0.5, 2.0))  # a backlog for the batched catch-up
    stop.set()
    writing.join(timeout=60)
    say(f"writer stopped: {dict(counts)}")
    checks.check(not errors, f"commands failed: {errors[:3]}")

    # the last worker: caught up, the rules done, stopped with SIGTERM; again if it
    # recorded something meanwhile (its daily clock ticks once it has caught up)
    from services.rules import RULES_TRACKING

    app = casefiles()
    for attempt in range(4):
        if not worker.alive():
            worker.start()
        caught_up = wait_for(lambda: projections_caught_up(app_env), 300)
        rules_done = wait_for(lambda: (app.recorder.max_tracking_id(RULES_TRACKING) or 0)
                              >= (app.recorder.max_notification_id() or 0), 120)
        caught_up = caught_up and wait_for(lambda: projections_caught_up(app_env), 120)
        head = app.recorder.max_notification_id()
        code = worker.terminate()
        if app.recorder.max_notification_id() == head and projections_caught_up(app_env):
            break
        say("the worker recorded more while stopping; running it once more")
    app.close()
    checks.check(caught_up, f"the last worker did not catch up: {status(app_env)}")
    checks.check(rules_done, "the rules did not evaluate every event")
    checks.check(code == 0, f"casefile worker exited {code} on SIGTERM")
    checks.figure("events in the log", head)
    checks.figure("commands recorded", sum(v for k, v in counts.items() if k != "refused"))
    checks.figure("worker SIGKILLs / lifetimes min-max (s) / overlapping restarts",
                  f"{kills} / {min(lived):.1f}-{max(lived):.1f} / {overlaps}")
    check_read_models(app_env, checks)
    cluster.stop()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
