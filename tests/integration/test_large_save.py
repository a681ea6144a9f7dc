"""A save of many events (megabytes) returns: the recorder inserts them without psycopg's
pipeline mode, in which such a save stalled for ever (client in Pipeline.sync, server in
ClientRead; also seen with saves of about 600 events while generating a large data set)."""

from __future__ import annotations

import os
import threading
import uuid

from eventsourcing.persistence import IntegrityError, StoredEvent
import pytest


def insert_within(recorder, events, seconds: float):
    done: list = []
    failed: list = []

    def insert() -> None:
        try:
            done.append(recorder.insert_events(events))
        except Exception as e:  # reported below
            failed.append(e)

    thread = threading.Thread(target=insert, daemon=True)
    thread.start()
    thread.join(seconds)
    if failed:
        raise failed[0]
    assert done, f"a save of {len(events)} events did not return within {seconds} s"
    return done[0]


@pytest.mark.parametrize("count", [1_300, 5_000])
def test_a_save_of_megabytes_of_events_returns_with_their_positions(pg_app, count):
    originator = uuid.uuid4()
    events = [StoredEvent(originator_id=originator, originator_version=i + 1,
                          topic="tests:Event", state=os.urandom(400)) for i in range(count)]
    before = pg_app.recorder.max_notification_id() or 0
    positions = insert_within(pg_app.recorder, events, 60)
    assert len(positions) == count and positions == sorted(positions)
    assert positions[0] > before and pg_app.recorder.max_notification_id() == positions[-1]
    stored = pg_app.recorder.select_events(originator, gt=count - 3)
    assert [e.state for e in stored] == [e.state for e in events[-3:]]


def test_a_conflicting_large_save_records_nothing(pg_app):
    originator = uuid.uuid4()
    first = [StoredEvent(originator_id=originator, originator_version=1, topic="tests:Event",
                         state=b"first")]
    insert_within(pg_app.recorder, first, 30)
    again = [StoredEvent(originator_id=originator, originator_version=i + 1,
                         topic="tests:Event", state=os.urandom(400)) for i in range(2_000)]
    head = pg_app.recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        insert_within(pg_app.recorder, again, 60)
    assert pg_app.recorder.max_notification_id() == head
    assert [e.state for e in pg_app.recorder.select_events(originator)] == [b"first"]
