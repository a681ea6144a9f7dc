"""One worker per projection group (issue 8, docs/DEPLOYMENT.md): `casefile worker
--projections NAME[,NAME] [--no-rules]`. Workers of disjoint groups run side by side and
each projects its own; a worker for a projection another worker runs stands by; status
names the worker of each projection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from adapters.cli.main import main
from adapters.runtime.catch_up import rebuild
from adapters.runtime.locks import RULES, holders
from adapters.runtime.registry import READ_MODELS, open_view
from adapters.runtime.status import rules_status, status, wait_for
from adapters.runtime.worker import Worker
from tests.conftest import ROOT, meta
from tests.integration.test_services import register
from tests.support import code


def record(app, n: int) -> int:
    for i in range(n):
        app.execute(code(1), "interview", meta=meta("2023-03-01"), person_name=f"p{i}",
                    person_role="chair", topics=["t"])
    return app.recorder.max_notification_id()


def all_caught_up(env, head: int) -> None:
    for name in READ_MODELS:
        view = open_view(env, name)
        try:
            assert wait_for(view, head, 30), f"{name} did not catch up"
        finally:
            view.datastore.close()


def test_workers_of_disjoint_groups_both_project_and_status_names_them(pg_app,
                                                                     postgres_env):
    register(pg_app, 1)
    a = Worker(postgres_env, names=("casefiles", "audittrail"), run_rules=False).start()
    b = Worker(postgres_env, names=("statistics", "network"), run_rules=True,
               run_clock=False).start()
    same = Worker(postgres_env, names=("casefiles",), run_rules=False).start()
    try:
        assert a.holds("casefiles") and a.holds("audittrail")
        assert b.holds("statistics") and b.holds("network") and b.holds(RULES)
        assert not same.holds("casefiles")  # that one is a's: it stands by
        all_caught_up(postgres_env, record(pg_app, 5))
        rows = {r["projection"]: r for r in status(postgres_env)}
        assert all(r["lag"] == 0 for r in rows.values())
        assert rows["casefiles"]["worker"] == rows["audittrail"]["worker"]
        assert rows["statistics"]["worker"] == rows["network"]["worker"]
        assert rows["casefiles"]["worker"] != rows["network"]["worker"]
        assert "[casefiles,audittrail]" in rows["casefiles"]["worker"]
        assert "[statistics,network+rules]" in rows["network"]["worker"]
        assert rules_status(postgres_env)["worker"] == rows["network"]["worker"]
    finally:
        for w in (a, b, same):
            w.stop()
    assert holders(postgres_env) == {}
    for name in READ_MODELS:
        assert rebuild(postgres_env, name, progress=False)["comparison"] == "identical"


def _cli_env(postgres_env, database_url) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
            **{k: postgres_env[k] for k in ("POSTGRES_SCHEMA", "CIPHER_KEY",
                                             "PSEUDONYM_KEY")}}


def test_casefile_worker_runs_a_projection_group(pg_app, postgres_env, database_url):
    register(pg_app, 1)
    env = _cli_env(postgres_env, database_url)
    command = [sys.executable, "-m", "adapters.cli", "worker"]
    workers = [subprocess.Popen(command + ["--projections", "casefiles,audittrail",
                                           "--no-rules"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
               subprocess.Popen(command + ["--projections", "statistics,network"], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)]
    try:
        deadline = time.monotonic() + 60
        while len(holders(postgres_env)) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        held = holders(postgres_env)
        assert set(held) == {*READ_MODELS, RULES}, held
        all_caught_up(postgres_env, record(pg_app, 3))
        shown = subprocess.run([sys.executable, "-m", "adapters.cli", "projections",
                                "status"], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=60)
        assert shown.returncode == 0, shown.stderr
        lines = {line.split()[0]: line for line in shown.stdout.splitlines()[1:]}
        assert "[casefiles,audittrail]" in lines["casefiles"]
        assert "[statistics,network+rules]" in lines["network"]
        assert "[statistics,network+rules]" in lines["rules"]
    finally:
        outputs = []
        for p in workers:
            p.send_signal(signal.SIGTERM)
            outputs.append(p.communicate(timeout=30)[0])
    assert [p.returncode for p in workers] == [0, 0], outputs
    assert "casefiles, audittrail (Ctrl-C" in outputs[0]
    assert "statistics, network + rules and clock" in outputs[1]


def test_casefile_worker_refuses_an_unknown_projection():
    result = CliRunner().invoke(main, ["worker", "--projections", "casefiles,nosuch"])
    assert result.exit_code == 2 and "--projections" in result.output
