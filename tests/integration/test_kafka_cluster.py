"""The relay on a Kafka cluster (issue 18 item 4): three brokers of the local test
distribution on loopback sharing one ZooKeeper (scripts/kafka.sh, KAFKA_BROKERS=3), the
topic replicated three times with min.insync.replicas=2, the relay producing with
acks=all. While commands are recorded, the leader of a partition is SIGKILLed, then a
second broker: with one replica left in sync the relay waits (commands go on), and when
a broker comes back it catches up. Every recorded event arrives, in order per
organization; re-sent ones are dropped by their CloudEvent id, as docs/EVENTS.md tells a
consumer to.

Ports: TEST_KAFKA_CLUSTER_PORT (first of three, default 19093) and
TEST_KAFKA_CLUSTER_ZOOKEEPER_PORT (12182); folder var/kafka-cluster-test.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Callable

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from adapters.kafka.relay import Batch, KafkaSettings, Relay, relay_status
from tests.conftest import meta
from tests.integration.test_services import register
from tests.kafka_broker import API_VERSION, LocalKafka
from tests.support import code

ORGS = 6


@pytest.fixture(scope="module")
def cluster():
    brokers = LocalKafka(port=int(os.environ.get("TEST_KAFKA_CLUSTER_PORT", "19093")),
                         zookeeper_port=int(os.environ.get(
                             "TEST_KAFKA_CLUSTER_ZOOKEEPER_PORT", "12182")),
                         var="var/kafka-cluster-test", brokers=3)
    brokers.start()
    yield brokers
    brokers.stop()


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"timed out: {what}"
        time.sleep(0.1)
    return time.monotonic() - started


def topic_partitions(consumer: KafkaConsumer, topic: str, seconds: float = 60) -> set[int]:
    """The topic's partitions, asking again while the answer is empty: a broker that has
    just restarted answers metadata with no brokers until the controller has told it the
    cluster's state (kafka-python then raises MetadataEmptyBrokerList)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = consumer.partitions_for_topic(topic)
        except KafkaError:
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"no metadata for {topic}"
        time.sleep(0.5)


def producer_threads() -> list[str]:
    """The relay's producers' sender threads still running in this process."""
    return [t.name for t in threading.enumerate() if t.name == "casefile-relay-network-thread"]


def read_all(bootstrap: str, topic: str, expected: int, seconds: float = 60) -> list[dict]:
    """Every message of the topic, partition by partition in offset order (no consumer
    group: its offsets topic is not what is tested here)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), api_version=API_VERSION,
                             group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in topic_partitions(consumer, topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        messages: list[dict] = []
        deadline = time.monotonic() + seconds
        while len({m["id"] for m in messages}) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                messages += [json.loads(r.value) for r in records]
        for records in consumer.poll(timeout_ms=1000).values():  # anything beyond
            messages += [json.loads(r.value) for r in records]
        return messages
    finally:
        consumer.close()


def test_a_leader_killed_during_writes_loses_nothing_and_too_few_replicas_hold_the_relay(
        pg_app, postgres_env, cluster):
    topic = f"socorg.events.{postgres_env['POSTGRES_SCHEMA']}"
    cluster.topics("--create", "--topic", topic, "--partitions", "3",
                   "--replication-factor", "3", "--config", "min.insync.replicas=2")
    env = {**postgres_env, "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap, "KAFKA_TOPIC": topic,
           "KAFKA_API_VERSION": "0.9"}
    for n in range(1, ORGS + 1):
        register(pg_app, n)
    relay = Relay(env, KafkaSettings.from_env(env))
    relay.MAX_BACKOFF = 2.0  # (30 s in service) so the test sees it resume soon
    relay.start(idle_wait=0.2)
    written, failures, stop = [0], [], threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            try:
                pg_app.execute(code(1 + i % ORGS), "interview", meta=meta(),
                               person_name=f"负责人{i}", person_role="理事长", topics=["财务"])
                written[0] += 1
            except Exception as e:  # a failed command is what this test must not see
                failures.append(e)
            i += 1
            time.sleep(0.005)

    def position() -> int:
        return relay_status(env)["position"]

    thread = threading.Thread(target=writer)
    thread.start()
    figures = {}
    try:
        wait_until(lambda: position() > 50, 60, "the relay publishing")
        leader, _ = cluster.partitions_of(topic)[0]
        head = pg_app.recorder.max_notification_id()
        cluster.kill_broker(leader)
        figures["failover_s"] = wait_until(lambda: position() > head + 20, 90,
                                           "the relay publishing after the leader died")
        second = next(b for b in range(3) if b != leader)
        cluster.kill_broker(second)  # one replica left: fewer than min.insync.replicas
        time.sleep(3)  # (what was acknowledged before the kill lands)
        held_at, commands_before = position(), written[0]
        time.sleep(8)
        assert position() == held_at, "the relay published with one replica in sync"
        assert written[0] > commands_before + 100, "commands stopped"
        # the relay dropped its producer after each failed attempt: none of them goes on
        # sending beside the one that replaced it
        assert len(producer_threads()) <= 1, producer_threads()
        figures["held_lag"] = pg_app.recorder.max_notification_id() - held_at
        restarted = time.monotonic()
        cluster.start_broker(second)
        figures["resumed_s"] = wait_until(lambda: position() > held_at, 90,
                                          "the relay resuming") + (time.monotonic() - restarted)
    finally:
        stop.set()
        thread.join()
    try:
        wait_until(lambda: relay_status(env)["lag"] == 0, 120, "the relay catching up")
    finally:
        relay.stop()
    cluster.start_broker(leader)
    wait_until(lambda: all(leader >= 0 for leader, _ in cluster.partitions_of(topic).values()),
               60, "every partition led again")
    assert failures == []

    recorded = pg_app.recorder.max_notification_id()
    messages = read_all(cluster.bootstrap, topic, expected=recorded)
    first: dict[str, dict] = {}
    for m in messages:
        first.setdefault(m["id"], m)
    versions: dict[str, list[int]] = {}
    for m in first.values():  # first arrivals, partition by partition in offset order
        versions.setdefault(m["data"]["aggregate_id"], []).append(m["data"]["version"])
    organizations = {str(pg_app.get_organization(code(n)).id): pg_app.get_organization(
        code(n)).version for n in range(1, ORGS + 1)}
    arrived = {a: v for a, v in versions.items() if a in organizations}
    expected = {a: list(range(1, last + 1)) for a, last in organizations.items()}
    assert arrived == expected, _differences(arrived, expected)
    assert sum(organizations.values()) == ORGS + written[0]
    figures["events"], figures["duplicates"] = len(first), len(messages) - len(first)
    print(f"\nkafka cluster: {figures}")


def _differences(arrived: dict[str, list[int]], expected: dict[str, list[int]]) -> str:
    """Per organization whose events arrived otherwise than expected: the versions missing,
    those that arrived but were not expected, and where the order first goes wrong."""
    lines = []
    for aggregate, want in expected.items():
        got = arrived.get(aggregate, [])
        if got == want:
            continue
        wrong = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), None)
        lines.append(f"{aggregate}: {len(got)} arrived, {len(want)} recorded; missing "
                     f"{sorted(set(want) - set(got))[:20]}; not recorded "
                     f"{sorted(set(got) - set(want))[:20]}; first out of place at index {wrong}"
                     f" ({got[max(0, (wrong or 0) - 3):(wrong or 0) + 4]})")
    return "\n".join(lines)


def test_a_producer_dropped_with_sends_pending_stops_sending(pg_app, postgres_env, cluster):
    """When an attempt fails the relay drops its producer and sends again from its
    position with a new one. A producer dropped while its sends are still pending (here:
    their partition's leader was just killed) must stop: left running, its sender thread
    would retry them beside the new producer, and its copies could land after the new
    one's."""
    topic = f"socorg.dropped.{postgres_env['POSTGRES_SCHEMA']}"
    cluster.topics("--create", "--topic", topic, "--partitions", "1",
                   "--replication-factor", "3", "--config", "min.insync.replicas=2")
    env = {**postgres_env, "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap, "KAFKA_TOPIC": topic,
           "KAFKA_API_VERSION": "0.9"}
    relay = Relay(env, KafkaSettings.from_env(env))
    producer = relay.producer()
    producer.send(topic, key=b"k", value=b"before").get(timeout=30)
    leader, _ = cluster.partitions_of(topic)[0]
    cluster.kill_broker(leader)
    try:
        pending = [producer.send(topic, key=b"k", value=b"pending %d" % n) for n in range(20)]
        assert not all(f.is_done for f in pending), "the sends completed before the drop"
        started = time.monotonic()
        relay._drop_producer()
        dropped_in = time.monotonic() - started
        assert producer_threads() == []
        assert all(f.is_done and f.failed() for f in pending if f.is_done)
        assert all(f.is_done for f in pending), "sends left pending"
        assert dropped_in < 5
    finally:
        relay.stop()
        cluster.start_broker(leader)


def test_the_first_failed_send_stops_the_producer(pg_app, postgres_env, cluster):
    """kafka-python sends a partition's next request after one failed; the relay's
    producer must send nothing after its first failure, or an organization's later events
    would land before earlier ones that were never written. Here every send fails (the
    topic has one replica and wants two in sync)."""
    topic = f"socorg.refused.{postgres_env['POSTGRES_SCHEMA']}"
    cluster.topics("--create", "--topic", topic, "--partitions", "1",
                   "--replication-factor", "1", "--config", "min.insync.replicas=2")
    env = {**postgres_env, "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap, "KAFKA_TOPIC": topic,
           "KAFKA_API_VERSION": "0.9"}
    relay = Relay(env, KafkaSettings.from_env(env))
    try:
        batch = Batch(last=1, covered=1, messages=[(b"k", b"first")])
        futures = relay.send(batch)
        with pytest.raises(KafkaError):
            relay.acknowledged(futures)
        sender = relay._producer._sender
        sender.join(5)
        assert not sender.is_alive(), "the producer goes on sending after a failure"
        with pytest.raises(KafkaError):  # nothing more is taken
            relay.acknowledged(relay.send(Batch(last=2, covered=1, messages=[(b"k", b"next")])))
    finally:
        relay.stop()
