"""Random bytes fetched in bulk (adapters.randomness): never the same bytes twice, in one
thread, across threads, or in a forked child and its parent."""

import os
import threading
import uuid

import pytest

from adapters import randomness
from adapters.randomness import BULK, new_correlation_id, random_bytes


def test_no_bytes_are_handed_out_twice_in_a_thread_or_across_threads() -> None:
    seen: list[bytes] = []

    def draw() -> None:
        seen.extend(random_bytes(12) for _ in range(2 * BULK // 12))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    draw()
    assert len(seen) == 5 * (2 * BULK // 12) and len(set(seen)) == len(seen)
    assert len(random_bytes(BULK + 1)) == BULK + 1


# the fork is the point: the parent has threads running (Python 3.12+ warns of it)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_does_not_hand_out_its_parents_next_bytes() -> None:
    randomness._forget_in_child()
    random_bytes(1)  # the parent holds a fresh buffer, its next bytes in it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first nonce
        os.write(write, random_bytes(12))
        os._exit(0)
    os.close(write)
    child = os.read(read, 12)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 12 and child != random_bytes(12)


def test_a_correlation_id_is_a_random_uuid() -> None:
    ids = {new_correlation_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)
