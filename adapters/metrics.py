"""The service's metrics, in the Prometheus text format through ``prometheus_client``.

Counted where they happen (each process its own, summed over the processes of a
``casefile serve`` or ``casefile run`` in multiprocess mode):

| metric | kind | labels |
|---|---|---|
| ``casefile_http_requests_total`` | counter | ``endpoint`` (the Flask url rule, e.g. ``/api/v1/organizations/<code>``; ``unmatched`` for a path no rule matched), ``method``, ``status`` |
| ``casefile_http_request_duration_seconds`` | histogram | the same |
| ``casefile_commands_recorded_total`` | counter | ``command`` (adapters/commands/catalog.py's name; idempotent replays not counted) |
| ``casefile_db_pool_connections`` | gauge (sum over live processes) | ``pool`` (``events``: the event store and sessions, ``views``: the read models), ``state`` (``size``, ``idle``, ``waiting``: requests waiting for a connection) |
| ``casefile_group_commit_batch_size`` | histogram | commands per shared commit: the hook for group commit (issue 18 item 1) to ``observe_group_commit_batch`` |

Read from the database at each scrape (adapters/web/metrics.py): the log's head, each
projection's and the relay's position and lag, and the audit verification's age.

Multiprocess mode: ``prometheus_client`` decides at import whether it runs in it (when
``PROMETHEUS_MULTIPROC_DIR`` is set), so it is imported here on first use, never at
import; ``casefile serve`` and ``casefile run`` set the folder (``prepare_multiprocess``)
before any process counts, and empty it at each start.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

# Buckets in seconds: a read answers in milliseconds, a command in tens of them, a full
# audit verification over HTTP in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
MULTIPROC_SETTING = "PROMETHEUS_MULTIPROC_DIR"

_lock = threading.Lock()
_defined: "Metrics | None" = None


class Metrics:
    """The metric objects of this process (built once, on first use)."""

    def __init__(self) -> None:
        # (prometheus_client picks its multiprocess mode when imported, from
        # start-up: PROMETHEUS_MULTIPROC_DIR, which the serving commands set first)
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter("casefile_http_requests", "HTTP requests answered",
                                ("endpoint", "method", "status"))
        self.latency = Histogram("casefile_http_request_duration_seconds",
                                 "time to answer an HTTP request",
                                 ("endpoint", "method", "status"), buckets=LATENCY_BUCKETS)
        self.commands = Counter("casefile_commands_recorded", "commands recorded",
                                ("command",))
        self.pool = Gauge("casefile_db_pool_connections", "database pool connections",
                          ("pool", "state"), multiprocess_mode="livesum")
        self.group_commit_batch_size = Histogram(
            "casefile_group_commit_batch_size", "commands recorded in one shared commit",
            buckets=BATCH_BUCKETS)


def defined() -> Metrics:
    global _defined
    if _defined is None:
        with _lock:
            if _defined is None:
                _defined = Metrics()
    return _defined


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    m = defined()
    labels = (endpoint, method, str(status))
    m.requests.labels(*labels).inc()
    m.latency.labels(*labels).observe(seconds)


def count_command(name: str) -> None:
    defined().commands.labels(name).inc()


def observe_group_commit_batch(size: int) -> None:
    """The hook for group commit: call once per shared commit with its command count."""
    defined().group_commit_batch_size.observe(size)


def observe_pools(pools: dict[str, list[Any]]) -> None:
    """Each pool group's connections (``psycopg_pool`` statistics, summed in a group)."""
    m = defined()
    for name, members in pools.items():
        size = idle = waiting = 0
        for pool in members:
            stats = pool.get_stats()
            size += stats.get("pool_size", 0)
            idle += stats.get("pool_available", 0)
            waiting += stats.get("requests_waiting", 0)
        m.pool.labels(name, "size").set(size)
        m.pool.labels(name, "idle").set(idle)
        m.pool.labels(name, "waiting").set(waiting)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_SETTING))


def prepare_multiprocess(folder: Path) -> Path:
    """Before the first process counts: the folder where every process writes its
    values, emptied (values of processes of an earlier start would count again), named
    in PROMETHEUS_MULTIPROC_DIR for this process and its children. An operator's own
    PROMETHEUS_MULTIPROC_DIR is used instead (its ``*.db`` files removed, nothing else)."""
    folder = Path(os.environ.get(MULTIPROC_SETTING) or folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # prometheus_client's files only, nothing else
        stale.unlink()
    os.environ[MULTIPROC_SETTING] = str(folder)
    return folder


def process_exited(pid: int) -> None:
    """A process of a multiprocess server ended (gunicorn's ``child_exit``): its live
    gauges stop counting."""
    if multiprocess():
        # start-up: as in Metrics (only a multiprocess server calls this)
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(pid)


def exposition(extra: list[Any]) -> tuple[bytes, str]:
    """Every metric of this service (all processes' in multiprocess mode) with the
    ``extra`` collectors (read at scrape time), in the text format, with its content
    type."""
    defined()
    # start-up: as in Metrics
    from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry,
                                   generate_latest)

    if multiprocess():
        # start-up: as in Metrics
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Everything(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Everything:
    """The default registry's metrics as one collector (so that a scrape's own
    collectors can be added beside them without registering them for good)."""

    def __init__(self, registry: Any):
        self.registry = registry

    def collect(self):
        return self.registry.collect()
