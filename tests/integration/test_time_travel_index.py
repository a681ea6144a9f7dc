"""Time travel by the index (issue 8, item 5) on real PostgreSQL: the answer for every
as_of / known_at combination is the one a full replay gives, and the one the snapshot
path (the in-memory store's, the index's fallback) gives; rows written with their events,
backfilled for events recorded without them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from domain.organization import Organization
from domain.organization import ORGANIZATION_EVENTS
from services.casefiles import CaseFiles
from services.errors import OrganizationNotFound
from tests.conftest import meta
from tests.integration.test_services import REPORT, appoint, register
from tests.support import code

REGISTERED = date(2020, 5, 1)


def late_history(app: CaseFiles) -> list[datetime]:
    """An organization of about 160 events over three snapshots (every 50): interviews
    walking forward in business time, every seventh filed late (effective months before
    the ones already recorded), name changes approved earlier than they were filed,
    annual reports, conclusions and their corrections (one of them filed late), a leader
    appointed (personal fields) with its person in the same save. Returns the moments
    between commands."""
    register(app, 1, on=REGISTERED.isoformat())
    moments = [datetime.now(timezone.utc)]
    day = REGISTERED
    names = iter(f"新名称{n}" for n in range(10))
    for i in range(150):
        day += timedelta(days=5)
        if i % 7 == 6:  # a late filing: in effect well before what is already recorded
            on = max(REGISTERED, day - timedelta(days=120 + 7 * (i % 5)))
        else:
            on = day
        if i in (20, 61, 110):  # a name change approved earlier, filed now
            approved = max(REGISTERED, day - timedelta(days=90))
            app.execute(code(1), "change", meta=meta(approved.isoformat()),
                        changes={"name": next(names)}, approval_date=approved)
        elif i == 40:
            app.execute(code(1), "annual_report", meta=meta("2021-03-01"), year=2020, **REPORT)
        elif i == 45:
            app.execute(code(1), "annual_inspection", meta=meta("2021-06-01"), year=2020,
                        result="qualified", findings="")
        elif i == 70:
            app.execute(code(1), "annual_inspection_correction", meta=meta("2021-09-01"),
                        year=2020, result="basically_qualified", findings="late accounts")
        elif i == 100:  # a correction recorded long after, in effect on an earlier date
            app.execute(code(1), "annual_inspection_correction", meta=meta("2021-07-15"),
                        year=2020, result="unqualified", findings="audit")
        elif i == 80:
            appoint(app, 1, 1)  # in effect 2021-01-01: a late filing too
        else:
            app.execute(code(1), "interview", meta=meta(on.isoformat()),
                        person_name=f"p{i}", person_role="chair", topics=[str(i)])
        moments.append(datetime.now(timezone.utc))
    return moments


def state(org: Organization | None) -> Any:
    if org is None:
        return None
    return {k: v for k, v in vars(org).items() if k != "_pending_events"}


def outcome(fn) -> Any:
    try:
        return ("state", state(fn()))
    except OrganizationNotFound:
        return ("state", None)
    except Exception as e:  # a filtered replay may fail: it must fail alike
        return ("error", type(e).__name__, str(e))


def replayed(app: CaseFiles, stored: list, as_of: date | None,
             known_at: datetime | None) -> Organization | None:
    """The definition: every event from the first, decoded afresh, filtered."""
    org = None
    for event in map(app.mapper.to_domain_event, stored):
        if known_at is not None and event.timestamp > known_at:
            break
        if as_of is not None and event.meta.effective_date > as_of:
            continue
        org = event.mutate(org) if org is None else app._apply_out_of_sequence(org, event)
    return org


def index_rows(url: str, env: dict, org_id) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            f'SELECT originator_version, effective_date, recorded_at FROM '
            f'"{env["POSTGRES_SCHEMA"]}".casefile_time_index WHERE originator_id = %s '
            f'ORDER BY 1', (org_id,)).fetchall()


def delete_index_rows(url: str, env: dict, where: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DELETE FROM "{env["POSTGRES_SCHEMA"]}".casefile_time_index '
                     f'WHERE {where}')


def dates_and_moments(events: list, moments: list[datetime]):
    effective = sorted({e.meta.effective_date for e in events})
    as_ofs: list[date | None] = [None, date(2019, 1, 1), REGISTERED, date(2099, 1, 1)]
    for d in effective[::max(1, len(effective) // 12)]:
        as_ofs += [d - timedelta(days=1), d]
    known: list[datetime | None] = [None, moments[0] - timedelta(days=1)]
    known += moments[::25]
    for e in events[49:52] + events[99:101] + events[-1:]:  # around the snapshots, exact
        known += [e.timestamp, e.timestamp - timedelta(microseconds=1)]
    return as_ofs, known


def test_every_combination_equals_a_full_replay_and_the_snapshot_path(pg_app, postgres_env):
    moments = late_history(pg_app)
    org_id = Organization.create_id(code(1))
    stored = list(pg_app.recorder.select_events(org_id))
    events = [pg_app.mapper.to_domain_event(s) for s in stored]
    assert len(events) > 150 and len(pg_app._snapshot_versions(org_id)) >= 3
    # the late filings are there: effective dates are not in version order
    assert any(b.meta.effective_date < a.meta.effective_date for a, b in zip(events, events[1:]))
    as_ofs, known = dates_and_moments(events, moments)
    today = outcome(lambda: pg_app.get_organization(code(1)))
    compared = differing_answers = 0
    for as_of in as_ofs:
        for known_at in known:
            expected = outcome(lambda: replayed(pg_app, stored, as_of, known_at))
            by_index = outcome(lambda: pg_app.organization_at(code(1), as_of=as_of,
                                                              known_at=known_at))
            by_snapshots = outcome(lambda: pg_app._organization_at_by_snapshots(
                org_id, as_of, known_at))
            assert by_index == expected, (as_of, known_at)
            assert by_snapshots == expected, (as_of, known_at)
            compared += 1
            differing_answers += expected != today
    assert compared >= 400 and differing_answers > compared // 2  # (not today's)


def test_the_index_holds_one_row_per_event_written_with_it(pg_app, postgres_env,
                                                           database_url):
    register(pg_app, 1)
    appoint(pg_app, 1, 1)
    pg_app.execute(code(1), "interview", meta=meta("2022-02-02"), person_name="x",
                   person_role="y", topics=["t"])
    org_id = Organization.create_id(code(1))
    events = list(pg_app.events.get(org_id))
    assert all(isinstance(e, ORGANIZATION_EVENTS) for e in events)
    assert index_rows(database_url, postgres_env, org_id) == [
        (e.originator_version, e.meta.effective_date, e.timestamp) for e in events]
    # a save that loses the race leaves no row of its own
    first = pg_app.get_organization(code(1))
    second = pg_app.organization_at(code(1))  # (a copy of its own, not the cached one)
    assert second is not first and second.version == first.version
    first.hold_interview(person_name="a", person_role="b", topics=["t"],
                         meta=meta("2022-03-03"))
    pg_app.save(first)
    second.hold_interview(person_name="c", person_role="d", topics=["t"],
                          meta=meta("2030-01-01"))
    with pytest.raises(IntegrityError):
        pg_app.save(second)
    rows = index_rows(database_url, postgres_env, org_id)
    assert rows[-1][:2] == (first.version, date(2022, 3, 3)) and len(rows) == first.version


def test_events_recorded_without_rows_are_indexed_on_first_time_travel(pg_app, postgres_env,
                                                                       database_url):
    moments = late_history(pg_app)
    org_id = Organization.create_id(code(1))
    stored = list(pg_app.recorder.select_events(org_id))
    complete = index_rows(database_url, postgres_env, org_id)
    as_of, known_at = date(2021, 3, 1), moments[100]
    expected = outcome(lambda: replayed(pg_app, stored, as_of, known_at))
    # recorded before the index existed (all of them), or around CaseFiles._record (some)
    for where in ("true", "originator_version % 3 = 0 OR originator_version > 140"):
        delete_index_rows(database_url, postgres_env, where)
        assert len(index_rows(database_url, postgres_env, org_id)) < len(stored)
        assert outcome(lambda: pg_app.organization_at(code(1), as_of=as_of,
                                                      known_at=known_at)) == expected
        assert index_rows(database_url, postgres_env, org_id) == complete
    # an organization of none: not found, nothing indexed
    with pytest.raises(OrganizationNotFound, match="in effect on 2020-01-01"):
        pg_app.organization_at(code(7), as_of=date(2020, 1, 1))


def test_a_row_without_its_event_falls_back_to_the_snapshot_path(pg_app, postgres_env,
                                                                 database_url):
    register(pg_app, 1)
    pg_app.execute(code(1), "interview", meta=meta("2022-02-02"), person_name="x",
                   person_role="y", topics=["t"])
    org_id = Organization.create_id(code(1))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'INSERT INTO "{postgres_env["POSTGRES_SCHEMA"]}".casefile_time_index '
                     "VALUES (%s, 99, '2000-01-01', now())", (org_id,))
    org = pg_app.organization_at(code(1), as_of=date(2022, 1, 1))
    assert org.version == 1 and org.interviews == []
    assert len(pg_app.organization_at(code(1), as_of=date(2022, 2, 2)).interviews) == 1
