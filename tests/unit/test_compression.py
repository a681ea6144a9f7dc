"""The stored states' compressor (adapters.store.compression): a large state is a zlib
stream that zlib and the library's compressor read; a small one is stored as it is; it
reads both, and what the library's compressor wrote; it compresses about as well as
zlib's defaults."""

import json
import zlib

from eventsourcing.compressor import ZlibCompressor

from adapters.store.compression import SMALL, SmallWindowZlib

EVENT = json.dumps({"timestamp": {"_type_": "datetime_iso", "_data_": "2026-12-07T09:05:04"},
                    "person_name": "张伟", "topics": ["年度检查中发现的问题"]},
                   ensure_ascii=False).encode()
SNAPSHOT = json.dumps({f"k{i}": {"date": f"2026-01-{i % 28 + 1:02d}", "v": "值" * (i % 7)}
                       for i in range(600)}, ensure_ascii=False).encode()


def test_a_large_state_is_a_zlib_stream_and_a_small_one_is_stored_as_it_is() -> None:
    ours, library = SmallWindowZlib(), ZlibCompressor()
    assert len(EVENT) < SMALL <= len(SNAPSHOT)
    assert ours.compress(EVENT) == EVENT
    assert zlib.decompress(ours.compress(SNAPSHOT)) == SNAPSHOT
    assert library.decompress(ours.compress(SNAPSHOT)) == SNAPSHOT
    for data in (EVENT, SNAPSHOT):
        assert ours.decompress(ours.compress(data)) == data


def test_it_reads_what_the_library_compressed_small_or_large() -> None:
    ours, library = SmallWindowZlib(), ZlibCompressor()
    for data in (b"", b"{}", EVENT, SNAPSHOT):
        assert ours.decompress(library.compress(data)) == data


def test_no_zlib_stream_starts_like_a_json_object() -> None:
    """How a small state is told apart: a zlib stream's first byte is never ``{``."""
    for wbits in range(9, 16):
        for level in (0, 1, 6, 9):
            for data in (b"", b"{}", EVENT):
                compressor = zlib.compressobj(level, zlib.DEFLATED, wbits)
                first = (compressor.compress(data) + compressor.flush())[:1]
                assert first != b"{" and first[0] & 0x0F == 8


def test_it_compresses_about_as_well_as_zlibs_defaults() -> None:
    big_event = json.dumps({"report": "年度工作报告" * 200}, ensure_ascii=False).encode()
    for data in (big_event, SNAPSHOT):
        assert len(data) >= SMALL
        assert len(SmallWindowZlib().compress(data)) <= 1.1 * len(zlib.compress(data))
