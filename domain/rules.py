"""The rules of DOMAIN.md section 5, as data: each a row with a name, a version, what
triggers it, and parameters with the defaults given there, which a jurisdiction may
override. A change of a rule is itself an event (the Rule aggregate), so every firing
can say which version of which rule fired.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.codes import jurisdiction_contains, validate_jurisdiction
from domain.errors import InvalidValue, RuleViolation
from domain.meta import Meta
from domain.texts import N_

RULE_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/rules")
CATALOG_META = Meta("system", "system", date(2000, 1, 1), "catalog")

# name -> (title, trigger, parameters with defaults)
CATALOG: dict[str, tuple[str, str, dict[str, Any]]] = {
    "record_not_changed_silently": (
        N_("A rule never changes the record silently: it records a warning or a proposal, "
           "and decisions with legal effect are confirmed or rejected by staff"),
        "principle", {}),
    "abnormal_activity_listing": (
        N_("Abnormal-activity list (活动异常名录): triggers and removal"), "events+clock",
        {"annual_report_deadline": "05-31", "small_fine_limit": 50000,
         "removal_working_days": 5, "auto_removal_months": 6}),
    "serious_dishonesty_listing": (
        N_("Serious-dishonesty list (严重违法失信名单): triggers and removal"), "events+clock",
        {"years_on_abnormal_list": 2, "large_fine_limit": 50000,
         "repeat_penalties": 2, "repeat_window_years": 3, "removal_years": 2}),
    "annual_inspection": (
        N_("Annual inspection (年检): one report and conclusion a year; not filed by the "
           "deadline is concluded unqualified"), "clock",
        {"supervisory_unit_deadline": "03-31", "registration_authority_deadline": "05-31",
         "exempt_months": 6}),
    "certificate_expiry": (
        N_("Certificate: expiring within 90 days and expired raise warnings"), "clock",
        {"expiring_days": 90, "severity_expiring": "low", "severity_expired": "medium"}),
    "zombie_candidate": (
        N_("Zombie candidate (僵尸型): no annual report two years running, or no activity "
           "for two years"), "clock",
        {"missed_reports": 2, "inactive_years": 2, "severity": "medium"}),
    "rating": (
        N_("Rating (等级评估): 1A-5A, valid 5 years, eligibility"), "command",
        {"valid_years": 5, "min_registered_years": 2}),
    "leaders": (
        N_("Leaders: bans, sanctioned organizations, retired and serving officials"),
        "command",
        {"sanctioned_years": 5, "retired_max_posts": 1, "retired_max_terms": 2,
         "retired_max_age": 70}),
    "major_event_reporting": (
        N_("Major events: reported in time; late reports and high-risk reviews raise "
           "warnings"),
        "events", {"notice_days": 15, "notice_days_leadership": 60,
                   "severity_late": "low", "severity_high_risk": "high"}),
    "double_random_sampling": (
        N_("Double-random sampling (双随机): ratios by authority level, high-risk ratio, "
           "inspectors per on-site check"), "command",
        {"ratio_district": 0.03, "ratio_city": 0.04, "ratio_province": 0.05,
         "ratio_high_risk": 0.10, "on_site_ratio": 0.005, "inspectors_per_check": 2}),
    "warning_escalation": (
        N_("Escalation: not handled within 3 days at committee level goes to the "
           "sub-district, within 7 days at sub-district level to the district"), "clock",
        {"committee_days": 3, "sub_district_days": 7}),
    "credit_objection": (
        N_("Objections (异议) to credit information decided within 10 working days; an "
           "objection past its deadline raises a warning"), "command+clock",
        {"decision_working_days": 10, "severity_overdue": "medium"}),
    "timeliness": (
        N_("Credit information recorded within 5 working days of the decision; late entries "
           "are shown"), "events", {"working_days": 5}),
}


# One rule's parameters for one jurisdiction, as a command receives them: the domain
# methods that apply a rule take them as a keyword argument named after the rule (e.g.
# ``report_major_event(..., major_event_reporting=...)``), so a method's signature says
# which rules it applies, and the service reads them from the Rule when the command runs.
Parameters = Mapping[str, Any]


def rule_id(name: str) -> UUID:
    return uuid5(RULE_NAMESPACE, name)


def defaults(name: str) -> dict[str, Any]:
    """The catalog's parameters of a rule (what ``Rule.define`` records as version 1)."""
    return dict(CATALOG[name][2])


class Rule(Aggregate):
    """One rule: its current parameters and per-jurisdiction overrides, versioned."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return rule_id(name)

    @event("Defined")
    def __init__(self, name: str, title: str, trigger: str, parameters: dict, meta: Meta):
        self.name = name
        self.title = title
        self.trigger = trigger
        self.parameters = parameters
        self.overrides: dict[str, dict] = {}
        self.rule_version = 1

    @classmethod
    def define(cls, name: str, meta: Meta) -> "Rule":
        title, trigger, parameters = CATALOG[name]
        return cls(name=name, title=title, trigger=trigger, parameters=dict(parameters),
                   meta=meta)

    @classmethod
    def from_catalog(cls, name: str) -> "Rule":
        """The rule as the catalog defines it (version 1), not recorded: what applies
        while it has never been recorded."""
        rule = cls.define(name, CATALOG_META)
        rule.collect_events()
        return rule

    def change(self, *, parameters: dict | None, jurisdiction: str | None,
               meta: Meta) -> None:
        """Change defaults (no jurisdiction) or one jurisdiction's overrides. Only known
        parameters, with values of the default's type."""
        if not meta.reason:
            raise InvalidValue("reason must say why the rule changes", field="reason")
        if jurisdiction is not None:
            validate_jurisdiction(jurisdiction)
        parameters = parameters or {}
        if not parameters:
            raise InvalidValue("parameters must change at least one value", field="parameters")
        for key, value in parameters.items():
            if key not in self.parameters:
                raise RuleViolation(f"parameters.{key} is not a parameter of {self.name}; "
                                    f"known: {', '.join(sorted(self.parameters)) or 'none'}",
                                    rule="unknown_parameter", field=f"parameters.{key}")
            default = self.parameters[key]
            numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
            if numeric and (isinstance(value, bool) or not isinstance(value, (int, float))
                            or value < 0):
                raise RuleViolation(f"parameters.{key} must be a non-negative number",
                                    rule="parameter_type", field=f"parameters.{key}")
            if isinstance(default, str) and not isinstance(value, str):
                raise RuleViolation(f"parameters.{key} must be a string",
                                    rule="parameter_type", field=f"parameters.{key}")
        self._changed(parameters=parameters, jurisdiction=jurisdiction,
                      version=self.rule_version + 1, meta=meta)

    @event("Changed")
    def _changed(self, parameters: dict, jurisdiction: str | None, version: int,
                 meta: Meta) -> None:
        if jurisdiction is None:
            self.parameters = {**self.parameters, **parameters}
        else:
            self.overrides[jurisdiction] = {**self.overrides.get(jurisdiction, {}),
                                            **parameters}
        self.rule_version = version

    def parameters_for(self, jurisdiction: str | None) -> dict:
        """Defaults, overridden by every node on the way down to the jurisdiction
        (district, then sub-district, then committee)."""
        values = dict(self.parameters)
        if jurisdiction is not None:
            for node in sorted(self.overrides, key=lambda c: len(c.rstrip("0"))):
                if jurisdiction_contains(node, jurisdiction):
                    values.update(self.overrides[node])
        return values

    def by_jurisdiction(self, key: str) -> tuple[Any, list[tuple[str, Any]]]:
        """One parameter's default and the jurisdictions that override it, the most
        specific first (so the first that contains a jurisdiction is the one in force):
        for a reader that decides many jurisdictions at once (a network view's SQL)."""
        nodes = sorted((node for node, values in self.overrides.items() if key in values),
                       key=lambda c: len(c.rstrip("0")), reverse=True)
        return self.parameters[key], [(node, self.overrides[node][key]) for node in nodes]

    @property
    def label(self) -> str:
        """The rule and its version, as an event records that it applied them."""
        return f"{self.name}@v{self.rule_version}"

    @property
    def actor(self) -> str:
        """How a firing names its actor: the rule and its version."""
        return f"rule:{self.label}"
