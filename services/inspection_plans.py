"""The use cases of double-random inspection plans (双随机抽查): plan one, read one.

The population is every active organization under the plan's jurisdiction, and its
high-risk subset those with a risk flag of ``HIGH_RISK_FLAGS`` or a network flag of
``NETWORK_HIGH_RISK_FLAGS``, as the register (a port: ``Register``, the read models
caught up with every recorded event) shows them when the plan is drawn; the plan records
both, so what was drawn from is part of the record whatever the read model says later.

The sampling rule: if the ``double_random_sampling`` Rule has been recorded, its
parameters for the jurisdiction and its version are used. If it has not, the catalog
defaults are used as version 1 (what ``Rule.define`` would record) *without* recording
the rule: defining a rule is the rules administrator's act, not a side effect of
planning, and the plan records the ratios it used, so it stays verifiable either way.
"""

from __future__ import annotations

from typing import Iterable, Protocol

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from domain.errors import Conflict, NotFound, RuleViolation
from domain.codes import jurisdiction_prefix
from domain.inspection_plan import (HIGH_RISK_FLAGS, SAMPLING_RULE, InspectionPlan, plan_id,
                                    plan_outcome)
from domain.meta import Meta
from domain.rules import Rule, rule_id


NETWORK_HIGH_RISK_FLAGS = ("zombie_candidate", "warning_high")  # the network's flags
PAGE = 500


class Register(Protocol):
    """The register as the read models show it, caught up with every event recorded
    before the plan is drawn (a plan drawn from a stale population would be recorded as
    if it were the register). Each answers (total, a page of rows with ``identifier``
    and, for the active ones, ``risk_flags``)."""

    def active(self, prefix: str, limit: int, offset: int) -> tuple[int, list[dict]]:
        """The active organizations under a jurisdiction prefix."""

    def flagged(self, prefix: str, flag: str, limit: int, offset: int
                ) -> tuple[int, list[dict]]:
        """The organizations under a prefix with a network flag, today."""


def _every(page) -> Iterable[dict]:
    offset = 0
    while True:
        total, rows = page(offset)
        yield from rows
        offset += len(rows)
        if not rows or offset >= total:
            return


def population(register: Register, jurisdiction: str) -> tuple[list[str], list[str]]:
    """Every active organization under the jurisdiction, and the high-risk ones."""
    prefix = jurisdiction_prefix(jurisdiction)
    everyone: set[str] = set()
    high_risk: set[str] = set()
    for row in _every(lambda offset: register.active(prefix, PAGE, offset)):
        everyone.add(row["identifier"])
        if set(row["risk_flags"] or ()) & set(HIGH_RISK_FLAGS):
            high_risk.add(row["identifier"])
    for flag in NETWORK_HIGH_RISK_FLAGS:
        high_risk.update(row["identifier"] for row in _every(
            lambda offset: register.flagged(prefix, flag, PAGE, offset))
            if row["identifier"] in everyone)
    return sorted(everyone), sorted(high_risk)


def draw_inspection_plan(casefiles: Application, *, register: Register, number: str,
                         jurisdiction: str, seed: int, inspectors: Iterable[str],
                         authority_level: str | None, meta: Meta) -> InspectionPlan:
    """Draw a plan from the register's population under the jurisdiction."""
    drawn_from, high_risk = population(register, jurisdiction)
    return plan_inspections(casefiles, number=number, jurisdiction=jurisdiction, seed=seed,
                            inspectors=inspectors, authority_level=authority_level,
                            population=drawn_from, high_risk=high_risk, meta=meta)


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


def publish_plan_results(casefiles: Application, *, number: str,
                         meta: Meta) -> InspectionPlan:
    """Publish a plan's results (双随机一公开): each drawn organization's outcome as its
    case file shows it (``plan_outcome``), once every one of them has an inspection
    recorded against the plan; until then refused, naming the ones not yet inspected."""
    plan = get_plan(casefiles, number)
    results, waiting = [], []
    for identifier in plan.drawn:
        org = casefiles.get_organization(identifier, shared=True)
        outcome = plan_outcome(number, org.inspections, org.rectifications.values(),
                               org.penalties.values())
        if outcome is None:
            waiting.append(identifier)
        else:
            results.append({"identifier": identifier, "name": org.name, **outcome})
    if waiting:
        raise RuleViolation(f"{len(waiting)} drawn organization(s) have no inspection "
                            f"recorded against plan {number} yet: {', '.join(waiting[:5])}",
                            rule="inspections_not_concluded", field="number")
    plan.publish_results(results, meta)
    try:
        casefiles.save(plan)
    except IntegrityError:  # published concurrently
        raise Conflict(f"the results of plan {number} were published meanwhile",
                       rule="already_published") from None
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
