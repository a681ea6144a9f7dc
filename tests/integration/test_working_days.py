"""Working days by the State Council's holiday schedule on real PostgreSQL (issue 17 item
1): rule 12's late entries as the case-file and audit views judge them, rule 2's removal
deadline as the rules engine and the daily clock decide it, and the schedule on the rules
(GET /rules, the network page's rules, ``casefile rules list``), with its warning for a
year it does not know. The calendar's own cases: tests/unit/test_working_days.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from adapters.cli.main import main
from adapters.runtime.catch_up import catch_up
from adapters.runtime.clock import clock_tick
from adapters.runtime.registry import open_view
from domain.calendar import OFFICIAL
from domain.network import EarlyWarning, Proposal
from tests.e2e.test_pages import sign_in
from tests.integration.test_network import fired
from tests.support import DISTRICT
from tests.unit.test_rule_parameters import HERE, register
from tests.unit.test_working_days import recorded_at, rectified


def test_timeliness__late_entries_across_the_national_day_week(pg_app, postgres_env,
                                                             monkeypatch):
    """Penalties decided on Friday 27 September 2024 and recorded on 8, 10 and 11 October
    (3, 5 and 6 working days later; Monday to Friday: 7, 9, 10), and one decided on Friday
    11 October recorded on the 18th (6 working days with the make-up Saturday)."""
    identifier = register(pg_app, 1, HERE)
    cases = [(date(2024, 9, 27), date(2024, 10, 8), False),
             (date(2024, 9, 27), date(2024, 10, 10), False),
             (date(2024, 9, 27), date(2024, 10, 11), True),
             (date(2024, 10, 11), date(2024, 10, 17), False),
             (date(2024, 10, 11), date(2024, 10, 18), True)]
    for decided, recorded, _ in cases:
        recorded_at(monkeypatch, pg_app, identifier, decided, recorded)
    catch_up(postgres_env, "casefiles")
    catch_up(postgres_env, "audittrail")
    expected = [late for _, _, late in cases]
    casefiles = open_view(postgres_env, "casefiles")
    audit = open_view(postgres_env, "audittrail")
    try:
        timeline = casefiles.get(identifier)["timeline"]
        assert [e["late"] for e in timeline if e["type"] == "PenaltyImposed"] == expected
        assert [e["late"] for e in audit.entries(identifier=identifier)
                if e["event_type"] == "Organization.PenaltyImposed"] == expected
    finally:
        casefiles.datastore.close()
        audit.datastore.close()


@pytest.mark.parametrize("completed, due", [(date(2024, 9, 27), date(2024, 10, 10)),
                                            (date(2024, 10, 11), date(2024, 10, 17))])
def test_abnormal_activity_listing__removal_overdue_by_the_schedule(pg_app, postgres_env,
                                                                    completed, due):
    """The engine proposes the delisting with its due date by the schedule, and the daily
    clock warns that the removal is overdue on the day after it, not before."""
    identifier = register(pg_app, 1, HERE)
    rectified(pg_app, identifier, completed)
    clock_tick(postgres_env, due)
    [delisting] = [p for p in fired(pg_app, Proposal) if p.kind == "delisting"]
    assert delisting.reason.endswith(f"(by {due})")
    assert [w for w in fired(pg_app, EarlyWarning) if "removal overdue" in w.title] == []
    clock_tick(postgres_env, due + timedelta(days=1))
    [overdue] = [w for w in fired(pg_app, EarlyWarning) if "removal overdue" in w.title]
    assert overdue.raised_on == due + timedelta(days=1)


def test_the_rules_say_which_schedule_counts_and_warn_of_an_unknown_year(
        api, pg_app, postgres_env, monkeypatch, tmp_path):
    last = OFFICIAL.last_year
    answer = api.get("/api/v1/rules").json["working_days"]
    assert answer["source"] == OFFICIAL.source and answer["first_year"] == 2004
    client = api.client.application.test_client()
    sign_in(client)
    page = client.get(f"/network/{DISTRICT}").text
    assert "工作日按国务院节假日安排" in page

    # 30 December of the schedule's last year: 5 working days later is the next year
    monkeypatch.setattr("adapters.web.network.today_in_china", lambda: date(last, 12, 30))
    answer = api.get("/api/v1/rules").json["working_days"]
    assert answer["fallback_years"] == [last + 1]
    assert answer["warning"].startswith(f"Working days in {last + 1} are counted Monday to "
                                        "Friday")
    page = client.get(f"/network/{DISTRICT}").text
    assert f"注意：{last + 1} 年的节假日安排尚未载入" in page and 'id="working-days-warning"' in page

    for key, value in postgres_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CASEFILE_VAR", str(tmp_path / "var"))
    monkeypatch.setattr("adapters.cli.rules.today_in_china", lambda: date(last, 12, 30))
    listed = CliRunner().invoke(main, ["rules", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"WARNING: Working days in {last + 1} are counted Monday to Friday" in listed.output
    monkeypatch.setattr("adapters.cli.rules.today_in_china", lambda: date(last, 6, 1))
    listed = CliRunner().invoke(main, ["rules", "list"])
    assert "WARNING" not in listed.output and f"2004-{last}" in listed.output
