"""The in-memory recorder with the idempotency log, for domain and service tests."""

from __future__ import annotations

import threading
from typing import Any, Sequence

from eventsourcing.persistence import IntegrityError
from eventsourcing.popo import POPOProcessRecorder

from services.ports import IdempotencyRecord


class InMemoryCaseFileRecorder(POPOProcessRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}

    def _insert_events(self, stored_events: Sequence[Any], *,
                       idempotency: IdempotencyRecord | None = None, **kwargs: Any):
        with self._database_lock:
            if idempotency is not None:
                if (idempotency.actor_id, idempotency.key) in self._idempotency:
                    raise IntegrityError(f"idempotency key {idempotency.key} already recorded")
            ids = super()._insert_events(stored_events, **kwargs)
            if idempotency is not None:
                self._idempotency[(idempotency.actor_id, idempotency.key)] = idempotency
            return ids

    def position_of(self, originator_id, version: int) -> int | None:
        with self._database_lock:
            index = self._stored_events_index[str(originator_id)].get(version)
            return None if index is None else index + 1

    def find_idempotency_record(self, actor_id: str, key: str) -> IdempotencyRecord | None:
        with self._database_lock:
            return self._idempotency.get((actor_id, key))


class InMemoryPersonKeys:
    """The person key table of the in-memory store (adapters.store.person_keys for PostgreSQL):
    person id -> wrapped key, or None once the person is erased."""

    def __init__(self, recorder: Any = None) -> None:
        self._keys: dict[str, bytes | None] = {}
        self._lock = threading.Lock()

    def fetch(self, person_id: str) -> tuple[bytes | None, bool]:
        with self._lock:
            if person_id not in self._keys:
                return None, False
            key = self._keys[person_id]
            return key, key is None

    def fetch_many(self, person_ids) -> dict[str, tuple[bytes | None, bool]]:
        with self._lock:
            return {p: (self._keys[p], self._keys[p] is None) for p in person_ids
                    if p in self._keys}

    def create(self, person_id: str, wrapped_key: bytes) -> None:
        with self._lock:
            self._keys.setdefault(person_id, wrapped_key)

    def create_many(self, keys) -> None:
        with self._lock:
            for person_id, wrapped_key in keys:
                self._keys.setdefault(person_id, wrapped_key)

    def destroy(self, person_id: str) -> None:
        with self._lock:
            self._keys[person_id] = None
