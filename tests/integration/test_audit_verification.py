"""Issue 18 item 2 (and issue 14 item 7): the audit trail keeps its last verified head,
signed, in the database; a verification extends it over the new entries only; the full
re-verification stays available; tampering is still found, by the mode that can see it."""

from __future__ import annotations

import json

import psycopg
from click.testing import CliRunner
from psycopg.sql import SQL

from adapters.runtime.registry import open_view
from adapters.views.audit_verification import AuditVerifier
from tests.integration.test_audit_checkpoint import record_history
from tests.e2e.test_pages import sign_in
from tests.support import code

VERIFY = "/api/v1/audit/verify"


def entries_table(postgres_env) -> str:
    return f'{postgres_env["POSTGRES_SCHEMA"]}.audittrail_entries'


def test_a_verification_extends_the_last_verified_head(api, pg_app, postgres_env):
    first_head = record_history(api, pg_app, postgres_env, 1, 2)
    first = api.get(VERIFY, as_="auditor").json
    assert first["ok"] and first["mode"] == "full"  # nothing verified before: from the start
    assert first["checked_entries"] == first["verified_entries"] == first_head
    assert first["head_verified_at"] == first["checked_at"]

    head = record_history(api, pg_app, postgres_env, 1, interviews=3)
    later = api.get(VERIFY, as_="auditor").json
    assert later["ok"] and later["mode"] == "extend", later
    assert later["started_after"] == first_head
    assert later["checked_entries"] == head - first_head == 3  # only the new ones
    assert later["verified_entries"] == head and later["head"]["position"] == head

    again = api.get(VERIFY, as_="auditor").json
    assert again["ok"] and again["checked_entries"] == 0 and again["head"] == later["head"]

    full = api.get(f"{VERIFY}?full=true", as_="auditor").json
    assert full["ok"] and full["mode"] == "full" and full["checked_entries"] == head
    assert full["head"] == later["head"]
    assert api.get(f"{VERIFY}?full=maybe", as_="auditor").status_code == 400


def test_tampering_after_the_head_is_found_by_the_extension_and_behind_it_by_the_full_run(
        api, pg_app, postgres_env, database_url):
    record_history(api, pg_app, postgres_env, 1, 2)
    assert api.get(VERIFY, as_="auditor").json["ok"]
    record_history(api, pg_app, postgres_env, 1)
    view = open_view(postgres_env, "audittrail")
    early = view.entries(identifier=code(2))[0]["position"]  # behind the head
    late = view.entries(identifier=code(1))[-1]["position"]  # added since
    with psycopg.connect(database_url, autocommit=True) as conn:
        for p in (early, late):
            conn.execute(f"UPDATE {entries_table(postgres_env)} SET reason = 'edited', "
                         "canonical = replace(canonical, '\"reason\"', '\"Reason\"') "
                         "WHERE position = %s", (p,))

    extended = api.get(VERIFY, as_="auditor").json
    assert not extended["ok"] and extended["first_broken"]["position"] == late
    assert "altered" in extended["first_broken"]["problem"]
    client = api.client.application.test_client()  # the auditor's page says why, in Chinese
    sign_in(client, "auditor")
    page = client.get(f"/organizations/{code(1)}/audit").text
    assert f"在第 {late} 条处被篡改" in page and "条目与记录的事件不一致（被篡改）" in page, page
    assert "altered" not in page
    assert "the entry differs from the recorded event (altered)" in client.get(
        f"/organizations/{code(1)}/audit?lang=en").text
    full = api.get(f"{VERIFY}?full=true", as_="auditor").json
    assert not full["ok"] and full["first_broken"]["position"] == early  # the first one


def test_a_forged_stored_head_is_refused(api, pg_app, postgres_env, database_url):
    """Moving the stored head forward by hand (over entries nobody verified) breaks its
    signature: the extension refuses to start from it."""
    record_history(api, pg_app, postgres_env, 1)
    assert api.get(VERIFY, as_="auditor").json["ok"]
    head = record_history(api, pg_app, postgres_env, 1)
    view = open_view(postgres_env, "audittrail")
    last = view.entries(after=head - 1, up_to=head)[0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SQL("UPDATE {t} SET head = jsonb_set(jsonb_set(head, '{{position}}', "
                         "%s::jsonb), '{{hash}}', to_jsonb(%s::text))")
                     .format(t=view.verified_head_table), (str(head), last["hash"]))
    answer = api.get(VERIFY, as_="auditor").json
    assert not answer["ok"] and "not valid" in answer["first_broken"]["problem"]
    assert "signature" in answer["first_broken"]["problem"]
    assert api.get(f"{VERIFY}?full=true", as_="auditor").json["ok"]  # and a full run heals it
    assert api.get(VERIFY, as_="auditor").json["ok"]


def test_a_limited_extension_goes_on_from_where_it_stopped(api, pg_app, postgres_env):
    head = record_history(api, pg_app, postgres_env, 1, 2, interviews=3)
    verifier = AuditVerifier(open_view(postgres_env, "audittrail"), pg_app)
    run = verifier.run(limit=5)
    assert run.result.ok and not run.complete and run.checked == 5
    assert run.result.head_position == 5 and run.trail_end == head
    rest = verifier.run()
    assert rest.result.ok and rest.complete and rest.started_after == 5
    assert rest.checked == head - 5 and rest.result.verified == head
    assert 0 <= verifier.head_age_seconds() < 60


def test_the_audit_page_shows_the_latest_verification_and_when_it_ran(api, pg_app,
                                                                      postgres_env):
    head = record_history(api, pg_app, postgres_env, 1)
    client = api.client.application.test_client()
    sign_in(client, "auditor")
    page = client.get(f"/organizations/{code(1)}/audit")
    assert page.status_code == 200
    assert "完整" in page.text and f"已校验至第 {head} 条" in page.text
    assert "(北京时间)" in page.text and "本次校验重算了整条哈希链" in page.text
    record_history(api, pg_app, postgres_env, 1, interviews=1)
    page = client.get(f"/organizations/{code(1)}/audit?lang=en")
    assert f"verified the 1 entries added since" in page.text, page.text
    assert "(CST, UTC+8)" in page.text

    staff = api.client.application.test_client()  # may read the trail, not verify it
    sign_in(staff, "staff")
    page = staff.get(f"/organizations/{code(1)}/audit")
    assert page.status_code == 200 and "校验" not in page.text


def test_the_cli_extends_and_runs_the_full_verification_on_request(api, pg_app, postgres_env,
                                                                    tmp_path, monkeypatch):
    from adapters.cli.main import main

    head = record_history(api, pg_app, postgres_env, 1)
    for key, value in postgres_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CASEFILE_VAR", str(tmp_path / "var"))
    runner = CliRunner()
    first = runner.invoke(main, ["audit", "verify"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["checked_entries"] == head
    again = runner.invoke(main, ["audit", "verify"])
    assert json.loads(again.output)["checked_entries"] == 0
    assert json.loads(again.output)["mode"] == "extend"
    full = runner.invoke(main, ["audit", "verify", "--full"])
    assert full.exit_code == 0 and json.loads(full.output)["mode"] == "full"
    assert json.loads(full.output)["checked_entries"] == head
