"""The in-memory recorder with the idempotency log, for domain and service tests."""

from __future__ import annotations

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
