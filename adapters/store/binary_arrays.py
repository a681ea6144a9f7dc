"""The recording statement's arrays in PostgreSQL's binary format, encoded here.

psycopg adapts a Python list by looking at its items for their type, choosing a dumper
for it and dumping item by item through its generic machinery: for the dozen arrays of
one batch that was most of the leader's CPU in its transaction (203 us for a batch of 5
saves, where the round trip itself takes about 40). Their types are known in advance, so
they are encoded here with ``struct`` into the format the server reads (the binary
``array_recv``: dimensions, flags, element type, lower bound, then each element's length
and bytes), and passed to psycopg as ``Encoded`` values, which it sends as they are: the
same batch takes about 150 us.

An ``Encoded`` value is sent with no type of its own (oid 0): the statement's cast
(``%b::uuid[]``) tells the server what it is.
"""

from __future__ import annotations

import json
import struct
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Sequence
from uuid import UUID

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

# element type oids (pg_type)
BYTEA, INT8, TEXT, DATE, TIMESTAMPTZ, UUID_OID, JSONB = 17, 20, 25, 1082, 1184, 2950, 3802

_HEADER = struct.Struct("!iiiii")  # dimensions (1), has nulls, element oid, length, lower bound
_LENGTH = struct.Struct("!i")
_INT8 = struct.Struct("!iq")  # length 8, value
_INT4 = struct.Struct("!ii")  # length 4, value
_NULL = _LENGTH.pack(-1)
_UUID_LENGTH = _LENGTH.pack(16)
_JSONB_VERSION = b"\x01"
_EPOCH_DAY = date(2000, 1, 1).toordinal()
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


class Encoded:
    """A parameter already in PostgreSQL's binary format."""

    __slots__ = ("data",)

    def __init__(self, data: bytes):
        self.data = data

    def __repr__(self) -> str:
        return f"Encoded({len(self.data)} bytes)"


class EncodedDumper(Dumper):
    format = Format.BINARY
    oid = 0  # the statement's cast gives the type

    def dump(self, obj: Encoded) -> bytes:
        return obj.data


psycopg.adapters.register_dumper(Encoded, EncodedDumper)


def _array(oid: int, elements: list[bytes], nulls: bool = False) -> Encoded | None:
    """A one-dimensional array of these encoded elements; None (SQL NULL) for none, which
    ``unnest`` reads as no rows."""
    if not elements:
        return None
    return Encoded(_HEADER.pack(1, 1 if nulls else 0, oid, len(elements), 1)
                   + b"".join(elements))


def _variable(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


def uuids(values: Iterable[UUID]) -> Encoded | None:
    return _array(UUID_OID, [_UUID_LENGTH + v.bytes for v in values])


def bigints(values: Iterable[int]) -> Encoded | None:
    return _array(INT8, [_INT8.pack(8, v) for v in values])


def texts(values: Iterable[str]) -> Encoded | None:
    return _array(TEXT, [_variable(v.encode()) for v in values])


def byteas(values: Iterable[bytes]) -> Encoded | None:
    return _array(BYTEA, [_variable(bytes(v)) for v in values])


def jsonbs(values: Iterable[Any]) -> Encoded | None:
    return _array(JSONB, [_variable(_JSONB_VERSION + json.dumps(v).encode())
                          for v in values])


def dates(values: Sequence[date | None]) -> Encoded | None:
    """Dates, None as NULL."""
    return _array(DATE, [_NULL if v is None else _INT4.pack(4, v.toordinal() - _EPOCH_DAY)
                         for v in values], None in values)


def timestamptzs(values: Sequence[datetime | None]) -> Encoded | None:
    """Aware datetimes (a naive one raises TypeError: its zone would be a guess), None as
    NULL."""
    return _array(TIMESTAMPTZ, [_NULL if v is None else _INT8.pack(8, (v - _EPOCH) // _MICROSECOND)
                                for v in values], None in values)


def text(value: str) -> Encoded:
    return Encoded(value.encode())


def ids(id_type: str, values: Iterable[Any]) -> Encoded | None:
    """Originator ids as the events table keeps them (the datastore's
    ``originator_id_type``: ``uuid``, or ``text``)."""
    return uuids(values) if id_type == "uuid" else texts(str(v) for v in values)
