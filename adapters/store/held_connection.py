"""The group committer's own connection: taken from the pool once and kept.

A process commits one batch at a time (adapters.store.group_commit), so one connection
serves all its batches. Checking a pool connection out and back in for every batch (the
library's ``get_connection``: the pool's lock and queue, the connection's commit check
on the way back, the pool's reset check, the generator that translates errors) took
about a tenth of the interpreter's time with 8 writers, as much as running the recording
statement itself.

An error comes out as the library's datastore raises it (``eventsourcing.persistence``'s
types), so a save's retries and a write's own errors work as through ``get_connection``.
After an error of the connection or the server (not a refused write) the connection goes
back to the pool, which replaces it if it is broken, and the next batch takes one again.
A forked child takes one of its own and never touches its parent's: closing it would end
the parent's session, whose socket the child shares.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import psycopg
from eventsourcing.persistence import (DatabaseError, DataError, IntegrityError, InterfaceError,
                                       InternalError, NotSupportedError, OperationalError,
                                       PersistenceError, ProgrammingError)
from eventsourcing.postgres import PostgresDatastore

# as eventsourcing.postgres.PostgresDatastore.get_connection translates them (subclasses first)
_TRANSLATED = ((psycopg.InterfaceError, InterfaceError),
               (psycopg.OperationalError, OperationalError), (psycopg.DataError, DataError),
               (psycopg.IntegrityError, IntegrityError), (psycopg.InternalError, InternalError),
               (psycopg.ProgrammingError, ProgrammingError),
               (psycopg.NotSupportedError, NotSupportedError),
               (psycopg.DatabaseError, DatabaseError), (psycopg.Error, PersistenceError))
# a write refused for its rows: the connection is fine
_WRITES_OWN = (psycopg.IntegrityError, psycopg.DataError, psycopg.ProgrammingError,
               psycopg.NotSupportedError)


class HeldConnection:
    def __init__(self, datastore: PostgresDatastore):
        self.datastore = datastore
        self._conn: psycopg.Connection | None = None
        self._pid = 0
        self._parents: list[psycopg.Connection] = []  # inherited in a fork: left alone

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        conn = self._take()
        try:
            yield conn
        except psycopg.Error as e:
            if not isinstance(e, _WRITES_OWN) or conn.broken:
                self.release()
            ours = next(ours for theirs, ours in _TRANSLATED if isinstance(e, theirs))
            raise ours(str(e)) from e

    def _take(self) -> psycopg.Connection:
        if self._conn is not None:
            if self._pid == os.getpid():
                return self._conn
            self._parents.append(self._conn)
            self._conn = None
        datastore = self.datastore
        try:
            datastore.pool.open(datastore.pool_open_timeout is not None,
                                datastore.pool_open_timeout or 30.0)
            self._conn = datastore.pool.getconn()
        except psycopg.Error as e:
            ours = next(ours for theirs, ours in _TRANSLATED if isinstance(e, theirs))
            raise ours(str(e)) from e
        self._pid = os.getpid()
        return self._conn

    def release(self) -> None:
        """Give the connection back to the pool (the recorder's application closes)."""
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            with contextlib.suppress(Exception):  # a closed pool closes it
                self.datastore.pool.putconn(conn)
