"""``casefile demo`` and ``casefile import``: data into the store, generated or from a
register."""

from __future__ import annotations

import dataclasses
import sys

import click

from adapters.cli.shared import admin_meta, casefiles
from adapters.progress import Progress
from adapters.seed.demo import DEFAULT_ORGS, DEFAULT_SEED, DEFAULT_YEARS, generate_many
from adapters.seed.importer import import_register, report_lines
from domain.access import allowed
from domain.errors import DomainError


@click.command()
@click.option("--orgs", default=DEFAULT_ORGS, show_default=True,
              type=click.IntRange(1, 1_000_000))
@click.option("--years", default=DEFAULT_YEARS, show_default=True, type=click.IntRange(1, 30))
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int)
def demo(orgs: int, years: int, seed: int) -> None:
    """Generate deterministic demo data (for trying things and for benchmarks): one
    district, or above 2,000 organizations parts of 2,000 with consecutive seeds."""
    try:
        generate_many(casefiles(), orgs=orgs, years=years, seed=seed, echo=click.echo,
                      progress=sys.stderr.isatty())
    except DomainError as e:
        raise click.ClickException(e.message) from None


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", default=None,
              help="Record as this account (its role must allow registering; its "
                   "jurisdiction limits the rows). Default: the operator (cli, admin).")
def import_command(file: str, username: str | None) -> None:
    """Import a register from FILE (CSV UTF-8 or XLSX): all rows or, if any row has an
    error, none; prints every error (row, field, message) and exits 1 then."""
    app = casefiles()
    meta, jurisdiction = admin_meta("imported from register"), None
    if username is not None:
        try:
            account = app.get_account(username)
        except DomainError as e:
            raise click.ClickException(e.message) from None
        if not allowed(account.role, "register") or account.jurisdiction is None:
            raise click.ClickException(f"{username} ({account.role}, jurisdiction "
                                       f"{account.jurisdiction or '-'}) may not register")
        meta = dataclasses.replace(meta, actor_id=username, actor_role=account.role)
        jurisdiction = account.jurisdiction
    bars = _StageBars()
    try:
        report = import_register(app, file, actor_meta_base=meta, jurisdiction=jurisdiction,
                                 progress=bars)
    finally:
        bars.close()
    for line in report_lines(report):
        click.echo(line)
    sys.exit(0 if report.ok else 1)


class _StageBars:
    """``import_register``'s progress (stage, done, total) on the command line's one
    progress bar: a bar for each stage, "parsed" and then "saved"."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Progress | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage, self.bar = stage, Progress(total, f"  {stage:6}", unit="rows")
        self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None
