"""Personal data per person, and its erasure (issue 7 item 9; docs/RELIABILITY.md row 9).

Names, identity numbers and birth dates are sealed with a key of their person's own (on
top of the event store's encryption). Erasing a person records an erasure request and
destroys that key: afterwards their fields read as erased in replayed aggregates (the
Person and the organizations they led), rebuilt and live read models, and newly published
Kafka messages, while everything else replays, the case files build and the audit trail
verifies. A dump of the schema and the Kafka topics hold no identity number in plaintext.
"""

from __future__ import annotations

from datetime import date

import json
import subprocess
import time
import uuid

import psycopg
import pytest

from adapters.kafka.relay import KafkaSettings, Relay, relay_status
from adapters.runtime.catch_up import rebuild
from adapters.runtime.registry import open_view
from adapters.runtime.status import wait_for
from services.log import recorded_events
from domain.errors import RuleViolation
from domain.personal import ERASED
from projections.audit import verify
from adapters.bootstrap import build_casefiles
from tests.conftest import meta, stored_event_count
from tests.integration.test_kafka import read_topic
from tests.support import code, id_number, registration

API = "/api/v1"
ERASED_NAME, KEPT_NAME = "甄士隐", "贾雨村"
ERASED_ID, KEPT_ID = id_number("19500101", 11), id_number("19600202", 22)


def admin_token(pg_app) -> str:
    pg_app.open_account(username="admin", password="correct horse battery",
                        display_name="admin", role="admin", jurisdiction=None,
                        organization=None, meta=meta("2020-01-01", actor="setup",
                                                     role="admin"))
    return pg_app.issue_token("admin", meta("2020-01-01", actor="setup", role="admin"))


def appoint(api, n: int, name: str, number: str, **extra) -> str:
    body = {"person": {"name": name, "id_number": number}, "roles": ["legal_representative"],
            "term_start": "2021-01-01", "term_end": "2025-12-31",
            "effective_date": "2021-01-05", **extra}
    response = api.post(f"{api.org(n)}/leaders", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["person_id"]


@pytest.fixture
def world(api, pg_app):
    for n in (1, 2):
        assert api.post(f"{API}/organizations", registration(n)).status_code == 201
    erased_id = appoint(api, 1, ERASED_NAME, ERASED_ID)
    kept_id = appoint(api, 2, KEPT_NAME, KEPT_ID)
    api.tokens["admin"] = admin_token(pg_app)
    return {"erased": erased_id, "kept": kept_id}


def erase(api, person_id: str, as_: str = "admin", **body):
    return api.post(f"{API}/persons/{person_id}/erasure",
                    {"reason": "data subject's request", "reference": "PIPL-2024-001",
                     **body}, as_=as_)


def pg_dump(database_url: str, schema: str) -> str:
    from adapters.embedded import binaries

    binary = binaries() / "pg_dump"
    done = subprocess.run([str(binary), f"--dbname={database_url}", f"--schema={schema}",
                           "--no-owner"], capture_output=True, check=True, timeout=120)
    return done.stdout.decode("utf-8", "replace")


def relay_until_caught_up(env) -> int:
    relay = Relay(env, KafkaSettings.from_env(env)).start()
    try:
        deadline = time.monotonic() + 120
        while relay_status(env)["lag"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert relay_status(env)["lag"] == 0
        return relay.published
    finally:
        relay.stop()


def test_erasure_is_admin_only_and_needs_a_known_person(api, world, pg_app):
    before = stored_event_count(pg_app)
    for role in ("staff", "auditor", "org1"):
        response = erase(api, world["erased"], as_=role)
        assert response.status_code == 403, (role, response.get_json())
    assert stored_event_count(pg_app) == before
    assert api.get(f"{API}/persons/{world['erased']}").get_json()["name"] == ERASED_NAME
    assert erase(api, str(uuid.uuid4())).status_code == 404
    assert erase(api, world["erased"], reason="").status_code == 400
    assert stored_event_count(pg_app) == before


def test_an_erased_persons_data_reads_as_erased_everywhere_and_the_rest_still_holds(
        api, world, pg_app, postgres_env, database_url, kafka_bootstrap):
    schema = postgres_env["POSTGRES_SCHEMA"]
    kafka_env = {**postgres_env, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                 "KAFKA_TOPIC": f"socorg.events.{schema}", "KAFKA_API_VERSION": "0.9"}
    before_erasure = relay_until_caught_up(kafka_env)  # published while the data existed

    response = erase(api, world["erased"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == ERASED
    assert response.get_json()["organizations"] == [code(1)]
    assert erase(api, world["erased"]).status_code == 409  # once
    assert api.post(f"{api.org(1)}/interviews", {"person_name": "x", "person_role": "y",
                                                 "topics": ["t"]}).status_code == 200

    # the replayed aggregates, in a process that never saw the key (no cache)
    fresh = build_casefiles(env=postgres_env)
    try:
        person = fresh.get_person(uuid.UUID(world["erased"]))
        assert (person.name, person.id_number, person.birth_date) == (ERASED,) * 3
        assert person.id_number_masked == ERASED
        kept = fresh.get_person(uuid.UUID(world["kept"]))
        assert (kept.name, kept.id_number) == (KEPT_NAME, KEPT_ID)
        org1, org2 = fresh.get_organization(code(1)), fresh.get_organization(code(2))
        assert org1.leaders[world["erased"]]["name"] == ERASED
        assert org1.leaders[world["erased"]]["id_number_masked"] == ERASED
        assert org2.leaders[world["kept"]]["name"] == KEPT_NAME
        history = fresh.organization_history(code(1))  # every event still replays
        leader_appointed = [e for e in history if type(e).__name__ == "LeaderAppointed"]
        assert leader_appointed[0].name == ERASED
        with pytest.raises(RuleViolation, match="erased"):  # rules needing the birth date
            person.age_on(person.posts[code(1)]["since"])
    finally:
        fresh.close()
    # the rules refuse clearly: appointing the erased person again is 422, not 500
    again = api.post(f"{api.org(2)}/leaders", {
        "person": {"name": "某人", "id_number": ERASED_ID}, "roles": ["chair"],
        "term_start": "2024-01-01", "term_end": "2026-12-31", "official_status": "retired"})
    assert again.status_code == 422 and again.get_json()["error"]["code"] == \
        "personal_data_erased", again.get_json()

    # the live read models were scrubbed when the erasure was projected
    api.get(api.org(1))  # waits for the views to reach this client's last write
    case_file = api.get(api.org(1)).get_json()
    assert ERASED_NAME not in json.dumps(case_file, ensure_ascii=False)
    assert [(leader["name"], leader["id_number_masked"]) for leader in
            case_file["leaders"]] == [(ERASED, ERASED)]
    assert KEPT_NAME in json.dumps(api.get(api.org(2)).get_json(), ensure_ascii=False)
    head = pg_app.recorder.max_notification_id()
    trail = open_view(postgres_env, "audittrail")
    try:
        assert wait_for(trail, head, 20)
        entries = trail.entries()
        assert ERASED_NAME not in json.dumps(entries, ensure_ascii=False, default=str)
        assert [e["event_type"] for e in entries].count("Person.PersonalDataErased") == 1
        erasure = next(e for e in entries if e["event_type"] == "Person.PersonalDataErased")
        assert (erasure["actor_id"], erasure["reason"], erasure["reference"]) == (
            "admin", "data subject's request", "PIPL-2024-001")
        result = verify(trail.all_entries(head), recorded_events(pg_app, head))
        assert result.ok, result.as_dict()  # the chain never depended on personal data
    finally:
        trail.datastore.close()

    # rebuilt projections: the same as the live ones, and erased
    for name in ("casefiles", "audittrail"):
        rebuilt = rebuild(postgres_env, name, echo=lambda *_: None, progress=False)
        assert rebuilt["comparison"] != "DIFFERENT", rebuilt
    view = open_view(postgres_env, "casefiles")
    try:
        row = view.get(code(1))
        assert ERASED_NAME not in json.dumps(row["document"], ensure_ascii=False)
        assert KEPT_NAME in json.dumps(view.get(code(2))["document"], ensure_ascii=False)
    finally:
        view.datastore.close()

    # Kafka: what is published after the erasure carries no personal data of the person,
    # and a downstream rebuild (everything published again to a new topic) neither
    after_erasure = relay_until_caught_up(kafka_env)
    messages = read_topic(kafka_env, expected=before_erasure + after_erasure)
    new = [m for m in messages if int(m["sequence"]) > head - 3]  # erasure x2, interview
    assert {m["type"].split(".")[-2] for m in new} >= {"PersonalDataErased",
                                                       "LeaderPersonalDataErased"}
    assert ERASED_NAME not in json.dumps(new, ensure_ascii=False)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {schema}.relay_tracking")
    republish_env = {**kafka_env, "KAFKA_TOPIC": f"socorg.replay.{schema}"}
    republished = relay_until_caught_up(republish_env)
    replayed = read_topic(republish_env, expected=republished)
    text = json.dumps(replayed, ensure_ascii=False)
    assert ERASED_NAME not in text and KEPT_NAME in text
    assert any(m["data"].get("name") == ERASED for m in replayed
               if m["type"].endswith(".LeaderAppointed.v1"))
    for topic_text in (json.dumps(messages, ensure_ascii=False), text):
        assert ERASED_ID not in topic_text and KEPT_ID not in topic_text

    # a dump of the schema: no identity number in plaintext, nor the erased name
    dump = pg_dump(database_url, schema)
    assert "person_keys" in dump and "casefile_events" in dump
    for secret in (ERASED_ID, KEPT_ID, ERASED_NAME):
        assert secret not in dump, f"{secret} found in pg_dump"


def test_erasure_on_the_in_memory_store(memory_app):
    """The same behaviour on the in-memory store (its key table: adapters.store.memory)."""
    from datetime import date
    from decimal import Decimal

    memory_app.register_organization(
        meta=meta("2020-05-01"), code=code(1), name="示例协会", org_type="social_association",
        domicile={"address": "x", "jurisdiction": "310110001001"}, business_scope="s",
        registered_funds=Decimal(1), supervisory_unit=None, founded_on=date(2020, 5, 1),
        certificate_valid_until=date(2030, 1, 1))
    result = memory_app.appoint_leader(
        code(1), person={"name": ERASED_NAME, "id_number": ERASED_ID},
        roles=["legal_representative"], term_start=date(2021, 1, 1),
        term_end=date(2025, 12, 31), meta=meta("2021-01-05"))
    person_id = uuid.UUID(result.result["person_id"])
    memory_app.erase_person(person_id, meta=meta(reason="request", role="admin"))
    registered = next(iter(memory_app.events.get(person_id)))  # decoded again
    assert (registered.name, registered.id_number, registered.birth_date) == (ERASED,) * 3
    appointed = [e for e in memory_app.organization_history(code(1))
                 if type(e).__name__ == "LeaderAppointed"]
    assert appointed[0].name == ERASED
    assert memory_app.get_organization(code(1)).leaders[str(person_id)]["name"] == ERASED


def test_the_cli_erases_a_person(pg_app, postgres_env, database_url, tmp_path):
    """`casefile persons erase ID --reason R --reference N`; an unknown id is refused."""
    from click.testing import CliRunner

    from adapters.cli.main import main
    from tests.conftest import CIPHER_KEY, PSEUDONYM_KEY

    person = pg_app.get_person(pg_app.ban_person(
        person={"name": ERASED_NAME, "id_number": ERASED_ID}, banned_from=date(2020, 1, 1),
        banned_until=None, meta=meta(reason="r")).aggregate_id)
    env = {"DATABASE_URL": database_url, "POSTGRES_SCHEMA": postgres_env["POSTGRES_SCHEMA"],
           "CIPHER_KEY": CIPHER_KEY, "PSEUDONYM_KEY": PSEUDONYM_KEY,
           "CASEFILE_VAR": str(tmp_path)}
    runner = CliRunner()
    done = runner.invoke(main, ["persons", "erase", str(person.id), "--reason", "request",
                                "--reference", "PIPL-1"], env=env)
    assert done.exit_code == 0, done.output
    assert "erased" in done.output
    fresh = build_casefiles(env=postgres_env)
    try:
        erased_person = fresh.get_person(person.id)
        assert erased_person.name == ERASED and erased_person.is_erased
    finally:
        fresh.close()
    unknown = runner.invoke(main, ["persons", "erase", str(uuid.uuid4()), "--reason", "r"],
                            env=env)
    assert unknown.exit_code == 1 and "no person" in unknown.output
