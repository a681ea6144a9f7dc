"""The local test broker (scripts/kafka.sh through tests/kafka_broker.py): Kafka 0.9.0.1 on
Java 17, spoken to by kafka-python with api_version=(0, 9). Produce with acks=all, consume in a
consumer group, and keep working (and keep the group's committed offsets) after the broker is
SIGKILLed and started again."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict

import pytest
from kafka import KafkaConsumer, KafkaProducer

from tests.kafka_broker import API_VERSION, LocalKafka


@pytest.fixture(scope="module")
def kafka():
    broker = LocalKafka()
    broker.start()
    yield broker
    broker.stop()


def new_producer(bootstrap: str) -> KafkaProducer:
    # one request in flight per connection, so retries cannot reorder a partition
    return KafkaProducer(bootstrap_servers=bootstrap, api_version=API_VERSION, acks="all",
                         retries=10, retry_backoff_ms=200, max_in_flight_requests_per_connection=1,
                         request_timeout_ms=10_000, max_block_ms=30_000)


def produce(producer: KafkaProducer, topic: str, values: list[str]) -> dict[int, list[str]]:
    """Send the values (keyed, so they spread over the partitions); the values per partition in
    offset order, as the broker acknowledged them."""
    futures = [(value, producer.send(topic, key=f"key-{i % 7}".encode(), value=value.encode()))
               for i, value in enumerate(values)]
    producer.flush(timeout=30)
    acked: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for value, future in futures:
        metadata = future.get(timeout=30)
        acked[metadata.partition].append((metadata.offset, value))
    for partition, records in acked.items():
        offsets = [offset for offset, _ in records]
        assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets), partition
    return {partition: [value for _, value in records] for partition, records in acked.items()}


def consume(bootstrap: str, topic: str, group: str, expected: int,
            timeout: float = 30.0) -> tuple[dict[int, list[str]], set[int]]:
    """Read `expected` messages as a member of `group` (plus a short wait for any extra ones),
    commit, leave; the values per partition in the order received, and the topic's partitions."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, api_version=API_VERSION,
                             group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False)
    received: dict[int, list[str]] = defaultdict(list)
    try:
        count = 0
        deadline = time.monotonic() + timeout
        while count < expected and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500).items():
                received[tp.partition].extend(r.value.decode() for r in records)
                count += len(records)
        settle = time.monotonic() + 1.0
        while time.monotonic() < settle:
            for tp, records in consumer.poll(timeout_ms=200).items():
                received[tp.partition].extend(r.value.decode() for r in records)
        consumer.commit()
        partitions = consumer.partitions_for_topic(topic) or set()
    finally:
        consumer.close()
    return dict(received), partitions


def test_produce_consume_and_survive_a_broker_kill(kafka):
    topic = f"test-broker-{uuid.uuid4().hex[:10]}"  # auto-created on first use
    group = f"test-group-{uuid.uuid4().hex[:10]}"
    producer = new_producer(kafka.bootstrap)
    try:
        first = [f"message-{i:03d}" for i in range(100)]
        sent = produce(producer, topic, first)
        received, partitions = consume(kafka.bootstrap, topic, group, expected=100)

        assert partitions == {0, 1, 2}  # num.partitions=3 for auto-created topics
        assert len(sent) > 1  # the keys spread the messages over more than one partition
        assert received == sent  # all 100, none twice, in order within each partition
        assert sorted(v for values in received.values() for v in values) == first

        kafka.kill_broker()
        assert not kafka.status()
        kafka.start_broker()

        # the same producer reconnects; the group resumes from its committed offsets
        second = [f"after-restart-{i:03d}" for i in range(20)]
        sent_after = produce(producer, topic, second)
        received_after, _ = consume(kafka.bootstrap, topic, group, expected=20)

        assert received_after == sent_after  # only the new ones: the commits survived the kill
        assert sorted(v for values in received_after.values() for v in values) == second
    finally:
        producer.close(timeout=5)
