"""Double-random inspection plans, no database: the draw is deterministic, meets the
ratios of rule 10, assigns distinct inspectors, and a recorded plan verifies itself."""

from __future__ import annotations

import dataclasses
import random

import pytest
from eventsourcing.application import AggregateNotFoundError

from domain.errors import InvalidValue, RuleViolation
from domain.inspection_plan import (ALGORITHM, InspectionPlan, Ratios, default_authority_level,
                                    draw, share)
from domain.rules import CATALOG
from tests.conftest import meta
from tests.support import DISTRICT, SUB_DISTRICT, code

PARAMETERS = CATALOG["double_random_sampling"][2]
DISTRICT_RATIOS = Ratios.from_parameters(PARAMETERS, "district")
POPULATION = [code(n) for n in range(1, 201)]
HIGH_RISK = POPULATION[::10]  # 20 of 200
INSPECTORS = [f"inspector-{i}" for i in range(1, 9)]


def shuffled(items: list[str], seed: int) -> list[str]:
    items = list(items)
    random.Random(seed).shuffle(items)
    return items


def planned(number: str = "2024-001", seed: int = 42, **overrides) -> InspectionPlan:
    args = dict(number=number, jurisdiction=DISTRICT, seed=seed, population=POPULATION,
                high_risk=HIGH_RISK, inspectors=INSPECTORS, rule_parameters=PARAMETERS,
                rule_version=1, meta=meta("2024-03-01"))
    args.update(overrides)
    return InspectionPlan.plan(**args)


def test_the_same_inputs_in_any_order_draw_the_same():
    first = draw(42, POPULATION, HIGH_RISK, INSPECTORS, DISTRICT_RATIOS)
    again = draw(42, shuffled(POPULATION, 1), shuffled(HIGH_RISK, 2),
                 shuffled(INSPECTORS, 3), DISTRICT_RATIOS)
    assert again == first
    assert first.drawn == sorted(first.drawn) and first.on_site == sorted(first.on_site)


def test_another_seed_draws_differently():
    first = draw(42, POPULATION, HIGH_RISK, INSPECTORS, DISTRICT_RATIOS)
    other = draw(43, POPULATION, HIGH_RISK, INSPECTORS, DISTRICT_RATIOS)
    assert other.drawn != first.drawn


@pytest.mark.parametrize("level,ratio", [("district", 0.03), ("city", 0.04),
                                         ("province", 0.05)])
def test_the_drawn_share_meets_the_ratios(level, ratio):
    result = draw(7, POPULATION, HIGH_RISK, INSPECTORS, Ratios.from_parameters(PARAMETERS, level))
    drawn_high = set(result.drawn) & set(HIGH_RISK)
    drawn_normal = set(result.drawn) - set(HIGH_RISK)
    assert len(drawn_normal) >= ratio * 180 and len(drawn_normal) == share(ratio, 180)
    assert len(drawn_high) >= 0.10 * 20 and len(drawn_high) == 2
    assert set(result.drawn) <= set(POPULATION)
    assert len(result.drawn) == len(set(result.drawn))


def test_shares_are_exact_and_round_up():
    assert share(0.07, 100) == 7  # 0.07 * 100 is 7.000000000000001 in floating point
    assert share(0.03, 1) == 1
    assert share(0.03, 0) == 0
    assert share(2.0, 5) == 5


def test_on_site_is_at_least_the_on_site_ratio_and_at_least_one():
    result = draw(42, POPULATION, HIGH_RISK, INSPECTORS, DISTRICT_RATIOS)
    assert len(result.on_site) >= 0.005 * len(POPULATION) and len(result.on_site) >= 1
    assert set(result.on_site) <= set(result.drawn)
    small = draw(1, POPULATION[:10], [], INSPECTORS, DISTRICT_RATIOS)
    assert len(small.drawn) == 1 and small.on_site == small.drawn
    many = draw(1, [code(n) for n in range(1, 1001)], [], INSPECTORS, DISTRICT_RATIOS)
    assert len(many.on_site) == 5


def test_empty_groups_draw_none():
    assert draw(1, [], [], INSPECTORS, DISTRICT_RATIOS) == draw(2, [], [], INSPECTORS,
                                                                 DISTRICT_RATIOS)
    assert draw(1, [], [], INSPECTORS, DISTRICT_RATIOS).drawn == []
    only_risky = draw(1, HIGH_RISK, HIGH_RISK, INSPECTORS, DISTRICT_RATIOS)
    assert len(only_risky.drawn) == 2


def test_each_drawn_organization_gets_distinct_inspectors_from_the_pool():
    result = draw(42, POPULATION, HIGH_RISK, INSPECTORS, DISTRICT_RATIOS)
    assert set(result.assignments) == set(result.drawn)
    for inspectors in result.assignments.values():
        assert len(inspectors) >= 2 and len(set(inspectors)) == len(inspectors)
        assert set(inspectors) <= set(INSPECTORS)
    three = dataclasses.replace(DISTRICT_RATIOS, inspectors_per_check=3)
    assert all(len(set(i)) == 3
               for i in draw(42, POPULATION, HIGH_RISK, INSPECTORS, three).assignments.values())


def test_a_pool_smaller_than_inspectors_per_check_is_refused():
    with pytest.raises(RuleViolation) as refused:
        draw(42, POPULATION, HIGH_RISK, ["only-one"], DISTRICT_RATIOS)
    assert refused.value.rule == "two_inspectors_on_site"
    with pytest.raises(RuleViolation):
        planned(inspectors=["a", "b"], rule_parameters={**PARAMETERS,
                                                        "inspectors_per_check": 3})


def test_bad_inputs_are_refused():
    with pytest.raises(InvalidValue) as outside:
        draw(42, POPULATION[:5], [code(999)], INSPECTORS, DISTRICT_RATIOS)
    assert outside.value.field == "high_risk"
    for seed in (-1, True, 2 ** 63, "42"):
        with pytest.raises(InvalidValue):
            draw(seed, POPULATION, HIGH_RISK, INSPECTORS, DISTRICT_RATIOS)
    with pytest.raises(InvalidValue) as committee:
        planned(jurisdiction="310110001001")
    assert committee.value.field == "jurisdiction"
    with pytest.raises(InvalidValue) as repeated:
        planned(inspectors=["a", "b", "a"])
    assert repeated.value.field == "inspectors"
    with pytest.raises(RuleViolation):
        planned(population=[], high_risk=[])
    with pytest.raises(InvalidValue) as lower:
        planned(jurisdiction="310000000000", authority_level="district")
    assert lower.value.field == "authority_level"


def test_the_authority_level_defaults_from_the_jurisdiction_and_sets_the_ratio():
    assert default_authority_level(DISTRICT) == "district"
    assert default_authority_level(SUB_DISTRICT) == "district"
    assert default_authority_level("310100000000") == "city"
    assert default_authority_level("310000000000") == "province"
    assert planned().authority_level == "district"
    assert planned().ratios["ratio"] == 0.03
    city = planned(authority_level="city")
    assert city.ratios["ratio"] == 0.04
    assert len(set(city.drawn) - set(HIGH_RISK)) == share(0.04, 180)


def test_the_planned_event_records_everything_to_redraw():
    plan = planned()
    (event,) = plan.collect_events()
    assert type(event).__name__ == "Planned"
    assert plan.id == InspectionPlan.create_id("2024-001")
    for name in ("number", "jurisdiction", "authority_level", "seed", "population",
                 "high_risk", "inspectors", "ratios", "rule", "rule_version", "algorithm",
                 "drawn", "on_site", "assignments", "meta"):
        assert hasattr(event, name), name
    assert event.population == sorted(POPULATION) and event.high_risk == sorted(HIGH_RISK)
    assert event.algorithm == ALGORITHM and event.rule == "double_random_sampling"
    replayed = event.mutate(None)
    assert replayed.verify() is True
    assert (replayed.drawn, replayed.on_site, replayed.assignments) == (
        plan.drawn, plan.on_site, plan.assignments)
    # The same inputs give the same plan, whatever the order they came in.
    other = planned("2024-002", population=shuffled(POPULATION, 5),
                    high_risk=shuffled(HIGH_RISK, 6), inspectors=shuffled(INSPECTORS, 7))
    assert (other.drawn, other.on_site, other.assignments) == (
        plan.drawn, plan.on_site, plan.assignments)


def tampered(**changes) -> InspectionPlan:
    (event,) = planned().collect_events()
    return dataclasses.replace(event, **changes).mutate(None)


def test_verify_detects_a_tampered_event():
    plan = planned()
    outsider = next(c for c in POPULATION if c not in plan.drawn)
    swapped = [outsider] + plan.drawn[1:]
    assert not tampered(drawn=swapped).verify()
    assert tampered(drawn=swapped).discrepancies() == ["drawn"]
    assert not tampered(seed=43).verify()
    assert not tampered(on_site=plan.drawn[-1:] if plan.on_site != plan.drawn[-1:]
                        else plan.drawn[:1]).verify()
    first = plan.drawn[0]
    others = [i for i in INSPECTORS if i not in plan.assignments[first]][:2]
    assert not tampered(assignments={**plan.assignments, first: others}).verify()
    assert not tampered(population=[c for c in POPULATION if c != first]).verify()
    assert not tampered(ratios={**plan.ratios, "ratio": 0.05}).verify()
    assert tampered(ratios={"ratio": 0.03}).discrepancies() == ["inputs"]


# ------------------------------------------------- the use case, on the in-memory store

def test_plan_inspections_records_the_plan_once_and_uses_the_recorded_rule(memory_app):
    from domain.errors import Conflict, NotFound
    from domain.rules import Rule, rule_id
    from services.inspection_plans import get_plan, plan_inspections

    args = dict(jurisdiction=DISTRICT, seed=42, inspectors=INSPECTORS, authority_level=None,
                population=POPULATION, high_risk=HIGH_RISK, meta=meta("2024-03-01"))
    plan = plan_inspections(memory_app, number="2024-001", **args)
    assert plan.rule_version == 1 and plan.ratios["ratio"] == 0.03
    with pytest.raises(AggregateNotFoundError):  # the catalog defaults were not recorded
        memory_app.repository.get(rule_id("double_random_sampling"))
    stored = get_plan(memory_app, "2024-001")
    assert stored.verify() and stored.drawn == plan.drawn and stored.seed == 42
    with pytest.raises(Conflict) as duplicate:
        plan_inspections(memory_app, number="2024-001", **args)
    assert duplicate.value.rule == "duplicate_plan_number"
    with pytest.raises(NotFound):
        get_plan(memory_app, "2024-404")

    rule = Rule.define("double_random_sampling", meta("2024-01-01"))
    rule.change(parameters={"ratio_district": 0.05}, jurisdiction=DISTRICT,
                meta=meta("2024-01-01", reason="seed city sets 5%"))
    memory_app.save(rule)
    stricter = plan_inspections(memory_app, number="2024-002", **args)
    assert stricter.rule_version == 2 and stricter.ratios["ratio"] == 0.05
    assert len(set(stricter.drawn) - set(HIGH_RISK)) == share(0.05, 180)
    assert get_plan(memory_app, "2024-002").verify()
