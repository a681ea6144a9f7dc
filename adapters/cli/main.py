"""The ``casefile`` command: run the service, load demo data, manage accounts."""

from __future__ import annotations

import logging
import os
import sys
import uuid
from datetime import date

import click

from domain.meta import Meta


def _casefiles():
    from adapters.config import application_env
    from adapters.bootstrap import build_casefiles

    return build_casefiles(env=application_env())


def _admin_meta(reason: str) -> Meta:
    return Meta(actor_id="cli", actor_role="admin", effective_date=date.today(),
                correlation_id=str(uuid.uuid4()), reason=reason)


@click.group()
def main() -> None:
    """Case files of social organizations: operational commands."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    logging.getLogger("kafka").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int,
              show_default="8000 or $PORT")
@click.option("--no-demo", is_flag=True, help="Do not load the demo district.")
def run(host: str, port: int, no_demo: bool) -> None:
    """Start the service (embedded PostgreSQL unless DATABASE_URL), loading the demo once."""
    from adapters.seed.demo import load_demo_once
    from adapters.web import create_app

    from adapters.runtime.readmodels import Worker

    casefiles = _casefiles()
    if not no_demo:
        load_demo_once(casefiles, echo=click.echo)
    worker = Worker(dict(casefiles.env)).start()
    app = create_app({"CASEFILES": casefiles})
    click.echo(f"Serving on http://{host}:{port}  (Ctrl-C stops); the projection worker runs "
               "in this process")
    from werkzeug.serving import run_simple

    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        worker.stop()


@main.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), type=int,
              show_default="8000 or $PORT")
@click.option("--workers", type=int, default=None, help="Processes (default 2 x cores).")
@click.option("--threads", type=int, default=None, help="Threads per process (default 4).")
def serve(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Serve the API under gunicorn (production); run `casefile worker` beside it."""
    from adapters.web.server import serve as run_gunicorn

    run_gunicorn(host, port, workers, threads)


@main.command()
@click.option("--projections", "names", default=None, metavar="NAME[,NAME]",
              help="Run only these projections (default: all); one worker per group "
                   "(docs/DEPLOYMENT.md).")
@click.option("--no-rules", is_flag=True,
              help="Leave the event rules and the daily clock to another worker.")
def worker(names: str | None, no_rules: bool) -> None:
    """Run the projections (and the rules and the daily clock), following new events as
    they are recorded. Each projection, and the rules with the clock, runs in one worker
    at a time: a second worker for the same ones stands by until the first stops."""
    from adapters.runtime.readmodels import READ_MODELS, Worker

    group = tuple(READ_MODELS)
    if names is not None:
        group = tuple(n.strip() for n in names.split(",") if n.strip())
        unknown = [n for n in group if n not in READ_MODELS]
        if unknown or len(set(group)) != len(group):
            raise click.BadParameter(f"a comma-separated list of {', '.join(READ_MODELS)}",
                                     param_hint="--projections")
    if not group and no_rules:
        raise click.UsageError("nothing to run: no projections and --no-rules")
    casefiles = _casefiles()
    running = Worker(dict(casefiles.env), names=group, run_rules=not no_rules).start()
    casefiles.close()
    _until_stopped(running, f"worker running {', '.join(group) or 'no projections'}"
                            f"{'' if no_rules else ' + rules and clock'} (Ctrl-C stops)")


def _until_stopped(running, message: str) -> None:
    """Wait for Ctrl-C or SIGTERM, then stop what runs (gracefully)."""
    import signal
    import threading

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    click.echo(message)
    try:
        while not done.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    running.stop()


@main.group()
def projections() -> None:
    """The read models: status and rebuild."""


@projections.command("status")
def projections_status() -> None:
    """Each projection's position, the log's head, and the lag."""
    from adapters.runtime.readmodels import rules_status, status

    casefiles = _casefiles()
    env = dict(casefiles.env)
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
    from adapters.runtime.readmodels import READ_MODELS, rebuild

    if name is not None and name not in READ_MODELS:
        raise click.BadParameter(f"one of {', '.join(READ_MODELS)}", param_hint="NAME")
    casefiles = _casefiles()
    failed = False
    for each in [name] if name else list(READ_MODELS):
        result = rebuild(dict(casefiles.env), each, batch=batch, echo=click.echo)
        click.echo(f"{each}: {result['events']} events in {result['seconds']}s "
                   f"({result['events_per_second']} events/s); checksum "
                   f"{result['comparison']}; "
                   + ("replaced the live view" if result["replaced"] else
                      "live view kept (a worker projects it, or it moved on)"))
        failed = failed or result["comparison"] == "DIFFERENT"
    sys.exit(1 if failed else 0)


@main.group(invoke_without_command=True)
@click.pass_context
def relay(ctx: click.Context) -> None:
    """Publish the recorded events to Kafka (KAFKA_BOOTSTRAP_SERVERS); `relay status`."""
    if ctx.invoked_subcommand is not None:
        return
    from adapters.kafka.relay import KafkaSettings, Relay

    env = dict(_casefiles().env)
    settings = KafkaSettings.from_env(env)
    if settings is None:
        raise click.UsageError("set KAFKA_BOOTSTRAP_SERVERS (and KAFKA_API_VERSION=0.9 for "
                               "the test broker)")
    running = Relay(env, settings).start()
    _until_stopped(running, f"relaying to {settings.bootstrap_servers} topic "
                            f"{settings.topic} (Ctrl-C stops)")


@relay.command("status")
def relay_status_command() -> None:
    """The relay's position, the log's head and the lag."""
    from adapters.kafka.relay import relay_status

    s = relay_status(dict(_casefiles().env))
    click.echo(f"position {s['position']}  head {s['head']}  lag {s['lag']}  "
               f"{'configured' if s['configured'] else 'KAFKA_BOOTSTRAP_SERVERS not set'}")


@main.command()
@click.option("--group", default="casefile-example", show_default=True)
@click.option("--db", "db_path", default="var/consumer.sqlite", show_default=True)
@click.option("--idle-timeout", type=float, default=None,
              help="Stop after this many seconds without messages (default: run forever).")
def consume(group: str, db_path: str, idle_timeout: float | None) -> None:
    """A worked example of a downstream consumer: its own view in SQLite."""
    from adapters.kafka.consumer import OrganizationsView, consume as run_consumer
    from adapters.kafka.relay import KafkaSettings

    settings = KafkaSettings.from_env(dict(os.environ))
    if settings is None:
        raise click.UsageError("set KAFKA_BOOTSTRAP_SERVERS")
    stats = run_consumer(
        bootstrap_servers=settings.bootstrap_servers, topic=settings.topic, group=group,
        db_path=db_path, api_version=settings.api_version, idle_timeout=idle_timeout,
        on_batch=lambda s: click.echo(f"processed {s.processed}, duplicates dropped "
                                      f"{s.duplicates}, gaps {s.gaps}"))
    view = OrganizationsView(db_path)
    click.echo(f"done: processed {stats.processed}, duplicates dropped {stats.duplicates}; "
               f"organizations by status: {view.counts_by_status()}")
    view.close()


@main.command()
@click.option("--out", default="docs/events", show_default=True)
def schemas(out: str) -> None:
    """Write the JSON Schemas of the published events and the AsyncAPI document."""
    from pathlib import Path

    from adapters.kafka.schemas import write_schemas

    for path in write_schemas(Path(out)):
        click.echo(path)


@main.group()
def clock() -> None:
    """The daily clock that runs the date rules."""


@clock.command("tick")
@click.option("--date", "until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Tick up to this date (default: today, China Standard Time).")
def clock_tick_command(until) -> None:
    """Evaluate the date rules for every day not yet ticked, up to the date."""
    from adapters.runtime.readmodels import Busy, clock_tick

    try:
        days = clock_tick(dict(_casefiles().env), until.date() if until else None)
    except Busy as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"ticked {len(days)} day(s)" + (f": {days[0]} .. {days[-1]}" if days else
                                               " (already ticked)"))


@main.group()
def rules() -> None:
    """The rules of DOMAIN.md section 5, as data."""


@rules.command("list")
def rules_list() -> None:
    for rule in _casefiles().rules().values():
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
def rules_set(name: str, assignments: tuple[str, ...], jurisdiction: str | None,
              reason: str) -> None:
    """Change parameters: casefile rules set NAME key=value ... --reason TEXT"""
    import json

    from domain.errors import DomainError

    parameters = {}
    for assignment in assignments:
        key, _, raw = assignment.partition("=")
        try:
            parameters[key] = json.loads(raw)
        except ValueError:
            parameters[key] = raw
    meta = _admin_meta(reason)
    try:
        rule = _casefiles().change_rule(name, parameters=parameters, jurisdiction=jurisdiction,
                                        meta=meta)
    except DomainError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"{rule.name} is now version {rule.rule_version}")


@main.group()
def network() -> None:
    """The network's nodes and information officers."""


@network.command("node")
@click.argument("code")
@click.argument("name")
def network_node(code: str, name: str) -> None:
    """Establish a node (district, sub-district or committee) by its 12-digit code."""
    _casefiles().establish_node(code=code, name=name, meta=_admin_meta("node established"))
    click.echo(f"node {code} {name} established")


@network.command("assign")
@click.argument("code")
@click.argument("username")
@click.option("--remove", is_flag=True)
def network_assign(code: str, username: str, remove: bool) -> None:
    """Assign an information officer to a node (or --remove)."""
    node = _casefiles().assign_officer(code, username, _admin_meta("officer assignment"),
                                       remove=remove)
    click.echo(f"{code} officers: {', '.join(sorted(node.officers)) or '-'}")


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option("--since", "since_file", type=click.Path(exists=True, dir_okay=False),
              help="An earlier checkpoint: also check that history only grew since it.")
@click.option("--export", "export_file", type=click.Path(dir_okay=False),
              help="Write the verified head, signed, to this file (a checkpoint).")
def audit_verify(since_file: str | None, export_file: str | None) -> None:
    """Check the hash chain against the event log; name the first broken entry."""
    import json
    from pathlib import Path

    from adapters.views.audit_checkpoint import (CheckpointError, check_against, make_checkpoint,
                                           parse_checkpoint, signing_key)
    from adapters.runtime.readmodels import open_view
    from adapters.web.reads import recorded_events
    from projections.audit import verify

    since = None
    if since_file:
        try:
            since = parse_checkpoint(Path(since_file).read_text())
        except CheckpointError as e:
            raise click.ClickException(f"{since_file}: {e}") from None
    casefiles = _casefiles()
    view = open_view(dict(casefiles.env), "audittrail")
    up_to = view.max_tracking_id(casefiles.name) or 0
    result = verify(view.all_entries(up_to), recorded_events(casefiles, up_to))
    answer = result.as_dict()
    ok = result.ok
    if since is not None:
        answer["since"] = check_against(since["position"], since["hash"], view, result)
        ok = ok and answer["since"]["history_only_grew"]
    click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
    if export_file and ok:
        checkpoint = make_checkpoint(result, signing_key())
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
    from pathlib import Path

    from adapters.views.audit_checkpoint import CheckpointError, parse_checkpoint

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
    from adapters.views.audit_checkpoint import public_key_text, signing_key

    click.echo(public_key_text(signing_key()))


@main.command()
@click.option("--orgs", default=850, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--years", default=5, show_default=True, type=click.IntRange(1, 30))
@click.option("--seed", default=2024, show_default=True, type=int)
def demo(orgs: int, years: int, seed: int) -> None:
    """Generate deterministic demo data (for trying things and for benchmarks): one
    district, or above 2,000 organizations parts of 2,000 with consecutive seeds."""
    from adapters.seed.demo import generate_many
    from domain.errors import DomainError

    try:
        generate_many(_casefiles(), orgs=orgs, years=years, seed=seed, echo=click.echo,
                      progress=sys.stderr.isatty())
    except DomainError as e:
        raise click.ClickException(e.message) from None


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", default=None,
              help="Record as this account (its role must allow registering; its "
                   "jurisdiction limits the rows). Default: the operator (cli, admin).")
def import_command(file: str, username: str | None) -> None:
    """Import a register from FILE (CSV UTF-8 or XLSX): all rows or, if any row has an
    error, none; prints every error (row, field, message) and exits 1 then."""
    import dataclasses

    from adapters.seed.importer import StderrProgress, import_register, report_lines
    from domain.access import allowed

    casefiles = _casefiles()
    meta, jurisdiction = _admin_meta("imported from register"), None
    if username is not None:
        from domain.errors import DomainError

        try:
            account = casefiles.get_account(username)
        except DomainError as e:
            raise click.ClickException(e.message) from None
        if not allowed(account.role, "register") or account.jurisdiction is None:
            raise click.ClickException(f"{username} ({account.role}, jurisdiction "
                                       f"{account.jurisdiction or '-'}) may not register")
        meta = dataclasses.replace(meta, actor_id=username, actor_role=account.role)
        jurisdiction = account.jurisdiction
    bar = StderrProgress()
    report = import_register(casefiles, file, actor_meta_base=meta,
                             jurisdiction=jurisdiction, progress=bar)
    bar.close()
    for line in report_lines(report):
        click.echo(line)
    sys.exit(0 if report.ok else 1)


@main.group()
def accounts() -> None:
    """Staff and organization accounts."""


@accounts.command("list")
def accounts_list() -> None:
    for account in _casefiles().list_accounts():
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
    _casefiles().open_account(username=username, password=password,
                              display_name=display_name or username, role=role,
                              jurisdiction=jurisdiction, organization=organization,
                              meta=_admin_meta("account opened from the command line"))
    click.echo(f"account {username} opened")


@accounts.command("token")
@click.argument("username")
def accounts_token(username: str) -> None:
    """Print a fresh API token for USERNAME (earlier tokens stay valid)."""
    click.echo(_casefiles().issue_token(username, _admin_meta("token issued from the CLI")))


@accounts.command("password")
@click.argument("username")
@click.password_option()
def accounts_password(username: str, password: str) -> None:
    _casefiles().change_password(username, password, _admin_meta("password reset from the CLI"))
    click.echo(f"password of {username} changed")


@main.command("db-url")
def db_url() -> None:
    """Print where the events are stored (password hidden)."""
    from adapters.config import database_settings

    s = database_settings()
    click.echo(f"postgresql://{s.get('POSTGRES_USER', '')}@{s.get('POSTGRES_HOST', '')}:"
               f"{s.get('POSTGRES_PORT', '')}/{s.get('POSTGRES_DBNAME', '')}")



@main.group()
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
    from uuid import UUID

    from domain.errors import DomainError

    try:
        pid = UUID(person_id)
    except ValueError:
        raise click.BadParameter("a person id (UUID)", param_hint="PERSON_ID") from None
    casefiles = _casefiles()
    try:
        result = casefiles.erase_person(pid, meta=Meta(
            actor_id=actor, actor_role="admin", effective_date=date.today(),
            correlation_id=str(uuid.uuid4()), reason=reason, reference=reference))
    except DomainError as e:
        click.echo(f"refused: {e}", err=True)
        sys.exit(1)
    finally:
        casefiles.close()
    organizations = result.result.get("organizations", [])
    click.echo(f"person {pid}: personal data erased at position {result.position}"
               + (f"; organizations led: {', '.join(organizations)}" if organizations
                  else ""))

if __name__ == "__main__":
    sys.exit(main())
