"""The demo's history: each organization's years of filings and decisions, played act by
act in date order.

Every act goes through the aggregates' own commands, so every rule of the domain holds:
where a random choice breaks a rule (a second suspension, a rating after a failed
inspection, a leader who led a revoked organization...), the domain refuses it and the act
is simply left out. Nothing is written around the rules. The acts that change an
organization and its leaders together (appointments, departures, term elections,
closures, bans) are the service's use cases, run on a batch (adapters.seed.batch), which
writes the whole district at the end, in the order it was recorded. Each act is recorded
at a moment of the demo's recording clock (adapters.seed.demo_clock), and its events are
marked as demo data (``Meta.demo``).
"""

from __future__ import annotations

import heapq
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any, Callable
from uuid import NAMESPACE_URL, UUID, uuid5

from adapters.seed.batch import Batch
from adapters.seed.demo_clock import DemoClock
from adapters.seed.demo_plan import (GIVEN, ID_DIVISIONS, ISSUES, MAJOR_EVENT_WEIGHTS,
                                     P_DEREGISTER, P_INSPECTION, P_LATE_REPORT, P_MAJOR_EVENT,
                                     P_NO_REPORT, P_PENALTY, P_RATING, P_RENEW,
                                     PENALTY_WEIGHTS, RESULT_WEIGHTS, ROADS, SCOPES, STAFF,
                                     SUPERVISORY_UNITS, SURNAMES, TERM_YEARS, District,
                                     OrgSpec, organization_name, weighted, working_day)
from adapters.seed.demo_supervision import Supervision
from domain.calendar import add_years, month_day
from domain.codes import id_number_check_character
from domain.errors import DomainError
from domain.meta import Meta
from domain.organization import Organization, is_exempt_year

DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/demo")


class History(Supervision):
    """Plays each organization's history, act by act in date order, into a batch: its
    founding, the annual cycle of reports, conclusions, ratings and certificates, changes
    and leaders, closing, and (adapters.seed.demo_supervision) the supervisory acts."""

    def __init__(self, batch: Batch, rng: Random, seed: int, today: date, district: District,
                 names: list[str], clock: DemoClock):
        self.batch = batch
        self.clock = clock
        self.casefiles = batch.casefiles  # the service's use cases, saving into the batch
        self.rng = rng
        self.seed = seed
        self.today = today
        self.district = district
        self.names = set(names)
        self.persons: dict[UUID, tuple[str, str]] = {}  # appointed: (name, identity number)
        self.person_order: list[UUID] = []
        self.id_numbers: set[str] = set()
        self.numbers: dict[tuple[str, int], int] = {}
        self.correlations = 0
        self.refused = 0
        self.refusals: dict[str, int] = {}
        self.rules = batch.application.rules()
        # the organization being played
        self.org_id: UUID | None = None
        self.spec: OrgSpec | None = None
        self.heap: list = []
        self.seq = 0
        self.now: date | None = None

    @property
    def org(self) -> Organization:
        """The organization being played, as kept in the batch (its latest state)."""
        return self.batch.get(self.org_id)

    # ------------------------------------------------------------ helpers

    def meta(self, actor: tuple[str, str], on: date, reason: str | None = None,
             reference: str | None = None) -> Meta:
        self.correlations += 1
        correlation = uuid5(DEMO_NAMESPACE, f"{self.seed}:{self.correlations}")
        return Meta(actor_id=actor[0], actor_role=actor[1], effective_date=on,
                    correlation_id=str(correlation), reason=reason, reference=reference,
                    demo=True)

    def org_actor(self) -> tuple[str, str]:
        if self.spec.protected:
            return ("demo-org", "organization")
        return (f"org-{self.spec.identifier.lower()}", "organization")

    def count(self, kind: str, year: int) -> int:
        """The next number of a kind of document in a year."""
        n = self.numbers.get((kind, year), 0) + 1
        self.numbers[(kind, year)] = n
        return n

    def number(self, kind: str, year: int) -> str:
        return f"杨民社{kind}〔{year}〕{self.count(kind, year)}号"

    def command(self, name: str, **args: Any) -> Any:
        """One of the organization's own commands (CaseFiles.execute, which applies the
        rules' parameters); answers the id it returns, if any."""
        return self.casefiles.execute(self.spec.identifier, name, **args).result.get("id")

    def parameter(self, rule: str, key: str) -> Any:
        """A rule's parameter for the organization being played, as the store has it."""
        return self.rules[rule].parameters_for(self.org.domicile["jurisdiction"])[key]

    def days(self, d: date, low: int, high: int) -> date:
        return d + timedelta(days=self.rng.randint(low, high))

    def in_year(self, year: int, first: tuple[int, int] = (1, 5),
                last: tuple[int, int] = (12, 20)) -> date:
        start, end = date(year, *first), date(year, *last)
        return working_day(start + timedelta(days=self.rng.randint(0, (end - start).days)))

    def at(self, on: date, action: Callable, *args: Any) -> None:
        """Schedule an act of the current organization (dropped if in the future)."""
        if on > self.today or on < self.spec.registered_on:
            return
        assert self.now is None or on >= self.now, "acts are played in date order"
        self.seq += 1
        heapq.heappush(self.heap, (on, self.seq, action, args))

    def run(self) -> None:
        while self.heap:
            on, _, action, args = heapq.heappop(self.heap)
            self.now = on
            with self.clock.recording(on):
                try:
                    action(on, *args)
                except DomainError as e:
                    self.refuse(e)

    def recorded_until(self, aggregate_id: UUID) -> datetime | None:
        """When the aggregate's last event was recorded (everything the demo records is
        kept in the batch until the end); None if it has none."""
        kept = self.batch.kept.get(aggregate_id)
        return kept.pending_events[-1].timestamp if kept and kept.pending_events else None

    def refuse(self, error: DomainError) -> None:
        self.refused += 1
        rule = error.rule or type(error).__name__
        self.refusals[rule] = self.refusals.get(rule, 0) + 1

    def leader_with(self, role: str) -> str | None:
        for person_id, leader in self.org.leaders.items():
            if role in leader["roles"]:
                return person_id
        return None

    # ------------------------------------------------------------ persons

    def new_person(self, on: date, retired: bool) -> tuple[str, str]:
        rng = self.rng
        age = rng.randint(60, 76) if retired else rng.randint(28, 66)
        birth = date(on.year - age, 1, 1) + timedelta(days=rng.randint(0, 364))
        while True:
            first17 = (f"{rng.choice(ID_DIVISIONS)}{birth:%Y%m%d}"
                       f"{rng.randint(0, 999):03d}")
            id_number = first17 + id_number_check_character(first17)
            if id_number not in self.id_numbers:
                break
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN)
                                              for _ in range(rng.choice((1, 2, 2))))
        return name, id_number

    def appoint(self, on: date, roles: list[str], *, replaces: str | None = None,
                term_end: date | None = None, plain: bool = False,
                reason: str = "负责人任职") -> None:
        """Appoint a leader (CaseFiles.appoint_leader): a new person, or now and then one
        who already leads another organization; ``plain``: a new person who is no
        official. A refused appointment changes nothing."""
        rng, org = self.rng, self.org
        official = "none"
        if not plain:
            official = weighted(rng, (("none", 92), ("retired", 5), ("serving", 3)))
        approval = self.number("干兼", on.year) if official == "serving" else None
        meta = self.meta(STAFF, on, reason, self.number("任", on.year))
        person = None
        if official == "none" and not plain and self.person_order and rng.random() < 0.05:
            candidate = rng.choice(self.person_order)
            if (str(candidate) not in org.leaders and str(candidate) != replaces
                    # (the person's events stay in recording order)
                    and self.clock.recorded_before_now(self.recorded_until(candidate))):
                person = self.persons[candidate]  # someone who already leads another one
        if person is None:
            person = self.new_person(on, retired=official == "retired")
        public_notice = None
        if replaces is not None or rng.random() < 0.3:
            public_notice = {"from": on - timedelta(days=14), "to": on - timedelta(days=7)}
        appointed = self.casefiles.appoint_leader(
            org.identifier, person={"name": person[0], "id_number": person[1]}, roles=roles,
            term_start=on, term_end=term_end or add_years(on, TERM_YEARS.get(org.org_type, 5)),
            public_notice=public_notice, official_status=official,
            approval_reference=approval, replaces=replaces,
            departure_audit_done=replaces is not None, meta=meta)
        person_id = UUID(appointed.result["person_id"])
        if person_id not in self.persons:
            self.persons[person_id] = person
            self.person_order.append(person_id)
            self.id_numbers.add(person[1])

    def appoint_or_fallback(self, on: date, roles: list[str], **kwargs: Any) -> None:
        """A founding appointment: if the drawn person is refused, appoint another."""
        for attempt in range(3):
            try:
                self.appoint(on, roles, plain=attempt > 0, **kwargs)
                return
            except DomainError as e:
                self.refuse(e)

    # ------------------------------------------------------------ one organization

    def play(self, spec: OrgSpec) -> Organization:
        """Record or register the organization, play its history, and keep it all in the
        batch; answers the organization as played."""
        self.spec, self.heap, self.seq, self.now = spec, [], 0, None
        self.clock.begin()
        reg = spec.registered_on
        domicile = {"address": spec.address, "jurisdiction": spec.committee}
        if spec.org_type == "community_organization":
            sub = spec.committee[:9] + "000"
            actor = ("demo-street", "sub_district_office") if sub == "310110001000" else (
                f"street-{sub}", "sub_district_office")
            with self.clock.recording(reg):
                org = Organization.record(
                    record_number=spec.identifier, code=None, name=spec.name,
                    domicile=domicile, business_scope=SCOPES["community_organization"],
                    founded_on=reg,
                    meta=self.meta(actor, reg, "社区社会组织备案", self.number("备", reg.year)))
                self.start(org)
                self.appoint_or_fallback(reg, ["chair"])
            self.plan_community()
        else:
            valid_until = add_years(reg, 5) - timedelta(days=1)
            with self.clock.recording(reg):
                org = Organization.register(
                    code=spec.code, name=spec.name, org_type=spec.org_type, domicile=domicile,
                    business_scope=SCOPES[spec.org_type],
                    registered_funds=spec.registered_funds,
                    supervisory_unit=spec.supervisory_unit, founded_on=reg,
                    certificate_valid_until=valid_until,
                    meta=self.meta(STAFF, reg, "成立登记", self.number("登", reg.year)))
                self.start(org)
                self.found_leaders(reg)
            self.plan_registered(valid_until)
        self.run()
        return self.org

    def start(self, org: Organization) -> None:
        self.batch.keep(org)
        self.org_id = org.id

    def found_leaders(self, on: date) -> None:
        rng, org_type = self.rng, self.spec.org_type
        p_chair_is_lr = {"social_association": 0.7, "social_service_institution": 0.6,
                         "foundation": 0.8}[org_type]
        if rng.random() < p_chair_is_lr:
            self.appoint_or_fallback(on, ["legal_representative", "chair"])
        else:
            self.appoint_or_fallback(on, ["legal_representative"])
            self.appoint_or_fallback(on, ["chair"])
        self.appoint_or_fallback(on, ["secretary_general"])
        if rng.random() < 0.4:
            self.appoint_or_fallback(on, ["supervisor"])

    def plan_registered(self, valid_until: date) -> None:
        spec, rng, reg = self.spec, self.rng, self.spec.registered_on
        profile = spec.profile
        deregister_planned = False
        for year in range(reg.year, self.today.year + 1):
            exempt_months = self.parameter("annual_inspection", "exempt_months")
            if year < self.today.year and not is_exempt_year(reg, year, exempt_months):
                late = rng.random() < P_LATE_REPORT[profile] * 0.5
                report_on = self.in_year(year + 1, (6, 1) if late else (3, 1),
                                         (7, 31) if late else (5, 31))
                if rng.random() >= P_NO_REPORT[profile]:
                    self.at(report_on, self.file_report, year)
                self.at(self.in_year(year + 1, (6, 1), (9, 30)), self.conclude, year)
            if rng.random() < P_INSPECTION[profile]:
                self.at(self.in_year(year, (3, 1), (11, 30)), self.inspect)
            if rng.random() < P_MAJOR_EVENT[profile]:
                self.plan_major_event(self.in_year(year), weighted(rng, MAJOR_EVENT_WEIGHTS))
            if rng.random() < 0.04:
                self.plan_change(self.in_year(year))
            if rng.random() < 0.05:
                on = self.in_year(year)
                if rng.random() < 0.7:
                    self.plan_major_event(on, "leader_change")
                self.at(on, self.change_legal_representative)
            if rng.random() < 0.05:
                self.at(self.in_year(year), self.change_secretary_general)
            if rng.random() < P_RATING[profile]:
                self.at(self.in_year(year, (10, 15), (12, 20)), self.assess_level)
            if not spec.protected:
                if rng.random() < P_PENALTY[profile]:
                    self.at(self.in_year(year), self.penalize,
                            weighted(rng, PENALTY_WEIGHTS))
                if not deregister_planned and rng.random() < P_DEREGISTER[profile]:
                    deregister_planned = True
                    self.at(self.in_year(year), self.deregister)
                if profile == "poor" and rng.random() < 0.02:
                    self.at(self.in_year(year), self.warn_legal_representative)
        self.at(valid_until - timedelta(days=rng.randint(5, 80)), self.renew_certificate)
        term_end = add_years(reg, TERM_YEARS[spec.org_type])
        self.at(term_end - timedelta(days=rng.randint(0, 30)), self.term_election)

    def plan_community(self) -> None:
        rng, reg = self.rng, self.spec.registered_on
        for year in range(reg.year, self.today.year + 1):
            if rng.random() < 0.05:
                self.at(self.in_year(year, (3, 1), (11, 30)), self.inspect)
            roll = rng.random()
            if roll < 0.01:
                self.at(self.in_year(year), self.ban)
            elif roll < 0.03:
                self.at(self.in_year(year), self.deregister)

    # ------------------------------------------------------------ annual inspection

    def file_report(self, on: date, year: int) -> None:
        rng, spec = self.rng, self.spec
        scale = float(spec.registered_funds or 50000)
        income = scale * rng.uniform(0.3, 3.0)
        self.command(
            "annual_report", year=year, income=_money(income),
            expenditure=_money(income * rng.uniform(0.6, 1.1)),
            net_assets=_money(scale * rng.uniform(0.8, 2.5)),
            activities_held=rng.randint(0, 8) if spec.profile == "poor" else rng.randint(3, 48),
            party_organization=rng.random() < {"good": 0.55, "fair": 0.35, "poor": 0.1}[
                spec.profile],
            # one full-time post per 150,000 yuan of income (no draw: the generator's
            # random sequence, and so the rest of the district, stays as it was)
            full_time_staff=int(income // 150000),
            meta=self.meta(self.org_actor(), on, f"{year}年度工作报告"))
        for listing in self.org.active_listings():
            if listing["list"] == "abnormal_activity" and "年度工作报告" in listing["reason"]:
                self.at(self.days(on, 3, 10), self.delist, listing["id"],
                        "已补报年度工作报告，经核实移出活动异常名录")

    def conclude(self, on: date, year: int) -> None:
        rng, org, profile = self.rng, self.org, self.spec.profile
        report = org.annual_reports.get(str(year))
        filed = report is not None
        drawn = rng.choices(("qualified", "basically_qualified", "unqualified"),
                            RESULT_WEIGHTS[profile])[0]
        deadline = month_day(self.parameter("annual_inspection",
                                            "registration_authority_deadline"), year + 1)
        late = filed and report["filed_on"] > deadline
        result = drawn if filed and not late else "unqualified"
        if not filed:
            findings = "未按规定报送年度工作报告"
        elif late:
            findings = "未在5月31日前报送年度工作报告"
        elif result == "unqualified":
            findings = "；".join(rng.sample(ISSUES, rng.randint(1, 3)))
        elif result == "basically_qualified":
            findings = rng.choice(ISSUES) + "（情节轻微）"
        else:
            findings = "年度工作报告符合要求"
        self.command("annual_inspection", year=year, result=result, findings=findings,
                     meta=self.meta(STAFF, on, f"{year}年度检查", self.number("检", on.year)))
        if result == "unqualified" and not filed:
            if rng.random() < 0.6:
                self.at(self.days(on, 1, 7), self.list_on, "abnormal_activity",
                        f"未按规定报送{year}年度工作报告")
            previous = org.conclusions.get(str(year - 1))
            if (previous and previous["result"] == "unqualified"
                    and str(year - 1) not in org.annual_reports and not self.spec.protected
                    and rng.random() < 0.15):
                self.at(self.days(on, 30, 90), self.penalize, "revocation",
                        "连续两年不按规定接受年度检查")
        elif result == "unqualified" and not late:
            if rng.random() < 0.6:
                self.at(self.days(on, 3, 20), self.order_rectification, findings.split("；"))
        elif result == "basically_qualified" and rng.random() < 0.4:
            self.at(self.days(on, 3, 20), self.suggest, f"针对{year}年度检查发现的问题：{findings}")

    def assess_level(self, on: date) -> None:
        level = self.org.level
        if level is not None and level["valid_until"] >= on:
            return
        grade = weighted(self.rng, (("1A", 5), ("2A", 20), ("3A", 45), ("4A", 25), ("5A", 5)))
        self.command("level_assessment", grade=grade,
                     meta=self.meta(STAFF, on, "社会组织等级评估", self.number("评", on.year)))

    def renew_certificate(self, on: date) -> None:
        if self.rng.random() >= P_RENEW[self.spec.profile]:
            return
        valid_until = add_years(self.org.certificate_valid_until, 5)
        self.command("certificate_renewal", valid_until=valid_until,
                     meta=self.meta(STAFF, on, "登记证书换发"))
        self.at(valid_until - timedelta(days=self.rng.randint(5, 80)), self.renew_certificate)

    # ------------------------------------------------------------ changes and leaders

    def plan_change(self, on: date) -> None:
        rng = self.rng
        fields = ["domicile", "business_scope", "registered_funds", "name"]
        if self.spec.supervisory_unit:
            fields.append("supervisory_unit")
        field = rng.choices(fields, (35, 20, 20, 15, 10)[:len(fields)])[0]
        if field == "domicile" and rng.random() < 0.5:
            self.plan_major_event(on, "domicile_change")
        self.at(on, self.change_registration, field)

    def change_registration(self, on: date, field: str) -> None:
        rng, org = self.rng, self.org
        if field == "supervisory_unit" and not org.supervisory_unit:
            return
        if field == "domicile":
            committees = [c for cs in self.district.committees.values() for c in cs]
            new: Any = {"address": f"上海市杨浦区{rng.choice(ROADS)}{rng.randint(1, 1800)}号",
                        "jurisdiction": rng.choice(committees)}
        elif field == "business_scope":
            new = org.business_scope + "；承接政府购买服务项目"
            if new == org.business_scope or org.business_scope.endswith("承接政府购买服务项目"):
                new = SCOPES[org.org_type] + "；开展相关调查研究"
        elif field == "registered_funds":
            new = org.registered_funds + Decimal(rng.choice((20000, 50000, 100000)))
        elif field == "name":
            new = organization_name(rng, org.org_type, self.district.sub_district_name(
                org.domicile["jurisdiction"]), self.names)
        else:
            new = rng.choice([u for u in SUPERVISORY_UNITS if u != org.supervisory_unit])
        self.command("change", changes={field: new}, approval_date=on,
                     meta=self.meta(STAFF, on, "变更登记", self.number("变", on.year)))

    def change_legal_representative(self, on: date) -> None:
        org = self.org
        current = org.legal_representative()
        if current is None or org.is_closed:
            return
        leader = org.leaders[current]
        term_end = leader["term_end"] if leader["term_end"] > on + timedelta(days=180) else None
        self.appoint(on, list(leader["roles"]), replaces=current, term_end=term_end,
                     reason="法定代表人变更")

    def change_secretary_general(self, on: date) -> None:
        org = self.org
        current = self.leader_with("secretary_general")
        if current is None or "legal_representative" in org.leaders[current]["roles"]:
            return
        self.casefiles.record_leader_departure(
            org.identifier, current, departure_reason="个人原因辞职",
            departure_audit_done=self.rng.random() < 0.5, meta=self.meta(STAFF, on, "秘书长辞职"))
        self.at(self.days(on, 0, 20), self.appoint_secretary_general)

    def appoint_secretary_general(self, on: date) -> None:
        if self.leader_with("secretary_general") is None:
            self.appoint(on, ["secretary_general"], reason="秘书长任职")

    def term_election(self, on: date) -> None:
        """换届: every serving leader begins a new term."""
        org = self.org
        if org.is_closed or not org.leaders:
            return
        term_end = add_years(on, TERM_YEARS[org.org_type])
        self.casefiles.hold_term_election(
            org.identifier, term_start=on, term_end=term_end,
            meta=self.meta(STAFF, on, "换届选举", self.number("换", on.year)))
        self.at(term_end - timedelta(days=self.rng.randint(0, 30)), self.term_election)

    # ------------------------------------------------------------ closing

    def deregister(self, on: date) -> None:
        self.casefiles.close_organization(
            self.org.identifier, "deregister",
            meta=self.meta(STAFF, on, "经清算，自行申请注销登记", self.number("注", on.year)))

    def ban(self, on: date) -> None:
        self.casefiles.close_organization(
            self.org.identifier, "ban",
            meta=self.meta(STAFF, on, "未经登记擅自以社会组织名义开展活动",
                           self.number("取", on.year)))


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")
