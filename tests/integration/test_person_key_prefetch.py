"""Person keys in bulk.

Decoding a page of the log fetches the keys of the persons it names in one query
(``RowBoundMapper.to_domain_events`` and ``PersonKeyRing.prefetch``), not one query per
person; what it decodes is what decoding event by event gives, an erased person reads as
erased in every event of the page, and an altered row is named without stopping the
others (the audit verifier's use).

A save creates the keys of the new persons it seals in one transaction
(``PersonKeyRing.ensure``), not one commit per person; where another process created the
same person's key first, its key is the one used."""

from __future__ import annotations

from uuid import UUID

import psycopg
import pytest

from adapters.seed.demo import generate
from domain.person import Person
from domain.personal import ERASED
from adapters.bootstrap import build_casefiles
from services.casefiles import CaseFiles
from tests.conftest import meta


class Counting:
    """The application's own PostgreSQL key table, counting the queries made to it."""

    def __init__(self, store):
        self.store, self.single, self.bulk, self.created, self.creations = store, 0, 0, 0, 0
        self.before_create = lambda keys: None

    def fetch(self, person_id):
        self.single += 1
        return self.store.fetch(person_id)

    def fetch_many(self, person_ids):
        self.bulk += 1
        return self.store.fetch_many(person_ids)

    def create(self, person_id, wrapped_key):
        self.created += 1
        return self.store.create(person_id, wrapped_key)

    def create_many(self, keys):
        self.before_create(keys)
        self.creations += 1
        return self.store.create_many(keys)


@pytest.fixture
def district(pg_app):
    generate(pg_app, orgs=12, years=2, seed=5, echo=lambda *_: None)
    return pg_app


def reader(env) -> tuple[CaseFiles, Counting]:
    """A new process's view of the log: nothing cached."""
    app = build_casefiles(env=env)
    app.person_keys.store = counting = Counting(app.person_keys.store)
    return app, counting


def page(app, limit=10_000):
    return app.recorder.select_notifications(start=1, limit=limit)


def personal_values(events) -> list[tuple[str, str, str]]:
    return [(str(e.originator_id), str(e.name), str(e.id_number)) for e in events
            if isinstance(e, Person.Registered)]


def test_one_key_query_per_page_and_the_same_events(district, postgres_env):
    app, counting = reader(postgres_env)
    try:
        notifications = page(app)
        events = app.mapper.to_domain_events(notifications)
    finally:
        app.close()
    persons = personal_values(events)
    assert len(persons) > 20
    assert counting.bulk == 1 and counting.single == 0

    one_by_one, counting = reader(postgres_env)
    try:
        expected = [one_by_one.mapper.to_domain_event(n) for n in page(one_by_one)]
    finally:
        one_by_one.close()
    assert counting.single >= len(persons)  # without the page: a query per person
    assert personal_values(expected) == persons
    assert [e.__dict__ for e in expected] == [e.__dict__ for e in events]
    assert all(ERASED not in name for _, name, _ in persons)


def test_a_person_erased_reads_erased_in_every_event_of_the_page(district, postgres_env):
    app, _ = reader(postgres_env)
    try:
        victim = personal_values(app.mapper.to_domain_events(page(app)))[0][0]
    finally:
        app.close()
    district.erase_person(UUID(victim), meta=meta("2024-05-01", actor="admin", role="admin",
                                                  reason="data subject's request"))

    app, counting = reader(postgres_env)
    try:
        events = app.mapper.to_domain_events(page(app))
    finally:
        app.close()
    assert counting.bulk == 1 and counting.single == 0
    for person_id, name, id_number in personal_values(events):
        if person_id == victim:
            assert ERASED in name and ERASED in id_number
        else:
            assert ERASED not in name and ERASED not in id_number


def test_an_altered_row_is_named_and_the_rest_decode(district, postgres_env, database_url):
    app, _ = reader(postgres_env)
    try:
        notifications = page(app, limit=50)
        target = notifications[10]
        table = f'"{postgres_env["POSTGRES_SCHEMA"]}".{app.recorder.events_table_name}'
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"UPDATE {table} SET state = %s WHERE notification_id = %s",
                         (notifications[11].state, target.id))
        altered = page(app, limit=50)
        decoded = app.mapper.to_domain_events(altered, keep_errors=True)
        with pytest.raises(Exception, match="Failed to deserialise"):
            app.mapper.to_domain_events(altered)
    finally:
        app.close()
    assert [i for i, e in enumerate(decoded) if isinstance(e, Exception)] == [10]
    assert "does not belong to this row" in str(decoded[10])
    assert all(not isinstance(e, Exception) for e in decoded[:10] + decoded[11:])


def test_a_save_creates_its_new_persons_keys_in_one_transaction(postgres_env):
    app, counting = reader(postgres_env)
    try:
        summary = generate(app, orgs=12, years=2, seed=6, echo=lambda *_: None)
    finally:
        app.close()
    assert counting.created == 0 and counting.single == 0  # no per-person fallback
    assert 0 < counting.creations < summary["persons"] / 3

    app, _ = reader(postgres_env)
    try:
        persons = personal_values(app.mapper.to_domain_events(page(app)))
    finally:
        app.close()
    assert len(persons) >= summary["persons"]
    assert all(ERASED not in name for _, name, _ in persons)


def test_another_processs_key_for_the_same_person_wins(pg_app, postgres_env):
    """Two processes seal the first data of the same new person at once: both find no
    key, both create one; the key table keeps the first, and the second process seals
    with that one, so both events read back."""
    other, _ = reader(postgres_env)
    app, counting = reader(postgres_env)
    raced = []

    def other_process_first(keys):
        for person_id, _ in keys:
            other.person_keys.aead(person_id, create=True)  # its key is stored first
            raced.append(person_id)

    counting.before_create = other_process_first
    try:
        summary = generate(app, orgs=1, years=1, seed=8, echo=lambda *_: None)
        assert raced and summary["persons"] >= 1
    finally:
        app.close()
        other.close()
    fresh, _ = reader(postgres_env)
    try:
        persons = personal_values(fresh.mapper.to_domain_events(page(fresh)))
    finally:
        fresh.close()
    # sealed with the other process's key, the one stored: they decode (a key of its
    # own would fail authentication here)
    assert {p for p, _, _ in persons} >= set(raced)
    assert all(ERASED not in name for _, name, _ in persons)
