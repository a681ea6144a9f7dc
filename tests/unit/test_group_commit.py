"""The group committer's queue (adapters.store.group_commit), with a commit function of
the test's own: who leads, what a batch holds, whose error is whose."""

from __future__ import annotations

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
