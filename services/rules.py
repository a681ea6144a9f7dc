"""The rules of DOMAIN.md section 5: reading and changing them, handing their parameters to
the commands that apply them, and the engine that fires them.

Every rule parameter is read from the Rule aggregate (``parameters_for`` the jurisdiction,
with its overrides) at the moment it applies; a rule never recorded applies the catalog's
defaults as its version 1 (what ``Rule.define`` would record). A command applies a rule
when its domain method takes a keyword argument named after it (``domain.rules.
Parameters``); its events record the versions applied in ``meta.rules``.

The rules engine evaluates the rules in two ways:
- rules that follow events run over the recorded log; what an event makes them decide is
  saved together with the tracking position of that event (``tracking``), so every event
  is evaluated exactly once, with the rules as they stood at that event;
- rules that depend on dates run from a daily clock, one transaction per day together
  with the clock's own ``Ticked`` event, so a day is never evaluated twice and a clock that
  missed days evaluates each of them.
Every firing is an event whose actor is the rule and its version (``rule:NAME@vN``).
Decisions with legal effect are proposals, which staff confirm or reject.
"""

from __future__ import annotations

import copy
import inspect
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Iterable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from domain.calendar import (add_years, month_day, months_later, schedule_status,
                             working_days_after)
from domain.credit_remedies import overdue_objections, removal_blocked
from domain.errors import DomainError, NotFound
from domain.meta import Meta
from domain.network import CLOCK_ID, Clock, EarlyWarning, Proposal
from domain.organization import Organization, is_exempt_year
from domain.rules import CATALOG, Parameters, Rule, rule_id
from domain.texts import render
from domain.worklist import escalation_deadline
from services.log import recorded_pages

RULES_TRACKING = "rules"


@lru_cache(maxsize=None)
def _rules_of(function: Callable) -> tuple[str, ...]:
    return tuple(name for name in inspect.signature(function).parameters if name in CATALOG)


def rules_applied_by(command: Callable) -> tuple[str, ...]:
    """The rules a domain command applies: its keyword arguments named after a rule of
    the catalog, in the order of its signature."""
    return _rules_of(getattr(command, "__func__", command))


class RuleUseCases:
    """Mixed into the application (services.casefiles.CaseFiles)."""

    def rule(self, name: str) -> Rule:
        """The rule as recorded, or the catalog's defaults (version 1) if never recorded."""
        if name not in CATALOG:
            raise NotFound(f"no rule {name}", rule="unknown_rule", field="name")
        try:
            return self.repository.get(rule_id(name))
        except AggregateNotFoundError:
            return Rule.from_catalog(name)

    def rules(self) -> dict[str, Rule]:
        """Every rule of the catalog: as recorded, or its defaults if never recorded."""
        return {name: self.rule(name) for name in CATALOG}

    def working_days(self, today: date) -> dict:
        """The holiday schedule the rules count working days by (domain.calendar), with
        the years it does not know that a count starting ``today`` can reach under the
        rules as they stand (their longest period in working days, overrides included):
        those are counted Monday to Friday (``fallback_years``, and a ``warning`` that
        says so; None when there are none)."""
        horizon = max((int(value) for rule in self.rules().values()
                       for parameters in (rule.parameters, *rule.overrides.values())
                       for key, value in parameters.items() if key.endswith("working_days")),
                      default=0)
        status = schedule_status(today, horizon)
        years = ", ".join(map(str, status["fallback_years"]))
        return {**status, "warning": years and (
            f"Working days in {years} are counted Monday to Friday: the holiday schedule "
            f"({status['source']}) covers {status['first_year']}-{status['last_year']} "
            "only. Update it when the State Council's notice for that year is out.") or None}

    def rule_as_recorded(self, name: str) -> Callable[[datetime], Rule]:
        """The rule as it stood at a moment (its version recorded last by then; the
        catalog's defaults before it was recorded), for reading the past as it was
        decided then (a time-travel timeline's late entries)."""
        versions: list[Rule] = []
        for event in self.events.get(rule_id(name)):
            versions.append(event.mutate(copy.deepcopy(versions[-1]) if versions else None))
        catalog = Rule.from_catalog(name)

        def at(moment: datetime) -> Rule:
            return next((v for v in reversed(versions) if v.modified_on <= moment), catalog)

        return at

    def applying(self, command: Callable, jurisdiction: str,
                 meta: Meta) -> tuple[dict[str, Parameters], Meta]:
        """What a domain command needs of the rules it applies (``rules_applied_by``): each
        rule's parameters for the jurisdiction, as keyword arguments, and the meta that
        records their versions."""
        rules = [self.rule(name) for name in rules_applied_by(command)]
        return ({rule.name: rule.parameters_for(jurisdiction) for rule in rules},
                meta.applying(*(rule.label for rule in rules)))

    def ensure_rules(self, meta: Meta) -> None:
        """Record the catalog's rules that have not been recorded yet (version 1)."""
        for name in CATALOG:
            try:
                self.repository.get(rule_id(name))
            except AggregateNotFoundError:
                try:
                    self.save(Rule.define(name, meta))
                except IntegrityError:
                    pass

    def change_rule(self, name: str, *, parameters: dict, jurisdiction: str | None,
                    meta: Meta) -> Rule:
        if name not in CATALOG:
            raise NotFound(f"no rule {name}", rule="unknown_rule", field="name")
        self.ensure_rules(meta)
        rule = self.repository.get(rule_id(name))
        rule.change(parameters=parameters, jurisdiction=jurisdiction, meta=meta)
        self.save(rule)
        return rule


class RulesEngine:
    """Evaluates the rules over the log (events) and over the calendar (clock)."""

    def __init__(self, app: Any):
        self.app = app
        self._rules: dict[str, Rule] | None = None
        self._rules_position: int | None = None  # the log position the rules stand at

    # ---------------------------------------------------------------- helpers

    def rule(self, name: str) -> Rule:
        if self._rules is None:
            self._rules = self.app.rules()
        return self._rules[name]

    def parameters(self, name: str, org: Organization) -> Parameters:
        return self.rule(name).parameters_for(org.domicile["jurisdiction"])

    def _rules_at(self, position: int) -> dict[str, Rule]:
        """The rules as they stood once the event at ``position`` was recorded: a version
        recorded later is walked back (to the catalog's defaults before the first)."""
        rules = self.app.rules()
        for name, rule in rules.items():
            version = rule.version
            while version >= 1:
                recorded_at = self.app.recorder.position_of(rule.id, version)
                if recorded_at is None or recorded_at <= position:
                    break
                version -= 1
            if version != rule.version:
                rules[name] = (self.app.repository.get(rule.id, version=version)
                               if version else Rule.from_catalog(name))
        return rules

    def meta(self, rule: Rule, on: date, reason: str, correlation: str,
             also: Iterable[Rule] = ()) -> Meta:
        return Meta(actor_id=rule.actor, actor_role="system", effective_date=on,
                    correlation_id=correlation, reason=reason,
                    rules=tuple(r.label for r in also))

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.app.repository.get(aggregate_id)
            return True
        except AggregateNotFoundError:
            return False

    def warn(self, name: str, org: Organization, key: str, severity_param: str, title: str,
             on: date, correlation: str, also: Iterable[Rule] = ()) -> list[Aggregate]:
        if self._exists(EarlyWarning.create_id(key)):
            return []
        rule = self.rule(name)
        params = rule.parameters_for(org.domicile["jurisdiction"])
        return [EarlyWarning.raise_(
            key=key, organization=org.identifier, jurisdiction=org.domicile["jurisdiction"],
            severity=params.get(severity_param, severity_param), source="rule", title=title,
            description=f"{CATALOG[name][0]}", rule=rule.actor,
            meta=self.meta(rule, on, title, correlation, also))]

    def propose(self, name: str, org: Organization, key: str, kind: str, reason: str,
                on: date, correlation: str, credit_list: str | None = None,
                listing_id: str | None = None, year: int | None = None,
                also: Iterable[Rule] = ()) -> list[Aggregate]:
        if self._exists(Proposal.create_id(key)):
            return []
        if kind == "listing" and any(c["list"] == credit_list for c in org.active_listings()):
            return []
        rule = self.rule(name)
        return [Proposal.propose(key=key, kind=kind, organization=org.identifier,
                                 jurisdiction=org.domicile["jurisdiction"],
                                 credit_list=credit_list, listing_id=listing_id, year=year,
                                 reason=reason, rule=rule.actor,
                                 meta=self.meta(rule, on, reason, correlation, also))]

    # ------------------------------------------------------------ event rules

    def evaluate(self, event: Any) -> list[Aggregate]:
        """What the rules that follow events decide about one recorded event. A rule's
        own event brings that rule up to the version it records, for the events after."""
        if isinstance(event, (Rule.Defined, Rule.Changed)):
            rule = self.app.repository.get(event.originator_id,
                                           version=event.originator_version)
            self.rule(rule.name)  # (the others are loaded first)
            self._rules[rule.name] = rule
            return []
        if not isinstance(event, Organization.Event):
            return []
        kind = type(event).__name__
        handler = getattr(self, f"on_{kind}", None)
        if handler is None:
            return []
        # the organization as it stood right after this event, not as it stands now
        org = self.app.repository.get(event.originator_id, version=event.originator_version)
        return handler(event, org)

    def on_MajorEventReported(self, event: Any, org: Organization) -> list[Aggregate]:
        # (late or not was decided by the command, with the rule's version it records)
        if not event.late:
            return []
        return self.warn("major_event_reporting", org, f"late-report:{org.identifier}:"
                         f"{event.report_id}", "severity_late",
                         render("major_event_late", report=event.report_id,
                                days=event.required_notice_days),
                         event.meta.effective_date, event.meta.correlation_id)

    def on_MajorEventReviewed(self, event: Any, org: Organization) -> list[Aggregate]:
        if event.risk_level != "high":
            return []
        return self.warn("major_event_reporting", org, f"high-risk:{org.identifier}:"
                         f"{event.report_id}", "severity_high_risk",
                         render("major_event_high_risk", report=event.report_id),
                         event.meta.effective_date, event.meta.correlation_id)

    def on_PenaltyImposed(self, event: Any, org: Organization) -> list[Aggregate]:
        abnormal = self.parameters("abnormal_activity_listing", org)
        serious = self.parameters("serious_dishonesty_listing", org)
        on, corr = event.meta.effective_date, event.meta.correlation_id
        key = f"{org.identifier}:{event.decision_number}"
        amount = event.amount or Decimal(0)
        small_limit = Decimal(str(abnormal["small_fine_limit"]))
        small = event.kind == "warning" or (event.kind == "fine" and amount < small_limit)
        penalty = (render("penalty_fine", decision=event.decision_number,
                          penalty_kind=event.kind, amount=amount) if event.kind == "fine"
                   else render("penalty", decision=event.decision_number,
                               penalty_kind=event.kind))
        if event.kind in ("suspension", "revocation") or (
                event.kind == "fine" and amount >= Decimal(str(serious["large_fine_limit"]))):
            return self.propose("serious_dishonesty_listing", org, f"sd-penalty:{key}",
                                "listing", penalty, on, corr, credit_list="serious_dishonesty")
        if not small:
            return []
        window_start = add_years(event.decision_date, -int(serious["repeat_window_years"]))
        repeats = [p for p in org.penalties.values()
                   if (p["kind"] == "warning" or (
                       p["kind"] == "fine" and (p["amount"] or 0) < small_limit))
                   and not p["rescinded"] and window_start <= p["decision_date"]]
        if len(repeats) >= int(serious["repeat_penalties"]):
            return self.propose("serious_dishonesty_listing", org, f"sd-repeat:{key}",
                                "listing", render("repeated_penalties", count=len(repeats),
                                                  years=serious["repeat_window_years"]),
                                on, corr, credit_list="serious_dishonesty",
                                also=[self.rule("abnormal_activity_listing")])
        return self.propose("abnormal_activity_listing", org, f"abn-penalty:{key}", "listing",
                            penalty, on, corr, credit_list="abnormal_activity")

    def on_RegistrationRevoked(self, event: Any, org: Organization) -> list[Aggregate]:
        return self.propose("serious_dishonesty_listing", org,
                            f"sd-revoked:{org.identifier}:{event.originator_version}",
                            "listing", render("registration_revoked"),
                            event.meta.effective_date,
                            event.meta.correlation_id, credit_list="serious_dishonesty")

    def on_RectificationOverdue(self, event: Any, org: Organization) -> list[Aggregate]:
        return self.propose("abnormal_activity_listing", org,
                            f"abn-rect:{org.identifier}:{event.notice_number}", "listing",
                            render("rectification_not_completed",
                                   notice=event.notice_number),
                            event.meta.effective_date, event.meta.correlation_id,
                            credit_list="abnormal_activity")

    def on_RectificationCompleted(self, event: Any, org: Organization) -> list[Aggregate]:
        """Rule 2, removal within ``removal_working_days`` of a verified rectification: the
        last open rectification of an organization on the abnormal-activity list completed,
        its delisting is proposed (the reason names the date it is due by, under the rule
        as it stood at the completion); the clock warns while it is still pending after
        that (``removals_overdue``, under the rule as it stands)."""
        if any(r["status"] != "completed" for r in org.rectifications.values()):
            return []
        days = int(self.parameters("abnormal_activity_listing", org)["removal_working_days"])
        completed_on = org.rectifications[event.notice_number]["completed_on"]
        decided = []
        for listing in org.active_listings():
            if listing["list"] == "abnormal_activity":
                decided += self.propose(
                    "abnormal_activity_listing", org,
                    self._removal_key(org, listing, event.notice_number), "delisting",
                    render("rectification_verified", notice=event.notice_number,
                           date=completed_on, days=days,
                           due=working_days_after(completed_on, days)),
                    event.meta.effective_date,
                    event.meta.correlation_id, credit_list="abnormal_activity",
                    listing_id=listing["id"])
        return decided

    @staticmethod
    def _removal_key(org: Organization, listing: dict, notice_number: str) -> str:
        return f"delist-rect:{org.identifier}:{listing['id']}:{notice_number}"

    def process_pending(self, batch: int = 500, stop: int | None = None) -> int:
        """Evaluate the recorded events not yet evaluated; return how many."""
        recorder = self.app.recorder
        position = recorder.max_tracking_id(RULES_TRACKING) or 0
        if self._rules is None or self._rules_position != position:
            self._rules = self._rules_at(position)
        done = 0
        for page in recorded_pages(self.app, position, stop, batch):
            saved_at = position
            for event, at in page:
                decided = self.evaluate(event)
                if decided:
                    self.app.save_processed(Tracking(RULES_TRACKING, at), *decided)
                    saved_at = at
            last = page[-1][1]
            if saved_at < last:
                self.app.save_processed(Tracking(RULES_TRACKING, last))
            position = last
            self._rules_position = position
            done += len(page)
        self._rules_position = position
        return done

    # ------------------------------------------------------------- clock rules

    def tick(self, until: date, organizations: Iterable[str],
             open_warnings: Iterable[UUID], meta: Meta) -> list[date]:
        """Tick every day not yet ticked up to ``until``; return the days ticked. The
        clock applies the rules as they stand now."""
        self.app.ensure_rules(meta)
        self._rules, self._rules_position = None, None
        try:
            clock = self.app.repository.get(CLOCK_ID)
        except AggregateNotFoundError:
            clock = Clock(meta=meta)
        days = clock.days_to_tick(until)
        identifiers = list(organizations)
        warnings = list(open_warnings)
        for day in days:
            decided: list[Aggregate] = []
            for identifier in identifiers:
                try:
                    org = self.app.get_organization(identifier)
                except DomainError:
                    continue
                decided += self.clock_rules(org, day)
            decided += self.escalations(warnings, day)
            warnings += [a.id for a in decided if isinstance(a, EarlyWarning)
                         and a.version == 1 and a.id not in warnings]
            clock.tick(day=day, meta=Meta(actor_id="clock", actor_role="system",
                                          effective_date=day, correlation_id=f"clock:{day}"))
            self.app.save(clock, *decided)
        return days

    def clock_rules(self, org: Organization, day: date) -> list[Aggregate]:
        if org.is_closed:
            return []
        corr = f"clock:{day}"
        decided = []
        decided += self.certificate(org, day, corr)
        decided += self.overdue_rectifications(org, day, corr)
        decided += self.unfiled_reports(org, day, corr)
        decided += self.zombie(org, day, corr)
        decided += self.listings_over_time(org, day, corr)
        decided += self.removals_overdue(org, day, corr)
        decided += self.objections_overdue(org, day, corr)
        return decided

    def objections_overdue(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        """An objection not decided by its deadline (the ``credit_objection`` rule's
        working days after it was filed, recorded with it) raises a warning."""
        decided = []
        for objection in overdue_objections(org, day):
            decided += self.warn(
                "credit_objection", org, f"objection-overdue:{org.identifier}:"
                f"{objection['id']}", "severity_overdue",
                render("objection_overdue", objection=objection["id"],
                       date=objection["due_by"]), day, corr)
        return decided

    def certificate(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        until = org.certificate_valid_until
        if until is None:
            return []
        params = self.parameters("certificate_expiry", org)
        if day > until:
            return self.warn("certificate_expiry", org, f"cert-expired:{org.identifier}:{until}",
                             "severity_expired", render("certificate_expired", date=until),
                             day, corr)
        if (until - day).days <= int(params["expiring_days"]):
            return self.warn("certificate_expiry", org,
                             f"cert-expiring:{org.identifier}:{until}", "severity_expiring",
                             render("certificate_expiring", date=until,
                                    days=(until - day).days),
                             day, corr)
        return []

    def overdue_rectifications(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        rule = self.rule("abnormal_activity_listing")
        changed = False
        for number, rectification in org.rectifications.items():
            if rectification["status"] == "open" and day > rectification["deadline"]:
                org.mark_rectification_overdue(
                    notice_number=number,
                    meta=self.meta(rule, day, render("rectification_overdue", notice=number,
                                                     date=rectification["deadline"]), corr))
                changed = True
        return [org] if changed else []

    def unfiled_reports(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        """Rule 2 and rule 4: the day after its deadline, a report not filed for last year
        (not an exempt year of the ``annual_inspection`` rule) raises a warning where the
        organization has a supervisory unit (``supervisory_unit_deadline``; one registered
        directly has none), and is proposed for the abnormal-activity list (that rule's
        ``annual_report_deadline``) and for an unqualified conclusion
        (``registration_authority_deadline``)."""
        if org.org_type == "community_organization":
            return []
        inspection = self.rule("annual_inspection")
        inspection_params = self.parameters("annual_inspection", org)
        listing_params = self.parameters("abnormal_activity_listing", org)
        year = day.year - 1
        if year < org.registered_on.year or str(year) in org.annual_reports \
                or is_exempt_year(org.registered_on, year, inspection_params["exempt_months"]):
            return []
        decided: list[Aggregate] = []
        supervisory_deadline = month_day(inspection_params["supervisory_unit_deadline"],
                                         day.year)
        if org.supervisory_unit and day > supervisory_deadline:
            # the rule has no severity parameter for this warning: "low", as named here
            # (``warn`` takes a severity that is not a parameter's name as it is)
            decided += self.warn("annual_inspection", org,
                                 f"report-supervisory:{org.identifier}:{year}", "low",
                                 render("report_not_submitted", year=year,
                                        date=supervisory_deadline), day, corr)
        if day > month_day(listing_params["annual_report_deadline"], day.year):
            decided += self.propose("abnormal_activity_listing", org,
                                    f"abn-report:{org.identifier}:{year}", "listing",
                                    render("report_not_filed", year=year),
                                    day, corr, credit_list="abnormal_activity",
                                    also=[inspection])
        if day > month_day(inspection_params["registration_authority_deadline"], day.year) \
                and str(year) not in org.conclusions:
            decided += self.propose("annual_inspection", org,
                                    f"conclusion:{org.identifier}:{year}", "conclusion",
                                    render("report_not_filed", year=year),
                                    day, corr, year=year)
        return decided

    def zombie(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        """Rule 6: no annual report for ``missed_reports`` years due (by the deadline and
        exemption of the ``annual_inspection`` rule), or nothing recorded for
        ``inactive_years``."""
        if org.org_type == "community_organization":
            return []
        params = self.parameters("zombie_candidate", org)
        inspection = self.rule("annual_inspection")
        inspection_params = self.parameters("annual_inspection", org)
        missed = int(params["missed_reports"])
        deadline = month_day(inspection_params["registration_authority_deadline"], day.year)
        last_due = day.year - 1 if day > deadline else day.year - 2
        years = [last_due - i for i in range(missed)]
        due = [y for y in years if y >= org.registered_on.year
               and not is_exempt_year(org.registered_on, y, inspection_params["exempt_months"])]
        decided = []
        if due and len(due) == missed and not any(str(y) in org.annual_reports for y in due):
            decided += self.warn("zombie_candidate", org,
                                 f"zombie-reports:{org.identifier}:{last_due}", "severity",
                                 render("no_reports", year=min(due), last_year=max(due)),
                                 day, corr,
                                 also=[inspection])
        inactive = int(params["inactive_years"])
        if add_years(org.latest_effective_date, inactive) <= day:
            decided += self.warn(
                "zombie_candidate", org,
                f"zombie-inactive:{org.identifier}:{org.latest_effective_date}", "severity",
                render("inactive", date=org.latest_effective_date), day, corr)
        return decided

    def listings_over_time(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        """Rules 2 and 3 over time: the abnormal list escalates to the serious list, or
        ends after ``auto_removal_months`` with nothing to rectify; the serious list ends
        when removal is possible (``removal_blocked``, which a credit repair applies too:
        ``removal_years`` since the listing or the latest penalty after it)."""
        abnormal = self.parameters("abnormal_activity_listing", org)
        serious = self.parameters("serious_dishonesty_listing", org)
        decided = []
        open_rectifications = any(r["status"] != "completed"
                                  for r in org.rectifications.values())
        for listing in org.active_listings():
            since = listing["listed_on"]
            later = [p for p in org.penalties.values() if p["decision_date"] > since]
            if listing["list"] == "abnormal_activity":
                if add_years(since, int(serious["years_on_abnormal_list"])) <= day:
                    decided += self.propose(
                        "serious_dishonesty_listing", org,
                        f"sd-abnormal:{org.identifier}:{listing['id']}", "listing",
                        render("on_abnormal_list", date=since), day, corr,
                        credit_list="serious_dishonesty")
                elif (months_later(since, int(abnormal["auto_removal_months"])) <= day
                      and not open_rectifications and not later):
                    decided += self.propose(
                        "abnormal_activity_listing", org,
                        f"delist:{org.identifier}:{listing['id']}", "delisting",
                        render("abnormal_list_expired",
                               months=abnormal["auto_removal_months"]),
                        day, corr, credit_list="abnormal_activity",
                        listing_id=listing["id"])
            elif removal_blocked(org, listing, day, serious_dishonesty_listing=serious) is None:
                decided += self.propose(
                    "serious_dishonesty_listing", org,
                    f"delist:{org.identifier}:{listing['id']}", "delisting",
                    render("serious_list_expired", years=serious["removal_years"]), day,
                    corr, credit_list="serious_dishonesty", listing_id=listing["id"])
        return decided

    def removals_overdue(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        """Rule 2: a delisting proposed on a verified rectification (``on_Rectification
        Completed``) still pending ``removal_working_days`` working days after the
        completion raises a warning. The proposal is found by its key (the listing and the
        rectifications completed while it is active), so only an organization on the
        abnormal-activity list with a rectification completed since costs a read."""
        days = int(self.parameters("abnormal_activity_listing", org)["removal_working_days"])
        decided = []
        for listing in org.active_listings():
            if listing["list"] != "abnormal_activity":
                continue
            for number, rectification in org.rectifications.items():
                completed_on = rectification.get("completed_on")
                if rectification["status"] != "completed" or completed_on is None \
                        or completed_on < listing["listed_on"] \
                        or day <= working_days_after(completed_on, days):
                    continue
                try:
                    proposal = self.app.repository.get(
                        Proposal.create_id(self._removal_key(org, listing, number)))
                except AggregateNotFoundError:
                    continue
                if proposal.status == "proposed":
                    # the rule has no severity parameter for this warning: "low" (as above)
                    decided += self.warn(
                        "abnormal_activity_listing", org,
                        f"removal-overdue:{org.identifier}:{listing['id']}:{number}", "low",
                        render("removal_overdue", date=completed_on), day, corr)
        return decided

    def escalations(self, warning_ids: list[UUID], day: date) -> list[Aggregate]:
        rule = self.rule("warning_escalation")
        decided = []
        for warning_id in warning_ids:
            try:
                warning = self.app.repository.get(warning_id)
            except AggregateNotFoundError:
                continue
            if warning.status != "open" or warning.level == "district":
                continue
            params = rule.parameters_for(warning.jurisdiction)
            days = int(params["committee_days"] if warning.level == "committee"
                       else params["sub_district_days"])
            if day >= escalation_deadline(level=warning.level, level_since=warning.level_since,
                                          status=warning.status, warning_escalation=params):
                warning.escalate(rule=rule.actor, meta=self.meta(
                    rule, day, render("not_handled", days=days, level=warning.level),
                    f"clock:{day}"))
                decided.append(warning)
        return decided
