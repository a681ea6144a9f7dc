"""The production web server: gunicorn serving ``adapters.web.create_app()``.

``casefile serve`` runs it, and so does ``casefile run`` (as a child process beside the
worker and the relay: adapters/cli/supervisor.py, with ``run_config`` below). The master process resolves the configuration once (it starts
the embedded PostgreSQL when no DATABASE_URL is set, and creates the key files in ``var/``
if they are missing), then forks the workers; each worker builds its own application
(its own CaseFiles, connection pools and read-model views) after the fork, never at
import and never in the master, so no database connection is shared across processes.

Run the projections and the Kafka relay as separate processes (``casefile worker``,
``casefile relay``): the web workers only record commands and read the read models.

| setting | default | meaning |
|---|---|---|
| WEB_WORKERS | ``2 * cores`` | worker processes |
| WEB_THREADS | ``4`` | threads per worker (gthread worker class when above 1) |
| WEB_TIMEOUT | ``30`` | seconds a request may take before its worker is restarted |
| WEB_MAX_REQUESTS | ``0`` (never) | restart a worker after this many requests (with jitter) |
| WEB_DATABASE_TIMEOUT | ``2`` | seconds a request waits for a database connection before it answers 503 (the web processes' ``POSTGRES_CONNECT_TIMEOUT``) |
| WEB_BOOT_WAIT | ``60`` | seconds the master waits for the database at start before it gives up |
| SESSION_COOKIE_SECURE | ``yes`` | cookies sent over HTTPS only (``no`` for plain HTTP on a trusted network) |

Neither server names its version (``Server: gunicorn``, ``Server: casefile``) or logs a
query string (a search for an identity number would land in the log).

During a database outage (bug B and D of docs/RELIABILITY.md) requests answer 503 with
Retry-After within about ``WEB_DATABASE_TIMEOUT`` seconds: the web processes wait that
long for a pooled connection and their recorders do not take the library's ten retries
(``adapters.store.recorder.answer_quickly``). A worker that (re)boots while the database
is down retries building its application with back-off instead of exiting with gunicorn's
boot error, which would stop the whole server.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from importlib import import_module
from typing import Any, Callable

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresRecorder
from gunicorn.app.base import BaseApplication

from adapters import config, metrics
from adapters.store.recorder import answer_quickly as quicken
from adapters.web import close_app, create_app

log = logging.getLogger(__name__)

DEFAULT_THREADS = 4
DEFAULT_DATABASE_TIMEOUT = "2"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
# gunicorn's default access-log line without the query string (%(U)s is the path only)
# and without the referrer (which may hold one).
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)ss'
AppFactory = Callable[[], Any]


def default_workers() -> int:
    return 2 * (os.cpu_count() or 1)


def _resolve(factory: "str | AppFactory | None") -> AppFactory:
    if factory is None:
        return create_app
    if callable(factory):
        return factory
    module, _, name = factory.partition(":")
    return getattr(import_module(module), name or "create_app")


def prepare_environment() -> None:
    """In the master, before the fork: settle what every worker must agree on.

    Without DATABASE_URL the embedded server is started here, once, and its address is
    handed to the workers in DATABASE_URL (each worker starting it would race). The key
    files are created here too: workers creating ``var/cipher.key`` concurrently would
    race on its exclusive create."""
    # Read by the library for every pool these processes open: how long a request waits
    # for a connection. The worker and the relay (other processes) keep their own.
    os.environ["POSTGRES_CONNECT_TIMEOUT"] = os.environ.get("WEB_DATABASE_TIMEOUT",
                                                            DEFAULT_DATABASE_TIMEOUT)
    if not os.environ.get("DATABASE_URL") and not (os.environ.get("POSTGRES_DBNAME")
                                                   and os.environ.get("POSTGRES_HOST")):
        os.environ["DATABASE_URL"] = config.embedded_database_url()
    config.cipher_key()
    config.pseudonym_key()
    config.session_cookie_secure(default=True)  # a wrong value stops here, not each worker


def prepare_database(app_factory: "str | AppFactory | None" = None) -> None:
    """In the master, before the fork: build the application once so that it creates its
    tables (event store, read models, relay tracking), then release it, and tell the
    workers not to create them again (CREATE_TABLE=no). Workers booting at the same time
    would otherwise race each other's CREATE TABLE / CREATE TYPE / CREATE OR REPLACE
    FUNCTION statements ("duplicate key value violates unique constraint
    pg_type_typname_nsp_index") and fail to boot. It also fails fast, in the master, when
    the database is unreachable: after ``WEB_BOOT_WAIT`` seconds of retrying."""
    give_up_at = time.monotonic() + float(os.environ.get("WEB_BOOT_WAIT", "60"))
    app = build_app(app_factory, give_up_at=give_up_at)
    for candidate in _unwrap(app):
        _close(candidate)
    os.environ["CREATE_TABLE"] = "no"


def _database_errors() -> tuple[type[Exception], ...]:
    return (OperationalError, InterfaceError, psycopg.OperationalError,
            psycopg.InterfaceError)


def build_app(app_factory: "str | AppFactory | None" = None, *,
              give_up_at: float | None = None,
              heartbeat: Callable[[], None] = lambda: None) -> Any:
    """Build the WSGI app for a web process, retrying with back-off while the database
    cannot be reached (until ``give_up_at``, a monotonic time, or for ever), make the
    recorders of its applications answer quickly during an outage, and their cookies
    Secure by default."""
    factory, delay, attempt = _resolve(app_factory), 0.5, 1
    while True:
        try:
            app = factory()
            break
        except _database_errors() as e:
            if give_up_at is not None and time.monotonic() + delay > give_up_at:
                raise
            log.warning("building the application failed (attempt %d: %s: %s); the "
                        "database is unreachable, retrying in %.1fs", attempt,
                        type(e).__name__, str(e).strip().splitlines()[0] if str(e) else "",
                        delay)
        # out of the except block, where the traceback still held it: the half-built
        # application's pools close when it is collected
        gc.collect()
        _sleep(delay, heartbeat)
        delay, attempt = min(delay * 2, 10.0), attempt + 1
    if attempt > 1:
        log.warning("application built at attempt %d: the database is back", attempt)
    for flask_app in _unwrap(app):
        answer_quickly(flask_app)
        # Production cookies are Secure unless SESSION_COOKIE_SECURE=no.
        flask_app.config["SESSION_COOKIE_SECURE"] = config.session_cookie_secure(default=True)
    return app


def _sleep(seconds: float, heartbeat: Callable[[], None]) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        heartbeat()
        time.sleep(min(left, 1.0))


def answer_quickly(flask_app: Any) -> None:
    """Every recorder a request reaches fails fast when the database is away (see
    ``adapters.store.recorder.answer_quickly``): the event store, the snapshots, the read
    models' tracking and the relay's tracking."""
    casefiles = flask_app.extensions.get("casefiles")
    recorders = [getattr(casefiles, "recorder", None),
                 getattr(getattr(casefiles, "snapshots", None), "recorder", None),
                 *flask_app.extensions.get("read_models", {}).values(),
                 flask_app.extensions.get("relay_tracking")]
    for recorder in recorders:
        if isinstance(recorder, PostgresRecorder):
            quicken(recorder)


def _unwrap(app: Any) -> list[Any]:
    """The Flask app(s) inside a WSGI app: itself, or those a DispatcherMiddleware wraps."""
    found = [app]
    inner = getattr(app, "app", None)
    if inner is not None:
        found.append(inner)
    found.extend(getattr(app, "mounts", {}).values())
    return [a for a in found if isinstance(getattr(a, "extensions", None), dict)]


def _close(flask_app: Any) -> None:
    if "casefiles" not in flask_app.extensions:
        return
    close_app(flask_app)
    flask_app.extensions["casefiles"].close()


class CaseFileServer(BaseApplication):
    """A gunicorn application whose WSGI app is built in each worker after the fork."""

    def __init__(self, options: dict[str, Any] | None = None,
                 app_factory: "str | AppFactory | None" = None):
        self.options = dict(options or {})
        self.app_factory = app_factory
        self.application: Any = None
        super().__init__()

    def load_config(self) -> None:
        settings = self.cfg.settings
        for key, value in self.options.items():
            if key in settings and value is not None:
                self.cfg.set(key, value)
        # The app is never preloaded: load() runs in each worker after the fork.
        self.cfg.set("preload_app", False)
        self.cfg.set("post_fork", _post_fork)
        self.cfg.set("worker_exit", _worker_exit)
        self.cfg.set("child_exit", _child_exit)

    def load(self) -> Any:
        # gunicorn calls this in the worker (preload_app is off), after post_fork. While
        # the database is down it retries (telling the master it is alive); raising would
        # end the worker with gunicorn's boot error, on which the master halts.
        self.application = build_app(self.app_factory, heartbeat=_heartbeat)
        _loaded.append(self.application)
        return self.application


_loaded: list[Any] = []  # the application built in this worker process
_this_worker: list[Any] = []  # the gunicorn worker object of this process


def _post_fork(server: Any, worker: Any) -> None:
    server.log.info("worker %s forked; building its application", worker.pid)
    _this_worker[:] = [worker]


def _heartbeat() -> None:
    """While a worker waits for the database: tell the master it is alive (or it would
    be killed as timed out), and leave when it is asked to stop."""
    for worker in _this_worker:
        if not worker.alive:
            sys.exit(0)
        worker.notify()


def _worker_exit(server: Any, worker: Any) -> None:
    """Release the worker's connections when it stops."""
    for app in _loaded:
        for flask_app in _unwrap(app):
            try:
                _close(flask_app)
            except Exception as e:  # shutting down: log and go on
                server.log.warning("closing the application failed: %s", e)


def control_socket(port: int) -> dict[str, Any]:
    path = config.var_dir() / f"gunicorn-{port}.ctl"
    if len(str(path)) > 100:  # past a Unix socket's path limit: none
        return {"control_socket_disable": True}
    return {"control_socket": str(path)}


def _child_exit(server: Any, worker: Any) -> None:
    """In the master, when a worker ended: its live gauges (pool use) stop counting."""
    metrics.process_exited(worker.pid)


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int | None = None,
          threads: int | None = None, *, app_factory: "str | AppFactory | None" = None,
          **options: Any) -> None:
    """Serve the JSON API with gunicorn until stopped (SIGTERM or SIGINT: graceful).

    ``workers`` defaults to ``WEB_WORKERS`` or twice the cores, ``threads`` to
    ``WEB_THREADS`` or 4; ``app_factory`` (a callable or ``"module:function"``) replaces
    ``adapters.web:create_app``; other keyword arguments are gunicorn settings."""
    workers = workers or int(os.environ.get("WEB_WORKERS", 0)) or default_workers()
    threads = threads or int(os.environ.get("WEB_THREADS", 0)) or DEFAULT_THREADS
    if not os.environ.get("CASEFILE_SUPERVISOR_PID"):  # casefile run prepared it already
        metrics.prepare_multiprocess(config.var_dir() / "prometheus")
    prepare_environment()
    prepare_database(app_factory)
    settings = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": int(os.environ.get("WEB_TIMEOUT", "30")),
        "graceful_timeout": 20,
        "keepalive": 5,
        "max_requests": int(os.environ.get("WEB_MAX_REQUESTS", "0")),
        "max_requests_jitter": int(os.environ.get("WEB_MAX_REQUESTS", "0")) // 10,
        "accesslog": os.environ.get("WEB_ACCESS_LOG") or None,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": os.environ.get("LOG_LEVEL", "info").lower(),
        "proc_name": "casefile-web",
        # A request body is at most 64 KiB (adapters.web.MAX_BODY_BYTES); headers small.
        "limit_request_field_size": 8190,
        # gunicorn's control socket (gunicornc) in var/, one per port: its default in
        # $HOME is shared by every gunicorn of the user, and a second server took it over
        **control_socket(port),
    }
    settings.update(options)
    log.info("serving on http://%s:%s with %d workers x %d threads", host, port, workers,
             threads)
    CaseFileServer(settings, app_factory).run()


# ------------------------------------------------------------ casefile run

def run_config(host: str) -> dict[str, str]:
    """What ``casefile run`` hands its child processes: the embedded PostgreSQL's address
    (started here, once, when no DATABASE_URL or POSTGRES_* names a server) and the
    cookies' Secure default of ``casefile run``: not on a loopback address, yes otherwise
    (SESSION_COOKIE_SECURE decides when set)."""
    secure = config.session_cookie_secure(default=host not in LOOPBACK_HOSTS)
    settings = {"SESSION_COOKIE_SECURE": "yes" if secure else "no"}
    if not os.environ.get("DATABASE_URL") and not (os.environ.get("POSTGRES_DBNAME")
                                                   and os.environ.get("POSTGRES_HOST")):
        settings["DATABASE_URL"] = config.embedded_database_url()
    return settings


def wait_until_ready(host: str, port: int, stopping: threading.Event,
                     timeout: float = 180.0) -> bool:
    """Poll ``/readyz`` until it answers 200 (True), or until stopped or ``timeout``."""
    address = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host.strip("[]")
    url = f"http://{'[' + address + ']' if ':' in address else address}:{port}/readyz"
    deadline = time.monotonic() + timeout
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except (OSError, urllib.error.URLError):
            pass
        stopping.wait(0.5)
    return False
