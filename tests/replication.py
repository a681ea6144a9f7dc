"""A PostgreSQL primary and a hot standby on loopback, for the read-replica tests, from
the embedded PostgreSQL's own programs (``adapters.embedded.binaries``):
``initdb`` for the primary, ``pg_basebackup -R`` (streaming replication) for the standby.

Ports: TEST_PG_PRIMARY_PORT (default 25490) and TEST_PG_REPLICA_PORT (25491), on
127.0.0.1 only; data and logs in TEST_PG_REPLICATION_VAR (var/replication-test), deleted
and made afresh by ``start``. As root (PostgreSQL refuses to run as root) the servers run
as the embedded servers' own user (``adapters.embedded.system_user``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from adapters import embedded

ROOT = Path(__file__).resolve().parent.parent


class ReplicatedPostgres:
    def __init__(self) -> None:
        self.primary_port = int(os.environ.get("TEST_PG_PRIMARY_PORT", "25490"))
        self.replica_port = int(os.environ.get("TEST_PG_REPLICA_PORT", "25491"))
        var = Path(os.environ.get("TEST_PG_REPLICATION_VAR", "var/replication-test"))
        self.var = var if var.is_absolute() else ROOT / var
        self.primary_dir, self.replica_dir = self.var / "primary", self.var / "replica"
        self.bin = embedded.binaries()
        self.user = embedded.system_user()

    def url(self, port: int) -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """A fresh primary, a base backup of it as a streaming standby, both running."""
        self.stop()
        shutil.rmtree(self.var, ignore_errors=True)
        self.var.mkdir(parents=True)
        if self.user:
            shutil.chown(self.var, self.user)
        self._run("initdb", "-D", self.primary_dir, "--auth=trust", "--encoding=utf8",
                  "-U", "postgres")
        with open(self.primary_dir / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.primary_port}\n"
                       f"unix_socket_directories = ''\nwal_level = replica\n"
                       "max_wal_senders = 4\nfsync = off\nshared_buffers = 32MB\n")
        self._pg_ctl(self.primary_dir, "start")
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U",
                  "postgres", "-D", self.replica_dir, "-R", "-X", "stream", "-c", "fast")
        with open(self.replica_dir / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.replica_port}\nhot_standby = on\n")
        self.start_replica()

    def start_replica(self) -> None:
        self._pg_ctl(self.replica_dir, "start")
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.replica_url, connect_timeout=2) as conn:
                    if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
            except psycopg.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not accept connections within 30 s")
            time.sleep(0.1)

    def stop_replica(self) -> None:
        self._pg_ctl(self.replica_dir, "stop", "-m", "fast")

    def stop(self) -> None:
        """Stop both servers if they run (a run that died may have left them)."""
        for data in (self.replica_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                self._pg_ctl(data, "stop", "-m", "immediate", check=False)

    # ------------------------------------------------------------- the standby

    def pause_replay(self) -> None:
        """The standby keeps receiving the primary's log but applies none of it."""
        with psycopg.connect(self.replica_url, autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with psycopg.connect(self.replica_url, autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    def wait_replayed(self, seconds: float = 30) -> None:
        """Until the standby has applied everything the primary has written so far."""
        with psycopg.connect(self.primary_url, autocommit=True) as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + seconds
        with psycopg.connect(self.replica_url, autocommit=True) as conn:
            while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                   (target,)).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise RuntimeError("the standby did not catch up")
                time.sleep(0.02)

    # ----------------------------------------------------------------- helpers

    def _pg_ctl(self, data: Path, *args: str, check: bool = True) -> None:
        self._run("pg_ctl", "-D", data, "-w", "-t", "60", "-l", data.parent /
                  f"{data.name}.log", *args, check=check)

    def _run(self, program: str, *args: object, check: bool = True) -> None:
        result = subprocess.run([str(self.bin / program), *map(str, args)], user=self.user,
                                cwd=self.var if self.var.exists() else None,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}):\n{result.stdout}"
                               f"{result.stderr}")
