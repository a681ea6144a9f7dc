"""``casefile rules`` and ``casefile network``: the rules as data, and the early-warning
network's nodes and information officers."""

from __future__ import annotations

import json

import click

from adapters.cli.shared import account_meta, admin_meta, casefiles
from domain.access import may_change_rule
from domain.calendar import today_in_china
from domain.errors import DomainError


@click.group()
def rules() -> None:
    """The rules of DOMAIN.md section 5, as data."""


@rules.command("list")
def rules_list() -> None:
    """The rules, and the holiday schedule working days are counted by."""
    app = casefiles()
    status = app.working_days(today_in_china())
    click.echo(f"working days: State Council holiday schedule ({status['source']}), "
               f"{status['first_year']}-{status['last_year']}; other years Monday to Friday")
    if status["warning"]:
        click.echo(f"WARNING: {status['warning']}")
    for rule in app.rules().values():
        click.echo(f"{rule.name} v{rule.rule_version} ({rule.trigger}): {rule.title}")
        for key, value in rule.parameters.items():
            click.echo(f"    {key} = {value}")
        for jurisdiction, values in rule.overrides.items():
            click.echo(f"    override {jurisdiction}: {values}")


@rules.command("set")
@click.argument("name")
@click.argument("assignments", nargs=-1, required=True)
@click.option("--jurisdiction", default=None, help="Override for this jurisdiction only.")
@click.option("--reason", required=True, help="Why the rule changes (recorded).")
@click.option("--as", "username", required=True,
              help="The account that changes it (recorded): its role and jurisdiction "
                   "decide, as on the API: the global defaults need an admin, an override "
                   "a jurisdiction within its own.")
def rules_set(name: str, assignments: tuple[str, ...], jurisdiction: str | None,
              reason: str, username: str) -> None:
    """Change parameters: casefile rules set NAME key=value ... --reason TEXT --as USER"""
    parameters = {}
    for assignment in assignments:
        key, _, raw = assignment.partition("=")
        try:
            parameters[key] = json.loads(raw)
        except ValueError:
            parameters[key] = raw
    app = casefiles()
    try:
        meta, account = account_meta(app, username, reason)
        if not may_change_rule(role=account.role, jurisdiction=account.jurisdiction,
                               rule_jurisdiction=jurisdiction):
            raise click.ClickException(
                f"{username} ({account.role}, jurisdiction {account.jurisdiction or '-'}) may "
                "not change " + ("the global defaults (admins only; set an override with "
                                 "--jurisdiction)" if jurisdiction is None
                                 else f"the overrides of {jurisdiction}"))
        rule = app.change_rule(name, parameters=parameters, jurisdiction=jurisdiction,
                               meta=meta)
    except DomainError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"{rule.name} is now version {rule.rule_version}")


@click.group()
def network() -> None:
    """The network's nodes and information officers."""


@network.command("node")
@click.argument("code")
@click.argument("name")
def network_node(code: str, name: str) -> None:
    """Establish a node (district, sub-district or committee) by its 12-digit code."""
    casefiles().establish_node(code=code, name=name, meta=admin_meta("node established"))
    click.echo(f"node {code} {name} established")


@network.command("assign")
@click.argument("code")
@click.argument("username")
@click.option("--remove", is_flag=True)
def network_assign(code: str, username: str, remove: bool) -> None:
    """Assign an information officer to a node (or --remove)."""
    node = casefiles().assign_officer(code, username, admin_meta("officer assignment"),
                                      remove=remove)
    click.echo(f"{code} officers: {', '.join(sorted(node.officers)) or '-'}")
