"""The stored states' compressor (adapters.store.compression): what it writes, zlib and
the library's compressor read; what the library's wrote, it reads; it compresses about as
well."""

import json
import zlib

from eventsourcing.compressor import ZlibCompressor

from adapters.store.compression import SmallWindowZlib

EVENT = json.dumps({"timestamp": {"_type_": "datetime_iso", "_data_": "2026-12-07T09:05:04"},
                    "person_name": "张伟", "topics": ["年度检查中发现的问题"]},
                   ensure_ascii=False).encode()
SNAPSHOT = json.dumps({f"k{i}": {"date": f"2026-01-{i % 28 + 1:02d}", "v": "值" * (i % 7)}
                       for i in range(600)}, ensure_ascii=False).encode()


def test_what_it_writes_is_read_as_before_and_it_reads_what_was_written() -> None:
    ours, library = SmallWindowZlib(), ZlibCompressor()
    for data in (b"", EVENT, SNAPSHOT):
        assert zlib.decompress(ours.compress(data)) == data
        assert library.decompress(ours.compress(data)) == data
        assert ours.decompress(library.compress(data)) == data


def test_it_compresses_about_as_well_as_zlibs_defaults() -> None:
    for data in (EVENT, SNAPSHOT):
        assert len(SmallWindowZlib().compress(data)) <= 1.1 * len(zlib.compress(data))
