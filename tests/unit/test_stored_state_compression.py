"""Which stored states are compressed (adapters.store.mapper.RowBoundMapper): those of
1 KiB or more; a shorter one is stored as it is, and both read back, with this project's
compressor or the library's, as do the states that were all compressed before."""

from uuid import uuid4

from eventsourcing.cipher import AESCipher
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex
from eventsourcing.utils import Environment

from adapters.store.compression import SmallWindowZlib
from adapters.store.mapper import RowBoundMapper


class Noted(Aggregate.Event):
    text: str


CIPHER = AESCipher(Environment(env={"CIPHER_KEY": AESCipher.create_key(32)}))


def transcoder() -> JSONTranscoder:
    t = JSONTranscoder()
    t.register(DatetimeAsISO())
    t.register(UUIDAsHex())
    return t


def mapper(compressor=None) -> RowBoundMapper:
    return RowBoundMapper(transcoder(), compressor or SmallWindowZlib(), CIPHER)


def noted(text: str) -> Noted:
    return Noted(originator_id=uuid4(), originator_version=1,
                 timestamp=Noted.create_timestamp(), text=text)


def plain_state(m: RowBoundMapper, stored) -> bytes:
    return m.open_state(stored)


SHORT, LONG = noted("约谈"), noted("年度工作报告" * 100)


def test_a_short_state_is_stored_uncompressed_and_a_long_one_compressed() -> None:
    m = mapper()
    short, long = m.to_stored_event(SHORT), m.to_stored_event(LONG)
    assert plain_state(m, short).startswith(b"{")
    assert len(plain_state(m, short)) < RowBoundMapper.COMPRESS_FROM
    assert not plain_state(m, long).startswith(b"{")
    assert len(plain_state(m, long)) < RowBoundMapper.COMPRESS_FROM  # 1.8 KB of JSON in


def test_both_read_back_whichever_compressor_is_configured() -> None:
    for writer in (SmallWindowZlib(), ZlibCompressor()):
        for reader in (SmallWindowZlib(), ZlibCompressor()):
            for event in (SHORT, LONG):
                stored = mapper(writer).to_stored_event(event)
                assert mapper(reader).to_domain_event(stored).text == event.text


def test_states_compressed_before_read_as_they_did() -> None:
    """Every state was compressed before (the library's format, as legacy rows are)."""
    legacy = Mapper(transcoder(), ZlibCompressor(), CIPHER)
    for event in (SHORT, LONG):
        assert mapper().to_domain_event(legacy.to_stored_event(event)).text == event.text
