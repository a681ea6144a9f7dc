"""The demo district: a deterministic history of social organizations to try things on.

``generate`` plans the district (adapters.seed.demo_plan: Shanghai's Yangpu district,
about 850 organizations) and plays each organization's years of filings and decisions
(adapters.seed.demo_history) through the service's use cases, so every rule of the domain
holds. Each act is recorded at a moment of a simulated recording clock, days to weeks
after it takes effect (adapters.seed.demo_clock), and every event the demo records is
marked as demo data (``Meta.demo``). Everything is drawn from ``random.Random(seed)``:
the same seed on the same day gives the same district, recorded at the same moments. The
district is kept in memory and written at the end in the order it was recorded, a few
hundred events a transaction (adapters.seed.batch). ``load_demo_once`` loads it into a
store once, with the demo accounts (one per role) and the early-warning network
(adapters.seed.demo_network).
"""

from __future__ import annotations

import secrets
import sys
import time
from datetime import date, datetime
from random import Random
from typing import Any, Callable

from eventsourcing.persistence import IntegrityError

from adapters.progress import Progress
from adapters.randomness import new_correlation_id
from adapters.seed.batch import Batch
from adapters.seed.demo_clock import DemoClock
from adapters.seed.demo_history import History
from adapters.seed.demo_network import exercise_network
from adapters.seed.demo_plan import (DEMO_ORG_COMMITTEE, DEMO_SUPERVISORY_UNIT, DISTRICT,
                                     plan)
from domain.calendar import CHINA, today_in_china
from domain.errors import Conflict, DomainError
from domain.meta import ROLES, Meta
from domain.rules import CATALOG, rule_id
from domain.texts import render

DEFAULT_ORGS = 850
DEFAULT_YEARS = 5
DEFAULT_SEED = 2024
# Events written a transaction: one very large save (over about 500 KiB of events)
# stalled psycopg's pipelined insert (docs/BENCHMARKS.md).
EVENTS_PER_SAVE = 600
CHUNK_ORGS = 2000  # the demo's name pool gives a few thousand distinct names per district

# The demo accounts: one per role (DOMAIN.md section 1), "system" excepted.
DEMO_ACCOUNTS = (
    # username, display name, role, jurisdiction
    ("demo-staff", "演示 登记管理机关（杨浦区民政局社会组织管理科）", "registration_staff",
     DISTRICT),
    ("demo-supervisor", "演示 业务主管单位", "supervisory_unit", DISTRICT),
    ("demo-street", "演示 定海路街道办事处", "sub_district_office", "310110001000"),
    ("demo-officer", "演示 预警网络信息员（居委会）", "information_officer",
     DEMO_ORG_COMMITTEE),
    ("demo-auditor", "演示 审计、纪检", "auditor", None),
    ("demo-org", "演示 社会组织", "organization", None),
    ("demo-admin", "演示 账号管理员", "admin", None),
)
assert {a[2] for a in DEMO_ACCOUNTS} == set(ROLES) - {"system"}
MARKER_ACCOUNT = "demo-admin"  # opened last: it marks a completed demo load


def demo_organization_code(*, orgs: int = DEFAULT_ORGS, years: int = DEFAULT_YEARS,
                           seed: int = DEFAULT_SEED, today: date | None = None) -> str:
    """The code of the organization that the demo-org account represents."""
    _, specs = plan(Random(seed), max(orgs, 1), years, today or today_in_china())
    return specs[0].identifier


def generate(casefiles, *, orgs: int = DEFAULT_ORGS, years: int = DEFAULT_YEARS,
             seed: int = DEFAULT_SEED, echo: Callable[[str], Any] = print,
             progress: bool = False, today: date | None = None,
             taken_id_numbers: set[str] | None = None,
             recorded_after: datetime | None = None) -> dict:
    """Generate the demo district into the store and return a summary.

    ``orgs`` registered organizations (plus a tenth as many recorded community
    organizations), with ``years`` years of history before ``today`` (default: today in
    China), recorded by the demo's clock before ``today`` began. The same seed and day
    give the same district. ``taken_id_numbers``: identity numbers already used in the
    store (by earlier parts of a large data set), not drawn again; the new ones are added
    to it. ``recorded_after``: the moment the store's log was recorded up to (an earlier
    part's ``recorded_until``): nothing is recorded before it.
    """
    today = today or today_in_china()
    rng = Random(seed)
    district, specs = plan(rng, max(orgs, 1), years, today)
    # The rules are read once: the history changes none of them.
    batch = Batch(casefiles, read_once=[rule_id(name) for name in CATALOG])
    clock = DemoClock(seed, today, after=recorded_after)
    history = History(batch, rng, seed, today, district, [s.name for s in specs], clock)
    if taken_id_numbers is not None:
        history.id_numbers = taken_id_numbers
    bar = Progress(len(specs), "  demo", unit="orgs", rate_unit="events", enabled=progress)
    conclusions = {"qualified": 0, "basically_qualified": 0, "unqualified": 0}

    with bar:
        for done, spec in enumerate(specs, start=1):
            org = history.play(spec)
            for conclusion in org.conclusions.values():
                conclusions[conclusion["result"]] += 1
            bar.update(done, clock.events)
        try:
            recordings = batch.flush(EVENTS_PER_SAVE)
        except IntegrityError:
            raise Conflict("the demo district (or part of it) is already in this store: "
                           "use another store or another seed",
                           rule="demo_already_loaded") from None
        events = len(recordings)
        bar.update(len(specs), events)
    seconds = bar.finish()
    registered = sum(1 for s in specs if s.code is not None)
    recorded = [r.domain_event.timestamp for r in (recordings[0], recordings[-1])] \
        if recordings else [None, None]
    summary = {"organizations": registered,
               "community_organizations": len(specs) - registered,
               "persons": len(history.persons), "events": events,
               "refused_by_rules": history.refused,
               "refusals": dict(sorted(history.refusals.items())), "conclusions": conclusions,
               "demo_organization": specs[0].identifier,
               "recorded_from": recorded[0], "recorded_until": recorded[1],
               "seconds": round(seconds, 2)}
    echo(f"demo district {DISTRICT} (seed {seed}, {years} years to {today}): "
         f"{registered} organizations and {summary['community_organizations']} community "
         f"organizations, {summary['persons']} leaders, {events} events in {seconds:.1f} s "
         f"({events / max(seconds, 1e-6):,.0f} events/s); {history.refused} random acts were "
         "refused by the rules and left out; recorded by the demo's clock "
         f"{_day(recorded[0])} to {_day(recorded[1])} (marked as demo data)")
    return summary


def _day(moment: datetime | None) -> str:
    return moment.astimezone(CHINA).date().isoformat() if moment else "-"


def generate_many(casefiles, *, orgs: int, years: int = DEFAULT_YEARS,
                  seed: int = DEFAULT_SEED, echo: Callable[[str], Any] = print,
                  progress: bool = False, today: date | None = None) -> dict:
    """A data set of any size: ``generate`` up to 2,000 organizations, above that parts
    of 2,000 with consecutive seeds (each part's own codes and names; one store, one
    pseudonym key, no identity number drawn twice). Each part is recorded after the one
    before (the log stays in the order of the recorded times), so the parts after the
    first read as recorded at the end of the first one's history, a late back-filling.
    The summary adds the parts up."""
    if orgs <= CHUNK_ORGS:
        return generate(casefiles, orgs=orgs, years=years, seed=seed, echo=echo,
                        progress=progress, today=today)
    today = today or today_in_china()
    started = time.monotonic()
    taken: set[str] = set()
    recorded_until = None
    total: dict[str, Any] = {"organizations": 0, "community_organizations": 0, "persons": 0,
                             "events": 0, "refused_by_rules": 0, "parts": 0}
    parts = -(-orgs // CHUNK_ORGS)
    for part in range(parts):
        size = min(CHUNK_ORGS, orgs - part * CHUNK_ORGS)
        summary = generate(casefiles, orgs=size, years=years, seed=seed + part,
                           echo=lambda line, n=part: echo(f"part {n + 1}/{parts}: {line}"),
                           progress=progress, today=today, taken_id_numbers=taken,
                           recorded_after=recorded_until)
        recorded_until = summary["recorded_until"] or recorded_until
        for key in ("organizations", "community_organizations", "persons", "events",
                    "refused_by_rules"):
            total[key] += summary[key]
        total["parts"] += 1
    total["seconds"] = round(time.monotonic() - started, 2)
    echo(f"{total['organizations']} organizations, {total['community_organizations']} "
         f"community organizations, {total['persons']} leaders, {total['events']} events "
         f"in {total['seconds']:.0f} s ({total['events'] / max(total['seconds'], 1e-6):,.0f}"
         " events/s)")
    return total


def _account_exists(casefiles, username: str) -> bool:
    try:
        casefiles.get_account(username)
    except DomainError:
        return False
    return True


def load_demo_once(casefiles, echo: Callable[[str], Any] = print, *,
                   orgs: int = DEFAULT_ORGS, years: int = DEFAULT_YEARS,
                   seed: int = DEFAULT_SEED, progress: bool | None = None,
                   today: date | None = None) -> dict[str, str]:
    """Load the demo district into this store unless it is there already, then print the
    demo accounts with a fresh API token each (passwords only when they are new).
    Returns the tokens by username."""
    today = today or today_in_china()
    passwords: dict[str, str] = {}
    if not _account_exists(casefiles, MARKER_ACCOUNT):
        demo_org = demo_organization_code(orgs=orgs, years=years, seed=seed, today=today)
        try:
            casefiles.get_organization(demo_org)
        except DomainError:
            echo(f"Loading the demo district ({orgs} organizations, {years} years, "
                 f"seed {seed})...")
            generate(casefiles, orgs=orgs, years=years, seed=seed, echo=echo,
                     progress=sys.stderr.isatty() if progress is None else progress,
                     today=today)
        else:
            echo("The demo organizations are already in this store (an earlier start "
                 "stopped before opening the demo accounts); not loading them again.")
        meta = Meta(actor_id="demo-loader", actor_role="admin", effective_date=today,
                    correlation_id=new_correlation_id(), reason="demo accounts", demo=True)
        for username, display_name, role, jurisdiction in DEMO_ACCOUNTS:
            if _account_exists(casefiles, username):
                continue
            password = secrets.token_urlsafe(12)
            casefiles.open_account(username=username, password=password,
                                   display_name=display_name, role=role,
                                   jurisdiction=jurisdiction,
                                   organization=demo_org if role == "organization" else
                                   DEMO_SUPERVISORY_UNIT if role == "supervisory_unit"
                                   else None,
                                   meta=meta)
            passwords[username] = password
        if casefiles.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
            exercise_network(casefiles, today, echo, seed)
    meta = Meta(actor_id="demo-loader", actor_role="admin", effective_date=today,
                correlation_id=new_correlation_id(), reason="demo token at start", demo=True)
    tokens: dict[str, str] = {}
    days = casefiles.token_lifetime().days
    echo(f"Demo accounts (a fresh API token for each, valid for {days} days like any "
         "other; use it as 'Authorization: Bearer TOKEN'):")
    for username, _, role, _ in DEMO_ACCOUNTS:
        try:
            account = casefiles.get_account(username)
            tokens[username] = casefiles.issue_token(username, meta,
                                                     name=render("start_up_token"))
        except DomainError as e:
            echo(f"  {username:16} {role:20} unavailable: {e.message}")
            continue
        scope = account.jurisdiction or account.organization or (
            "(all organizations)" if role == "auditor" else "-")
        password = passwords.get(username)
        shown = (f"password: {password}" if password else
                 "(password printed at first start; reset with "
                 f"`casefile accounts password {username}`)")
        echo(f"  {username:16} {role:20} {scope:20} {shown}")
        echo(f"  {'':16} token: {tokens[username]}")
    return tokens
