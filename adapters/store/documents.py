"""The documents (services.ports.DocumentStore), in PostgreSQL beside the events
(``<prefix>_documents``): one row per SHA-256, so a document attached to many entries is
stored once, in the database that is backed up with the events (no second storage).
Erasing a document drops its content and keeps its row (hash, type, size), so the events
that recorded its hash still name it.

With a ``CIPHER_KEY`` (as the events are), the content is encrypted at rest with AES-GCM
under that key, its SHA-256 the associated data, so a document may hold personal data (an
identity card's copy) as safely as the events do, and a ciphertext copied to another
document's row fails to decrypt."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg.sql import SQL, Identifier

from adapters.randomness import random_bytes
from adapters.store.ddl import DDL_LOCK
from domain.documents import StoredDocument

COLUMNS = "sha256, media_type, size, created_at, erased"


def _stored(row: dict) -> StoredDocument:
    return StoredDocument(row["sha256"], row["media_type"], row["size"], row["created_at"],
                          row["erased"])


NONCE_BYTES = 12


class PostgresDocuments:
    def __init__(self, recorder: Any, key: bytes | None = None):
        self.datastore = recorder.datastore
        self._aead = AESGCM(key) if key else None
        name = recorder.events_table_name.removesuffix("_events") + "_documents"
        self.table = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                           Identifier(name))
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            curs.execute(SQL(
                "CREATE TABLE IF NOT EXISTS {t} (sha256 text PRIMARY KEY, "
                "media_type text NOT NULL, size integer NOT NULL, content bytea, "
                "created_at timestamptz NOT NULL DEFAULT now(), "
                "erased boolean NOT NULL DEFAULT false)").format(t=self.table))

    def put(self, sha256: str, media_type: str, content: bytes) -> StoredDocument:
        """Store the content once (a second upload of it finds the first)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("INSERT INTO {t} (sha256, media_type, size, content) "
                             "VALUES (%s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING")
                         .format(t=self.table),
                         (sha256, media_type, len(content), self._seal(sha256, content)))
            curs.execute(SQL(f"SELECT {COLUMNS} FROM {{t}} WHERE sha256 = %s")
                         .format(t=self.table), (sha256,))
            return _stored(curs.fetchone())

    def find(self, sha256: str) -> StoredDocument | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL(f"SELECT {COLUMNS} FROM {{t}} WHERE sha256 = %s")
                         .format(t=self.table), (sha256,))
            row = curs.fetchone()
            return None if row is None else _stored(row)

    def content(self, sha256: str) -> bytes | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT content FROM {t} WHERE sha256 = %s AND NOT erased")
                         .format(t=self.table), (sha256,))
            row = curs.fetchone()
            if row is None or row["content"] is None:
                return None
            return self._open(sha256, bytes(row["content"]))

    def _seal(self, sha256: str, content: bytes) -> bytes:
        if self._aead is None:
            return content
        nonce = random_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, content, sha256.encode())

    def _open(self, sha256: str, stored: bytes) -> bytes:
        if self._aead is None:
            return stored
        return self._aead.decrypt(stored[:NONCE_BYTES], stored[NONCE_BYTES:], sha256.encode())

    def erase(self, sha256s: Iterable[str]) -> None:
        hashes = sorted(set(sha256s))
        if not hashes:
            return
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("UPDATE {t} SET content = NULL, erased = true "
                             "WHERE sha256 = ANY(%s)").format(t=self.table), (hashes,))


class InMemoryDocuments:
    """The same for the in-memory store (unit tests)."""

    def __init__(self, recorder: Any = None) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[StoredDocument, bytes | None]] = {}

    def put(self, sha256: str, media_type: str, content: bytes) -> StoredDocument:
        with self._lock:
            if sha256 not in self._rows:
                self._rows[sha256] = (StoredDocument(sha256, media_type, len(content),
                                                     datetime.now(timezone.utc)), content)
            return self._rows[sha256][0]

    def find(self, sha256: str) -> StoredDocument | None:
        with self._lock:
            row = self._rows.get(sha256)
            return None if row is None else row[0]

    def content(self, sha256: str) -> bytes | None:
        with self._lock:
            row = self._rows.get(sha256)
            return None if row is None else row[1]

    def erase(self, sha256s: Iterable[str]) -> None:
        with self._lock:
            for sha256 in set(sha256s):
                if sha256 in self._rows:
                    stored = self._rows[sha256][0]
                    self._rows[sha256] = (StoredDocument(stored.sha256, stored.media_type,
                                                         stored.size, stored.created_at,
                                                         True), None)
