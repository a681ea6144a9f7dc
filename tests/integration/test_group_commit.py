"""Group commit on real PostgreSQL (issue 18, item 1): concurrent commands share
transactions, and each is answered with exactly its own outcome.

To put chosen commands into one batch, a test holds the events table's lock from a
connection of its own: the first command's transaction waits for it, the others queue
behind that one in the group committer, and when the lock is let go they are recorded
together in the next transaction (the ``on_batch`` hook reports its size)."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable, Iterator

import psycopg
import pytest
from eventsourcing.persistence import DatabaseError

from services.errors import IdempotencyKeyReused, VersionConflict
from tests.conftest import meta
from tests.integration.test_services import register
from tests.support import code

INTERVIEW = {"person_name": "张伟", "person_role": "法定代表人", "topics": ["整改"]}


def interview(app, n: int, **kw):
    return app.execute(code(n), "interview", meta=meta(), **INTERVIEW, **kw)


def table(app, suffix: str) -> str:
    return f'{app.recorder.datastore.schema}.casefile_{suffix}'


@contextlib.contextmanager
def held_lock(app, database_url: str) -> Iterator[None]:
    """The events table locked (as the recorder locks it) until the block ends."""
    with psycopg.connect(database_url) as conn:
        conn.execute(f"LOCK TABLE {table(app, 'events')} IN EXCLUSIVE MODE")
        yield
        conn.rollback()


def run_in_one_batch(app, database_url: str, commands: list[Callable[[], object]]
                     ) -> tuple[list[object], list[int]]:
    """Run the commands so that they are recorded together: behind a first command
    that waits for a held lock. Returns each command's result or exception, and the
    sizes of the batches committed meanwhile."""
    sizes: list[int] = []
    app.recorder.committer.on_batch = sizes.append
    outcomes: list[object] = [None] * len(commands)

    def run(i: int, command: Callable[[], object]) -> None:
        try:
            outcomes[i] = command()
        except Exception as e:  # the outcome under test
            outcomes[i] = e

    with held_lock(app, database_url):
        first = threading.Thread(target=interview, args=(app, 99))
        first.start()
        wait_until(lambda: waiting_for_lock(database_url) >= 1)
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(commands)]
        for t in threads:
            t.start()
        wait_until(lambda: app.recorder.committer.queued == len(commands))
    first.join(10)
    for t in threads:
        t.join(10)
    app.recorder.committer.on_batch = None
    return outcomes, sizes


def without_command_cache(app) -> None:
    """Two commands on one organization in one batch: with the command cache they take
    turns (services.command_cache), so they meet in a batch only without it; the
    recorder must still answer each of them (a save by a rule, or another process's
    command, can meet a command in a batch)."""
    app.command_cache = None


def waiting_for_lock(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database()").fetchone()[0]


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def stored(app) -> list[tuple]:
    """(originator id, version, position) of every stored event, in position order."""
    with app.recorder.datastore.transaction() as curs:
        curs.execute(f"SELECT originator_id, originator_version, notification_id "
                     f"FROM {table(app, 'events')} ORDER BY notification_id")
        return [(r["originator_id"], r["originator_version"], r["notification_id"])
                for r in curs.fetchall()]


# --------------------------------------------------------------------- under load

def test_many_threads_record_every_command_once_with_its_own_version_and_position(pg_app):
    """16 threads, 4 organizations each shared by 4 of them (so saves conflict and are
    retried), while a reader follows the log: every command recorded once, versions
    1..N per organization, each answer's position that of its own event, and the reader
    saw every position in order without passing one that committed later."""
    orgs, threads, per_thread = 4, 16, 12
    for n in range(1, orgs + 1):
        register(pg_app, n)
    head = pg_app.recorder.max_notification_id()
    sizes: list[int] = []
    pg_app.recorder.committer.on_batch = sizes.append
    results, errors = [], []
    seen: list[int] = []
    stop = threading.Event()

    def follow() -> None:
        last = head
        while not stop.is_set() or last < (pg_app.recorder.max_notification_id() or 0):
            for n in pg_app.recorder.select_notifications(last + 1, 100):
                seen.append(n.id)
                last = n.id

    def write(i: int) -> None:
        done = 0
        try:
            while done < per_thread:
                try:
                    results.append(interview(pg_app, 1 + i % orgs))
                    done += 1
                except VersionConflict:  # "changing too fast": a client retries
                    pass
        except Exception as e:  # reported below
            errors.append(e)

    reader = threading.Thread(target=follow)
    reader.start()
    writers = [threading.Thread(target=write, args=(i,)) for i in range(threads)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()

    assert not errors and len(results) == threads * per_thread
    rows = stored(pg_app)
    by_org: dict = {}
    for originator_id, version, _ in rows:
        by_org.setdefault(originator_id, []).append(version)
    for versions in by_org.values():
        assert versions == list(range(1, len(versions) + 1))
    position = {(o, v): p for o, v, p in rows}
    for r in results:
        assert position[(r.aggregate_id, r.version)] == r.position
    assert len({(r.aggregate_id, r.version) for r in results}) == len(results)
    assert seen == [p for _, _, p in rows if p > head]  # in order, none passed over
    assert max(sizes) > 1  # commands were recorded together


def test_without_conflicts_the_positions_have_no_gaps(pg_app):
    for n in range(1, 9):
        register(pg_app, n)
    head = pg_app.recorder.max_notification_id()
    writers = [threading.Thread(target=lambda n=n: [interview(pg_app, n) for _ in range(10)])
               for n in range(1, 9)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    assert [p for _, _, p in stored(pg_app) if p > head] == list(range(head + 1, head + 81))


# ------------------------------------------------------------ one batch, chosen

def test_a_version_conflict_in_a_batch_fails_that_command_only(pg_app, database_url):
    without_command_cache(pg_app)
    for n in (1, 2, 3, 99):
        register(pg_app, n)
    outcomes, sizes = run_in_one_batch(pg_app, database_url, [
        lambda: interview(pg_app, 1, expected_version=1),
        lambda: interview(pg_app, 1, expected_version=1),
        lambda: interview(pg_app, 2, idempotency_key="k-2", fingerprint="f"),
        lambda: interview(pg_app, 3),
    ])
    assert sizes == [1, 4]
    conflicts = [o for o in outcomes[:2] if isinstance(o, VersionConflict)]
    won = [o for o in outcomes[:2] if not isinstance(o, Exception)]
    assert len(conflicts) == 1 and len(won) == 1 and won[0].version == 2, repr(outcomes)
    assert [o.version for o in outcomes[2:]] == [2, 2]
    versions = {n: pg_app.get_organization(code(n)).version for n in (1, 2, 3)}
    assert versions == {1: 2, 2: 2, 3: 2}
    record = pg_app.recorder.find_idempotency_record("staff", "k-2")
    assert record is not None and record.version == 2
    with psycopg.connect(database_url, autocommit=True) as conn:
        indexed = conn.execute(f"SELECT count(*) FROM {table(pg_app, 'time_index')}"
                               ).fetchone()[0]
    assert indexed == len(stored(pg_app))  # one index row per recorded event, no more


def test_an_idempotency_key_sent_twice_in_one_batch_is_recorded_once(pg_app, database_url):
    without_command_cache(pg_app)
    for n in (1, 2, 99):
        register(pg_app, n)
    outcomes, sizes = run_in_one_batch(pg_app, database_url, [
        lambda: interview(pg_app, 1, idempotency_key="same", fingerprint="body"),
        lambda: interview(pg_app, 1, idempotency_key="same", fingerprint="body"),
        lambda: interview(pg_app, 2, idempotency_key="other", fingerprint="body"),
        lambda: interview(pg_app, 2, idempotency_key="other", fingerprint="another body"),
    ])
    assert sizes == [1, 4]
    first, second = outcomes[0], outcomes[1]
    assert {first.replayed, second.replayed} == {False, True}
    assert (first.version, first.position) == (second.version, second.position) == (
        2, pg_app.recorder.position_of(first.aggregate_id, 2))
    kept = [o for o in outcomes[2:] if not isinstance(o, Exception)]
    refused = [o for o in outcomes[2:] if isinstance(o, IdempotencyKeyReused)]
    assert len(kept) == 1 and len(refused) == 1 and not kept[0].replayed
    assert pg_app.get_organization(code(1)).version == 2
    assert pg_app.get_organization(code(2)).version == 2


def test_a_database_error_fails_every_command_of_the_batch_and_records_nothing(
        pg_app, database_url):
    """A deferred constraint trigger refuses the commit of the transaction (as a full
    disk or a failing commit would): every command in it fails, none is recorded."""
    for n in (1, 2, 3, 99):
        register(pg_app, n)
    events, flag = table(pg_app, "events"), table(pg_app, "refuse")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {flag} (on_version bigint)")
        conn.execute(f"""CREATE FUNCTION {flag}_check() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN IF EXISTS (SELECT FROM {flag} WHERE on_version = NEW.originator_version)
            THEN RAISE EXCEPTION 'commit refused'; END IF; RETURN NULL; END $$""")
        conn.execute(f"CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON {events} DEFERRABLE "
                     f"INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {flag}_check()")
        conn.execute(f"INSERT INTO {flag} VALUES (3)")  # only the third org's second event
    interview(pg_app, 3)  # ... so org 3 is at version 2, and its next event is version 3
    before = stored(pg_app)
    keyed = pg_app.recorder.find_idempotency_record
    assert before  # (the registrations and org 3's second event)
    outcomes, sizes = run_in_one_batch(pg_app, database_url, [
        lambda: interview(pg_app, 1, idempotency_key="k-1", fingerprint="f"),
        lambda: interview(pg_app, 2),
        lambda: interview(pg_app, 3),
    ])
    assert sizes == [1, 3]
    assert all(isinstance(o, DatabaseError) and "commit refused" in str(o)
               for o in outcomes), outcomes
    after = stored(pg_app)
    assert len(after) == len(before) + 1  # the first command's, outside the batch
    assert keyed("staff", "k-1") is None
    assert pg_app.get_organization(code(1)).version == 1
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {flag}")
    assert interview(pg_app, 1, idempotency_key="k-1", fingerprint="f").version == 2


def test_one_writer_commits_without_waiting_for_others(pg_app):
    register(pg_app, 1)
    sizes: list[int] = []
    pg_app.recorder.committer.on_batch = sizes.append
    results = [interview(pg_app, 1) for _ in range(5)]
    assert sizes == [1] * 5
    assert [r.version for r in results] == [2, 3, 4, 5, 6]
    assert [r.position for r in results] == [
        pg_app.recorder.position_of(r.aggregate_id, r.version) for r in results]
