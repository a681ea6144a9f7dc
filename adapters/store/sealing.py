"""Personal data sealed per person (crypto-shredding): each person's data key, wrapped
with the event store's key, and the transcoder that seals personal values with it."""

from __future__ import annotations

import base64
import threading
import time
from datetime import date
from typing import Any, Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Transcoding

from adapters.randomness import random_bytes
from adapters.store.transcoding import PersonalAwareJSONTranscoder
from domain.personal import PersonalDate, PersonalText, erased, personal
from services.ports import PersonKeyStore


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
        nonce = random_bytes(12)
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
        nonce = random_bytes(12)
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
