"""An upgrade on the event stream, on a real broker (issue 17 item 2): the topic holds the
``.v1`` messages the old code's relay published of the fixture's store
(tests/fixtures/store_v1/messages.jsonl); the store is restored, the relay (today's code)
goes on from where the old one stopped, and a report filed now is published as
``AnnualReportFiled.v2``. The example consumer reads the whole topic: both versions,
every organization's versions in order (no gap), each message fitting its type's
schema."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
from eventsourcing.persistence import Tracking
from kafka import KafkaProducer

from adapters.kafka.consumer import OrganizationsView, consume
from adapters.kafka.relay import KafkaSettings, Relay, relay_tracking
from tests.conftest import meta
from tests.integration.test_kafka import read_topic, wait_relayed
from tests.integration.test_store_before_v2 import restored
from tests.kafka_broker import API_VERSION
from tests.store_fixture import load_messages

ROOT = Path(__file__).resolve().parents[2]


def aggregate_id_of(identifier: str, old: list[dict]) -> str:
    """The aggregate id of an organization, from the old messages (its subject)."""
    return next(json.loads(m["value"])["data"]["aggregate_id"] for m in old
                if json.loads(m["value"])["subject"] == identifier)


def test_a_consumer_reads_the_old_v1_messages_and_the_new_v2(database_url, schema,
                                                              kafka_bootstrap, tmp_path):
    env, app, expected = restored(database_url, schema)
    env = {**env, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "KAFKA_TOPIC": f"socorg.events.{schema}", "KAFKA_API_VERSION": "0.9"}
    old = load_messages()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.split(","),
                             api_version=API_VERSION, acks="all")
    try:
        for message in old:  # what the old relay published, byte for byte
            producer.send(env["KAFKA_TOPIC"], key=message["key"].encode(),
                          value=message["value"].encode())
        producer.flush(timeout=30)
    finally:
        producer.close()
    tracking = relay_tracking(env)  # the old relay had published up to the head
    tracking.insert_tracking(Tracking(app.name, expected["head"]))
    tracking.datastore.close()

    big = expected["identifiers"]["big"]
    app.execute(big, "annual_report", meta=meta("2026-03-02"), year=2025,
                income=Decimal(150000), expenditure=Decimal(140000), net_assets=Decimal(60000),
                activities_held=20, party_organization=True, full_time_staff=12)
    relay = Relay(env, KafkaSettings.from_env(env)).start()
    try:
        wait_relayed(env)
    finally:
        relay.stop()
        app.close()

    messages = read_topic(env, expected=len(old) + 1)
    assert len(messages) == len(old) + 1
    [new] = [m for m in messages if m["data"]["aggregate_id"] == aggregate_id_of(big, old)
             and m["data"]["version"] == 57]
    assert new["type"].endswith(".organization.AnnualReportFiled.v2")
    assert new["data"]["full_time_staff"] == 12
    for message in messages:
        schema_file = ROOT / "docs" / "events" / f"{message['type']}.json"
        jsonschema.validate(message["data"], json.loads(schema_file.read_text()))
    types = {m["type"].removeprefix("cn.gov.civilaffairs.socorg.organization.")
             for m in messages if ".AnnualReportFiled." in m["type"]}
    assert types == {"AnnualReportFiled.v1", "AnnualReportFiled.v2"}

    db = tmp_path / "consumer.sqlite"
    stats = consume(bootstrap_servers=kafka_bootstrap, topic=env["KAFKA_TOPIC"],
                    group="upgrade-test", db_path=db, api_version=API_VERSION,
                    idle_timeout=5)
    assert stats.processed == len(old) + 1 and stats.gaps == 0 and stats.duplicates == 0
    view = OrganizationsView(db)
    try:
        reports = view.annual_reports(new["data"]["aggregate_id"])
    finally:
        view.close()
    assert sorted(reports) == [2019, 2020, 2021, 2022, 2023, 2024, 2025]
    assert reports[2025] == {"activities_held": 20, "full_time_staff": 12, "type_version": 2}
    assert all(reports[y]["type_version"] == 1 and reports[y]["full_time_staff"] is None
               for y in range(2019, 2025))
