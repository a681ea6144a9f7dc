"""Creating tables from several processes at once, safely.

``CREATE TABLE IF NOT EXISTS``, ``CREATE TYPE`` and ``CREATE OR REPLACE FUNCTION`` are not
safe to run concurrently in PostgreSQL ("tuple concurrently updated", duplicate pg_type
keys): a web process, a worker and a relay starting together would race. Every recorder
and view of this project creates its tables while holding one advisory lock.
"""

from __future__ import annotations

from typing import Any

import psycopg

DDL_LOCK = 7_261_002


class SerializedDDL:
    """Mixed into a recorder: ``create_table`` runs under a database-wide advisory lock."""

    datastore: Any

    def create_table(self) -> None:
        pool = self.datastore.pool
        options = {k: v for k, v in pool.kwargs.items() if k != "row_factory"}
        with psycopg.connect(pool.conninfo, autocommit=True, **options) as lock:
            lock.execute("SELECT pg_advisory_lock(%s)", (DDL_LOCK,))
            try:
                super().create_table()  # type: ignore[misc]
            finally:
                lock.execute("SELECT pg_advisory_unlock(%s)", (DDL_LOCK,))
