"""The Organization aggregate: one social organization's case, as a sequence of events.

Every public method is a command: it checks the rules of DOMAIN.md sections 3 and 5 that
concern this organization and then triggers one intention-revealing event (a private
method decorated with ``@event``). The event methods only apply state; they never refuse,
so replaying history always succeeds.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain import annual_report_review as review
from domain.calendar import add_years, months_later
from domain.codes import CIVIL_AFFAIRS_CATEGORIES, validate_committee, validate_credit_code
from domain.errors import Conflict, InvalidValue, NotFound, RuleViolation
from domain.meta import Meta
from domain.personal import erased
from domain.recording import StampedByRecordingClock
from domain.rules import Parameters
from domain.texts import render

ORG_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/organizations")

REGISTERED_TYPES = ("social_association", "social_service_institution", "foundation")
ORG_TYPES = REGISTERED_TYPES + ("community_organization",)
CLOSED_STATUSES = ("deregistered", "revoked", "banned")
CONCLUSIONS = ("qualified", "basically_qualified", "unqualified")
GRADES = ("1A", "2A", "3A", "4A", "5A")
MAJOR_EVENT_CATEGORIES = (
    "meeting_or_election", "important_activity", "leader_change", "charter_change",
    "domicile_change", "foreign_exchange", "large_financial_transaction", "litigation",
    "safety_incident", "other")
MAJOR_EVENT_RECIPIENTS = ("registration_authority", "supervisory_unit", "party_building_body")
RISK_LEVELS = ("none", "low", "medium", "high")
PENALTY_KINDS = ("warning", "fine", "confiscation", "suspension", "revocation")
CREDIT_LISTS = ("abnormal_activity", "serious_dishonesty")
LEADER_ROLES = ("legal_representative", "chair", "secretary_general", "supervisor", "other")
OFFICIAL_STATUSES = ("none", "serving", "retired")
CHANGEABLE_FIELDS = ("name", "domicile", "business_scope", "registered_funds", "supervisory_unit")

# The rules' parameters (DOMAIN.md section 5) are not here: a command that applies a rule
# takes its parameters as a keyword argument named after it (domain.rules.Parameters).
LEADERSHIP_CATEGORIES = ("meeting_or_election", "leader_change")


def is_exempt_year(registered_on: date, year: int, exempt_months: int) -> bool:
    """Registered less than ``exempt_months`` months before 31 December of that year: the
    year is exempt from annual inspection (rule 4, the ``annual_inspection`` rule)."""
    return (registered_on.year == year
            and registered_on > months_later(date(year, 12, 31), -int(exempt_months)))


class Organization(Aggregate):
    """A registered social organization, or a recorded (备案) community organization.

    Version 2 of its state (snapshots, and the states the read models keep): each annual
    report holds ``full_time_staff`` (issue 17); a state of version 1 reads with None
    there, as its ``AnnualReportFiled`` events do (docs/EVENTS.md, "How to change an
    event"). Version 3 (issue 16): ``objections`` and ``repair_applications`` (the credit
    remedies, domain.credit_remedies) and ``annual_report_reviews`` (the online annual
    report's drafts and pre-review, domain.annual_report_review), none in a state of
    version 2."""

    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict) -> None:
        for report in state["annual_reports"].values():
            report.setdefault("full_time_staff", None)

    @staticmethod
    def upcast_v2_v3(state: dict) -> None:
        state.setdefault("objections", {})
        state.setdefault("repair_applications", {})
        state.setdefault("annual_report_reviews", {})

    class Event(StampedByRecordingClock, Aggregate.Event):
        """Every event after creation; it remembers the latest business date applied, so a
        snapshot tells which 'as of' dates it can serve (time travel). Stamped by the
        recording clock (domain.recording), as the creation is."""

        meta: Meta

        def mutate(self, aggregate):  # type: ignore[override]
            aggregate = super().mutate(aggregate)
            aggregate.latest_effective_date = max(aggregate.latest_effective_date,
                                                  self.meta.effective_date)
            return aggregate

    class Founded(StampedByRecordingClock, Aggregate.Created):
        identifier: str
        code: str | None
        name: str
        org_type: str
        domicile: dict
        business_scope: str
        registered_funds: Decimal | None
        supervisory_unit: str | None
        founded_on: date
        certificate_valid_until: date | None
        imported: bool
        meta: Meta

    class Registered(Founded):
        """成立登记."""

    class Recorded(Founded):
        """备案 of a community organization."""

    @staticmethod
    @lru_cache(maxsize=10_000)  # every command on an organization asks (uuid5: 10 us)
    def create_id(identifier: str) -> UUID:
        return uuid5(ORG_NAMESPACE, identifier)

    def __init__(self, identifier: str, code: str | None, name: str, org_type: str,
                 domicile: dict, business_scope: str, registered_funds: Decimal | None,
                 supervisory_unit: str | None, founded_on: date,
                 certificate_valid_until: date | None, imported: bool, meta: Meta):
        self.identifier = identifier
        self.code = code
        self.name = name
        self.org_type = org_type
        self.domicile = domicile
        self.business_scope = business_scope
        self.registered_funds = registered_funds
        self.supervisory_unit = supervisory_unit
        self.founded_on = founded_on
        self.registered_on = meta.effective_date
        self.latest_effective_date = meta.effective_date
        self.certificate_valid_until = certificate_valid_until
        self.imported = imported
        self.status = "active"
        self.status_since = meta.effective_date
        self.suspended_until: date | None = None
        self.suspension_decision: str | None = None
        self.changes: list[dict] = []
        self.annual_reports: dict[str, dict] = {}
        self.annual_report_reviews: dict[str, dict] = {}
        self.conclusions: dict[str, dict] = {}
        self.level: dict | None = None
        self.major_events: dict[str, dict] = {}
        self.inspections: list[dict] = []
        self.rectifications: dict[str, dict] = {}
        self.suggestions: list[dict] = []
        self.penalties: dict[str, dict] = {}
        self.credit_listings: dict[str, dict] = {}
        self.interviews: list[dict] = []
        self.leaders: dict[str, dict] = {}
        self.former_leaders: list[dict] = []
        self.term_elections: list[dict] = []
        self.certificate_renewals: list[dict] = []
        self.closure: dict | None = None
        self.objections: dict[str, dict] = {}
        self.repair_applications: dict[str, dict] = {}

    # ----------------------------------------------------------------- creation

    @classmethod
    def register(cls, *, code: str, name: str, org_type: str, domicile: dict,
                 business_scope: str, registered_funds: Decimal, supervisory_unit: str | None,
                 founded_on: date, certificate_valid_until: date, meta: Meta,
                 imported: bool = False) -> "Organization":
        """成立登记: a social association, social service institution or foundation."""
        validate_credit_code(code)
        if org_type not in REGISTERED_TYPES:
            raise InvalidValue(f"type must be one of {', '.join(REGISTERED_TYPES)}", field="type")
        if code[0] != "5":
            raise InvalidValue("code position 1 must be 5 (registered by civil affairs)",
                               field="code")
        category = CIVIL_AFFAIRS_CATEGORIES.get(code[1])
        if category != org_type:
            raise InvalidValue(f"code position 2 is {code[1]} ({category or 'unknown'}), which "
                               f"does not match type {org_type}", field="code")
        cls._check_domicile(domicile)
        if registered_funds < 0:
            raise InvalidValue("registered_funds must not be negative", field="registered_funds")
        if certificate_valid_until <= founded_on:
            raise InvalidValue("certificate_valid_until must be after founded_on",
                               field="certificate_valid_until")
        if founded_on > meta.effective_date:
            raise InvalidValue("founded_on must not be after the registration's effective date",
                               field="founded_on")
        return cls._create(cls.Registered, id=cls.create_id(code), identifier=code, code=code,
                           name=name, org_type=org_type, domicile=domicile,
                           business_scope=business_scope, registered_funds=registered_funds,
                           supervisory_unit=supervisory_unit, founded_on=founded_on,
                           certificate_valid_until=certificate_valid_until, imported=imported,
                           meta=meta)

    @classmethod
    def record(cls, *, record_number: str, code: str | None, name: str, domicile: dict,
               business_scope: str, founded_on: date, meta: Meta,
               imported: bool = False) -> "Organization":
        """备案: a community organization recorded by its sub-district."""
        if code is not None:
            validate_credit_code(code)
        cls._check_domicile(domicile)
        identifier = code or record_number
        return cls._create(cls.Recorded, id=cls.create_id(identifier), identifier=identifier,
                           code=code, name=name, org_type="community_organization",
                           domicile=domicile, business_scope=business_scope,
                           registered_funds=None, supervisory_unit=None, founded_on=founded_on,
                           certificate_valid_until=None, imported=imported, meta=meta)

    @staticmethod
    def _check_domicile(domicile: dict) -> None:
        validate_committee(domicile.get("jurisdiction"), "domicile.jurisdiction")

    # ------------------------------------------------------------------ helpers

    def trigger_event(self, event_class, **kwargs: Any) -> None:
        """Every command's event passes here (not the replay of a recorded one): none
        takes effect before the organization was registered, for before then there is no
        organization to record it on (time travel to such a date finds none)."""
        meta = kwargs.get("meta")
        if meta is not None and meta.effective_date < self.registered_on:
            raise RuleViolation(
                f"{self.identifier} was registered on {self.registered_on}: nothing can "
                f"take effect on {meta.effective_date}, before it",
                rule="before_registration", field="effective_date")
        super().trigger_event(event_class, **kwargs)

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def _require_open(self, what: str) -> None:
        if self.is_closed:
            raise RuleViolation(f"{self.identifier} is {self.status}: no {what} can be recorded",
                                rule="closed_organization")

    def _require_registered(self, what: str) -> None:
        if self.org_type == "community_organization":
            raise RuleViolation(f"{what} applies to registered organizations, not to recorded "
                                "community organizations", rule="registered_only")

    def legal_representative(self) -> str | None:
        for person_id, leader in self.leaders.items():
            if "legal_representative" in leader["roles"]:
                return person_id
        return None

    def _leader(self, person_id: str) -> dict:
        try:
            return self.leaders[person_id]
        except KeyError:
            raise NotFound(f"person {person_id} is not a current leader of "
                           f"{self.identifier}", rule="not_a_leader", field="person") from None

    def _exempt(self, year: int, annual_inspection: Parameters) -> bool:
        return is_exempt_year(self.registered_on, year, annual_inspection["exempt_months"])

    # ------------------------------------------------------------------ filings

    def register_change(self, *, changes: dict[str, Any], approval_date: date,
                        meta: Meta) -> None:
        """变更登记: only the named fields change; old and new values are kept."""
        self._require_open("change registration")
        if not changes:
            raise InvalidValue("changes must name at least one field", field="changes")
        recorded = {}
        for field, new in changes.items():
            if field not in CHANGEABLE_FIELDS:
                raise InvalidValue(f"changes.{field} cannot be changed by a change registration;"
                                   f" changeable: {', '.join(CHANGEABLE_FIELDS)}",
                                   field=f"changes.{field}")
            if new is None and field != "supervisory_unit":
                raise InvalidValue(f"changes.{field} must not be null",
                                   field=f"changes.{field}")
            if field == "domicile":
                self._check_domicile(new)
            old = getattr(self, field)
            if old == new:
                raise InvalidValue(f"changes.{field} is the same as the current value",
                                   field=f"changes.{field}")
            recorded[field] = {"old": old, "new": new}
        self._change_registered(changes=recorded, approval_date=approval_date, meta=meta)

    @event("ChangeRegistered")
    def _change_registered(self, changes: dict, approval_date: date, meta: Meta) -> None:
        for field, values in changes.items():
            setattr(self, field, values["new"])
        self.changes.append({"changes": changes, "approval_date": approval_date,
                             "effective_date": meta.effective_date})

    def file_annual_report(self, *, year: int, income: Decimal, expenditure: Decimal,
                           net_assets: Decimal, activities_held: int,
                           party_organization: bool, annual_inspection: Parameters,
                           meta: Meta, full_time_staff: int | None = None) -> None:
        """年度工作报告: one per year; none for a year that is exempt or not yet over. The
        number of full-time staff is optional (None: not reported)."""
        review.check_full_time_staff(full_time_staff)
        self._require_open("annual report")
        self._require_registered("an annual report")
        if str(year) in self.annual_reports:
            raise RuleViolation(f"the annual report for {year} was already filed",
                                rule="one_annual_report_per_year", field="year")
        self._check_inspection_year(year, annual_inspection, meta)
        self._annual_report_filed(year=year, income=income, expenditure=expenditure,
                                  net_assets=net_assets, activities_held=activities_held,
                                  party_organization=party_organization,
                                  full_time_staff=full_time_staff, meta=meta)

    def _check_inspection_year(self, year: int, annual_inspection: Parameters,
                               meta: Meta) -> None:
        if year < self.registered_on.year:
            raise RuleViolation(f"{self.identifier} was registered in {self.registered_on.year},"
                                f" after {year}", rule="before_registration", field="year")
        if self._exempt(year, annual_inspection):
            raise RuleViolation(f"{self.identifier} was registered on {self.registered_on}, "
                                f"less than {annual_inspection['exempt_months']} months "
                                f"before the end of {year}: that year is exempt from annual "
                                "inspection", rule="six_month_exemption", field="year")
        if year >= meta.effective_date.year:
            raise RuleViolation(f"year {year} has not ended on {meta.effective_date}",
                                rule="year_not_ended", field="year")

    class AnnualReportFiled(Event):
        """年度工作报告: an organization's report on a year.

        Version 2 (issue 17) adds ``full_time_staff``, the number of full-time staff
        (None: not reported; every report filed before version 2 reads so)."""

        class_version = 2
        year: int
        income: Decimal
        expenditure: Decimal
        net_assets: Decimal
        activities_held: int
        party_organization: bool
        full_time_staff: int | None

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["full_time_staff"] = None

    @event(AnnualReportFiled)
    def _annual_report_filed(self, year: int, income: Decimal, expenditure: Decimal,
                             net_assets: Decimal, activities_held: int,
                             party_organization: bool, full_time_staff: int | None,
                             meta: Meta) -> None:
        self.annual_reports[str(year)] = {
            "year": year, "income": income, "expenditure": expenditure,
            "net_assets": net_assets, "activities_held": activities_held,
            "party_organization": party_organization, "full_time_staff": full_time_staff,
            "filed_on": meta.effective_date}

    # ------------------------------------------ the online annual report and its review

    def _reviewed_report(self, year: int) -> dict | None:
        return self.annual_report_reviews.get(str(year))

    def _require_not_filed(self, year: int) -> None:
        if str(year) in self.annual_reports:
            raise RuleViolation(f"the annual report for {year} was already filed",
                                rule="one_annual_report_per_year", field="year")

    def save_annual_report_draft(self, *, year: int, income: Decimal, expenditure: Decimal,
                                 net_assets: Decimal, activities_held: int,
                                 party_organization: bool, annual_inspection: Parameters,
                                 meta: Meta, full_time_staff: int | None = None) -> None:
        """The organization saves its draft of a year's report (saving again replaces
        it), while the draft is its own: not submitted, or returned with comments."""
        review.check_full_time_staff(full_time_staff)
        self._require_open("annual report")
        self._require_registered("an annual report")
        self._require_not_filed(year)
        review.check_editable(self._reviewed_report(year), year)
        self._check_inspection_year(year, annual_inspection, meta)
        self._annual_report_draft_saved(
            year=year, income=income, expenditure=expenditure, net_assets=net_assets,
            activities_held=activities_held, party_organization=party_organization,
            full_time_staff=full_time_staff, meta=meta)

    class AnnualReportDraftSaved(Event):
        """网上年报草稿: the organization saved its draft of a year's annual report.

        A later save replaces it, while the draft is its own: not submitted, or returned."""

        year: int
        income: Decimal
        expenditure: Decimal
        net_assets: Decimal
        activities_held: int
        party_organization: bool
        full_time_staff: int | None

    @event(AnnualReportDraftSaved)
    def _annual_report_draft_saved(self, year: int, income: Decimal, expenditure: Decimal,
                                   net_assets: Decimal, activities_held: int,
                                   party_organization: bool, full_time_staff: int | None,
                                   meta: Meta) -> None:
        entry = self.annual_report_reviews.setdefault(str(year), review.new_review(year))
        entry["report"] = {"income": income, "expenditure": expenditure,
                           "net_assets": net_assets, "activities_held": activities_held,
                           "party_organization": party_organization,
                           "full_time_staff": full_time_staff}
        entry["saved_on"] = meta.effective_date
        review.step(entry, "saved", meta.effective_date, meta.actor_id, meta.actor_role)

    def submit_annual_report(self, *, year: int, annual_inspection: Parameters,
                             meta: Meta) -> None:
        """The organization submits its saved draft: to its supervisory unit for the
        pre-review, or, without one (directly registered), straight to the registration
        authority, where it is filed (``AnnualReportFiled``)."""
        self._require_open("annual report")
        self._require_registered("an annual report")
        self._require_not_filed(year)
        entry = self._reviewed_report(year)
        unit = (self.supervisory_unit or "").strip() or None
        review.check_submittable(entry, year, unit)
        self._check_inspection_year(year, annual_inspection, meta)
        self._annual_report_submitted(year=year, supervisory_unit=unit, meta=meta)
        if unit is None:
            self._file_reviewed(year, meta)

    class AnnualReportSubmitted(Event):
        """网上年报报送: the organization submitted its saved draft of a year's report.

        It goes to its supervisory unit for the pre-review (``supervisory_unit``), or, with
        none (null), straight to the registration authority: an ``AnnualReportFiled``
        follows at once."""

        year: int
        supervisory_unit: str | None

    @event(AnnualReportSubmitted)
    def _annual_report_submitted(self, year: int, supervisory_unit: str | None,
                                 meta: Meta) -> None:
        entry = self.annual_report_reviews[str(year)]
        # without a supervisory unit it goes straight to the registration authority
        entry["state"] = "submitted" if supervisory_unit else "filed"
        entry["submitted_on"] = meta.effective_date
        entry["supervisory_unit"] = supervisory_unit
        review.step(entry, "submitted", meta.effective_date, meta.actor_id, meta.actor_role)

    def _file_reviewed(self, year: int, meta: Meta) -> None:
        report = self.annual_report_reviews[str(year)]["report"]
        self._annual_report_filed(year=year, meta=meta,
                                  **{f: report[f] for f in review.REPORT_FIELDS})

    def return_annual_report(self, *, year: int, comments: str, meta: Meta) -> None:
        """The supervisory unit returns a submitted report with its comments; the
        organization corrects its draft and resubmits."""
        self._require_open("annual report review")
        if not (comments or "").strip():
            raise InvalidValue("comments must say what to correct", field="comments")
        review.check_reviewable(self._reviewed_report(year), year)
        self._require_not_filed(year)  # (filed meanwhile by staff, from the paper report)
        self._annual_report_returned(year=year, comments=comments.strip(), meta=meta)

    class AnnualReportReturned(Event):
        """网上年报退回: the supervisory unit returned a submitted report with comments.

        The organization corrects its draft and resubmits it."""

        year: int
        comments: str

    @event(AnnualReportReturned)
    def _annual_report_returned(self, year: int, comments: str, meta: Meta) -> None:
        entry = self.annual_report_reviews[str(year)]
        entry["state"] = "returned"
        entry["returned"].append({"comments": comments, "returned_on": meta.effective_date,
                                  "by": meta.actor_id})
        review.step(entry, "returned", meta.effective_date, meta.actor_id, meta.actor_role,
                    comments)

    def approve_annual_report(self, *, year: int, meta: Meta) -> None:
        """The supervisory unit approves a submitted report: it reaches the registration
        authority as filed (``AnnualReportFiled``, with the approved draft's figures)."""
        self._require_open("annual report review")
        review.check_reviewable(self._reviewed_report(year), year)
        self._require_not_filed(year)
        self._annual_report_approved(year=year, meta=meta)
        self._file_reviewed(year, meta)

    class AnnualReportApproved(Event):
        """网上年报初审同意: the supervisory unit approved a submitted report.

        An ``AnnualReportFiled`` with the approved draft's figures follows at once."""

        year: int

    @event(AnnualReportApproved)
    def _annual_report_approved(self, year: int, meta: Meta) -> None:
        entry = self.annual_report_reviews[str(year)]
        entry["state"] = "approved"
        entry["approved_on"] = meta.effective_date
        review.step(entry, "approved", meta.effective_date, meta.actor_id, meta.actor_role)

    def annual_report_stage(self, year: int) -> str | None:
        """Where the year's report stands (domain.annual_report_review.STAGES)."""
        return review.stage(self._reviewed_report(year), str(year) in self.annual_reports,
                            str(year) in self.conclusions)

    def conclude_annual_inspection(self, *, year: int, result: str, findings: str,
                                   annual_inspection: Parameters, meta: Meta) -> None:
        """年检结论: one per year; without a filed report the only conclusion is unqualified."""
        self._require_open("annual inspection conclusion")
        self._require_registered("an annual inspection")
        if result not in CONCLUSIONS:
            raise InvalidValue(f"result must be one of {', '.join(CONCLUSIONS)}", field="result")
        if str(year) in self.conclusions:
            raise RuleViolation(f"the annual inspection for {year} was already concluded; "
                                "record a correction instead",
                                rule="one_conclusion_per_year", field="year")
        self._check_inspection_year(year, annual_inspection, meta)
        if str(year) not in self.annual_reports and result != "unqualified":
            raise RuleViolation(f"no annual report was filed for {year}: the conclusion can "
                                "only be unqualified", rule="unfiled_report_unqualified",
                                field="result")
        self._annual_inspection_concluded(year=year, result=result, findings=findings,
                                          meta=meta)

    @event("AnnualInspectionConcluded")
    def _annual_inspection_concluded(self, year: int, result: str, findings: str,
                                     meta: Meta) -> None:
        self.conclusions[str(year)] = {"year": year, "result": result, "findings": findings,
                                       "concluded_on": meta.effective_date, "corrections": []}

    def correct_annual_inspection(self, *, year: int, result: str, findings: str,
                                  meta: Meta) -> None:
        """A conclusion is corrected by a correction event, never edited."""
        self._require_open("correction")
        if result not in CONCLUSIONS:
            raise InvalidValue(f"result must be one of {', '.join(CONCLUSIONS)}", field="result")
        current = self.conclusions.get(str(year))
        if current is None:
            raise RuleViolation(f"there is no annual inspection conclusion for {year} to "
                                "correct", rule="no_conclusion", field="year")
        if str(year) not in self.annual_reports and result != "unqualified":
            raise RuleViolation(f"no annual report was filed for {year}: the conclusion can "
                                "only be unqualified", rule="unfiled_report_unqualified",
                                field="result")
        if current["result"] == result and current["findings"] == findings:
            raise InvalidValue("the correction changes neither result nor findings",
                               field="result")
        self._annual_inspection_corrected(year=year, previous_result=current["result"],
                                          result=result, findings=findings, meta=meta)

    @event("AnnualInspectionCorrected")
    def _annual_inspection_corrected(self, year: int, previous_result: str, result: str,
                                     findings: str, meta: Meta) -> None:
        conclusion = self.conclusions[str(year)]
        conclusion["corrections"].append({"previous_result": previous_result, "result": result,
                                          "findings": findings,
                                          "corrected_on": meta.effective_date})
        conclusion["result"] = result
        conclusion["findings"] = findings

    def assess_level(self, *, grade: str, rating: Parameters, annual_inspection: Parameters,
                     meta: Meta) -> None:
        """等级评估 (rule 7): 1A-5A, valid for the ``rating`` rule's years, only for eligible
        organizations (registered long enough; last year's inspection, which an exempt
        year of the ``annual_inspection`` rule does not need, neither missed nor failed)."""
        self._require_open("level assessment")
        self._require_registered("a level assessment")
        if grade not in GRADES:
            raise InvalidValue(f"grade must be one of {', '.join(GRADES)}", field="grade")
        on = meta.effective_date
        min_years = int(rating["min_registered_years"])
        if add_years(self.registered_on, min_years) > on:
            raise RuleViolation(f"registered on {self.registered_on}: a rating needs "
                                f"{min_years} full years of registration",
                                rule="rating_registered_two_years")
        last = on.year - 1
        if str(last) not in self.conclusions and on.month <= 6:
            last -= 1  # last year's inspection is not concluded before its 31 May deadline
        last_conclusion = self.conclusions.get(str(last))
        if not self._exempt(last, annual_inspection) and last >= self.registered_on.year:
            if last_conclusion is None or last_conclusion["result"] == "unqualified":
                raise RuleViolation(f"the {last} annual inspection was missed or failed",
                                    rule="rating_last_inspection")
        before = self.conclusions.get(str(last - 1))
        if (last_conclusion and before and last_conclusion["result"] == "basically_qualified"
                and before["result"] == "basically_qualified"):
            raise RuleViolation("basically qualified two years running",
                                rule="rating_basically_qualified_twice")
        if any(p["decision_date"].year == last and not p["rescinded"]
               for p in self.penalties.values()):
            raise RuleViolation(f"penalized in {last}", rule="rating_penalized_last_year")
        if self.active_listings():
            raise RuleViolation("on a credit list", rule="rating_credit_listed")
        self._level_assessed(
            grade=grade, valid_until=add_years(on, int(rating["valid_years"])) - timedelta(days=1),
            meta=meta)

    @event("LevelAssessed")
    def _level_assessed(self, grade: str, valid_until: date, meta: Meta) -> None:
        self.level = {"grade": grade, "assessed_on": meta.effective_date,
                      "valid_until": valid_until}

    def renew_certificate(self, *, valid_until: date, meta: Meta) -> None:
        self._require_open("certificate renewal")
        self._require_registered("a certificate renewal")
        if self.certificate_valid_until and valid_until <= self.certificate_valid_until:
            raise InvalidValue(f"valid_until must be after the current end "
                               f"{self.certificate_valid_until}", field="valid_until")
        self._certificate_renewed(previous_valid_until=self.certificate_valid_until,
                                  valid_until=valid_until, meta=meta)

    @event("CertificateRenewed")
    def _certificate_renewed(self, previous_valid_until: date | None, valid_until: date,
                             meta: Meta) -> None:
        self.certificate_valid_until = valid_until
        self.certificate_renewals.append({"previous_valid_until": previous_valid_until,
                                          "valid_until": valid_until,
                                          "renewed_on": meta.effective_date})

    def deregister(self, *, meta: Meta) -> None:
        """注销登记 on the organization's own application."""
        self._require_open("deregistration")
        self._deregistered(meta=meta)

    @event("Deregistered")
    def _deregistered(self, meta: Meta) -> None:
        self._close("deregistered", meta)

    def revoke(self, *, meta: Meta) -> None:
        """撤销登记 as an administrative act (e.g. a registration obtained by fraud)."""
        self._require_open("revocation")
        self._registration_revoked(meta=meta)

    @event("RegistrationRevoked")
    def _registration_revoked(self, meta: Meta) -> None:
        self._close("revoked", meta)

    def ban(self, *, meta: Meta) -> None:
        """取缔: only for a body that was never registered (a recorded community organization)."""
        self._require_open("ban")
        if self.org_type != "community_organization":
            raise RuleViolation("a registered organization is revoked, not banned",
                                rule="ban_unregistered_only")
        self._banned(meta=meta)

    @event("Banned")
    def _banned(self, meta: Meta) -> None:
        self._close("banned", meta)

    def _close(self, status: str, meta: Meta) -> None:
        previous_status = self.status
        self.status = status
        self.status_since = meta.effective_date
        self.closure = {"status": status, "on": meta.effective_date, "reason": meta.reason,
                        "reference": meta.reference, "leaders": sorted(self.leaders),
                        "previous_status": previous_status}
        for person_id in list(self.leaders):
            self._end_post(person_id, render("organization_closed", status=status),
                           meta.effective_date)

    def _end_post(self, person_id: str, reason: str, on: date) -> None:
        leader = self.leaders.pop(person_id)
        self.former_leaders.append({**leader, "departed_on": on, "departure_reason": reason,
                                    "departure_audit_done": False})

    # -------------------------------------------------------------- major events

    def report_major_event(self, *, category: str, planned_date: date, description: str,
                           sent_to: list[str], major_event_reporting: Parameters,
                           meta: Meta) -> str:
        """重大事项报告; a report later than the notice period of the
        ``major_event_reporting`` rule is marked late (rule 9)."""
        self._require_open("major-event report")
        if category not in MAJOR_EVENT_CATEGORIES:
            raise InvalidValue(f"category must be one of {', '.join(MAJOR_EVENT_CATEGORIES)}",
                               field="category")
        if not sent_to or any(r not in MAJOR_EVENT_RECIPIENTS for r in sent_to):
            raise InvalidValue(f"sent_to must list one or more of "
                               f"{', '.join(MAJOR_EVENT_RECIPIENTS)}", field="sent_to")
        notice = int(major_event_reporting["notice_days_leadership"
                                           if category in LEADERSHIP_CATEGORIES
                                           else "notice_days"])
        days_ahead = (planned_date - meta.effective_date).days
        report_id = f"ME{len(self.major_events) + 1}"
        self._major_event_reported(report_id=report_id, category=category,
                                   planned_date=planned_date, description=description,
                                   sent_to=list(dict.fromkeys(sent_to)),
                                   required_notice_days=notice, late=days_ahead < notice,
                                   meta=meta)
        return report_id

    @event("MajorEventReported")
    def _major_event_reported(self, report_id: str, category: str, planned_date: date,
                              description: str, sent_to: list[str], required_notice_days: int,
                              late: bool, meta: Meta) -> None:
        self.major_events[report_id] = {
            "id": report_id, "category": category, "planned_date": planned_date,
            "description": description, "sent_to": sent_to,
            "required_notice_days": required_notice_days, "late": late,
            "reported_on": meta.effective_date, "review": None}

    def review_major_event(self, *, report_id: str, opinion: str, risk_level: str,
                           meta: Meta) -> None:
        self._require_open("review")
        if risk_level not in RISK_LEVELS:
            raise InvalidValue(f"risk_level must be one of {', '.join(RISK_LEVELS)}",
                               field="risk_level")
        report = self.major_events.get(report_id)
        if report is None:
            raise NotFound(f"no major-event report {report_id}", rule="unknown_report",
                                field="id")
        if report["review"] is not None:
            raise RuleViolation(f"major-event report {report_id} was already reviewed",
                                rule="one_review_per_report")
        self._major_event_reviewed(report_id=report_id, opinion=opinion,
                                   risk_level=risk_level, meta=meta)

    @event("MajorEventReviewed")
    def _major_event_reviewed(self, report_id: str, opinion: str, risk_level: str,
                              meta: Meta) -> None:
        self.major_events[report_id]["review"] = {
            "opinion": opinion, "risk_level": risk_level, "reviewed_on": meta.effective_date}

    # ------------------------------------------------------------- supervision

    def conduct_inspection(self, *, items: list[str], findings: str, on_site: bool,
                           inspectors: list[str], plan_id: str | None,
                           double_random_sampling: Parameters, meta: Meta) -> None:
        """An inspection; on site, with the inspectors per check of the sampling rule."""
        self._require_open("inspection")
        if not items:
            raise InvalidValue("items must list what was checked", field="items")
        needed = int(double_random_sampling["inspectors_per_check"])
        if on_site and len(set(inspectors)) < needed:
            raise RuleViolation(f"an on-site check needs at least {needed} inspectors",
                                rule="two_inspectors_on_site", field="inspectors")
        self._inspection_conducted(items=items, findings=findings, on_site=on_site,
                                   inspectors=inspectors, plan_id=plan_id, meta=meta)

    @event("InspectionConducted")
    def _inspection_conducted(self, items: list[str], findings: str, on_site: bool,
                              inspectors: list[str], plan_id: str | None, meta: Meta) -> None:
        self.inspections.append({"items": items, "findings": findings, "on_site": on_site,
                                 "inspectors": inspectors, "plan_id": plan_id,
                                 "conducted_on": meta.effective_date})

    def order_rectification(self, *, notice_number: str, issues: list[str], deadline: date,
                            meta: Meta) -> None:
        """整改通知书."""
        self._require_open("rectification order")
        if notice_number in self.rectifications:
            raise Conflict(f"rectification notice {notice_number} was already recorded",
                           field="notice_number")
        if not issues:
            raise InvalidValue("issues must list what is to be rectified", field="issues")
        if deadline <= meta.effective_date:
            raise InvalidValue("deadline must be after the order's effective date",
                               field="deadline")
        self._rectification_ordered(notice_number=notice_number, issues=issues,
                                    deadline=deadline, meta=meta)

    @event("RectificationOrdered")
    def _rectification_ordered(self, notice_number: str, issues: list[str], deadline: date,
                               meta: Meta) -> None:
        self.rectifications[notice_number] = {
            "notice_number": notice_number, "issues": issues, "deadline": deadline,
            "ordered_on": meta.effective_date, "status": "open", "follow_ups": [],
            "completed_on": None, "overdue_since": None}

    def _open_rectification(self, notice_number: str) -> dict:
        self._require_open("rectification record")
        rectification = self.rectifications.get(notice_number)
        if rectification is None:
            raise NotFound(f"no rectification notice {notice_number}",
                                rule="unknown_rectification", field="id")
        if rectification["status"] == "completed":
            raise RuleViolation(f"rectification {notice_number} is already completed",
                                rule="rectification_completed")
        return rectification

    def follow_up_rectification(self, *, notice_number: str, note: str, meta: Meta) -> None:
        """回访."""
        self._open_rectification(notice_number)
        self._rectification_followed_up(notice_number=notice_number, note=note, meta=meta)

    @event("RectificationFollowedUp")
    def _rectification_followed_up(self, notice_number: str, note: str, meta: Meta) -> None:
        self.rectifications[notice_number]["follow_ups"].append(
            {"note": note, "on": meta.effective_date})

    def complete_rectification(self, *, notice_number: str, note: str, meta: Meta) -> None:
        self._open_rectification(notice_number)
        self._rectification_completed(notice_number=notice_number, note=note, meta=meta)

    @event("RectificationCompleted")
    def _rectification_completed(self, notice_number: str, note: str, meta: Meta) -> None:
        rectification = self.rectifications[notice_number]
        rectification["status"] = "completed"
        rectification["completed_on"] = meta.effective_date

    def mark_rectification_overdue(self, *, notice_number: str, meta: Meta) -> None:
        """Recorded by the system the day after the deadline passes."""
        rectification = self._open_rectification(notice_number)
        if rectification["status"] == "overdue":
            raise RuleViolation(f"rectification {notice_number} is already overdue",
                                rule="already_overdue")
        if meta.effective_date <= rectification["deadline"]:
            raise RuleViolation(f"the deadline {rectification['deadline']} has not passed",
                                rule="deadline_not_passed")
        self._rectification_overdue(notice_number=notice_number, meta=meta)

    @event("RectificationOverdue")
    def _rectification_overdue(self, notice_number: str, meta: Meta) -> None:
        self.rectifications[notice_number]["status"] = "overdue"
        self.rectifications[notice_number]["overdue_since"] = meta.effective_date

    def issue_management_suggestion(self, *, number: str, content: str, meta: Meta) -> None:
        """管理建议书."""
        self._require_open("management suggestion")
        if any(s["number"] == number for s in self.suggestions):
            raise Conflict(f"management suggestion {number} was already recorded",
                           field="number")
        self._management_suggestion_issued(number=number, content=content, meta=meta)

    @event("ManagementSuggestionIssued")
    def _management_suggestion_issued(self, number: str, content: str, meta: Meta) -> None:
        self.suggestions.append({"number": number, "content": content,
                                 "issued_on": meta.effective_date})

    def impose_penalty(self, *, decision_number: str, kind: str, legal_basis: str,
                       amount: Decimal | None, decision_date: date,
                       suspended_until: date | None, meta: Meta) -> None:
        """行政处罚; a suspension suspends the organization, a revocation revokes it."""
        self._require_open("penalty")
        if kind not in PENALTY_KINDS:
            raise InvalidValue(f"kind must be one of {', '.join(PENALTY_KINDS)}", field="kind")
        if decision_number in self.penalties:
            raise Conflict(f"penalty decision {decision_number} was already recorded",
                           field="decision_number")
        if kind in ("fine", "confiscation"):
            if amount is None or amount <= 0:
                raise InvalidValue(f"a {kind} needs a positive amount", field="amount")
        elif amount is not None:
            raise InvalidValue(f"a {kind} has no amount", field="amount")
        if kind == "suspension":
            if suspended_until is None or suspended_until <= decision_date:
                raise InvalidValue("a suspension needs suspended_until after the decision date",
                                   field="suspended_until")
            if self.status == "suspended":
                raise RuleViolation(f"{self.identifier} is already suspended",
                                    rule="already_suspended")
        elif suspended_until is not None:
            raise InvalidValue("suspended_until applies only to a suspension",
                               field="suspended_until")
        if decision_date > meta.effective_date:
            raise InvalidValue("decision_date must not be after the effective date",
                               field="decision_date")
        self._penalty_imposed(decision_number=decision_number, kind=kind,
                              legal_basis=legal_basis, amount=amount,
                              decision_date=decision_date, suspended_until=suspended_until,
                              meta=meta)

    @event("PenaltyImposed")
    def _penalty_imposed(self, decision_number: str, kind: str, legal_basis: str,
                         amount: Decimal | None, decision_date: date,
                         suspended_until: date | None, meta: Meta) -> None:
        self.penalties[decision_number] = {
            "decision_number": decision_number, "kind": kind, "legal_basis": legal_basis,
            "amount": amount, "decision_date": decision_date, "suspended_until": suspended_until,
            "rescinded": False, "rescinded_on": None}
        if kind == "suspension":
            self.status = "suspended"
            self.status_since = meta.effective_date
            self.suspended_until = suspended_until
            self.suspension_decision = decision_number
        elif kind == "revocation":
            self._close("revoked", meta)

    def rescind_penalty(self, *, decision_number: str, meta: Meta) -> None:
        """After reconsideration or a court ruling; its effect on the status is undone."""
        penalty = self.penalties.get(decision_number)
        if penalty is None:
            raise NotFound(f"no penalty decision {decision_number}",
                                rule="unknown_penalty", field="id")
        if penalty["rescinded"]:
            raise RuleViolation(f"penalty {decision_number} was already rescinded",
                                rule="already_rescinded")
        if penalty["kind"] == "revocation" and self.status != "revoked":
            raise RuleViolation("the organization is no longer revoked",
                                rule="revocation_not_in_effect")
        self._penalty_rescinded(decision_number=decision_number, meta=meta)

    @event("PenaltyRescinded")
    def _penalty_rescinded(self, decision_number: str, meta: Meta) -> None:
        penalty = self.penalties[decision_number]
        penalty["rescinded"] = True
        penalty["rescinded_on"] = meta.effective_date
        if (penalty["kind"] == "suspension" and self.status == "suspended"
                and getattr(self, "suspension_decision", None) == decision_number):
            self.status, self.suspended_until, self.suspension_decision = "active", None, None
            self.status_since = meta.effective_date
        elif penalty["kind"] == "revocation" and self.status == "revoked":
            previous = (self.closure or {}).get("previous_status", "active")
            self.status, self.closure = previous, None
            self.status_since = meta.effective_date

    def resume_activities(self, *, meta: Meta) -> None:
        """The suspension period is over: back to active."""
        if self.status != "suspended":
            raise RuleViolation(f"{self.identifier} is {self.status}, not suspended",
                                rule="not_suspended")
        if self.suspended_until and meta.effective_date < self.suspended_until:
            raise RuleViolation(f"the suspension runs until {self.suspended_until}; rescind "
                                "the penalty to lift it earlier", rule="suspension_in_force")
        self._activities_resumed(meta=meta)

    @event("ActivitiesResumed")
    def _activities_resumed(self, meta: Meta) -> None:
        self.status, self.suspended_until, self.suspension_decision = "active", None, None
        self.status_since = meta.effective_date

    def active_listings(self) -> list[dict]:
        return [c for c in self.credit_listings.values() if c["removed_on"] is None]

    def list_on_credit_list(self, *, credit_list: str, meta: Meta) -> str:
        """活动异常名录 / 严重违法失信名单, with the triggering reason (meta.reason)."""
        if credit_list not in CREDIT_LISTS:
            raise InvalidValue(f"list must be one of {', '.join(CREDIT_LISTS)}", field="list")
        if not meta.reason:
            raise InvalidValue("reason must name the triggering fact", field="reason")
        if any(c["list"] == credit_list for c in self.active_listings()):
            raise RuleViolation(f"{self.identifier} is already on the {credit_list} list",
                                rule="already_listed", field="list")
        listing_id = f"CL{len(self.credit_listings) + 1}"
        self._credit_listed(listing_id=listing_id, credit_list=credit_list, meta=meta)
        return listing_id

    @event("CreditListed")
    def _credit_listed(self, listing_id: str, credit_list: str, meta: Meta) -> None:
        self.credit_listings[listing_id] = {
            "id": listing_id, "list": credit_list, "reason": meta.reason,
            "listed_on": meta.effective_date, "removed_on": None, "removal_reason": None}

    def remove_from_credit_list(self, *, listing_id: str, meta: Meta) -> None:
        listing = self.credit_listings.get(listing_id)
        if listing is None:
            raise NotFound(f"no credit listing {listing_id}", rule="unknown_listing",
                                field="id")
        if listing["removed_on"] is not None:
            raise RuleViolation(f"listing {listing_id} was already removed",
                                rule="already_removed")
        if not meta.reason:
            raise InvalidValue("reason must say why the listing ends", field="reason")
        self._credit_listing_removed(listing_id=listing_id, meta=meta)

    @event("CreditListingRemoved")
    def _credit_listing_removed(self, listing_id: str, meta: Meta) -> None:
        self.credit_listings[listing_id]["removed_on"] = meta.effective_date
        self.credit_listings[listing_id]["removal_reason"] = meta.reason

    def hold_interview(self, *, person_name: str, person_role: str, topics: list[str],
                       meta: Meta) -> None:
        """约谈 of a responsible person."""
        self._require_open("interview")
        if not topics:
            raise InvalidValue("topics must list what was discussed", field="topics")
        self._interview_held(person_name=person_name, person_role=person_role, topics=topics,
                             meta=meta)

    @event("InterviewHeld")
    def _interview_held(self, person_name: str, person_role: str, topics: list[str],
                        meta: Meta) -> None:
        self.interviews.append({"person_name": person_name, "person_role": person_role,
                                "topics": topics, "held_on": meta.effective_date})

    # --------------------------------------------------------------- leadership

    def appoint_leader(self, *, person_id: str, name: str, id_number_masked: str,
                       roles: list[str], term_start: date, term_end: date,
                       public_notice: dict | None, official_status: str,
                       approval_reference: str | None, replaces: str | None,
                       departure_audit_done: bool, meta: Meta) -> None:
        """Appoint a leader. A new legal representative replaces the serving one in the
        same command (``replaces``), so there is never more than one (DOMAIN.md section 4).
        Person-level rules (bans, sanctioned organizations, retired officials) are the
        Person aggregate's; see Person.take_post."""
        self._require_open("appointment")
        if not roles or any(r not in LEADER_ROLES for r in roles):
            raise InvalidValue(f"roles must list one or more of {', '.join(LEADER_ROLES)}",
                               field="roles")
        if official_status not in OFFICIAL_STATUSES:
            raise InvalidValue(f"official_status must be one of {', '.join(OFFICIAL_STATUSES)}",
                               field="official_status")
        if official_status == "serving" and not approval_reference:
            raise RuleViolation("a serving official needs the approval reference for the "
                                "concurrent post (领导干部兼职审批)",
                                rule="serving_official_approval", field="approval_reference")
        if term_end <= term_start:
            raise InvalidValue("term_end must be after term_start", field="term_end")
        if public_notice is not None and public_notice["from"] > public_notice["to"]:
            raise InvalidValue("public_notice.from must not be after public_notice.to",
                               field="public_notice.from")
        if public_notice is not None and public_notice["to"] > meta.effective_date:
            raise RuleViolation(f"the pre-appointment public notice runs until "
                                f"{public_notice['to']}: appoint after it ends",
                                rule="public_notice_period", field="public_notice.to")
        if person_id in self.leaders:
            raise RuleViolation(f"{name} is already a leader of {self.identifier}",
                                rule="already_a_leader", field="person")
        current_lr = self.legal_representative()
        if replaces is not None:
            replaced = self._leader(replaces)
            if "legal_representative" in replaced["roles"] and \
                    "legal_representative" not in roles:
                raise RuleViolation("the legal representative is replaced only by a new legal "
                                    "representative: there is exactly one at a time",
                                    rule="one_legal_representative", field="roles")
            if "legal_representative" in replaced["roles"] and not departure_audit_done:
                raise RuleViolation("the departing legal representative needs a completed "
                                    "departure audit (离任审计)",
                                    rule="departure_audit_required",
                                    field="departure_audit_done")
        if "legal_representative" in roles and current_lr is not None and current_lr != replaces:
            raise RuleViolation(
                f"{self.identifier} already has a legal representative "
                f"({self.leaders[current_lr]['name']}); there is exactly one at a time: "
                "appoint the successor with replaces", rule="one_legal_representative",
                field="roles")
        if replaces is not None:
            self._leader_departed(person_id=replaces, departure_reason=render("replaced"),
                                  departure_audit_done=departure_audit_done, meta=meta)
        self._leader_appointed(person_id=person_id, name=name,
                               id_number_masked=id_number_masked, roles=list(roles),
                               term_start=term_start, term_end=term_end,
                               public_notice=public_notice, official_status=official_status,
                               approval_reference=approval_reference, meta=meta)

    @event("LeaderAppointed")
    def _leader_appointed(self, person_id: str, name: str, id_number_masked: str,
                          roles: list[str], term_start: date, term_end: date,
                          public_notice: dict | None, official_status: str,
                          approval_reference: str | None, meta: Meta) -> None:
        self.leaders[person_id] = {
            "person_id": person_id, "name": name, "id_number_masked": id_number_masked,
            "roles": roles, "term_start": term_start, "term_end": term_end,
            "public_notice": public_notice, "official_status": official_status,
            "approval_reference": approval_reference, "appointed_on": meta.effective_date,
            "warnings": [], "replacement_order": None}

    def record_leader_departure(self, *, person_id: str, departure_reason: str,
                                departure_audit_done: bool, meta: Meta) -> None:
        self._require_open("departure")
        leader = self._leader(person_id)
        if "legal_representative" in leader["roles"]:
            raise RuleViolation("the legal representative leaves only when a successor is "
                                "appointed (appoint with replaces): there is exactly one at "
                                "a time", rule="one_legal_representative")
        self._leader_departed(person_id=person_id, departure_reason=departure_reason,
                              departure_audit_done=departure_audit_done, meta=meta)

    @event("LeaderDeparted")
    def _leader_departed(self, person_id: str, departure_reason: str,
                         departure_audit_done: bool, meta: Meta) -> None:
        leader = self.leaders.pop(person_id)
        self.former_leaders.append({**leader, "departed_on": meta.effective_date,
                                    "departure_reason": departure_reason,
                                    "departure_audit_done": departure_audit_done})

    def hold_term_election(self, *, term_start: date, term_end: date, meta: Meta) -> None:
        """换届: the serving leaders begin a new term."""
        self._require_open("term election")
        if term_end <= term_start:
            raise InvalidValue("term_end must be after term_start", field="term_end")
        if not self.leaders:
            raise RuleViolation("there are no serving leaders to re-elect", rule="no_leaders")
        self._term_election_held(term_start=term_start, term_end=term_end,
                                 leaders=sorted(self.leaders), meta=meta)

    @event("TermElectionHeld")
    def _term_election_held(self, term_start: date, term_end: date, leaders: list[str],
                            meta: Meta) -> None:
        for person_id in leaders:
            self.leaders[person_id]["term_start"] = term_start
            self.leaders[person_id]["term_end"] = term_end
        self.term_elections.append({"term_start": term_start, "term_end": term_end,
                                    "held_on": meta.effective_date, "leaders": leaders})

    def warn_leader(self, *, person_id: str, meta: Meta) -> None:
        self._require_open("leader warning")
        self._leader(person_id)
        if not meta.reason:
            raise InvalidValue("reason must say why the leader is warned", field="reason")
        self._leader_warned(person_id=person_id, meta=meta)

    @event("LeaderWarned")
    def _leader_warned(self, person_id: str, meta: Meta) -> None:
        self.leaders[person_id]["warnings"].append({"on": meta.effective_date,
                                                    "reason": meta.reason})

    def order_leader_replacement(self, *, person_id: str, deadline: date, meta: Meta) -> None:
        """责令撤换."""
        self._require_open("replacement order")
        self._leader(person_id)
        if deadline <= meta.effective_date:
            raise InvalidValue("deadline must be after the order's effective date",
                               field="deadline")
        self._leader_replacement_ordered(person_id=person_id, deadline=deadline, meta=meta)

    @event("LeaderReplacementOrdered")
    def _leader_replacement_ordered(self, person_id: str, deadline: date, meta: Meta) -> None:
        self.leaders[person_id]["replacement_order"] = {
            "ordered_on": meta.effective_date, "deadline": deadline, "reason": meta.reason}

    # ------------------------------------------------------------- personal data

    def erase_leader_personal_data(self, *, person_id: str, meta: Meta) -> None:
        """A (former) leader's personal data was erased (crypto-shredding, issue 7 item
        9): the copies of their name and masked identity number this organization's state
        holds read as erased from here on (stored events already do, their key being
        destroyed). Allowed on a closed organization too: it is no filing, and its history
        stays readable."""
        self._leader_personal_data_erased(person_id=person_id, meta=meta)

    @event("LeaderPersonalDataErased")
    def _leader_personal_data_erased(self, person_id: str, meta: Meta) -> None:
        for leader in [self.leaders.get(person_id), *self.former_leaders]:
            if leader is not None and leader.get("person_id") == person_id:
                leader["name"] = erased(person_id)
                leader["id_number_masked"] = erased(person_id)


    # ------------------------------------- objections and credit repair (issue 16)
    # Their rules are in domain.credit_remedies, which calls these; they only apply.

    @event("ObjectionFiled")
    def _objection_filed(self, objection_id: str, entry: str, entry_id: str,
                         evidence: str | None, due_by: date, meta: Meta) -> None:
        self.objections[objection_id] = {
            "id": objection_id, "entry": entry, "entry_id": entry_id,
            "reason": meta.reason, "evidence": evidence, "filed_on": meta.effective_date,
            "filed_by": meta.actor_id, "due_by": due_by, "status": "pending",
            "decision": None}

    def _decided(self, item: dict, status: str, meta: Meta) -> None:
        item["status"] = status
        item["decision"] = {"by": meta.actor_id, "on": meta.effective_date,
                            "reason": meta.reason}

    @event("ObjectionUpheld")
    def _objection_upheld(self, objection_id: str, meta: Meta) -> None:
        self._decided(self.objections[objection_id], "upheld", meta)

    @event("ObjectionDismissed")
    def _objection_dismissed(self, objection_id: str, meta: Meta) -> None:
        self._decided(self.objections[objection_id], "dismissed", meta)

    @event("CreditRepairApplied")
    def _credit_repair_applied(self, application_id: str, listing_id: str,
                               evidence: str | None, meta: Meta) -> None:
        self.repair_applications[application_id] = {
            "id": application_id, "listing_id": listing_id, "reason": meta.reason,
            "evidence": evidence, "applied_on": meta.effective_date,
            "applied_by": meta.actor_id, "status": "pending", "decision": None}

    @event("CreditRepairApproved")
    def _credit_repair_approved(self, application_id: str, meta: Meta) -> None:
        self._decided(self.repair_applications[application_id], "approved", meta)

    @event("CreditRepairRefused")
    def _credit_repair_refused(self, application_id: str, meta: Meta) -> None:
        self._decided(self.repair_applications[application_id], "refused", meta)


# The events that time travel replays (each carries meta.effective_date).
ORGANIZATION_EVENTS = (Organization.Founded, Organization.Event)
