"""What the ``casefile`` commands share: the application, the operator's meta, and
waiting for Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from adapters.bootstrap import build_casefiles
from adapters.randomness import new_correlation_id
from domain.calendar import today_in_china
from domain.errors import DomainError
from domain.meta import Meta
from services.casefiles import CaseFiles


def casefiles() -> CaseFiles:
    """The application, with the settings of the environment."""
    return build_casefiles()


def admin_meta(reason: str, *, actor: str = "cli", reference: str | None = None) -> Meta:
    """The meta of a command given by the operator: an admin, effective today in China."""
    return Meta(actor_id=actor, actor_role="admin", effective_date=today_in_china(),
                correlation_id=new_correlation_id(), reason=reason, reference=reference)


def account_meta(app: CaseFiles, username: str, reason: str) -> tuple[Meta, Any]:
    """The meta of a command the operator gives as a named account (``--as USER``), and
    the account, whose role and jurisdiction the caller checks against the policy as the
    web does; an unknown or disabled account is refused."""
    try:
        account = app.get_account(username)
    except DomainError as e:
        raise click.ClickException(e.message) from None
    if account.disabled:
        raise click.ClickException(f"the account {username} is disabled")
    return Meta(actor_id=account.username, actor_role=account.role,
                effective_date=today_in_china(), correlation_id=new_correlation_id(),
                reason=reason), account


def until_stopped(running: Any, message: str) -> None:
    """Wait for Ctrl-C or SIGTERM, then stop what runs (gracefully)."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    click.echo(message)
    try:
        while not done.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    running.stop()
