"""The event stream on a real Kafka broker (the local 0.9.0.1 test broker)."""

from __future__ import annotations

from datetime import date

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import jsonschema
import pytest
from kafka import KafkaConsumer

from adapters.kafka.cloudevents import event_id
from adapters.kafka.consumer import consume
from adapters.kafka.relay import KafkaSettings, Relay, relay_status
from tests.conftest import meta
from tests.integration.test_services import register
from tests.kafka_broker import API_VERSION
from tests.support import code, id_number

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kafka_env(postgres_env, kafka_bootstrap):
    topic = f"socorg.events.{postgres_env['POSTGRES_SCHEMA']}"
    return {**postgres_env, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "KAFKA_TOPIC": topic,
            "KAFKA_API_VERSION": "0.9"}


def record_many(app, orgs: int, per_org: int) -> list[tuple[uuid.UUID, int]]:
    """Record orgs x per_org events (registration included); return (id, version) pairs."""
    recorded = []
    for n in range(1, orgs + 1):
        register(app, n)
        org = app.get_organization(code(n))
        for i in range(per_org - 1):
            org.hold_interview(person_name=f"负责人{i}", person_role="理事长",
                               topics=["财务管理"], meta=meta())
        app.save(org)
        recorded += [(org.id, v) for v in range(1, per_org + 1)]
    return recorded


def wait_relayed(env, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = relay_status(env)
        if s["lag"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"relay did not catch up: {relay_status(env)}")


def read_topic(env, expected: int, timeout: float = 60) -> list[dict]:
    """An independent consumer: every message on the topic, in partition order, until
    ``expected`` distinct events have arrived (re-published duplicates included)."""
    consumer = KafkaConsumer(env["KAFKA_TOPIC"], bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
                             api_version=API_VERSION, auto_offset_reset="earliest",
                             group_id=f"test-{uuid.uuid4().hex[:8]}", enable_auto_commit=False)
    messages, deadline = [], time.monotonic() + timeout
    try:
        while len({m["id"] for m in messages}) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                messages += [json.loads(r.value) for r in records]
    finally:
        consumer.close()
    return messages


def assert_in_order_per_aggregate(messages: list[dict]) -> None:
    last: dict[str, int] = {}
    for m in messages:
        aggregate, version = m["data"]["aggregate_id"], m["data"]["version"]
        assert version > last.get(aggregate, 0), f"{aggregate} v{version} after v{last[aggregate]}"
        last[aggregate] = version


def test_ten_thousand_events_reach_an_independent_consumer(pg_app, kafka_env):
    recorded = record_many(pg_app, orgs=100, per_org=100)
    assert len(recorded) == 10_000
    relay = Relay(kafka_env, KafkaSettings.from_env(kafka_env)).start()
    try:
        wait_relayed(kafka_env)
    finally:
        relay.stop()
    messages = read_topic(kafka_env, expected=10_000)
    ids = [m["id"] for m in messages]
    assert len(ids) == 10_000 and set(ids) == {event_id(a, v) for a, v in recorded}
    assert_in_order_per_aggregate(messages)
    first = next(m for m in messages if m["data"]["version"] == 1)
    assert first["specversion"] == "1.0" and first["subject"] == first["data"]["identifier"]
    assert first["type"].endswith(".organization.Registered.v1")


def test_every_published_message_fits_its_schema_and_holds_no_identity_number(
        pg_app, kafka_env, tokens):
    from adapters.seed.demo import generate

    generate(pg_app, orgs=25, years=4, seed=7, echo=lambda *_: None, progress=False)
    pg_app.ban_person(person={"name": "王五", "id_number": id_number(n=999)},
                      banned_from=date(2020, 1, 1), banned_until=None, meta=meta(reason="r"))
    relay = Relay(kafka_env, KafkaSettings.from_env(kafka_env)).start()
    try:
        wait_relayed(kafka_env)
        published = relay.published
    finally:
        relay.stop()
    messages = read_topic(kafka_env, expected=published)
    assert len(messages) == published > 300
    schemas = {p.stem: json.loads(p.read_text()) for p in (ROOT / "docs" / "events").glob("*.json")}
    seen_types = set()
    for m in messages:
        assert m["type"] in schemas, f"no schema for {m['type']}"
        jsonschema.validate(m["data"], schemas[m["type"]])
        seen_types.add(m["type"].split(".")[-2])
        raw = json.dumps(m, ensure_ascii=False)
        assert '"id_number"' not in raw and "password_hash" not in raw and "token_hash" not in raw
    assert id_number(n=999) not in json.dumps(messages)
    assert {"Registered", "AnnualReportFiled", "PenaltyImposed", "LeaderAppointed",
            "CreditListed"} <= seen_types
    assert not any("account" in m["type"].lower() for m in messages)


def test_the_schema_files_are_current(tmp_path):
    from adapters.kafka.schemas import write_schemas

    for path in write_schemas(tmp_path / "events"):
        committed = ROOT / "docs" / path.relative_to(tmp_path)
        assert committed.read_text() == path.read_text(), \
            f"{committed} is stale: run `casefile schemas`"


def test_commands_succeed_while_the_broker_is_down_and_everything_arrives_after(
        pg_app, kafka_env, kafka):
    register(pg_app, 1)
    relay = Relay(kafka_env, KafkaSettings.from_env(kafka_env)).start()
    written, failures, stop = [], [], threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            try:
                pg_app.execute(code(1), "interview", meta=meta(), person_name=f"p{i}",
                               person_role="chair", topics=["t"])
                written.append(i)
            except Exception as e:  # a failed command is what this test must not see
                failures.append(e)
            i += 1
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(1)
        kafka.kill_broker()
        during = len(written)
        time.sleep(4)
        assert len(written) > during, "commands stopped while the broker was down"
        kafka.start_broker()
        time.sleep(1)
    finally:
        stop.set()
        thread.join()
    try:
        wait_relayed(kafka_env, timeout=180)
    finally:
        relay.stop()
    assert failures == []
    total = 1 + len(written)
    stats = consume(bootstrap_servers=kafka_env["KAFKA_BOOTSTRAP_SERVERS"],
                    topic=kafka_env["KAFKA_TOPIC"], group="outage-test",
                    db_path=":memory:", api_version=API_VERSION, idle_timeout=5)
    assert stats.processed == total and stats.gaps == 0
    assert pg_app.get_organization(code(1)).version == total


def test_a_relay_killed_mid_batch_loses_nothing(pg_app, kafka_env, database_url):
    recorded = record_many(pg_app, orgs=20, per_org=250)
    env = {**os.environ, "DATABASE_URL": database_url,
           **{k: v for k, v in kafka_env.items() if k.startswith(("KAFKA_", "CIPHER", "PSEUDONYM",
                                                                   "POSTGRES_SCHEMA"))},
           "KAFKA_BATCH": "200"}
    command = [sys.executable, "-m", "adapters.cli", "relay"]
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while relay_status(kafka_env)["position"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = relay_status(kafka_env)["position"]
        assert 0 < killed_at < len(recorded), "the relay should be killed mid-stream"
    finally:
        if first.poll() is None:
            first.kill()
    second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_relayed(kafka_env)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    messages = read_topic(kafka_env, expected=len(recorded))
    assert {m["id"] for m in messages} == {event_id(a, v) for a, v in recorded}
    first_seen, unique = set(), []
    for m in messages:  # duplicates (a batch re-published after the kill) aside
        if m["id"] not in first_seen:
            first_seen.add(m["id"])
            unique.append(m)
    assert_in_order_per_aggregate(unique)


def test_a_client_that_is_not_kafka_python_reads_cloudevents(pg_app, kafka_env):
    kcat = shutil.which("kcat")
    assert kcat, "kcat is installed by `make test` (Debian package kcat)"
    record_many(pg_app, orgs=3, per_org=5)
    relay = Relay(kafka_env, KafkaSettings.from_env(kafka_env)).start()
    try:
        wait_relayed(kafka_env)
    finally:
        relay.stop()
    output = subprocess.run(
        [kcat, "-b", kafka_env["KAFKA_BOOTSTRAP_SERVERS"], "-C", "-t", kafka_env["KAFKA_TOPIC"],
         "-o", "beginning", "-e", "-q", "-X", "api.version.request=false",
         "-X", "broker.version.fallback=0.9.0.1"],
        capture_output=True, text=True, timeout=60, check=True).stdout
    events = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert len(events) == 15
    for e in events:
        assert e["specversion"] == "1.0"
        assert {"id", "source", "type", "subject", "time", "data"} <= set(e)
