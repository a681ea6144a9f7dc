"""How stored states are compressed: zlib, with a small window and little memory.

zlib's defaults (a 32 KiB window, memory level 8) allocate about 300 KB for each call
and clear it: for an event of a few hundred bytes that is most of the time (12 us
against 22 to 75 us, from one microbenchmark run to the next, for this project's
interview event, the same 317 bytes out). An 8 KiB window and memory level 3 allocate
about 36 KB; a stored event is rarely longer than the window, and a snapshot of tens of
kilobytes comes out as small (4,142 against 4,489 bytes for 36 KB of JSON). The output
is a zlib stream like any other: ``zlib.decompress`` reads it, and this reads what the
library's compressor wrote.

With the cipher on (as in every deployment) only states of 1 KiB or more reach it: the
mapper stores shorter ones as they are (``RowBoundMapper.COMPRESS_FROM``,
adapters.store.mapper), for which the compression cost a busy process more than it
saved.
"""

from __future__ import annotations

import zlib

from eventsourcing.compressor import ZlibCompressor

LEVEL, WINDOW_BITS, MEMORY_LEVEL = 6, 13, 3


class SmallWindowZlib(ZlibCompressor):
    def compress(self, data: bytes) -> bytes:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, WINDOW_BITS, MEMORY_LEVEL)
        return compressor.compress(data) + compressor.flush()
