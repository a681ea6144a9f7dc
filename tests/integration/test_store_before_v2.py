"""A store written by the code before issue 17 (tests/fixtures/store_v1, made by
tests/store_fixture.py) restored into a fresh schema: the code of today reads it the same."""

from __future__ import annotations

from adapters.bootstrap import build_casefiles
from tests.store_fixture import env_for, load, observe, open_everything, restore


def restored(database_url: str, schema: str):
    keys, expected, tables = load()
    env = env_for(database_url, schema, keys)
    build_casefiles(env=env).close()  # the application's tables
    open_everything(env)              # the views'
    restore(database_url, schema, tables)
    return env, build_casefiles(env=env), expected


def test_the_old_store_reads_the_same(database_url, schema):
    env, app, expected = restored(database_url, schema)
    try:
        observed = observe(app, env, expected["identifiers"], expected["points"],
                           expected["head"])
    finally:
        app.close()
    for section in ("casefiles", "time_travel", "audit", "verification", "statistics",
                    "checksums"):
        assert observed[section] == expected[section], section
