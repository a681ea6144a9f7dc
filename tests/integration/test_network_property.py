"""Property-based: at every node of the network every figure equals the sum over its
children, and at the leaves it is the number of organizations that carry the flag."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.runtime.catch_up import catch_up
from adapters.runtime.registry import open_view
from domain.codes import make_credit_code
from projections.network import FIGURES, roll_up
from tests.conftest import meta

TODAY = date(2025, 6, 10)
committees = st.sampled_from(["001001", "001002", "002001", "003001", "003002"])


@given(st.dictionaries(committees, st.fixed_dictionaries(
    {f: st.integers(0, 50) for f in FIGURES}), max_size=5))
def test_every_node_is_the_sum_of_its_children(leaves_by_suffix):
    leaves = {"310110" + s: f for s, f in leaves_by_suffix.items()}
    total, children = roll_up("310110000000", leaves)
    for figure in FIGURES:
        assert total[figure] == sum(c[figure] for c in children.values())
        for child, figures in children.items():
            assert figures[figure] == sum(f[figure] for leaf, f in leaves.items()
                                          if leaf.startswith(child[:9]))
            sub_total, leaves_of_child = roll_up(child, {
                leaf: f for leaf, f in leaves.items() if leaf.startswith(child[:9])})
            assert sub_total[figure] == figures[figure]
            assert all(leaves_of_child[leaf][figure] == f[figure]
                       for leaf, f in leaves.items() if leaf.startswith(child[:9]))


organization = st.fixed_dictionaries({
    "committee": committees,
    "certificate_days": st.sampled_from([-30, -1, 0, 45, 90, 91, 400]),
    "listed": st.booleans(),
    "high_risk": st.booleans(),
    "warnings": st.lists(st.sampled_from(["low", "medium", "high"]), max_size=2),
})
districts = itertools.count(1)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(organization, min_size=1, max_size=12))
def test_leaf_figures_count_the_flagged_organizations(pg_app, postgres_env, orgs):
    division = f"31{next(districts):04d}"  # a district of its own for each example
    district = division + "000000"
    for n, spec in enumerate(orgs):
        identifier = make_credit_code("1", division, f"PB{n:07d}")
        jurisdiction = division + spec["committee"]
        pg_app.register_organization(
            meta=meta("2020-01-01"), code=identifier, name=f"o{n}",
            org_type="social_association",
            domicile={"address": "x", "jurisdiction": jurisdiction}, business_scope="s",
            registered_funds=Decimal(1), supervisory_unit=None, founded_on=date(2020, 1, 1),
            certificate_valid_until=TODAY + timedelta(days=spec["certificate_days"]))
        if spec["listed"]:
            pg_app.execute(identifier, "credit_listing", meta=meta(reason="x"),
                           credit_list="abnormal_activity")
        if spec["high_risk"]:
            pg_app.execute(identifier, "major_event", meta=meta("2024-01-01"),
                           category="other", planned_date=date(2024, 3, 1), description="d",
                           sent_to=["registration_authority"])
            pg_app.execute(identifier, "major_event_review", meta=meta("2024-01-02"),
                           report_id="ME1", opinion="o", risk_level="high")
        for i, severity in enumerate(spec["warnings"]):
            pg_app.raise_warning(organization=identifier, severity=severity, source="tip_off",
                                 title="t", description="d", key=f"{identifier}:{i}",
                                 meta=meta(TODAY.isoformat()))
    catch_up(postgres_env, "casefiles")
    catch_up(postgres_env, "network")
    view = open_view(postgres_env, "network")
    try:
        leaves = view.leaf_figures(division, TODAY,
                                   certificate_expiry=pg_app.rule("certificate_expiry"))
    finally:
        view.datastore.close()
    expected: dict[str, dict[str, int]] = {}
    for spec in orgs:
        leaf = expected.setdefault(division + spec["committee"], dict.fromkeys(FIGURES, 0))
        days = spec["certificate_days"]
        leaf["organizations"] += 1
        leaf["certificates_expired"] += days < 0
        leaf["certificates_expiring"] += 0 <= days <= 90
        leaf["credit_listed"] += spec["listed"]
        leaf["high_risk_major_events"] += spec["high_risk"]
        leaf["warnings_active"] += len(spec["warnings"])
        for severity in spec["warnings"]:
            leaf[f"warnings_{severity}"] += 1
        leaf["warnings_age_0_3"] += len(spec["warnings"])
    for committee, figures in expected.items():
        for figure, count in figures.items():
            assert leaves[committee].get(figure, 0) == count, (committee, figure)
    total, children = roll_up(district, leaves)
    for figure in FIGURES:
        assert total[figure] == sum(f[figure] for f in expected.values())
