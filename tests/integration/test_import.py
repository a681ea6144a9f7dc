"""Bulk import of a register (CSV / XLSX): a round trip through an export into a fresh
store, and all-or-nothing refusals that name the row and the column."""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
import pytest

from adapters.seed.demo import generate
from adapters.seed.importer import COLUMNS, export_register, import_register
from domain.meta import Meta
from domain.organization import Organization
from adapters.bootstrap import build_casefiles
from tests.conftest import stored_event_count
from tests.support import DISTRICT, code

TODAY = date(2026, 6, 30)
HEADER = ",".join(COLUMNS[:-1])  # record_number is optional


def base_meta(actor: str = "staff") -> Meta:
    return Meta(actor_id=actor, actor_role="registration_staff", effective_date=TODAY,
                correlation_id=str(uuid.uuid4()))


def row(n: int, *, code_: str | None = None, category: str = "1",
        org_type: str = "social_association", jurisdiction: str = "310110001001") -> str:
    return (f"{code_ or code(n, category)},示例协会{n},{org_type},上海市杨浦区示例路{n}号,"
            f"{jurisdiction},志愿服务,30000,,2020-05-01,2025-04-30,2020-05-01")


def csv_file(tmp_path, *rows: str, header: str = HEADER):
    path = tmp_path / "register.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def founded_identifiers(app) -> list[str]:
    """Every organization in the store, in the order first recorded."""
    notifications = app.recorder.select_notifications(1, 10_000_000)
    ids = dict.fromkeys(n.originator_id for n in notifications
                        if n.topic.startswith("domain.organization:Organization."))
    return [app.repository.get(i).identifier for i in ids]


@pytest.fixture
def fresh_app(postgres_env, database_url):
    """A second, empty store: its own schema, created and dropped here."""
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    app = build_casefiles(env={**postgres_env, "POSTGRES_SCHEMA": schema})
    yield app
    app.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_exported_register_imports_into_an_empty_store(pg_app, fresh_app, tmp_path):
    generate(pg_app, orgs=30, years=2, seed=7, echo=lambda *_: None, today=TODAY)
    identifiers = founded_identifiers(pg_app)
    assert len(identifiers) == 33  # 30 registered, 3 community organizations
    path = tmp_path / "register.xlsx"
    assert export_register(pg_app, identifiers, path) == 33

    stages: list[str] = []
    report = import_register(fresh_app, path, actor_meta_base=base_meta(),
                             jurisdiction=DISTRICT, batch_size=10, today=TODAY,
                             progress=lambda stage, done, total: stages.append(stage))
    assert report.errors == []
    assert (report.rows_read, report.imported) == (33, 33)
    assert report.identifiers == identifiers and report.seconds >= 0
    assert stages.count("saved") == 4 and "parsed" in stages  # batches of 10
    assert stored_event_count(fresh_app) == 33

    for identifier in identifiers:
        before, after = pg_app.get_organization(identifier), fresh_app.get_organization(identifier)
        assert (after.code, after.name, after.org_type, after.domicile, after.founded_on,
                after.registered_on, after.certificate_valid_until, after.registered_funds,
                after.supervisory_unit, after.business_scope) == (
            before.code, before.name, before.org_type, before.domicile, before.founded_on,
            before.registered_on, before.certificate_valid_until, before.registered_funds,
            before.supervisory_unit, before.business_scope)
        [event] = fresh_app.organization_history(identifier)
        assert isinstance(event, Organization.Recorded
                          if after.org_type == "community_organization"
                          else Organization.Registered)
        assert event.meta.imported and event.imported and after.imported
        assert event.meta.reason == "imported from register"
        assert event.meta.effective_date == before.registered_on
        assert event.meta.actor_id == "staff"

    again = import_register(fresh_app, path, actor_meta_base=base_meta(), today=TODAY)
    assert again.imported == 0 and len(again.errors) == 33
    assert {e.message.endswith("is already registered") for e in again.errors} == {True}
    assert stored_event_count(fresh_app) == 33


def test_one_bad_check_character_imports_nothing(pg_app, tmp_path):
    good = code(2)
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    path = csv_file(tmp_path, row(1), row(2, code_=bad), row(3))
    report = import_register(pg_app, path, actor_meta_base=base_meta(), today=TODAY)
    assert report.imported == 0 and report.rows_read == 3
    [error] = report.errors
    assert (error.row, error.field) == (3, "code")  # the header is row 1
    assert "check character" in error.message
    assert stored_event_count(pg_app) == 0


def test_duplicates_jurisdiction_and_domain_rules_are_reported_per_row(pg_app, tmp_path):
    path = csv_file(tmp_path, row(1), row(2), row(1), row(4, jurisdiction="310230001001"),
                    row(5, category="2"),  # a social service institution's code
                    row(6, jurisdiction="310110001000"))  # a sub-district, not a committee
    report = import_register(pg_app, path, actor_meta_base=base_meta(),
                             jurisdiction=DISTRICT, today=TODAY)
    assert report.imported == 0
    found = {(e.row, e.field) for e in report.errors}
    assert found == {(4, "code"), (5, "jurisdiction"), (6, "code"), (7, "jurisdiction")}
    duplicate = next(e for e in report.errors if e.row == 4)
    assert "also on row 2" in duplicate.message
    assert stored_event_count(pg_app) == 0


def test_chinese_headers_community_rows_and_header_errors(pg_app, tmp_path):
    header = ("统一社会信用代码,名称,类型,住所,所属居委会,业务范围,注册资金（元）,业务主管单位,"
              "成立日期,证书有效期至,登记日期")
    path = csv_file(tmp_path,
                    f"{code(8)},甲协会,社会团体,示例路8号,310110001001,志愿服务,\"50,000\","
                    "杨浦区民政局,2019/3/1,2024-02-29,2019-03-04",
                    ",合唱队,社区社会组织,示例路9号,310110001002,合唱,,,2021-01-01,,2021-01-05",
                    header=header)
    report = import_register(pg_app, path, actor_meta_base=base_meta(), today=TODAY)
    assert report.errors == [] and report.imported == 2
    association = pg_app.get_organization(code(8))
    assert association.registered_funds == 50000
    assert association.founded_on == date(2019, 3, 1)
    community = pg_app.get_organization(report.identifiers[1])
    assert community.org_type == "community_organization" and community.code is None

    misspelt = csv_file(tmp_path, row(10), header=HEADER.replace("founded_on", "founded"))
    refused = import_register(pg_app, misspelt, actor_meta_base=base_meta(), today=TODAY)
    assert {(e.row, e.field) for e in refused.errors} == {(1, "founded"), (1, "founded_on")}
    assert refused.imported == 0


def test_a_failed_batch_keeps_the_earlier_ones_and_says_so(pg_app, tmp_path, monkeypatch):
    path = csv_file(tmp_path, row(1), row(2), row(3))
    save, calls = pg_app.save, []

    def failing_save(*aggregates):
        calls.append(len(aggregates))
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return save(*aggregates)

    monkeypatch.setattr(pg_app, "save", failing_save)
    report = import_register(pg_app, path, actor_meta_base=base_meta(), batch_size=2,
                             today=TODAY)
    assert report.save_failed and report.imported == 2
    assert report.identifiers == [code(1), code(2)]
    [error] = report.errors
    assert error.row == 4 and "not imported" in error.message
    assert stored_event_count(pg_app) == 2
