"""``casefile accounts`` and ``casefile persons``: staff and organization accounts, and
the erasure of a person's personal data."""

from __future__ import annotations

import sys
from uuid import UUID

import click

from adapters.cli.shared import admin_meta, casefiles
from domain.calendar import CHINA
from domain.errors import DomainError
from services.accounts import utc_now


@click.group()
def accounts() -> None:
    """Staff and organization accounts."""


def _cst(moment) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M CST") if moment else "-"


@accounts.command("list")
def accounts_list() -> None:
    """The accounts: role, scope and status (active, disabled, or locked out until when,
    after repeated failed sign-ins)."""
    now = utc_now()
    for account in casefiles().list_accounts():
        status = ("disabled" if account.disabled else
                  f"locked until {_cst(account.locked_until)}" if account.is_locked(now)
                  else "active")
        click.echo(f"{account.username:24} {account.role:22} "
                   f"{account.jurisdiction or account.organization or '-':20} {status}")


@accounts.command("create")
@click.argument("username")
@click.option("--role", required=True)
@click.option("--jurisdiction", default=None)
@click.option("--organization", default=None,
              help="an organization's account: its code; a supervisory unit's: the unit's "
                   "name, as its organizations record it")
@click.option("--name", "display_name", default=None)
@click.password_option()
def accounts_create(username, role, jurisdiction, organization, display_name, password):
    """Open an account (the password is asked for, never echoed; the password policy
    applies: at least PASSWORD_MIN_LENGTH characters, not the username, not common)."""
    try:
        casefiles().open_account(username=username, password=password,
                                 display_name=display_name or username, role=role,
                                 jurisdiction=jurisdiction, organization=organization,
                                 meta=admin_meta("account opened from the command line"))
    except DomainError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"account {username} opened")


@accounts.command("token")
@click.argument("username")
@click.option("--name", default="issued from the command line", show_default=True,
              help="What the token is for (shown in its list).")
def accounts_token(username: str, name: str) -> None:
    """Print a fresh API token for USERNAME, valid for TOKEN_LIFETIME_DAYS (earlier tokens
    stay valid until they expire or are revoked)."""
    app = casefiles()
    try:
        token = app.issue_token(username, admin_meta("token issued from the CLI"), name=name)
    except DomainError as e:
        raise click.ClickException(e.message) from None
    click.echo(token)


@accounts.command("tokens")
@click.argument("username")
def accounts_tokens(username: str) -> None:
    """USERNAME's API tokens: id, name, issued, expires, last used (never the token)."""
    try:
        tokens = casefiles().list_tokens(username)
    except DomainError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"{len(tokens)} token(s) of {username}")
    for t in tokens:
        click.echo(f"{t['id']:10} {t['name'][:30]:30} issued {_cst(t['issued_at'])}  "
                   f"expires {_cst(t['expires_at'])}{' (expired)' if t['expired'] else ''}  "
                   f"last used {_cst(t['last_used_at'])}")


@accounts.command("revoke")
@click.argument("username")
@click.argument("token_id")
def accounts_revoke(username: str, token_id: str) -> None:
    """Revoke one API token of USERNAME (its id from `casefile accounts tokens`)."""
    try:
        casefiles().revoke_token(username, token_id, admin_meta("token revoked from the CLI"))
    except DomainError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"token {token_id} of {username} revoked")


@accounts.command("unlock")
@click.argument("username")
def accounts_unlock(username: str) -> None:
    """Lift USERNAME's sign-in lockout before it ends (recorded)."""
    try:
        casefiles().lift_lockout(username, admin_meta("lockout lifted from the CLI"))
    except DomainError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"lockout of {username} lifted")


@accounts.command("password")
@click.argument("username")
@click.password_option()
def accounts_password(username: str, password: str) -> None:
    """Set USERNAME's password (the policy applies); every session and API token of the
    account ends."""
    try:
        casefiles().change_password(username, password,
                                    admin_meta("password reset from the CLI"))
    except DomainError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"password of {username} changed; its sessions and tokens have ended")


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
