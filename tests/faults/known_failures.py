"""Known failures: two faults the system does not yet withstand (docs/RELIABILITY.md,
bugs E and J). Run them with ``pytest tests/faults/known_failures.py``; they are kept out
of ``make test`` until fixed, and each says what must hold.
"""

from __future__ import annotations

from tests.integration.test_reliability import events_table, position_of, tamper  # noqa: F401


import threading

import pytest

from adapters.readmodels import open_view
from tests.support import code

API = "/api/v1"
ORGS = f"{API}/organizations"


# ---------------------------------------------------------------------- the server



def test_a_stored_event_copied_from_another_row_cannot_be_read(pg_app, database_url,
                                                               postgres_env):
    """The same copy made before the audit trail saw the event (or on a row the trail
    never covers, such as a Person's): nothing detects it. Fails today: AES-GCM is used
    without associated data, so a ciphertext is valid in any row of the same event type.
    Binding the row's identity (originator id, version, topic) into the encryption as
    associated data, or a keyed MAC over it, makes the copy fail like any alteration."""
    from tests.integration.test_services import register

    register(pg_app, 1)
    register(pg_app, 2)
    for n, name in ((1, "本会负责人"), (2, "他会负责人")):
        pg_app.execute(code(n), "interview", meta=_meta(), person_name=name,
                       person_role="理事长", topics=["财务管理"])
    target = position_of(database_url, postgres_env, code(1), 2)
    source = position_of(database_url, postgres_env, code(2), 2)
    table = events_table(postgres_env)
    tamper(database_url, f"UPDATE {table} t SET state = s.state FROM {table} s "
           "WHERE t.notification_id = %s AND s.notification_id = %s", target, source)
    try:
        org = pg_app.get_organization(code(1))
    except Exception:
        return  # detected when read
    pytest.fail(f"a ciphertext moved between rows was accepted: organization 1 now says "
                f"its interview was with {org.interviews[0]['person_name']}")


def _meta():
    from tests.conftest import meta

    return meta("2023-03-01")


# ------------------------------------- 4. exactly once (found by tests/faults/worker_crash)

def test_two_catch_ups_of_one_view_at_once_apply_each_event_once(pg_app, postgres_env):
    """replay() (catch_up's pages) writes a batch of events with the tracking position of
    its last event; the library's single-row tracking only refuses a position that is not
    beyond the stored one. So of two projectors of one view whose batches overlap, if the
    one ending earlier commits first, the other still commits and the events they share
    are applied twice (the case file's timeline repeats entries; statistics would count
    twice). The fault script tests/faults/worker_crash saw it after worker restarts, when
    the worker's clock caught up the views beside the worker's own projection threads;
    since 51b66ad the worker's clock waits instead, but any second projector still races:
    `casefile clock tick` run by hand while a worker runs (clock_tick catches up the case
    files and the network view), or two `casefile worker` overlapping during a deployment
    (the worker lock is shared: it does not exclude). Here both read the view's states,
    then the batch ending at head-1 commits, then the one ending at head. Fails until a
    batch is refused when the view has moved since it was read: compare the stored
    position with the batch's first position (not its last) inside the writing
    transaction, e.g. SELECT ... FOR UPDATE on the tracking row."""
    from adapters.readmodels import READ_MODELS, replay
    from tests.integration.test_services import register

    register(pg_app, 1)
    for i in range(5):
        pg_app.execute(code(1), "interview", meta=_meta(), person_name=f"p{i}",
                       person_role="chair", topics=["t"])
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
    view = open_view(postgres_env, "casefiles")
    row = view.get(code(1))
    view.datastore.close()
    versions = [entry["version"] for entry in row["timeline"]]
    assert versions == sorted(set(versions)), \
        f"events applied twice: timeline versions {versions} (errors: {errors})"
