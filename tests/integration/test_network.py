"""The early-warning network and its rules, driven from events and from the clock, on
real PostgreSQL: every firing is checked for its event, its actor (the rule and its
version) and its effect on the network view."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from adapters.runtime.catch_up import catch_up
from adapters.runtime.clock import clock_tick
from adapters.runtime.registry import open_view
from domain.calendar import working_days_before
from domain.network import CLOCK_ID, EarlyWarning, Proposal
from domain.rules import Rule
from projections.network import roll_up
from services.rules import RulesEngine
from tests.conftest import meta
from tests.integration.test_services import REPORT, register
from tests.support import COMMITTEE, code

D = date(2025, 6, 10)


def fired(app, kind, rule: str | None = None) -> list:
    """Every aggregate of a kind recorded so far (warnings or proposals), by scanning
    the log for their creation events; only one rule's when ``rule`` is given."""
    found = []
    for n in app.recorder.select_notifications(start=1, limit=100000):
        event = app.mapper.to_domain_event(n)
        if isinstance(event, kind.Raised if kind is EarlyWarning else Proposal.Made):
            aggregate = app.repository.get(event.originator_id)
            if rule is None or (aggregate.rule or "").startswith(f"rule:{rule}@"):
                found.append(aggregate)
    return found


def figures(env, node: str, day: date) -> dict:
    catch_up(env, "casefiles")
    catch_up(env, "network")
    view = open_view(env, "network")
    try:
        total, _ = roll_up(node, view.leaf_figures(
            node[:6] if node.endswith("000000") else node, day,
            certificate_expiry=Rule.from_catalog("certificate_expiry")))
        return total
    finally:
        view.datastore.close()


def events_count(app) -> int:
    return app.recorder.max_notification_id() or 0


# -------------------------------------------------------------- event rules


def test_a_late_major_event_report_raises_a_warning_by_the_rule(pg_app, postgres_env):
    register(pg_app)
    pg_app.execute(code(1), "major_event", meta=meta("2024-03-01"), category="leader_change",
                   planned_date=date(2024, 3, 20), description="换届",
                   sent_to=["registration_authority"])
    RulesEngine(pg_app).process_pending()
    [warning] = fired(pg_app, EarlyWarning)
    assert warning.rule == "rule:major_event_reporting@v1" and warning.source == "rule"
    assert warning.level == "committee" and warning.node == COMMITTEE
    assert warning.severity == "low" and warning.organization == code(1)
    assert figures(postgres_env, "310110000000", date(2024, 3, 2))["warnings_low"] == 1


def test_a_high_risk_review_raises_a_high_warning(pg_app, postgres_env):
    register(pg_app)
    pg_app.execute(code(1), "major_event", meta=meta("2024-03-01"), category="litigation",
                   planned_date=date(2024, 6, 1), description="诉讼",
                   sent_to=["registration_authority"])
    pg_app.execute(code(1), "major_event_review", meta=meta("2024-03-05"), report_id="ME1",
                   opinion="关注", risk_level="high")
    RulesEngine(pg_app).process_pending()
    [warning] = fired(pg_app, EarlyWarning)
    assert warning.severity == "high"
    catch_up(postgres_env, "casefiles")
    f = figures(postgres_env, "310110000000", date(2024, 3, 6))
    assert f["warnings_high"] == 1 and f["high_risk_major_events"] == 1


def penalty(app, n, decision, kind, amount=None, on="2024-03-01", until=None):
    app.close_organization(code(n), "penalty", meta=meta(on), decision_number=decision,
                           kind=kind, legal_basis="条例第30条",
                           amount=Decimal(amount) if amount else None,
                           decision_date=date.fromisoformat(on), suspended_until=until)


def test_penalties_propose_listings_for_staff_to_confirm(pg_app, postgres_env):
    for n in (1, 2, 3):
        register(pg_app, n)
    penalty(pg_app, 1, "P1", "warning")
    penalty(pg_app, 2, "P2", "fine", "60000")
    penalty(pg_app, 3, "P3", "fine", "1000", on="2023-01-10")
    penalty(pg_app, 3, "P4", "warning", on="2024-03-01")
    engine = RulesEngine(pg_app)
    engine.process_pending()
    assert engine.process_pending() == 0  # each event is evaluated once
    proposals = {(p.organization, p.credit_list, p.rule) for p in fired(pg_app, Proposal)}
    assert proposals == {
        (code(1), "abnormal_activity", "rule:abnormal_activity_listing@v1"),
        (code(2), "serious_dishonesty", "rule:serious_dishonesty_listing@v1"),
        (code(3), "abnormal_activity", "rule:abnormal_activity_listing@v1"),
        (code(3), "serious_dishonesty", "rule:serious_dishonesty_listing@v1"),
    }
    assert figures(postgres_env, "310110000000", date(2024, 3, 2))["proposals_open"] == 4
    first = next(p for p in fired(pg_app, Proposal) if p.organization == code(1))
    pg_app.decide_proposal(first.id, confirm=True, meta=meta("2024-03-04"))
    org = pg_app.get_organization(code(1))
    [listing] = org.active_listings()
    assert listing["list"] == "abnormal_activity" and "confirmed" in listing["reason"]
    other = next(p for p in fired(pg_app, Proposal) if p.organization == code(2))
    pg_app.decide_proposal(other.id, confirm=False, meta=meta("2024-03-04", reason="复议中"))
    assert pg_app.get_organization(code(2)).active_listings() == []
    f = figures(postgres_env, "310110000000", date(2024, 3, 5))
    assert f["credit_listed"] == 1 and f["proposals_open"] == 2


def test_a_changed_rule_fires_with_its_new_parameters_and_version(pg_app):
    register(pg_app, 1)
    pg_app.change_rule("serious_dishonesty_listing", parameters={"large_fine_limit": 800},
                       jurisdiction=None, meta=meta(reason="new measures"))
    penalty(pg_app, 1, "P1", "fine", "1000")
    RulesEngine(pg_app).process_pending()
    [proposal] = fired(pg_app, Proposal)  # 1000 is now a large fine
    assert proposal.rule == "rule:serious_dishonesty_listing@v2"
    assert proposal.credit_list == "serious_dishonesty"
    with pytest.raises(Exception, match="not a parameter"):
        pg_app.change_rule("abnormal_activity_listing", parameters={"nonsense": 1},
                           jurisdiction=None, meta=meta(reason="x"))
    rule = pg_app.rules()["serious_dishonesty_listing"]
    assert rule.rule_version == 2 and rule.parameters["large_fine_limit"] == 800


def test_overrides_apply_below_their_jurisdiction_only(pg_app):
    rule = pg_app.change_rule("certificate_expiry", parameters={"expiring_days": 30},
                              jurisdiction="310110001000", meta=meta(reason="pilot"))
    assert rule.parameters_for(COMMITTEE)["expiring_days"] == 30
    assert rule.parameters_for("310110002001")["expiring_days"] == 90


# ------------------------------------------------------------ clock rules

def registered_with_certificate(app, until: date):
    app.register_organization(
        meta=meta("2020-05-01"), code=code(1), name="示例协会", org_type="social_association",
        domicile={"address": "x", "jurisdiction": COMMITTEE}, business_scope="s",
        registered_funds=Decimal(1000), supervisory_unit=None, founded_on=date(2020, 5, 1),
        certificate_valid_until=until)


@pytest.mark.parametrize("days_left, expected", [(91, None), (90, "expiring"),
                                                 (89, "expiring"), (0, "expiring"),
                                                 (-1, "expired")])
def test_certificate_expiry_across_its_boundaries(pg_app, postgres_env, days_left, expected):
    registered_with_certificate(pg_app, D + timedelta(days=days_left))
    clock_tick(postgres_env, D)
    warnings = fired(pg_app, EarlyWarning, "certificate_expiry")
    if expected is None:
        assert warnings == []
        return
    [warning] = warnings
    assert warning.rule == "rule:certificate_expiry@v1"
    assert warning.title.startswith("certificate expire")
    assert ("expired on" in warning.title) == (expected == "expired")
    f = figures(postgres_env, "310110000000", D)
    assert f[f"certificates_{expected}"] == 1 and f["warnings_active"] >= 1


def test_the_clock_is_idempotent_and_catches_up(pg_app, postgres_env):
    registered_with_certificate(pg_app, D + timedelta(days=400))
    assert clock_tick(postgres_env, D) == [D]
    before = events_count(pg_app)
    assert clock_tick(postgres_env, D) == []
    assert events_count(pg_app) == before
    days = clock_tick(postgres_env, D + timedelta(days=10))
    assert days == [D + timedelta(days=i) for i in range(1, 11)]
    assert pg_app.repository.get(CLOCK_ID).last_date == D + timedelta(days=10)


def test_a_rectification_is_overdue_the_day_after_its_deadline(pg_app, postgres_env):
    registered_with_certificate(pg_app, D + timedelta(days=900))
    pg_app.execute(code(1), "rectification", meta=meta("2025-05-01"), notice_number="N1",
                   issues=["财务"], deadline=D)
    clock_tick(postgres_env, D)
    assert pg_app.get_organization(code(1)).rectifications["N1"]["status"] == "open"
    clock_tick(postgres_env, D + timedelta(days=1))
    org = pg_app.get_organization(code(1))
    assert org.rectifications["N1"]["status"] == "overdue"
    overdue = [e for e in pg_app.organization_history(code(1))
               if type(e).__name__ == "RectificationOverdue"][0]
    assert overdue.meta.actor_id == "rule:abnormal_activity_listing@v1"
    assert overdue.meta.effective_date == D + timedelta(days=1)
    [proposal] = [p for p in fired(pg_app, Proposal, "abnormal_activity_listing")
                  if "N1" in p.reason]
    assert proposal.credit_list == "abnormal_activity" and proposal.kind == "listing"
    assert figures(postgres_env, "310110000000", D)["rectifications_overdue"] == 1


def test_a_report_not_filed_by_31_may_is_proposed_unqualified_and_listed(pg_app, postgres_env):
    registered_with_certificate(pg_app, date(2030, 1, 1))
    pg_app.execute(code(1), "annual_report", meta=meta("2024-03-01"), year=2023, **REPORT)
    clock_tick(postgres_env, date(2025, 5, 31))
    assert [p for p in fired(pg_app, Proposal) if "2024" in p.reason] == []
    clock_tick(postgres_env, date(2025, 6, 1))
    kinds = sorted((p.kind, p.year) for p in fired(pg_app, Proposal) if "2024" in p.reason)
    assert kinds == [("conclusion", 2024), ("listing", None)]
    conclusion = next(p for p in fired(pg_app, Proposal) if p.kind == "conclusion")
    assert conclusion.rule == "rule:annual_inspection@v1"
    pg_app.decide_proposal(conclusion.id, confirm=True, meta=meta("2025-06-03"))
    assert pg_app.get_organization(code(1)).conclusions["2024"]["result"] == "unqualified"


def test_no_report_two_years_running_is_a_zombie_candidate(pg_app, postgres_env):
    registered_with_certificate(pg_app, date(2030, 1, 1))
    pg_app.execute(code(1), "annual_report", meta=meta("2022-03-01"), year=2021, **REPORT)
    pg_app.execute(code(1), "interview", meta=meta("2023-09-01"), person_name="x",
                   person_role="y", topics=["t"])  # active, so only the reports count
    clock_tick(postgres_env, date(2024, 5, 31))  # 2022 missed, 2023 not yet due
    assert not fired(pg_app, EarlyWarning, "zombie_candidate")
    clock_tick(postgres_env, date(2024, 6, 1))  # 2022 and 2023 missed
    zombies = fired(pg_app, EarlyWarning, "zombie_candidate")
    assert len(zombies) == 1 and "2022-2023" in zombies[0].title
    assert figures(postgres_env, "310110000000", date(2024, 6, 1))["zombie_candidates"] == 1
    view = open_view(postgres_env, "network")
    total, rows = view.organizations("310110", "zombie_candidate", date(2024, 6, 1), 10, 0,
                                     certificate_expiry=pg_app.rule("certificate_expiry"))
    assert total == 1 and rows[0]["identifier"] == code(1)


def test_listings_end_or_harden_with_time(pg_app, postgres_env):
    registered_with_certificate(pg_app, date(2030, 1, 1))
    register(pg_app, 2)
    pg_app.execute(code(1), "credit_listing", meta=meta("2024-01-10", reason="失联"),
                   credit_list="abnormal_activity")
    pg_app.execute(code(2), "credit_listing", meta=meta("2022-01-10", reason="失联"),
                   credit_list="abnormal_activity")
    def listing_proposals(n):
        return [p for p in fired(pg_app, Proposal) if p.organization == code(n)
                and p.kind in ("listing", "delisting") and "annual report" not in p.reason]

    clock_tick(postgres_env, date(2024, 7, 9))
    assert listing_proposals(1) == []
    clock_tick(postgres_env, date(2024, 7, 10))
    [delisting] = listing_proposals(1)
    assert delisting.kind == "delisting" and delisting.listing_id == "CL1"
    [harden] = listing_proposals(2)
    assert harden.kind == "listing" and harden.credit_list == "serious_dishonesty"
    pg_app.decide_proposal(delisting.id, confirm=True, meta=meta("2024-07-11"))
    assert pg_app.get_organization(code(1)).active_listings() == []


def test_an_unhandled_warning_climbs_to_the_sub_district_then_the_district(pg_app,
                                                                          postgres_env):
    register(pg_app)
    warning = pg_app.raise_warning(organization=code(1), severity="medium",
                                   source="information_officer", title="活动异常",
                                   description="居民反映", key="w1",
                                   meta=meta(D.isoformat(), actor="officer",
                                             role="information_officer"))
    clock_tick(postgres_env, D)
    for day, level in ((2, "committee"), (3, "sub_district"), (9, "sub_district"),
                       (10, "district")):
        clock_tick(postgres_env, D + timedelta(days=day))
        current = pg_app.get_warning(warning.id)
        assert current.level == level, (day, current.level)
    escalations = [h for h in current.history if h["what"] == "escalated"]
    assert [h["to"] for h in escalations] == ["310110001000", "310110000000"]
    assert {h["by"] for h in escalations} == {"rule:warning_escalation@v1"}


def test_an_acknowledged_warning_does_not_climb(pg_app, postgres_env):
    register(pg_app)
    warning = pg_app.raise_warning(organization=code(1), severity="low",
                                   source="tip_off", title="投诉", description="x", key="w2",
                                   meta=meta(D.isoformat()))
    clock_tick(postgres_env, D)
    pg_app.handle_warning(warning.id, "acknowledgement", meta=meta(D.isoformat()))
    clock_tick(postgres_env, D + timedelta(days=5))
    assert pg_app.get_warning(warning.id).level == "committee"
    active = figures(postgres_env, "310110000000", D)["warnings_active"]
    pg_app.handle_warning(warning.id, "resolution", note="已核实", meta=meta(D.isoformat()))
    assert figures(postgres_env, "310110000000", D)["warnings_active"] == active - 1


def test_suspension_and_revocation_propose_the_serious_dishonesty_list(pg_app):
    register(pg_app, 1)
    register(pg_app, 2)
    penalty(pg_app, 1, "P1", "suspension", until=date(2024, 9, 1))
    pg_app.close_organization(code(2), "revoke", meta=meta("2024-03-01", reason="fraud"))
    RulesEngine(pg_app).process_pending()
    proposals = fired(pg_app, Proposal, "serious_dishonesty_listing")
    assert sorted(p.organization for p in proposals) == [code(1), code(2)]
    assert {p.credit_list for p in proposals} == {"serious_dishonesty"}


def test_nothing_recorded_for_two_years_is_a_zombie_candidate(pg_app, postgres_env):
    registered_with_certificate(pg_app, date(2030, 1, 1))
    pg_app.execute(code(1), "interview", meta=meta("2023-06-10"), person_name="x",
                   person_role="y", topics=["t"])
    clock_tick(postgres_env, date(2025, 6, 9))
    assert not [w for w in fired(pg_app, EarlyWarning, "zombie_candidate")
                if "nothing recorded" in w.title]
    clock_tick(postgres_env, date(2025, 6, 10))
    [zombie] = [w for w in fired(pg_app, EarlyWarning, "zombie_candidate")
                if "nothing recorded" in w.title]
    assert zombie.rule == "rule:zombie_candidate@v1" and "2023-06-10" in zombie.title


def test_credit_information_recorded_late_is_flagged(pg_app, postgres_env):
    """Rule 12: more than 5 working days between the decision and its recording."""
    from datetime import datetime, timezone

    register(pg_app, 1)
    today = datetime.now(timezone(timedelta(hours=8))).date()
    # 10 and 0 working days before today, by the holiday schedule (domain.calendar)
    late_day, timely_day = working_days_before(today, 10), today
    penalty(pg_app, 1, "LATE", "warning", on=late_day.isoformat())
    penalty(pg_app, 1, "TIMELY", "warning", on=timely_day.isoformat())
    catch_up(postgres_env, "audittrail")
    catch_up(postgres_env, "casefiles")
    entries = open_view(postgres_env, "audittrail").entries(identifier=code(1))
    flags = {e["reference"] or e["effective_date"].isoformat(): e["late"] for e in entries
             if e["event_type"] == "Organization.PenaltyImposed"}
    assert flags == {late_day.isoformat(): True, timely_day.isoformat(): False}
    timeline = open_view(postgres_env, "casefiles").get(code(1))["timeline"]
    assert [e["late"] for e in timeline if e["type"] == "PenaltyImposed"] == [True, False]
