"""The relay wakes on the recorder's NOTIFY instead of polling (issue 8 item 7). Its
fallback poll is set far beyond the test's patience, so an event recorded while it is idle
reaches the broker only if a notification woke it, also after its LISTEN session was cut
(as a PostgreSQL restart does). Speed is measured by bench.kafka, not here."""

from __future__ import annotations

import time

import psycopg
import pytest

from adapters.config import connection_info
from adapters.kafka.relay import KafkaSettings, Relay, relay_status
from tests.conftest import meta
from tests.integration.test_kafka import read_topic
from tests.integration.test_services import register
from tests.support import code

NEVER = 3600.0  # the fallback poll: never reached while the test runs


@pytest.fixture
def kafka_env(postgres_env, kafka_bootstrap):
    topic = f"socorg.wakeup.{postgres_env['POSTGRES_SCHEMA']}"
    return {**postgres_env, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "KAFKA_TOPIC": topic,
            "KAFKA_API_VERSION": "0.9"}


def caught_up(env, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if relay_status(env)["lag"] == 0:
            return True
        time.sleep(0.05)
    return False


def listening(relay: Relay, other_than: int | None = None, timeout: float = 60) -> int:
    """The backend pid of the relay's LISTEN session, once it has one (a new one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = relay.wakeup.conn
        if conn is not None and not conn.closed and conn.info.backend_pid != other_than:
            return conn.info.backend_pid
        time.sleep(0.05)
    raise AssertionError("the relay has no LISTEN session")


def interview(app, n: int) -> None:
    app.execute(code(1), "interview", meta=meta(), person_name=f"p{n}", person_role="chair",
                topics=["t"])


def test_an_event_recorded_while_the_relay_is_idle_wakes_it(pg_app, kafka_env):
    register(pg_app, 1)
    relay = Relay(kafka_env, KafkaSettings.from_env(kafka_env)).start(idle_wait=NEVER)
    try:
        assert caught_up(kafka_env)  # the first read, before any wait
        listening(relay)
        time.sleep(0.5)  # idle: waiting for a notification
        woken = relay.wakeup.notified
        interview(pg_app, 1)
        assert caught_up(kafka_env), relay_status(kafka_env)
        assert relay.wakeup.notified > woken
    finally:
        relay.stop()
    assert relay.last_error is None


def test_the_relay_listens_again_after_its_session_is_cut(pg_app, kafka_env):
    register(pg_app, 1)
    relay = Relay(kafka_env, KafkaSettings.from_env(kafka_env)).start(idle_wait=NEVER)
    try:
        assert caught_up(kafka_env)
        first = listening(relay)
        with psycopg.connect(**connection_info(kafka_env), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (first,))
        listening(relay, other_than=first)  # after the back-off, a new session
        time.sleep(0.5)
        for n in range(3):
            interview(pg_app, n)
        assert caught_up(kafka_env), relay_status(kafka_env)
        assert relay.last_error is None
        published = relay.published
    finally:
        relay.stop()
    messages = read_topic(kafka_env, expected=published)
    assert sorted({m["data"]["version"] for m in messages}) == [1, 2, 3, 4]
