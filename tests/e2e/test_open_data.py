"""Open data (issue 16 item 5): the demo's extract, produced by the CLI as the worker does
each day, is served at /public/open-data to anyone: every file parses as CSV and as JSON,
its SHA-256 is the one listed, the data dictionary covers every column, no identity
number or leader's name is in any file, and its counts equal the statistics' counts and
the register's at the same log position."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import time
from collections import Counter
from datetime import date

import pytest
from click.testing import CliRunner

from adapters.seed.demo import generate
from adapters.store.open_data import OpenDataStore
from projections.open_data import TABLES
from tests.conftest import meta, stored_event_count

TODAY = date(2026, 6, 30)
ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9X](?![0-9])")


@pytest.fixture
def demo(pg_app) -> dict:
    summary = generate(pg_app, orgs=12, years=4, seed=2024, echo=lambda _: None, today=TODAY)
    pg_app.establish_node(code="310110000000", name="杨浦区", meta=meta("2026-06-01"))
    return summary


def caught_up(api, pg_app) -> dict:
    """The views, once the worker has applied every recorded event."""
    models = api.client.application.extensions["read_models"]
    head, deadline = stored_event_count(pg_app), time.monotonic() + 120
    while any((models[n].max_tracking_id("casefile") or 0) < head
              for n in ("casefiles", "statistics")):
        assert time.monotonic() < deadline, "the views did not catch up"
        time.sleep(0.2)
    return models


def produce_with_the_cli(postgres_env, monkeypatch, tmp_path) -> str:
    from adapters.cli.main import main

    for key, value in postgres_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CASEFILE_VAR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, ["open-data"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_as_open_data(api, demo, pg_app, postgres_env, monkeypatch, tmp_path):
    public = api.client  # no account: the open data is public
    assert "尚未生成" in public.get("/public/open-data").get_data(as_text=True)
    org = f"/api/v1/organizations/{demo['demo_organization']}"
    for number in ("OD-1", "OD-2"):  # the demo's few organizations have no penalty
        imposed = api.post(f"{org}/penalties", {
            "decision_number": number, "kind": "warning", "legal_basis": "条例第三十条",
            "decision_date": "2026-06-01", "effective_date": "2026-06-01"})
        assert imposed.status_code == 201, imposed.text
    models = caught_up(api, pg_app)
    output = produce_with_the_cli(postgres_env, monkeypatch, tmp_path)
    everyone = demo["organizations"] + demo["community_organizations"]
    assert f"{everyone} organizations" in output

    listing = public.get("/public/open-data?format=json").json
    extract = listing["extract"]
    assert extract["position"] == stored_event_count(pg_app)
    assert extract["organizations"] == everyone
    names = {f["name"] for f in extract["files"]}
    assert names == {f"{t.name}.{s}" for t in TABLES for s in ("csv", "json")}
    dictionary = {t["name"]: [c["name"] for c in t["columns"]] for t in listing["dictionary"]}

    tables: dict[str, list[dict]] = {}
    leader_names = set()
    for row in models["casefiles"].search(limit=500, offset=0)[1]:
        document = models["casefiles"].case_file(row["identifier"])["document"]
        leader_names |= {p["name"] for p in document["leaders"] + document["former_leaders"]
                         if p.get("name")}
    assert leader_names
    for f in extract["files"]:
        response = public.get(f["url"])
        assert response.status_code == 200, f["name"]
        body = response.data
        assert hashlib.sha256(body).hexdigest() == f["sha256"] and len(body) == f["bytes"]
        assert response.headers["ETag"] == f'"{f["sha256"]}"'
        text = body.decode("utf-8")
        assert not ID_NUMBER.search(text), f["name"]
        assert not [n for n in leader_names if n in text], f["name"]
        if f["name"].endswith(".csv"):
            rows = list(csv.DictReader(io.StringIO(text)))
            assert list(rows[0].keys()) == dictionary[f["table"]] if rows else True
            assert text.splitlines()[0].split(",") == dictionary[f["table"]]
            tables[f["table"]] = rows
        else:
            rows = json.loads(text)
            assert all(list(r) == dictionary[f["table"]] for r in rows)
        assert len(rows) == f["rows"], f["name"]

    # the same figures as the register and the statistics at this position
    assert len(tables["organizations"]) == everyone
    assert sorted(r["identifier"] for r in tables["organizations"]) == sorted(
        r["identifier"] for r in models["casefiles"].search(limit=500, offset=0)[1])
    totals = models["statistics"].totals(jurisdiction_prefix="")
    conclusions = Counter((int(r["year"]), r["result"]) for r in tables["annual_conclusions"])
    assert conclusions and conclusions == Counter({
        (year, kind.removeprefix("conclusion_")): n for year, kinds in totals.items()
        for kind, n in kinds.items() if kind.startswith("conclusion_")
        and kind != "conclusion_corrected"})
    def by_kind(prefix: str, leave_out: str = "") -> Counter:
        return sum((Counter({k.removeprefix(prefix): n for k, n in kinds.items()
                             if k.startswith(prefix) and k != leave_out})
                    for kinds in totals.values()), Counter())

    assert Counter(r["list"] for r in tables["credit_listings"]) == by_kind("listed_")
    removed = sum(1 for r in tables["credit_listings"] if r["removed_on"])
    assert removed == sum(n for kinds in totals.values() for k, n in kinds.items()
                          if k.startswith("delisted_"))
    assert Counter(r["kind"] for r in tables["penalties"])["warning"] >= 2
    assert Counter(r["kind"] for r in tables["penalties"]) == by_kind(
        "penalty_", leave_out="penalty_rescinded")
    assert sum(r["rescinded"] == "true" for r in tables["penalties"]) == sum(
        kinds.get("penalty_rescinded", 0) for kinds in totals.values())

    page = public.get("/public/open-data").get_data(as_text=True)
    assert extract["files"][0]["sha256"] in page and "数据字典" in page
    assert "统一社会信用代码" in page and "北京时间" in page
    english = public.get("/public/open-data?lang=en").get_data(as_text=True)
    assert "Data dictionary" in english and "Unified social credit code" in english


def test_one_extract_a_day_and_unknown_files(api, demo, pg_app):
    store = OpenDataStore(api.client.application.extensions["read_models"]["casefiles"]
                          .datastore)
    first = store.produce_daily(TODAY)
    assert first is not None and store.produce_daily(TODAY) is None  # today's is there
    assert store.latest().id == first.id
    public = api.client
    assert public.get("/public/open-data/files/persons.csv").status_code == 404
    assert public.get("/public/open-data/files/..%2Fetc%2Fpasswd").status_code == 404


def test_the_worker_produces_the_days_extract(pg_app, postgres_env, demo):
    """The worker that holds the rules' lock produces the day's extract by itself, once
    the case files have caught up."""
    from adapters.runtime.registry import open_view
    from adapters.runtime.worker import Worker
    from domain.calendar import today_in_china

    running = Worker(postgres_env).start()
    view = open_view(postgres_env, "casefiles")
    try:
        store, deadline = OpenDataStore(view.datastore), time.monotonic() + 120
        while store.latest() is None:
            assert time.monotonic() < deadline, running.errors
            time.sleep(0.5)
        extract = store.latest()
        assert extract.produced_on == today_in_china()
        assert extract.organizations == demo["organizations"] + demo["community_organizations"]
    finally:
        running.stop()
        view.datastore.close()
