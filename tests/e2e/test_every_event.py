"""Every event type of the Organization and Person aggregates, recorded through the JSON
API and read back: the organization's state, its event list (type, actor, role, effective
date, reason, reference, in order) and the ETag. Identity numbers never appear in full."""

from __future__ import annotations

import re
from urllib.parse import quote

from domain.codes import id_number_check_character
from tests.conftest import stored_event_count
from tests.support import (ACCOUNTS, COMMITTEE, SUPERVISORY_UNIT, code, id_number,
                           registration)

API = "/api/v1"
FULL_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")


def masked(number: str) -> str:
    return number[:3] + "*" * 11 + number[-4:]


class CaseFile:
    """One organization's case as the test expects it: every write is posted through the
    API, checked (status, ETag, version) and logged as the events it should record."""

    def __init__(self, api, identifier: str):
        self.api = api
        self.identifier = identifier
        self.path = f"{API}/organizations/{identifier}"
        self.log: list[dict] = []
        self.id_numbers: set[str] = set()

    def write(self, path: str, body: dict, *, types: list[str], as_: str = "staff",
              status: int = 200) -> dict:
        url = path if path.startswith("/") else f"{self.path}/{path}"
        response = self.api.post(url, body, as_=as_)
        assert response.status_code == status, response.get_json()
        doc = response.get_json()
        assert response.headers["ETag"] == f'"{doc["version"]}"'
        assert doc["organization"]["version"] == doc["version"]
        assert doc["organization"]["identifier"] == self.identifier
        for event_type in types:
            self.log.append({"type": event_type, "actor_id": as_,
                             "actor_role": ACCOUNTS[as_][0],
                             "effective_date": body["effective_date"],
                             "reason": body.get("reason"), "reference": body.get("reference")})
        assert doc["version"] == len(self.log), [e["type"] for e in self.log]
        assert_no_full_id_number(response.get_data(as_text=True), self.id_numbers)
        return doc

    def state(self, as_: str = "staff") -> dict:
        response = self.api.get(self.path, as_=as_)
        assert response.status_code == 200, response.get_json()
        assert response.headers["ETag"] == f'"{len(self.log)}"'
        assert response.get_json()["version"] == len(self.log)
        assert_no_full_id_number(response.get_data(as_text=True), self.id_numbers)
        return response.get_json()

    def events(self, as_: str = "staff") -> list[dict]:
        response = self.api.get(f"{self.path}/events", as_=as_)
        assert response.status_code == 200, response.get_json()
        assert_no_full_id_number(response.get_data(as_text=True), self.id_numbers)
        events = response.get_json()["events"]
        assert [e["type"] for e in events] == [e["type"] for e in self.log]
        assert [e["version"] for e in events] == list(range(1, len(self.log) + 1))
        for event, expected in zip(events, self.log):
            meta = event["meta"]
            got = {"type": event["type"], "actor_id": meta["actor_id"],
                   "actor_role": meta["actor_role"], "effective_date": meta["effective_date"],
                   "reason": meta["reason"], "reference": meta["reference"]}
            assert got == expected
            assert meta["correlation_id"]
            assert event["recorded_at"]
        return events


def assert_no_full_id_number(text: str, numbers: set[str]) -> None:
    for number in numbers:
        assert number not in text
    for candidate in FULL_ID_NUMBER.findall(text):  # anything shaped like one
        assert id_number_check_character(candidate[:17]) != candidate[17], candidate


def subset(actual: dict, expected: dict) -> bool:
    return {k: actual.get(k) for k in expected} == expected


def person(name: str, number: str) -> dict:
    return {"name": name, "id_number": number}


def by_type(events: list[dict], event_type: str) -> list[dict]:
    return [e for e in events if e["type"] == event_type]


# ------------------------------------------------------------------------ the long case

def test_every_event_of_a_registered_organization(api, pg_app):
    case = CaseFile(api, code(1))
    p1, p2, p3, p4 = (id_number("19700101", 1), id_number("19650315", 2),
                      id_number("19800620", 3), id_number("19751111", 4))
    case.id_numbers |= {p1, p2, p3, p4}

    # ---- filings: registered, changed, two annual reports, conclusions, rating
    reg = registration(1, reference="沪杨民社登〔2020〕1号", supervisory_unit=SUPERVISORY_UNIT)
    doc = case.write(f"{API}/organizations", reg, types=["Registered"], status=201)
    assert doc["organization"]["status"] == "active"
    assert doc["organization"]["registered_on"] == "2020-05-01"

    doc = case.write("changes", {
        "changes": {"name": "杨浦区示例志愿者联合会", "registered_funds": 50000},
        "approval_date": "2021-02-26", "effective_date": "2021-03-01",
        "reason": "会员大会决议更名", "reference": "杨民社变〔2021〕3号"},
        types=["ChangeRegistered"])
    org = doc["organization"]
    assert org["name"] == "杨浦区示例志愿者联合会" and org["registered_funds"] == 50000
    assert org["changes"][0]["changes"]["name"] == {"old": reg["name"],
                                                    "new": "杨浦区示例志愿者联合会"}
    assert org["changes"][0]["changes"]["registered_funds"] == {"old": 30000, "new": 50000}
    assert org["changes"][0]["approval_date"] == "2021-02-26"

    report_2020 = {"year": 2020, "income": 120000.5, "expenditure": 98000,
                   "net_assets": -1500.25, "activities_held": 12, "party_organization": False,
                   "full_time_staff": 9, "effective_date": "2021-04-20", "reason": "2020年度工作报告",
                   "reference": "NB-2020-0001"}
    doc = case.write("annual-reports", report_2020, types=["AnnualReportFiled"])
    assert doc["organization"]["annual_reports"] == [{
        "year": 2020, "income": 120000.5, "expenditure": 98000, "net_assets": -1500.25,
        "activities_held": 12, "party_organization": False, "full_time_staff": 9,
        "filed_on": "2021-04-20"}]

    case.write("annual-inspections", {
        "year": 2020, "result": "qualified", "findings": "材料齐全",
        "effective_date": "2021-06-15", "reference": "杨民社检〔2021〕1号"},
        types=["AnnualInspectionConcluded"])
    case.write("annual-reports", {
        "year": 2021, "income": 90000, "expenditure": 91000, "net_assets": 3000,
        "activities_held": 8, "party_organization": True, "effective_date": "2022-04-10",
        "reason": "代为录入纸质报告"}, types=["AnnualReportFiled"])
    case.write("annual-inspections", {
        "year": 2021, "result": "basically_qualified", "findings": "财务制度不健全",
        "effective_date": "2022-06-01", "reference": "杨民社检〔2022〕1号"},
        types=["AnnualInspectionConcluded"])
    doc = case.write("annual-inspections/2021/correction", {
        "result": "qualified", "findings": "复核后财务制度已健全",
        "effective_date": "2022-07-01", "reason": "复核发现新材料",
        "reference": "杨民社检更〔2022〕1号"}, types=["AnnualInspectionCorrected"])
    conclusions = {c["year"]: c for c in doc["organization"]["annual_inspections"]}
    assert conclusions[2020]["result"] == "qualified"
    assert conclusions[2021]["result"] == "qualified"
    assert conclusions[2021]["corrections"] == [{
        "previous_result": "basically_qualified", "result": "qualified",
        "findings": "复核后财务制度已健全", "corrected_on": "2022-07-01"}]

    doc = case.write("level-assessments", {
        "grade": "3A", "effective_date": "2022-09-01", "reference": "杨民社评〔2022〕5号"},
        types=["LevelAssessed"])
    assert doc["organization"]["level"] == {"grade": "3A", "assessed_on": "2022-09-01",
                                            "valid_until": "2027-08-31"}

    # ---- leadership
    doc = case.write("leaders", {
        "person": person("张建国", p1), "roles": ["legal_representative", "chair"],
        "term_start": "2023-01-01", "term_end": "2027-12-31",
        "public_notice": {"from": "2022-12-01", "to": "2022-12-07"},
        "official_status": "none", "effective_date": "2023-01-05",
        "reference": "理事会决议2023-1"}, types=["LeaderAppointed"], status=201)
    id1 = doc["person_id"]
    assert doc["organization"]["legal_representative"] == id1
    doc = case.write("leaders", {
        "person": person("李卫东", p2), "roles": ["secretary_general"],
        "term_start": "2023-01-01", "term_end": "2027-12-31", "official_status": "serving",
        "approval_reference": "沪组干〔2022〕12号", "effective_date": "2023-01-05"},
        types=["LeaderAppointed"], status=201)
    id2 = doc["person_id"]
    doc = case.write("leaders", {
        "person": person("王芳", p3), "roles": ["supervisor"], "term_start": "2023-01-01",
        "term_end": "2027-12-31", "effective_date": "2023-01-05"},
        types=["LeaderAppointed"], status=201)
    id3 = doc["person_id"]
    leaders = {l["person_id"]: l for l in doc["organization"]["leaders"]}
    assert leaders[id1]["id_number_masked"] == masked(p1)
    assert leaders[id1]["roles"] == ["legal_representative", "chair"]
    assert leaders[id1]["public_notice"] == {"from": "2022-12-01", "to": "2022-12-07"}
    assert leaders[id2]["approval_reference"] == "沪组干〔2022〕12号"
    assert leaders[id2]["official_status"] == "serving"

    doc = case.write(f"leaders/{id3}/departure", {
        "departure_reason": "个人原因辞职", "departure_audit_done": False,
        "effective_date": "2023-03-01", "reason": "辞职"}, types=["LeaderDeparted"])
    assert id3 not in {l["person_id"] for l in doc["organization"]["leaders"]}
    assert doc["organization"]["former_leaders"][0]["departure_reason"] == "个人原因辞职"

    doc = case.write("leaders", {
        "person": person("赵明", p4), "roles": ["legal_representative"], "replaces": id1,
        "departure_audit_done": True, "term_start": "2023-04-01", "term_end": "2027-12-31",
        "effective_date": "2023-04-01", "reason": "法定代表人变更",
        "reference": "杨民社变〔2023〕2号"},
        types=["LeaderDeparted", "LeaderAppointed"], status=201)
    id4 = doc["person_id"]
    org = doc["organization"]
    assert org["legal_representative"] == id4
    assert {l["person_id"] for l in org["leaders"]} == {id2, id4}
    former = {l["person_id"]: l for l in org["former_leaders"]}
    assert former[id1]["departure_reason"] == "replaced"
    assert former[id1]["departure_audit_done"] is True

    doc = case.write("term-elections", {
        "term_start": "2023-05-10", "term_end": "2028-05-09", "effective_date": "2023-05-12",
        "reason": "第二届理事会换届", "reference": "换届备案2023-3"},
        types=["TermElectionHeld"], status=201)
    assert doc["organization"]["term_elections"] == [{
        "term_start": "2023-05-10", "term_end": "2028-05-09", "held_on": "2023-05-12",
        "leaders": sorted([id2, id4])}]
    assert {l["term_end"] for l in doc["organization"]["leaders"]} == {"2028-05-09"}

    doc = case.write(f"leaders/{id2}/warning", {
        "effective_date": "2023-06-01", "reason": "兼职取酬未报告"}, types=["LeaderWarned"])
    leaders = {l["person_id"]: l for l in doc["organization"]["leaders"]}
    assert leaders[id2]["warnings"] == [{"on": "2023-06-01", "reason": "兼职取酬未报告"}]
    doc = case.write(f"leaders/{id2}/replacement-order", {
        "deadline": "2023-07-31", "effective_date": "2023-06-15", "reason": "拒不整改",
        "reference": "杨民社令〔2023〕1号"}, types=["LeaderReplacementOrdered"])
    leaders = {l["person_id"]: l for l in doc["organization"]["leaders"]}
    assert leaders[id2]["replacement_order"] == {"ordered_on": "2023-06-15",
                                                 "deadline": "2023-07-31",
                                                 "reason": "拒不整改"}

    # ---- major events: on time, late, reviewed by staff and by the supervisory unit
    doc = case.write("major-events", {
        "category": "important_activity", "planned_date": "2023-08-20",
        "description": "社区志愿服务嘉年华", "sent_to": ["registration_authority",
                                                       "supervisory_unit"],
        "effective_date": "2023-07-01", "reference": "ZD-2023-01"},
        types=["MajorEventReported"], as_="org1", status=201)
    me1 = doc["id"]
    doc = case.write("major-events", {
        "category": "meeting_or_election", "planned_date": "2023-08-01",
        "description": "会员代表大会", "sent_to": ["registration_authority"],
        "effective_date": "2023-07-01"}, types=["MajorEventReported"], as_="org1", status=201)
    me2 = doc["id"]
    reports = {r["id"]: r for r in doc["organization"]["major_events"]}
    assert reports[me1]["late"] is False and reports[me1]["required_notice_days"] == 15
    assert reports[me2]["late"] is True and reports[me2]["required_notice_days"] == 60
    assert reports[me1]["sent_to"] == ["registration_authority", "supervisory_unit"]

    case.write(f"major-events/{me1}/review", {
        "opinion": "同意举办，注意安全", "risk_level": "low", "effective_date": "2023-07-05"},
        types=["MajorEventReviewed"])
    doc = case.write(f"major-events/{me2}/review", {
        "opinion": "逾期报告，须补充材料", "risk_level": "high", "effective_date": "2023-07-06",
        "reason": "逾期报告"}, types=["MajorEventReviewed"], as_="supervisor")
    reports = {r["id"]: r for r in doc["organization"]["major_events"]}
    assert reports[me1]["review"] == {"opinion": "同意举办，注意安全", "risk_level": "low",
                                      "reviewed_on": "2023-07-05"}
    assert reports[me2]["review"]["risk_level"] == "high"

    # ---- supervision
    doc = case.write("inspections", {
        "items": ["财务状况", "活动开展"], "findings": "账目不清", "on_site": True,
        "inspectors": ["王检查", "李检查"], "effective_date": "2023-09-01",
        "reference": "双随机2023-07"}, types=["InspectionConducted"])
    assert doc["organization"]["inspections"] == [{
        "items": ["财务状况", "活动开展"], "findings": "账目不清", "on_site": True,
        "inspectors": ["王检查", "李检查"], "plan_id": None, "conducted_on": "2023-09-01"}]

    notice = "杨民社整〔2023〕7号"
    case.write("rectifications", {
        "notice_number": notice, "issues": ["建立财务制度"], "deadline": "2023-10-31",
        "effective_date": "2023-09-05", "reference": notice}, types=["RectificationOrdered"])
    case.write(f"rectifications/{quote(notice)}/follow-ups", {
        "note": "已聘请专职会计", "effective_date": "2023-10-10"},
        types=["RectificationFollowedUp"])
    doc = case.write(f"rectifications/{quote(notice)}/completion", {
        "note": "整改到位", "effective_date": "2023-10-25", "reason": "回访核实"},
        types=["RectificationCompleted"])
    (rect,) = doc["organization"]["rectifications"]
    assert rect["status"] == "completed" and rect["completed_on"] == "2023-10-25"
    assert rect["follow_ups"] == [{"note": "已聘请专职会计", "on": "2023-10-10"}]

    doc = case.write("management-suggestions", {
        "number": "杨民社建〔2023〕2号", "content": "完善内部治理", "effective_date": "2023-09-10"},
        types=["ManagementSuggestionIssued"])
    assert doc["organization"]["management_suggestions"][0]["number"] == "杨民社建〔2023〕2号"
    doc = case.write("interviews", {
        "person_name": "赵明", "person_role": "法定代表人", "topics": ["财务管理", "重大事项报告"],
        "effective_date": "2023-11-01", "reason": "逾期报告重大事项"}, types=["InterviewHeld"])
    assert doc["organization"]["interviews"][0]["topics"] == ["财务管理", "重大事项报告"]

    doc = case.write("credit-listings", {
        "list": "abnormal_activity", "effective_date": "2023-12-01",
        "reason": "未按期完成整改", "reference": "杨民社异〔2023〕4号"},
        types=["CreditListed"], status=201)
    listing = doc["id"]
    doc = case.write(f"credit-listings/{listing}/removal", {
        "effective_date": "2024-03-01", "reason": "整改完毕，申请移出"},
        types=["CreditListingRemoved"])
    (entry,) = doc["organization"]["credit_listings"]
    assert entry["list"] == "abnormal_activity" and entry["listed_on"] == "2023-12-01"
    assert entry["removed_on"] == "2024-03-01"
    assert entry["removal_reason"] == "整改完毕，申请移出"

    # ---- penalties: warning, fine, suspension (rescinded), suspension, resumption
    def penalty(number, kind, decided, effective, **extra):
        return {"decision_number": number, "kind": kind,
                "legal_basis": "《社会团体登记管理条例》第三十条", "decision_date": decided,
                "effective_date": effective, "reference": number, **extra}

    doc = case.write("penalties", penalty("杨民罚〔2024〕1号", "warning", "2024-05-08",
                                          "2024-05-10"), types=["PenaltyImposed"], status=201)
    assert doc["organization"]["status"] == "active"
    doc = case.write("penalties", penalty("杨民罚〔2024〕2号", "fine", "2024-06-03", "2024-06-05",
                                          amount=20000), types=["PenaltyImposed"], status=201)
    fine = {p["decision_number"]: p for p in doc["organization"]["penalties"]}["杨民罚〔2024〕2号"]
    assert fine["amount"] == 20000 and fine["kind"] == "fine"
    doc = case.write("penalties", penalty("杨民罚〔2024〕3号", "suspension", "2024-07-01",
                                          "2024-07-02", suspended_until="2024-10-01"),
                     types=["PenaltyImposed"], status=201)
    assert doc["organization"]["status"] == "suspended"
    assert doc["organization"]["suspended_until"] == "2024-10-01"
    assert doc["organization"]["status_since"] == "2024-07-02"
    doc = case.write(f"penalties/{quote('杨民罚〔2024〕3号')}/rescission", {
        "effective_date": "2024-08-20", "reason": "行政复议撤销",
        "reference": "沪杨复决〔2024〕9号"}, types=["PenaltyRescinded"])
    assert doc["organization"]["status"] == "active"
    assert doc["organization"]["suspended_until"] is None
    rescinded = {p["decision_number"]: p for p in doc["organization"]["penalties"]}
    assert rescinded["杨民罚〔2024〕3号"]["rescinded"] is True
    assert rescinded["杨民罚〔2024〕3号"]["rescinded_on"] == "2024-08-20"
    doc = case.write("penalties", penalty("杨民罚〔2024〕4号", "suspension", "2024-09-02",
                                          "2024-09-03", suspended_until="2024-12-31"),
                     types=["PenaltyImposed"], status=201)
    assert doc["organization"]["status"] == "suspended"
    doc = case.write("resumption", {"effective_date": "2025-01-02", "reason": "停止活动期满"},
                     types=["ActivitiesResumed"])
    assert doc["organization"]["status"] == "active"
    assert doc["organization"]["suspended_until"] is None

    doc = case.write("certificate-renewals", {
        "valid_until": "2030-04-30", "effective_date": "2025-02-01",
        "reference": "证书换发2025-11"}, types=["CertificateRenewed"])
    certificate = doc["organization"]["certificate"]
    assert certificate["valid_until"] == "2030-04-30"
    assert certificate["renewals"] == [{"previous_valid_until": "2025-04-30",
                                        "valid_until": "2030-04-30",
                                        "renewed_on": "2025-02-01"}]

    # ---- revocation as a penalty: status revoked, posts end
    doc = case.write("penalties", penalty("杨民罚〔2025〕1号", "revocation", "2025-06-01",
                                          "2025-06-03", reason="骗取登记"),
                     types=["PenaltyImposed"], status=201)
    org = doc["organization"]
    assert org["status"] == "revoked" and org["status_since"] == "2025-06-03"
    assert subset(org["closure"], {"status": "revoked", "on": "2025-06-03", "reason": "骗取登记",
                                   "reference": "杨民罚〔2025〕1号"})
    assert org["leaders"] == [] and org["legal_representative"] is None
    assert {l["person_id"] for l in org["former_leaders"]} == {id1, id2, id3, id4}

    # ---- read everything back: state, history, the auditor's and the org's own view
    state = case.state()
    assert state["name"] == "杨浦区示例志愿者联合会"
    assert [r["year"] for r in state["annual_reports"]] == [2020, 2021]
    assert len(state["penalties"]) == 5
    assert case.state(as_="auditor") == state
    assert case.state(as_="org1") == state
    events = case.events()
    assert case.events(as_="auditor") == events

    data = {e["type"]: e["data"] for e in events}
    assert data["Registered"]["code"] == code(1)
    assert data["Registered"]["org_type"] == "social_association"
    assert data["Registered"]["domicile"] == {"address": "上海市杨浦区示例路1号",
                                              "jurisdiction": COMMITTEE}
    assert data["ChangeRegistered"]["approval_date"] == "2021-02-26"
    assert [e["data"]["year"] for e in by_type(events, "AnnualReportFiled")] == [2020, 2021]
    assert by_type(events, "AnnualReportFiled")[0]["meta"]["actor_role"] == "registration_staff"  # on paper
    assert data["AnnualInspectionCorrected"]["previous_result"] == "basically_qualified"
    assert data["LevelAssessed"]["grade"] == "3A"
    assert [e["data"]["late"] for e in by_type(events, "MajorEventReported")] == [False, True]
    assert [e["meta"]["actor_id"] for e in by_type(events, "MajorEventReviewed")] == [
        "staff", "supervisor"]
    assert [e["data"]["kind"] for e in by_type(events, "PenaltyImposed")] == [
        "warning", "fine", "suspension", "suspension", "revocation"]
    assert data["PenaltyRescinded"]["decision_number"] == "杨民罚〔2024〕3号"
    assert data["CreditListed"]["credit_list"] == "abnormal_activity"
    appointed = by_type(events, "LeaderAppointed")
    assert [e["data"]["id_number_masked"] for e in appointed] == [
        masked(p1), masked(p2), masked(p3), masked(p4)]
    assert [e["data"]["person_id"] for e in by_type(events, "LeaderDeparted")] == [id3, id1]
    assert data["LeaderReplacementOrdered"]["deadline"] == "2023-07-31"

    for person_id, number in ((id1, p1), (id4, p4)):
        response = api.get(f"{API}/persons/{person_id}")
        assert response.status_code == 200
        assert response.get_json()["id_number_masked"] == masked(number)
        assert_no_full_id_number(response.get_data(as_text=True), case.id_numbers)

    # the legal representative of the revoked organization cannot lead another one
    other = CaseFile(api, code(2))
    other.write(f"{API}/organizations", registration(2), types=["Registered"], status=201)
    before = stored_event_count(pg_app)
    refused = api.post(f"{other.path}/leaders", {
        "person": person("赵明", p4), "roles": ["chair"], "term_start": "2025-07-01",
        "term_end": "2030-06-30", "effective_date": "2025-07-01"})
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["code"] == "led_sanctioned_organization"
    assert stored_event_count(pg_app) == before
    other.events()


# ------------------------------------------------------------------- closing events

def test_deregistered_and_refuses_further_filings(api):
    case = CaseFile(api, code(2))
    case.write(f"{API}/organizations", registration(2), types=["Registered"], status=201)
    doc = case.write("deregistration", {"effective_date": "2023-12-01",
                                        "reason": "自行申请注销", "reference": "杨民社注〔2023〕8号"},
                     types=["Deregistered"])
    org = doc["organization"]
    assert org["status"] == "deregistered" and org["status_since"] == "2023-12-01"
    assert subset(org["closure"], {"status": "deregistered", "on": "2023-12-01",
                                   "reason": "自行申请注销", "reference": "杨民社注〔2023〕8号"})
    assert case.state()["status"] == "deregistered"
    case.events()


def test_registration_revoked(api):
    case = CaseFile(api, code(3))
    case.write(f"{API}/organizations", registration(3), types=["Registered"], status=201)
    doc = case.write("revocation", {"effective_date": "2024-02-01", "reason": "以欺骗手段取得登记",
                                    "reference": "杨民社撤〔2024〕1号"},
                     types=["RegistrationRevoked"])
    assert doc["organization"]["status"] == "revoked"
    assert doc["organization"]["closure"]["reason"] == "以欺骗手段取得登记"
    assert case.state()["status"] == "revoked"
    case.events()


def test_community_organization_recorded_by_the_sub_district_then_banned(api):
    body = {"name": "示例小区广场舞队", "business_scope": "文体活动",
            "domicile": {"address": "上海市杨浦区示例路5号", "jurisdiction": COMMITTEE},
            "founded_on": "2021-03-01", "effective_date": "2021-04-01", "reason": "社区备案",
            "reference": "街备〔2021〕12号"}
    response = api.post(f"{API}/community-organizations", body, as_="street")
    assert response.status_code == 201, response.get_json()
    identifier = response.get_json()["organization"]["identifier"]
    assert identifier.startswith("BA" + COMMITTEE)
    case = CaseFile(api, identifier)
    case.log.append({"type": "Recorded", "actor_id": "street",
                     "actor_role": "sub_district_office", "effective_date": "2021-04-01",
                     "reason": "社区备案", "reference": "街备〔2021〕12号"})
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"{API}/organizations/{identifier}"

    state = case.state(as_="street")
    assert state["type"] == "community_organization" and state["code"] is None
    assert state["registered_funds"] is None and state["status"] == "active"
    assert state["certificate"]["valid_until"] is None

    doc = case.write("ban", {"effective_date": "2024-05-20", "reason": "以社会组织名义非法活动",
                             "reference": "杨民社取〔2024〕2号"}, types=["Banned"])
    assert doc["organization"]["status"] == "banned"
    assert doc["organization"]["closure"]["reference"] == "杨民社取〔2024〕2号"
    events = case.events(as_="street")
    assert events[0]["data"]["org_type"] == "community_organization"


# ----------------------------------------------------------------------------- persons

def test_person_registered_banned_and_refused_appointment(api, pg_app):
    number = id_number("19720229", 7)
    unknown = api.post(f"{API}/persons/lookup", {"id_number": number})
    assert unknown.status_code == 404  # a lookup records nobody
    first = {"from": "2023-01-01", "until": "2023-06-30", "effective_date": "2023-01-01",
             "reason": "行政处罚从业禁止"}
    response = api.post(f"{API}/persons/occupational-bans", {
        "person": {"name": "钱某", "id_number": number}, **first})
    assert response.status_code == 201, response.get_json()  # recorded where first needed
    person_doc = response.get_json()
    person_id = person_doc["person_id"]
    assert person_doc["id_number_masked"] == masked(number)
    assert len(person_doc["bans"]) == 1 and person_doc["version"] == 2
    assert number not in response.get_data(as_text=True)

    again = api.post(f"{API}/persons/lookup", {"id_number": number})
    assert again.status_code == 200 and again.get_json()["person_id"] == person_id
    assert number not in again.get_data(as_text=True)

    ban = api.post(f"{API}/persons/{person_id}/occupational-bans", {
        "from": "2024-03-01", "until": "2025-02-28", "effective_date": "2024-03-01",
        "reason": "刑事判决从业禁止", "reference": "(2024)沪0110刑初88号"})
    assert ban.status_code == 201, ban.get_json()
    assert ban.headers["ETag"] == '"3"'
    assert ban.get_json()["bans"][1] == {"from": "2024-03-01", "until": "2025-02-28",
                                         "reason": "刑事判决从业禁止",
                                         "reference": "(2024)沪0110刑初88号",
                                         "jurisdiction": "310110000000"}

    read = api.get(f"{API}/persons/{person_id}")
    assert read.status_code == 200
    assert read.get_json()["version"] == 3 and read.get_json()["bans"][1]["until"] == "2025-02-28"
    assert_no_full_id_number(read.get_data(as_text=True), {number})

    case = CaseFile(api, code(4))
    case.id_numbers.add(number)
    case.write(f"{API}/organizations", registration(4), types=["Registered"], status=201)
    before = stored_event_count(pg_app)
    refused = api.post(f"{case.path}/leaders", {
        "person": {"name": "钱某", "id_number": number}, "roles": ["chair"],
        "term_start": "2024-06-01", "term_end": "2029-05-31", "effective_date": "2024-06-01"})
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "occupational_ban" and error["field"] == "person"
    assert "2025-02-28" in error["message"]
    assert number not in refused.get_data(as_text=True)
    assert stored_event_count(pg_app) == before
    assert case.state()["leaders"] == []
    case.events()

    # after the ban ends the appointment is accepted
    case.write("leaders", {
        "person": {"name": "钱某", "id_number": number}, "roles": ["chair"],
        "term_start": "2025-03-01", "term_end": "2030-02-28", "effective_date": "2025-03-01"},
        types=["LeaderAppointed"], status=201)


# ------------------------------------------------------------- application bug shown

def test_rescinding_an_ended_suspension_does_not_lift_the_current_one(api):
    """Suspension A ends (activities resumed), suspension B is imposed, then A is rescinded
    on reconsideration: B is still in force, so the organization stays suspended."""
    case = CaseFile(api, code(5))
    case.write(f"{API}/organizations", registration(5), types=["Registered"], status=201)

    def suspension(number, decided, until):
        return {"decision_number": number, "kind": "suspension", "legal_basis": "条例第三十条",
                "decision_date": decided, "suspended_until": until, "effective_date": decided}

    case.write("penalties", suspension("A", "2023-01-10", "2023-03-10"),
               types=["PenaltyImposed"], status=201)
    case.write("resumption", {"effective_date": "2023-03-11"}, types=["ActivitiesResumed"])
    case.write("penalties", suspension("B", "2023-06-01", "2023-12-31"),
               types=["PenaltyImposed"], status=201)
    doc = case.write("penalties/A/rescission", {"effective_date": "2023-07-01",
                                                 "reason": "复议撤销A"},
                     types=["PenaltyRescinded"])
    assert doc["organization"]["status"] == "suspended"
    assert doc["organization"]["suspended_until"] == "2023-12-31"
