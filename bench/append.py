"""a. Append: events/s recorded through the application, one command per event, against
single-row INSERT transactions into a table of the same shape with raw psycopg."""

from __future__ import annotations

import os
import threading
import time
import uuid

import psycopg

from bench.common import (INTERVIEW, Context, Row, app_env, fresh_schema, ms, percentile,
                          rate, register_orgs, staff_meta, stored_interview_size)

ORGS_PER_WRITER = 20
WRITERS = 8


def app_writers(casefiles, codes_per_writer: list[list[str]], seconds: float
                ) -> tuple[int, float, list[float]]:
    """Each writer thread runs interview commands round-robin over its own organizations
    until the time is up; returns (events, elapsed, latencies)."""
    latencies: list[list[float]] = [[] for _ in codes_per_writer]
    counts = [0] * len(codes_per_writer)
    errors: list[BaseException] = []
    start = threading.Barrier(len(codes_per_writer) + 1)
    stop_at = [0.0]

    def writer(i: int) -> None:
        codes = codes_per_writer[i]
        start.wait()
        n = 0
        try:
            while time.monotonic() < stop_at[0]:
                t0 = time.perf_counter()
                casefiles.execute(codes[n % len(codes)], "interview", meta=staff_meta(),
                                  **INTERVIEW)
                latencies[i].append(time.perf_counter() - t0)
                n += 1
        except BaseException as e:  # reported below
            errors.append(e)
        counts[i] = n

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(codes_per_writer))]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    started = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return sum(counts), elapsed, [x for ls in latencies for x in ls]


def raw_writers(url: str, table: str, writers: int, blob: int, seconds: float
                ) -> tuple[int, float]:
    """Single-row INSERT transactions (autocommit), each writer on its own connection."""
    counts = [0] * writers
    start = threading.Barrier(writers + 1)
    stop_at = [0.0]
    topic = "domain.organization:Organization.InterviewHeld"
    statement = (f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                 "VALUES (%s, %s, %s, %s)")

    def writer(i: int) -> None:
        ids = [uuid.uuid4() for _ in range(ORGS_PER_WRITER)]
        versions = [0] * len(ids)
        with psycopg.connect(url, autocommit=True) as conn:
            start.wait()
            n = 0
            while time.monotonic() < stop_at[0]:
                k = n % len(ids)
                versions[k] += 1
                conn.execute(statement, (ids[k], versions[k], topic, os.urandom(blob)),
                             prepare=True)
                n += 1
        counts[i] = n

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    started = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    return sum(counts), time.perf_counter() - started


def run(ctx: Context) -> list[Row]:
    from adapters.bootstrap import build_casefiles

    seconds = ctx.seconds(3, 6)
    rows = []
    with fresh_schema(ctx.url, "append") as schema:
        casefiles = build_casefiles(env=app_env(schema))
        try:
            codes = register_orgs(casefiles, ORGS_PER_WRITER * WRITERS)
            groups = [codes[i * ORGS_PER_WRITER:(i + 1) * ORGS_PER_WRITER]
                      for i in range(WRITERS)]
            app_writers(casefiles, [groups[0]], 1.0)  # warm-up: connections, prepared SQL
            one, one_s, one_lat = app_writers(casefiles, [groups[0]], seconds)
            many, many_s, _ = app_writers(casefiles, groups, seconds)
        finally:
            casefiles.close()
        blob = stored_interview_size(ctx.url, schema)
        with psycopg.connect(ctx.url, autocommit=True) as conn:
            raw = f'"{schema}".raw_events'
            conn.execute(f"CREATE TABLE {raw} (originator_id uuid NOT NULL, "
                         "originator_version bigint NOT NULL, topic text, state bytea, "
                         "notification_id bigserial, "
                         "PRIMARY KEY (originator_id, originator_version))")
            conn.execute(f"CREATE UNIQUE INDEX ON {raw} (notification_id)")
        raw_writers(ctx.url, raw, 1, blob, 1.0)  # warm-up
        raw1, raw1_s = raw_writers(ctx.url, raw, 1, blob, seconds)
        raw8, raw8_s = raw_writers(ctx.url, raw, WRITERS, blob, seconds)

    app1, app8 = one / one_s, many / many_s
    ceil1, ceil8 = raw1 / raw1_s, raw8 / raw8_s
    rows.append(Row("a. append, 1 writer", rate(app1, "events/s"),
                    rate(ceil1, "inserts/s"), app1 / ceil1, ">= 60%", app1 / ceil1 >= 0.6,
                    note=(f"command latency p50 {ms(percentile(one_lat, 50))}, p99 "
                          f"{ms(percentile(one_lat, 99))}; stored event {blob} bytes "
                          "(AES-GCM; zlib from 1 KiB)"),
                    data={"events_per_s": app1, "ceiling": ceil1, "blob": blob,
                          "p50": percentile(one_lat, 50), "p99": percentile(one_lat, 99)}))
    rows.append(Row(f"a. append, {WRITERS} writer threads", rate(app8, "events/s"),
                    rate(ceil8, "inserts/s"), app8 / ceil8,
                    note=f"{WRITERS} threads in one process, {ORGS_PER_WRITER} "
                         "organizations each; raw ceiling on 8 connections",
                    data={"events_per_s": app8, "ceiling": ceil8}))
    return rows
