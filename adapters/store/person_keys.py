"""The person key table in PostgreSQL (crypto-shredding, issue 7 item 9).

One row per person whose personal data was ever sealed: ``key`` is that person's
AES-256-GCM data key, wrapped with the event store's CIPHER_KEY (services.casefiles
PersonKeyRing), so a dump of the database alone unseals nothing. Erasing the person
overwrites the key with NULL and stamps ``erased_at``; the row stays as the tombstone
that tells an erased person from an unknown one.

Limits (docs/RELIABILITY.md row 9): PostgreSQL keeps the old row version until VACUUM
removes it, and WAL archives and backups taken before the erasure keep the wrapped key;
whoever holds one of those and CIPHER_KEY can still unseal. Backups must expire.

The table lives beside the events (``<prefix>_person_keys`` in the recorder's schema)
and is created with the project's DDL lock held (adapters.store.ddl).
"""

from __future__ import annotations

from typing import Any, Sequence

from psycopg.sql import SQL, Identifier

from adapters.store.ddl import DDL_LOCK


class PostgresPersonKeys:
    def __init__(self, recorder: Any):
        self.datastore = recorder.datastore
        name = recorder.events_table_name.removesuffix("_events") + "_person_keys"
        self.table = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                           Identifier(name))
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            curs.execute(SQL(
                "CREATE TABLE IF NOT EXISTS {t} (person_id text PRIMARY KEY, key bytea, "
                "created_at timestamptz NOT NULL DEFAULT now(), erased_at timestamptz, "
                "CHECK ((key IS NULL) = (erased_at IS NOT NULL)))").format(t=self.table))

    def fetch(self, person_id: str) -> tuple[bytes | None, bool]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT key, erased_at FROM {t} WHERE person_id = %s").format(
                t=self.table), (person_id,), prepare=True)
            row = curs.fetchone()
        if row is None:
            return None, False
        key = row["key"]
        return (bytes(key) if key is not None else None), row["erased_at"] is not None

    def fetch_many(self, person_ids: Sequence[str]) -> dict[str, tuple[bytes | None, bool]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT person_id, key, erased_at FROM {t} "
                             "WHERE person_id = ANY(%s)").format(t=self.table),
                         (list(person_ids),), prepare=True)
            rows = curs.fetchall()
        return {row["person_id"]: (bytes(row["key"]) if row["key"] is not None else None,
                                   row["erased_at"] is not None) for row in rows}

    def create(self, person_id: str, wrapped_key: bytes) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("INSERT INTO {t} (person_id, key) VALUES (%s, %s) "
                             "ON CONFLICT (person_id) DO NOTHING").format(t=self.table),
                         (person_id, wrapped_key))

    def create_many(self, keys: Sequence[tuple[str, bytes]]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("INSERT INTO {t} (person_id, key) SELECT * FROM unnest("
                             "%s::text[], %s::bytea[]) ON CONFLICT (person_id) DO NOTHING"
                             ).format(t=self.table),
                         ([p for p, _ in keys], [k for _, k in keys]))

    def destroy(self, person_id: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL(
                "INSERT INTO {t} (person_id, key, erased_at) VALUES (%s, NULL, now()) "
                "ON CONFLICT (person_id) DO UPDATE SET key = NULL, "
                "erased_at = coalesce({t}.erased_at, now())").format(t=self.table),
                (person_id,))
