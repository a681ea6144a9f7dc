"""Chinese (default) and English for the pages, through Flask-Babel.

The messages are English; the Chinese catalog is below, as reviewable source. It is
compiled to a gettext catalog when the application starts, so there is no build step.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel

ZH = {
    "Social organization case files": "社会组织案卷", "Organizations": "社会组织",
    "Network": "预警网络", "Warnings": "预警", "Sign out": "退出", "Sign in": "登录",
    "Username": "用户名", "Password": "密码", "Wrong username or password.": "用户名或密码错误。",
    "Public disclosure": "信息公开", "Not possible": "无法完成", "Not found.": "未找到。",
    "Name or code": "名称或统一社会信用代码", "Status": "状态", "Any status": "全部状态",
    "Risk": "风险", "Any risk": "全部风险", "Search": "查询", "%(n)s found": "共 %(n)s 条",
    "Code": "代码", "Name": "名称", "Latest conclusion": "最近年检结论", "Certificate": "登记证书",
    "In effect on": "生效日期", "As known at": "知悉时间", "Show": "查看", "Now": "当前",
    "Showing the case file as of %(d)s": "显示截至 %(d)s 的案卷", "Profile": "基本信息",
    "Leaders": "负责人", "Filings and inspections": "登记与年检", "Major events": "重大事项",
    "Supervision and penalties": "监管与处罚", "Timeline": "时间线", "Audit trail": "审计轨迹",
    "Type": "类型", "Domicile": "住所", "Business scope": "业务范围", "Registered funds": "注册资金",
    "Supervisory unit": "业务主管单位", "Registered on": "登记日期", "Rating": "评估等级",
    "Identity number": "身份证号", "Roles": "职务", "Term": "任期", "Year": "年度",
    "Annual report": "年度工作报告", "Conclusion": "年检结论", "filed": "已报送",
    "not filed": "未报送", "corrected": "已更正", "Inspections": "检查", "late": "逾期",
    "Rectifications": "整改", "Penalties": "行政处罚", "Credit listings": "信用名单",
    "rescinded": "已撤销", "recorded late": "逾期录入", "Record": "录入", "Cancel": "取消",
    "Verification": "校验", "intact": "完整", "entries": "条", "head": "链头",
    "broken at position %(p)s": "在第 %(p)s 条处被篡改", "Event": "事件", "Who": "操作人",
    "Recorded": "录入时间", "In effect": "生效日期", "Why": "原因", "Changes": "变更",
    "as of %(d)s": "截至 %(d)s", "Active warnings": "在办预警", "High-severity warnings": "高级别预警",
    "Expiring certificates": "证书临期", "Expired certificates": "证书过期",
    "Overdue rectifications": "逾期整改", "Open rectifications": "整改中",
    "No warnings in the last 12 months.": "近 12 个月没有新增预警。",
    "No annual inspections concluded yet.": "尚无年检结论。", "Credit-listed": "列入信用名单",
    "Zombie candidates": "疑似僵尸型", "High-risk major events": "高风险重大事项",
    "Open proposals": "待确认建议", "Warnings by severity per child node": "各下级节点预警（按级别）",
    "Children": "下级节点", "Node": "节点", "Monthly trend: warnings raised": "月度趋势：新增预警",
    "Inspection results by year": "历年年检结果", "Raised": "发起日期", "Organization": "社会组织",
    "Severity": "级别", "Title": "标题", "Level": "层级", "Acknowledge": "签收", "Escalate": "上报",
    "Resolve": "办结", "Note": "办理意见", "Annual inspection conclusions": "年检结论",
    "active": "正常", "suspended": "停止活动", "deregistered": "已注销", "revoked": "已撤销登记",
    "banned": "已取缔", "qualified": "合格", "basically_qualified": "基本合格", "unqualified": "不合格",
    "social_association": "社会团体", "social_service_institution": "社会服务机构",
    "foundation": "基金会", "community_organization": "社区社会组织",
    "abnormal_activity": "活动异常名录", "serious_dishonesty": "严重违法失信名单",
    "warning": "警告", "fine": "罚款", "confiscation": "没收违法所得", "suspension": "限期停止活动",
    "revocation": "撤销登记", "open": "待办", "acknowledged": "已签收", "resolved": "已办结",
    "overdue": "逾期", "completed": "已完成", "low": "低", "medium": "中", "high": "高", "none": "无",
    "committee": "居委会", "sub_district": "街道", "district": "区", "expiring": "临期",
    "expired": "过期", "valid": "有效", "credit_listed": "列入信用名单",
    "overdue_rectification": "逾期整改", "open_rectification": "整改中",
    "high_risk_major_event": "高风险重大事项", "late_major_event": "重大事项逾期报告",
    "certificate_expiring": "证书临期", "certificate_expired": "证书过期",
    "zombie_candidate": "疑似僵尸型", "warning_high": "高级别预警",
    "information_officer": "信息员", "tip_off": "投诉举报", "public_opinion": "舆情监测",
    "rule": "规则", "Accounts": "账户管理", "Role": "角色", "Jurisdiction": "辖区",
    "disabled": "已停用", "Disable": "停用", "Open an account": "新建账户", "Open": "新建",
    "Change a role": "调整角色", "Change": "调整",
    "The password needs at least 12 characters.": "密码至少需要 12 个字符。",
    "Unknown action.": "未知操作。", "Import": "批量导入",
}

LANGUAGES = ("zh", "en")


def _compile(target: Path) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale="zh_Hans_CN", domain="messages")
    for message, translation in ZH.items():
        catalog.add(message, translation)
    folder = target / "zh" / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "messages.mo", "wb") as f:
        write_mo(f, catalog)


def select_locale() -> str:
    wanted = request.args.get("lang") or request.cookies.get("lang") or "zh"
    g.lang = wanted if wanted in LANGUAGES else "zh"
    return g.lang


def init_babel(app: Flask) -> None:
    folder = Path(tempfile.mkdtemp(prefix="casefile-i18n-"))
    _compile(folder)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(folder)
    app.config["BABEL_DEFAULT_LOCALE"] = "zh"
    Babel(app, locale_selector=select_locale)

    @app.after_request
    def remember_language(response):
        if request.args.get("lang") in LANGUAGES:
            response.set_cookie("lang", request.args["lang"], samesite="Lax",
                                max_age=3600 * 24 * 365)
        return response
