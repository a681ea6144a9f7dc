"""The use cases: an eventsourcing Application whose methods are the commands.

Each command loads the aggregates it needs, asks them to decide (they raise a domain
error or trigger events), and saves everything in one atomic write together with the
Idempotency-Key record, if one was given. A stale expected version, or a concurrent
write that got there first, is a ``VersionConflict``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import (Any, Callable, Iterable, NamedTuple, Protocol, Sequence,
                    runtime_checkable)
from uuid import NAMESPACE_URL, UUID, uuid5

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from eventsourcing.application import (AggregateNotFoundError, Application, EventSourcedLog,
                                       ProcessingEvent)
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import (IntegrityError, JSONTranscoder, Mapper,
                                       MapperDeserialisationError, StoredEvent, Tracking,
                                       Transcoding, find_id_convertor)
from eventsourcing.popo import POPOFactory
from eventsourcing.utils import get_topic, resolve_topic, strtobool

from domain.account import Account
from domain.codes import birth_date_from_id_number, mask_id_number, validate_id_number
from domain.errors import Conflict, DomainError, RuleViolation
from domain.meta import Meta
from domain.organization import Organization
from domain.person import Person
from domain.personal import PersonalDate, PersonalText, erased, personal
from services.network import NetworkUseCases
from services.ports import IdempotencyLog, IdempotencyRecord

PERSON_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/persons")
ACCOUNT_LOG_ID = uuid5(NAMESPACE_URL, "https://casefile.example/accounts-log")
MAX_ATTEMPTS = 5
# The events that time travel replays (each carries meta.effective_date).
ORGANIZATION_EVENTS = (Organization.Founded, Organization.Event)


class OrganizationNotFound(DomainError):
    pass


class PersonNotFound(DomainError):
    pass


class VersionConflict(DomainError):
    pass


class IdempotencyKeyReused(DomainError):
    pass


class AuthenticationFailed(Exception):
    pass


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MetaAsDict(Transcoding):
    type = Meta
    name = "meta"

    def encode(self, obj: Meta) -> dict:
        return {"actor_id": obj.actor_id, "actor_role": obj.actor_role,
                "effective_date": obj.effective_date, "correlation_id": obj.correlation_id,
                "reason": obj.reason, "reference": obj.reference, "imported": obj.imported}

    def decode(self, data: dict) -> Meta:
        return Meta(**data)


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    transcoder.register(MetaAsDict())


class PersonalAwareJSONTranscoder(JSONTranscoder):
    """A JSON transcoder that keeps personal values (domain.personal) as what they are.
    ``str`` subclasses never reach a transcoding (JSON writes them as strings), so they
    are converted before the encoding, here as a tagged plain form (the read models'
    states: they are scrubbed when the erasure is projected); the event store's
    SealingJSONTranscoder seals them instead."""

    personal_name = "personal_plain"

    def __init__(self) -> None:
        super().__init__()
        self.register(PersonalAsPlain())

    def encode(self, obj: Any) -> bytes:
        return super().encode(self._convert(obj))

    def _convert(self, o: Any) -> Any:
        t = type(o)
        if t is dict:
            new = None
            for k, v in o.items():
                w = self._convert(v)
                if w is not v:
                    if new is None:
                        new = dict(o)
                    new[k] = w
            return o if new is None else new
        if t is list or t is tuple:
            items = [self._convert(v) for v in o]
            return o if all(a is b for a, b in zip(items, o)) else items
        if t is PersonalText or t is PersonalDate:
            return {"_type_": self.personal_name, "_data_": self.personal_form(o)}
        return o

    def personal_form(self, value: Any) -> dict:
        return PersonalAsPlain().encode(value)


class PersonalAsPlain(Transcoding):
    type = PersonalDate  # (PersonalText never reaches a transcoding; see above)
    name = "personal_plain"

    def encode(self, obj: Any) -> dict:
        if isinstance(obj, date):
            return {"p": obj.owner, "d": obj.isoformat()}
        return {"p": obj.owner, "v": str(obj), "e": 1 if obj.erased else 0}

    def decode(self, data: dict) -> Any:
        if "d" in data:
            return personal(data["p"], date.fromisoformat(data["d"]))
        return PersonalText(data["v"], data["p"], erased=bool(data.get("e")))


def make_transcoder() -> JSONTranscoder:
    """The transcoder of the read models that keep aggregate states: like the event
    store's, but personal values are kept in plain (tagged) form, not sealed."""
    from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, UUIDAsHex

    transcoder = PersonalAwareJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO(),
                        MetaAsDict()):
        transcoder.register(transcoding)
    return transcoder


# ------------------------------------------------ stored events bound to their rows (bug J)

class RowBoundMapper(Mapper):
    """The library's mapper, with the encryption bound to the row (bug J).

    The library's AESCipher encrypts a stored event's state without associated data, so a
    ciphertext copied into another row (another organization, version or event type)
    decrypts there without complaint. This mapper passes ``originator_id|version|topic``
    as AES-GCM associated data (same key, same cipher), so such a copy fails
    authentication when it is read, like any alteration. Snapshots go through it too.

    Stored format: ``ROW_BOUND`` (5 bytes) + nonce (12) + ciphertext + tag (16), where
    the library's is nonce + tag + ciphertext with no marker. Rows in the library's
    format (written before this mapper; e.g. existing developer data under var/) are read
    with the library's cipher while ``CIPHER_LEGACY_READS`` is on (the default); they
    stay movable among themselves, so set it to ``no`` once no such row remains (a fresh
    database, or after ``make clean-data``). Everything written is in the bound format.
    """

    ROW_BOUND = b"\x00CFB1"

    legacy_reads = True

    def __init__(self, transcoder, compressor=None, cipher=None):
        super().__init__(transcoder=transcoder, compressor=compressor, cipher=cipher)
        self._aead = AESGCM(cipher.key) if cipher is not None else None

    @staticmethod
    def associated_data(originator_id: Any, version: int, topic: str) -> bytes:
        return f"{originator_id}|{version}|{topic}".encode()

    def seal_state(self, state: bytes, originator_id: Any, version: int, topic: str) -> bytes:
        nonce = os.urandom(12)
        return self.ROW_BOUND + nonce + self._aead.encrypt(
            nonce, state, self.associated_data(originator_id, version, topic))

    def open_state(self, stored_event: StoredEvent) -> bytes:
        state = stored_event.state
        if state[:len(self.ROW_BOUND)] == self.ROW_BOUND:
            body = state[len(self.ROW_BOUND):]
            try:
                return self._aead.decrypt(body[:12], body[12:], self.associated_data(
                    stored_event.originator_id, stored_event.originator_version,
                    stored_event.topic))
            except InvalidTag:
                if not self.legacy_reads:  # (a legacy nonce may start like the marker)
                    raise ValueError("Invalid cipher tag: the state does not belong to "
                                     "this row (moved or altered)") from None
        if not self.legacy_reads:
            raise ValueError("the stored event is in the legacy format without row "
                             "binding and CIPHER_LEGACY_READS is off")
        try:
            return self.cipher.decrypt(state)
        except ValueError:
            raise ValueError("Invalid cipher tag: the state does not belong to this row "
                             "(moved or altered)") from None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if self._aead is None:
            return super().to_stored_event(domain_event)
        topic = get_topic(domain_event.__class__)
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        stored_state = self.transcoder.encode(event_state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        return StoredEvent(originator_id=originator_id, originator_version=originator_version,
                           topic=topic, state=self.seal_state(
                               stored_state, originator_id, originator_version, topic))

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if self._aead is None:
            return self._learn(super().to_domain_event(stored_event))
        return self._finish(stored_event, self._open(stored_event))

    # A sealed personal value as the event store's transcoder writes it (PersonalSealing):
    # the owner is found in the decrypted JSON without decoding it.
    SEALED_OWNER = re.compile(
        rb'"_type_":\s*"personal",\s*"_data_":\s*\{"p":\s*"([^"\\]+)",\s*"s"')

    def to_domain_events(self, stored_events: Sequence[StoredEvent],
                         keep_errors: bool = False) -> list[Any]:
        """A page of stored events decoded in order, as ``to_domain_event`` each, except
        that the keys of every person whose sealed data the page holds are fetched
        first, in one query (``PersonKeyRing.prefetch``), instead of one query per person
        as the decoding meets them (a quarter of a rebuild's time). An event that cannot
        be decoded raises, or with ``keep_errors`` comes back as its exception (the audit
        verifier names it and goes on)."""
        keys = getattr(self.transcoder, "keys", None)
        if self._aead is None or keys is None:
            states: list[Any] = list(stored_events)
            finish = self._per_event
        else:
            states, owners = [], set()
            for stored in stored_events:
                try:
                    state = self._open(stored)
                except Exception as e:
                    state = e
                else:
                    owners.update(self.SEALED_OWNER.findall(state))
                states.append(state)
            if owners:
                keys.prefetch(owner.decode() for owner in owners)
            finish = self._finish
        events = []
        for stored, state in zip(stored_events, states):
            try:
                if isinstance(state, Exception):
                    raise state
                events.append(finish(stored, state))
            except Exception as e:
                if not keep_errors:
                    raise
                events.append(e)
        return events

    def _per_event(self, stored_event: StoredEvent, _: Any) -> Any:
        return self.to_domain_event(stored_event)

    def _learn(self, event: Any) -> Any:
        if isinstance(event, Person.PersonalDataErased):
            keys = getattr(self.transcoder, "keys", None)
            if keys is not None:  # this process's cache learns of the erasure in order
                keys.mark_erased(str(event.originator_id))
        return event

    @staticmethod
    def _failed(stored_event: StoredEvent, e: Exception) -> MapperDeserialisationError:
        return MapperDeserialisationError(
            f"Failed to deserialise state of stored event with topic "
            f"'{stored_event.topic}', originator_id '{stored_event.originator_id}' and "
            f"originator_version {stored_event.originator_version}: {e}")

    def _open(self, stored_event: StoredEvent) -> bytes:
        """The stored state decrypted and decompressed: the event's JSON."""
        try:
            stored_state = self.open_state(stored_event)
            if self.compressor:
                stored_state = self.compressor.decompress(stored_state)
            return stored_state
        except Exception as e:
            raise self._failed(stored_event, e) from e

    def _finish(self, stored_event: StoredEvent, stored_state: bytes) -> Any:
        cls = resolve_topic(stored_event.topic)
        try:
            event_state: dict[str, Any] = self.transcoder.decode(stored_state)
        except Exception as e:
            raise self._failed(stored_event, e) from e
        event_state["originator_id"] = find_id_convertor(
            cls, type(stored_event.originator_id))(stored_event.originator_id)
        event_state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return self._learn(domain_event)


# ------------------------------------------ personal data sealed per person (item 9)

class PersonKeyStore(Protocol):
    """The key table: one data key per person (wrapped), or the tombstone of an erasure.
    adapters.person_keys (PostgreSQL) and adapters.memory_store implement it."""

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


class PersonKeyRing:
    """Each person's AES-256-GCM data key, from the key table, wrapped with the event
    store's CIPHER_KEY (associated data: the person id), so a copy of the database alone
    unseals nothing.

    Cache: a key found is kept for ``PERSON_KEY_CACHE_SECONDS`` (default 10) in this
    process; an erasure is remembered for good (it cannot be undone). The process that
    erases forgets the key at once; other processes forget it when they read the erasure
    event (every worker and relay reads the log in order: ``RowBoundMapper``), and at the
    latest when their cached copy expires. Their cached *aggregates* are scrubbed by the
    erasure events themselves (Person.PersonalDataErased, and
    Organization.LeaderPersonalDataErased on each organization the person led)."""

    CACHE_SWEEP_AT = 10_000  # (an AESGCM object holds about 2.6 kB)

    def __init__(self, master_key: bytes | None, ttl: float = 10.0):
        self.store: PersonKeyStore | None = None
        self._master = AESGCM(master_key) if master_key else None
        self.ttl = ttl
        self._cache: dict[str, tuple[float, AESGCM]] = {}
        self._erased: set[str] = set()
        self._sweep_at = self.CACHE_SWEEP_AT
        self._lock = threading.Lock()

    def _wrap(self, person_id: str, key: bytes) -> bytes:
        if self._master is None:
            return key
        nonce = os.urandom(12)
        return nonce + self._master.encrypt(nonce, key, person_id.encode())

    def _unwrap(self, person_id: str, wrapped: bytes) -> bytes:
        if self._master is None:
            return wrapped
        return self._master.decrypt(wrapped[:12], wrapped[12:], person_id.encode())

    def aead(self, person_id: str, create: bool = False) -> AESGCM | None:
        """The person's cipher; None when their key is destroyed (or was never made)."""
        now = time.monotonic()
        with self._lock:
            if person_id in self._erased:
                return None
            cached = self._cache.get(person_id)
            if cached is not None and now - cached[0] < self.ttl:
                return cached[1]
        if self.store is None:
            raise RuntimeError("the person key table is not set up")
        wrapped, is_erased = self.store.fetch(person_id)
        if wrapped is None and not is_erased and create:
            self.store.create(person_id, self._wrap(person_id, AESGCM.generate_key(256)))
            wrapped, is_erased = self.store.fetch(person_id)
        if is_erased:
            self.mark_erased(person_id)
            return None
        if wrapped is None:
            return None
        aead = AESGCM(self._unwrap(person_id, wrapped))
        with self._lock:
            self._sweep(now)
            self._cache[person_id] = (now, aead)
        return aead

    def _sweep(self, now: float) -> None:
        """Drop the expired keys once the cache is large (a long replay meets every
        person once; without this the cache would keep them all). Lock held."""
        if len(self._cache) > self._sweep_at:
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.ttl}
            self._sweep_at = max(self.CACHE_SWEEP_AT, 2 * len(self._cache))

    def ensure(self, person_ids: Iterable[str]) -> None:
        """Before a save seals personal values: every person of ``person_ids`` gets a key
        (cached), in at most three queries for them all (fetch those not cached, create
        the missing in one transaction, fetch those created: where another process
        created the same person's key first, its key wins), instead of three queries and
        a commit per new person (``aead(create=True)``, still the fallback)."""
        wanted = set(person_ids)
        self.prefetch(wanted)
        create_many = getattr(self.store, "create_many", None)
        if create_many is None:
            return
        with self._lock:
            missing = [p for p in wanted if p not in self._erased and p not in self._cache]
        if missing:
            create_many([(p, self._wrap(p, AESGCM.generate_key(256))) for p in missing])
            self.prefetch(missing)

    def prefetch(self, person_ids: Iterable[str]) -> None:
        """Fetch, in one query, the keys of those of ``person_ids`` not cached (a page of
        the log about to be decoded); ``aead`` then finds them in the cache. Keys the
        store cannot fetch in bulk, or does not hold, are left to ``aead``."""
        now = time.monotonic()
        with self._lock:
            missing = []
            for person_id in set(person_ids):
                cached = self._cache.get(person_id)
                if person_id not in self._erased and (cached is None
                                                      or now - cached[0] >= self.ttl):
                    missing.append(person_id)
        fetch_many = getattr(self.store, "fetch_many", None)
        if not missing or fetch_many is None:
            return
        found = fetch_many(missing)
        ciphers = {person_id: AESGCM(self._unwrap(person_id, wrapped))
                   for person_id, (wrapped, is_erased) in found.items()
                   if wrapped is not None and not is_erased}
        with self._lock:
            self._sweep(now)
            for person_id, (wrapped, is_erased) in found.items():
                if is_erased:
                    self._erased.add(person_id)
                    self._cache.pop(person_id, None)
            for person_id, aead in ciphers.items():
                if person_id not in self._erased:
                    self._cache[person_id] = (now, aead)

    def mark_erased(self, person_id: str) -> None:
        with self._lock:
            self._erased.add(person_id)
            self._cache.pop(person_id, None)

    def destroy(self, person_id: str) -> None:
        self.mark_erased(person_id)
        self.store.destroy(person_id)


def personal_owners(value: Any, into: set[str]) -> set[str]:
    """The owners of the personal values (not yet erased) in an event's state."""
    t = type(value)
    if t is PersonalText or t is PersonalDate:
        if not getattr(value, "erased", False):
            into.add(value.owner)
    elif t is dict:
        for v in value.values():
            personal_owners(v, into)
    elif t is list or t is tuple:
        for v in value:
            personal_owners(v, into)
    return into


class PersonalSealing(Transcoding):
    """Decodes a sealed personal value: ``{"p": owner, "s": base64(nonce + ciphertext)}``
    (or ``{"p": owner, "e": 1}`` for a value already erased when it was written) back to a
    PersonalText/PersonalDate, or to ``erased(owner)`` when the owner's key is gone.
    Encoding happens before JSON (``SealingJSONTranscoder``): ``str`` subclasses never
    reach a transcoding."""

    type = PersonalText
    name = "personal"

    def __init__(self, keys: PersonKeyRing):
        self.keys = keys

    def seal(self, value: Any) -> dict:
        owner = value.owner
        if getattr(value, "erased", False):
            return {"p": owner, "e": 1}
        aead = self.keys.aead(owner, create=True)
        if aead is None:  # the key is destroyed: what is written reads as erased too
            return {"p": owner, "e": 1}
        plaintext = (b"d:" + value.isoformat().encode() if isinstance(value, date)
                     else b"t:" + str(value).encode())
        nonce = os.urandom(12)
        return {"p": owner, "s": base64.b64encode(
            nonce + aead.encrypt(nonce, plaintext, owner.encode())).decode()}

    def encode(self, obj: Any) -> dict:
        return self.seal(obj)

    def decode(self, data: dict) -> Any:
        owner = data["p"]
        if data.get("e"):
            return erased(owner)
        aead = self.keys.aead(owner)
        if aead is None:
            return erased(owner)
        sealed = base64.b64decode(data["s"])
        plaintext = aead.decrypt(sealed[:12], sealed[12:], owner.encode())
        kind, value = plaintext[:2], plaintext[2:].decode()
        if kind == b"d:":
            return personal(owner, date.fromisoformat(value))
        return PersonalText(value, owner)


class SealingJSONTranscoder(PersonalAwareJSONTranscoder):
    """The event store's transcoder: personal values are sealed with their owner's key
    before the JSON encoding (so the event-level cipher is a second layer)."""

    personal_name = PersonalSealing.name

    def __init__(self, keys: PersonKeyRing):
        super().__init__()
        self.keys = keys
        self.sealing = PersonalSealing(keys)
        self.register(self.sealing)
        dates = PersonalSealing(keys)  # (never plain, whatever path a value takes)
        dates.type = PersonalDate
        self.register(dates)

    def personal_form(self, value: Any) -> dict:
        return self.sealing.seal(value)


class AccountOpened(DomainEvent):
    """An entry of the log that lists every account (the library's EventSourcedLog)."""

    username: str


@dataclass(frozen=True)
class CommandResult:
    identifier: str
    aggregate_id: UUID
    version: int
    position: int | None
    replayed: bool = False
    result: dict = field(default_factory=dict)
    aggregate: Any = field(default=None, compare=False, repr=False)  # as saved


Decide = Callable[[Any], tuple[Iterable[Aggregate], dict]]


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
    """Implemented by the PostgreSQL application recorder (adapters.postgres_store):
    ``insert_events(..., time_index=rows)`` writes the rows with the events."""

    def time_travel_plan(self, originator_id: UUID, *, as_of: date | None,
                         known_at: datetime | None) -> TimeTravelPlan: ...

    def select_unindexed_events(self, originator_id: UUID) -> list[StoredEvent]: ...

    def insert_time_index(self, rows: Sequence[TimeIndexRow]) -> None: ...


class CaseFiles(NetworkUseCases, Application):
    """The case-management application: organizations, persons and accounts."""

    name = "casefile"
    snapshotting_intervals = {Organization: 50, Person: 50}
    env = {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}

    def __init__(self, env: dict | None = None):
        super().__init__(env)
        if not isinstance(self.recorder, IdempotencyLog):
            raise TypeError("the application recorder must implement IdempotencyLog; set "
                            "APPLICATION_RECORDER_TOPIC")
        key = self.env.get("PSEUDONYM_KEY")
        if not key:
            raise ValueError("PSEUDONYM_KEY is required: the secret that derives person ids")
        self._pseudonym_key = key.encode()
        self.account_log = EventSourcedLog(self.events, ACCOUNT_LOG_ID, AccountOpened)
        self.person_keys.store = self.construct_person_key_store()

    def construct_transcoder(self) -> SealingJSONTranscoder:
        master = self.env.get("CIPHER_KEY")
        self.person_keys = PersonKeyRing(
            base64.b64decode(master) if master else None,
            ttl=float(self.env.get("PERSON_KEY_CACHE_SECONDS", "10")))
        transcoder = SealingJSONTranscoder(self.person_keys)
        self.register_transcodings(transcoder)
        return transcoder

    def construct_mapper(self) -> RowBoundMapper:
        mapper = self.factory.mapper(transcoder=self.construct_transcoder(),
                                     mapper_class=RowBoundMapper)
        mapper.legacy_reads = strtobool(self.env.get("CIPHER_LEGACY_READS", "yes"))
        return mapper

    def construct_person_key_store(self) -> PersonKeyStore:
        """The key table beside the events: PERSON_KEYS_TOPIC, by default PostgreSQL's
        (adapters.person_keys) or, for the in-memory store, adapters.memory_store's."""
        topic = self.env.get("PERSON_KEYS_TOPIC") or (
            "adapters.memory_store:InMemoryPersonKeys" if isinstance(self.factory, POPOFactory)
            else "adapters.person_keys:PostgresPersonKeys")
        return resolve_topic(topic)(self.recorder)

    def save_processed(self, tracking: Tracking, *objs: Aggregate):
        """Save what processing one recorded event decided, with that event's tracking
        position, in one transaction (as the library's EventSourcedProjection does)."""
        processing = ProcessingEvent(tracking=tracking)
        processing.collect_events(*objs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def _record(self, processing_event: ProcessingEvent):
        """The library's, with the time-travel index rows of the organization events as
        a keyword argument, like the idempotency record: the recorder writes them in the
        same transaction as the events (the in-memory recorder ignores them)."""
        rows = [TimeIndexRow(e.originator_id, e.originator_version, e.meta.effective_date,
                             e.timestamp)
                for e in processing_event.events if isinstance(e, ORGANIZATION_EVENTS)]
        if rows:
            processing_event.saved_kwargs["time_index"] = rows
        owners: set[str] = set()
        for event in processing_event.events:
            personal_owners(event.__dict__, owners)
        if owners:  # their keys, before the encoding seals with them
            self.person_keys.ensure(owners)
        return super()._record(processing_event)

    def construct_recorder(self):
        topic = self.env.get("APPLICATION_RECORDER_TOPIC")
        if topic and isinstance(self.factory, POPOFactory):
            return resolve_topic(topic)()
        return super().construct_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    # ----------------------------------------------------------------- reading

    def get_organization(self, identifier: str, version: int | None = None, *,
                         shared: bool = False) -> Organization:
        """The organization (at a version). ``shared=True``: the repository's cached
        instance itself, not a copy, for callers that only read it (an authorization
        check); never change it."""
        try:
            return self.repository.get(Organization.create_id(identifier), version=version,
                                       deepcopy_from_cache=not shared)
        except AggregateNotFoundError:
            raise OrganizationNotFound(f"no organization {identifier}",
                                       field="code") from None

    def organization_history(self, identifier: str, *, after_version: int = 0,
                             limit: int | None = None) -> list[DomainEvent]:
        """The organization's events in order; a page of them: those after
        ``after_version``, at most ``limit``."""
        org_id = Organization.create_id(identifier)
        events = list(self.events.get(org_id, gt=after_version or None, limit=limit))
        if not events and not after_version:
            raise OrganizationNotFound(f"no organization {identifier}", field="code")
        return events

    def organization_at(self, identifier: str, *, as_of: date | None = None,
                        known_at: datetime | None = None) -> Organization:
        """The organization bitemporally: ``as_of`` keeps the events in effect on that
        business date, ``known_at`` those recorded by that moment; both together is the
        state in effect on ``as_of`` as the office knew it at ``known_at``.

        A snapshot is a valid start when everything before it qualifies: it was recorded
        by ``known_at`` and the latest effective date it had seen is on or before
        ``as_of``; the events after it are replayed with the same filter.

        On PostgreSQL the time-travel index (``TimeIndex``) chooses that snapshot and the
        qualifying later events in SQL, so only they are decoded; an organization with
        events missing from the index (recorded before it existed) has them indexed
        first. Elsewhere (the in-memory store) the snapshots are binary-searched and every
        later event decoded and filtered."""
        org_id = Organization.create_id(identifier)
        if isinstance(self.recorder, TimeIndex) and self.snapshots is not None:
            org = self._organization_at_by_index(self.recorder, org_id, as_of, known_at)
        else:
            org = self._organization_at_by_snapshots(org_id, as_of, known_at)
        if org is None:
            when = " and ".join(filter(None, [as_of and f"in effect on {as_of}",
                                               known_at and f"known at {known_at.isoformat()}"]))
            raise OrganizationNotFound(f"no organization {identifier} {when}".strip(),
                                       field="code")
        return org

    def _organization_at_by_index(self, index: TimeIndex, org_id: UUID, as_of: date | None,
                                  known_at: datetime | None) -> Organization | None:
        plan = index.time_travel_plan(org_id, as_of=as_of, known_at=known_at)
        if not plan.complete:
            self._index_organization(index, org_id)
            plan = index.time_travel_plan(org_id, as_of=as_of, known_at=known_at)
            if not plan.complete:  # (rows that match no event: left alone, not trusted)
                return self._organization_at_by_snapshots(org_id, as_of, known_at)
        org = None
        if plan.snapshot is not None:
            org = self.snapshots.mapper.to_domain_event(plan.snapshot).mutate(None)
        for stored in plan.events:
            event = self.mapper.to_domain_event(stored)
            org = event.mutate(org) if org is None else self._apply_out_of_sequence(org, event)
        return org

    def _index_organization(self, index: TimeIndex, org_id: UUID) -> None:
        """Backfill the index rows of this organization's events that have none (decoding
        only those), once: afterwards every save writes its own."""
        events = [self.mapper.to_domain_event(stored)
                  for stored in index.select_unindexed_events(org_id)]
        index.insert_time_index([
            TimeIndexRow(e.originator_id, e.originator_version, e.meta.effective_date,
                         e.timestamp) for e in events if isinstance(e, ORGANIZATION_EVENTS)])

    def _organization_at_by_snapshots(self, org_id: UUID, as_of: date | None,
                                      known_at: datetime | None) -> Organization | None:
        """Without the index: binary-search the snapshots, filter every later event."""
        start: Organization | None = None
        upper: int | None = None  # the oldest snapshot found not to qualify

        def qualifies(candidate: Organization) -> bool:
            return not ((known_at is not None and candidate.modified_on > known_at) or
                        (as_of is not None and candidate.latest_effective_date > as_of))

        def snapshot_at(version: int) -> Organization:
            return next(iter(self.snapshots.get(org_id, gt=version - 1, lte=version))
                        ).mutate(None)

        if self.snapshots is not None:
            # Both tests are monotonic in the version (latest_effective_date is a running
            # maximum, modified_on the recording time): test the newest snapshot first
            # ("as of today" needs only it), else binary-search, decoding about log2(n)
            # snapshots instead of walking back through all of them.
            versions = self._snapshot_versions(org_id)
            lo, hi = 0, len(versions) - 1
            if versions:
                newest = snapshot_at(versions[-1])
                if qualifies(newest):
                    start, lo = newest, hi + 1
                else:
                    upper, hi = versions[-1], hi - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                candidate = snapshot_at(versions[mid])
                if qualifies(candidate):
                    start, lo = candidate, mid + 1
                else:
                    upper, hi = versions[mid], mid - 1
        org = start
        # With known_at alone, everything after ``upper`` was recorded after known_at; with
        # as_of, a later event may still be in effect (a late filing): read them all.
        lte = upper if as_of is None else None
        for event in self.events.get(org_id, gt=start.version if start else None, lte=lte):
            if known_at is not None and event.timestamp > known_at:
                break
            if as_of is not None and event.meta.effective_date > as_of:
                continue
            org = event.mutate(org) if org is None else self._apply_out_of_sequence(org, event)
        return org

    def _snapshot_versions(self, org_id: UUID) -> list[int]:
        """The versions of the organization's snapshots, oldest first (no state read)."""
        from psycopg.sql import SQL, Identifier

        recorder = self.snapshots.recorder
        if not hasattr(recorder, "datastore"):  # the in-memory store
            return [s.originator_version for s in self.snapshots.get(org_id)]
        statement = SQL("SELECT originator_version FROM {0}.{1} WHERE originator_id = %s "
                        "ORDER BY originator_version").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (org_id,), prepare=True)
            return [row["originator_version"] for row in curs.fetchall()]

    @staticmethod
    def _apply_out_of_sequence(org: Organization, event: Any) -> Organization:
        """Apply an event whose predecessors were filtered out (not yet in effect), keeping
        the running maximum of the effective dates as ``Organization.Event.mutate`` does
        (so the state does not depend on which snapshot the replay started from)."""
        event.apply(org)
        org.version = event.originator_version
        org.modified_on = event.timestamp
        org.latest_effective_date = max(org.latest_effective_date, event.meta.effective_date)
        return org

    def get_person(self, person_id: UUID) -> Person:
        try:
            return self.repository.get(person_id)
        except AggregateNotFoundError:
            raise PersonNotFound(f"no person {person_id}", field="person") from None

    def person_id_for(self, id_number: str) -> UUID:
        """A stable pseudonym: the identity number never leaves the Person aggregate."""
        digest = hmac.new(self._pseudonym_key, id_number.encode(), hashlib.sha256).hexdigest()
        return uuid5(PERSON_NAMESPACE, digest)

    # ---------------------------------------------------------------- machinery

    def _execute(self, aggregate_id: UUID, load: Callable[[UUID], Any], decide: Decide, *,
                 identifier: str, meta: Meta, expected_version: int | None,
                 idempotency_key: str | None, fingerprint: str) -> CommandResult:
        if idempotency_key:
            previous = self.recorder.find_idempotency_record(meta.actor_id, idempotency_key)
            if previous is not None:
                return self._replay(previous, identifier, fingerprint)
        for _ in range(MAX_ATTEMPTS):
            target = load(aggregate_id)
            if expected_version is not None and target.version != expected_version:
                raise VersionConflict(
                    f"{identifier} is at version {target.version}, not {expected_version}: "
                    "read it again and retry", rule="expected_version")
            others, result = decide(target)
            try:
                recordings = self._save(target, others, identifier, meta, idempotency_key,
                                        fingerprint, result)
            except IntegrityError:
                if idempotency_key:
                    previous = self.recorder.find_idempotency_record(meta.actor_id,
                                                                     idempotency_key)
                    if previous is not None:
                        return self._replay(previous, identifier, fingerprint)
                if expected_version is not None:
                    raise VersionConflict(f"{identifier} was changed by another command: "
                                          "read it again and retry",
                                          rule="expected_version") from None
                continue
            return self._result(target, identifier, recordings, result)
        raise VersionConflict(f"{identifier} is changing too fast; retry",
                              rule="expected_version")

    def _save(self, target: Aggregate, others: Iterable[Aggregate], identifier: str,
              meta: Meta, idempotency_key: str | None, fingerprint: str, result: dict):
        record = None
        if idempotency_key:
            record = IdempotencyRecord(key=idempotency_key, actor_id=meta.actor_id,
                                       fingerprint=fingerprint, aggregate_id=target.id,
                                       version=target.version,
                                       result={"identifier": identifier, **result})
        return self.save(target, *others, idempotency=record)

    @staticmethod
    def _result(target: Aggregate, identifier: str, recordings, result: dict) -> CommandResult:
        position = recordings[-1].notification.id if recordings else None
        return CommandResult(identifier=identifier, aggregate_id=target.id,
                             version=target.version, position=position, result=result,
                             aggregate=target)

    def _replay(self, previous: IdempotencyRecord, identifier: str,
                fingerprint: str) -> CommandResult:
        if previous.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different request",
                rule="idempotency_key_reused", field="Idempotency-Key")
        result = {k: v for k, v in previous.result.items() if k != "identifier"}
        return CommandResult(identifier=previous.result.get("identifier", identifier),
                             aggregate_id=previous.aggregate_id, version=previous.version,
                             position=self._position_of(previous.aggregate_id,
                                                        previous.version),
                             replayed=True, result=result)

    def _position_of(self, aggregate_id: UUID, version: int) -> int | None:
        """The position of the replayed command's (last) event."""
        return self.recorder.position_of(aggregate_id, version)

    def _organization_command(self, identifier: str, decide: Decide, *, meta: Meta,
                              expected_version: int | None = None,
                              idempotency_key: str | None = None,
                              fingerprint: str = "") -> CommandResult:
        return self._execute(Organization.create_id(identifier),
                             lambda _id: self.get_organization(identifier), decide,
                             identifier=identifier, meta=meta,
                             expected_version=expected_version,
                             idempotency_key=idempotency_key, fingerprint=fingerprint)

    def _create(self, make: Callable[[], Organization], *, meta: Meta,
                idempotency_key: str | None, fingerprint: str,
                others: Callable[[Organization], Iterable[Aggregate]] = lambda org: ()
                ) -> CommandResult:
        if idempotency_key:
            previous = self.recorder.find_idempotency_record(meta.actor_id, idempotency_key)
            if previous is not None:
                return self._replay(previous, "", fingerprint)
        org = make()
        try:
            self.repository.get(org.id)
        except AggregateNotFoundError:
            pass
        else:
            raise Conflict(f"{org.identifier} is already registered", rule="already_registered",
                           field="code")
        try:
            recordings = self._save(org, others(org), org.identifier, meta, idempotency_key,
                                    fingerprint, {})
        except IntegrityError:
            if idempotency_key:
                previous = self.recorder.find_idempotency_record(meta.actor_id,
                                                                 idempotency_key)
                if previous is not None:
                    return self._replay(previous, org.identifier, fingerprint)
            raise Conflict(f"{org.identifier} is already registered",
                           rule="already_registered", field="code") from None
        return self._result(org, org.identifier, recordings, {})

    # ----------------------------------------------------------------- filings

    def register_organization(self, *, meta: Meta, idempotency_key: str | None = None,
                              fingerprint: str = "", **fields: Any) -> CommandResult:
        return self._create(lambda: Organization.register(meta=meta, **fields), meta=meta,
                            idempotency_key=idempotency_key, fingerprint=fingerprint)

    def record_community_organization(self, *, meta: Meta, code: str | None = None,
                                      idempotency_key: str | None = None,
                                      fingerprint: str = "", **fields: Any) -> CommandResult:
        jurisdiction = fields["domicile"]["jurisdiction"]
        record_number = f"BA{jurisdiction}{secrets.token_hex(3).upper()}"
        return self._create(
            lambda: Organization.record(meta=meta, code=code, record_number=record_number,
                                        **fields),
            meta=meta, idempotency_key=idempotency_key, fingerprint=fingerprint)

    def execute(self, identifier: str, command: str, *, meta: Meta,
                expected_version: int | None = None, idempotency_key: str | None = None,
                fingerprint: str = "", **args: Any) -> CommandResult:
        """Run one of the organization's single-aggregate commands by name."""
        method = SIMPLE_COMMANDS[command]

        def decide(org: Organization):
            returned = getattr(org, method)(meta=meta, **args)
            return (), ({"id": returned} if returned is not None else {})

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    # --------------------------------------------------------------- leadership

    def ensure_person(self, name: str, id_number: str, meta: Meta) -> Person:
        validate_id_number(id_number)
        person_id = self.person_id_for(id_number)
        try:
            return self.repository.get(person_id)
        except AggregateNotFoundError:
            # Personal fields are sealed with the person's own key when stored.
            return Person(id=person_id, name=personal(person_id, name),
                          id_number=personal(person_id, id_number),
                          birth_date=personal(person_id, birth_date_from_id_number(id_number)),
                          meta=meta)

    def register_person(self, *, name: str, id_number: str, meta: Meta) -> tuple[Person, bool]:
        """Look up a person by identity number, recording them if they are new."""
        person = self.ensure_person(name, id_number, meta)
        created = bool(person.pending_events)
        if created:
            try:
                self.save(person)
            except IntegrityError:
                person = self.get_person(person.id)
                created = False
        return person, created

    def appoint_leader(self, identifier: str, *, person: dict, roles: list[str],
                       term_start: date, term_end: date, public_notice: dict | None = None,
                       official_status: str = "none", approval_reference: str | None = None,
                       replaces: str | None = None, departure_audit_done: bool = False,
                       meta: Meta, expected_version: int | None = None,
                       idempotency_key: str | None = None,
                       fingerprint: str = "") -> CommandResult:
        def decide(org: Organization):
            appointee = self.ensure_person(person["name"], person["id_number"], meta)
            replaced = self._person_or_none(replaces)
            org.appoint_leader(person_id=str(appointee.id),
                               name=personal(appointee.id, person["name"]),
                               id_number_masked=personal(
                                   appointee.id, mask_id_number(person["id_number"])),
                               roles=roles, term_start=term_start, term_end=term_end,
                               public_notice=public_notice, official_status=official_status,
                               approval_reference=approval_reference, replaces=replaces,
                               departure_audit_done=departure_audit_done, meta=meta)
            if replaced is not None:
                replaced.leave_post(organization=identifier, meta=meta)
            appointee.take_post(organization=identifier, roles=roles,
                                official_status=official_status, meta=meta)
            return [p for p in (appointee, replaced) if p is not None], {
                "person_id": str(appointee.id)}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def _person_or_none(self, person_id: str | None) -> Person | None:
        if person_id is None:
            return None
        try:
            return self.get_person(UUID(person_id))
        except ValueError:
            raise RuleViolation(f"person {person_id} is not a current leader",
                                rule="not_a_leader", field="replaces") from None

    def record_leader_departure(self, identifier: str, person_id: str, *,
                                departure_reason: str, departure_audit_done: bool, meta: Meta,
                                expected_version: int | None = None,
                                idempotency_key: str | None = None,
                                fingerprint: str = "") -> CommandResult:
        def decide(org: Organization):
            org.record_leader_departure(person_id=person_id, departure_reason=departure_reason,
                                        departure_audit_done=departure_audit_done, meta=meta)
            person = self.get_person(UUID(person_id))
            person.leave_post(organization=identifier, meta=meta)
            return [person], {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def hold_term_election(self, identifier: str, *, term_start: date, term_end: date,
                           meta: Meta, expected_version: int | None = None,
                           idempotency_key: str | None = None,
                           fingerprint: str = "") -> CommandResult:
        def decide(org: Organization):
            persons = [self.get_person(UUID(p)) for p in sorted(org.leaders)]
            org.hold_term_election(term_start=term_start, term_end=term_end, meta=meta)
            for person in persons:
                person.begin_new_term(organization=identifier, meta=meta)
            return persons, {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def close_organization(self, identifier: str, how: str, *, meta: Meta,
                           expected_version: int | None = None,
                           idempotency_key: str | None = None, fingerprint: str = "",
                           **penalty: Any) -> CommandResult:
        """Deregistration, revocation, ban, or a penalty (which may revoke): the leaders'
        posts end, and for a revocation or ban each leader's record keeps it (rule 8)."""

        def decide(org: Organization):
            persons = [self.get_person(UUID(p)) for p in sorted(org.leaders)]
            if how == "penalty":
                org.impose_penalty(meta=meta, **penalty)
            else:
                getattr(org, {"deregister": "deregister", "revoke": "revoke",
                              "ban": "ban"}[how])(meta=meta)
            if org.is_closed:
                for person in persons:
                    if org.status == "deregistered":
                        person.leave_post(organization=identifier, meta=meta)
                    else:
                        person.record_sanctioned_organization(organization=identifier,
                                                              status=org.status, meta=meta)
            return persons, {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def rescind_penalty(self, identifier: str, *, decision_number: str, meta: Meta,
                        expected_version: int | None = None,
                        idempotency_key: str | None = None,
                        fingerprint: str = "") -> CommandResult:
        """A rescinded revocation no longer bars the leaders it removed (rule 8)."""

        def decide(org: Organization):
            closure = org.closure or {}
            revoked = (org.penalties.get(decision_number, {}).get("kind") == "revocation"
                       and org.status == "revoked")
            org.rescind_penalty(decision_number=decision_number, meta=meta)
            persons = []
            if revoked:
                for person_id in closure.get("leaders", []):
                    person = self.get_person(UUID(person_id))
                    person.lift_sanction(organization=identifier, meta=meta)
                    persons.append(person)
            return persons, {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def record_occupational_ban(self, person_id: UUID, *, banned_from: date,
                                banned_until: date | None, meta: Meta,
                                expected_version: int | None = None,
                                idempotency_key: str | None = None,
                                fingerprint: str = "") -> CommandResult:
        def decide(person: Person):
            person.record_occupational_ban(banned_from=banned_from, banned_until=banned_until,
                                           meta=meta)
            return (), {}

        return self._execute(person_id, self.get_person, decide, identifier=str(person_id),
                             meta=meta, expected_version=expected_version,
                             idempotency_key=idempotency_key, fingerprint=fingerprint)

    def erase_person(self, person_id: UUID, *, meta: Meta,
                     idempotency_key: str | None = None,
                     fingerprint: str = "") -> CommandResult:
        """An erasure request (crypto-shredding): recorded on the Person, and on each
        organization the person led (so their cached and projected states drop the name),
        in one atomic write; then the person's key is destroyed, after which every stored
        copy of their personal fields reads as erased. A repeated request for an erased
        person destroys the key again (in case the first stopped between the two) and is
        refused as a conflict."""
        person = self.get_person(person_id)
        if person.is_erased:
            self.person_keys.destroy(str(person_id))
            raise Conflict("this person's personal data is already erased",
                           rule="already_erased", field="person")

        def decide(person: Person):
            organizations = person.erase_personal_data(meta=meta)
            orgs = []
            for identifier in organizations:
                try:
                    org = self.get_organization(identifier)
                except OrganizationNotFound:
                    continue
                org.erase_leader_personal_data(person_id=str(person_id), meta=meta)
                orgs.append(org)
            return orgs, {"organizations": organizations}

        result = self._execute(person_id, self.get_person, decide, identifier=str(person_id),
                               meta=meta, expected_version=None,
                               idempotency_key=idempotency_key, fingerprint=fingerprint)
        # The saved (and cached) aggregates already hold the erased markers.
        self.person_keys.destroy(str(person_id))
        return result

    # ----------------------------------------------------------------- accounts

    def open_account(self, *, username: str, password: str, display_name: str, role: str,
                     jurisdiction: str | None, organization: str | None,
                     meta: Meta) -> Account:
        account = Account.open(username=username, display_name=display_name, role=role,
                               jurisdiction=jurisdiction, organization=organization,
                               password_hash=hash_password(password), meta=meta)
        for _ in range(MAX_ATTEMPTS):
            if self._find_account(username) is not None:
                raise Conflict(f"account {username} already exists", field="username")
            entry = self.account_log.trigger_event(username=username)
            try:
                self.save(account, entry)
                return account
            except IntegrityError:
                continue
        raise VersionConflict("accounts are being opened too fast; retry")

    def _find_account(self, username: str) -> Account | None:
        try:
            return self.repository.get(Account.create_id(username))
        except AggregateNotFoundError:
            return None

    def get_account(self, username: str) -> Account:
        account = self._find_account(username)
        if account is None:
            raise DomainError(f"no account {username}", field="username")
        return account

    def list_accounts(self) -> list[Account]:
        return [self.get_account(e.username) for e in self.account_log.get()]

    def issue_token(self, username: str, meta: Meta) -> str:
        """A new API token ``username.token_id.secret``; only its hash is stored."""
        account = self.get_account(username)
        token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        account.issue_token(token_id=token_id, token_hash=hash_token(secret), meta=meta)
        self.save(account)
        return f"{username}.{token_id}.{secret}"

    def authenticate_token(self, token: str) -> Account:
        try:
            username, token_id, secret = token.split(".", 2)
        except ValueError:
            raise AuthenticationFailed("malformed token") from None
        if not set(username) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-"):
            raise AuthenticationFailed("malformed token")
        account = self._find_account(username)
        if account is None or account.disabled:
            raise AuthenticationFailed("unknown token")
        expected = account.token_hashes.get(token_id)
        if expected is None or not hmac.compare_digest(expected, hash_token(secret)):
            raise AuthenticationFailed("unknown token")
        return account

    def authenticate_password(self, username: str, password: str) -> Account:
        account = self._find_account(username)
        if account is None or account.disabled or not verify_password(password,
                                                                      account.password_hash):
            raise AuthenticationFailed("wrong username or password")
        return account

    def grant(self, username: str, *, role: str, jurisdiction: str | None,
              organization: str | None, meta: Meta) -> Account:
        account = self.get_account(username)
        account.grant(role=role, jurisdiction=jurisdiction, organization=organization,
                      meta=meta)
        self.save(account)
        return account

    def disable_account(self, username: str, meta: Meta) -> None:
        account = self.get_account(username)
        account.disable(meta=meta)
        self.save(account)

    def change_password(self, username: str, password: str, meta: Meta) -> None:
        account = self.get_account(username)
        account.change_password(hash_password(password), meta=meta)
        self.save(account)


# The organization's commands that touch only the organization, by name.
SIMPLE_COMMANDS = {
    "change": "register_change",
    "annual_report": "file_annual_report",
    "annual_inspection": "conclude_annual_inspection",
    "annual_inspection_correction": "correct_annual_inspection",
    "level_assessment": "assess_level",
    "certificate_renewal": "renew_certificate",
    "major_event": "report_major_event",
    "major_event_review": "review_major_event",
    "inspection": "conduct_inspection",
    "rectification": "order_rectification",
    "rectification_follow_up": "follow_up_rectification",
    "rectification_completion": "complete_rectification",
    "rectification_overdue": "mark_rectification_overdue",
    "management_suggestion": "issue_management_suggestion",
    "resumption": "resume_activities",
    "credit_listing": "list_on_credit_list",
    "credit_listing_removal": "remove_from_credit_list",
    "interview": "hold_interview",
    "leader_warning": "warn_leader",
    "leader_replacement_order": "order_leader_replacement",
}


def hash_password(password: str) -> str:
    """scrypt (RFC 7914) with a random salt; parameters are stored with the hash."""
    salt = secrets.token_bytes(16)
    n, r, p = 2 ** 14, 8, 1
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                               p=int(p), dklen=32)
    return hmac.compare_digest(candidate.hex(), digest)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
