"""``casefile open-data``: produce the open-data extract of the public register now (the
worker produces one a day), with a progress bar, and print its files."""

from __future__ import annotations

import click

from adapters.bootstrap import open_view
from adapters.cli.shared import casefiles
from adapters.progress import Progress
from adapters.store.open_data import OpenDataStore
from domain.calendar import today_in_china


@click.command("open-data")
def open_data() -> None:
    """Produce today's open-data extract (CSV and JSON of the public register, served at
    /public/open-data) from the case files as they stand, and print each file's SHA-256."""
    app = casefiles()
    view = open_view(dict(app.env), "casefiles")
    bar: list[Progress] = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(Progress(total, "open data", unit="organizations"))
        bar[0].update(done)

    try:
        extract = OpenDataStore(view.datastore).produce(today_in_china(), progress=progress)
    finally:
        if bar:
            bar[0].finish()
        view.datastore.close()
        app.close()
    click.echo(f"extract of {extract.produced_on} at log position {extract.position}: "
               f"{extract.organizations} organizations in {extract.seconds:.1f} s")
    for f in extract.files:
        click.echo(f"  {f.name:26} {f.rows:>9} rows {f.bytes:>12} bytes  sha256 {f.sha256}")
