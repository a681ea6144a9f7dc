"""Issue 7, item 8: the verified head of the audit trail exported, signed, so that an
outside party can check later that history only grew, even against someone able to
rewrite both the event log and the whole trail."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.sql import SQL

from adapters.views.audit_checkpoint import CheckpointError, parse_checkpoint
from adapters.runtime.registry import open_view
from adapters.runtime.status import wait_for
from projections.audit import GENESIS, chain_hash
from tests.support import code, registration

ORGS = "/api/v1/organizations"


def interview(i: int) -> dict:
    return {"person_name": f"负责人{i}", "person_role": "理事长", "topics": ["财务管理"],
            "effective_date": "2023-03-01"}


def record_history(api, pg_app, postgres_env, *numbers: int, interviews: int = 2) -> int:
    for n in numbers:
        if api.get(f"{ORGS}/{code(n)}", as_="staff").status_code == 404:
            assert api.post(ORGS, registration(n)).status_code == 201
        for i in range(interviews):
            assert api.post(f"{ORGS}/{code(n)}/interviews", interview(i)).status_code == 200
    head = pg_app.recorder.max_notification_id()
    assert wait_for(open_view(postgres_env, "audittrail"), head, 10)
    return head


def rewrite_history_without(database_url, postgres_env, position: int) -> None:
    """What only the database owner can do: delete an event from the log and its audit
    entry, and recompute every later hash, so that the trail verifies against the log."""
    view = open_view(postgres_env, "audittrail")
    events = f'{postgres_env["POSTGRES_SCHEMA"]}.casefile_events'
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {events} WHERE notification_id = %s", (position,))
        conn.execute(SQL("DELETE FROM {t} WHERE position = %s").format(t=view.entries_table),
                     (position,))
        rows = conn.execute(SQL("SELECT position, canonical FROM {t} ORDER BY position")
                            .format(t=view.entries_table)).fetchall()
        previous = GENESIS
        for entry_position, canonical in rows:
            digest = chain_hash(previous, canonical)
            conn.execute(SQL("UPDATE {t} SET previous_hash = %s, hash = %s WHERE position = %s")
                         .format(t=view.entries_table), (previous, digest, entry_position))
            previous = digest


def test_a_checkpoint_is_signed_and_later_shows_that_history_only_grew(api, pg_app,
                                                                       postgres_env):
    record_history(api, pg_app, postgres_env, 1, 2)
    answer = api.get("/api/v1/audit/checkpoint", as_="auditor")
    assert answer.status_code == 200, answer.json
    checkpoint = parse_checkpoint(json.dumps(answer.json))  # the signature checks
    assert checkpoint["position"] == pg_app.recorder.max_notification_id()
    assert checkpoint["verified_entries"] == checkpoint["position"]

    record_history(api, pg_app, postgres_env, 1, 3)
    later = api.get(f"/api/v1/audit/verify?since_position={checkpoint['position']}"
                    f"&since_hash={checkpoint['hash']}", as_="auditor").json
    assert later["ok"] and later["head"]["position"] > checkpoint["position"]
    assert later["since"]["history_only_grew"] is True and later["since"]["problem"] is None


def test_a_rewritten_history_that_verifies_is_caught_by_the_checkpoint(
        api, pg_app, postgres_env, database_url):
    record_history(api, pg_app, postgres_env, 1, 2)
    checkpoint = api.get("/api/v1/audit/checkpoint", as_="auditor").json
    record_history(api, pg_app, postgres_env, 2)

    # organization 2's first interview, before the checkpoint, vanishes; trail recomputed
    victim = checkpoint["position"] - 1
    rewrite_history_without(database_url, postgres_env, victim)

    # the service's own verified head (stored at the checkpoint) no longer holds: the
    # extension refuses to go on from it ...
    extended = api.get("/api/v1/audit/verify", as_="auditor").json
    assert not extended["ok"] and extended["mode"] == "extend"
    assert "no longer holds the verified hash" in extended["first_broken"]["problem"]
    # ... while a full run finds the rewritten trail consistent with the rewritten log,
    # which only the checkpoint kept outside contradicts
    answer = api.get(f"/api/v1/audit/verify?full=true&since_position={checkpoint['position']}"
                     f"&since_hash={checkpoint['hash']}", as_="auditor").json
    assert answer["ok"] and answer["mode"] == "full", answer
    assert answer["since"]["history_only_grew"] is False  # ... but not the checkpoint
    assert f"position {checkpoint['position']}" in answer["since"]["problem"]


def test_a_checkpoint_past_the_end_of_a_shortened_trail_is_reported(api, pg_app,
                                                                    postgres_env, database_url):
    record_history(api, pg_app, postgres_env, 1)
    checkpoint = api.get("/api/v1/audit/checkpoint", as_="auditor").json
    rewrite_history_without(database_url, postgres_env, checkpoint["position"])
    extended = api.get("/api/v1/audit/verify", as_="auditor").json
    assert not extended["ok"] and "no longer holds" in extended["first_broken"]["problem"]
    answer = api.get(f"/api/v1/audit/verify?full=true&since_position={checkpoint['position']}"
                     f"&since_hash={checkpoint['hash']}", as_="auditor").json
    assert answer["ok"] and not answer["since"]["history_only_grew"]
    assert "entries were removed" in answer["since"]["problem"]


def test_an_edited_checkpoint_fails_its_signature(api, pg_app, postgres_env):
    record_history(api, pg_app, postgres_env, 1)
    checkpoint = api.get("/api/v1/audit/checkpoint", as_="auditor").json
    forged = dict(checkpoint, position=checkpoint["position"] - 1)
    with pytest.raises(CheckpointError, match="signature"):
        parse_checkpoint(json.dumps(forged))
    with pytest.raises(CheckpointError, match="format"):
        parse_checkpoint(json.dumps({"position": 1}))


@pytest.mark.parametrize("query", ["since_position=1", "since_hash=" + "a" * 64,
                                   "since_position=x&since_hash=" + "a" * 64,
                                   "since_position=1&since_hash=nothex"])
def test_a_malformed_since_is_400(api, query):
    answer = api.get(f"/api/v1/audit/verify?{query}", as_="auditor")
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_value"


def test_the_cli_exports_a_checkpoint_and_checks_it_later(api, pg_app, postgres_env, tmp_path,
                                                         monkeypatch):
    from adapters.cli.main import main

    record_history(api, pg_app, postgres_env, 1)
    for key, value in postgres_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CASEFILE_VAR", str(tmp_path / "var"))
    first = tmp_path / "first.json"
    runner = CliRunner()
    result = runner.invoke(main, ["audit", "verify", "--export", str(first)])
    assert result.exit_code == 0, result.output
    assert json.loads(first.read_text())["position"] == pg_app.recorder.max_notification_id()

    record_history(api, pg_app, postgres_env, 1)
    result = runner.invoke(main, ["audit", "verify", "--since", str(first)])
    assert result.exit_code == 0 and '"history_only_grew": true' in result.output, result.output

    result = runner.invoke(main, ["audit", "check", str(first)])
    assert result.exit_code == 0 and "signature valid" in result.output
    first.write_text(first.read_text().replace('"position": ', '"position": 1'))
    result = runner.invoke(main, ["audit", "check", str(first)])
    assert result.exit_code != 0 and "signature does not match" in result.output
