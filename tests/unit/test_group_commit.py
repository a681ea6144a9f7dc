"""The group committer's queue (adapters.store.group_commit), with a commit function of
the test's own: who leads, what a batch holds, whose error is whose."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from adapters.store.group_commit import GroupCommitter, Write


def test_a_lone_save_commits_at_once_in_its_own_thread():
    seen = []

    def commit(batch: list[Write]) -> None:
        seen.append((threading.current_thread(), [w.stored_events for w in batch]))
        batch[0].positions = [7]

    committer = GroupCommitter(commit)
    assert committer.submit(["e"]) == [7]
    assert seen == [(threading.current_thread(), [["e"]])]
    assert committer.submit(["f"]) == [7] and len(seen) == 2


def test_saves_queued_behind_a_commit_go_together_in_the_next_each_with_its_answer():
    release = threading.Event()
    batches: list[list[str]] = []

    def commit(batch: list[Write]) -> None:
        batches.append([w.stored_events[0] for w in batch])
        if len(batches) == 1:
            release.wait(5)
        for w in batch:
            w.positions = [f"at {w.stored_events[0]}"]

    committer = GroupCommitter(commit)
    answers: dict[str, object] = {}

    def save(name: str) -> None:
        answers[name] = committer.submit([name])

    first = threading.Thread(target=save, args=("a",))
    first.start()
    while not batches:
        time.sleep(0.001)
    others = [threading.Thread(target=save, args=(n,)) for n in "bcde"]
    for t in others:
        t.start()
    while committer.queued < 4:
        time.sleep(0.001)
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert batches[0] == ["a"] and sorted(batches[1]) == ["b", "c", "d", "e"]
    assert len(batches) == 2
    assert answers == {n: [f"at {n}"] for n in "abcde"}


def test_one_saves_error_is_its_own_and_the_batchs_error_is_every_saves():
    def commit(batch: list[Write]) -> None:
        if any(w.stored_events == ["boom"] for w in batch):
            raise RuntimeError("the connection broke")
        for w in batch:
            if w.stored_events == ["conflict"]:
                w.fail(ValueError("conflict"))
            else:
                w.positions = [1]

    committer = GroupCommitter(commit)
    with pytest.raises(ValueError):
        committer.submit(["conflict"])
    with pytest.raises(RuntimeError):
        committer.submit(["boom"])
    assert committer.submit(["fine"]) == [1]  # the next leader is not stuck


def test_a_batch_holds_at_most_max_events_but_always_one_save():
    release = threading.Event()
    batches: list[list[int]] = []

    def commit(batch: list[Write]) -> None:
        batches.append([len(w.stored_events) for w in batch])
        if len(batches) == 1:
            release.wait(5)
        for w in batch:
            w.positions = []

    committer = GroupCommitter(commit, max_events=5)
    threads = [threading.Thread(target=committer.submit, args=(["x"] * n,))
               for n in (1, 3, 2, 9, 1)]
    threads[0].start()
    while not batches:
        time.sleep(0.001)
    for t in threads[1:]:
        t.start()
        while committer.queued < threads.index(t):
            time.sleep(0.001)
    release.set()
    for t in threads:
        t.join(5)
    assert batches == [[1], [3, 2], [9], [1]]


def test_on_batch_hears_each_batch_size_after_its_commit():
    sizes: list[int] = []

    def commit(batch: list[Write]) -> None:
        for w in batch:
            w.positions = []

    committer = GroupCommitter(commit, on_batch=sizes.append)
    committer.submit([])
    committer.submit(["e"])
    assert sizes == [1, 1]


def _blocking_commit(first_batches: int):
    """A commit function that holds its first ``first_batches`` batches until released;
    it notes each batch's saves and the thread that committed it."""
    releases = [threading.Event() for _ in range(first_batches)]
    batches: list[tuple[list[str], str]] = []

    def commit(batch: list[Write]) -> None:
        batches.append(([w.stored_events[0] for w in batch], threading.current_thread().name))
        if len(batches) <= first_batches:
            releases[len(batches) - 1].wait(5)
        for w in batch:
            w.positions = [f"at {w.stored_events[0]}"]

    return commit, batches, releases


def _wait(condition) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def _writers(committer: GroupCommitter, names: str
             ) -> tuple[dict[str, threading.Thread], dict[str, object]]:
    """A thread per name (``writer <name>``) that submits a save of that name, not started,
    and the answers they get, by name."""
    answers: dict[str, object] = {}

    def save(name: str) -> None:
        answers[name] = committer.submit([name])

    return ({n: threading.Thread(target=save, args=(n,), name=f"writer {n}") for n in names},
            answers)


def test_under_load_the_committer_thread_commits_and_a_save_is_answered_after_its_own_batch():
    commit, batches, releases = _blocking_commit(2)
    committer = GroupCommitter(commit)
    threads, answers = _writers(committer, "abc")
    threads["a"].start()
    _wait(lambda: len(batches) == 1)
    threads["b"].start()
    threads["c"].start()
    _wait(lambda: committer.queued == 2)
    releases[0].set()  # a's transaction ends with b and c queued
    threads["a"].join(5)
    # a has its answer while b and c's transaction is still under way
    assert answers == {"a": ["at a"]}
    _wait(lambda: len(batches) == 2)
    assert batches[0] == (["a"], "writer a")
    assert sorted(batches[1][0]) == ["b", "c"] and batches[1][1] == "group-commit"
    assert set(answers) == {"a"}  # b and c are not answered yet
    releases[1].set()
    for t in threads.values():
        t.join(5)
    assert answers == {n: [f"at {n}"] for n in "abc"}
    # the queue is empty again: a lone save commits at once in its own thread
    assert committer.submit(["d"]) == ["at d"]
    assert batches[-1] == (["d"], threading.current_thread().name)


def test_the_committer_thread_goes_on_while_saves_keep_queuing_each_answered_once():
    written: list[str] = []

    def commit(batch: list[Write]) -> None:
        time.sleep(0.002)
        for w in batch:
            written.append(w.stored_events[0])
            w.positions = [len(written)]

    committer = GroupCommitter(commit)
    answers: dict[str, list] = {}

    def writer(i: int) -> None:
        answers[i] = [committer.submit([f"{i}-{n}"]) for n in range(30)]

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(written) == sorted(f"{i}-{n}" for i in range(8) for n in range(30))
    for i in range(8):  # each save its own position, in its thread's order
        positions = [p[0] for p in answers[i]]
        assert positions == sorted(positions)
        assert [written[p - 1] for p in positions] == [f"{i}-{n}" for n in range(30)]
    assert not committer._leading and committer.queued == 0


def _two_queued_behind_one(committer: GroupCommitter, batches: list, release: threading.Event,
                           names: str) -> None:
    """The first of ``names`` commits alone (held until ``release``); the other two queue
    behind it; then the commit is released, and every save is answered."""
    threads = list(_writers(committer, names)[0].values())
    threads[0].start()
    _wait(lambda: len(batches) == 1)
    for t in threads[1:]:
        t.start()
    _wait(lambda: committer.queued == 2)
    release.set()
    for t in threads:
        t.join(5)


# the fork is the point: the parent has threads running (Python 3.12+ warns of it)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_starts_a_committer_thread_of_its_own():
    commit, batches, releases = _blocking_commit(1)
    committer = GroupCommitter(commit)
    _two_queued_behind_one(committer, batches, releases[0], "abc")
    assert sorted(batches[1][0]) == ["b", "c"] and batches[1][1] == "group-commit"

    pid = os.fork()
    if pid == 0:  # the child: the same again, with the parent's thread gone
        code = 1
        try:
            signal.alarm(5)
            child_commit, child_batches, child_releases = _blocking_commit(1)
            committer.commit = child_commit
            _two_queued_behind_one(committer, child_batches, child_releases[0], "def")
            code = 0 if (sorted(child_batches[1][0]), child_batches[1][1]) == (
                ["e", "f"], "group-commit") else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_single_save_queued_behind_a_commit_commits_next_in_its_own_thread():
    commit, batches, releases = _blocking_commit(1)
    committer = GroupCommitter(commit)
    threads, answers = _writers(committer, "ab")
    threads["a"].start()
    _wait(lambda: len(batches) == 1)
    threads["b"].start()
    _wait(lambda: committer.queued == 1)
    releases[0].set()
    for t in threads.values():
        t.join(5)
    # one save queued: no committer thread woken for it (a second wake-up), it commits
    # its own batch, as the first did
    assert batches == [(["a"], "writer a"), (["b"], "writer b")]
    assert answers == {"a": ["at a"], "b": ["at b"]}
    assert committer._thread is None
