"""g. The Kafka relay: throughput of ``adapters.kafka.relay.Relay`` (read the log, decrypt,
map to CloudEvents, publish with acks=all, advance the tracked position) against the raw
kafka-python producer sending the same messages with the same settings and batching, and
the latency from a recorded event to a consumer receiving it.

The broker is the local Kafka 0.9.0.1 of tests/kafka_broker.py, on its own ports and folder
(127.0.0.1:39092, ZooKeeper 32181, var/kafka-bench) so it does not clash with the tests'
or ``make kafka``'s; BENCH_KAFKA_BOOTSTRAP names another broker instead."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid

from bench.common import (INTERVIEW, Context, Row, app_env, fresh_schema, ms, percentile,
                          rate, register_orgs, staff_meta)

TARGET = 0.7
API_VERSION = (0, 9)


def producer(bootstrap: str):
    from kafka import KafkaProducer

    # the relay's own settings (adapters.kafka.relay.Relay.producer)
    return KafkaProducer(bootstrap_servers=[bootstrap], api_version=API_VERSION, acks="all",
                         retries=5, max_in_flight_requests_per_connection=1, linger_ms=5,
                         batch_size=256 * 1024, request_timeout_ms=15000, max_block_ms=15000,
                         enable_idempotence=False)


def create_topic(bootstrap: str, topic: str) -> None:
    """Kafka 0.9 creates a topic on first use; do it before anything is timed."""
    p = producer(bootstrap)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                p.send(topic, key=b"warm-up", value=b"{}").get(timeout=10)
                return
            except Exception:  # leader not yet elected: retry
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        p.close(timeout=5)


def messages(env: dict, settings) -> list[tuple[bytes, bytes]]:
    """What the relay publishes for the recorded events: (key, CloudEvent JSON), read
    and encoded by the relay's own ``read``."""
    from adapters.kafka.relay import Relay

    relay = Relay(env, settings)
    try:
        out: list[tuple[bytes, bytes]] = []
        position = 0
        while (batch := relay.read(position)) is not None:
            out.extend(batch.messages)
            position = batch.last
        return out
    finally:
        relay.stop()


def raw_publish(bootstrap: str, topic: str, batch: list[tuple[bytes, bytes]],
                batch_size: int) -> float:
    """Send in batches of ``batch_size`` like the relay (flush, then every future's ack);
    returns seconds."""
    p = producer(bootstrap)
    try:
        started = time.perf_counter()
        for i in range(0, len(batch), batch_size):
            futures = [p.send(topic, key=k, value=v) for k, v in batch[i:i + batch_size]]
            p.flush(timeout=30)
            for f in futures:
                f.get(timeout=30)
        return time.perf_counter() - started
    finally:
        p.close(timeout=5)


def relay_throughput(env: dict, settings) -> tuple[int, int, float]:
    """Relay from position 0 to the head as a running relay does (``Relay.relay_pending``:
    the next batch read and encoded while the broker acknowledges the current one);
    (events, published, seconds)."""
    from adapters.kafka.relay import Relay

    relay = Relay(env, settings)
    try:
        relay.producer()  # connected before the clock starts, as a running relay is
        started = time.perf_counter()
        covered = relay.relay_pending()
        return covered, relay.published, time.perf_counter() - started
    finally:
        relay.stop()


def latency(env: dict, settings, bootstrap: str, count: int, per_second: float
            ) -> list[float]:
    """Record ``count`` events at a steady rate with the relay running; the time from each
    write's answer to a consumer receiving its message."""
    from kafka import KafkaConsumer, TopicPartition

    from adapters.kafka.relay import Relay
    from adapters.bootstrap import build_casefiles

    casefiles = build_casefiles(env=env)
    codes = register_orgs(casefiles, 20, start=5000)
    relay = Relay(env, settings).start()
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], api_version=API_VERSION,
                             group_id=None, enable_auto_commit=False, fetch_max_wait_ms=5,
                             consumer_timeout_ms=200)
    written: dict[int, float] = {}
    received: dict[int, float] = {}
    stop = threading.Event()
    try:
        partitions = [TopicPartition(settings.topic, p)
                      for p in sorted(consumer.partitions_for_topic(settings.topic) or [0])]
        consumer.assign(partitions)
        consumer.seek_to_end()
        for p in partitions:
            consumer.position(p)  # resolve the end offsets now, before writing

        def consume() -> None:
            while not stop.is_set():
                for message in consumer:
                    now = time.perf_counter()
                    position = json.loads(message.value)["data"]["position"]
                    received.setdefault(position, now)

        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        time.sleep(0.5)  # let the registrations pass through first
        next_at = time.perf_counter()
        for i in range(count):
            result = casefiles.execute(codes[i % len(codes)], "interview", meta=staff_meta(),
                                       **INTERVIEW)
            written[result.position] = time.perf_counter()
            next_at += 1 / per_second
            time.sleep(max(0.0, next_at - time.perf_counter()))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(p in received for p in written):
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=5)
    finally:
        consumer.close()
        relay.stop()
        casefiles.close()
    return [received[p] - t for p, t in written.items() if p in received]


def broker():
    from tests.kafka_broker import LocalKafka

    external = os.environ.get("BENCH_KAFKA_BOOTSTRAP")
    if external:
        os.environ["TEST_KAFKA_BOOTSTRAP"] = external
    else:
        os.environ.pop("TEST_KAFKA_BOOTSTRAP", None)
    return LocalKafka(port=39092, zookeeper_port=32181, var="var/kafka-bench", partitions=3)


def run(ctx: Context) -> list[Row]:
    from adapters.kafka.relay import KafkaSettings

    from bench.rebuild import generate_district

    kafka = broker()
    bootstrap = kafka.start()
    try:
        with fresh_schema(ctx.url, "kafka") as schema:
            suffix = uuid.uuid4().hex[:8]
            relay_topic, raw_topic = f"bench.relay.{suffix}", f"bench.raw.{suffix}"
            env = app_env(schema, KAFKA_BOOTSTRAP_SERVERS=bootstrap, KAFKA_API_VERSION="0.9",
                          KAFKA_TOPIC=relay_topic)
            settings = KafkaSettings.from_env(env)
            summary = generate_district(env, ctx.size(150, 600))
            create_topic(bootstrap, relay_topic)
            create_topic(bootstrap, raw_topic)
            batch = messages(env, settings)
            raw_publish(bootstrap, raw_topic, batch[:500], settings.batch)  # warm-up
            raw_seconds = raw_publish(bootstrap, raw_topic, batch, settings.batch)
            covered, published, relay_seconds = relay_throughput(env, settings)
            lags = latency(env, settings, bootstrap, ctx.size(60, 300), 20)
    finally:
        kafka.stop()
    relay_rate, raw_rate = published / relay_seconds, len(batch) / raw_seconds
    ratio = relay_rate / raw_rate
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    return [
        Row("g. Kafka relay throughput", rate(relay_rate, "msg/s"), rate(raw_rate, "msg/s raw"),
            ratio, ">= 70%", ratio >= TARGET,
            note=(f"{published:,} messages ({covered:,} events, {summary['organizations']} "
                  f"organizations), acks=all, batches of {settings.batch}; raw = same "
                  "messages and producer settings, no database"),
            data={"relay": relay_rate, "raw": raw_rate, "messages": published}),
        Row("g. Kafka write -> consumer latency", f"p50 {ms(p50)}, p99 {ms(p99)}", "-", None,
            "-", None, note=f"{len(lags)} events at 20/s; the relay wakes on NOTIFY",
            data={"p50": p50, "p99": p99, "samples": len(lags)}),
    ]
