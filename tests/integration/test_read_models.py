"""Read models on real PostgreSQL: case files, audit trail, statistics, rebuilds."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import psycopg
import pytest

from adapters.runtime.catch_up import rebuild
from adapters.runtime.registry import READ_MODELS, open_view
from adapters.runtime.status import status, wait_for
from adapters.runtime.worker import Worker
from services.log import recorded_events
from projections.audit import verify
from projections.documents import organization_document
from tests.conftest import meta
from tests.integration.test_services import REPORT, appoint, register
from tests.support import code


def caught_up(env, app) -> None:
    head = app.recorder.max_notification_id() or 0
    for name in READ_MODELS:
        assert wait_for(open_view(env, name), head, 20), f"{name} did not catch up"


def some_history(app) -> None:
    register(app, 1)
    register(app, 2)
    for year, result in ((2021, "qualified"), (2022, "unqualified")):
        app.execute(code(1), "annual_report", meta=meta(f"{year + 1}-03-01"), year=year,
                    **REPORT)
        app.execute(code(1), "annual_inspection", meta=meta(f"{year + 1}-06-01"), year=year,
                    result=result, findings="")
    app.execute(code(2), "annual_inspection", meta=meta("2022-06-01"), year=2021,
                result="unqualified", findings="no report")
    app.execute(code(1), "annual_inspection_correction", meta=meta("2023-09-01"), year=2021,
                result="basically_qualified", findings="late accounts")
    appoint(app, 1, 1)
    app.execute(code(1), "credit_listing", meta=meta("2023-07-01", reason="unreachable"),
                credit_list="abnormal_activity")
    app.close_organization(code(2), "penalty", meta=meta("2023-08-01"), decision_number="P1",
                           kind="fine", legal_basis="art 30", amount=Decimal(60000),
                           decision_date=date(2023, 8, 1), suspended_until=None)


@pytest.fixture
def running(postgres_env):
    worker = Worker(postgres_env, run_rules=False).start()
    yield worker
    worker.stop()


def test_the_case_file_equals_the_aggregate(pg_app, postgres_env, running):
    some_history(pg_app)
    caught_up(postgres_env, pg_app)
    view = open_view(postgres_env, "casefiles")
    for n in (1, 2):
        row = view.get(code(n))
        org = pg_app.get_organization(code(n))
        assert row["document"] == organization_document(org)
        assert row["version"] == org.version
        assert [e["version"] for e in row["timeline"]] == list(range(1, org.version + 1))
    assert view.get(code(1))["credit_lists"] == ["abnormal_activity"]
    assert "credit_listed" in view.get(code(1))["risk_flags"]
    total, rows = view.search(credit_list="abnormal_activity")
    assert total == 1 and rows[0]["identifier"] == code(1)
    total, _ = view.search(jurisdiction="310110001", status="active")
    assert total == 2
    assert view.search(jurisdiction="310230")[0] == 0


def test_the_audit_trail_shows_field_changes_and_verifies(pg_app, postgres_env, running):
    some_history(pg_app)
    caught_up(postgres_env, pg_app)
    view = open_view(postgres_env, "audittrail")
    entries = view.entries(identifier=code(1))
    correction = next(e for e in entries if e["event_type"] == "Organization.AnnualInspectionCorrected")
    assert {"field": "annual_inspections[0].result", "before": "qualified",
            "after": "basically_qualified"} in correction["changes"]
    assert correction["actor_id"] == "staff" and correction["effective_date"] == date(2023, 9, 1)
    head = pg_app.recorder.max_notification_id()
    result = verify(view.all_entries(head), recorded_events(pg_app, head))
    assert result.ok and result.verified == head


@pytest.mark.parametrize("tamper, problem", [
    ("UPDATE {t} SET reason = 'edited', canonical = replace(canonical, 'unreachable', "
     "'edited') WHERE position = {p}", "altered"),
    ("DELETE FROM {t} WHERE position = {p}", "deleted"),
    ("UPDATE {t} SET position = -position WHERE position IN ({p}, {q}); "
     "UPDATE {t} SET position = {q} WHERE position = -{p}; "
     "UPDATE {t} SET position = {p} WHERE position = -{q}", "reordered"),
])
def test_tampering_with_the_audit_trail_is_detected(pg_app, postgres_env, running,
                                                    database_url, tamper, problem):
    some_history(pg_app)
    caught_up(postgres_env, pg_app)
    view = open_view(postgres_env, "audittrail")
    listing = next(e for e in view.entries(identifier=code(1))
                   if e["event_type"] == "Organization.CreditListed")
    p = listing["position"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        for statement in tamper.split("; "):
            conn.execute(statement.format(t=f'{postgres_env["POSTGRES_SCHEMA"]}.audittrail_entries',
                                          p=p, q=p + 1))
    head = pg_app.recorder.max_notification_id()
    result = verify(view.all_entries(head), recorded_events(pg_app, head))
    assert not result.ok
    assert result.first_broken["position"] == p
    assert problem in result.first_broken["problem"]


def test_statistics_count_conclusions_after_corrections(pg_app, postgres_env, running):
    some_history(pg_app)
    caught_up(postgres_env, pg_app)
    totals = open_view(postgres_env, "statistics").totals(jurisdiction_prefix="310110")
    assert totals[2021]["inspection_due"] == 2
    assert totals[2021]["conclusion_basically_qualified"] == 1
    assert "conclusion_qualified" not in totals[2021]
    assert totals[2021]["conclusion_unqualified"] == 1
    assert totals[2023]["penalty_fine"] == 1
    assert totals[2020]["registered"] == 2


def test_rebuild_matches_the_live_views_and_replaces_them_when_no_worker_runs(
        pg_app, postgres_env):
    some_history(pg_app)
    worker = Worker(postgres_env, run_rules=False).start()
    caught_up(postgres_env, pg_app)
    compared = rebuild(postgres_env, "casefiles", batch=7, progress=False)
    assert compared["comparison"] == "identical" and compared["replaced"] is False
    worker.stop()
    for name in READ_MODELS:
        result = rebuild(postgres_env, name, batch=5, progress=False)
        assert result["comparison"] == "identical", result
        assert result["replaced"] is True
        assert result["events"] == pg_app.recorder.max_notification_id()
    assert all(row["lag"] == 0 for row in status(postgres_env))
    register(pg_app, 3)  # the rebuilt views go on from where they are
    worker = Worker(postgres_env, run_rules=False).start()
    caught_up(postgres_env, pg_app)
    assert open_view(postgres_env, "casefiles").get(code(3))["version"] == 1
    worker.stop()


def test_a_worker_restarted_anywhere_applies_each_event_exactly_once(pg_app, postgres_env):
    register(pg_app, 1)
    for round_ in range(4):
        worker = Worker(postgres_env, run_rules=False).start()
        for i in range(15):
            pg_app.execute(code(1), "interview", meta=meta(), person_name=f"p{round_}-{i}",
                           person_role="chair", topics=["t"])
        worker.stop()  # stopped wherever it got to
    worker = Worker(postgres_env, run_rules=False).start()
    caught_up(postgres_env, pg_app)
    worker.stop()
    row = open_view(postgres_env, "casefiles").get(code(1))
    assert row["version"] == 61 and len(row["document"]["interviews"]) == 60
    assert [e["version"] for e in row["timeline"]] == list(range(1, 62))
    for name in READ_MODELS:
        assert rebuild(postgres_env, name, progress=False)["comparison"] == "identical"


def test_time_travel_in_effect_and_as_known(pg_app):
    register(pg_app, 1)
    pg_app.execute(code(1), "annual_report", meta=meta("2022-03-01"), year=2021, **REPORT)
    before_late_filing = datetime.now(timezone.utc)
    # a change approved on 1 June 2022, filed only now: it changes what was in effect then,
    # not what the office knew then
    pg_app.execute(code(1), "change", meta=meta("2022-06-01"),
                   changes={"name": "新名称协会"}, approval_date=date(2022, 6, 1))
    assert pg_app.organization_at(code(1), as_of=date(2022, 5, 31)).name == "示例协会1"
    assert pg_app.organization_at(code(1), as_of=date(2022, 6, 1)).name == "新名称协会"
    assert pg_app.organization_at(code(1), as_of=date(2022, 7, 1),
                                  known_at=before_late_filing).name == "示例协会1"
    assert pg_app.organization_at(code(1), as_of=date(2021, 1, 1)).annual_reports == {}
    with pytest.raises(Exception, match="in effect on 2019-01-01"):
        pg_app.organization_at(code(1), as_of=date(2019, 1, 1))


def test_time_travel_starts_from_snapshots(pg_app):
    register(pg_app, 1)
    for i in range(120):
        pg_app.execute(code(1), "interview", meta=meta(f"2023-{1 + i // 12:02d}-01"),
                       person_name="x", person_role="y", topics=[str(i)])
    org = pg_app.organization_at(code(1), as_of=date(2023, 6, 1))
    assert len(org.interviews) == 72
    assert len(pg_app.organization_at(code(1)).interviews) == 120
