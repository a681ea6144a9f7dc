"""``casefile relay``, ``consume`` and ``schemas``: publishing the events to Kafka, an
example consumer, and the published events' schemas. kafka-python itself is imported
only where a producer or a consumer is made (adapters.kafka)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from adapters.bootstrap import build_relay
from adapters.cli.shared import casefiles, until_stopped
from adapters.kafka.consumer import OrganizationsView, UnknownVersion, consume as run_consumer
from adapters.kafka.relay import KafkaSettings, relay_status
from adapters.kafka.schemas import write_schemas


@click.group(invoke_without_command=True)
@click.pass_context
def relay(ctx: click.Context) -> None:
    """Publish the recorded events to Kafka (KAFKA_BOOTSTRAP_SERVERS); `relay status`."""
    if ctx.invoked_subcommand is not None:
        return
    running = build_relay(dict(casefiles().env))
    if running is None:
        raise click.UsageError("set KAFKA_BOOTSTRAP_SERVERS (and KAFKA_API_VERSION=0.9 for "
                               "the test broker)")
    settings = running.settings
    until_stopped(running.start(), f"relaying to {settings.bootstrap_servers} topic "
                                   f"{settings.topic} (Ctrl-C stops)")


@relay.command("status")
def relay_status_command() -> None:
    """The relay's position, the log's head and the lag."""
    s = relay_status(dict(casefiles().env))
    click.echo(f"position {s['position']}  head {s['head']}  lag {s['lag']}  "
               f"{'configured' if s['configured'] else 'KAFKA_BOOTSTRAP_SERVERS not set'}")


@click.command()
@click.option("--group", default="casefile-example", show_default=True)
@click.option("--db", "db_path", default="var/consumer.sqlite", show_default=True)
@click.option("--idle-timeout", type=float, default=None,
              help="Stop after this many seconds without messages (default: run forever).")
def consume(group: str, db_path: str, idle_timeout: float | None) -> None:
    """A worked example of a downstream consumer: its own view in SQLite."""
    settings = KafkaSettings.from_env(dict(os.environ))
    if settings is None:
        raise click.UsageError("set KAFKA_BOOTSTRAP_SERVERS")
    try:
        stats = run_consumer(
            bootstrap_servers=settings.bootstrap_servers, topic=settings.topic, group=group,
            db_path=db_path, api_version=settings.api_version, idle_timeout=idle_timeout,
            on_batch=lambda s: click.echo(f"processed {s.processed}, duplicates dropped "
                                          f"{s.duplicates}, gaps {s.gaps}"))
    except UnknownVersion as e:
        raise click.ClickException(f"stopped before {e} (its batch was not applied and "
                                   "its offsets not committed)") from None
    view = OrganizationsView(db_path)
    click.echo(f"done: processed {stats.processed}, duplicates dropped {stats.duplicates}; "
               f"organizations by status: {view.counts_by_status()}")
    view.close()


@click.command()
@click.option("--out", default="docs/events", show_default=True)
def schemas(out: str) -> None:
    """Write the JSON Schemas of the published events and the AsyncAPI document."""
    for path in write_schemas(Path(out)):
        click.echo(path)
