"""The example consumer reads both versions of AnnualReportFiled (issue 17 item 2), with
no broker: the ``.v1`` messages the relay published before the change (kept with the
fixture: tests/fixtures/store_v1/messages.jsonl, made by the old code) and a ``.v2``
message of today's relay; each fits its own JSON Schema in docs/events/. A version the
consumer does not know stops it with nothing of its batch applied. (On a real broker:
tests/integration/test_kafka_versions.py.)"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from adapters.kafka.cloudevents import to_cloudevent
from adapters.kafka.consumer import ConsumerStats, OrganizationsView, UnknownVersion
from domain.organization import Organization
from tests.conftest import meta
from tests.store_fixture import load_messages
from tests.unit.test_rule_parameters import HERE, register

ROOT = Path(__file__).resolve().parents[2]
V1 = "cn.gov.civilaffairs.socorg.organization.AnnualReportFiled.v1"
V2 = "cn.gov.civilaffairs.socorg.organization.AnnualReportFiled.v2"


def schema(type_name: str) -> dict:
    return json.loads((ROOT / "docs" / "events" / f"{type_name}.json").read_text())


def new_messages(memory_app, staff: int | None) -> list[dict]:
    """Today's relay's messages of an organization that filed a report (the last)."""
    identifier = register(memory_app, 9, HERE)  # (not one of the fixture's)
    memory_app.execute(identifier, "annual_report", meta=meta("2024-03-01"), year=2023,
                       income=Decimal(100000), expenditure=Decimal(90000),
                       net_assets=Decimal(50000), activities_held=12,
                       party_organization=True, full_time_staff=staff)
    return [to_cloudevent(event, position, identifier) for position, event in
            enumerate(memory_app.organization_history(identifier), start=100)]


def a_v2_message(memory_app, staff: int | None) -> dict:
    message = new_messages(memory_app, staff)[-1]
    assert ".AnnualReportFiled." in message["type"]
    return message


def test_the_old_messages_are_v1_and_fit_the_v1_schema():
    reports = [json.loads(m["value"]) for m in load_messages()]
    reports = [m for m in reports if ".AnnualReportFiled." in m["type"]]
    assert len(reports) == 10 and {m["type"] for m in reports} == {V1}
    for message in reports:
        assert "full_time_staff" not in message["data"]
        jsonschema.validate(message["data"], schema(V1))
    with pytest.raises(jsonschema.ValidationError):  # v2 requires the field
        jsonschema.validate(reports[0]["data"], schema(V2))


@pytest.mark.parametrize("staff", [12, 0, None])
def test_a_new_message_is_v2_and_fits_the_v2_schema(memory_app, staff):
    message = a_v2_message(memory_app, staff)
    assert message["type"] == V2 and message["data"]["full_time_staff"] == staff
    jsonschema.validate(message["data"], schema(V2))
    with pytest.raises(jsonschema.ValidationError):  # v1 has no such field
        jsonschema.validate(message["data"], schema(V1))


def test_the_consumer_reads_v1_and_v2(memory_app):
    view, stats = OrganizationsView(":memory:"), ConsumerStats()
    old = [json.loads(m["value"]) for m in load_messages()]
    for message in old:
        view.apply(message, stats)
    new = new_messages(memory_app, 12)
    for message in new:
        view.apply(message, stats)
    view.commit()
    assert stats.processed == len(old) + 2 and stats.gaps == 0
    first = next(m for m in old if ".AnnualReportFiled." in m["type"])["data"]["aggregate_id"]
    reports = view.annual_reports(first)
    assert sorted(reports) == [2019, 2020, 2021, 2022, 2023, 2024]
    assert {(r["type_version"], r["full_time_staff"]) for r in reports.values()} == {(1, None)}
    assert view.annual_reports(new[-1]["data"]["aggregate_id"]) == {
        2023: {"activities_held": 12, "full_time_staff": 12, "type_version": 2}}


def test_a_version_it_does_not_know_stops_the_consumer(memory_app):
    view, stats = OrganizationsView(":memory:"), ConsumerStats()
    message = a_v2_message(memory_app, 3)
    unknown = {**message, "id": "another", "type": message["type"][:-2] + "v3"}
    with pytest.raises(UnknownVersion, match=r"AnnualReportFiled\.v3"):
        view.apply(unknown, stats)
    assert view.db.execute("SELECT count(*) FROM seen").fetchone()[0] == 0
