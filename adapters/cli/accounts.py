"""``casefile accounts`` and ``casefile persons``: staff and organization accounts, and
the erasure of a person's personal data."""

from __future__ import annotations

import sys
from uuid import UUID

import click

from adapters.cli.shared import admin_meta, casefiles
from domain.errors import DomainError


@click.group()
def accounts() -> None:
    """Staff and organization accounts."""


@accounts.command("list")
def accounts_list() -> None:
    for account in casefiles().list_accounts():
        click.echo(f"{account.username:24} {account.role:22} "
                   f"{account.jurisdiction or account.organization or '-':20} "
                   f"{'disabled' if account.disabled else 'active'}")


@accounts.command("create")
@click.argument("username")
@click.option("--role", required=True)
@click.option("--jurisdiction", default=None)
@click.option("--organization", default=None)
@click.option("--name", "display_name", default=None)
@click.password_option()
def accounts_create(username, role, jurisdiction, organization, display_name, password):
    """Open an account (the password is asked for, never echoed)."""
    casefiles().open_account(username=username, password=password,
                             display_name=display_name or username, role=role,
                             jurisdiction=jurisdiction, organization=organization,
                             meta=admin_meta("account opened from the command line"))
    click.echo(f"account {username} opened")


@accounts.command("token")
@click.argument("username")
def accounts_token(username: str) -> None:
    """Print a fresh API token for USERNAME (earlier tokens stay valid)."""
    click.echo(casefiles().issue_token(username, admin_meta("token issued from the CLI")))


@accounts.command("password")
@click.argument("username")
@click.password_option()
def accounts_password(username: str, password: str) -> None:
    casefiles().change_password(username, password, admin_meta("password reset from the CLI"))
    click.echo(f"password of {username} changed")


@click.group()
def persons() -> None:
    """Persons (leaders): erasure of personal data."""


@persons.command("erase")
@click.argument("person_id")
@click.option("--reason", required=True, help="Why (e.g. the data subject's request).")
@click.option("--reference", default=None, help="The request's or decision's number.")
@click.option("--actor", default="cli", show_default=True, help="Who asks (recorded).")
def persons_erase(person_id: str, reason: str, reference: str | None, actor: str) -> None:
    """Record an erasure request and destroy the person's key: their name, identity
    number and birth date read as erased everywhere from then on (irreversible)."""
    try:
        pid = UUID(person_id)
    except ValueError:
        raise click.BadParameter("a person id (UUID)", param_hint="PERSON_ID") from None
    app = casefiles()
    try:
        result = app.erase_person(pid, meta=admin_meta(reason, actor=actor,
                                                       reference=reference))
    except DomainError as e:
        click.echo(f"refused: {e}", err=True)
        sys.exit(1)
    finally:
        app.close()
    organizations = result.result.get("organizations", [])
    click.echo(f"person {pid}: personal data erased at position {result.position}"
               + (f"; organizations led: {', '.join(organizations)}" if organizations
                  else ""))
