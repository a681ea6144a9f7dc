"""A store written by an older version of the code, kept as a test fixture (issue 17).

``tests/fixtures/store_v1/`` holds a small event store written with the real PostgreSQL
recorder and cipher *before* ``AnnualReportFiled`` became version 2 (and the Organization
aggregate's state with it): every table of its schema (events, snapshots, the person key
table, the time-travel index, the read models and their positions) as PostgreSQL ``COPY``
text (``tables.json.gz``), the keys it was written with (``keys.json``: test keys, never a
real deployment's), and what that code answered about it (``expected.json``: case files,
time travel, histories, the audit trail's hashes, statistics, view checksums).
tests/integration/test_store_before_v2.py restores it into a fresh schema and checks that
the code of today answers the same (plus the new fields' defaults).

How it was made (README.md beside the files says which commit)::

    git worktree add /tmp/casefile-old <commit>     # the code before the change
    cd /tmp/casefile-old && make venv
    .venv/bin/python -m tests.store_fixture make --out /path/to/tests/fixtures/store_v1

``make`` writes the history below into a fresh schema of the test PostgreSQL (the embedded
server in var/test-pgdata, or ``--database-url``), runs the rules engine and every
projection over it, records the answers, dumps the schema and drops it. ``observe`` and
``restore`` are what the test uses: they must keep working with the code of today.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import secrets
import subprocess
import sys
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from adapters.config import postgres_settings_from_url
from domain.meta import Meta
from projections.casefile import timeline_entry
from projections.documents import event_document, organization_document, plain

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "store_v1"
DISTRICT_PREFIX = "310110"
COMMITTEES = ("310110001001", "310110002001")


def env_for(database_url: str, schema: str, keys: dict[str, str]) -> dict[str, str]:
    """The application's settings on that schema with the fixture's keys (as the tests'
    ``postgres_env``)."""
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "adapters.store.recorder:CaseFileRecorder",
            "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": keys["CIPHER_KEY"],
            "PSEUDONYM_KEY": keys["PSEUDONYM_KEY"], "POSTGRES_SCHEMA": schema,
            "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "30",
            **postgres_settings_from_url(database_url)}


def _meta(on: str, reason: str | None = None, reference: str | None = None,
          actor: str = "fixture-staff") -> Meta:
    return Meta(actor_id=actor, actor_role="registration_staff",
                effective_date=date.fromisoformat(on),
                correlation_id=f"fixture:{on}:{reason or ''}:{uuid.uuid4().hex[:8]}",
                reason=reason, reference=reference)


def _report(year: int, n: int) -> dict:
    return dict(year=year, income=Decimal(f"{120000 + 1000 * n}.50"),
                expenditure=Decimal(100000 + 900 * n), net_assets=Decimal(50000 + 100 * n),
                activities_held=10 + n, party_organization=n % 2 == 0)


def write_history(app: Any) -> dict[str, str]:
    """Four organizations in two committees: annual reports and conclusions over five
    years, a correction, a leader (a person with sealed personal data), interviews enough
    for a snapshot (the first organization passes version 50, with reports before and
    after it), penalties, a credit listing, a rectification, and a recorded community
    organization. Returns the identifiers by role."""
    # start-up: only the fixture's maker writes (its helpers are the tests')
    from tests.support import code, id_number

    def register(n: int, category: str, org_type: str, committee: str, on: str) -> str:
        identifier = code(n, category)
        app.register_organization(
            meta=_meta(on, "成立登记"), code=identifier, name=f"示例{org_type}{n}",
            org_type=org_type, domicile={"address": f"示例路{n}号", "jurisdiction": committee},
            business_scope="志愿服务", registered_funds=Decimal(30000 + n),
            supervisory_unit=None if n != 2 else "区民政局", founded_on=date.fromisoformat(on),
            certificate_valid_until=date(2035, 12, 31))
        return identifier

    big = register(1, "1", "social_association", COMMITTEES[0], "2019-03-01")
    second = register(2, "2", "social_service_institution", COMMITTEES[1], "2020-05-01")
    third = register(3, "3", "foundation", COMMITTEES[0], "2021-09-01")
    for n, year in enumerate(range(2019, 2023)):
        app.execute(big, "annual_report", meta=_meta(f"{year + 1}-03-10"), **_report(year, n))
        app.execute(big, "annual_inspection", meta=_meta(f"{year + 1}-06-10"), year=year,
                    result=("qualified", "basically_qualified")[n % 2], findings="")
    app.execute(big, "annual_inspection_correction", meta=_meta("2022-09-01", "补充审计"),
                year=2020, result="qualified", findings="accounts completed")
    app.appoint_leader(big, person={"name": "张三", "id_number": id_number(n=7)},
                       roles=["legal_representative"], term_start=date(2021, 1, 1),
                       term_end=date(2025, 12, 31), meta=_meta("2021-01-05"))
    month = 0
    while app.get_organization(big).version < 51:  # a snapshot at 50
        on = date(2022 + month // 12, month % 12 + 1, 15)
        app.execute(big, "interview", meta=_meta(on.isoformat()), person_name="王五",
                    person_role="秘书长", topics=[f"议题{month}"])
        month += 1
    app.execute(big, "annual_report", meta=_meta("2024-03-08"), **_report(2023, 7))
    app.execute(big, "annual_inspection", meta=_meta("2024-06-12"), year=2023,
                result="unqualified", findings="late accounts")
    app.close_organization(big, "penalty", meta=_meta("2024-09-27", reference="杨民罚1号"),
                           decision_number="P-2024-1", kind="warning", legal_basis="第三十条",
                           amount=None, decision_date=date(2024, 9, 27), suspended_until=None)
    app.execute(big, "credit_listing", meta=_meta("2024-10-08", "未按时报送年报"),
                credit_list="abnormal_activity")
    app.execute(big, "annual_report", meta=_meta("2025-03-03"), **_report(2024, 8))

    for n, year in enumerate((2020, 2021, 2022)):
        app.execute(second, "annual_report", meta=_meta(f"{year + 1}-04-20"),
                    **_report(year, n + 20))
    app.execute(second, "annual_inspection", meta=_meta("2021-06-20"), year=2020,
                result="qualified", findings="")
    app.execute(second, "annual_inspection", meta=_meta("2022-06-20"), year=2021,
                result="unqualified", findings="no audit")
    app.close_organization(second, "penalty", meta=_meta("2023-08-01"),
                           decision_number="P-2023-9", kind="fine", legal_basis="第三十条",
                           amount=Decimal(60000), decision_date=date(2023, 8, 1),
                           suspended_until=None)

    app.execute(third, "annual_report", meta=_meta("2023-03-15"), **_report(2022, 30))
    app.execute(third, "rectification", meta=_meta("2023-04-03"), notice_number="R-1",
                issues=["账目不清"], deadline=date(2023, 5, 31))
    app.execute(third, "rectification_completion", meta=_meta("2023-05-20"),
                notice_number="R-1", note="已整改")

    community = app.record_community_organization(
        meta=_meta("2022-02-01", "备案"), name="示例社区舞蹈队",
        domicile={"address": "示例小区", "jurisdiction": COMMITTEES[1]},
        business_scope="文体活动", founded_on=date(2022, 1, 1))
    return {"big": big, "second": second, "third": third, "community": community.identifier}


def time_travel_points(app: Any, identifiers: dict[str, str]) -> list[dict]:
    """The moments the fixture reads the past at: business dates, and recording times
    between events (the timestamps of some recorded events)."""
    big = identifiers["big"]
    history = app.organization_history(big)
    return [{"identifier": big, "as_of": "2021-12-31"},
            {"identifier": big, "as_of": "2024-06-30"},
            {"identifier": big, "known_at": history[30].timestamp.isoformat()},
            {"identifier": big, "as_of": "2023-06-30",
             "known_at": history[55].timestamp.isoformat()},
            {"identifier": identifiers["second"], "as_of": "2022-01-01"},
            {"identifier": identifiers["third"], "known_at": app.organization_history(
                identifiers["third"])[1].timestamp.isoformat()}]


def observe(app: Any, env: dict[str, str], identifiers: dict[str, str],
            points: list[dict], up_to: int) -> dict:
    """What the code answers about the store, as plain JSON: each organization's case
    file (the live view's row, document and timeline) and recorded history, the past at
    the given points (document and timeline, as ``GET /organizations/{code}?as_of=&
    known_at=`` builds them), every audit entry up to ``up_to`` and the chain's
    verification, the statistics of the district, and each read model's checksum."""
    # start-up: the runtime (views, verifier) only where the fixture is read or made
    from adapters.runtime.registry import READ_MODELS, open_view
    from projections.audit import verify
    from projections.statistics import pass_rates
    from services.log import recorded_events

    views = {name: open_view(env, name) for name in READ_MODELS}
    try:
        casefiles = {}
        for identifier in sorted(identifiers.values()):
            row = views["casefiles"].get(identifier)
            casefiles[identifier] = plain({
                "document": row["document"], "timeline": row["timeline"],
                "risk_flags": row["risk_flags"], "version": row["version"],
                "history": [event_document(e)
                            for e in app.organization_history(identifier)]})
        timeliness = app.rule_as_recorded("timeliness")
        past = []
        for point in points:
            as_of = date.fromisoformat(point["as_of"]) if point.get("as_of") else None
            known_at = (datetime.fromisoformat(point["known_at"]) if point.get("known_at")
                        else None)
            org = app.organization_at(point["identifier"], as_of=as_of, known_at=known_at)
            timeline = [timeline_entry(e, timeliness=timeliness(e.timestamp).parameters_for(
                            org.domicile["jurisdiction"]))
                        for e in app.organization_history(point["identifier"])
                        if (known_at is None or e.timestamp <= known_at)
                        and (as_of is None or e.meta.effective_date <= as_of)]
            past.append({**point, "document": organization_document(org),
                         "timeline": timeline})
        audit = views["audittrail"]
        entries = audit.entries(up_to=up_to)
        verification = verify(audit.all_entries(up_to), recorded_events(app, up_to))
        totals = views["statistics"].totals(jurisdiction_prefix=DISTRICT_PREFIX)
        statistics = {str(y): {"counts": counts, "inspection_pass_rates": pass_rates(counts)}
                      for y, counts in totals.items()}
        return as_json({"casefiles": casefiles, "time_travel": past, "audit": entries,
                        "verification": verification.as_dict(), "statistics": statistics,
                        "checksums": {name: list(view.checksum(up_to=up_to))
                                      for name, view in views.items()}})
    finally:
        for view in views.values():
            view.datastore.close()


def as_json(value: Any) -> Any:
    """Plain JSON as the file keeps it: times in UTC (whatever the session's zone), ids
    as text."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, (date, Decimal)):
        return plain(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _tables(conn: psycopg.Connection, schema: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "AND table_type = 'BASE TABLE' ORDER BY table_name", (schema,)).fetchall()]


def _columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = %s ORDER BY ordinal_position", (schema, table)).fetchall()]


def dump(database_url: str, schema: str) -> dict:
    """Every table of the schema as ``COPY`` text, with its columns."""
    tables = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        for table in _tables(conn, schema):
            columns = _columns(conn, schema, table)
            chunks = []
            with conn.cursor().copy(SQL("COPY {0}.{1} ({2}) TO STDOUT").format(
                    Identifier(schema), Identifier(table),
                    SQL(", ").join(Identifier(c) for c in columns))) as copy:
                for chunk in copy:
                    chunks.append(bytes(chunk))
            tables[table] = {"columns": columns, "copy": b"".join(chunks).decode()}
    return tables


def restore(database_url: str, schema: str, tables: dict) -> None:
    """The dumped rows into the schema's tables (which the application and the views
    create), by column name; then each serial column's sequence past its rows."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        existing = set(_tables(conn, schema))
        missing = sorted(set(tables) - existing)
        assert not missing, f"tables of the fixture that the code no longer creates: {missing}"
        with conn.transaction():
            for table, content in sorted(tables.items()):
                conn.execute(SQL("TRUNCATE {0}.{1}").format(Identifier(schema),
                                                           Identifier(table)))
                with conn.cursor().copy(SQL("COPY {0}.{1} ({2}) FROM STDIN").format(
                        Identifier(schema), Identifier(table),
                        SQL(", ").join(Identifier(c) for c in content["columns"]))) as copy:
                    copy.write(content["copy"].encode())
                for column in content["columns"]:
                    qualified = f'"{schema}"."{table}"'
                    sequence = conn.execute("SELECT pg_get_serial_sequence(%s, %s)",
                                            (qualified, column)).fetchone()[0]
                    if sequence:
                        conn.execute(SQL("SELECT setval(%s, coalesce((SELECT max({0}) FROM "
                                         "{1}.{2}), 0) + 1, false)").format(
                            Identifier(column), Identifier(schema), Identifier(table)),
                            (sequence,))


def open_everything(env: dict[str, str]) -> None:
    """Create every table the code keeps (the application's and each view's)."""
    # start-up: the runtime only where the fixture is read or made
    from adapters.runtime.registry import READ_MODELS, open_view

    for name in READ_MODELS:
        open_view(env, name).datastore.close()


def project(env: dict[str, str], app: Any) -> None:
    """The rules engine over the log, then every read model caught up to the head."""
    # start-up: the runtime only where the fixture is read or made
    from adapters.runtime.catch_up import catch_up
    from adapters.runtime.registry import READ_MODELS
    from services.rules import RulesEngine

    RulesEngine(app).process_pending()
    for name in READ_MODELS:
        catch_up(env, name)


def make(out: Path, database_url: str) -> None:
    # start-up: the application only where the fixture is made
    from adapters.bootstrap import build_casefiles

    keys = {"CIPHER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "PSEUDONYM_KEY": secrets.token_urlsafe(16)}
    schema = "fixture_" + uuid.uuid4().hex[:8]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA {0}").format(Identifier(schema)))
    try:
        env = env_for(database_url, schema, keys)
        app = build_casefiles(env=env)
        try:
            identifiers = write_history(app)
            project(env, app)
            points = time_travel_points(app, identifiers)
            head = app.recorder.max_notification_id()
            expected = {"identifiers": identifiers, "points": points, "head": head,
                        **observe(app, env, identifiers, points, head)}
        finally:
            app.close()
        tables = dump(database_url, schema)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA {0} CASCADE").format(Identifier(schema)))
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    out.mkdir(parents=True, exist_ok=True)
    (out / "keys.json").write_text(json.dumps(keys, indent=2) + "\n")
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1,
                                                  sort_keys=True) + "\n")
    with gzip.open(out / "tables.json.gz", "wt", compresslevel=9) as f:
        json.dump({"made_at_commit": commit, "tables": tables}, f, sort_keys=True)
    print(f"fixture of {head} events written to {out} (code at {commit})")


def published(env: dict[str, str]) -> list[dict]:
    """What the relay publishes of the store, from the start: each message's key and
    value as the relay encodes them (nothing is sent: ``Relay.read`` only)."""
    # start-up: the relay only where the fixture's messages are made
    from adapters.kafka.relay import KafkaSettings, Relay

    relay = Relay(env, KafkaSettings(bootstrap_servers="not-used:9092"))
    messages, position = [], 0
    try:
        while (batch := relay.read(position)) is not None:
            messages += [{"key": key.decode(), "value": value.decode()}
                         for key, value in batch.messages]
            position = batch.last
    finally:
        relay.app.close()
        relay.tracking.datastore.close()
    return messages


def make_messages(out: Path, database_url: str) -> None:
    """The fixture's store restored, and the messages this code's relay publishes of it,
    to ``messages.jsonl`` (the old code's CloudEvents: the ``.v1`` messages a consumer
    meets on the topic from before the change)."""
    # start-up: the application only where the fixture is made
    from adapters.bootstrap import build_casefiles

    keys, _, tables = load(out)
    schema = "fixture_" + uuid.uuid4().hex[:8]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA {0}").format(Identifier(schema)))
    try:
        env = env_for(database_url, schema, keys)
        build_casefiles(env=env).close()
        open_everything(env)
        restore(database_url, schema, tables)
        messages = published(env)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA {0} CASCADE").format(Identifier(schema)))
    with open(out / "messages.jsonl", "w") as f:
        for message in messages:
            f.write(json.dumps(message, ensure_ascii=False) + "\n")
    print(f"{len(messages)} messages written to {out / 'messages.jsonl'}")


def load_messages(folder: Path = FIXTURE) -> list[dict]:
    """The messages the old code's relay published of the fixture's store."""
    return [json.loads(line) for line in (folder / "messages.jsonl").read_text().splitlines()]


def load(folder: Path = FIXTURE) -> tuple[dict, dict, dict]:
    """(keys, expected answers, dumped tables) of the fixture."""
    keys = json.loads((folder / "keys.json").read_text())
    expected = json.loads((folder / "expected.json").read_text())
    with gzip.open(folder / "tables.json.gz", "rt") as f:
        tables = json.load(f)["tables"]
    return keys, expected, tables


def default_database_url() -> str:
    # start-up: the embedded server only when no database is named
    from adapters import embedded

    (ROOT / "var").mkdir(exist_ok=True)
    return embedded.database_uri(ROOT / "var" / "test-pgdata", "postgres", disposable=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.store_fixture")
    sub = parser.add_subparsers(dest="command", required=True)
    maker = sub.add_parser("make", help="write the history with this code and dump it")
    maker.add_argument("--out", type=Path, default=FIXTURE)
    maker.add_argument("--database-url", default=None)
    messages = sub.add_parser("messages", help="what this code's relay publishes of the "
                                               "fixture's store, to messages.jsonl")
    messages.add_argument("--out", type=Path, default=FIXTURE)
    messages.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    run = make if args.command == "make" else make_messages
    run(args.out, args.database_url or default_database_url())


if __name__ == "__main__":
    main(sys.argv[1:])
