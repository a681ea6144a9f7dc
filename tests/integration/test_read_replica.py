"""Reading the views from a streaming replica (READ_DATABASE_URL, issue 18 item 3): a real
primary and hot standby on loopback (tests/replication.py: initdb and pg_basebackup of
the embedded PostgreSQL). The application writes on the primary, the projection worker
projects there, the views replicate; the API reads them from the standby and still shows
every client its own writes."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from adapters.runtime.worker import Worker
from adapters.web import close_app, create_app
from adapters.bootstrap import build_casefiles
from tests.conftest import env_for, meta
from tests.replication import ReplicatedPostgres
from tests.support import Api, code, open_accounts, registration

DISTRICT = "310110000000"


@pytest.fixture(scope="module")
def replicated():
    servers = ReplicatedPostgres()
    servers.start()
    yield servers
    servers.stop()


@pytest.fixture
def stack(replicated):
    """The application and the worker on the primary, the API reading from the standby."""
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(replicated.primary_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    env = env_for(replicated.primary_url, schema)
    app = build_casefiles(env=env)
    tokens = open_accounts(app, meta("2020-01-01", actor="setup", role="admin"))
    worker = Worker(env, run_rules=False).start()
    replicated.wait_replayed()  # the tables, before the web app opens its views there
    web = create_app({"CASEFILES": build_casefiles(
        env={**env, "READ_DATABASE_URL": replicated.replica_url}), "TESTING": True})
    replica = web.extensions["read_replica"]
    replica.retry = 0.5  # (5 s in service) how long an unreachable replica is left alone
    yield Api(web.test_client(), tokens), replica
    close_app(web)
    web.extensions["casefiles"].close()
    worker.stop()
    app.close()
    with psycopg.connect(replicated.primary_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def served_from(response) -> str | None:
    return response.headers.get("X-Served-From")


def test_each_view_reads_the_writers_own_writes_from_the_replica(stack):
    api, _ = stack
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    read = api.get(api.org(1))
    assert read.status_code == 200 and served_from(read) == "replica"
    assert read.json["name"] == registration(1)["name"]
    assert int(read.headers["X-Position"]) >= 1
    found = api.get("/api/v1/organizations?q=示例志愿者协会1")
    assert served_from(found) == "replica" and found.json["total"] == 1
    audit = api.get(f"{api.org(1)}/audit")
    assert served_from(audit) == "replica" and len(audit.json["entries"]) == 1
    stats = api.get(f"/api/v1/statistics?jurisdiction={DISTRICT}")
    assert served_from(stats) == "replica" and stats.status_code == 200
    network = api.get(f"/api/v1/network/{DISTRICT}")
    assert served_from(network) == "replica" and network.status_code == 200
    assert network.json["figures"]["organizations"] == 1


def test_a_replica_behind_the_readers_write_is_passed_over_for_the_primary(stack, replicated):
    api, replica = stack
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    assert served_from(api.get(api.org(1))) == "replica"
    replicated.pause_replay()
    try:
        written = api.post(f"{api.org(1)}/interviews", {
            "person_name": "张伟", "person_role": "法定代表人", "topics": ["整改"]})
        assert written.status_code == 200
        started = time.monotonic()
        read = api.get(api.org(1))
        waited = time.monotonic() - started
        assert served_from(read) == "primary" and read.json["version"] == 2
        assert replica.wait <= waited < 3  # it waited for the replica, then went on
    finally:
        replicated.resume_replay()
    read = api.get(api.org(1))
    assert served_from(read) == "replica" and read.json["version"] == 2


def test_reads_fall_back_to_the_primary_while_the_replica_is_down_and_come_back(
        stack, replicated):
    api, replica = stack
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    assert served_from(api.get(api.org(1))) == "replica"
    assert api.get("/readyz").json["replica"]["status"] == "ok"
    replicated.stop_replica()
    try:
        ready = api.get("/readyz")
        assert ready.status_code == 200 and ready.json["replica"]["status"] == "unreachable"
        for n in range(2, 5):  # writes and reads go on; the reads come from the primary
            assert api.post("/api/v1/organizations", registration(n)).status_code == 201
            started = time.monotonic()
            read = api.get(api.org(n))
            assert read.status_code == 200 and served_from(read) == "primary"
            assert read.json["code"] == code(n)
            assert time.monotonic() - started < 3
    finally:
        replicated.start_replica()
    deadline = time.monotonic() + 30
    while served_from(read := api.get(api.org(4))) != "replica":
        assert time.monotonic() < deadline, "reads did not come back to the replica"
        time.sleep(0.2)
    assert read.status_code == 200 and read.json["code"] == code(4)
