"""Objections and credit repair on the in-memory application (domain.credit_remedies):
what each decision records on the case, and what is refused with nothing recorded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.credit_remedies import disputed_entries
from domain.errors import Conflict, RuleViolation
from tests.conftest import meta
from tests.support import COMMITTEE, code


def own(effective: str, reason: str | None = "有误") -> object:
    return meta(effective, actor="org1", role="organization", reason=reason)


@pytest.fixture
def app(memory_app):
    memory_app.register_organization(
        meta=meta("2020-05-01"), code=code(1), name="示例协会", org_type="social_association",
        domicile={"address": "示例路1号", "jurisdiction": COMMITTEE}, business_scope="志愿服务",
        registered_funds=Decimal(30000), supervisory_unit=None, founded_on=date(2020, 5, 1),
        certificate_valid_until=date(2030, 4, 30))
    memory_app.execute(code(1), "credit_listing", credit_list="abnormal_activity",
                       meta=meta("2024-03-01", reason="未按时年检"))
    memory_app.close_organization(code(1), "penalty", decision_number="CF1", kind="warning",
                                  legal_basis="条例", amount=None,
                                  decision_date=date(2024, 3, 1), suspended_until=None,
                                  meta=meta("2024-03-01"))
    return memory_app


def test_an_upheld_objection_removes_the_listing_with_the_decision(app):
    filed = app.execute(code(1), "objection", entry="credit_listing", entry_id="CL1",
                        evidence="回执", meta=own("2024-03-04"))
    objection_id = filed.result["id"]
    org = app.get_organization(code(1))
    assert disputed_entries(org.objections) == {("credit_listing", "CL1")}
    assert org.objections[objection_id]["due_by"] == date(2024, 3, 18)  # 10 working days
    app.execute(code(1), "objection_upheld", objection_id=objection_id, result=None,
                findings=None, meta=meta("2024-03-06", reason="已按时报送"))
    org = app.get_organization(code(1))
    assert org.credit_listings["CL1"]["removed_on"] == date(2024, 3, 6)
    assert org.objections[objection_id]["status"] == "upheld"
    assert disputed_entries(org.objections) == set()
    with pytest.raises(RuleViolation):  # deciding twice
        app.execute(code(1), "objection_dismissed", objection_id=objection_id,
                    meta=meta("2024-03-07", reason="x"))


def test_a_dismissed_objection_changes_nothing_but_itself(app):
    filed = app.execute(code(1), "objection", entry="penalty", entry_id="CF1", evidence=None,
                        meta=own("2024-03-04"))
    with pytest.raises(Conflict):
        app.execute(code(1), "objection", entry="penalty", entry_id="CF1", evidence=None,
                    meta=own("2024-03-05"))
    app.execute(code(1), "objection_dismissed", objection_id=filed.result["id"],
                meta=meta("2024-03-06", reason="证据不足"))
    org = app.get_organization(code(1))
    assert not org.penalties["CF1"]["rescinded"]
    assert org.objections[filed.result["id"]]["status"] == "dismissed"


def test_a_repair_is_premature_while_a_rectification_is_open(app):
    app.execute(code(1), "rectification", notice_number="ZG1", issues=["财务"],
                deadline=date(2024, 6, 1), meta=meta("2024-03-02"))
    with pytest.raises(RuleViolation) as refused:
        app.execute(code(1), "credit_repair", listing_id="CL1", evidence="整改报告",
                    meta=own("2024-03-04"))
    assert refused.value.rule == "removal_premature"
    assert "abnormal_activity_listing" in refused.value.message
    assert app.get_organization(code(1)).repair_applications == {}
    app.execute(code(1), "rectification_completion", notice_number="ZG1", note="完成",
                meta=meta("2024-03-05"))
    applied = app.execute(code(1), "credit_repair", listing_id="CL1", evidence="整改报告",
                          meta=own("2024-03-06"))
    app.execute(code(1), "credit_repair_approved", application_id=applied.result["id"],
                meta=meta("2024-03-07", reason="整改到位"))
    org = app.get_organization(code(1))
    assert org.credit_listings["CL1"]["removed_on"] == date(2024, 3, 7)
    assert org.repair_applications[applied.result["id"]]["status"] == "approved"


def test_the_serious_list_says_when_removal_becomes_possible(app):
    app.execute(code(1), "credit_listing", credit_list="serious_dishonesty",
                meta=meta("2024-03-02", reason="吊销"))
    with pytest.raises(RuleViolation) as refused:
        app.execute(code(1), "credit_repair", listing_id="CL2", evidence=None,
                    meta=own("2025-03-04"))
    assert "possible from 2026-03-02" in refused.value.message
    assert "serious_dishonesty_listing" in refused.value.message
    applied = app.execute(code(1), "credit_repair", listing_id="CL2", evidence=None,
                          meta=own("2026-03-02"))
    app.execute(code(1), "credit_repair_refused", application_id=applied.result["id"],
                meta=meta("2026-03-03", reason="材料不全"))
    org = app.get_organization(code(1))
    assert org.credit_listings["CL2"]["removed_on"] is None


def test_a_pending_objection_marks_its_entry_disputed_in_public_and_open_data(app):
    from projections.documents import organization_document, public_document
    from projections.open_data import BY_NAME, rows_of

    app.execute(code(1), "objection", entry="penalty", entry_id="CF1", evidence=None,
                meta=own("2024-03-04"))
    public = public_document(organization_document(app.get_organization(code(1))))
    assert [p["disputed"] for p in public["penalties"]] == [True]
    assert [c["disputed"] for c in public["credit_listings"]] == [False]
    rows = {}
    for table, row in rows_of(public, COMMITTEE):
        rows.setdefault(table, []).append(dict(zip(BY_NAME[table].header, row)))
    assert [r["disputed"] for r in rows["penalties"]] == [True]
    assert [r["disputed"] for r in rows["credit_listings"]] == [False]
    for table in ("annual_conclusions", "credit_listings", "penalties"):
        assert BY_NAME[table].header[-1] == "disputed"
    app.execute(code(1), "objection_dismissed", objection_id="OB1",
                meta=meta("2024-03-05", reason="证据不足"))
    public = public_document(organization_document(app.get_organization(code(1))))
    assert [p["disputed"] for p in public["penalties"]] == [False]


def test_a_state_of_version_2_reads_with_no_objections():
    from domain.organization import Organization

    state = {"annual_reports": {}}
    Organization.upcast_v1_v2(state)
    Organization.upcast_v2_v3(state)
    assert state["objections"] == {} and state["repair_applications"] == {}


def test_a_decision_does_not_take_effect_before_the_filing(app):
    from domain.errors import InvalidValue

    app.execute(code(1), "objection", entry="credit_listing", entry_id="CL1", evidence=None,
                meta=own("2024-03-04"))
    with pytest.raises(InvalidValue) as refused:
        app.execute(code(1), "objection_dismissed", objection_id="OB1",
                    meta=meta("2024-03-01", reason="x"))
    assert refused.value.field == "effective_date"
    assert app.get_organization(code(1)).objections["OB1"]["status"] == "pending"


def test_the_clock_proposes_the_serious_list_s_end_when_a_repair_would_be_possible(app):
    from domain.network import Proposal
    from tests.unit.test_rule_parameters import fired, tick

    app.execute(code(1), "credit_listing", credit_list="serious_dishonesty",
                meta=meta("2024-03-02", reason="罚款五万元以上"))
    app.close_organization(code(1), "penalty", decision_number="CF2", kind="warning",
                           legal_basis="条例", amount=None, decision_date=date(2025, 1, 6),
                           suspended_until=None, meta=meta("2025-01-06"))
    tick(app, date(2026, 3, 3), organizations=[code(1)])  # restarted by the penalty
    assert [p for p in fired(app, Proposal, "serious_dishonesty_listing")
            if p.kind == "delisting"] == []
    with pytest.raises(RuleViolation) as refused:
        app.execute(code(1), "credit_repair", listing_id="CL2", evidence=None,
                    meta=own("2026-03-03"))
    assert "possible from 2027-01-06" in refused.value.message
    tick(app, date(2027, 1, 6), organizations=[code(1)])
    assert [p.listing_id for p in fired(app, Proposal, "serious_dishonesty_listing")
            if p.kind == "delisting"] == ["CL2"]
