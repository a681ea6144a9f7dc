"""What the benchmarks share: the PostgreSQL they run on (a fresh embedded PostgreSQL in
var/bench-pgdata unless BENCH_DATABASE_URL names one), a fresh schema per benchmark, the
application's production environment, the machine's description, timing helpers and the
result table."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import platform
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg

from adapters.randomness import new_correlation_id
from domain.meta import Meta

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
BENCH_VAR = VAR / "bench"
PGDATA = VAR / "bench-pgdata"
DATABASE = "bench"


# --------------------------------------------------------------------- the results

@dataclass
class Row:
    """One line of the result table. ``ratio`` is figure / ceiling; ``passed`` is None
    when there is no target (or the benchmark was skipped)."""

    name: str
    figure: str
    ceiling: str = "-"
    ratio: float | None = None
    target: str = "-"
    passed: bool | None = None
    note: str = ""
    data: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "FAIL", None: "-"}[self.passed]


def print_row(row: Row) -> None:
    ratio = f"{row.ratio:.0%}" if row.ratio is not None else "-"
    print(f"  {row.name:34} {row.figure:>30} {row.ceiling:>26} {ratio:>6} {row.target:>14} "
          f"{row.verdict:>5}", flush=True)
    if row.note:
        print(f"  {'':34} {row.note}", flush=True)


def print_header() -> None:
    print(f"  {'benchmark':34} {'figure':>30} {'ceiling':>26} {'ratio':>6} {'target':>14} "
          f"{'':>5}")
    print("  " + "-" * 121, flush=True)


def print_table(rows: list[Row]) -> None:
    print_header()
    for row in rows:
        print_row(row)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| benchmark | figure | ceiling | ratio | target | result |",
             "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        ratio = f"{r.ratio:.0%}" if r.ratio is not None else "-"
        lines.append(f"| {r.name} | {r.figure} | {r.ceiling} | {ratio} | {r.target} | "
                     f"{r.verdict} |")
    return "\n".join(lines)


def save_results(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def row_dict(row: Row) -> dict:
    return {**asdict(row), "verdict": row.verdict}


# ----------------------------------------------------------------------- numbers

def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of the values; nan if none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(p / 100 * len(ordered) + 0.5))))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds == seconds else "n/a"


def rate(n: float, unit: str) -> str:
    return f"{n:,.0f} {unit}"


class Deadline:
    """A loop bound in time (and optionally in count)."""

    def __init__(self, seconds: float, count: int | None = None):
        self.end = time.monotonic() + seconds
        self.count = count
        self.done = 0

    def __bool__(self) -> bool:
        return time.monotonic() < self.end and (self.count is None or self.done < self.count)


# ------------------------------------------------------------------------ machine

def machine() -> dict[str, Any]:
    mem_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kb / 1024 ** 2, 1),
            "kernel": platform.release(), "python": platform.python_version()}


# ----------------------------------------------------------------------- database

_server = None


def database_url() -> str:
    """BENCH_DATABASE_URL, or the embedded server in var/bench-pgdata (database "bench")."""
    global _server
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    if _server is None:
        from adapters import embedded

        _server = embedded.database_uri(PGDATA, DATABASE, disposable=True)
    return _server


def pg_settings(url: str) -> dict[str, str]:
    names = ("server_version", "fsync", "synchronous_commit", "wal_sync_method",
             "full_page_writes", "shared_buffers", "max_connections", "wal_level")
    with psycopg.connect(url, autocommit=True) as conn:
        out = {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}
        out["version"] = conn.execute("SELECT version()").fetchone()[0]
    return out


def drop_leftover_schemas(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for (name,) in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'b\\_%'").fetchall():
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@contextlib.contextmanager
def fresh_schema(url: str, label: str, keep: bool = False) -> Iterator[str]:
    name = f"b_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        if not keep:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def configure_process(url: str) -> None:
    """Point the application's configuration (adapters.config) at the bench database,
    with its own keys and data folder: nothing touches var/pgdata or var/*.key."""
    os.environ["DATABASE_URL"] = url
    os.environ["CASEFILE_VAR"] = str(BENCH_VAR)
    os.environ.setdefault("CIPHER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("PSEUDONYM_KEY", secrets.token_urlsafe(24))
    os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def app_env(schema: str, **overrides: str) -> dict[str, str]:
    """The production environment (adapters.config.application_env) in this schema."""
    from adapters.config import application_env

    return application_env(POSTGRES_SCHEMA=schema, **overrides)


def events_table(schema: str) -> str:
    return f'"{schema}".casefile_events'


def stored_interview_size(url: str, schema: str) -> int:
    """The mean size in bytes of the interview events stored in this schema, as stored
    (sealed, and compressed if long enough): the row size of the raw INSERT ceilings."""
    with psycopg.connect(url, autocommit=True) as conn:
        return int(conn.execute(f"SELECT avg(octet_length(state)) FROM {events_table(schema)}"
                                " WHERE topic LIKE '%%InterviewHeld'").fetchone()[0])


def count_events(url: str, schema: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(f"SELECT count(*) FROM {events_table(schema)}").fetchone()[0]


# -------------------------------------------------------------------------- helpers

def staff_meta(effective=None, actor: str = "bench-staff"):
    """The meta of a bench command, as a request's would be: a new correlation id and
    today's date. (Its imports are the module's: three ``from ... import`` statements
    per call cost more than the rest of it, about 8 of 14 us a command, which the peer's
    commands do not pay.)"""
    return Meta(actor_id=actor, actor_role="registration_staff",
                effective_date=effective or date.today(),
                correlation_id=new_correlation_id(), reason="benchmark")


def org_code(n: int, category: str = "1") -> str:
    from domain.codes import make_credit_code

    return make_credit_code(category, "310110", f"MJ{n:07d}")


def register_orgs(casefiles, count: int, start: int = 1, jurisdiction: str = "310110001001"
                  ) -> list[str]:
    """Register ``count`` social associations (one save for all) and return their codes."""
    from decimal import Decimal

    from domain.organization import Organization

    orgs = []
    for n in range(start, start + count):
        meta = staff_meta(date(2020, 5, 1))
        orgs.append(Organization.register(
            code=org_code(n), name=f"杨浦区基准测试协会{n}", org_type="social_association",
            domicile={"address": "上海市杨浦区示例路1号", "jurisdiction": jurisdiction},
            business_scope="志愿服务", registered_funds=Decimal(30000), supervisory_unit=None,
            founded_on=date(2020, 5, 1), certificate_valid_until=date(2030, 4, 30), meta=meta))
    for i in range(0, len(orgs), 200):
        casefiles.save(*orgs[i:i + 200])
    return [o.identifier for o in orgs]


INTERVIEW = {"person_name": "张伟", "person_role": "法定代表人",
             "topics": ["年度检查中发现的问题", "财务管理不规范，需要整改"]}


def open_staff_account(casefiles, username: str = "bench-staff",
                       jurisdiction: str = "310110000000") -> str:
    """An account of registration staff for the district, and a token for it."""
    meta = Meta(actor_id="bench", actor_role="admin", effective_date=date.today(),
                correlation_id=str(uuid.uuid4()))
    casefiles.open_account(username=username, password=secrets.token_urlsafe(12),
                           display_name=username, role="registration_staff",
                           jurisdiction=jurisdiction, organization=None, meta=meta)
    return casefiles.issue_token(username, meta)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


@dataclass
class Context:
    """What every benchmark is given: the database, the mode, and where to put results."""

    url: str
    quick: bool
    extra: dict = field(default_factory=dict)

    def seconds(self, quick: float, full: float) -> float:
        return quick if self.quick else full

    def size(self, quick: int, full: int) -> int:
        return quick if self.quick else full
