"""Double-random inspection plans (双随机抽查, DOMAIN.md section 4; rule 10 of section 5).

Random organizations, random inspectors: a plan draws organizations from the active
population of a jurisdiction at the ratios of the ``double_random_sampling`` rule (by the
authority level that runs it, and a separate ratio for the high-risk ones), picks an
on-site subset, and assigns each drawn organization its inspectors from a pool.

The draw is a pure function of its recorded inputs (seed, population, high-risk subset,
inspector pool, ratios), so the ``Planned`` event carries all of them and anyone can
re-run the draw and compare (``InspectionPlan.verify``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from math import ceil
from typing import Iterable
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.codes import jurisdiction_level, validate_jurisdiction
from domain.errors import Conflict, InvalidValue, RuleViolation
from domain.meta import Meta

PLAN_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/inspection-plans")

SAMPLING_RULE = "double_random_sampling"
AUTHORITY_LEVELS = ("district", "city", "province")
# The read model's risk flags that make an organization high-risk for the sampling ratio.
HIGH_RISK_FLAGS = ("credit_listed", "overdue_rectification", "high_risk_major_event",
                   "unqualified", "zombie_candidate")
# Names the procedure below; a changed procedure gets a new name, and verify() re-runs the
# one a plan recorded.
ALGORITHM = "python-random-sample/v1"
MAX_SEED = 2 ** 63 - 1
# What a published plan says of each drawn organization (双随机一公开): its inspection found
# no problem, or a rectification was ordered, or a penalty imposed after it.
OUTCOMES = ("no_problem_found", "rectification_ordered", "penalty")


@dataclass(frozen=True)
class Ratios:
    """The rule parameters a draw uses: the sampling ratio of the authority level, the
    high-risk ratio, the on-site ratio (of the population) and inspectors per check."""

    ratio: float
    ratio_high_risk: float
    on_site_ratio: float
    inspectors_per_check: int

    @classmethod
    def from_parameters(cls, parameters: dict, authority_level: str) -> "Ratios":
        return cls(ratio=parameters[f"ratio_{authority_level}"],
                   ratio_high_risk=parameters["ratio_high_risk"],
                   on_site_ratio=parameters["on_site_ratio"],
                   inspectors_per_check=int(parameters["inspectors_per_check"]))

    @classmethod
    def from_dict(cls, d: dict) -> "Ratios":
        return cls(**d)

    def as_dict(self) -> dict:
        return {"ratio": self.ratio, "ratio_high_risk": self.ratio_high_risk,
                "on_site_ratio": self.on_site_ratio,
                "inspectors_per_check": self.inspectors_per_check}


@dataclass(frozen=True)
class Draw:
    """What a draw picked: organizations (sorted), the on-site subset (sorted), and each
    drawn organization's inspectors (in the order they were drawn)."""

    drawn: list[str]
    on_site: list[str]
    assignments: dict[str, list[str]]


def share(ratio: float, count: int) -> int:
    """ceil(ratio x count), in exact arithmetic (0.07 x 100 is 7, not 8), at most count."""
    return min(count, ceil(Fraction(str(ratio)) * count))


def draw(seed: int, population: Iterable[str], high_risk: Iterable[str],
         inspectors: Iterable[str], ratios: Ratios) -> Draw:
    """The draw: only ``random.Random(seed)``, over sorted inputs, so the same inputs in
    any order give the same draw.

    ceil(ratio x normal) of the organizations that are not high-risk, ceil(ratio_high_risk
    x high-risk) of the high-risk ones, an on-site subset of ceil(on_site_ratio x
    population) of the drawn (at least one if any was drawn), and for each drawn
    organization ``inspectors_per_check`` distinct inspectors from the pool."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidValue(f"seed must be a whole number from 0 to {MAX_SEED}", field="seed")
    everyone = sorted(set(population))
    risky = sorted(set(high_risk))
    outside = sorted(set(risky) - set(everyone))
    if outside:
        raise InvalidValue(f"high_risk must be part of the population; {outside[0]} is not",
                           field="high_risk")
    normal = sorted(set(everyone) - set(risky))
    pool = sorted(set(inspectors))
    per_check = max(1, ratios.inspectors_per_check)
    if len(pool) < per_check:
        raise RuleViolation(
            f"each check needs {per_check} distinct inspectors; the pool has {len(pool)}",
            rule="two_inspectors_on_site", field="inspectors")
    rng = random.Random(seed)
    drawn = sorted(rng.sample(normal, share(ratios.ratio, len(normal)))
                   + rng.sample(risky, share(ratios.ratio_high_risk, len(risky))))
    on_site_count = min(len(drawn), max(1, share(ratios.on_site_ratio, len(everyone))))
    on_site = sorted(rng.sample(drawn, on_site_count))
    assignments = {identifier: rng.sample(pool, per_check) for identifier in drawn}
    return Draw(drawn=drawn, on_site=on_site, assignments=assignments)


def default_authority_level(jurisdiction: str) -> str:
    """Who plans over this jurisdiction by default: a province (省) code ends in ten
    zeros, a city (市) code in eight, anything below is the district's (区/县)."""
    if jurisdiction[2:] == "0" * 10:
        return "province"
    if jurisdiction[4:] == "0" * 8:
        return "city"
    return "district"


def validate_plan_jurisdiction(jurisdiction: object) -> str:
    """A plan covers a district (or a city/province code) or a sub-district, not a single
    committee."""
    code = validate_jurisdiction(jurisdiction)
    if jurisdiction_level(code) == "committee":
        raise InvalidValue("jurisdiction must be a district or sub-district code (a plan "
                           "does not cover a single committee)", field="jurisdiction")
    return code


def plan_outcome(number: str, inspections: Iterable[dict], rectifications: Iterable[dict],
                 penalties: Iterable[dict]) -> dict | None:
    """An organization's outcome under plan ``number``, from its case file: None while no
    inspection is recorded against the plan; else the first such inspection's date and
    whether it was on site, and ``penalty`` if a penalty (not rescinded) was decided on or
    after that date, else ``rectification_ordered`` if a rectification was ordered on or
    after it, else ``no_problem_found``."""
    under_plan = sorted((i for i in inspections if i.get("plan_id") == number),
                        key=lambda i: i["conducted_on"])
    if not under_plan:
        return None
    first = under_plan[0]
    since = first["conducted_on"]
    if any(p["decision_date"] >= since and not p["rescinded"] for p in penalties):
        outcome = "penalty"
    elif any(r["ordered_on"] >= since for r in rectifications):
        outcome = "rectification_ordered"
    else:
        outcome = "no_problem_found"
    return {"inspected_on": since, "on_site": bool(first["on_site"]), "outcome": outcome}


def plan_id(number: str) -> UUID:
    return uuid5(PLAN_NAMESPACE, number)


class InspectionPlan(Aggregate):
    """One double-random inspection plan: its draw is recorded once and never changed;
    once the drawn organizations are inspected, its results are published once
    (``ResultsPublished``), and only then are they public."""

    results: list[dict] | None = None  # each drawn organization's outcome, once published
    published_on = None  # the effective date of the publication

    @staticmethod
    def create_id(number: str) -> UUID:
        return plan_id(number)

    @event("Planned")
    def __init__(self, number: str, jurisdiction: str, authority_level: str, seed: int,
                 population: list[str], high_risk: list[str], inspectors: list[str],
                 ratios: dict, rule: str, rule_version: int, algorithm: str,
                 drawn: list[str], on_site: list[str], assignments: dict[str, list[str]],
                 meta: Meta):
        self.number = number
        self.jurisdiction = jurisdiction
        self.authority_level = authority_level
        self.seed = seed
        self.population = population
        self.high_risk = high_risk
        self.inspectors = inspectors
        self.ratios = ratios
        self.rule = rule
        self.rule_version = rule_version
        self.algorithm = algorithm
        self.drawn = drawn
        self.on_site = on_site
        self.assignments = assignments
        self.meta = meta

    @classmethod
    def plan(cls, *, number: str, jurisdiction: str, seed: int, population: Iterable[str],
             high_risk: Iterable[str], inspectors: Iterable[str], rule_parameters: dict,
             rule_version: int, meta: Meta,
             authority_level: str | None = None) -> "InspectionPlan":
        """Draw and record. ``rule_parameters`` are the rule's parameters for the
        jurisdiction (``Rule.parameters_for``); the ratios taken from them are recorded."""
        if not isinstance(number, str) or not number.strip() or "/" in number:
            raise InvalidValue("number must be a non-empty plan number without '/'",
                               field="number")
        validate_plan_jurisdiction(jurisdiction)
        lowest = default_authority_level(jurisdiction)
        level = authority_level or lowest
        if level not in AUTHORITY_LEVELS:
            raise InvalidValue(f"authority_level must be one of {', '.join(AUTHORITY_LEVELS)}",
                               field="authority_level")
        if AUTHORITY_LEVELS.index(level) < AUTHORITY_LEVELS.index(lowest):
            raise InvalidValue(f"a plan over {jurisdiction} is run by a {lowest} authority "
                               "or above", field="authority_level")
        inspectors = list(inspectors)
        if len(set(inspectors)) != len(inspectors):
            raise InvalidValue("inspectors must not repeat a name", field="inspectors")
        population = sorted(set(population))
        if not population:
            raise RuleViolation(f"there are no active organizations in {jurisdiction} to "
                                "draw from", rule=SAMPLING_RULE, field="jurisdiction")
        high_risk = sorted(set(high_risk))
        ratios = Ratios.from_parameters(rule_parameters, level)
        result = draw(seed, population, high_risk, inspectors, ratios)
        return cls(number=number, jurisdiction=jurisdiction, authority_level=level,
                   seed=seed, population=population, high_risk=high_risk,
                   inspectors=sorted(inspectors), ratios=ratios.as_dict(),
                   rule=SAMPLING_RULE, rule_version=rule_version, algorithm=ALGORITHM,
                   drawn=result.drawn, on_site=result.on_site,
                   assignments=result.assignments, meta=meta)

    def publish_results(self, results: list[dict], meta: Meta) -> None:
        """Publish the outcome for each drawn organization (``identifier``, ``name``,
        ``inspected_on``, ``on_site``, ``outcome`` of ``OUTCOMES``); once only, for every
        drawn organization and no other."""
        if self.published_on is not None:
            raise Conflict(f"the results of plan {self.number} were published on "
                           f"{self.published_on}", rule="already_published")
        given = [r["identifier"] for r in results]
        if sorted(given) != sorted(self.drawn):
            raise InvalidValue("the results must name each drawn organization once",
                               field="results")
        unknown = [r["outcome"] for r in results if r["outcome"] not in OUTCOMES]
        if unknown:
            raise InvalidValue(f"an outcome must be one of {', '.join(OUTCOMES)}, not "
                               f"{unknown[0]}", field="results")
        self._results_published(results=sorted(results, key=lambda r: r["identifier"]),
                                meta=meta)

    @event("ResultsPublished")
    def _results_published(self, results: list[dict], meta: Meta) -> None:
        self.results = results
        self.published_on = meta.effective_date

    def redraw(self) -> Draw:
        """The draw again, from what the plan recorded."""
        if self.algorithm != ALGORITHM:
            raise RuleViolation(f"plan {self.number} was drawn by {self.algorithm}, which "
                                f"this version cannot re-run", rule=SAMPLING_RULE)
        return draw(self.seed, self.population, self.high_risk, self.inspectors,
                    Ratios.from_dict(self.ratios))

    def discrepancies(self) -> list[str]:
        """The recorded parts that the re-run draw does not reproduce (empty: verified)."""
        try:
            again = self.redraw()
        except (InvalidValue, RuleViolation, KeyError, TypeError):
            return ["inputs"]
        recorded = Draw(drawn=list(self.drawn), on_site=list(self.on_site),
                        assignments={k: list(v) for k, v in self.assignments.items()})
        return [name for name in ("drawn", "on_site", "assignments")
                if getattr(again, name) != getattr(recorded, name)]

    def verify(self) -> bool:
        """Whether re-drawing from the recorded seed and population gives the recorded
        draw."""
        return not self.discrepancies()

    @property
    def ratios_used(self) -> Ratios:
        return Ratios.from_dict(self.ratios)
