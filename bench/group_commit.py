"""j. Group commit (issue 18): commands/s through the service's command path with 1, 8
and 32 writer threads, with group commit (the default) and without it (``GROUP_COMMIT=no``,
every save its own transaction), and with group commit but without the command cache
(``COMMAND_CACHE_MAXSIZE=0``: every command loads its organization through the library's
repository, a fast-forward query and a deep copy), against, in the same run:

- the peer: the eventsourcing library's own plain ``Application`` on PostgreSQL (its own
  recorder: lock, insert, commit per save), a two-field aggregate, load -> one event ->
  save, its aggregate cache on, with the same numbers of threads;
- the ceiling: single-row INSERT commits with raw psycopg on 1 and 8 connections (the
  table of bench/append.py);
- over HTTP: ``POST .../interviews`` under the production server (gunicorn,
  ``casefile serve``'s shape), group commit on and off (a server of each in turn).

All the in-process measurements alternate in rounds (the service in its three modes, the
peer, the ceiling, each number of threads in turn), and each figure is the median of its
rounds, so a change of the machine's load hits each alike and a ratio compares figures of
the same minutes. Each measurement of the service writes to organizations registered for
it (20 per writer thread), so that histories do not grow from one measurement to the
next; the peer's aggregates and the ceiling's table are the same throughout (their
writes do not grow with history).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import threading
import time
from typing import Callable, Iterator

import psycopg

from bench.append import raw_writers
from bench.common import (INTERVIEW, Context, Row, app_env, fresh_schema, rate,
                          register_orgs, staff_meta, stored_interview_size)

THREADS = (1, 8, 32)
PER_WRITER = 20  # aggregates per writer thread, round-robin
POOL = {"POSTGRES_POOL_SIZE": "10", "POSTGRES_MAX_OVERFLOW": "40"}


def run_threads(count: int, step: Callable[[int, int], None], seconds: float
                ) -> tuple[int, float, float]:
    """``count`` threads call ``step(thread, n)`` until the time is up; (calls, seconds,
    CPU seconds of this process meanwhile)."""
    done = [0] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count + 1)
    stop_at = [0.0]

    def worker(i: int) -> None:
        start.wait()
        n = 0
        try:
            while time.monotonic() < stop_at[0]:
                step(i, n)
                n += 1
        except BaseException as e:  # reported below
            errors.append(e)
        done[i] = n

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    started, cpu = time.perf_counter(), time.process_time()
    start.wait()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return sum(done), time.perf_counter() - started, time.process_time() - cpu


# ------------------------------------------------------------------ the library's peer

def plain_application(schema: str):
    """The library's own Application, nothing of ours: a two-field aggregate."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    from adapters.config import database_settings

    class Tally(Aggregate):
        def __init__(self, name: str):
            self.name = name
            self.count = 0

        @event("Counted")
        def count_one(self) -> None:
            self.count += 1

    class PlainApplication(Application):
        pass

    # (no cipher, no compression: the bench process's CIPHER_KEY would turn on the
    # library's default cipher)
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_SCHEMA": schema,
           "AGGREGATE_CACHE_MAXSIZE": "1000", "CIPHER_KEY": "", "CIPHER_TOPIC": "",
           "COMPRESSOR_TOPIC": "", **POOL, **database_settings()}
    return PlainApplication(env), Tally


@contextlib.contextmanager
def peer(url: str) -> Iterator[Callable[[int, float], tuple[int, float, float]]]:
    """The library's peer: ``measure(threads, seconds)``, each measurement on an
    application of its own, its cache warmed first, closed afterwards (its connections
    given back: with the service's three applications open, the peer's and theirs
    together exceeded a default server's 100 connections)."""
    with fresh_schema(url, "peer") as schema:
        app, tally = plain_application(schema)
        try:
            ids = []
            for i in range(max(THREADS) * PER_WRITER):
                aggregate = tally(f"tally {i}")
                app.save(aggregate)
                ids.append(aggregate.id)
        finally:
            app.close()

        def measure(k: int, seconds: float) -> tuple[int, float, float]:
            app, _ = plain_application(schema)
            try:
                def step(i: int, n: int) -> None:
                    aggregate = app.repository.get(ids[i * PER_WRITER + n % PER_WRITER])
                    aggregate.count_one()
                    app.save(aggregate)

                for aggregate_id in ids[:k * PER_WRITER]:  # its aggregate cache
                    app.repository.get(aggregate_id)
                run_threads(1, step, 0.5)  # warm-up: a connection, prepared statements
                return run_threads(k, step, seconds)
            finally:
                app.close()

        yield measure


def _rate(count: int, elapsed: float, cpu: float = 0.0) -> float:
    return count / elapsed if elapsed else 0.0


class Measured:
    """Commands/s and CPU per command (this process's), per number of threads."""

    def __init__(self) -> None:
        self.rates: dict[int, list[float]] = {}
        self.cpu: dict[int, list[float]] = {}

    def add(self, threads: int, count: int, elapsed: float, cpu: float) -> None:
        self.rates.setdefault(threads, []).append(_rate(count, elapsed))
        self.cpu.setdefault(threads, []).append(cpu / count if count else 0.0)

    def rate(self, threads: int) -> float:
        return statistics.median(self.rates[threads])

    def cpu_us(self, threads: int) -> float:
        return statistics.median(self.cpu[threads]) * 1e6


# ----------------------------------------------------------------- the service's path

class BatchSizes:
    """The group committer's batch sizes (its ``on_batch`` hook) while measuring."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def __call__(self, size: int) -> None:
        self.sizes.append(size)

    def mean(self) -> float:
        return statistics.fmean(self.sizes) if self.sizes else 0.0


MODES = ("off", "on", "nocache")


@contextlib.contextmanager
def service(url: str) -> Iterator[tuple[Callable[[str, int, float], tuple[int, float, float]],
                                        BatchSizes, int]]:
    """The service's command path, warmed up, group commit "on" and "off", and on without
    the command cache ("nocache"): ``measure(mode, threads, seconds)``, the batch sizes of
    its last measurement with group commit on, and the size of a stored interview."""
    from adapters.bootstrap import build_casefiles

    with fresh_schema(url, "groupcommit") as schema:
        apps = {"off": build_casefiles(env=app_env(schema, GROUP_COMMIT="no", **POOL)),
                "on": build_casefiles(env=app_env(schema, GROUP_COMMIT="yes", **POOL)),
                "nocache": build_casefiles(env=app_env(schema, GROUP_COMMIT="yes",
                                                       COMMAND_CACHE_MAXSIZE="0", **POOL))}
        sizes = BatchSizes()
        apps["on"].recorder.committer.on_batch = sizes
        try:
            registered = [0]

            def fresh(count: int) -> list[str]:
                """Organizations of their own for one measurement: each has one event
                to begin with and grows only during it (a command's first load of an
                organization costs more the longer its history)."""
                codes = register_orgs(apps["off"], count, start=registered[0] + 1)
                registered[0] += count
                return codes

            def measure(mode: str, k: int, seconds: float) -> tuple[int, float, float]:
                codes = fresh(k * PER_WRITER)
                sizes.sizes.clear()
                return run_threads(k, _interviews(apps[mode], codes), seconds)

            for app in apps.values():  # warm-up: connections, prepared SQL
                run_threads(1, _interviews(app, fresh(PER_WRITER)), 1.0)
            yield measure, sizes, stored_interview_size(url, schema)
        finally:
            for app in apps.values():
                app.close()


def _interviews(app, codes: list[str]) -> Callable[[int, int], None]:
    def step(i: int, n: int) -> None:
        app.execute(codes[i * PER_WRITER + n % PER_WRITER], "interview", meta=staff_meta(),
                    **INTERVIEW)
    return step


@contextlib.contextmanager
def insert_ceiling(url: str, blob: int) -> Iterator[Callable[[int, float], tuple[int, float]]]:
    """Single-row INSERT commits (bench/append.py's raw writers) of ``blob`` bytes (a
    stored interview event's size), warmed up: ``measure(connections, seconds)``."""
    with fresh_schema(url, "rawinsert") as schema:
        raw = f'"{schema}".raw_events'
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {raw} (originator_id uuid NOT NULL, "
                         "originator_version bigint NOT NULL, topic text, state bytea, "
                         "notification_id bigserial, "
                         "PRIMARY KEY (originator_id, originator_version))")
            conn.execute(f"CREATE UNIQUE INDEX ON {raw} (notification_id)")
        raw_writers(url, raw, 1, blob, 1.0)  # warm-up
        yield lambda k, seconds: raw_writers(url, raw, k, blob, seconds)


def in_process_rates(url: str, seconds: float, rounds: int
                     ) -> tuple[dict[str, Measured], Measured, dict[int, float],
                                dict[int, float]]:
    """The service's commands/s by mode and threads, the peer's by threads, the INSERT
    ceiling by connections (1 and 8) and the mean batch size with group commit on, all
    measured in the same rounds (medians)."""
    measured = {mode: Measured() for mode in MODES}
    library = Measured()
    inserts: dict[int, list[float]] = {1: [], 8: []}
    batches: dict[int, list[float]] = {k: [] for k in THREADS}
    with service(url) as (measure, sizes, blob), peer(url) as measure_peer, \
            insert_ceiling(url, blob) as measure_inserts:
        for n in range(rounds):
            for k in THREADS:
                # the order turns from round to round: none is always first after a pause
                for mode in (MODES + ("peer",))[n % 4:] + (MODES + ("peer",))[:n % 4]:
                    if mode == "peer":
                        library.add(k, *measure_peer(k, seconds))
                        continue
                    measured[mode].add(k, *measure(mode, k, seconds))
                    if mode == "on":
                        batches[k].append(sizes.mean())
            for k in inserts:
                inserts[k].append(_rate(*measure_inserts(k, seconds)))
    return (measured, library, {k: statistics.median(v) for k, v in inserts.items()},
            {k: statistics.fmean(v) for k, v in batches.items()})


# ----------------------------------------------------------------------- over HTTP

def http_rates(ctx: Context, seconds: float, rounds: int) -> dict[str, float]:
    """Commands/s over HTTP, group commit "on" and "off": a server of each in turn
    (medians of the rounds)."""
    from adapters.bootstrap import build_casefiles
    from bench.common import open_staff_account
    from bench.http import COMMAND_CONNECTIONS, load, server

    with fresh_schema(ctx.url, "gchttp") as schema:
        casefiles = build_casefiles(env=app_env(schema))
        try:
            codes = register_orgs(casefiles, 200)
            token = open_staff_account(casefiles)
        finally:
            casefiles.close()
        paths = [f"/api/v1/organizations/{c}/interviews" for c in codes]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = json.dumps(INTERVIEW, ensure_ascii=False)
        rates: dict[str, list[float]] = {"off": [], "on": []}
        for n in range(rounds):
            # one server at a time, each mode first in every other round: with both
            # servers up at once, the one started second measured about 0.7 x the other
            # whatever the modes (both without group commit: 170-213 against 234-243)
            for mode in ("off", "on")[::1 if n % 2 else -1]:
                with _environ(GROUP_COMMIT="no" if mode == "off" else "yes"), \
                        server(ctx.url, schema) as (base, _pid):
                    load(base, paths, method="POST", body=body, headers=headers,
                         connections=COMMAND_CONNECTIONS, seconds=2)  # warm-up
                    measured = load(base, paths, method="POST", body=body,
                                    headers=headers, connections=COMMAND_CONNECTIONS,
                                    seconds=seconds)
                if measured.errors:
                    raise RuntimeError(f"{measured.errors} commands failed over HTTP")
                rates[mode].append(measured.per_second)
        return {mode: statistics.median(r) for mode, r in rates.items()}


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ------------------------------------------------------------------------ the rows

def run(ctx: Context) -> list[Row]:
    seconds = ctx.seconds(2, 3)
    rounds = ctx.size(2, 5)  # short alternating measurements: the load drifts less between
    service, library, ceiling, batch = in_process_rates(ctx.url, seconds, rounds)
    try:
        over_http: dict[str, float] | None = http_rates(ctx, ctx.seconds(3, 5), rounds)
    except Exception as e:  # the in-process rows stand without it
        over_http, http_error = None, f"error: {type(e).__name__}: {e}"[:60]
    on, off, nocache = service["on"], service["off"], service["nocache"]
    library_rate = {k: library.rate(k) for k in THREADS}
    data = {"on": on.rates, "off": off.rates, "nocache": nocache.rates,
            "peer": library.rates, "insert": ceiling,
            "batch": batch, "http": over_http, "cpu_us": {
                "on": {k: on.cpu_us(k) for k in THREADS},
                "off": {k: off.cpu_us(k) for k in THREADS},
                "nocache": {k: nocache.cpu_us(k) for k in THREADS},
                "peer": {k: library.cpu_us(k) for k in THREADS}}}
    cmd = lambda r: rate(r, "cmd/s")  # noqa: E731

    def note(k: int) -> str:
        return (f"without group commit {cmd(off.rate(k))}; without the command cache "
                f"{cmd(nocache.rate(k))}; library {cmd(library_rate[k])}; "
                f"{batch[k]:.1f} commands per transaction; CPU per command {on.cpu_us(k):,.0f}"
                f" us (without group commit {off.cpu_us(k):,.0f}, without the command cache "
                f"{nocache.cpu_us(k):,.0f}, library {library.cpu_us(k):,.0f})")

    rows = [
        Row("j. group commit, 1 writer", cmd(on.rate(1)), f"{cmd(off.rate(1))} without",
            on.rate(1) / off.rate(1), "no slower", on.rate(1) / off.rate(1) >= 0.95,
            note=f"{note(1)}; INSERT ceiling {rate(ceiling[1], 'inserts/s')}; "
                 "'no slower' allows 5% for noise", data=data),
        Row("j. group commit, 8 writers", cmd(on.rate(8)), f"{cmd(library_rate[8])} library",
            on.rate(8) / library_rate[8], ">= 300%", on.rate(8) / library_rate[8] >= 3,
            note=note(8),
            data=data),
        Row("j. group commit, 8 writers", cmd(on.rate(8)), rate(ceiling[8], "inserts/s"),
            on.rate(8) / ceiling[8], ">= 50%", on.rate(8) / ceiling[8] >= 0.5,
            note="ceiling: single-row INSERT commits on 8 connections (median of the same "
                 "rounds)", data=data),
        Row("j. group commit, 32 writers", cmd(on.rate(32)), f"{cmd(library_rate[32])} library",
            on.rate(32) / library_rate[32], note=note(32), data=data),
    ]
    http_note = ("POST .../interviews, 16 connections, gunicorn 4 workers x 4 threads (each "
                 "worker commits its own threads' commands together)")
    if over_http is None:
        rows.append(Row("j. group commit over HTTP", http_error, note=http_note))
    else:
        rows.append(Row("j. group commit over HTTP", cmd(over_http["on"]),
                        f"{cmd(over_http['off'])} without", over_http["on"] / over_http["off"],
                        note=http_note, data=data))
    return rows


if __name__ == "__main__":  # python -m bench.group_commit: quick
    import sys

    from bench.run import main

    sys.exit(main(["--quick", "--only", "groupcommit"]))
