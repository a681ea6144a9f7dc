"""Use cases of the early-warning network, and the rules engine.

The rules engine evaluates the rules of DOMAIN.md section 5 in two ways:
- rules that follow events run over the recorded log; what an event makes them decide is
  saved together with the tracking position of that event (``tracking``), so every event
  is evaluated exactly once;
- rules that depend on dates run from a daily clock, one transaction per day together
  with the clock's own ``Ticked`` event, so a day is never evaluated twice and a clock that
  missed days evaluates each of them.
Every firing is an event whose actor is the rule and its version (``rule:NAME@vN``).
Decisions with legal effect are proposals, which staff confirm or reject.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from domain.errors import DomainError, NotFound, RuleViolation
from services.errors import VersionConflict
from domain.meta import Meta
from domain.network import CLOCK_ID, Clock, EarlyWarning, NetworkNode, Proposal
from domain.organization import Organization, add_years, is_exempt_year
from domain.rules import CATALOG, Rule, rule_id

RULES_TRACKING = "rules"


def months_later(d: date, months: int) -> date:
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)


def working_days_after(d: date, days: int) -> date:
    while days > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


class NetworkUseCases:
    """Mixed into CaseFiles: the network's commands."""

    # ------------------------------------------------------------------ nodes

    def get_node(self, code: str) -> NetworkNode:
        try:
            return self.repository.get(NetworkNode.create_id(code))
        except AggregateNotFoundError:
            raise NotFound(f"no network node {code}", rule="unknown_node", field="code") from None

    def establish_node(self, *, code: str, name: str, meta: Meta) -> NetworkNode:
        node = NetworkNode.establish(code=code, name=name, meta=meta)
        try:
            self.save(node)
        except IntegrityError:
            raise RuleViolation(f"node {code} already exists", rule="node_exists",
                                field="code") from None
        return node

    def assign_officer(self, code: str, username: str, meta: Meta, *, remove: bool = False):
        node = self.get_node(code)
        self.get_account(username)
        if remove:
            node.remove_officer(username=username, meta=meta)
        else:
            node.assign_officer(username=username, meta=meta)
        self.save(node)
        return node

    # --------------------------------------------------------------- warnings

    def get_warning(self, warning_id: UUID) -> EarlyWarning:
        try:
            return self.repository.get(warning_id)
        except AggregateNotFoundError:
            raise NotFound(f"no warning {warning_id}", rule="unknown_warning",
                           field="id") from None

    def raise_warning(self, *, organization: str, severity: str, source: str, title: str,
                      description: str, key: str, meta: Meta) -> EarlyWarning:
        org = self.get_organization(organization)
        if org.is_closed:
            raise RuleViolation(f"{org.identifier} is {org.status}",
                                rule="closed_organization")
        warning = EarlyWarning.raise_(key=key, organization=org.identifier,
                                      jurisdiction=org.domicile["jurisdiction"],
                                      severity=severity, source=source, title=title,
                                      description=description, rule=None, meta=meta)
        try:
            recordings = self.save(warning)
        except IntegrityError:
            return self.get_warning(warning.id)
        warning.position = recordings[-1].notification.id
        return warning

    def handle_warning(self, warning_id: UUID, action: str, *, meta: Meta,
                       note: str | None = None, expected_version: int | None = None):
        warning = self.get_warning(warning_id)
        if expected_version is not None and warning.version != expected_version:

            raise VersionConflict(f"the warning is at version {warning.version}",
                                  rule="expected_version")
        if action == "acknowledgement":
            warning.acknowledge(meta=meta)
        elif action == "escalation":
            warning.escalate(rule=None, meta=meta)
        else:
            warning.resolve(note=note or "", meta=meta)
        try:
            recordings = self.save(warning)
        except IntegrityError:

            raise VersionConflict("the warning was changed meanwhile; read it again",
                                  rule="expected_version") from None
        warning.position = recordings[-1].notification.id
        return warning

    # ------------------------------------------------------------------ rules

    def rules(self) -> dict[str, Rule]:
        """Every rule of the catalog: as recorded, or its defaults if never recorded."""
        found = {}
        for name in CATALOG:
            try:
                found[name] = self.repository.get(rule_id(name))
            except AggregateNotFoundError:
                found[name] = Rule.define(name, Meta("system", "system", date(2000, 1, 1),
                                                     "catalog"))
                found[name].collect_events()
        return found

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

    # -------------------------------------------------------------- proposals

    def get_proposal(self, proposal_id: UUID) -> Proposal:
        try:
            return self.repository.get(proposal_id)
        except AggregateNotFoundError:
            raise NotFound(f"no proposal {proposal_id}", rule="unknown_proposal",
                           field="id") from None

    def decide_proposal(self, proposal_id: UUID, *, confirm: bool, meta: Meta):
        """Confirmation records the decision on the organization in the same transaction."""
        proposal = self.get_proposal(proposal_id)
        if not confirm:
            proposal.reject(meta=meta)
            recordings = self.save(proposal)
            return proposal, recordings[-1].notification.id
        proposal.confirm(meta=meta)
        org = self.get_organization(proposal.organization)
        why = Meta(actor_id=meta.actor_id, actor_role=meta.actor_role,
                   effective_date=meta.effective_date, correlation_id=meta.correlation_id,
                   reason=f"{proposal.reason} (proposed by {proposal.rule}, confirmed)",
                   reference=meta.reference)
        if proposal.kind == "listing":
            org.list_on_credit_list(credit_list=proposal.credit_list, meta=why)
        elif proposal.kind == "delisting":
            org.remove_from_credit_list(listing_id=proposal.listing_id, meta=why)
        else:
            org.conclude_annual_inspection(year=proposal.year, result="unqualified",
                                           findings=proposal.reason, meta=why)
        recordings = self.save(proposal, org)
        return proposal, recordings[-1].notification.id


class RulesEngine:
    """Evaluates the rules over the log (events) and over the calendar (clock)."""

    def __init__(self, app: Any):
        self.app = app
        self._rules: dict[str, Rule] | None = None

    # ---------------------------------------------------------------- helpers

    def rule(self, name: str) -> Rule:
        if self._rules is None:
            self._rules = self.app.rules()
        return self._rules[name]

    def meta(self, rule: Rule, on: date, reason: str, correlation: str) -> Meta:
        return Meta(actor_id=rule.actor, actor_role="system", effective_date=on,
                    correlation_id=correlation, reason=reason)

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.app.repository.get(aggregate_id)
            return True
        except AggregateNotFoundError:
            return False

    def warn(self, name: str, org: Organization, key: str, severity_param: str, title: str,
             on: date, correlation: str) -> list[Aggregate]:
        if self._exists(EarlyWarning.create_id(key)):
            return []
        rule = self.rule(name)
        params = rule.parameters_for(org.domicile["jurisdiction"])
        return [EarlyWarning.raise_(
            key=key, organization=org.identifier, jurisdiction=org.domicile["jurisdiction"],
            severity=params.get(severity_param, severity_param), source="rule", title=title,
            description=f"{CATALOG[name][0]}", rule=rule.actor,
            meta=self.meta(rule, on, title, correlation))]

    def propose(self, name: str, org: Organization, key: str, kind: str, reason: str,
                on: date, correlation: str, credit_list: str | None = None,
                listing_id: str | None = None, year: int | None = None) -> list[Aggregate]:
        if self._exists(Proposal.create_id(key)):
            return []
        if kind == "listing" and any(c["list"] == credit_list for c in org.active_listings()):
            return []
        rule = self.rule(name)
        return [Proposal.propose(key=key, kind=kind, organization=org.identifier,
                                 jurisdiction=org.domicile["jurisdiction"],
                                 credit_list=credit_list, listing_id=listing_id, year=year,
                                 reason=reason, rule=rule.actor,
                                 meta=self.meta(rule, on, reason, correlation))]

    # ------------------------------------------------------------ event rules

    def evaluate(self, event: Any) -> list[Aggregate]:
        """What the rules that follow events decide about one recorded event."""
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
        if not event.late:
            return []
        return self.warn("major_event_reporting", org, f"late-report:{org.identifier}:"
                         f"{event.report_id}", "severity_late",
                         f"major event {event.report_id} reported late: "
                         f"{event.required_notice_days} days' notice required",
                         event.meta.effective_date, event.meta.correlation_id)

    def on_MajorEventReviewed(self, event: Any, org: Organization) -> list[Aggregate]:
        if event.risk_level != "high":
            return []
        return self.warn("major_event_reporting", org, f"high-risk:{org.identifier}:"
                         f"{event.report_id}", "severity_high_risk",
                         f"major event {event.report_id} reviewed as high risk",
                         event.meta.effective_date, event.meta.correlation_id)

    def on_PenaltyImposed(self, event: Any, org: Organization) -> list[Aggregate]:
        jurisdiction = org.domicile["jurisdiction"]
        abnormal = self.rule("abnormal_activity_listing").parameters_for(jurisdiction)
        serious = self.rule("serious_dishonesty_listing").parameters_for(jurisdiction)
        on, corr = event.meta.effective_date, event.meta.correlation_id
        key = f"{org.identifier}:{event.decision_number}"
        amount = event.amount or Decimal(0)
        small = event.kind == "warning" or (event.kind == "fine"
                                            and amount < Decimal(str(abnormal["small_fine_limit"])))
        if event.kind in ("suspension", "revocation") or (
                event.kind == "fine" and amount >= Decimal(str(serious["large_fine_limit"]))):
            return self.propose("serious_dishonesty_listing", org, f"sd-penalty:{key}",
                                "listing", f"penalty {event.decision_number}: {event.kind}"
                                + (f" of {amount} CNY" if event.kind == "fine" else ""),
                                on, corr, credit_list="serious_dishonesty")
        if not small:
            return []
        window_start = add_years(event.decision_date, -int(serious["repeat_window_years"]))
        repeats = [p for p in org.penalties.values()
                   if (p["kind"] == "warning" or (
                       p["kind"] == "fine" and (p["amount"] or 0)
                       < Decimal(str(abnormal["small_fine_limit"]))))
                   and not p["rescinded"] and window_start <= p["decision_date"]]
        if len(repeats) >= int(serious["repeat_penalties"]):
            return self.propose("serious_dishonesty_listing", org, f"sd-repeat:{key}",
                                "listing", f"{len(repeats)} warnings or small fines within "
                                f"{serious['repeat_window_years']} years", on, corr,
                                credit_list="serious_dishonesty")
        return self.propose("abnormal_activity_listing", org, f"abn-penalty:{key}", "listing",
                            f"penalty {event.decision_number}: {event.kind}", on, corr,
                            credit_list="abnormal_activity")

    def on_RegistrationRevoked(self, event: Any, org: Organization) -> list[Aggregate]:
        return self.propose("serious_dishonesty_listing", org,
                            f"sd-revoked:{org.identifier}:{event.originator_version}",
                            "listing", "registration revoked", event.meta.effective_date,
                            event.meta.correlation_id, credit_list="serious_dishonesty")

    def on_RectificationOverdue(self, event: Any, org: Organization) -> list[Aggregate]:
        return self.propose("abnormal_activity_listing", org,
                            f"abn-rect:{org.identifier}:{event.notice_number}", "listing",
                            f"rectification {event.notice_number} not completed by its "
                            "deadline", event.meta.effective_date, event.meta.correlation_id,
                            credit_list="abnormal_activity")

    def process_pending(self, batch: int = 500, stop: int | None = None) -> int:
        """Evaluate the recorded events not yet evaluated; return how many."""
        recorder = self.app.recorder
        position = recorder.max_tracking_id(RULES_TRACKING) or 0
        done = 0
        while True:
            notifications = recorder.select_notifications(start=position + 1, limit=batch,
                                                          stop=stop)
            if not notifications:
                return done
            saved_at = position
            events = self.app.mapper.to_domain_events(notifications)
            for notification, event in zip(notifications, events):
                decided = self.evaluate(event)
                if decided:
                    self.app.save_processed(Tracking(RULES_TRACKING, notification.id),
                                            *decided)
                    saved_at = notification.id
            last = notifications[-1].id
            if saved_at < last:
                self.app.save_processed(Tracking(RULES_TRACKING, last))
            position = last
            done += len(notifications)

    # ------------------------------------------------------------- clock rules

    def tick(self, until: date, organizations: Iterable[str],
             open_warnings: Iterable[UUID], meta: Meta) -> list[date]:
        """Tick every day not yet ticked up to ``until``; return the days ticked."""
        self.app.ensure_rules(meta)
        self._rules = None
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
        return decided

    def certificate(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        until = org.certificate_valid_until
        if until is None:
            return []
        params = self.rule("certificate_expiry").parameters_for(org.domicile["jurisdiction"])
        if day > until:
            return self.warn("certificate_expiry", org, f"cert-expired:{org.identifier}:{until}",
                             "severity_expired", f"certificate expired on {until}", day, corr)
        if (until - day).days <= int(params["expiring_days"]):
            return self.warn("certificate_expiry", org,
                             f"cert-expiring:{org.identifier}:{until}", "severity_expiring",
                             f"certificate expires on {until} ({(until - day).days} days)",
                             day, corr)
        return []

    def overdue_rectifications(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        rule = self.rule("abnormal_activity_listing")
        changed = False
        for number, rectification in org.rectifications.items():
            if rectification["status"] == "open" and day > rectification["deadline"]:
                org.mark_rectification_overdue(
                    notice_number=number,
                    meta=self.meta(rule, day, f"rectification {number} not completed by "
                                   f"{rectification['deadline']}", corr))
                changed = True
        return [org] if changed else []

    def unfiled_reports(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        """Rule 4 and rule 2: the day after the deadline, a report not filed for last year
        is proposed for an unqualified conclusion and the abnormal-activity list."""
        if org.org_type == "community_organization":
            return []
        params = self.rule("annual_inspection").parameters_for(org.domicile["jurisdiction"])
        month, dd = (int(p) for p in params["registration_authority_deadline"].split("-"))
        year = day.year - 1
        if day <= date(day.year, month, dd) or year < org.registered_on.year \
                or is_exempt_year(org.registered_on, year) or str(year) in org.annual_reports:
            return []
        decided = self.propose("abnormal_activity_listing", org,
                               f"abn-report:{org.identifier}:{year}", "listing",
                               f"annual report for {year} not filed by the deadline", day, corr,
                               credit_list="abnormal_activity")
        if str(year) not in org.conclusions:
            decided += self.propose("annual_inspection", org,
                                    f"conclusion:{org.identifier}:{year}", "conclusion",
                                    f"annual report for {year} not filed by the deadline",
                                    day, corr, year=year)
        return decided

    def zombie(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        if org.org_type == "community_organization":
            return []
        params = self.rule("zombie_candidate").parameters_for(org.domicile["jurisdiction"])
        missed = int(params["missed_reports"])
        deadline_passed = day > date(day.year, 5, 31)
        last_due = day.year - 1 if deadline_passed else day.year - 2
        years = [last_due - i for i in range(missed)]
        due = [y for y in years if y >= org.registered_on.year
               and not is_exempt_year(org.registered_on, y)]
        decided = []
        if len(due) == missed and not any(str(y) in org.annual_reports for y in due):
            decided += self.warn("zombie_candidate", org,
                                 f"zombie-reports:{org.identifier}:{last_due}", "severity",
                                 f"no annual report for {min(due)}-{max(due)}", day, corr)
        inactive = int(params["inactive_years"])
        if add_years(org.latest_effective_date, inactive) <= day:
            decided += self.warn(
                "zombie_candidate", org,
                f"zombie-inactive:{org.identifier}:{org.latest_effective_date}", "severity",
                f"nothing recorded since {org.latest_effective_date}", day, corr)
        return decided

    def listings_over_time(self, org: Organization, day: date, corr: str) -> list[Aggregate]:
        jurisdiction = org.domicile["jurisdiction"]
        abnormal = self.rule("abnormal_activity_listing").parameters_for(jurisdiction)
        serious = self.rule("serious_dishonesty_listing").parameters_for(jurisdiction)
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
                        f"on the abnormal-activity list since {since}", day, corr,
                        credit_list="serious_dishonesty")
                elif (months_later(since, int(abnormal["auto_removal_months"])) <= day
                      and not open_rectifications and not later):
                    decided += self.propose(
                        "abnormal_activity_listing", org,
                        f"delist:{org.identifier}:{listing['id']}", "delisting",
                        f"{abnormal['auto_removal_months']} months on the list with nothing "
                        "to rectify", day, corr, credit_list="abnormal_activity",
                        listing_id=listing["id"])
            elif add_years(since, int(serious["removal_years"])) <= day and not later \
                    and not open_rectifications:
                decided += self.propose(
                    "serious_dishonesty_listing", org,
                    f"delist:{org.identifier}:{listing['id']}", "delisting",
                    f"{serious['removal_years']} years on the list with no new trigger", day,
                    corr, credit_list="serious_dishonesty", listing_id=listing["id"])
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
            if (day - warning.level_since).days >= days:
                warning.escalate(rule=rule.actor, meta=self.meta(
                    rule, day, f"not handled within {days} days at {warning.level} level",
                    f"clock:{day}"))
                decided.append(warning)
        return decided
