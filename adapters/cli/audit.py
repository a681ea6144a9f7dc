"""``casefile audit``: verify the audit trail's hash chain against the event log, and sign
and check checkpoints of it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from adapters.bootstrap import open_view
from adapters.cli.shared import casefiles
from adapters.views.audit_checkpoint import (CheckpointError, check_against, make_checkpoint,
                                             parse_checkpoint, public_key_text, signing_key)
from adapters.views.audit_verification import AuditVerifier


@click.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option("--full", is_flag=True,
              help="Recompute the whole chain from the first entry (default: extend the "
                   "last verified head over the entries added since).")
@click.option("--since", "since_file", type=click.Path(exists=True, dir_okay=False),
              help="An earlier checkpoint: also check that history only grew since it.")
@click.option("--export", "export_file", type=click.Path(dir_okay=False),
              help="Write the verified head, signed, to this file (a checkpoint).")
def audit_verify(full: bool, since_file: str | None, export_file: str | None) -> None:
    """Check the hash chain against the event log, from the last verified head (or the
    whole chain with --full); name the first broken entry (exit 1)."""
    since = None
    if since_file:
        try:
            since = parse_checkpoint(Path(since_file).read_text())
        except CheckpointError as e:
            raise click.ClickException(f"{since_file}: {e}") from None
    app = casefiles()
    verifier = AuditVerifier(open_view(dict(app.env), "audittrail"), app)
    run = verifier.run(full=full)
    answer, ok = run.as_dict(), run.result.ok
    if since is not None:
        answer["since"] = check_against(since["position"], since["hash"], verifier.view,
                                        run.result)
        ok = ok and answer["since"]["history_only_grew"]
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
    if export_file and ok:
        checkpoint = make_checkpoint(run.result, verifier.key)
        Path(export_file).write_text(json.dumps(checkpoint, indent=2) + "\n")
        click.echo(f"checkpoint of position {checkpoint['position']} written to {export_file}")
    elif export_file:
        click.echo("no checkpoint written: the trail did not verify", err=True)
    sys.exit(0 if ok else 1)


@audit.command("check")
@click.argument("checkpoint_file", type=click.Path(exists=True, dir_okay=False))
def audit_check(checkpoint_file: str) -> None:
    """Check a checkpoint's signature (no database needed); prints its public key, to be
    compared with the one you trust (`casefile audit public-key` on the service)."""
    try:
        checkpoint = parse_checkpoint(Path(checkpoint_file).read_text())
    except CheckpointError as e:
        raise click.ClickException(f"{checkpoint_file}: {e}") from None
    click.echo(f"signature valid: position {checkpoint['position']}, hash "
               f"{checkpoint['hash']}, verified at {checkpoint['verified_at']}, signed by "
               f"{checkpoint['public_key']}")


@audit.command("public-key")
def audit_public_key() -> None:
    """The public key that checks this service's checkpoints (base64, Ed25519)."""
    click.echo(public_key_text(signing_key()))
