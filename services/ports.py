"""What the services need from the infrastructure beyond the library's recorders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, NamedTuple, Protocol, Sequence, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.documents import StoredDocument


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



# ------------------------------------------ personal data sealed per person (item 9)

class PersonKeyStore(Protocol):
    """The key table: one data key per person (wrapped), or the tombstone of an erasure.
    adapters.store.person_keys (PostgreSQL) and adapters.store.memory implement it."""

    def fetch(self, person_id: str) -> tuple[bytes | None, bool]:
        """(wrapped key or None, erased)."""

    def fetch_many(self, person_ids: Sequence[str]) -> dict[str, tuple[bytes | None, bool]]:
        """``fetch`` of several persons in one query; persons without a row are absent."""

    def create_many(self, keys: Sequence[tuple[str, bytes]]) -> None:
        """``create`` of several persons (person id, wrapped key) in one transaction."""

    def create(self, person_id: str, wrapped_key: bytes) -> None:
        """Insert the key unless the person already has a row (key or tombstone)."""

    def destroy(self, person_id: str) -> None:
        """Overwrite the key with the tombstone (kept: the erasure is irreversible)."""


class PersonKeys(Protocol):
    """The per-person data keys the event store seals personal values with
    (adapters.store.sealing.PersonKeyRing): a save makes sure its persons have one, an
    erasure destroys one."""

    def ensure(self, person_ids: Iterable[str]) -> None: ...

    def destroy(self, person_id: str) -> None: ...


# ------------------------------------------------------ the time-travel index (issue 8.5)

class TimeIndexRow(NamedTuple):
    """What time travel needs to know of one organization event without decoding it:
    plain dates, no personal data."""

    originator_id: UUID
    originator_version: int
    effective_date: date
    recorded_at: datetime


@dataclass(frozen=True)
class TimeTravelPlan:
    """What the index gives for one ``organization_at``: ``recorded`` is the last version
    (0: no such organization), ``indexed`` how many of its events have a row (the rest
    holds only when all do); ``snapshot`` the newest snapshot that everything before it
    qualifies for (None: start from the first event), ``events`` the qualifying events
    after it, in version order."""

    recorded: int
    indexed: int
    snapshot: StoredEvent | None
    events: list[StoredEvent]

    @property
    def complete(self) -> bool:
        return self.indexed == self.recorded  # (versions run 1, 2, ... without gaps)


@runtime_checkable
class TimeIndex(Protocol):
    """Implemented by the PostgreSQL application recorder (adapters.store.recorder):
    ``insert_events(..., time_index=rows)`` writes the rows with the events."""

    def time_travel_plan(self, originator_id: UUID, *, as_of: date | None,
                         known_at: datetime | None) -> TimeTravelPlan: ...

    def select_unindexed_events(self, originator_id: UUID) -> list[StoredEvent]: ...

    def insert_time_index(self, rows: Sequence[TimeIndexRow]) -> None: ...


class TokenUsage(Protocol):
    """When each API token was last used, beside the events (not an event per request):
    ``touch`` records a use (at most once a minute per token is enough), ``last_used``
    answers an account's tokens' last uses by token id."""

    def touch(self, username: str, token_id: str) -> None: ...

    def last_used(self, username: str) -> dict[str, datetime]: ...


class DocumentStore(Protocol):
    """The documents, stored once by SHA-256 beside the events (adapters.store.documents)."""

    def put(self, sha256: str, media_type: str, content: bytes) -> StoredDocument: ...

    def find(self, sha256: str) -> StoredDocument | None: ...

    def content(self, sha256: str) -> bytes | None: ...

    def erase(self, sha256s: Iterable[str]) -> None: ...
