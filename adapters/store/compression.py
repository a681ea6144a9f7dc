"""How stored states are compressed: zlib, with a small window and little memory, and only
states of 1 KiB or more.

zlib's defaults (a 32 KiB window, memory level 8) allocate about 300 KB for each call
and clear it: for an event of a few hundred bytes that is most of the time (12 us
against 22 to 75 us, from one microbenchmark run to the next, for this project's
interview event, the same 317 bytes out). An 8 KiB window and memory level 3 allocate
about 36 KB; a stored event is rarely longer than the window, and a snapshot of tens of
kilobytes comes out as small (4,142 against 4,489 bytes for 36 KB of JSON). The output
is a zlib stream like any other (``zlib.decompress`` reads it), and this reads what the
library's compressor wrote.

A state under ``SMALL`` bytes is stored as it is. Python's zlib lets other threads run
while it compresses, and taking the interpreter back costs a busy process more than the
compression itself: with 8 threads saving commands, a compression took 66 us of its
thread's CPU (620 us of wall time) where it takes 12 to 23 us alone, about a fifth of a
command's CPU, to save 132 of the interview event's 449 bytes. Snapshots and large
events (annual reports, registrations with long texts) are still compressed. What is
stored uncompressed is told apart by its first byte: the JSON of a state is an object,
``{``, and a zlib stream never starts with it (its first byte's low four bits are 8, the
deflate method). So the states stored before this read as they did; a state stored
uncompressed is not read by the library's compressor, only by this one.
"""

from __future__ import annotations

import zlib

from eventsourcing.compressor import ZlibCompressor

LEVEL, WINDOW_BITS, MEMORY_LEVEL = 6, 13, 3
SMALL = 1024  # bytes: a state shorter than this is stored as it is
_JSON_OBJECT = b"{"


class SmallWindowZlib(ZlibCompressor):
    def compress(self, data: bytes) -> bytes:
        if len(data) < SMALL and data[:1] == _JSON_OBJECT:
            return data
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, WINDOW_BITS, MEMORY_LEVEL)
        return compressor.compress(data) + compressor.flush()

    def decompress(self, data: bytes) -> bytes:
        if data[:1] == _JSON_OBJECT:
            return data
        return super().decompress(data)
