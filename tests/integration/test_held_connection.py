"""The group committer keeps a connection of its own (adapters.store.held_connection):
every batch of a process runs on it, a connection the server ended is replaced without
a save failing, and the application gives it back when it closes."""

from __future__ import annotations

import psycopg

from tests.conftest import meta
from tests.integration.test_services import register
from tests.support import code


def interview(app, n: int):
    return app.execute(code(n), "interview", meta=meta(), person_name="张伟",
                       person_role="理事长", topics=["财务"])


def backend(app) -> int:
    return app.recorder.held_connection._conn.info.backend_pid


def test_every_batch_runs_on_the_held_connection(pg_app, database_url):
    register(pg_app, 1)
    interview(pg_app, 1)
    pid = backend(pg_app)
    for _ in range(5):
        interview(pg_app, 1)
    assert backend(pg_app) == pid
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                            (pid,)).fetchone()[0] == 1


def test_a_connection_the_server_ended_is_replaced_and_the_save_succeeds(pg_app,
                                                                         database_url):
    register(pg_app, 1)
    interview(pg_app, 1)
    ended = backend(pg_app)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (ended,))
    result = interview(pg_app, 1)  # fails on the ended connection, then is retried
    assert result.version == 3 and backend(pg_app) != ended
    assert pg_app.get_organization(code(1)).version == 3


def test_closing_the_application_gives_the_connection_back(postgres_env, database_url):
    from adapters.bootstrap import build_casefiles

    app = build_casefiles(env=postgres_env)
    register(app, 1)
    interview(app, 1)
    pid = backend(app)
    app.close()
    assert app.recorder.held_connection._conn is None
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                            (pid,)).fetchone()[0] == 0
