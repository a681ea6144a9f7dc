"""The Application's use cases, each on the in-memory store and on real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from domain.errors import Conflict, RuleViolation
from services.casefiles import CaseFiles
from services.errors import IdempotencyKeyReused, OrganizationNotFound, VersionConflict
from tests.conftest import meta
from tests.support import COMMITTEE, code, id_number

REPORT = dict(income=Decimal(100000), expenditure=Decimal(90000), net_assets=Decimal(50000),
              activities_held=12, party_organization=True)


def register(app: CaseFiles, n: int = 1, on: str = "2020-05-01", **kwargs):
    return app.register_organization(
        meta=meta(on), code=code(n), name=f"示例协会{n}", org_type="social_association",
        domicile={"address": "示例路1号", "jurisdiction": COMMITTEE}, business_scope="志愿服务",
        registered_funds=Decimal(30000), supervisory_unit=None, founded_on=date(2020, 5, 1),
        certificate_valid_until=date(2025, 4, 30), **kwargs)


def count(app: CaseFiles) -> int:
    return app.recorder.max_notification_id() or 0


def appoint(app: CaseFiles, n: int, person_n: int, roles=("legal_representative",), **kw):
    return app.appoint_leader(code(n), person={"name": f"李{person_n}",
                                               "id_number": id_number(n=person_n)},
                              roles=list(roles), term_start=date(2021, 1, 1),
                              term_end=date(2025, 12, 31), meta=meta("2021-01-01"), **kw)


def test_register_and_read_back(casefiles):
    result = register(casefiles)
    assert (result.version, result.position) == (1, 1)
    org = casefiles.get_organization(code(1))
    assert org.name == "示例协会1" and org.status == "active"


def test_a_second_registration_of_one_code_is_a_conflict(casefiles):
    register(casefiles)
    with pytest.raises(Conflict):
        register(casefiles)
    assert count(casefiles) == 1


def test_an_unknown_organization_is_not_found(casefiles):
    with pytest.raises(OrganizationNotFound):
        casefiles.execute(code(9), "annual_report", meta=meta(), year=2021, **REPORT)


def test_a_repeated_idempotency_key_returns_the_first_result_and_records_nothing(casefiles):
    register(casefiles, idempotency_key="reg-1", fingerprint="a")
    first = casefiles.execute(code(1), "major_event", meta=meta(), idempotency_key="me-1",
                              fingerprint="b", category="other",
                              planned_date=date(2024, 5, 1), description="d",
                              sent_to=["registration_authority"])
    before = count(casefiles)
    again = casefiles.execute(code(1), "major_event", meta=meta(), idempotency_key="me-1",
                              fingerprint="b", category="other",
                              planned_date=date(2024, 5, 1), description="d",
                              sent_to=["registration_authority"])
    assert count(casefiles) == before
    assert again.replayed and again.version == first.version
    assert again.result == first.result == {"id": "ME1"}
    replayed_registration = register(casefiles, idempotency_key="reg-1", fingerprint="a")
    assert replayed_registration.replayed and replayed_registration.version == 1
    with pytest.raises(IdempotencyKeyReused):
        casefiles.execute(code(1), "interview", meta=meta(), idempotency_key="me-1",
                          fingerprint="other", person_name="x", person_role="y", topics=["t"])
    assert count(casefiles) == before


def test_a_stale_expected_version_is_refused(casefiles):
    register(casefiles)
    casefiles.execute(code(1), "annual_report", meta=meta(), year=2021, expected_version=1,
                      **REPORT)
    with pytest.raises(VersionConflict):
        casefiles.execute(code(1), "annual_report", meta=meta(), year=2022,
                          expected_version=1, **REPORT)
    assert casefiles.get_organization(code(1)).version == 2


def test_a_banned_person_is_refused_at_appointment_and_nothing_is_recorded(casefiles):
    register(casefiles)
    assert casefiles.find_person(id_number=id_number(n=1)) is None
    casefiles.ban_person(person={"name": "李1", "id_number": id_number(n=1)},
                         banned_from=date(2020, 1, 1), banned_until=None,
                         meta=meta(reason="criminal conviction"))
    assert casefiles.find_person(id_number=id_number(n=1)).bans[0]["reason"] == \
        "criminal conviction"
    before = count(casefiles)
    with pytest.raises(RuleViolation) as refused:
        appoint(casefiles, 1, 1)
    assert refused.value.rule == "occupational_ban"
    assert count(casefiles) == before


def test_leaders_of_a_revoked_organization_cannot_lead_another_for_five_years(casefiles):
    register(casefiles, 1)
    register(casefiles, 2)
    appoint(casefiles, 1, 7)
    casefiles.close_organization(code(1), "revoke", meta=meta("2022-01-01", reason="fraud"))
    assert casefiles.get_organization(code(1)).leaders == {}
    with pytest.raises(RuleViolation) as refused:
        appoint(casefiles, 2, 7)
    assert refused.value.rule == "led_sanctioned_organization"


def test_a_retired_official_freed_by_deregistration_may_take_another_post(casefiles):
    register(casefiles, 1)
    register(casefiles, 2)
    register(casefiles, 3)
    appoint(casefiles, 1, 5, official_status="retired")
    with pytest.raises(RuleViolation) as refused:
        appoint(casefiles, 2, 5, official_status="retired")
    assert refused.value.rule == "retired_official_one_post"
    casefiles.close_organization(code(1), "deregister", meta=meta("2022-01-01"))
    appoint(casefiles, 3, 5, official_status="retired")
    person = casefiles.get_person(casefiles.person_id_for(id_number(n=5)))
    assert list(person.posts) == [code(3)]


def test_the_legal_representative_is_replaced_in_one_command(casefiles):
    register(casefiles)
    first = appoint(casefiles, 1, 1)
    appoint(casefiles, 1, 2, replaces=first.result["person_id"], departure_audit_done=True)
    org = casefiles.get_organization(code(1))
    assert [leader["name"] for leader in org.leaders.values()] == ["李2"]
    assert org.former_leaders[0]["departure_audit_done"] is True
    old = casefiles.get_person(casefiles.person_id_for(id_number(n=1)))
    assert old.posts == {}


def test_long_histories_are_read_from_snapshots(pg_app):
    register(pg_app)
    for i in range(120):
        pg_app.execute(code(1), "interview", meta=meta(), person_name="x", person_role="y",
                       topics=[f"topic {i}"])
    org_id = pg_app.get_organization(code(1)).id
    snapshots = list(pg_app.snapshots.get(org_id))
    assert [s.originator_version for s in snapshots] == [50, 100]
    org = pg_app.get_organization(code(1))
    assert org.version == 121 and len(org.interviews) == 120


def test_twenty_concurrent_writers_with_one_expected_version(pg_app):
    register(pg_app)
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def write(i: int) -> None:
        barrier.wait()
        try:
            pg_app.execute(code(1), "interview", meta=meta(), expected_version=1,
                           person_name=f"p{i}", person_role="chair", topics=["t"])
            outcomes.append("ok")
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 19 + ["ok"]
    assert pg_app.get_organization(code(1)).version == 2
    assert count(pg_app) == 2


def test_identity_numbers_are_not_stored_in_plaintext(pg_app, postgres_env, database_url):
    register(pg_app)
    numbers = [id_number(n=i) for i in (1, 2)]
    appoint(pg_app, 1, 1)
    pg_app.ban_person(person={"name": "王2", "id_number": numbers[1]},
                      banned_from=date(2020, 1, 1), banned_until=None, meta=meta(reason="r"))
    for _ in range(60):  # enough for a snapshot of the organization
        pg_app.execute(code(1), "interview", meta=meta(), person_name="x", person_role="y",
                       topics=["t"])
    schema = postgres_env["POSTGRES_SCHEMA"]
    with psycopg.connect(database_url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,))]
        assert {"casefile_events", "casefile_snapshots", "casefile_idempotency"} <= set(tables)
        for table in tables:
            for row in conn.execute(f'SELECT * FROM {schema}."{table}"'):
                raw = b"".join(bytes(c) if isinstance(c, (bytes, memoryview))
                               else str(c).encode() for c in row)
                for number in numbers:
                    assert number.encode() not in raw, f"plaintext identity number in {table}"
                    assert "示例协会".encode() not in raw, f"plaintext event data in {table}"
    assert pg_app.get_person(pg_app.person_id_for(numbers[0])).id_number == numbers[0]


def test_a_rescinded_revocation_no_longer_bars_its_leaders(casefiles):
    register(casefiles, 1)
    register(casefiles, 2)
    appoint(casefiles, 1, 7)
    casefiles.close_organization(code(1), "penalty", meta=meta("2022-01-01"),
                                 decision_number="P9", kind="revocation", legal_basis="art 30",
                                 amount=None, decision_date=date(2022, 1, 1),
                                 suspended_until=None)
    with pytest.raises(RuleViolation):
        appoint(casefiles, 2, 7)
    casefiles.rescind_penalty(code(1), decision_number="P9",
                              meta=meta("2022-06-01", reason="court ruling"))
    assert casefiles.get_organization(code(1)).status == "active"
    appoint(casefiles, 2, 7)
    assert code(2) in casefiles.get_person(casefiles.person_id_for(id_number(n=7))).posts
