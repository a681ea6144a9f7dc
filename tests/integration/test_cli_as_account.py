"""The command line acts as a named account and goes through the web's policy
(issue 15, "Rules"): ``casefile rules set ... --as USER`` changes a rule's global defaults
only for an admin, and an override only within the account's own jurisdiction."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from adapters.cli.main import main
from domain.rules import rule_id
from tests.conftest import CIPHER_KEY, PSEUDONYM_KEY, meta

PASSWORD = "correct horse battery"


@pytest.fixture
def cli(pg_app, postgres_env, database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "POSTGRES_SCHEMA": postgres_env["POSTGRES_SCHEMA"],
           "CIPHER_KEY": CIPHER_KEY, "PSEUDONYM_KEY": PSEUDONYM_KEY,
           "CASEFILE_VAR": str(tmp_path)}
    setup = meta("2020-01-01", actor="setup", role="admin")
    for username, role, jurisdiction in (("boss", "admin", None),
                                         ("staff", "registration_staff", "310110000000"),
                                         ("other", "registration_staff", "310230000000")):
        pg_app.open_account(username=username, password=PASSWORD, display_name=username,
                            role=role, jurisdiction=jurisdiction, organization=None,
                            meta=setup)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), env=env)


def version(pg_app, name: str) -> int:
    return pg_app.rule(name).rule_version


def test_rules_set_needs_an_admin_for_the_global_defaults(cli, pg_app):
    before = version(pg_app, "timeliness")
    refused = cli("rules", "set", "timeliness", "working_days=20", "--reason", "r", "--as", "staff")
    assert refused.exit_code != 0 and "admins only" in refused.output
    assert version(pg_app, "timeliness") == before
    anonymous = cli("rules", "set", "timeliness", "working_days=20", "--reason", "r")
    assert anonymous.exit_code != 0 and "--as" in anonymous.output
    done = cli("rules", "set", "timeliness", "working_days=20", "--reason", "r", "--as", "boss")
    assert done.exit_code == 0, done.output
    assert version(pg_app, "timeliness") > before
    last = list(pg_app.events.get(rule_id("timeliness")))[-1]
    assert (last.meta.actor_id, last.meta.actor_role) == ("boss", "admin")


def test_rules_set_overrides_only_within_the_accounts_jurisdiction(cli, pg_app):
    own = cli("rules", "set", "timeliness", "working_days=20", "--reason", "r", "--as", "staff",
              "--jurisdiction", "310110001000")
    assert own.exit_code == 0, own.output
    assert pg_app.rule("timeliness").overrides["310110001000"] == {"working_days": 20}
    before = version(pg_app, "timeliness")
    foreign = cli("rules", "set", "timeliness", "working_days=30", "--reason", "r", "--as", "other",
                  "--jurisdiction", "310110001000")
    assert foreign.exit_code != 0 and "310110001000" in foreign.output
    unknown = cli("rules", "set", "timeliness", "working_days=30", "--reason", "r", "--as", "nobody")
    assert unknown.exit_code != 0 and "no account nobody" in unknown.output
    assert version(pg_app, "timeliness") == before
