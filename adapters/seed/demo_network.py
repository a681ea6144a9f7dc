"""The demo district's early-warning network: nodes, officers, warnings raised by hand,
the rules run over the demo's history and the clock run over the last two weeks, so every
rule has fired and every indicator of the network view has something to show; and this
year's double-random inspection plans, with the inspections recorded against them."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random
from typing import Any, Callable

from adapters.bootstrap import open_view
from adapters.randomness import new_correlation_id
from adapters.runtime.catch_up import catch_up
from adapters.runtime.clock import clock_tick
from adapters.seed.demo_plan import (DEMO_SUPERVISORY_UNIT, DISTRICT, INSPECTION_ITEMS,
                                     INSPECTORS, SUB_DISTRICT_NAMES)
from adapters.views.register import ReadModelRegister
from domain.errors import DomainError
from domain.meta import Meta
from domain.network import SEVERITIES
from services.inspection_plans import draw_inspection_plan, publish_plan_results
from services.rules import RulesEngine

CLOCK_DAYS = 11  # the district level is reached 10 days after a warning is raised


def _meta(actor: str, role: str, on: date, reason: str | None = None) -> Meta:
    return Meta(actor_id=actor, actor_role=role, effective_date=on,
                correlation_id=new_correlation_id(), reason=reason, demo=True)


def exercise_network(casefiles: Any, today: date, echo: Callable[[str], Any] = print,
                     seed: int = 2024) -> dict:
    env = dict(casefiles.env)
    rng = Random(seed)
    catch_up(env, "casefiles")
    view = open_view(env, "casefiles")
    try:
        committees = sorted({row["jurisdiction"] for row in view.search(limit=100000)[1]})
        members = {c: [r["identifier"] for r in view.search(jurisdiction=c, status="active",
                                                            limit=1000)[1]]
                   for c in committees}
        supervised = sorted(r["identifier"] for r in view.search(
            status="active", supervisory_unit=DEMO_SUPERVISORY_UNIT, limit=1000)[1])
    finally:
        view.datastore.close()
    staff = lambda on, reason=None: _meta("demo-staff", "registration_staff", on, reason)  # noqa

    start = today - timedelta(days=60)
    casefiles.establish_node(code=DISTRICT, name="杨浦区", meta=staff(start))
    for sub in sorted({c[:9] + "000" for c in committees}):
        casefiles.establish_node(code=sub, name=SUB_DISTRICT_NAMES[int(sub[6:9]) - 1] + "街道",
                                 meta=staff(start))
    for committee in committees:
        casefiles.establish_node(code=committee, name=f"第{int(committee[9:])}居委会",
                                 meta=staff(start))
    casefiles.assign_officer("310110001001", "demo-officer", staff(start))
    casefiles.assign_officer("310110001000", "demo-street", staff(start))

    casefiles.change_rule("certificate_expiry", parameters={"expiring_days": 120},
                          jurisdiction="310110012000",
                          meta=staff(start, "试点：提前提示登记证书临期"))

    raised = 0
    for i, committee in enumerate(committees[:12]):
        if not members[committee]:
            continue
        organization = rng.choice(members[committee])
        on = today - timedelta(days=rng.randint(1, 12))
        officer = ("demo-officer", "information_officer") if committee == "310110001001" \
            else ("demo-street", "sub_district_office")
        source = rng.choice(["information_officer", "tip_off", "public_opinion"])
        try:
            warning = casefiles.raise_warning(
                organization=organization, severity=SEVERITIES[i % 3], source=source,
                title=rng.choice(["活动场所人员聚集异常", "群众投诉收费问题", "网络舆情：资金去向",
                                  "负责人长期失联"]),
                description="信息员走访发现", key=f"demo:{i}",
                meta=_meta(officer[0], officer[1], on))
        except DomainError:
            continue
        raised += 1
        if i % 4 == 1:
            casefiles.handle_warning(warning.id, "acknowledgement",
                                     meta=_meta(officer[0], officer[1], on))
        elif i % 4 == 2:
            casefiles.handle_warning(warning.id, "resolution", note="已约谈并整改",
                                     meta=_meta(officer[0], officer[1], on),
                                     )

    # credit information recorded later than 5 working days after the decision (rule 12)
    for committee in committees[:2]:
        if members[committee]:
            decided = today - timedelta(days=14)
            try:
                casefiles.close_organization(
                    members[committee][0], "penalty",
                    meta=Meta(actor_id="demo-staff", actor_role="registration_staff",
                              effective_date=decided, correlation_id=new_correlation_id(),
                              reason="补录", demo=True,
                              reference=f"杨民罚〔{today.year}〕L{committee[-3:]}"),
                    decision_number=f"杨民罚〔{today.year}〕L{committee[-3:]}", kind="warning",
                    legal_basis="《社会团体登记管理条例》第三十条", amount=None,
                    decision_date=decided, suspended_until=None)
            except DomainError:
                pass

    engine = RulesEngine(casefiles)
    engine.process_pending()
    clock_tick(env, today - timedelta(days=CLOCK_DAYS))
    days = clock_tick(env, today)

    catch_up(env, "network")
    network = open_view(env, "network")
    try:
        _, proposals = network.proposals(prefix=None, status="proposed", limit=30, offset=0)
    finally:
        network.datastore.close()
    confirmed = rejected = 0
    for i, proposal in enumerate(proposals):
        try:
            if i % 5 == 4:
                casefiles.decide_proposal(proposal["proposal_id"], confirm=False,
                                          meta=staff(today, "复核后不予列入"))
                rejected += 1
            else:
                casefiles.decide_proposal(proposal["proposal_id"], confirm=True,
                                          meta=staff(today, "复核确认"))
                confirmed += 1
        except DomainError:
            continue
    # The supervisory unit's inbox (and the staff's work queue): major-event reports sent
    # to it a few days ago, not reviewed yet.
    reported = 0
    for identifier in supervised[:2]:
        try:
            casefiles.execute(
                identifier, "major_event", category="important_activity",
                planned_date=today + timedelta(days=45), description="年度公益项目发布会",
                sent_to=["registration_authority", "supervisory_unit"],
                meta=_meta(f"org-{identifier.lower()}", "organization",
                           today - timedelta(days=3), "重大事项报告"))
        except DomainError:
            continue
        reported += 1
    engine.process_pending()
    plans = inspection_plans(casefiles, env, today, rng)
    objections, repairs = credit_remedies(casefiles, [i for c in committees
                                                      for i in members[c]], today)
    summary = {"nodes": 1 + len({c[:9] for c in committees}) + len(committees),
               "warnings_raised_by_hand": raised, "clock_days": len(days) + 1,
               "proposals_confirmed": confirmed, "proposals_rejected": rejected,
               "major_events_awaiting_review": reported, "inspection_plans": plans,
               "objections_pending": objections, "credit_repairs_pending": repairs}
    echo(f"early-warning network: {summary}")
    return summary


def credit_remedies(casefiles: Any, organizations: list[str], today: date,
                    wanted: int = 2) -> tuple[int, int]:
    """Organizations on the abnormal-activity list answer it (issue 16): the first
    ``wanted`` file an objection (异议) against their listing, the next ``wanted`` that
    have nothing left to rectify apply for credit repair (信用修复); both wait for the
    registration staff's decision (the work queue's). Returns (objections, repairs)."""
    objections = repairs = 0
    for identifier in organizations:
        if objections >= wanted and repairs >= wanted:
            break
        org = casefiles.get_organization(identifier)
        listing = next((c for c in org.active_listings() if c["list"] == "abnormal_activity"
                        and c["listed_on"] < today - timedelta(days=7)), None)
        if listing is None:
            continue
        own = _meta(f"org-{identifier.lower()}", "organization", today - timedelta(days=4),
                    "已按期报送年度报告并取得回执，列入异常名录所依据的事实有误"
                    if objections < wanted else "已完成整改，申请移出活动异常名录")
        try:
            if objections < wanted:
                casefiles.execute(identifier, "objection", entry="credit_listing",
                                  entry_id=listing["id"], evidence="年报报送回执", meta=own)
                objections += 1
            else:
                casefiles.execute(identifier, "credit_repair", listing_id=listing["id"],
                                  evidence="整改报告及验收意见", meta=own)
                repairs += 1
        except DomainError:
            continue  # premature (a rectification still open) or already contested
    return objections, repairs


PLAN_DAYS_AGO = 30  # this year's plans were drawn a month ago; half their checks are done


def inspection_plans(casefiles: Any, env: dict[str, str], today: date, rng: Random) -> int:
    """The district's double-random plan of this year and one of a sub-district's, drawn
    from the register as the read models show it, and the inspections recorded against
    them (with the inspectors the draw assigned): the first half of the district plan's
    drawn organizations, all of the sub-district's, whose results are then published.
    Returns how many plans were drawn."""
    for name in ("casefiles", "network"):
        catch_up(env, name)
    models = {name: open_view(env, name) for name in ("casefiles", "network")}
    drawn_on = today - timedelta(days=PLAN_DAYS_AGO)
    plans = []
    try:
        register = ReadModelRegister(models, lambda: casefiles.rule("certificate_expiry"),
                                     lambda: today)
        for number, jurisdiction, reason in (
                (f"{today.year}-SJ-01", DISTRICT, f"{today.year}年度双随机一公开抽查"),
                (f"{today.year}-SJ-02", "310110001000", "定海路街道社区社会组织专项抽查")):
            try:
                plans.append(draw_inspection_plan(
                    casefiles, register=register, number=number, jurisdiction=jurisdiction,
                    seed=rng.randrange(2 ** 53), inspectors=INSPECTORS, authority_level=None,
                    meta=_meta("demo-staff", "registration_staff", drawn_on, reason)))
            except DomainError:
                continue  # no active organization to draw from (a tiny demo)
    finally:
        for view in models.values():
            view.datastore.close()
    for plan in plans:
        done = len(plan.drawn) if plan.jurisdiction != DISTRICT else (len(plan.drawn) + 1) // 2
        for i, identifier in enumerate(plan.drawn[:done]):
            on = min(drawn_on + timedelta(days=3 + i), today)
            try:
                casefiles.execute(
                    identifier, "inspection", items=rng.sample(INSPECTION_ITEMS, 4),
                    findings="未发现问题" if rng.random() < 0.6 else "财务凭证不齐全",
                    on_site=identifier in plan.on_site,
                    inspectors=plan.assignments[identifier], plan_id=plan.number,
                    meta=_meta("demo-staff", "registration_staff", on, "双随机一公开抽查"))
            except DomainError:
                continue
        try:  # a plan whose drawn organizations are all inspected publishes its results
            publish_plan_results(casefiles, number=plan.number, meta=_meta(
                "demo-staff", "registration_staff", today, "双随机一公开：公示抽查结果"))
        except DomainError:
            pass  # some still wait for their inspection
    return len(plans)
