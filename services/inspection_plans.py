"""The use cases of double-random inspection plans (双随机抽查): plan one, read one.

The caller supplies the population (the active organizations under the jurisdiction) and
its high-risk subset, as of when it asks; the plan records both, so what was drawn from
is part of the record whatever the read model says later.

The sampling rule: if the ``double_random_sampling`` Rule has been recorded, its
parameters for the jurisdiction and its version are used. If it has not, the catalog
defaults are used as version 1 (what ``Rule.define`` would record) *without* recording
the rule: defining a rule is the rules administrator's act, not a side effect of
planning, and the plan records the ratios it used, so it stays verifiable either way.
"""

from __future__ import annotations

from typing import Iterable

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.errors import Conflict, NotFound
from domain.inspection_plan import SAMPLING_RULE, InspectionPlan, plan_id
from domain.meta import Meta
from domain.rules import Rule, rule_id


def sampling_rule(casefiles: Application, meta: Meta) -> Rule:
    """The recorded sampling rule, or its catalog defaults (version 1, not saved)."""
    try:
        return casefiles.repository.get(rule_id(SAMPLING_RULE))
    except AggregateNotFoundError:
        return Rule.define(SAMPLING_RULE, meta)


def plan_inspections(casefiles: Application, *, number: str, jurisdiction: str, seed: int,
                     inspectors: Iterable[str], authority_level: str | None,
                     population: Iterable[str], high_risk: Iterable[str],
                     meta: Meta) -> InspectionPlan:
    """Draw a plan at the rule's ratios for the jurisdiction and record it. A plan number
    is used once (``Conflict``)."""
    if _exists(casefiles, number):
        raise _taken(number)
    rule = sampling_rule(casefiles, meta)
    plan = InspectionPlan.plan(number=number, jurisdiction=jurisdiction, seed=seed,
                               population=population, high_risk=high_risk,
                               inspectors=inspectors, authority_level=authority_level,
                               rule_parameters=rule.parameters_for(jurisdiction),
                               rule_version=rule.rule_version, meta=meta)
    try:
        casefiles.save(plan)
    except IntegrityError:  # the same number recorded concurrently
        raise _taken(number) from None
    return plan


def get_plan(casefiles: Application, number: str) -> InspectionPlan:
    try:
        return casefiles.repository.get(plan_id(number))
    except AggregateNotFoundError:
        raise NotFound(f"no inspection plan {number}", field="number") from None


def _exists(casefiles: Application, number: str) -> bool:
    try:
        casefiles.repository.get(plan_id(number))
    except AggregateNotFoundError:
        return False
    return True


def _taken(number: str) -> Conflict:
    return Conflict(f"inspection plan {number} already exists", rule="duplicate_plan_number",
                    field="number")
