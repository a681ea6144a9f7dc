"""Stored events bound to their rows: the library's mapper with AES-GCM associated data."""

from __future__ import annotations

import re
from typing import Any, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import (Mapper, MapperDeserialisationError, StoredEvent,
                                       find_id_convertor)
from eventsourcing.utils import get_topic, resolve_topic

from adapters.randomness import random_bytes
from domain.person import Person



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

    A state shorter than ``COMPRESS_FROM`` is not compressed. Python's zlib lets other
    threads run while it compresses, and taking the interpreter back costs a busy
    process more than the compression itself: with 8 threads saving commands, a
    compression took 66 us of its thread's CPU (620 us of wall time) where it takes 12
    to 23 us alone, about a fifth of a command's CPU, to save 132 of an interview
    event's 449 bytes. Snapshots and large events are still compressed. A state is read
    as stored when it starts like the JSON object it is (``{``), which no compressed
    state does (a zlib stream's first byte ends in 8, the deflate method), so the rows
    written before read as they did, whichever compressor is configured.
    """

    ROW_BOUND = b"\x00CFB1"
    COMPRESS_FROM = 1024  # bytes of JSON: a shorter state is stored as it is
    _JSON_OBJECT = b"{"

    legacy_reads = True

    def __init__(self, transcoder, compressor=None, cipher=None):
        super().__init__(transcoder=transcoder, compressor=compressor, cipher=cipher)
        self._aead = AESGCM(cipher.key) if cipher is not None else None

    @staticmethod
    def associated_data(originator_id: Any, version: int, topic: str) -> bytes:
        return f"{originator_id}|{version}|{topic}".encode()

    def seal_state(self, state: bytes, originator_id: Any, version: int, topic: str) -> bytes:
        nonce = random_bytes(12)
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
        if self.compressor and len(stored_state) >= self.COMPRESS_FROM:
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
            if self.compressor and stored_state[:1] != self._JSON_OBJECT:
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
