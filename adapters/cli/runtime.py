"""``casefile worker``, ``projections`` and ``clock``: the read models and the daily clock."""

from __future__ import annotations

import sys

import click

from adapters.bootstrap import build_worker
from adapters.cli.shared import casefiles, until_stopped
from adapters.runtime.catch_up import rebuild
from adapters.runtime.clock import clock_tick
from adapters.runtime.locks import Busy
from adapters.runtime.registry import READ_MODELS
from adapters.runtime.status import rules_status, status


@click.command()
@click.option("--projections", "names", default=None, metavar="NAME[,NAME]",
              help="Run only these projections (default: all); one worker per group "
                   "(docs/DEPLOYMENT.md).")
@click.option("--no-rules", is_flag=True,
              help="Leave the event rules and the daily clock to another worker.")
def worker(names: str | None, no_rules: bool) -> None:
    """Run the projections (and the rules and the daily clock), following new events as
    they are recorded. Each projection, and the rules with the clock, runs in one worker
    at a time: a second worker for the same ones stands by until the first stops."""
    group = tuple(READ_MODELS)
    if names is not None:
        group = tuple(n.strip() for n in names.split(",") if n.strip())
        unknown = [n for n in group if n not in READ_MODELS]
        if unknown or len(set(group)) != len(group):
            raise click.BadParameter(f"a comma-separated list of {', '.join(READ_MODELS)}",
                                     param_hint="--projections")
    if not group and no_rules:
        raise click.UsageError("nothing to run: no projections and --no-rules")
    app = casefiles()
    running = build_worker(dict(app.env), names=group, run_rules=not no_rules).start()
    app.close()
    until_stopped(running, f"worker running {', '.join(group) or 'no projections'}"
                           f"{'' if no_rules else ' + rules and clock'} (Ctrl-C stops)")


@click.group()
def projections() -> None:
    """The read models: status and rebuild."""


@projections.command("status")
def projections_status() -> None:
    """Each projection's position, the log's head, and the lag."""
    env = dict(casefiles().env)
    click.echo(f"{'projection':12} {'position':>10} {'head':>10} {'lag':>8}  worker")
    for row in [*status(env), {"projection": "rules", **rules_status(env)}]:
        click.echo(f"{row['projection']:12} {row['position']:>10} {row['head']:>10} "
                   f"{row['lag']:>8}  {row['worker'] or '-'}")


@projections.command("rebuild")
@click.argument("name", required=False)
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 10000))
def projections_rebuild(name: str | None, batch: int) -> None:
    """Replay from the start into a fresh copy, compare checksums with the live view, and
    replace it (when no worker runs that projection; while one does, compare only)."""
    if name is not None and name not in READ_MODELS:
        raise click.BadParameter(f"one of {', '.join(READ_MODELS)}", param_hint="NAME")
    env = dict(casefiles().env)
    failed = False
    for each in [name] if name else list(READ_MODELS):
        result = rebuild(env, each, batch=batch, echo=click.echo)
        click.echo(f"{each}: {result['events']} events in {result['seconds']}s "
                   f"({result['events_per_second']} events/s); checksum "
                   f"{result['comparison']}; "
                   + ("replaced the live view" if result["replaced"] else
                      "live view kept (a worker projects it, or it moved on)"))
        failed = failed or result["comparison"] == "DIFFERENT"
    sys.exit(1 if failed else 0)


@click.group()
def clock() -> None:
    """The daily clock that runs the date rules."""


@clock.command("tick")
@click.option("--date", "until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Tick up to this date (default: today, China Standard Time).")
def clock_tick_command(until) -> None:
    """Evaluate the date rules for every day not yet ticked, up to the date."""
    try:
        days = clock_tick(dict(casefiles().env), until.date() if until else None)
    except Busy as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"ticked {len(days)} day(s)" + (f": {days[0]} .. {days[-1]}" if days else
                                               " (already ticked)"))
