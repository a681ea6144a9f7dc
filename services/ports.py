"""What the services need from the infrastructure beyond the library's recorders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from uuid import UUID


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first result of a command sent with an Idempotency-Key.

    It is inserted in the same transaction as the command's events, so a key is either
    recorded with its events or not at all.
    """

    key: str
    actor_id: str
    fingerprint: str
    aggregate_id: UUID
    version: int
    result: dict = field(default_factory=dict)


@runtime_checkable
class IdempotencyLog(Protocol):
    """Implemented by the application recorder: ``insert_events(..., idempotency=record)``
    stores the record atomically with the events; this finds it again."""

    def find_idempotency_record(self, actor_id: str, key: str) -> IdempotencyRecord | None:
        ...

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        ...
