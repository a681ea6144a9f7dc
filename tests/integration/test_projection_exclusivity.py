"""One projector per view (docs/RELIABILITY.md, bugs C and E): two projectors of one view
never apply an event twice; a catch-up or a clock tick beside a running worker waits for
it instead of writing beside it; a second worker for the same projections stands by; a
worker whose lock session is lost (as when PostgreSQL restarts) pauses its projections,
takes its locks again within seconds, and a rebuild never swaps the tables under it."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from adapters.config import connection_info
from adapters.runtime.catch_up import catch_up, rebuild, replay
from adapters.runtime.clock import clock_tick
from adapters.runtime.locks import (RULES, Busy, holders, projector_lock, worker_lock,
                                    worker_running)
from adapters.runtime.registry import READ_MODELS, open_view
from adapters.runtime.status import status, wait_for
from adapters.runtime.worker import Worker
from tests.conftest import meta
from tests.integration.test_services import register
from tests.support import code


def interviews(app, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        app.execute(code(1), "interview", meta=meta("2023-03-01"), person_name=f"p{i}",
                    person_role="chair", topics=["t"])


def position(env, name: str = "casefiles") -> int:
    view = open_view(env, name)
    try:
        return view.max_tracking_id("casefile") or 0
    finally:
        view.datastore.close()


def timeline_versions(env) -> list[int]:
    view = open_view(env, "casefiles")
    try:
        return [entry["version"] for entry in view.get(code(1))["timeline"]]
    finally:
        view.datastore.close()


def until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_two_catch_ups_of_one_view_at_once_apply_each_event_once(pg_app, postgres_env):
    """replay() (catch_up's pages) writes a batch of events with the tracking position of
    its last event; the library's single-row tracking only refuses a position that is not
    beyond the stored one. So of two projectors of one view whose batches overlap, if the
    one ending earlier commits first, the other would still commit and the events they
    share would be applied twice (the case file's timeline repeats entries; statistics
    count twice). Here both read the view's states, then the batch ending at head-1
    commits, then the one ending at head: the view refuses the second, since it no longer
    stands before the batch's first event (bug E)."""
    register(pg_app, 1)
    interviews(pg_app, 5)
    head = pg_app.recorder.max_notification_id()
    barrier = threading.Barrier(2, timeout=20)
    first_done = threading.Event()
    errors: list[Exception] = []

    def project(stop: int) -> None:
        view = open_view(postgres_env, "casefiles")
        read = view.load_states

        def load_states(ids):
            states = read(ids)
            barrier.wait()  # both projectors have read the states before either writes
            if stop == head:
                first_done.wait(20)  # the batch ending earlier commits first
            return states

        view.load_states = load_states
        try:
            replay(pg_app, READ_MODELS["casefiles"].projection(view=view), 0, stop, 500)
        except Exception as e:  # a refused batch is the correct outcome for the second
            errors.append(e)
        finally:
            first_done.set()
            view.datastore.close()

    threads = [threading.Thread(target=project, args=(stop,)) for stop in (head - 1, head)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    versions = timeline_versions(postgres_env)
    assert versions == sorted(set(versions)), \
        f"events applied twice: timeline versions {versions} (errors: {errors})"
    assert len(errors) == 1 and "refused" in str(errors[0]), errors
    catch_up(postgres_env, "casefiles")  # the refused events are applied once, later
    assert timeline_versions(postgres_env) == list(range(1, 7))


def test_a_catch_up_beside_the_views_projector_waits_instead_of_writing(pg_app,
                                                                         postgres_env):
    register(pg_app, 1)
    interviews(pg_app, 3)
    with psycopg.connect(**connection_info(postgres_env), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)",
                       projector_lock(postgres_env, "casefiles"))
        assert holders(postgres_env).get("casefiles")
        with pytest.raises(TimeoutError):
            catch_up(postgres_env, "casefiles", timeout=0.5)
        assert position(postgres_env) == 0  # nothing written beside the projector
    assert catch_up(postgres_env, "casefiles") == 4
    assert timeline_versions(postgres_env) == [1, 2, 3, 4]


def test_an_outside_clock_tick_refuses_while_a_worker_runs_the_rules(pg_app, postgres_env):
    worker = Worker(postgres_env, names=(), run_rules=True, run_clock=False).start()
    try:
        assert worker.holds(RULES)
        with pytest.raises(Busy):
            clock_tick(postgres_env)
    finally:
        worker.stop()


def test_a_second_worker_for_the_same_projections_stands_by_until_the_first_stops(
        pg_app, postgres_env):
    register(pg_app, 1)
    first = Worker(postgres_env, run_rules=False).start()
    second = Worker(postgres_env, run_rules=False).start()  # a rolling deploy
    try:
        assert all(first.holds(n) for n in READ_MODELS)
        assert not any(second.holds(n) for n in READ_MODELS)
        interviews(pg_app, 10)
        head = pg_app.recorder.max_notification_id()
        assert wait_for(open_view(postgres_env, "casefiles"), head, 20)
        first.stop()
        assert until(lambda: all(second.holds(n) for n in READ_MODELS), 5)
        interviews(pg_app, 10, start=10)
        head = pg_app.recorder.max_notification_id()
        for name in READ_MODELS:
            assert wait_for(open_view(postgres_env, name), head, 20), name
    finally:
        first.stop()
        second.stop()
    assert timeline_versions(postgres_env) == list(range(1, 22))
    for name in READ_MODELS:
        assert rebuild(postgres_env, name, progress=False)["comparison"] == "identical"


def _terminate_lock_sessions(env, keys) -> int:
    """End the sessions holding these advisory locks (what a PostgreSQL restart does to
    the worker's lock sessions), from another connection; only this schema's keys."""
    with psycopg.connect(**connection_info(env), autocommit=True) as conn:
        pids = [row[0] for key in keys for row in conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
            "objsubid = 2 AND classid::bigint = %s AND objid::bigint = %s",
            (key[0] % 2 ** 32, key[1] % 2 ** 32)).fetchall()]
        for pid in set(pids):
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return len(set(pids))


def test_a_worker_that_loses_its_locks_takes_them_again_and_a_rebuild_never_swaps_under_it(
        pg_app, postgres_env):
    """Bug C: PostgreSQL restarting ends the worker's lock sessions, and before the fix
    nothing took the locks again: `casefile projections rebuild` then took the worker for
    stopped and swapped the live tables under it."""
    register(pg_app, 1)
    worker = Worker(postgres_env, run_rules=False).start()
    try:
        keys = [worker_lock(postgres_env), *(projector_lock(postgres_env, n)
                                             for n in READ_MODELS)]
        assert _terminate_lock_sessions(postgres_env, keys) >= 1
        # taken again within a few seconds, the shared worker lock too
        assert until(lambda: worker_running(postgres_env) and all(
            worker_running(postgres_env, n) for n in READ_MODELS), 5)
        assert until(lambda: all(worker.holds(n) for n in READ_MODELS), 5)
        interviews(pg_app, 3)
        assert wait_for(open_view(postgres_env, "casefiles"),
                        pg_app.recorder.max_notification_id(), 20)
        result = rebuild(postgres_env, "casefiles", progress=False)
        assert result["comparison"] == "identical" and result["replaced"] is False

        # While the lock is not held (here: someone else took it in the gap), the
        # projection pauses: new events are not projected beside the lock's holder.
        with psycopg.connect(**connection_info(postgres_env), autocommit=True) as other:
            _terminate_lock_sessions(postgres_env, [projector_lock(postgres_env,
                                                                   "casefiles")])
            assert until(lambda: other.execute(
                "SELECT pg_try_advisory_lock(%s, %s)",
                projector_lock(postgres_env, "casefiles")).fetchone()[0], 5)
            assert until(lambda: not worker.holds("casefiles"), 5)
            time.sleep(0.6)  # the runner's loop notices within its 0.5 s poll
            before = position(postgres_env)
            interviews(pg_app, 3, start=3)
            time.sleep(1.5)
            assert position(postgres_env) == before, "projected without holding the lock"
            row = {r["projection"]: r for r in status(postgres_env)}["casefiles"]
            assert row["worker"] and not row["worker"].startswith("casefile worker")
        # the other session ended: the worker takes the lock and resumes
        assert until(lambda: worker.holds("casefiles"), 5)
        assert wait_for(open_view(postgres_env, "casefiles"),
                        pg_app.recorder.max_notification_id(), 20)
    finally:
        worker.stop()
    assert timeline_versions(postgres_env) == list(range(1, 8))


def test_a_rebuild_swaps_in_the_view_with_its_indexes_and_committee_counts(pg_app,
                                                                           postgres_env):
    """The swap happens under the view's lock and renames the rebuilt copy's indexes to
    the live names (a later start must not create them all again), and the committee
    counts the network view reads (``casefiles_leaves``, kept by a trigger) go with it."""
    register(pg_app, 1)
    register(pg_app, 2)
    catch_up(postgres_env, "casefiles")
    schema = postgres_env["POSTGRES_SCHEMA"]

    def indexes() -> list[str]:
        with psycopg.connect(**connection_info(postgres_env), autocommit=True) as conn:
            return sorted(r[0] for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND "
                "tablename LIKE 'casefiles%%'", (schema,)).fetchall())

    before = indexes()
    result = rebuild(postgres_env, "casefiles", progress=False)
    assert result["comparison"] == "identical" and result["replaced"] is True
    open_view(postgres_env, "casefiles").datastore.close()  # a start: creates what is missing
    assert indexes() == before
    register(pg_app, 3)  # the trigger of the swapped-in rows keeps the swapped-in counts
    catch_up(postgres_env, "casefiles")
    with psycopg.connect(**connection_info(postgres_env), autocommit=True) as conn:
        counts = conn.execute(f'SELECT status, count FROM "{schema}".casefiles_leaves').fetchall()
    assert counts == [("active", 3)]
