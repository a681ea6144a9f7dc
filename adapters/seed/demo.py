"""The demo district: a deterministic history of social organizations to try things on.

The district is modelled on Shanghai's Yangpu district (杨浦区, division code
``310110000000``, about 850 organizations, 12 sub-districts) and the annual-inspection
pass rates of Jintan (about 40% qualified, 11% basically qualified, 49% unqualified); see
DOMAIN.md section 7. Everything is drawn from ``random.Random(seed)``, so the same seed on
the same day gives the same district.

Every act goes through the aggregates' own commands, so every rule of the domain holds:
where a random choice breaks a rule (a second suspension, a rating after a failed
inspection, a leader who led a revoked organization...), the domain refuses it and the act
is simply left out. Nothing is written around the rules.

For speed each organization's whole history is built in memory (Organization, and the
Person aggregates of its leaders exactly as ``CaseFiles.appoint_leader`` and
``CaseFiles.close_organization`` change them), and a batch of organizations is saved with
one ``casefiles.save`` call: one transaction per batch, not one per event.
"""

from __future__ import annotations

import copy
import heapq
import secrets
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from random import Random
from typing import Any, Callable
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import IntegrityError

from domain.codes import CREDIT_CODE_CHARSET, id_number_check_character, make_credit_code
from domain.errors import Conflict, DomainError
from domain.meta import ROLES, Meta
from domain.organization import Organization, add_years, is_exempt_year
from domain.person import Person

DEFAULT_ORGS = 850
DEFAULT_YEARS = 5
DEFAULT_SEED = 2024
BATCH_SIZE = 40

CHINA = timezone(timedelta(hours=8))
DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/demo")

DISTRICT = "310110000000"
DIVISION = "310110"
# The twelve sub-districts of Yangpu (short names, as used in organization names).
SUB_DISTRICT_NAMES = ("定海路", "平凉路", "江浦路", "四平路", "控江路", "长白新村", "延吉新村",
                      "殷行", "大桥", "五角场", "新江湾城", "长海路")
ROADS = ("国权路", "政通路", "控江路", "长阳路", "平凉路", "黄兴路", "殷行路", "国和路",
         "淞沪路", "营口路", "隆昌路", "四平路", "大连路", "杨树浦路", "江浦路", "翔殷路",
         "包头路", "民京路", "国定路", "邯郸路", "政立路", "开鲁路")

# The demo accounts: one per role (DOMAIN.md section 1), "system" excepted.
DEMO_ORG_COMMITTEE = "310110001001"
DEMO_ACCOUNTS = (
    # username, display name, role, jurisdiction
    ("demo-staff", "演示 登记管理机关（杨浦区民政局社会组织管理科）", "registration_staff",
     DISTRICT),
    ("demo-supervisor", "演示 业务主管单位", "supervisory_unit", DISTRICT),
    ("demo-street", "演示 定海路街道办事处", "sub_district_office", "310110001000"),
    ("demo-officer", "演示 预警网络信息员（居委会）", "information_officer",
     DEMO_ORG_COMMITTEE),
    ("demo-auditor", "演示 审计、纪检", "auditor", None),
    ("demo-org", "演示 社会组织", "organization", None),
    ("demo-admin", "演示 账号管理员", "admin", None),
)
assert {a[2] for a in DEMO_ACCOUNTS} == set(ROLES) - {"system"}
MARKER_ACCOUNT = "demo-admin"  # opened last: it marks a completed demo load

STAFF = ("demo-staff", "registration_staff")
SUPERVISOR = ("demo-supervisor", "supervisory_unit")
OVERDUE_RULE = ("rule:rectification_overdue@1", "system")

TYPE_WEIGHTS = (("social_association", 36), ("social_service_institution", 58),
                ("foundation", 6))
CATEGORY_DIGIT = {"social_association": "1", "social_service_institution": "2",
                  "foundation": "3"}
TERM_YEARS = {"social_association": 5, "social_service_institution": 4, "foundation": 5}
LEGAL_BASIS = {"social_association": "《社会团体登记管理条例》第三十条",
               "social_service_institution": "《民办非企业单位登记管理暂行条例》第二十五条",
               "foundation": "《基金会管理条例》第四十二条"}
FUNDS = {"social_association": (30000, 50000, 100000, 200000),
         "social_service_institution": (30000, 50000, 100000, 300000, 500000, 1000000),
         "foundation": (2000000, 3000000, 5000000, 8000000)}
SUPERVISORY_UNITS = ("杨浦区教育局", "杨浦区民政局", "杨浦区卫生健康委员会", "杨浦区文化和旅游局",
                     "杨浦区体育局", "杨浦区科学技术委员会", "杨浦区商务委员会", "杨浦区司法局",
                     "杨浦区残疾人联合会", "共青团上海市杨浦区委员会")
ASSOCIATION_STEMS = ("志愿者", "老年人体育", "青少年科技", "书法", "摄影", "科普", "环境保护",
                     "社区治理", "物业管理", "餐饮行业", "软件行业", "创业", "家庭教育",
                     "心理咨询", "退役军人", "残疾人康复", "集邮", "围棋", "太极拳", "合唱",
                     "舞蹈", "收藏", "诗词", "非遗保护", "健身气功", "楼宇经济", "电子商务",
                     "人工智能", "会计", "社会工作", "知识产权", "滨江文化")
ASSOCIATION_SUFFIXES = ("协会", "研究会", "促进会", "联合会")
INSTITUTION_STEMS = ("社区养老", "助老", "青少年成长", "邻里", "阳光康复", "心理健康", "早教",
                     "艺术", "科创", "公益", "睦邻", "乐龄", "彩虹", "暖心", "益心", "同心",
                     "春晖", "启明", "新苗", "乐活", "绿色家园", "融合教育")
INSTITUTION_SUFFIXES = ("服务中心", "社会工作服务社", "培训中心", "养老院", "托育园",
                        "康复中心", "发展中心", "公益服务社")
FOUNDATION_STEMS = ("复新", "同创", "润泽", "启航", "春晖", "明德", "长阳", "滨江", "知行",
                    "睿德", "光华", "博爱", "德润", "思源", "致远", "嘉禾")
COMMUNITY_STEMS = ("合唱", "舞蹈", "书画", "太极拳", "读书", "编织", "邻里互助", "为老服务",
                   "垃圾分类志愿", "健身", "戏曲", "摄影")
COMMUNITY_SUFFIXES = ("队", "社", "团队", "志愿服务队")
SCOPES = {
    "social_association": "开展行业交流、业务培训、咨询服务，举办公益活动",
    "social_service_institution": "为社区居民提供养老照护、青少年服务、社会工作等公益服务",
    "foundation": "资助教育、扶老助残、社区发展等公益慈善项目",
    "community_organization": "在社区内开展文体、互助、志愿服务活动",
}
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
            "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷"
            "侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉力斌宇浩凯鹏欣怡晨"
         "阳雪梅琳婷颖佳嘉俊峰博瑞雯倩慧琴海云燕丹宏志新春晓")
ID_DIVISIONS = ("310110", "310110", "310110", "310107", "310115", "310109", "320482",
                "320481", "430102", "371102", "330106", "340104")
INSPECTORS = ("王敏", "李军", "张华", "陈静", "刘洋", "杨帆", "赵磊", "黄丽", "周宁", "吴昊")
INSPECTION_ITEMS = ("章程执行情况", "财务管理", "年度工作报告真实性", "内部治理结构",
                    "党建工作", "业务活动开展", "负责人任职", "印章和证书管理",
                    "重大事项报告", "收费和捐赠管理")
ISSUES = ("财务会计制度不健全", "未按章程按期召开会员（代表）大会", "超出业务范围开展活动",
          "负责人变更未及时备案", "印章管理不规范", "未按规定报告重大事项",
          "年度工作报告内容不实", "未建立党组织或未开展党的活动", "住所与登记不一致",
          "捐赠票据使用不规范", "内部管理制度缺失")
MAJOR_EVENT_TEXT = {
    "meeting_or_election": "召开会员（代表）大会暨换届选举",
    "important_activity": "举办区级公益主题活动",
    "leader_change": "法定代表人变更",
    "charter_change": "修改章程",
    "domicile_change": "住所变更",
    "foreign_exchange": "接待境外组织来访交流",
    "large_financial_transaction": "大额资金支出（项目采购）",
    "litigation": "涉及合同纠纷诉讼",
    "safety_incident": "活动中发生安全事故",
    "other": "其他需要报告的事项",
}
MAJOR_EVENT_WEIGHTS = (("meeting_or_election", 20), ("important_activity", 30),
                       ("charter_change", 8), ("foreign_exchange", 6),
                       ("large_financial_transaction", 14), ("litigation", 6),
                       ("safety_incident", 4), ("other", 12))

# Per-organization profiles: Jintan's 40/11/49 pass rates come out of this mix
# (0.55 good, 0.25 fair, 0.20 poor).
PROFILES = (("good", 55), ("fair", 25), ("poor", 20))
P_NO_REPORT = {"good": 0.08, "fair": 0.33, "poor": 0.75}
RESULT_WEIGHTS = {"good": (70, 11, 19), "fair": (42, 20, 38), "poor": (30, 15, 55)}
P_INSPECTION = {"good": 0.12, "fair": 0.16, "poor": 0.20}
P_PROBLEMS = {"good": 0.20, "fair": 0.45, "poor": 0.70}
P_MAJOR_EVENT = {"good": 0.14, "fair": 0.10, "poor": 0.06}
P_LATE_REPORT = {"good": 0.12, "fair": 0.25, "poor": 0.40}
P_PENALTY = {"good": 0.006, "fair": 0.03, "poor": 0.10}
P_DEREGISTER = {"good": 0.012, "fair": 0.035, "poor": 0.09}
P_RATING = {"good": 0.3, "fair": 0.08, "poor": 0.0}
P_RENEW = {"good": 0.9, "fair": 0.75, "poor": 0.4}
RECTIFY = {"good": (85, 10, 5), "fair": (65, 20, 15), "poor": (40, 25, 35)}
RISK_WEIGHTS = {"good": (60, 25, 12, 3), "fair": (50, 28, 16, 6), "poor": (35, 30, 20, 15)}
PENALTY_WEIGHTS = (("warning", 50), ("fine", 22), ("confiscation", 5), ("suspension", 10),
                   ("revocation", 13))


def china_today() -> date:
    return datetime.now(CHINA).date()


@dataclass
class OrgSpec:
    """What is drawn for an organization before its history is played."""

    index: int
    identifier: str
    code: str | None
    name: str
    org_type: str
    committee: str
    address: str
    registered_funds: Decimal | None
    supervisory_unit: str | None
    registered_on: date
    profile: str
    protected: bool = False  # the demo account's organization: never closed or penalized


@dataclass
class District:
    committees: dict[str, list[str]]  # sub-district code -> its committee codes

    def sub_district_name(self, committee: str) -> str:
        return SUB_DISTRICT_NAMES[int(committee[6:9]) - 1]


# ---------------------------------------------------------------------- planning

def _weighted(rng: Random, pairs) -> Any:
    values = [p[0] for p in pairs]
    weights = [p[1] for p in pairs]
    return rng.choices(values, weights)[0]


def _layout(rng: Random) -> District:
    committees = {}
    for n in range(1, len(SUB_DISTRICT_NAMES) + 1):
        sub = f"{DIVISION}{n:03d}000"
        committees[sub] = [f"{DIVISION}{n:03d}{c:03d}" for c in range(1, rng.randint(4, 8) + 1)]
    return District(committees)


def _weekday(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _derived_seed(rng: Random) -> int:
    return rng.getrandbits(64)


def _plan(rng: Random, orgs: int, years: int, today: date) -> tuple[District, list[OrgSpec]]:
    """The district's layout and every organization's basic facts, in a fixed order."""
    district = _layout(rng)
    code_rng = Random(_derived_seed(rng))  # codes do not depend on the day of the run
    all_committees = [c for cs in district.committees.values() for c in cs]
    span_start = add_years(today, -(years + 1))
    span_days = max((today - timedelta(days=30) - span_start).days, 1)
    used_codes: set[str] = set()
    used_names: set[str] = set()
    specs = []
    total = orgs + orgs // 10
    for index in range(total):
        community = index >= orgs
        if index == 0:
            org_type, committee, profile = "social_service_institution", DEMO_ORG_COMMITTEE, "good"
        else:
            org_type = "community_organization" if community else _weighted(rng, TYPE_WEIGHTS)
            committee = rng.choice(all_committees)
            profile = _weighted(rng, PROFILES)
        # More organizations early in the span (the district's existing stock), fewer
        # new ones each year: density falls from about 1.4 to 0.6 of the average.
        share = rng.random()
        if rng.random() < 0.4:
            share = 1 - share ** 0.5
        registered_on = _weekday(span_start + timedelta(days=int(share * span_days)))
        if index == 0:  # old enough to have a few years of reports
            registered_on = _weekday(min(registered_on, add_years(today, -3)))
        registered_on = min(registered_on, today)
        area = district.sub_district_name(committee)
        name = _name(rng, org_type, area, used_names)
        address = f"上海市杨浦区{rng.choice(ROADS)}{rng.randint(1, 1800)}号"
        if community:
            code = None
            while True:
                identifier = f"BA{committee}{code_rng.getrandbits(24):06X}"
                if identifier not in used_codes:
                    break
            funds, unit = None, None
        else:
            while True:
                body = "MJ" + "".join(code_rng.choice(CREDIT_CODE_CHARSET) for _ in range(7))
                code = make_credit_code(CATEGORY_DIGIT[org_type], DIVISION, body)
                if code not in used_codes:
                    break
            identifier = code
            funds = Decimal(rng.choice(FUNDS[org_type]))
            unit = None if rng.random() < 0.35 else rng.choice(SUPERVISORY_UNITS)
        used_codes.add(identifier)
        specs.append(OrgSpec(index=index, identifier=identifier, code=code, name=name,
                             org_type=org_type, committee=committee, address=address,
                             registered_funds=funds, supervisory_unit=unit,
                             registered_on=registered_on, profile=profile,
                             protected=index == 0))
    return district, specs


def _name(rng: Random, org_type: str, area: str, used: set[str]) -> str:
    for attempt in range(20):
        if org_type == "social_association":
            place = f"{area}街道" if rng.random() < 0.3 else ""
            name = (f"上海市杨浦区{place}{rng.choice(ASSOCIATION_STEMS)}"
                    f"{rng.choice(ASSOCIATION_SUFFIXES)}")
        elif org_type == "social_service_institution":
            place = f"{area}街道" if rng.random() < 0.6 else ""
            name = (f"上海市杨浦区{place}{rng.choice(INSTITUTION_STEMS)}"
                    f"{rng.choice(INSTITUTION_SUFFIXES)}")
        elif org_type == "foundation":
            name = f"上海{rng.choice(FOUNDATION_STEMS)}{rng.choice(('公益', '慈善', '教育'))}基金会"
        else:
            name = (f"{area}街道{rng.choice(COMMUNITY_STEMS)}"
                    f"{rng.choice(COMMUNITY_SUFFIXES)}")
        if attempt >= 10:
            name = name.replace("上海", f"上海{area}", 1) if org_type == "foundation" else \
                name + f"（{attempt - 9}）"
        if name not in used:
            used.add(name)
            return name
    raise AssertionError("no free organization name")  # pragma: no cover


def demo_organization_code(*, orgs: int = DEFAULT_ORGS, years: int = DEFAULT_YEARS,
                           seed: int = DEFAULT_SEED, today: date | None = None) -> str:
    """The code of the organization that the demo-org account represents."""
    _, specs = _plan(Random(seed), max(orgs, 1), years, today or china_today())
    return specs[0].identifier


# ---------------------------------------------------------------------- progress

class Progress:
    """A one-line progress bar on stderr: organizations done, events/s, ETA."""

    def __init__(self, total: int, enabled: bool, stream=None):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.last_draw = 0.0

    def update(self, done: int, events: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        elapsed = max(now - self.started, 1e-6)
        rate = events / elapsed
        eta = elapsed / done * (self.total - done) if done else 0.0
        width = 30
        filled = int(width * done / self.total) if self.total else width
        self.stream.write(f"\r  demo [{'#' * filled}{'.' * (width - filled)}] "
                          f"{done}/{self.total} orgs  {rate:,.0f} events/s  ETA {eta:4.0f}s ")
        self.stream.flush()

    def finish(self, done: int, events: int) -> None:
        if self.enabled:
            self.update(done, events, force=True)
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------- history

class _Generator:
    """Plays each organization's history through the aggregates' commands."""

    def __init__(self, casefiles, rng: Random, seed: int, today: date, district: District,
                 names: list[str]):
        self.casefiles = casefiles
        self.rng = rng
        self.seed = seed
        self.today = today
        self.district = district
        self.names = set(names)
        self.persons: dict[UUID, Person] = {}
        self.person_order: list[UUID] = []
        self.id_numbers: set[str] = set()
        self.touched: dict[UUID, Person] = {}
        self.numbers: dict[tuple[str, int], int] = {}
        self.correlations = 0
        self.refused = 0
        self.refusals: dict[str, int] = {}
        # the organization being played
        self.org: Organization | None = None
        self.spec: OrgSpec | None = None
        self.heap: list = []
        self.seq = 0
        self.now: date | None = None

    # ------------------------------------------------------------ helpers

    def meta(self, actor: tuple[str, str], on: date, reason: str | None = None,
             reference: str | None = None) -> Meta:
        self.correlations += 1
        correlation = uuid5(DEMO_NAMESPACE, f"{self.seed}:{self.correlations}")
        return Meta(actor_id=actor[0], actor_role=actor[1], effective_date=on,
                    correlation_id=str(correlation), reason=reason, reference=reference,
                    imported=True)

    def org_actor(self) -> tuple[str, str]:
        if self.spec.protected:
            return ("demo-org", "organization")
        return (f"org-{self.spec.identifier.lower()}", "organization")

    def number(self, kind: str, year: int) -> str:
        n = self.numbers.get((kind, year), 0) + 1
        self.numbers[(kind, year)] = n
        return f"杨民社{kind}〔{year}〕{n}号"

    def days(self, d: date, low: int, high: int) -> date:
        return d + timedelta(days=self.rng.randint(low, high))

    def in_year(self, year: int, first: tuple[int, int] = (1, 5),
                last: tuple[int, int] = (12, 20)) -> date:
        start, end = date(year, *first), date(year, *last)
        return _weekday(start + timedelta(days=self.rng.randint(0, (end - start).days)))

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
            try:
                action(on, *args)
            except DomainError as e:
                self.refuse(e)

    def refuse(self, error: DomainError) -> None:
        self.refused += 1
        rule = error.rule or type(error).__name__
        self.refusals[rule] = self.refusals.get(rule, 0) + 1

    def touch(self, person: Person) -> None:
        self.touched[person.id] = person

    def person(self, person_id: str) -> Person:
        pid = UUID(person_id)
        person = self.persons.get(pid)
        if person is None:  # led by someone recorded before this run
            person = self.casefiles.get_person(pid)
            self.persons[pid] = person
        return person

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
                reason: str = "负责人任职") -> bool:
        """Appoint a leader the way CaseFiles.appoint_leader does: the organization's
        rules, then the replaced person leaves and the appointee takes the post (rule 8
        is the Person's). A refused appointment changes nothing."""
        rng, org = self.rng, self.org
        official = "none"
        if not plain:
            official = _weighted(rng, (("none", 92), ("retired", 5), ("serving", 3)))
        approval = self.number("干兼", on.year) if official == "serving" else None
        meta = self.meta(STAFF, on, reason, self.number("任", on.year))
        person = None
        if official == "none" and not plain and self.person_order and rng.random() < 0.05:
            candidate = self.persons[rng.choice(self.person_order)]
            if str(candidate.id) not in org.leaders and str(candidate.id) != replaces:
                person = candidate  # someone who already leads another organization
        if person is None:
            name, id_number = self.new_person(on, retired=official == "retired")
            person = self.casefiles.ensure_person(name, id_number, meta)
        public_notice = None
        if replaces is not None or rng.random() < 0.3:
            public_notice = {"from": on - timedelta(days=14), "to": on - timedelta(days=7)}
        term_end = term_end or add_years(on, TERM_YEARS.get(org.org_type, 5))
        # Rule 8 on a copy first, so that a refusal leaves both aggregates untouched.
        copy.deepcopy(person).take_post(organization=org.identifier, roles=roles,
                                        official_status=official, meta=meta)
        org.appoint_leader(person_id=str(person.id), name=person.name,
                           id_number_masked=person.id_number_masked, roles=roles,
                           term_start=on, term_end=term_end, public_notice=public_notice,
                           official_status=official, approval_reference=approval,
                           replaces=replaces, departure_audit_done=replaces is not None,
                           meta=meta)
        if replaces is not None:
            replaced = self.person(replaces)
            replaced.leave_post(organization=org.identifier, meta=meta)
            self.touch(replaced)
        person.take_post(organization=org.identifier, roles=roles, official_status=official,
                         meta=meta)
        if person.id not in self.persons:
            self.persons[person.id] = person
            self.person_order.append(person.id)
            self.id_numbers.add(person.id_number)
        self.touch(person)
        return True

    def appoint_or_fallback(self, on: date, roles: list[str], **kwargs: Any) -> None:
        """A founding appointment: if the drawn person is refused, appoint another."""
        for attempt in range(3):
            try:
                self.appoint(on, roles, plain=attempt > 0, **kwargs)
                return
            except DomainError as e:
                self.refuse(e)

    def close(self, closing: Callable[[], None], meta: Meta) -> None:
        """Like CaseFiles.close_organization: the leaders' posts end with the organization,
        and a revoked or banned organization stays on each leader's record (rule 8)."""
        org = self.org
        persons = [self.person(p) for p in org.leaders]
        closing()
        if org.is_closed:
            for person in persons:
                if org.status == "deregistered":
                    person.leave_post(organization=org.identifier, meta=meta)
                else:
                    person.record_sanctioned_organization(organization=org.identifier,
                                                          status=org.status, meta=meta)
                self.touch(person)

    # ------------------------------------------------------------ one organization

    def play(self, spec: OrgSpec) -> Organization:
        self.spec, self.heap, self.seq, self.now = spec, [], 0, None
        reg = spec.registered_on
        domicile = {"address": spec.address, "jurisdiction": spec.committee}
        if spec.org_type == "community_organization":
            sub = spec.committee[:9] + "000"
            actor = ("demo-street", "sub_district_office") if sub == "310110001000" else (
                f"street-{sub}", "sub_district_office")
            self.org = Organization.record(
                record_number=spec.identifier, code=None, name=spec.name, domicile=domicile,
                business_scope=SCOPES["community_organization"], founded_on=reg,
                meta=self.meta(actor, reg, "社区社会组织备案", self.number("备", reg.year)))
            self.appoint_or_fallback(reg, ["chair"])
            self.plan_community()
        else:
            valid_until = add_years(reg, 5) - timedelta(days=1)
            self.org = Organization.register(
                code=spec.code, name=spec.name, org_type=spec.org_type, domicile=domicile,
                business_scope=SCOPES[spec.org_type], registered_funds=spec.registered_funds,
                supervisory_unit=spec.supervisory_unit, founded_on=reg,
                certificate_valid_until=valid_until,
                meta=self.meta(STAFF, reg, "成立登记", self.number("登", reg.year)))
            self.found_leaders(reg)
            self.plan_registered(valid_until)
        self.run()
        return self.org

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
            if year < self.today.year and not is_exempt_year(reg, year):
                late = rng.random() < P_LATE_REPORT[profile] * 0.5
                report_on = self.in_year(year + 1, (6, 1) if late else (3, 1),
                                         (7, 31) if late else (5, 31))
                if rng.random() >= P_NO_REPORT[profile]:
                    self.at(report_on, self.file_report, year)
                self.at(self.in_year(year + 1, (6, 1), (9, 30)), self.conclude, year)
            if rng.random() < P_INSPECTION[profile]:
                self.at(self.in_year(year, (3, 1), (11, 30)), self.inspect)
            if rng.random() < P_MAJOR_EVENT[profile]:
                self.plan_major_event(self.in_year(year), _weighted(rng, MAJOR_EVENT_WEIGHTS))
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
                            _weighted(rng, PENALTY_WEIGHTS))
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
        rng, spec, org = self.rng, self.spec, self.org
        scale = float(spec.registered_funds or 50000)
        income = scale * rng.uniform(0.3, 3.0)
        org.file_annual_report(
            year=year, income=_money(income), expenditure=_money(income * rng.uniform(0.6, 1.1)),
            net_assets=_money(scale * rng.uniform(0.8, 2.5)),
            activities_held=rng.randint(0, 8) if spec.profile == "poor" else rng.randint(3, 48),
            party_organization=rng.random() < {"good": 0.55, "fair": 0.35, "poor": 0.1}[
                spec.profile],
            meta=self.meta(self.org_actor(), on, f"{year}年度工作报告"))
        for listing in org.active_listings():
            if listing["list"] == "abnormal_activity" and "年度工作报告" in listing["reason"]:
                self.at(self.days(on, 3, 10), self.delist, listing["id"],
                        "已补报年度工作报告，经核实移出活动异常名录")

    def conclude(self, on: date, year: int) -> None:
        rng, org, profile = self.rng, self.org, self.spec.profile
        report = org.annual_reports.get(str(year))
        filed = report is not None
        drawn = rng.choices(("qualified", "basically_qualified", "unqualified"),
                            RESULT_WEIGHTS[profile])[0]
        late = filed and report["filed_on"] > date(year + 1, 5, 31)
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
        org.conclude_annual_inspection(year=year, result=result, findings=findings,
                                       meta=self.meta(STAFF, on, f"{year}年度检查",
                                                      self.number("检", on.year)))
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
        org = self.org
        if org.level is not None and org.level["valid_until"] >= on:
            return
        grade = _weighted(self.rng, (("1A", 5), ("2A", 20), ("3A", 45), ("4A", 25),
                                     ("5A", 5)))
        org.assess_level(grade=grade, meta=self.meta(STAFF, on, "社会组织等级评估",
                                                     self.number("评", on.year)))

    def renew_certificate(self, on: date) -> None:
        org = self.org
        if self.rng.random() >= P_RENEW[self.spec.profile]:
            return
        valid_until = add_years(org.certificate_valid_until, 5)
        org.renew_certificate(valid_until=valid_until,
                              meta=self.meta(STAFF, on, "登记证书换发"))
        self.at(valid_until - timedelta(days=self.rng.randint(5, 80)), self.renew_certificate)

    # ------------------------------------------------------------ supervision

    def inspect(self, on: date) -> None:
        rng, org, profile = self.rng, self.org, self.spec.profile
        on_site = rng.random() < 0.5
        inspectors = rng.sample(INSPECTORS, rng.choice((2, 2, 3))) if on_site else [
            rng.choice(INSPECTORS)]
        items = rng.sample(INSPECTION_ITEMS, rng.randint(3, 5))
        problems = rng.random() < P_PROBLEMS[profile]
        issues = rng.sample(ISSUES, rng.randint(1, 3)) if problems else []
        org.conduct_inspection(items=items, findings="；".join(issues) or "未发现问题",
                               on_site=on_site, inspectors=inspectors, plan_id=None,
                               meta=self.meta(STAFF, on, "双随机一公开抽查",
                                              self.number("查", on.year)))
        if problems and rng.random() < 0.7:
            self.at(self.days(on, 3, 15), self.order_rectification, issues)
        elif rng.random() < (0.4 if problems else 0.1):
            self.at(self.days(on, 3, 15), self.suggest,
                    "规范内部治理，健全财务和档案管理制度")

    def order_rectification(self, on: date, issues: list[str]) -> None:
        rng, profile = self.rng, self.spec.profile
        notice = self.number("整", on.year)
        deadline = self.days(on, 30, 60)
        self.org.order_rectification(notice_number=notice, issues=issues, deadline=deadline,
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
        self.org.follow_up_rectification(notice_number=notice, note="回访：整改正在进行",
                                         meta=self.meta(STAFF, on, "整改回访", notice))

    def complete_rectification(self, on: date, notice: str) -> None:
        org = self.org
        org.complete_rectification(notice_number=notice, note="经回访核实，已完成整改",
                                   meta=self.meta(STAFF, on, "整改完成", notice))
        for listing in org.active_listings():
            if listing["list"] == "abnormal_activity" and notice in listing["reason"]:
                self.at(self.days(on, 1, 5), self.delist, listing["id"],
                        "完成整改，经核实移出活动异常名录")

    def rectification_overdue(self, on: date, notice: str) -> None:
        self.org.mark_rectification_overdue(notice_number=notice,
                                            meta=self.meta(OVERDUE_RULE, on, "整改期限届满",
                                                           notice))

    def suggest(self, on: date, content: str) -> None:
        number = self.number("建", on.year)
        self.org.issue_management_suggestion(number=number, content=content,
                                             meta=self.meta(STAFF, on, "管理建议书", number))

    def penalize(self, on: date, kind: str, reason: str | None = None) -> None:
        rng, org = self.rng, self.org
        decision = f"杨民罚决〔{on.year}〕{self._next('罚', on.year)}号"
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
        meta = self.meta(STAFF, on, reason, decision)
        self.close(lambda: org.impose_penalty(
            decision_number=decision, kind=kind, legal_basis=LEGAL_BASIS[org.org_type],
            amount=amount, decision_date=on, suspended_until=suspended_until, meta=meta), meta)
        if kind == "suspension":
            self.at(self.days(suspended_until, 1, 10), self.resume)
        if kind in ("suspension", "revocation") or (kind == "fine" and amount >= 50000):
            if rng.random() < 0.85:
                self.at(self.days(on, 1, 5), self.list_on, "serious_dishonesty",
                        f"{_PENALTY_NAMES[kind]}（{decision}）")
        elif rng.random() < 0.5:
            self.at(self.days(on, 1, 5), self.list_on, "abnormal_activity",
                    f"受到{_PENALTY_NAMES[kind]}处罚（{decision}）")
        if kind == "revocation":
            legal_rep = next((f for f in reversed(org.former_leaders)
                              if "legal_representative" in f["roles"]), None)
            if legal_rep is not None and rng.random() < 0.4:
                self.ban_person(on, legal_rep["person_id"])
        elif kind in ("warning", "fine") and rng.random() < 0.5:
            self.at(self.days(on, 2, 10), self.interview)
        if kind in ("warning", "fine") and rng.random() < 0.03:
            self.at(self.days(on, 30, 120), self.rescind, decision)

    def _next(self, kind: str, year: int) -> int:
        n = self.numbers.get((kind, year), 0) + 1
        self.numbers[(kind, year)] = n
        return n

    def rescind(self, on: date, decision: str) -> None:
        self.org.rescind_penalty(decision_number=decision,
                                 meta=self.meta(STAFF, on, "行政复议决定撤销原处罚决定"))

    def resume(self, on: date) -> None:
        self.org.resume_activities(meta=self.meta(STAFF, on, "限期停止活动期满，恢复活动"))

    def ban_person(self, on: date, person_id: str) -> None:
        person = self.person(person_id)
        until = None if self.rng.random() < 0.2 else add_years(on, 3)
        person.record_occupational_ban(banned_from=on, banned_until=until,
                                       meta=self.meta(STAFF, on, "对所在社会组织被撤销登记负有"
                                                      "直接责任", self.number("禁", on.year)))
        self.touch(person)

    def list_on(self, on: date, credit_list: str, reason: str) -> None:
        listing = self.org.list_on_credit_list(
            credit_list=credit_list, meta=self.meta(STAFF, on, reason,
                                                    self.number("信", on.year)))
        if credit_list == "abnormal_activity":
            if "处罚" in reason:  # nothing to rectify: out after 6 months (rule 2)
                self.at(self.days(on, 183, 190), self.delist, listing,
                        "列入满6个月且无需整改，移出活动异常名录")
            else:  # two full years on the abnormal list lead to the serious list (rule 3)
                self.at(self.days(add_years(on, 2), 1, 30), self.escalate, listing)
        elif self.rng.random() < 0.6:
            self.at(self.days(add_years(on, 2), 1, 60), self.delist, listing,
                    "满2年未再发生失信行为，信用修复")

    def escalate(self, on: date, listing: str) -> None:
        if self.org.credit_listings[listing]["removed_on"] is None:
            self.list_on(on, "serious_dishonesty", "列入活动异常名录满2年")

    def delist(self, on: date, listing: str, reason: str) -> None:
        self.org.remove_from_credit_list(listing_id=listing,
                                         meta=self.meta(STAFF, on, reason))

    def interview(self, on: date) -> None:
        org = self.org
        legal_rep = org.legal_representative()
        if legal_rep is None:
            return
        org.hold_interview(person_name=org.leaders[legal_rep]["name"],
                           person_role="法定代表人",
                           topics=self.rng.sample(ISSUES, self.rng.randint(1, 2)),
                           meta=self.meta(STAFF, on, "约谈负责人"))

    def warn_legal_representative(self, on: date) -> None:
        legal_rep = self.org.legal_representative()
        if legal_rep is None:
            return
        self.org.warn_leader(person_id=legal_rep,
                             meta=self.meta(STAFF, on, "未履行负责人职责，组织管理混乱"))
        if self.rng.random() < 0.3:
            self.org.order_leader_replacement(
                person_id=legal_rep, deadline=self.days(on, 30, 90),
                meta=self.meta(STAFF, on, "责令撤换法定代表人", self.number("撤", on.year)))

    # ------------------------------------------------------------ major events

    def plan_major_event(self, planned: date, category: str) -> None:
        notice = 60 if category in ("meeting_or_election", "leader_change") else 15
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
        report = org.report_major_event(category=category, planned_date=planned,
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
        org.review_major_event(report_id=report, opinion=opinion, risk_level=risk,
                               meta=self.meta(reviewer, on, "重大事项审核意见"))
        if risk == "high":
            if rng.random() < 0.7:
                self.at(self.days(on, 3, 10), self.interview)
            if rng.random() < 0.3:
                self.at(self.days(on, 5, 20), self.suggest, "加强重大活动风险评估和报告")

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
            new = _name(rng, org.org_type, self.district.sub_district_name(
                org.domicile["jurisdiction"]), self.names)
        else:
            new = rng.choice([u for u in SUPERVISORY_UNITS if u != org.supervisory_unit])
        org.register_change(changes={field: new}, approval_date=on,
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
        meta = self.meta(STAFF, on, "秘书长辞职")
        org.record_leader_departure(person_id=current, departure_reason="个人原因辞职",
                                    departure_audit_done=self.rng.random() < 0.5, meta=meta)
        person = self.person(current)
        person.leave_post(organization=org.identifier, meta=meta)
        self.touch(person)
        self.at(self.days(on, 0, 20), self.appoint_secretary_general)

    def appoint_secretary_general(self, on: date) -> None:
        if self.leader_with("secretary_general") is None:
            self.appoint(on, ["secretary_general"], reason="秘书长任职")

    def term_election(self, on: date) -> None:
        """换届, as CaseFiles.hold_term_election: every serving leader begins a new term."""
        org = self.org
        if org.is_closed or not org.leaders:
            return
        term_end = add_years(on, TERM_YEARS[org.org_type])
        meta = self.meta(STAFF, on, "换届选举", self.number("换", on.year))
        persons = [self.person(p) for p in sorted(org.leaders)]
        for probe in copy.deepcopy(persons):  # rule 8 first, on copies
            probe.begin_new_term(organization=org.identifier, meta=meta)
        org.hold_term_election(term_start=on, term_end=term_end, meta=meta)
        for person in persons:
            person.begin_new_term(organization=org.identifier, meta=meta)
            self.touch(person)
        self.at(term_end - timedelta(days=self.rng.randint(0, 30)), self.term_election)

    # ------------------------------------------------------------ closing

    def deregister(self, on: date) -> None:
        org = self.org
        meta = self.meta(STAFF, on, "经清算，自行申请注销登记", self.number("注", on.year))
        self.close(lambda: org.deregister(meta=meta), meta)

    def ban(self, on: date) -> None:
        org = self.org
        meta = self.meta(STAFF, on, "未经登记擅自以社会组织名义开展活动", self.number("取", on.year))
        self.close(lambda: org.ban(meta=meta), meta)


_PENALTY_NAMES = {"warning": "警告", "fine": "罚款", "confiscation": "没收违法所得",
                  "suspension": "限期停止活动", "revocation": "撤销登记"}


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


# ---------------------------------------------------------------------- entry points

def generate(casefiles, *, orgs: int = DEFAULT_ORGS, years: int = DEFAULT_YEARS,
             seed: int = DEFAULT_SEED, echo: Callable[[str], Any] = print,
             progress: bool = False, today: date | None = None,
             batch_size: int = BATCH_SIZE, taken_id_numbers: set[str] | None = None) -> dict:
    """Generate the demo district into the store and return a summary.

    ``orgs`` registered organizations (plus a tenth as many recorded community
    organizations), with ``years`` years of history before ``today`` (default: today in
    China). The same seed and day give the same district. ``taken_id_numbers``: identity
    numbers already used in the store (by earlier parts of a large data set), not drawn
    again; the new ones are added to it.
    """
    started = time.monotonic()
    today = today or china_today()
    rng = Random(seed)
    district, specs = _plan(rng, max(orgs, 1), years, today)
    MAX_PENDING_EVENTS = 600
    gen = _Generator(casefiles, rng, seed, today, district, [s.name for s in specs])
    if taken_id_numbers is not None:
        gen.id_numbers = taken_id_numbers
    bar = Progress(len(specs), progress)
    events = 0
    batch: list[Organization] = []
    conclusions = {"qualified": 0, "basically_qualified": 0, "unqualified": 0}

    def flush() -> None:
        nonlocal events
        if not batch:
            return
        aggregates = [*batch, *gen.touched.values()]
        try:
            events += len(casefiles.save(*aggregates))
        except IntegrityError:
            raise Conflict("the demo district (or part of it) is already in this store: "
                           "use another store or another seed",
                           rule="demo_already_loaded") from None
        batch.clear()
        gen.touched.clear()

    for done, spec in enumerate(specs, start=1):
        org = gen.play(spec)
        for conclusion in org.conclusions.values():
            conclusions[conclusion["result"]] += 1
        batch.append(org)
        # also flush by the number of pending events: one very large save (over about
        # 500 KiB of events) stalls psycopg's pipelined insert (docs/BENCHMARKS.md)
        pending = sum(len(a.pending_events) for a in batch)
        if len(batch) >= batch_size or pending >= MAX_PENDING_EVENTS:
            flush()
        bar.update(done, events)
    flush()
    bar.finish(len(specs), events)
    seconds = time.monotonic() - started
    registered = sum(1 for s in specs if s.code is not None)
    summary = {"organizations": registered,
               "community_organizations": len(specs) - registered,
               "persons": len(gen.persons), "events": events,
               "refused_by_rules": gen.refused,
               "refusals": dict(sorted(gen.refusals.items())), "conclusions": conclusions,
               "demo_organization": specs[0].identifier, "seconds": round(seconds, 2)}
    echo(f"demo district {DISTRICT} (seed {seed}, {years} years to {today}): "
         f"{registered} organizations and {summary['community_organizations']} community "
         f"organizations, {summary['persons']} leaders, {events} events in {seconds:.1f} s "
         f"({events / max(seconds, 1e-6):,.0f} events/s); {gen.refused} random acts were "
         "refused by the rules and left out")
    return summary


CHUNK_ORGS = 2000  # the demo's name pool gives a few thousand distinct names per district


def generate_many(casefiles, *, orgs: int, years: int = DEFAULT_YEARS,
                  seed: int = DEFAULT_SEED, echo: Callable[[str], Any] = print,
                  progress: bool = False, today: date | None = None) -> dict:
    """A data set of any size: ``generate`` up to 2,000 organizations, above that parts
    of 2,000 with consecutive seeds (each part's own codes and names; one store, one
    pseudonym key, no identity number drawn twice). The summary adds the parts up."""
    if orgs <= CHUNK_ORGS:
        return generate(casefiles, orgs=orgs, years=years, seed=seed, echo=echo,
                        progress=progress, today=today)
    today = today or china_today()
    started = time.monotonic()
    taken: set[str] = set()
    total: dict[str, Any] = {"organizations": 0, "community_organizations": 0, "persons": 0,
                             "events": 0, "refused_by_rules": 0, "parts": 0}
    parts = -(-orgs // CHUNK_ORGS)
    for part in range(parts):
        size = min(CHUNK_ORGS, orgs - part * CHUNK_ORGS)
        summary = generate(casefiles, orgs=size, years=years, seed=seed + part,
                           echo=lambda line, n=part: echo(f"part {n + 1}/{parts}: {line}"),
                           progress=progress, today=today, taken_id_numbers=taken)
        for key in ("organizations", "community_organizations", "persons", "events",
                    "refused_by_rules"):
            total[key] += summary[key]
        total["parts"] += 1
    total["seconds"] = round(time.monotonic() - started, 2)
    echo(f"{total['organizations']} organizations, {total['community_organizations']} "
         f"community organizations, {total['persons']} leaders, {total['events']} events "
         f"in {total['seconds']:.0f} s ({total['events'] / max(total['seconds'], 1e-6):,.0f}"
         " events/s)")
    return total


def _account_exists(casefiles, username: str) -> bool:
    try:
        casefiles.get_account(username)
    except DomainError:
        return False
    return True


def load_demo_once(casefiles, echo: Callable[[str], Any] = print, *,
                   orgs: int = DEFAULT_ORGS, years: int = DEFAULT_YEARS,
                   seed: int = DEFAULT_SEED, progress: bool | None = None,
                   today: date | None = None) -> dict[str, str]:
    """Load the demo district into this store unless it is there already, then print the
    demo accounts with a fresh API token each (passwords only when they are new).
    Returns the tokens by username."""
    today = today or china_today()
    passwords: dict[str, str] = {}
    if not _account_exists(casefiles, MARKER_ACCOUNT):
        demo_org = demo_organization_code(orgs=orgs, years=years, seed=seed, today=today)
        try:
            casefiles.get_organization(demo_org)
        except DomainError:
            echo(f"Loading the demo district ({orgs} organizations, {years} years, "
                 f"seed {seed})...")
            generate(casefiles, orgs=orgs, years=years, seed=seed, echo=echo,
                     progress=sys.stderr.isatty() if progress is None else progress,
                     today=today)
        else:
            echo("The demo organizations are already in this store (an earlier start "
                 "stopped before opening the demo accounts); not loading them again.")
        meta = Meta(actor_id="demo-loader", actor_role="admin", effective_date=today,
                    correlation_id=str(uuid.uuid4()), reason="demo accounts")
        for username, display_name, role, jurisdiction in DEMO_ACCOUNTS:
            if _account_exists(casefiles, username):
                continue
            password = secrets.token_urlsafe(12)
            casefiles.open_account(username=username, password=password,
                                   display_name=display_name, role=role,
                                   jurisdiction=jurisdiction,
                                   organization=demo_org if role == "organization" else None,
                                   meta=meta)
            passwords[username] = password
        if casefiles.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
            from adapters.seed.demo_network import exercise_network

            exercise_network(casefiles, today, echo, seed)
    meta = Meta(actor_id="demo-loader", actor_role="admin", effective_date=today,
                correlation_id=str(uuid.uuid4()), reason="demo token at start")
    tokens: dict[str, str] = {}
    echo("Demo accounts (a fresh API token for each, valid until disabled; "
         "use it as 'Authorization: Bearer TOKEN'):")
    for username, _, role, _ in DEMO_ACCOUNTS:
        try:
            account = casefiles.get_account(username)
            tokens[username] = casefiles.issue_token(username, meta)
        except DomainError as e:
            echo(f"  {username:16} {role:20} unavailable: {e.message}")
            continue
        scope = account.jurisdiction or account.organization or (
            "(all organizations)" if role == "auditor" else "-")
        password = passwords.get(username)
        shown = (f"password: {password}" if password else
                 "(password printed at first start; reset with "
                 f"`casefile accounts password {username}`)")
        echo(f"  {username:16} {role:20} {scope:20} {shown}")
        echo(f"  {'':16} token: {tokens[username]}")
    return tokens
