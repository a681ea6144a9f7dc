"""Chinese (default) and English for the pages, through Flask-Babel.

The messages are English; the Chinese catalog is below, as reviewable source. It is
compiled to a gettext catalog when the application starts, so there is no build step.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import Flask, g, request
from flask_babel import Babel, get_locale, gettext

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
    # --- branch i15 (issue 15: the trust boundary) ---
    "Look a person up by identity number": "按身份证号查询人员",
    "Record an occupational ban against a person": "对人员作出从业禁止",
    "Wrong username or password, or the account is locked for a while after repeated "
    "failures.": "用户名或密码错误，或账户因多次登录失败已被暂时锁定。",
    "Too many failed sign-ins: try again in %(n)s minutes.":
    "登录失败次数过多，请 %(n)s 分钟后再试。",
    "My account": "我的账户", "Account": "账户", "API tokens": "接口令牌", "Issued": "签发时间",
    "Expires": "到期时间", "Last used": "最近使用", "Revoke": "吊销", "locked": "已锁定",
    "Issue a new API token": "签发新的接口令牌", "Change my password": "修改我的密码",
    "Every session and API token of this account ends with the change: sign in again with "
    "the new password.": "修改后，本账户的全部会话和接口令牌随即失效：请用新密码重新登录。",
    "Current password": "当前密码", "New password": "新密码", "(China time)": "（北京时间）",
    "locked after repeated failed sign-ins until %(t)s": "因多次登录失败锁定至 %(t)s",
    "Lift the lockout": "解除锁定", "until %(t)s": "至 %(t)s", "Previous": "上一页",
    "Next": "下一页", "Set a new password": "重设密码",
    "A password has at least 12 characters, does not contain the username and is not a "
    "common password.": "密码至少 12 个字符，不得包含用户名，不得使用常见密码。",
    "Every session and API token of the account ends with the change.":
    "修改后，该账户的全部会话和接口令牌随即失效。",
    "The current password is wrong.": "当前密码不正确。",
    "Issue an API token": "签发接口令牌", "Revoke one of my API tokens": "吊销我的接口令牌",
    "Revoke an account's API token": "吊销账户的接口令牌",
    "Lift an account's sign-in lockout": "解除账户的登录锁定", "API token": "接口令牌",
}

# ---------------------------------------------------------------- the page forms

# The forms' field names (the JSON API's body fields) as human labels; the English label
# is the message id, its Chinese translation is in FORMS_ZH.
FIELD_LABELS = {
    "activities_held": "Activities held", "amount": "Amount (yuan)",
    "approval_date": "Approval date", "approval_reference": "Approval reference",
    "authority_level": "Authority level", "business_scope": "Business scope",
    "category": "Category", "certificate_valid_until": "Certificate valid until",
    "changes.business_scope": "New business scope", "changes.domicile.address": "New address",
    "changes.domicile.jurisdiction": "New domicile's division code",
    "changes.name": "New name", "changes.registered_funds": "New registered funds",
    "changes.supervisory_unit": "New supervisory unit", "code": "Unified social credit code",
    "content": "Content", "deadline": "Deadline", "decision_date": "Decision date",
    "decision_number": "Decision number", "departure_audit_done": "Departure audit done",
    "departure_reason": "Reason for leaving", "description": "Description",
    "domicile.address": "Address", "domicile.jurisdiction": "Domicile's division code",
    "effective_date": "Date it takes effect", "expenditure": "Expenditure (yuan)",
    "findings": "Findings", "founded_on": "Founded on", "from": "From",
    "grade": "Grade", "id_number": "Identity number", "income": "Income (yuan)",
    "inspectors": "Inspectors", "issues": "Issues", "items": "Items inspected",
    "jurisdiction": "Division code", "kind": "Kind of penalty", "legal_basis": "Legal basis",
    "list": "Credit list", "name": "Name", "net_assets": "Net assets (yuan)", "note": "Note",
    "notice_number": "Notice number", "number": "Number",
    "official_status": "Official status", "on_site": "On site", "opinion": "Opinion",
    "organization": "Organization (credit code)", "party_organization": "Party organization",
    "person.id_number": "Identity number", "person.name": "Name",
    "person_name": "Person's name", "person_role": "Person's post", "plan_id": "Plan number",
    "planned_date": "Planned date", "public_notice.from": "Public notice from",
    "public_notice.to": "Public notice until", "reason": "Reason",
    "reference": "Decision or notice number", "registered_funds": "Registered funds (yuan)",
    "replaces": "Replaces (person id)", "result": "Conclusion", "risk_level": "Risk level",
    "roles": "Roles", "seed": "Random seed", "sent_to": "Sent to", "severity": "Severity",
    "source": "Source", "supervisory_unit": "Supervisory unit",
    "suspended_until": "Suspended until", "term_end": "Term ends", "term_start": "Term starts",
    "title": "Title", "topics": "Topics", "type": "Type", "until": "Until",
    "username": "Username", "valid_until": "Valid until", "year": "Year",
    "parameters": "Parameters", "person_id": "Person id", "id_number_masked": "Identity number",
    "id": "Id", "status": "Status", "version": "Version", "token": "API token",
    "issued_at": "Issued", "expires_at": "Expires", "last_used_at": "Last used",
}

# Each command endpoint's form title (English message id).
FORM_TITLES = {
    "api.register": "Register an organization", "api.record_community":
    "Record a community organization", "api.command_change": "Record a change",
    "api.command_annual_report": "File the annual report",
    "api.command_annual_inspection": "Conclude the annual inspection",
    "api.command_annual_inspection_correction": "Correct an annual-inspection conclusion",
    "api.command_level_assessment": "Record a level assessment",
    "api.command_major_event": "Report a major event",
    "api.command_major_event_review": "Review a major-event report",
    "api.command_inspection": "Record an inspection",
    "api.command_rectification": "Order a rectification",
    "api.command_rectification_follow_up": "Follow up a rectification",
    "api.command_rectification_completion": "Complete a rectification",
    "api.command_management_suggestion": "Give a management suggestion",
    "api.command_resumption": "Resume activities after a suspension",
    "api.command_credit_listing": "List on a credit list",
    "api.command_credit_listing_removal": "Remove from a credit list",
    "api.command_interview": "Record an interview",
    "api.command_leader_warning": "Warn a leader",
    "api.command_leader_replacement_order": "Order a leader's replacement",
    "api.command_certificate_renewal": "Renew the certificate",
    "api.impose_penalty": "Impose a penalty", "api.rescind_penalty": "Rescind a penalty",
    "api.close_deregister": "Deregister", "api.close_revoke": "Revoke the registration",
    "api.close_ban": "Ban an unregistered organization", "api.appoint_leader":
    "Appoint a leader", "api.leader_departure": "Record a leader's departure",
    "api.term_election": "Record a term election",
    "api.lookup_person": "Look a person up by identity number",
    "api.ban_person": "Record an occupational ban against a person",
    "api.occupational_ban": "Record an occupational ban", "api.raise_warning":
    "Raise a warning", "api.warning_acknowledgement": "Acknowledge a warning",
    "api.warning_escalation": "Escalate a warning", "api.warning_resolution":
    "Resolve a warning", "api.change_rule": "Change a rule",
    "api.proposal_confirmation": "Confirm a proposal",
    "api.proposal_rejection": "Reject a proposal", "api.establish_node":
    "Establish a network node", "api.assign_officer": "Assign an information officer",
    "api.remove_officer": "Remove an information officer",
    "api.plan_inspection": "Draw a double-random inspection plan",
    "api.erase_person": "Erase a person's personal data",
    "api.issue_own_token": "Issue an API token",
    "api.revoke_own_token": "Revoke one of my API tokens",
    "api.revoke_token": "Revoke an account's API token",
    "api.lift_lockout": "Lift an account's sign-in lockout",
}

FORMS_ZH = {
    "Activities held": "开展活动次数", "Amount (yuan)": "金额（元）", "Approval date": "核准日期",
    "Approval reference": "批准文号", "Authority level": "实施层级", "Business scope": "业务范围",
    "Category": "类别", "Certificate valid until": "证书有效期至", "New business scope": "新业务范围",
    "New address": "新住所地址", "New domicile's division code": "新住所区划代码",
    "New name": "新名称", "New registered funds": "新注册资金", "New supervisory unit": "新业务主管单位",
    "Unified social credit code": "统一社会信用代码", "Content": "内容", "Deadline": "整改期限",
    "Decision date": "决定日期", "Decision number": "决定书文号", "Departure audit done": "已完成离任审计",
    "Reason for leaving": "离任原因", "Description": "情况描述", "Address": "住所地址",
    "Domicile's division code": "住所区划代码", "Date it takes effect": "生效日期",
    "Expenditure (yuan)": "支出（元）", "Findings": "检查发现", "Founded on": "成立日期",
    "From": "起始日期", "Grade": "等级", "Identity number": "身份证号", "Income (yuan)": "收入（元）",
    "Inspectors": "检查人员", "Issues": "存在问题", "Items inspected": "检查事项", "Division code": "区划代码",
    "Kind of penalty": "处罚种类", "Legal basis": "法律依据", "Credit list": "信用名单", "Name": "名称",
    "Net assets (yuan)": "净资产（元）", "Note": "办理意见", "Notice number": "通知书文号", "Number": "编号",
    "Official status": "公职身份", "On site": "实地检查", "Opinion": "审查意见", "Organization (credit code)":
    "社会组织（统一社会信用代码）", "Party organization": "已建立党组织", "Person's name": "谈话对象姓名",
    "Person's post": "谈话对象职务", "Plan number": "抽查计划编号", "Planned date": "拟举办日期",
    "Public notice from": "公示开始日期", "Public notice until": "公示结束日期", "Reason": "原因",
    "Decision or notice number": "文号", "Registered funds (yuan)": "注册资金（元）",
    "Replaces (person id)": "接替人员（人员编号）", "Conclusion": "年检结论", "Risk level": "风险等级",
    "Roles": "职务", "Random seed": "随机种子", "Sent to": "报送单位", "Severity": "级别", "Source": "来源",
    "Supervisory unit": "业务主管单位", "Suspended until": "停止活动至", "Term ends": "任期结束",
    "Term starts": "任期开始", "Title": "标题", "Topics": "谈话事项", "Type": "类型", "Until": "截止日期",
    "Username": "用户名", "Valid until": "有效期至", "Year": "年度", "Parameters": "参数",
    "Person id": "人员编号", "Id": "编号", "Status": "状态", "Version": "版本",
    # form titles
    "Register an organization": "成立登记", "Record a community organization": "社区社会组织备案",
    "Record a change": "变更登记", "File the annual report": "报送年度工作报告",
    "Conclude the annual inspection": "作出年检结论", "Correct an annual-inspection conclusion":
    "更正年检结论", "Record a level assessment": "录入等级评估", "Report a major event": "报告重大事项",
    "Review a major-event report": "审查重大事项报告", "Record an inspection": "录入检查",
    "Order a rectification": "责令整改", "Follow up a rectification": "整改跟踪",
    "Complete a rectification": "整改完成", "Give a management suggestion": "提出管理建议",
    "Resume activities after a suspension": "恢复活动", "List on a credit list": "列入信用名单",
    "Remove from a credit list": "移出信用名单", "Record an interview": "约谈",
    "Warn a leader": "警告负责人", "Order a leader's replacement": "责令撤换负责人",
    "Renew the certificate": "换发登记证书", "Impose a penalty": "行政处罚", "Rescind a penalty":
    "撤销行政处罚", "Deregister": "注销登记", "Revoke the registration": "撤销登记",
    "Ban an unregistered organization": "取缔非法社会组织", "Appoint a leader": "任命负责人",
    "Record a leader's departure": "负责人离任", "Record a term election": "换届",
    "Register a person": "登记人员", "Record an occupational ban": "从业禁止",
    "Raise a warning": "发起预警", "Acknowledge a warning": "签收预警", "Escalate a warning": "上报预警",
    "Resolve a warning": "办结预警", "Change a rule": "调整规则参数", "Confirm a proposal": "确认建议",
    "Reject a proposal": "驳回建议", "Establish a network node": "设立网络节点",
    "Assign an information officer": "指派信息员", "Remove an information officer": "撤回信息员",
    "Draw a double-random inspection plan": "双随机抽查",
    "Erase a person's personal data": "删除个人信息（销毁密钥）",
    # the form pages
    "Recorded.": "已录入。", "Back": "返回", "One item per line.": "每行一项。",
    "One key=value per line.": "每行一个 参数=值。", "Actions": "操作", "Proposals": "待确认建议",
    "Confirm": "确认", "Reject": "驳回", "Rules": "规则", "Record for this organization": "办理事项",
    "More": "更多", "Raise a warning about this organization": "对该组织发起预警",
    "Follow up": "跟踪", "Complete": "完成", "Rescind": "撤销", "Remove": "移出", "Review": "审查",
    "Correct": "更正", "Departure": "离任", "Replacement order": "责令撤换", "Occupational ban": "从业禁止",
    "Kind": "类别", "Officers": "信息员", "API reference": "接口文档",
    # the choices of the forms' lists
    "city": "市级", "province": "省级", "charter_change": "章程修改", "domicile_change": "住所变更",
    "foreign_exchange": "对外交流合作", "important_activity": "重大活动",
    "large_financial_transaction": "大额资金往来", "leader_change": "负责人变动",
    "litigation": "涉诉事项", "meeting_or_election": "召开会员（代表）大会或换届", "other": "其他",
    "safety_incident": "安全事故", "1A": "1A 级", "2A": "2A 级", "3A": "3A 级", "4A": "4A 级",
    "5A": "5A 级", "retired": "退（离）休公职人员", "serving": "在职公职人员", "chair": "会长（理事长）",
    "legal_representative": "法定代表人", "secretary_general": "秘书长", "supervisor": "监事",
    "party_building_body": "党建工作机构", "registration_authority": "登记管理机关",
    "supervisory_unit": "业务主管单位",
    # the API's messages, by kind (placeholders: the field's label, the values)
    "%(field)s is required.": "%(field)s为必填项。",
    "%(field)s must not be empty.": "%(field)s不能为空。",
    "%(field)s must not be empty or null.": "%(field)s不能为空。",
    "%(field)s is longer than %(n)s characters.": "%(field)s超过 %(n)s 个字符。",
    "%(field)s: choose one of the listed values.": "%(field)s：请从列出的选项中选择。",
    "%(field)s must be a date YYYY-MM-DD.": "%(field)s须为日期（年-月-日）。",
    "%(field)s: %(value)s is not a real date.": "%(field)s：%(value)s 不是有效日期。",
    "%(field)s must be a number.": "%(field)s须为数字。",
    "%(field)s must not be less than %(n)s.": "%(field)s不能小于 %(n)s。",
    "%(field)s is too large.": "%(field)s数值过大。",
    "%(field)s has more than two decimals.": "%(field)s最多保留两位小数。",
    "%(field)s must be a whole number.": "%(field)s须为整数。",
    "%(field)s must be between %(a)s and %(b)s.": "%(field)s须在 %(a)s 至 %(b)s 之间。",
    "%(field)s must be ticked or not.": "%(field)s须为是或否。",
    "%(field)s has more than %(n)s items.": "%(field)s超过 %(n)s 项。",
    "%(field)s is not valid.": "%(field)s格式不正确。",
    "%(field)s holds characters that are not allowed.": "%(field)s含有不允许的字符。",
    "%(field)s is not a field of this form.": "%(field)s不是本表单的字段。",
    "%(field)s must be an 18-character unified social credit code.":
    "%(field)s须为 18 位统一社会信用代码。",
    "%(field)s: positions 3-8 must be the 6-digit division code.":
    "%(field)s：第 3-8 位须为 6 位行政区划代码。",
    "%(field)s fails its check character.": "%(field)s校验位不正确。",
    "%(field)s must be an 18-character identity number.": "%(field)s须为 18 位身份证号。",
    "%(field)s holds an impossible birth date.": "%(field)s中的出生日期不存在。",
    "%(field)s must be a 12-digit statistical division code.": "%(field)s须为 12 位统计用区划代码。",
    "%(field)s is in the future: record what has taken effect.":
    "%(field)s不能晚于今天：请录入已生效的事项。",
    "%(field)s must not be before %(other)s.": "%(field)s不能早于%(other)s。",
    "%(field)s must be after the date the order takes effect.": "%(field)s须晚于该决定的生效日期。",
    "%(field)s must not be after the date it takes effect.": "%(field)s不能晚于生效日期。",
    "%(field)s must be after %(other)s.": "%(field)s须晚于%(other)s。",
    "%(field)s must not be after %(other)s.": "%(field)s不能晚于%(other)s。",
    "%(field)s must say why or what.": "请填写%(field)s（说明原因或内容）。",
    "%(field)s must be a residents' or village committee's division code.":
    "%(field)s须为居委会或村委会的区划代码。",
    "%(field)s must not repeat a name.": "%(field)s不能重复。",
    "%(field)s must not be negative.": "%(field)s不能为负数。",
    "%(field)s is the same as now.": "%(field)s与现值相同。",
    "Your role may not do this.": "您的角色无权办理此事项。",
    "This lies outside your jurisdiction.": "该事项不在您的管辖范围内。",
    "Sign in again.": "请重新登录。", "The form has expired: reload the page.": "表单已过期，请刷新页面后重试。",
    "Someone changed this in the meantime: reload and try again.": "该记录已被他人修改，请刷新后重试。",
    "A business rule refuses this (%(rule)s).": "不符合业务规则（%(rule)s）。",
    "This input was refused.": "输入未被接受。",
}

# A domain rule's refusal (the API's error code is the rule's name), in Chinese; the
# English pages show the API's own message, which names the particulars.
RULES_ZH = {
    "account_disabled": "该账户已停用。", "already_a_leader": "此人已担任该组织负责人。",
    "already_acknowledged": "该预警已签收。", "already_assigned": "该信息员已指派。",
    "already_listed": "该组织已列入此信用名单。", "already_overdue": "已逾期。",
    "already_registered": "该组织已登记。", "already_removed": "已移出。",
    "already_rescinded": "该处罚已撤销。", "already_suspended": "该组织已在停止活动期间。",
    "already_ticked": "该日已处理。", "ban_unregistered_only": "只能取缔未经登记的组织。",
    "before_registration": "日期早于成立登记日期。", "closed_organization": "该组织已注销、撤销或取缔。",
    "credit_code_check_character": "统一社会信用代码校验位不正确。",
    "deadline_not_passed": "期限尚未届满。", "departure_audit_required": "须先完成离任审计。",
    "duplicate_plan_number": "抽查计划编号已存在。", "expected_version": "该记录已被他人修改，请刷新后重试。",
    "idempotency_key_reused": "重复提交的请求内容不一致。",
    "identity_number_in_text": "文字内容中含有身份证号码：请删除该号码，另将此人作为人员登记。",
    "led_sanctioned_organization": "此人曾担任被处罚组织的负责人，不得任职。",
    "no_conclusion": "该年度尚无年检结论。", "no_leaders": "该组织没有在任负责人。",
    "node_exists": "该节点已存在。", "not_a_leader": "此人不是该组织的负责人。",
    "not_assigned": "该信息员未指派到此节点。", "not_suspended": "该组织不在停止活动期间。",
    "occupational_ban": "此人处于从业禁止期间。", "one_annual_report_per_year": "该年度的年度工作报告已报送。",
    "one_conclusion_per_year": "该年度已有年检结论。", "one_legal_representative": "法定代表人只能有一名。",
    "one_review_per_report": "该重大事项报告已审查。", "proposal_decided": "该建议已处理。",
    "public_notice_period": "任前公示期不符合要求。", "rating_basically_qualified_twice":
    "连续两年年检基本合格，不得参加评估。", "rating_credit_listed": "列入信用名单的组织不得参加评估。",
    "rating_last_inspection": "上一年度年检不合格，不得参加评估。",
    "rating_penalized_last_year": "上一年度受过行政处罚，不得参加评估。",
    "rating_registered_two_years": "成立登记未满两年，不得参加评估。",
    "rectification_completed": "该整改已完成。", "registered_only": "仅适用于已登记的组织。",
    "retired_official_age": "退休领导干部超过任职年龄。", "retired_official_one_post": "退休领导干部只能兼任一个职务。",
    "retired_official_two_terms": "退休领导干部任职不得超过两届。",
    "revocation_not_in_effect": "撤销登记决定尚未生效。", "serving_official_approval": "在职公职人员任职须有批准文号。",
    "six_month_exemption": "成立未满六个月，当年免于年检。", "suspension_in_force": "该组织处于停止活动期间。",
    "top_of_network": "已是网络的最高层级。", "two_inspectors_on_site": "实地检查须有两名以上检查人员。",
    "unfiled_report_unqualified": "未报送年度工作报告，年检结论只能为不合格。",
    "unknown_listing": "没有该信用名单记录。", "unknown_node": "没有该网络节点。",
    "unknown_penalty": "没有该处罚决定。", "unknown_proposal": "没有该建议。",
    "unknown_rectification": "没有该整改通知。", "unknown_report": "没有该重大事项报告。",
    "unknown_rule": "没有该规则。", "unknown_warning": "没有该预警。",
    "warning_resolved": "该预警已办结。", "year_not_ended": "该年度尚未结束。",
    "demo_already_loaded": "演示数据已加载。", "not_found": "未找到。",
    # --- branch i15 (issue 15: the trust boundary) ---
    "password_too_short": "密码太短：至少需要 12 个字符。",
    "password_too_long": "密码太长。",
    "password_contains_username": "密码不得包含用户名或姓名。",
    "password_too_common": "这是常见或容易猜到的密码，请换一个。",
    "unknown_token": "没有该接口令牌。", "not_locked": "该账户未被锁定。",
    "personal_data_erased": "此人的个人信息已删除，不能再以此记录办理。",
    "unknown_parameter": "该规则没有此参数。", "parameter_type": "参数值的类型不正确。",
}

# The API's messages, matched by their form (adapters/web/validation.py and the checks in
# domain/codes.py): (pattern, message id); the pattern's ``f`` is the field's path.
MESSAGE_PATTERNS = [
    (r"(?P<f>\S+) is required", "%(field)s is required."),
    (r"(?P<f>\S+) must not be (empty|null)", "%(field)s must not be empty."),
    (r"(?P<f>\S+) is longer than (?P<n>[0-9]+) characters",
     "%(field)s is longer than %(n)s characters."),
    (r"(?P<f>\S+) must be one of .*", "%(field)s: choose one of the listed values."),
    (r"(?P<f>\S+) must be a date YYYY-MM-DD", "%(field)s must be a date YYYY-MM-DD."),
    (r"(?P<f>\S+) is not a real date: (?P<value>.*)", "%(field)s: %(value)s is not a real date."),
    (r"(?P<f>\S+) must be a (finite )?number", "%(field)s must be a number."),
    (r"(?P<f>\S+) must not be less than (?P<n>\S+)", "%(field)s must not be less than %(n)s."),
    (r"(?P<f>\S+) is too large", "%(field)s is too large."),
    (r"(?P<f>\S+) has more than two decimals", "%(field)s has more than two decimals."),
    (r"(?P<f>\S+) must be a whole number", "%(field)s must be a whole number."),
    (r"(?P<f>\S+) must be between (?P<a>\S+) and (?P<b>\S+)",
     "%(field)s must be between %(a)s and %(b)s."),
    (r"(?P<f>\S+) must be true or false", "%(field)s must be ticked or not."),
    (r"(?P<f>\S+) has more than (?P<n>[0-9]+) items", "%(field)s has more than %(n)s items."),
    (r"(?P<f>\S+) must be (a string|a list|a JSON object)", "%(field)s is not valid."),
    (r"(?P<f>\S+) holds (characters that are not valid Unicode|a NUL character)",
     "%(field)s holds characters that are not allowed."),
    (r"unknown field (?P<f>[^;]+);.*", "%(field)s is not a field of this form."),
    (r"(?P<f>\S+) must be an 18-character unified social credit code",
     "%(field)s must be an 18-character unified social credit code."),
    (r"(?P<f>\S+) positions 3-8 must be the 6-digit division code",
     "%(field)s: positions 3-8 must be the 6-digit division code."),
    (r"(?P<f>\S+) fails its check character", "%(field)s fails its check character."),
    (r"(?P<f>\S+) must be an 18-character identity number",
     "%(field)s must be an 18-character identity number."),
    (r"(?P<f>\S+) holds an impossible birth date", "%(field)s holds an impossible birth date."),
    (r"(?P<f>\S+) must be a 12-digit statistical division code",
     "%(field)s must be a 12-digit statistical division code."),
    (r"(?P<f>\S+) \S+ is in the future.*",
     "%(field)s is in the future: record what has taken effect."),
    (r"(?P<f>\S+) must not be before (?P<other>\S+)", "%(field)s must not be before %(other)s."),
    (r"parameters must be an object.*", "%(field)s is not valid."),
    (r"(?P<f>\S+) must be after the order's effective date",
     "%(field)s must be after the date the order takes effect."),
    (r"(?P<f>\S+) must not be after the (registration's )?effective date",
     "%(field)s must not be after the date it takes effect."),
    (r"(?P<f>\S+) must be after (?P<other>[a-z_.]+)", "%(field)s must be after %(other)s."),
    (r"(?P<f>\S+) must not be after (?P<other>[a-z_.]+)",
     "%(field)s must not be after %(other)s."),
    (r"(?P<f>\S+) must (say|list|name) .*", "%(field)s must say why or what."),
    (r"(?P<f>\S+) must be a residents' or village committee .*",
     "%(field)s must be a residents' or village committee's division code."),
    (r"(?P<f>\S+) must not repeat a name", "%(field)s must not repeat a name."),
    (r"(?P<f>\S+) must not be negative", "%(field)s must not be negative."),
    (r"(?P<f>\S+) is the same as the current value", "%(field)s is the same as now."),
]
CODE_MESSAGES = {
    "forbidden": "Your role may not do this.",
    "forbidden_jurisdiction": "This lies outside your jurisdiction.",
    "unauthenticated": "Sign in again.", "csrf": "The form has expired: reload the page.",
    "version_conflict": "Someone changed this in the meantime: reload and try again.",
    "not_found": "Not found.",
}


def field_label(name: str) -> str:
    """A form field's human label in the page's language."""
    name = re.sub(r"\[[0-9]+\]", "", name or "")
    english = FIELD_LABELS.get(name) or FIELD_LABELS.get(name.rsplit(".", 1)[-1])
    return gettext(english) if english else name


def form_title(endpoint: str) -> str:
    english = FORM_TITLES.get(endpoint)
    return gettext(english) if english else endpoint.split(".")[-1].replace("_", " ")


def translate_error(error: dict) -> str:
    """The API's error (status, code, message, field) as a message for the page, in its
    language: by the message's form for malformed input, by the error code for refusals
    and by the rule's name for a domain rule. The JSON API's messages stay as they are."""
    message, code = error.get("message") or "", error.get("code") or ""
    chinese = str(get_locale() or "zh").startswith("zh")
    if code == "invalid_value" or code == "":
        for pattern, template in MESSAGE_PATTERNS:
            match = re.fullmatch(pattern, message.strip(), re.S)
            if match:
                values = match.groupdict()
                field = values.pop("f", None) or error.get("field") or ""
                values = {k: (field_label(x) if k == "other" else x)
                          for k, x in values.items()}
                return gettext(template, field=field_label(field), **values)
        return gettext("This input was refused.") + (f" ({message})" if not chinese else "")
    if code in CODE_MESSAGES:
        return gettext(CODE_MESSAGES[code])
    if chinese and code in RULES_ZH:
        return RULES_ZH[code]
    if chinese:
        return gettext("A business rule refuses this (%(rule)s).", rule=code)
    return message


LANGUAGES = ("zh", "en")


def _compile(target: Path) -> None:
    catalog = Catalog(locale="zh_Hans_CN", domain="messages")
    for message, translation in {**ZH, **FORMS_ZH}.items():
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
