"""The demo district as data, and the plan of its organizations.

The district is modelled on Shanghai's Yangpu district (杨浦区, division code
``310110000000``, about 850 organizations, 12 sub-districts) and the annual-inspection
pass rates of Jintan (about 40% qualified, 11% basically qualified, 49% unqualified); see
DOMAIN.md section 7. Here: its layout, the words its names and records are made of, the
odds of each act by an organization's profile, and ``plan``: every organization's basic
facts, drawn from ``random.Random(seed)`` in a fixed order (adapters.seed.demo_history
then plays each one's years of filings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from domain.calendar import add_years, is_working_day
from domain.codes import CREDIT_CODE_CHARSET, make_credit_code

DISTRICT = "310110000000"
DIVISION = "310110"
# The twelve sub-districts of Yangpu (short names, as used in organization names).
SUB_DISTRICT_NAMES = ("定海路", "平凉路", "江浦路", "四平路", "控江路", "长白新村", "延吉新村",
                      "殷行", "大桥", "五角场", "新江湾城", "长海路")
ROADS = ("国权路", "政通路", "控江路", "长阳路", "平凉路", "黄兴路", "殷行路", "国和路",
         "淞沪路", "营口路", "隆昌路", "四平路", "大连路", "杨树浦路", "江浦路", "翔殷路",
         "包头路", "民京路", "国定路", "邯郸路", "政立路", "开鲁路")

# The demo account "demo-org" represents the first organization, in this committee.
DEMO_ORG_COMMITTEE = "310110001001"
# Who acts in the history (the demo accounts of adapters.seed.demo, and the clock's rule).
STAFF = ("demo-staff", "registration_staff")
SUPERVISOR = ("demo-supervisor", "supervisory_unit")
OVERDUE_RULE = ("rule:abnormal_activity_listing@v1", "system")  # as the rules engine records it

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
# The unit the demo-supervisor account is (domain.access.supervised_by): it sees the
# organizations that name it as their supervisory unit.
DEMO_SUPERVISORY_UNIT = SUPERVISORY_UNITS[0]
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

PENALTY_NAMES = {"warning": "警告", "fine": "罚款", "confiscation": "没收违法所得",
                  "suspension": "限期停止活动", "revocation": "撤销登记"}


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


def weighted(rng: Random, pairs) -> Any:
    """One of the (value, weight) pairs' values, drawn by weight."""
    values = [p[0] for p in pairs]
    weights = [p[1] for p in pairs]
    return rng.choices(values, weights)[0]


def _layout(rng: Random) -> District:
    committees = {}
    for n in range(1, len(SUB_DISTRICT_NAMES) + 1):
        sub = f"{DIVISION}{n:03d}000"
        committees[sub] = [f"{DIVISION}{n:03d}{c:03d}" for c in range(1, rng.randint(4, 8) + 1)]
    return District(committees)


def working_day(d: date) -> date:
    """The day itself if a working day, else the next working day."""
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def _derived_seed(rng: Random) -> int:
    return rng.getrandbits(64)


def plan(rng: Random, orgs: int, years: int, today: date) -> tuple[District, list[OrgSpec]]:
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
            org_type = "community_organization" if community else weighted(rng, TYPE_WEIGHTS)
            committee = rng.choice(all_committees)
            profile = weighted(rng, PROFILES)
        # More organizations early in the span (the district's existing stock), fewer
        # new ones each year: density falls from about 1.4 to 0.6 of the average.
        share = rng.random()
        if rng.random() < 0.4:
            share = 1 - share ** 0.5
        registered_on = working_day(span_start + timedelta(days=int(share * span_days)))
        if index == 0:  # old enough to have a few years of reports
            registered_on = working_day(min(registered_on, add_years(today, -3)))
        registered_on = min(registered_on, today)
        area = district.sub_district_name(committee)
        name = organization_name(rng, org_type, area, used_names)
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


def organization_name(rng: Random, org_type: str, area: str, used: set[str]) -> str:
    """A name of the type's pattern, in the sub-district ``area``, not in ``used``."""
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

