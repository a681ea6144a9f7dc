"""The recording statement's arrays, encoded by hand in PostgreSQL's binary format
(adapters.store.binary_arrays), read back by the real server as the values they were."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest

from adapters.store import binary_arrays as arrays

CST = timezone(timedelta(hours=8))


def read_back(database_url: str, cast: str, value) -> object:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(f"SELECT %b::{cast}", (value,)).fetchone()[0]


@pytest.mark.parametrize("encode, cast, values", [
    (arrays.uuids, "uuid[]", [uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]),
    (arrays.bigints, "bigint[]", [0, 1, -1, 2**63 - 1, -2**63]),
    (arrays.texts, "text[]", ["", "张伟", "年度检查中发现的问题", "a'b\"c\\d"]),
    (arrays.byteas, "bytea[]", [b"", b"\x00\xff" * 300, bytes(range(256))]),
    (arrays.dates, "date[]", [date(2000, 1, 1), date(1999, 12, 31), date(1, 1, 1),
                              date(2026, 12, 7), None]),
    (arrays.timestamptzs, "timestamptz[]", [
        datetime(2000, 1, 1, tzinfo=timezone.utc),
        datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
        datetime(2026, 12, 7, 8, 30, 15, 123456, tzinfo=CST), None]),
])
def test_each_array_reads_back_as_its_values(database_url, encode, cast, values):
    assert read_back(database_url, cast, encode(values)) == values


def test_jsonb_elements_read_back_as_their_documents(database_url):
    documents = [{"identifier": "51310110MJ0000001X", "n": 1}, {"名称": "协会"}, [], None]
    assert read_back(database_url, "jsonb[]", arrays.jsonbs(documents)) == documents


def test_a_scalar_text_reads_back(database_url):
    assert read_back(database_url, "text", arrays.text("writer 甲")) == "writer 甲"


def test_ids_follow_the_events_tables_id_type(database_url):
    ids = [uuid.uuid4(), uuid.uuid4()]
    assert read_back(database_url, "uuid[]", arrays.ids("uuid", ids)) == ids
    assert read_back(database_url, "text[]", arrays.ids("text", ids)) == [str(i) for i in ids]


def test_no_values_is_a_null_array_which_unnest_reads_as_no_rows(database_url):
    assert arrays.bigints([]) is None
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM unnest(%b::bigint[])",
                            (arrays.bigints([]),)).fetchone()[0] == 0


def test_a_naive_recording_time_is_refused_not_guessed():
    with pytest.raises(TypeError):
        arrays.timestamptzs([datetime(2026, 12, 7, 8, 30)])


def test_the_server_refuses_an_array_of_another_type(database_url):
    """The statement's cast is what types an encoded value: bytes encoded as uuids are
    not read as text."""
    with pytest.raises(psycopg.Error):
        read_back(database_url, "text[]", arrays.uuids([uuid.uuid4()]))
