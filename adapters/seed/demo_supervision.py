"""The demo's supervisory acts: inspections and rectifications, management suggestions,
penalties and the credit lists, interviews and warnings, major events and their review.

``Supervision`` is mixed into adapters.seed.demo_history.History and plays on its
scheduler: ``self.at`` schedules an act, ``self.meta`` and ``self.number`` make its meta
and document number, ``self.org`` is the organization being played, ``self.casefiles``
the service's use cases on the batch.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from adapters.seed.demo_plan import (INSPECTION_ITEMS, INSPECTORS, ISSUES, LEGAL_BASIS,
                                     MAJOR_EVENT_TEXT, P_LATE_REPORT, P_PROBLEMS,
                                     PENALTY_NAMES, RECTIFY, RISK_WEIGHTS, STAFF, SUPERVISOR,
                                     OVERDUE_RULE)
from domain.calendar import add_years, months_later
from domain.documents import attachment
from domain.organization import LEADERSHIP_CATEGORIES


class Supervision:
    """The supervisory acts of an organization's history (see the module's docstring)."""

    # ------------------------------------------------------------ inspections

    def inspect(self, on: date) -> None:
        rng, profile = self.rng, self.spec.profile
        on_site = rng.random() < 0.5
        needed = int(self.parameter("double_random_sampling", "inspectors_per_check"))
        inspectors = rng.sample(INSPECTORS, rng.choice((needed, needed, needed + 1))) \
            if on_site else [rng.choice(INSPECTORS)]
        items = rng.sample(INSPECTION_ITEMS, rng.randint(3, 5))
        problems = rng.random() < P_PROBLEMS[profile]
        issues = rng.sample(ISSUES, rng.randint(1, 3)) if problems else []
        self.command("inspection", items=items, findings="；".join(issues) or "未发现问题",
                     on_site=on_site, inspectors=inspectors, plan_id=None,
                     meta=self.meta(STAFF, on, "双随机一公开抽查", self.number("查", on.year)))
        if problems and rng.random() < 0.7:
            self.at(self.days(on, 3, 15), self.order_rectification, issues)
        elif rng.random() < (0.4 if problems else 0.1):
            self.at(self.days(on, 3, 15), self.suggest,
                    "规范内部治理，健全财务和档案管理制度")

    def order_rectification(self, on: date, issues: list[str]) -> None:
        rng, profile = self.rng, self.spec.profile
        notice = self.number("整", on.year)
        deadline = self.days(on, 30, 60)
        self.command("rectification", notice_number=notice, issues=issues, deadline=deadline,
                     meta=self.meta(STAFF, on, "责令限期整改", notice))
        outcome = rng.choices(("on_time", "late", "never"), RECTIFY[profile])[0]
        if outcome == "on_time":
            done = max(deadline - timedelta(days=rng.randint(0, 20)), on + timedelta(days=2))
            if rng.random() < 0.6:
                self.at(on + (done - on) / 2, self.follow_up, notice)
            self.at(done, self.complete_rectification, notice)
        else:
            self.at(deadline + timedelta(days=1), self.rectification_overdue, notice)
            if outcome == "late":
                self.at(self.days(deadline, 10, 60), self.complete_rectification, notice)
            elif rng.random() < 0.5:
                self.at(self.days(deadline, 5, 20), self.list_on, "abnormal_activity",
                        f"逾期未完成整改（{notice}）")

    def follow_up(self, on: date, notice: str) -> None:
        self.command("rectification_follow_up", notice_number=notice, note="回访：整改正在进行",
                     meta=self.meta(STAFF, on, "整改回访", notice))

    def complete_rectification(self, on: date, notice: str) -> None:
        self.command("rectification_completion", notice_number=notice,
                     note="经回访核实，已完成整改", meta=self.meta(STAFF, on, "整改完成", notice))
        for listing in self.org.active_listings():
            if listing["list"] == "abnormal_activity" and notice in listing["reason"]:
                self.at(self.days(on, 1, 5), self.delist, listing["id"],
                        "完成整改，经核实移出活动异常名录")

    def rectification_overdue(self, on: date, notice: str) -> None:
        self.command("rectification_overdue", notice_number=notice,
                     meta=self.meta(OVERDUE_RULE, on, "整改期限届满", notice))

    def suggest(self, on: date, content: str) -> None:
        number = self.number("建", on.year)
        self.command("management_suggestion", number=number, content=content,
                     meta=self.meta(STAFF, on, "管理建议书", number))

    def penalize(self, on: date, kind: str, reason: str | None = None) -> None:
        rng, org = self.rng, self.org
        decision = f"杨民罚决〔{on.year}〕{self.count('罚', on.year)}号"
        amount = None
        if kind == "fine":
            amount = Decimal(rng.choice((2000, 5000, 10000, 20000, 30000, 30000, 50000,
                                         100000)))
        elif kind == "confiscation":
            amount = Decimal(rng.randint(10, 500) * 100)
        suspended_until = self.days(on, 60, 180) if kind == "suspension" else None
        reason = reason or rng.choice(("超出章程规定的宗旨和业务范围进行活动",
                                       "违反规定收取费用、接受捐赠",
                                       "不按照规定办理变更登记", "未按规定报送年度工作报告",
                                       "财务管理混乱，账目不清"))
        # the decision letter, public with the penalty (a stand-in PDF, one per decision)
        letter = self.casefiles.store_document(
            b"%PDF-1.4\n% " + f"{org.identifier} {decision}".encode() + b"\n%%EOF\n")
        self.casefiles.close_organization(
            org.identifier, "penalty", decision_number=decision, kind=kind,
            legal_basis=LEGAL_BASIS[org.org_type], amount=amount, decision_date=on,
            suspended_until=suspended_until, meta=replace(
                self.meta(STAFF, on, reason, decision),
                documents=(attachment(letter, f"{decision}处罚决定书.pdf", True, False),)))
        org = self.org
        if kind == "suspension":
            self.at(self.days(suspended_until, 1, 10), self.resume)
        if kind in ("suspension", "revocation") or (kind == "fine" and amount >= 50000):
            if rng.random() < 0.85:
                self.at(self.days(on, 1, 5), self.list_on, "serious_dishonesty",
                        f"{PENALTY_NAMES[kind]}（{decision}）")
        elif rng.random() < 0.5:
            self.at(self.days(on, 1, 5), self.list_on, "abnormal_activity",
                    f"受到{PENALTY_NAMES[kind]}处罚（{decision}）")
        if kind == "revocation":
            legal_rep = next((f for f in reversed(org.former_leaders)
                              if "legal_representative" in f["roles"]), None)
            if legal_rep is not None and rng.random() < 0.4:
                self.ban_person(on, legal_rep["person_id"])
        elif kind in ("warning", "fine") and rng.random() < 0.5:
            self.at(self.days(on, 2, 10), self.interview)
        if kind in ("warning", "fine") and rng.random() < 0.03:
            self.at(self.days(on, 30, 120), self.rescind, decision)

    def rescind(self, on: date, decision: str) -> None:
        self.casefiles.rescind_penalty(self.org.identifier, decision_number=decision,
                                       meta=self.meta(STAFF, on, "行政复议决定撤销原处罚决定"))

    def resume(self, on: date) -> None:
        self.command("resumption", meta=self.meta(STAFF, on, "限期停止活动期满，恢复活动"))

    def ban_person(self, on: date, person_id: str) -> None:
        until = None if self.rng.random() < 0.2 else add_years(on, 3)
        self.casefiles.record_occupational_ban(
            UUID(person_id), banned_from=on, banned_until=until,
            meta=self.meta(STAFF, on, "对所在社会组织被撤销登记负有直接责任",
                           self.number("禁", on.year)))

    def list_on(self, on: date, credit_list: str, reason: str) -> None:
        listing = self.command("credit_listing", credit_list=credit_list,
                               meta=self.meta(STAFF, on, reason, self.number("信", on.year)))
        if credit_list == "abnormal_activity":
            if "处罚" in reason:  # nothing to rectify: out after some months (rule 2)
                months = int(self.parameter("abnormal_activity_listing", "auto_removal_months"))
                self.at(self.days(months_later(on, months), 1, 8), self.delist, listing,
                        f"列入满{months}个月且无需整改，移出活动异常名录")
            else:  # years on the abnormal list lead to the serious list (rule 3)
                years = int(self.parameter("serious_dishonesty_listing",
                                           "years_on_abnormal_list"))
                self.at(self.days(add_years(on, years), 1, 30), self.escalate, listing)
        elif self.rng.random() < 0.6:
            years = int(self.parameter("serious_dishonesty_listing", "removal_years"))
            self.at(self.days(add_years(on, years), 1, 60), self.delist, listing,
                    f"满{years}年未再发生失信行为，信用修复")

    def escalate(self, on: date, listing: str) -> None:
        if self.org.credit_listings[listing]["removed_on"] is None:
            years = int(self.parameter("serious_dishonesty_listing", "years_on_abnormal_list"))
            self.list_on(on, "serious_dishonesty", f"列入活动异常名录满{years}年")

    def delist(self, on: date, listing: str, reason: str) -> None:
        self.command("credit_listing_removal", listing_id=listing,
                     meta=self.meta(STAFF, on, reason))

    def interview(self, on: date) -> None:
        org = self.org
        legal_rep = org.legal_representative()
        if legal_rep is None:
            return
        self.command("interview", person_name=org.leaders[legal_rep]["name"],
                     person_role="法定代表人",
                     topics=self.rng.sample(ISSUES, self.rng.randint(1, 2)),
                     meta=self.meta(STAFF, on, "约谈负责人"))

    def warn_legal_representative(self, on: date) -> None:
        legal_rep = self.org.legal_representative()
        if legal_rep is None:
            return
        self.command("leader_warning", person_id=legal_rep,
                     meta=self.meta(STAFF, on, "未履行负责人职责，组织管理混乱"))
        if self.rng.random() < 0.3:
            self.command(
                "leader_replacement_order", person_id=legal_rep, deadline=self.days(on, 30, 90),
                meta=self.meta(STAFF, on, "责令撤换法定代表人", self.number("撤", on.year)))

    # ------------------------------------------------------------ major events

    def plan_major_event(self, planned: date, category: str) -> None:
        notice = int(self.parameter("major_event_reporting", "notice_days_leadership"
                                    if category in LEADERSHIP_CATEGORIES else "notice_days"))
        if self.rng.random() < P_LATE_REPORT[self.spec.profile]:
            reported = planned - timedelta(days=self.rng.randint(0, notice - 1))
        else:
            reported = planned - timedelta(days=notice + self.rng.randint(0, 20))
        self.at(reported, self.report_major_event, planned, category)

    def report_major_event(self, on: date, planned: date, category: str) -> None:
        rng, org = self.rng, self.org
        sent_to = ["registration_authority"]
        if org.supervisory_unit:
            sent_to.append("supervisory_unit")
        if rng.random() < 0.4:
            sent_to.append("party_building_body")
        report = self.command("major_event", category=category, planned_date=planned,
                              description=MAJOR_EVENT_TEXT[category], sent_to=sent_to,
                              meta=self.meta(self.org_actor(), on, "重大事项报告"))
        self.at(self.days(on, 2, 10), self.review_major_event, report)

    def review_major_event(self, on: date, report: str) -> None:
        rng, org = self.rng, self.org
        risk = rng.choices(("none", "low", "medium", "high"), RISK_WEIGHTS[self.spec.profile])[0]
        reviewer = SUPERVISOR if org.supervisory_unit and rng.random() < 0.5 else STAFF
        opinion = {"none": "同意，按计划实施", "low": "同意，注意做好备案",
                   "medium": "原则同意，须落实风险防控措施",
                   "high": "风险较高，暂缓实施并约谈负责人"}[risk]
        self.command("major_event_review", report_id=report, opinion=opinion, risk_level=risk,
                     meta=self.meta(reviewer, on, "重大事项审核意见"))
        if risk == "high":
            if rng.random() < 0.7:
                self.at(self.days(on, 3, 10), self.interview)
            if rng.random() < 0.3:
                self.at(self.days(on, 5, 20), self.suggest, "加强重大活动风险评估和报告")
