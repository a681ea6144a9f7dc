"""A store written by the code before issue 17 (tests/fixtures/store_v1, made by
tests/store_fixture.py with that code) restored into a fresh schema: the code of today,
where ``AnnualReportFiled`` and the Organization's state are version 2 (with the annual
report's ``full_time_staff``), reads it the same, plus the new field's default (None:
not reported).

- Straight after the upgrade, the read models built by the old code answer what they did,
  and what is read from the log (histories, time travel) has the default; the audit
  trail verifies against the upcast events: the old entries' hashes do not change.
- A full rebuild gives the same audit hashes, statistics and network view; the case-file
  view's documents gain the default (docs/EVENTS.md: the upgrade rebuilds it), and once
  rebuilt a second rebuild equals it.
- A version-2 report filed on an organization whose state the views kept in version 1
  (and whose snapshot is version 1) is applied to it; every view still equals a rebuild,
  and the statistics count the staff.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

from adapters.bootstrap import build_casefiles
from adapters.runtime.catch_up import catch_up, rebuild
from adapters.runtime.registry import READ_MODELS, open_view
from tests.conftest import meta
from tests.store_fixture import env_for, load, observe, open_everything, restore


def restored(database_url: str, schema: str):
    keys, expected, tables = load()
    env = env_for(database_url, schema, keys)
    build_casefiles(env=env).close()  # the application's tables
    open_everything(env)              # the views'
    restore(database_url, schema, tables)
    return env, build_casefiles(env=env), expected


def with_default(value):
    """``value`` with ``full_time_staff: None`` in every annual report it holds (a report
    of version 1, read by the code of version 2)."""
    if isinstance(value, dict):
        value = {k: with_default(v) for k, v in value.items()}
        if {"activities_held", "party_organization"} <= set(value):
            value.setdefault("full_time_staff", None)
        return value
    if isinstance(value, list):
        return [with_default(v) for v in value]
    return value


def assert_same(observed: dict, expected: dict, sections) -> None:
    for section in sections:
        assert observed[section] == expected[section], section


def test_the_old_store_reads_the_same_plus_the_default(database_url, schema):
    env, app, expected = restored(database_url, schema)
    try:
        observed = observe(app, env, expected["identifiers"], expected["points"],
                           expected["head"])
        reports = [r for r in observed["casefiles"][expected["identifiers"]["big"]]["history"]
                   if r["type"] == "AnnualReportFiled"]
        assert len(reports) == 6 and all(r["data"]["full_time_staff"] is None for r in reports)
        now = copy.deepcopy(expected)
        for casefile in now["casefiles"].values():
            casefile["history"] = with_default(casefile["history"])  # read from the log
        now["time_travel"] = with_default(now["time_travel"])        # likewise
        assert_same(observed, now, ("casefiles", "time_travel", "audit", "verification",
                                    "statistics", "checksums"))
        assert observed["verification"]["ok"]
    finally:
        app.close()


def test_a_full_rebuild_keeps_the_audit_hashes_and_statistics(database_url, schema):
    env, app, expected = restored(database_url, schema)
    try:
        results = {name: rebuild(env, name, progress=False) for name in READ_MODELS}
        for name in ("audittrail", "statistics", "network"):
            assert results[name]["comparison"] == "identical", results[name]
        # the documents gained the default: different from the old view, which it replaces
        assert results["casefiles"]["comparison"] == "DIFFERENT"
        assert all(result["replaced"] for result in results.values())
        observed = observe(app, env, expected["identifiers"], expected["points"],
                           expected["head"])
        assert_same(observed, with_default(expected),
                    ("casefiles", "time_travel", "audit", "verification", "statistics"))
        assert [e["hash"] for e in observed["audit"]] == [e["hash"] for e in expected["audit"]]
        for name in ("audittrail", "statistics", "network"):
            assert observed["checksums"][name] == expected["checksums"][name], name
        again = rebuild(env, "casefiles", progress=False)
        assert again["comparison"] == "identical", again
    finally:
        app.close()


def test_a_version_2_report_on_an_old_state(database_url, schema):
    """The first organization's state is version 1 in every view and in its snapshot
    (version 50); its report for 2025, with 12 full-time staff, is version 2."""
    env, app, expected = restored(database_url, schema)
    big = expected["identifiers"]["big"]
    try:
        app.execute(big, "annual_report", meta=meta("2026-03-02"), year=2025,
                    income=Decimal(150000), expenditure=Decimal(140000),
                    net_assets=Decimal(60000), activities_held=20, party_organization=True,
                    full_time_staff=12)
        for name in READ_MODELS:
            catch_up(env, name)
        casefiles = open_view(env, "casefiles")
        statistics = open_view(env, "statistics")
        try:
            reports = {r["year"]: r for r in casefiles.get(big)["document"]["annual_reports"]}
            assert reports[2025]["full_time_staff"] == 12
            assert reports[2019]["full_time_staff"] is None  # the old state, upcast
            totals = statistics.totals(jurisdiction_prefix="310110")
            assert totals[2025]["full_time_staff"] == 12
            assert totals[2025]["annual_report_with_staff"] == 1
            assert "full_time_staff" not in totals[2023]
        finally:
            casefiles.datastore.close()
            statistics.datastore.close()
        org = app.organization_at(big, as_of=date(2026, 3, 2))
        assert org.annual_reports["2025"]["full_time_staff"] == 12
        assert org.annual_reports["2020"]["full_time_staff"] is None
        results = {name: rebuild(env, name, progress=False) for name in READ_MODELS}
        for name in ("audittrail", "statistics", "network"):
            assert results[name]["comparison"] == "identical", results[name]
        assert rebuild(env, "casefiles", progress=False)["comparison"] == "identical"
        observed = observe(app, env, expected["identifiers"], expected["points"],
                           expected["head"])
        assert [e["hash"] for e in observed["audit"]] == [e["hash"] for e in expected["audit"]]
        assert observed["verification"]["ok"]
    finally:
        app.close()
