"""The command cache (services.command_cache) on real PostgreSQL: a command decides on
the instance this process's last command saved; another process's writes drop it
(adapters.store.invalidation, through NOTIFY); and a command on an instance whose
process has not yet heard of such a write still succeeds or is refused on the
organization as recorded.

Two applications on one schema stand for two processes (two web workers). ``deaf``
makes one of them miss the other's writes, as in the moment before a NOTIFY arrives."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Callable

import psycopg

import pytest

from adapters.bootstrap import build_casefiles
from domain.errors import DomainError
from services.application import checking_scope
from services.errors import VersionConflict
from tests.conftest import meta
from tests.integration.test_services import register
from tests.support import code

INTERVIEW = {"person_name": "张伟", "person_role": "法定代表人", "topics": ["整改"]}


@pytest.fixture
def other_process(postgres_env):
    app = build_casefiles(env=postgres_env)
    yield app
    app.close()


def deaf(app):
    """The application no longer hears other processes' writes (its cache is trusted)."""
    app.command_cache.watcher = None
    app.command_cache.watched = True
    return app


def eventually(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.02)


def cached(app, n: int = 1):
    """The instance the command cache keeps of organization n, or None."""
    link = app.command_cache._instances.cache.get(app.get_organization(code(n)).id)
    return link[3] if link is not None else None  # (the LRU list's link: its value)


def interview(app, **kw):
    return app.execute(code(1), "interview", meta=meta(), **INTERVIEW, **kw)


def recorded_versions(app) -> list[int]:
    return [e.originator_version for e in app.organization_history(code(1))]


def test_the_next_command_decides_on_the_saved_instance_without_a_copy(pg_app):
    register(pg_app)
    interview(pg_app)  # starts the listener: trusted once it listens
    eventually(lambda: pg_app.command_cache.watched)
    interview(pg_app)
    kept = cached(pg_app)
    result = interview(pg_app)
    assert result.version == 4 and result.aggregate is None  # not handed out
    again = cached(pg_app)
    assert again is kept and again.version == 4 and len(again.interviews) == 3


def test_a_command_on_an_instance_another_process_has_overtaken_is_decided_again(
        pg_app, other_process):
    deaf(pg_app)
    register(pg_app)
    interview(pg_app)  # pg_app keeps version 2
    interview(other_process)  # version 3, which pg_app has not seen
    result = interview(pg_app)  # its version 3 is taken: decided again on version 3
    assert result.version == 4
    assert recorded_versions(pg_app) == [1, 2, 3, 4]
    assert len(other_process.get_organization(code(1)).interviews) == 3
    assert interview(pg_app).version == 5  # and kept as recorded


def test_an_expected_version_is_compared_with_the_recorded_organization(pg_app, other_process):
    deaf(pg_app)
    register(pg_app)
    interview(pg_app)  # pg_app keeps version 2
    interview(other_process)  # the client read version 3 from the other process
    assert interview(pg_app, expected_version=3).version == 4
    with pytest.raises(VersionConflict):
        interview(pg_app, expected_version=3)  # now truly stale
    assert recorded_versions(pg_app) == [1, 2, 3, 4]


def test_a_rule_refused_on_a_stale_instance_is_decided_again_on_the_recorded_one(
        pg_app, other_process):
    deaf(pg_app)
    register(pg_app)
    interview(pg_app)  # pg_app keeps version 2: no rectification notice
    other_process.execute(code(1), "rectification", meta=meta("2024-03-01"),
                          notice_number="N1", issues=["财务"], deadline=date(2024, 6, 1))
    result = pg_app.execute(code(1), "rectification_completion", meta=meta("2024-04-01"),
                            notice_number="N1", note="完成")
    assert result.version == 4
    assert pg_app.get_organization(code(1)).rectifications["N1"]["status"] == "completed"
    with pytest.raises(DomainError):  # refused on the recorded organization too
        pg_app.execute(code(1), "rectification_completion", meta=meta("2024-04-02"),
                       notice_number="N2", note="完成")
    assert recorded_versions(pg_app) == [1, 2, 3, 4]


def test_a_scope_refused_on_a_stale_instance_is_checked_again_on_the_recorded_one(
        pg_app, other_process):
    deaf(pg_app)
    register(pg_app)
    interview(pg_app)  # pg_app keeps version 2

    def from_version_3(org) -> None:  # a scope that the organization enters at version 3
        if org.version < 3:
            raise DomainError("not in your scope", rule="out_of_scope")

    interview(other_process)
    with checking_scope(from_version_3):
        assert interview(pg_app).version == 4

    def never(org) -> None:
        raise DomainError("not in your scope", rule="out_of_scope")

    with pytest.raises(DomainError), checking_scope(never):  # refused on both loads
        interview(pg_app)
    assert recorded_versions(pg_app) == [1, 2, 3, 4]


def test_a_refused_command_leaves_no_half_decided_instance(pg_app):
    deaf(pg_app)
    register(pg_app)
    interview(pg_app)
    assert cached(pg_app) is not None
    with pytest.raises(DomainError):
        pg_app.execute(code(1), "rectification_completion", meta=meta(),
                       notice_number="N9", note="完成")
    assert cached(pg_app) is None  # left the cache with the refusal
    assert interview(pg_app).version == 3


def test_concurrent_commands_on_one_organization_take_turns(pg_app):
    register(pg_app)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(10):
                interview(pg_app)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert recorded_versions(pg_app) == list(range(1, 42))
    assert len(pg_app.get_organization(code(1)).interviews) == 40


def test_another_process_s_write_drops_the_instance_and_its_own_do_not(pg_app, other_process):
    register(pg_app)
    register(pg_app, 2)
    interview(pg_app)
    eventually(lambda: pg_app.command_cache.watched)
    interview(pg_app)  # heard of by its own listener after this
    other_process.execute(code(2), "interview", meta=meta(), **INTERVIEW)
    eventually(lambda: pg_app.write_listener.heard >= 1)  # in commit order: its own first
    assert cached(pg_app) is not None  # its own writes keep it
    interview(other_process)
    eventually(lambda: cached(pg_app) is None)  # another's write drops it
    assert interview(pg_app).version == 5
    assert recorded_versions(pg_app) == [1, 2, 3, 4, 5]


def test_a_listener_that_lost_its_connection_empties_the_cache_and_listens_again(
        pg_app, database_url):
    register(pg_app)
    interview(pg_app)
    eventually(lambda: pg_app.command_cache.watched)
    interview(pg_app)
    assert cached(pg_app) is not None
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = 'casefile command cache' "
                     "AND query LIKE 'LISTEN%%'")
    eventually(lambda: cached(pg_app) is None)  # it may have missed writes meanwhile
    eventually(lambda: pg_app.command_cache.watched, seconds=15)
    assert interview(pg_app).version == 4
    assert cached(pg_app) is not None


def test_a_snapshot_taken_from_memory_holds_the_recorded_state(pg_app):
    """Every 50th version is snapshotted from the instance just saved (not replayed, as
    the library would): the state it holds is the state the events replay to."""
    from eventsourcing.application import project_aggregate

    deaf(pg_app)
    register(pg_app)
    pg_app.execute(code(1), "rectification", meta=meta(), notice_number="N1",
                   issues=["财务"], deadline=date(2024, 6, 1))
    while pg_app.get_organization(code(1)).version < 52:
        interview(pg_app)
    org_id = pg_app.get_organization(code(1)).id
    snapshots = list(pg_app.snapshots.get(org_id))
    assert [s.originator_version for s in snapshots] == [50]
    from_snapshot = snapshots[0].mutate(None)
    replayed = project_aggregate(None, pg_app.events.get(org_id, lte=50))
    assert from_snapshot.version == replayed.version == 50
    assert vars(from_snapshot).keys() == vars(replayed).keys()
    for name, value in vars(replayed).items():
        if name != "_pending_events":
            assert getattr(from_snapshot, name) == value, name


def test_a_command_nested_in_another_on_the_same_organization_does_not_wait_for_itself(
        pg_app):
    deaf(pg_app)
    register(pg_app)
    interview(pg_app)
    outer = {"calls": 0}

    def decide(org):
        outer["calls"] += 1
        if outer["calls"] == 1:  # the nested command records version 3 meanwhile
            interview(pg_app)
        org.hold_interview(meta=meta(), **INTERVIEW)
        return (), {}

    done = threading.Thread(target=lambda: outer.update(
        result=pg_app._organization_command(code(1), decide, meta=meta())))
    done.start()
    done.join(30)
    assert not done.is_alive(), "the nested command waited for its own outer command"
    assert outer["result"].version == 4 and outer["calls"] == 2  # decided again
    assert recorded_versions(pg_app) == [1, 2, 3, 4]
