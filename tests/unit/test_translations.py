"""The translations (issue 14, item 3): every message the pages may show has its Chinese
translation in the gettext catalog, every code a label, every text the rules write is
recognized again; the compiled catalog is made when it is missing or stale."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from adapters.web import create_app
from adapters.web.display import text, when
from adapters.web.i18n import REFUSALS, TRANSLATIONS, compile_catalogs
from adapters.web.labels import EVENTS, LABELS, event_label, label
from domain import (account, credit_remedies, inspection_plan, meta, network, organization,
                    person, rules)
from domain.texts import TEXTS, VALUES, recognize, render
from projections.network import FLAGS
from tests.conftest import memory_env
from adapters.bootstrap import build_casefiles

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalog():
    with open(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def marked_messages() -> set[str]:
    """What ``pybabel extract`` finds with the project's babel.cfg (make messages)."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {message for _file, _line, message, *_ in
            extract_from_dir(ROOT, method_map, options_map,
                             directory_filter=lambda d: not os.path.basename(d).startswith(
                                 (".", "_")) and "site-packages" not in d)
            if isinstance(message, str)}


def test_every_marked_message_has_its_chinese_translation():
    translations = {m.id: m for m in catalog() if m.id}
    marked = marked_messages()
    assert len(marked) > 500
    missing = sorted(m for m in marked if m not in translations)
    assert not missing, f"not in the catalog (make messages): {missing[:20]}"
    for message in marked:
        entry = translations[message]
        assert entry.string and "fuzzy" not in entry.flags, f"untranslated: {message!r}"
        assert re.search(r"[\u4e00-\u9fff]", entry.string) or message == entry.string, message
        assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(
            entry.string)), f"placeholders differ: {message!r} -> {entry.string!r}"


def test_every_code_of_the_domain_has_a_label():
    expected = {
        "org_type": organization.ORG_TYPES, "conclusion": organization.CONCLUSIONS,
        "credit_list": organization.CREDIT_LISTS, "penalty_kind": organization.PENALTY_KINDS,
        "leader_role": organization.LEADER_ROLES,
        "official_status": organization.OFFICIAL_STATUSES,
        "major_event_category": organization.MAJOR_EVENT_CATEGORIES,
        "recipient": organization.MAJOR_EVENT_RECIPIENTS,
        "risk_level": organization.RISK_LEVELS, "grade": organization.GRADES,
        "severity": network.SEVERITIES, "source": network.SOURCES, "level": network.LEVELS,
        "proposal_kind": network.PROPOSAL_KINDS, "role": meta.ROLES,
        "authority_level": inspection_plan.AUTHORITY_LEVELS, "flag": FLAGS,
        "rule": rules.CATALOG, "status": ("active", "suspended",
                                          *organization.CLOSED_STATUSES),
        "trigger": {trigger for _, trigger, _ in rules.CATALOG.values()},
        "objection_entry": credit_remedies.OBJECTION_ENTRIES,
        "remedy_status": ("pending", *credit_remedies.OBJECTION_OUTCOMES,
                          *credit_remedies.REPAIR_OUTCOMES),
    }
    for kind, codes in expected.items():
        assert set(codes) <= set(LABELS[kind]), (kind, set(codes) - set(LABELS[kind]))
    events = {f"{cls.__name__}.{name}"
              for module in (organization, network, person, account, rules, inspection_plan)
              for _, cls in inspect.getmembers(module, inspect.isclass)
              if cls.__module__ == module.__name__
              for name, member in vars(cls).items()
              if inspect.isclass(member) and hasattr(member, "originator_id")
              and name not in ("Event", "Created")}
    assert events <= set(EVENTS), events - set(EVENTS)


def test_every_refusal_of_a_rule_has_a_message():
    """Each ``rule="..."`` a domain error or a service names is an error code the pages
    say in words."""
    named = set()
    for folder in ("domain", "services", "adapters"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(re.findall(r'rule="([a-z_]+)"', path.read_text()))
    assert named and not named - set(REFUSALS), named - set(REFUSALS)


SAMPLES = {"date": "2024-03-01", "due": "2024-03-08", "year": "2023", "last_year": "2024",
           "days": "17", "count": "2", "months": "6", "years": "3", "amount": "50000",
           "penalty_kind": "fine", "status": "revoked", "level": "committee",
           "actor": "rule:abnormal_activity_listing@v2", "report": "ME1",
           "notice": "杨民社整〔2024〕3号", "decision": "杨民罚〔2024〕1号",
           "person": "0b06026f-6b02-5cf3-a3f4-10cc6028d998", "objection": "OB1",
           "position": "1207", "end": "1190", "error": "the signature does not verify"}


@pytest.mark.parametrize("text_id", sorted(TEXTS))
def test_a_text_the_system_writes_is_recognized_again(text_id):
    names = PLACEHOLDER.findall(TEXTS[text_id])
    params = {n: SAMPLES.get(n, render("registration_revoked")) for n in names}
    assert set(names) <= set(SAMPLES) | {"reason"}, "a parameter without a sample"
    stored = render(text_id, **params)
    assert recognize(stored) == (text_id, params)
    for name in names:
        if name in VALUES:
            assert re.fullmatch(VALUES[name], params[name]), name


def test_texts_and_values_in_chinese_and_english():
    web = create_app({"CASEFILES": build_casefiles(env=memory_env()), "TESTING": True})
    stored = render("proposal_confirmed", reason=render(
        "penalty_fine", decision="杨民罚〔2024〕1号", penalty_kind="fine", amount="50000"),
        actor="rule:serious_dishonesty_listing@v2")
    with web.test_request_context("/?lang=zh"):
        assert text(stored) == ("行政处罚 杨民罚〔2024〕1号：罚款 50,000 元（由规则：严重违法失信名单"
                                "（第 2 版）提出，已确认）")
        assert text("负责人长期失联") == "负责人长期失联"  # what a person wrote, as written
        assert label("registration_staff", "role") == "登记管理机关"
        assert event_label("Organization.CreditListed") == event_label("CreditListed") == \
            "列入信用名单"
        assert when("2024-03-01T06:05:09+00:00") == "2024-03-01 14:05 (北京时间)"
    with web.test_request_context("/?lang=en"):
        assert text(stored) == ("penalty 杨民罚〔2024〕1号: Fine of 50,000 CNY (proposed by "
                                "Rule: Serious illegal-and-dishonest list (version 2), "
                                "confirmed)")
        assert label("registration_staff", "role") == "Registration staff"
        assert when("2024-03-01T06:05:09+00:00") == "2024-03-01 14:05 (CST, UTC+8)"


def test_a_missing_or_stale_compiled_catalog_is_compiled(tmp_path):
    written = compile_catalogs(TRANSLATIONS, tmp_path)
    mo = tmp_path / "zh" / "LC_MESSAGES" / "messages.mo"
    assert written == [mo] and mo.stat().st_size > 10_000
    assert compile_catalogs(TRANSLATIONS, tmp_path) == []  # fresh: left alone
    po = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
    stale = po.stat().st_mtime - 60  # compiled before the catalog last changed
    os.utime(mo, (stale, stale))
    assert compile_catalogs(TRANSLATIONS, tmp_path) == [mo]
