"""Issue 18 item 8: the stream's contract and the example consumer. The messages are the
relay's own (``Relay.read``: decoded from the real store, encoded as they are sent), here
without a broker; tests/integration/test_kafka.py sends them through one."""

from __future__ import annotations

import json
import uuid

import jsonschema
import pytest

from adapters.kafka.consumer import ConsumerStats, OrganizationsView
from adapters.kafka.relay import KafkaSettings, Relay
from adapters.kafka.schemas import asyncapi, published_event_classes
from tests.integration.test_kafka import ROOT
from tests.integration.test_personal_data_erasure import admin_token, appoint, erase
from tests.support import code, id_number, registration

API = "/api/v1"


def published(env, after: int = 0) -> tuple[list[tuple[bytes, dict]], int]:
    """(key, CloudEvent) of every message the relay would send after ``after``, and the
    position it reached."""
    relay = Relay(env, KafkaSettings(bootstrap_servers="127.0.0.1:1"))
    messages, position = [], after
    try:
        while (batch := relay.read(position)) is not None:
            messages += [(key, json.loads(value)) for key, value in batch.messages]
            position = batch.last
    finally:
        relay.app.close()
        relay.tracking.datastore.close()
    return messages, position


def consumed(view: OrganizationsView, messages) -> ConsumerStats:
    stats = ConsumerStats()
    for _, message in messages:
        view.apply(message, stats)
    view.commit()
    return stats


@pytest.fixture
def history(api):
    for n in (1, 2):
        assert api.post(f"{API}/organizations", registration(n)).status_code == 201
    leader_1 = appoint(api, 1, "甄士隐", id_number("19500101", 11))
    leader_2 = appoint(api, 2, "贾雨村", id_number("19600202", 22))
    assert api.post(f"{api.org(1)}/changes", {
        "changes": {"name": "杨浦区更名后协会"}, "approval_date": "2022-01-05",
        "effective_date": "2022-01-05", "reason": "更名"}).status_code == 200
    return {"leader_1": leader_1, "leader_2": leader_2}


def test_the_consumer_keeps_each_organizations_own_name(api, postgres_env, history):
    messages, _ = published(postgres_env)
    view = OrganizationsView(":memory:")
    consumed(view, messages)
    ids = {m["subject"]: m["data"]["aggregate_id"] for _, m in messages
           if m["type"].endswith("organization.Registered.v1")}
    # a leader's appointment (after the registration) no longer renames the organization
    assert view.name(ids[code(2)]) == registration(2)["name"]
    assert view.name(ids[code(1)]) == "杨浦区更名后协会"  # the registered change of name
    assert [l["name"] for l in view.leaders(ids[code(1)])] == ["甄士隐"]


def test_the_consumer_drops_an_erased_persons_data(api, pg_app, postgres_env, history):
    messages, reached = published(postgres_env)
    view = OrganizationsView(":memory:")
    consumed(view, messages)
    org_1 = next(m["data"]["aggregate_id"] for _, m in messages if m["subject"] == code(1))
    org_2 = next(m["data"]["aggregate_id"] for _, m in messages if m["subject"] == code(2))
    assert view.leaders(org_1)[0]["name"] == "甄士隐"

    api.tokens["admin"] = admin_token(pg_app)
    assert erase(api, history["leader_1"]).status_code == 201
    later, _ = published(postgres_env, reached)
    kinds = {m["type"].split(".")[-2] for _, m in later}
    assert {"PersonalDataErased", "LeaderPersonalDataErased"} <= kinds
    consumed(view, later)
    erased = view.leaders(org_1)[0]
    assert erased["name"] is None and erased["erased"] is True
    assert "甄士隐" not in json.dumps(view.db.execute("SELECT * FROM leaders").fetchall(),
                                     ensure_ascii=False)
    assert view.leaders(org_2)[0]["name"] == "贾雨村"  # nobody else's

    # a consumer that starts over reads the old appointment as erased, and keeps nothing
    fresh = OrganizationsView(":memory:")
    again, _ = published(postgres_env)
    consumed(fresh, again)
    assert fresh.leaders(org_1)[0]["name"] is None


def test_sequence_is_zero_padded_and_orders_as_the_positions(api, postgres_env, history):
    messages, _ = published(postgres_env)
    sequences = [m["sequence"] for _, m in messages]
    assert all(len(s) == 20 and s.isdigit() for s in sequences)
    assert [int(s) for s in sequences] == [m["data"]["position"] for _, m in messages]
    assert sorted(sequences) == sorted(sequences, key=int)  # as strings, as numbers
    # positions of events not published (the test accounts', recorded first) leave gaps
    assert int(sequences[0]) > 1


def test_every_message_fits_the_asyncapi_document_with_its_kafka_key(api, postgres_env,
                                                                       history):
    document = json.loads((ROOT / "docs" / "asyncapi.json").read_text())
    assert document == json.loads(json.dumps(asyncapi(document["channels"]["events"]
                                                      ["address"], published_event_classes())))
    assert {m["name"] for m in document["components"]["messages"].values()} == \
        set(published_event_classes())
    assert {s["protocol"] for s in document["servers"].values()} == {"kafka"}
    assert document["channels"]["events"]["bindings"]["kafka"]["topic"] == "socorg.events"
    key_schema = document["components"]["messageBindings"]["aggregateKey"]["kafka"]["key"]
    messages, _ = published(postgres_env)
    checker = jsonschema.FormatChecker()
    for key, message in messages:
        spec = document["components"]["messages"][
            message["type"].split(".")[-3] + message["type"].split(".")[-2]]
        assert spec["bindings"] == {"$ref": "#/components/messageBindings/aggregateKey"}
        jsonschema.validate(key.decode(), key_schema, format_checker=checker)
        assert uuid.UUID(key.decode()) == uuid.UUID(message["data"]["aggregate_id"])
        envelope = {k: v for k, v in spec["payload"]["properties"].items() if k != "data"}
        jsonschema.validate({k: v for k, v in message.items() if k != "data"},
                            {**spec["payload"], "properties": envelope,
                             "required": [r for r in spec["payload"]["required"]
                                          if r != "data"]})
    with pytest.raises(jsonschema.ValidationError):  # an unpadded sequence does not fit
        jsonschema.validate("1043", spec["payload"]["properties"]["sequence"])


def test_an_entrys_documents_are_published_without_a_personal_ones_name(api, postgres_env):
    """The meta's documents travel with the event (hash, type, size, flags) and fit the
    type's schema; a personal document's name, which may name the person, does not."""
    pdf, jpeg = b"%PDF-1.4 decision", b"\xff\xd8\xff\xe0 id card copy"
    hashes = []
    for content in (pdf, jpeg):
        response = api.post(f"{API}/documents", data=content,
                            content_type="application/octet-stream")
        assert response.status_code == 201
        hashes.append(response.get_json()["sha256"])
    assert api.post(f"{API}/organizations", registration(1)).status_code == 201
    appoint(api, 1, "甄士隐", id_number("19500101", 11), documents=[
        {"sha256": hashes[0], "name": "理事会决议.pdf", "public": False},
        {"sha256": hashes[1], "name": "甄士隐身份证.jpg", "personal": True}])
    messages, _ = published(postgres_env)
    schemas = {p.stem: json.loads(p.read_text())
               for p in (ROOT / "docs" / "events").glob("*.json")}
    with_documents = [m for _, m in messages if m["data"]["meta"].get("documents")]
    assert {m["type"].split(".")[-2] for m in with_documents} >= {"LeaderAppointed",
                                                                   "PostTaken"}
    for message in with_documents:
        jsonschema.validate(message["data"], schemas[message["type"]])
        assert message["data"]["meta"]["documents"] == [
            {"sha256": hashes[0], "name": "理事会决议.pdf", "media_type": "application/pdf",
             "size": len(pdf), "public": False, "personal": False},
            {"sha256": hashes[1], "media_type": "image/jpeg", "size": len(jpeg),
             "public": False, "personal": True}]
    assert "甄士隐身份证" not in json.dumps([m for _, m in messages], ensure_ascii=False)


def test_the_online_annual_reports_steps_fit_their_schemas(api, pg_app, postgres_env):
    """Issue 16: drafted, submitted, returned, resubmitted and approved (then filed), and a
    directly registered organization's submission (then filed): every message fits its
    type's schema in docs/events, and the filing is the usual AnnualReportFiled.v2."""
    from domain.calendar import today_in_china
    from tests.conftest import meta
    from tests.support import SUPERVISORY_UNIT

    year = today_in_china().year - 1
    figures = {"year": year, "income": 1000, "expenditure": 900, "net_assets": 100,
               "activities_held": 2, "party_organization": False}
    assert api.post(f"{API}/organizations", registration(
        1, supervisory_unit=SUPERVISORY_UNIT)).status_code == 201
    assert api.post(f"{API}/organizations", registration(2)).status_code == 201
    pg_app.open_account(username="org2", password="correct horse battery",
                        display_name="org2", role="organization", jurisdiction=None,
                        organization=code(2), meta=meta("2020-01-01"))
    api.tokens["org2"] = pg_app.issue_token("org2", meta("2020-01-01"))
    steps = [(1, "annual-report-drafts", figures, "org1"),
             (1, f"annual-reports/{year}/submission", {}, "org1"),
             (1, f"annual-reports/{year}/return", {"comments": "请补充"}, "supervisor"),
             (1, f"annual-reports/{year}/submission", {}, "org1"),
             (1, f"annual-reports/{year}/approval", {}, "supervisor"),
             (2, "annual-report-drafts", figures, "org2"),
             (2, f"annual-reports/{year}/submission", {}, "org2")]
    for n, path, body, who in steps:
        answer = api.post(f"{api.org(n)}/{path}", body, as_=who)
        assert answer.status_code == 200, (path, answer.json)
    messages, _ = published(postgres_env)
    schemas = {p.stem: json.loads(p.read_text())
               for p in (ROOT / "docs" / "events").glob("*.json")}
    kinds = []
    for _, message in messages:
        jsonschema.validate(message["data"], schemas[message["type"]])
        kinds.append((message["subject"], message["type"].split(".")[-2]))
    assert [k for s, k in kinds if s == code(1) and k.startswith("AnnualReport")] == [
        "AnnualReportDraftSaved", "AnnualReportSubmitted", "AnnualReportReturned",
        "AnnualReportSubmitted", "AnnualReportApproved", "AnnualReportFiled"]
    assert [k for s, k in kinds if s == code(2) and k.startswith("AnnualReport")] == [
        "AnnualReportDraftSaved", "AnnualReportSubmitted", "AnnualReportFiled"]


def test_a_plans_draw_and_its_published_results_are_on_the_stream(api, postgres_env):
    """Issue 16 item 7: the double-random plan (drawn) and its results (published) are
    messages of their own types, keyed by the plan's id, their subject its number, fitting
    their schemas; the example consumer reads past them."""
    from tests.support import DISTRICT

    for n in (1, 2, 3):
        assert api.post(f"{API}/organizations", registration(n)).status_code == 201
    plan = api.post(f"{API}/inspection-plans", {"number": "K-1", "jurisdiction": DISTRICT,
                                                "seed": 7, "inspectors": ["甲", "乙"]})
    assert plan.status_code == 201, plan.get_json()
    for item in plan.get_json()["drawn"]:
        assert api.post(f"{API}/organizations/{item['identifier']}/inspections", {
            "items": ["财务"], "findings": "账目齐全", "on_site": item["on_site"],
            "inspectors": item["inspectors"], "plan_id": "K-1"}).status_code == 200
    assert api.post(f"{API}/inspection-plans/K-1/publication", {}).status_code == 200
    messages, _ = published(postgres_env)
    schemas = {p.stem: json.loads(p.read_text())
               for p in (ROOT / "docs" / "events").glob("*.json")}
    planned = [m for _, m in messages if m["type"].endswith("inspection_plan.Planned.v1")]
    results = [m for _, m in messages
               if m["type"].endswith("inspection_plan.ResultsPublished.v1")]
    assert len(planned) == 1 and len(results) == 1
    for message in planned + results:
        jsonschema.validate(message["data"], schemas[message["type"]])
        assert message["subject"] == "K-1"
    assert results[0]["data"]["results"] == api.get(
        f"{API}/inspection-plans/K-1").get_json()["results"]
    consumed(OrganizationsView(":memory:"), messages)
