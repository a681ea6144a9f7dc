"""One statement run through libpq itself: its parameters already in PostgreSQL's binary
format (adapters.store.binary_arrays), its one value returned as the server's text.

The group committer runs the recording statement once per transaction. Through a psycopg
cursor, each run converted the query, kept psycopg's prepared-statement bookkeeping, went
through a dumper per parameter (each of them an ``Encoded`` value that it sends as it
is) and built a row from the result: about 45 us of the interpreter per run on top of
the libpq calls themselves (110 -> 65 us of CPU per statement, user and system, one event
a statement). Here the statement goes to ``send_query_params`` and its result is read
with psycopg's own generator, holding the connection's lock as psycopg does; the
connection's transaction state is libpq's as always, so inside a transaction or a
savepoint of psycopg's an error leaves it for psycopg to roll back.

Not a prepared statement: psycopg deallocates every prepared statement of a connection
(``DEALLOCATE ALL``) when a transaction on it rolls back, which reads do, so a statement
prepared here would be gone at unforeseeable times, and finding out inside a transaction
aborts it. The server parses this one short ``SELECT`` of a function each time (the
function's own statements keep their plans for the session).
"""

from __future__ import annotations

from typing import Any, Sequence

import psycopg
from psycopg import errors, generators, pq


class LibpqStatement:
    def __init__(self, text: str):
        """``text``: the statement with ``$1``, ``$2``... for its parameters."""
        self.text = text.encode()

    def value(self, conn: psycopg.Connection, params: Sequence[Any]) -> bytes | None:
        """Run it with these parameters (``Encoded`` values, or None for NULL) and return
        the first column of its first row, as text (None for NULL). An error is raised
        as a psycopg cursor raises it (``psycopg.errors``)."""
        values = [None if p is None else p.data for p in params]
        formats = [pq.Format.BINARY] * len(values)
        with conn.lock:
            conn.pgconn.send_query_params(self.text, values, param_formats=formats)
            result = conn.wait(generators.execute(conn.pgconn))[-1]
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise errors.error_from_result(result, encoding=conn.info.encoding)
        return result.get_value(0, 0) if result.ntuples else None


def bigint_array(text: bytes | None) -> list[int]:
    """A ``bigint[]`` in the server's text form (``{1,2,3}``); NULL or ``{}``: none."""
    if not text or text == b"{}":
        return []
    return [int(n) for n in text[1:-1].split(b",")]
