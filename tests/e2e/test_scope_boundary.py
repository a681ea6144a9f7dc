"""The trust boundary of scope, idempotency and dates over HTTP (issue 15, findings 3-6):
time travel is scoped by the organization's current jurisdiction; POST /warnings (and the
other network commands) honour their Idempotency-Key; a write dated before the
registration is refused and time travel before it answers 404; a rule's global defaults
are the admins'."""

from __future__ import annotations

from datetime import datetime, timezone

from eventsourcing.domain import Aggregate

from domain.organization import Organization
from tests.conftest import meta, stored_event_count
from tests.e2e.test_pages import sign_in
from tests.support import OTHER_COMMITTEE, code, registration

PASSWORD = "correct horse battery"
WARNING = {"organization": code(1), "severity": "high", "source": "information_officer",
           "title": "场所异常", "description": "夜间聚集"}


def registered(api, n: int = 1) -> str:
    assert api.post("/api/v1/organizations", registration(n)).status_code == 201
    return api.org(n)


# ----------------------------------------------------- finding 3: current jurisdiction

def test_an_organization_that_moved_away_is_out_of_the_old_committees_scope_in_every_read(api):
    org = registered(api)
    assert api.get(org, as_="officer").status_code == 200
    before_move = datetime.now(timezone.utc).isoformat()
    moved = api.post(f"{org}/changes", {
        "changes": {"domicile": {"address": "新址", "jurisdiction": OTHER_COMMITTEE}},
        "approval_date": "2024-03-01", "effective_date": "2024-03-01", "reason": "迁址"})
    assert moved.status_code == 200, moved.text
    reads = [org, f"{org}?as_of=2023-01-01", f"{org}?known_at={before_move}",
             f"{org}?as_of=2023-01-01&known_at={before_move}", f"{org}/events",
             f"{org}/audit"]
    for path in reads:
        answer = api.client.get(path.replace("+", "%2B"),
                                headers={"Authorization": f"Bearer {api.tokens['officer']}"})
        assert answer.status_code == 403, (path, answer.status_code)
        assert answer.json["error"]["code"] == "forbidden_jurisdiction"
    # the district's staff still see it, in the past too
    assert api.get(f"{org}?as_of=2023-01-01").json["domicile"]["jurisdiction"] == \
        "310110001001"
    page = api.client.application.test_client()
    sign_in(page, "officer")
    for path in (f"/organizations/{code(1)}", f"/organizations/{code(1)}?as_of=2023-01-01",
                 f"/organizations/{code(1)}/audit"):
        shown = page.get(path)
        assert shown.status_code == 403, (path, shown.status_code)
        assert "夜间" not in shown.text and "新址" not in shown.text


# ------------------------------------------------------- finding 4: Idempotency-Key

def test_a_warning_replays_its_idempotency_key_and_refuses_it_for_another_body(api, pg_app):
    registered(api)
    registered(api, 2)
    key = {"Idempotency-Key": "warn-1"}
    first = api.post("/api/v1/warnings", WARNING, as_="officer", headers=key)
    assert first.status_code == 201, first.text
    recorded = stored_event_count(pg_app)
    again = api.post("/api/v1/warnings", WARNING, as_="officer", headers=key)
    assert again.status_code == 201 and again.json["id"] == first.json["id"]
    assert again.json["severity"] == "high" and stored_event_count(pg_app) == recorded
    for other in ({**WARNING, "severity": "low"}, {**WARNING, "organization": code(2)}):
        reused = api.post("/api/v1/warnings", other, as_="officer", headers=key)
        assert reused.status_code == 422, reused.text
        assert reused.json["error"]["code"] == "idempotency_key_reused"
        assert reused.json["error"]["field"] == "Idempotency-Key"
    assert stored_event_count(pg_app) == recorded
    # the key is the actor's: another account's same key is another request
    other = api.post("/api/v1/warnings", WARNING, as_="staff", headers=key)
    assert other.status_code == 201 and other.json["id"] != first.json["id"]


def test_malformed_idempotency_keys_are_refused_by_the_network_commands(api, pg_app):
    registered(api)
    warning = api.post("/api/v1/warnings", WARNING, as_="officer").json
    recorded = stored_event_count(pg_app)
    for bad in ("has spaces", "x" * 5000, "a/b"):
        headers = {"Idempotency-Key": bad}
        for path, body in (("/api/v1/warnings", WARNING),
                           (f"/api/v1/warnings/{warning['id']}/acknowledgement", {})):
            answer = api.post(path, body, as_="officer", headers=headers)
            assert answer.status_code == 400, (path, bad[:10], answer.status_code)
            assert answer.json["error"]["code"] == "bad_idempotency_key"
    assert stored_event_count(pg_app) == recorded


def test_handling_a_warning_twice_with_one_key_answers_the_first_handling(api, pg_app):
    registered(api)
    warning = api.post("/api/v1/warnings", WARNING, as_="officer").json
    path, key = f"/api/v1/warnings/{warning['id']}/acknowledgement", {"Idempotency-Key": "ack"}
    first = api.post(path, {}, as_="officer", headers=key)
    assert first.status_code == 200 and first.json["status"] == "acknowledged"
    recorded = stored_event_count(pg_app)
    again = api.post(path, {}, as_="officer", headers=key)
    assert again.status_code == 200 and again.json["version"] == first.json["version"]
    assert stored_event_count(pg_app) == recorded
    assert api.post(path, {}, as_="officer").status_code == 422  # already acknowledged


def test_a_warning_outside_the_scope_is_refused_by_the_use_case_and_nothing_recorded(api,
                                                                                      pg_app):
    assert api.post("/api/v1/organizations", registration(
        2, domicile={"address": "x", "jurisdiction": OTHER_COMMITTEE})).status_code == 201
    recorded = stored_event_count(pg_app)
    outside = api.post("/api/v1/warnings", {**WARNING, "organization": code(2)}, as_="officer")
    assert outside.status_code == 403
    bad_key = api.post("/api/v1/warnings", {**WARNING, "organization": code(2)},
                       as_="officer", headers={"Idempotency-Key": "a b"})
    assert bad_key.status_code == 403  # the scope before the headers, as elsewhere
    missing = api.post("/api/v1/warnings", {**WARNING, "organization": code(9)},
                       as_="officer")
    assert missing.status_code == 404
    assert stored_event_count(pg_app) == recorded


# --------------------------------------------------- finding 5: dates before registration

def test_a_write_before_the_registration_is_refused_and_time_travel_before_it_is_404(api,
                                                                                     pg_app):
    org = registered(api)  # registered 2020-05-01
    recorded = stored_event_count(pg_app)
    early = api.post(f"{org}/management-suggestions", {
        "number": "S1", "content": "c", "effective_date": "2019-05-01"})
    assert early.status_code == 422, early.text
    assert early.json["error"]["field"] == "effective_date"
    assert early.json["error"]["code"] == "before_registration"
    interview = api.post(f"{org}/interviews", {"person_name": "甲", "person_role": "会长",
                                               "topics": ["t"],
                                               "effective_date": "0001-01-01"})
    assert interview.status_code == 422 and interview.json["error"]["field"] == \
        "effective_date"
    assert stored_event_count(pg_app) == recorded
    assert api.get(f"{org}?as_of=2019-01-01").status_code == 404
    assert api.get(f"{org}?as_of=2020-05-01").status_code == 200


def test_time_travel_before_the_registration_is_404_for_old_data_dated_before_it(
        api, pg_app, monkeypatch):
    org = registered(api)
    with monkeypatch.context() as before_the_refusal:  # data recorded before it existed
        before_the_refusal.setattr(Organization, "trigger_event", Aggregate.trigger_event)
        organization = pg_app.get_organization(code(1))
        organization.hold_interview(person_name="甲", person_role="会长", topics=["t"],
                                    meta=meta("2019-05-01"))
        pg_app.save(organization)
    for as_of in ("2018-01-01", "2019-06-01", "2020-04-30"):
        answer = api.get(f"{org}?as_of={as_of}")
        assert answer.status_code == 404, (as_of, answer.status_code)
        assert answer.json["error"]["code"] == "not_found"
    assert api.get(f"{org}?as_of=2020-05-01").status_code == 200


# ------------------------------------------------------ finding 6: a rule's defaults

def rule_version(api, name: str = "timeliness") -> int:
    return {r["name"]: r for r in api.get("/api/v1/rules").json["rules"]}[name]["version"]


def put_rule(api, as_: str, **body):
    return api.client.put("/api/v1/rules/timeliness",
                          json={"parameters": {"working_days": 7}, "reason": "试行", **body},
                          headers={"Authorization": f"Bearer {api.tokens[as_]}"})


def test_a_rules_global_defaults_are_the_admins_and_overrides_the_districts_own(api,
                                                                               pg_app):
    version = rule_version(api)
    for as_, body in (("other_staff", {}), ("staff", {}),
                      ("other_staff", {"jurisdiction": "310110000000"}),
                      ("other_staff", {"jurisdiction": "310110001001"}),
                      ("staff", {"jurisdiction": "310230000000"}),
                      ("officer", {"jurisdiction": "310110001001"})):
        refused = put_rule(api, as_, **body)
        assert refused.status_code == 403, (as_, body, refused.text)
    assert rule_version(api) == version
    assert pg_app.rules()["timeliness"].parameters == {"working_days": 5}
    assert pg_app.rules()["timeliness"].overrides == {}
    own = put_rule(api, "staff", jurisdiction="310110001000")
    assert own.status_code == 200 and own.json["version"] == version + 1
    assert own.json["overrides"] == {"310110001000": {"working_days": 7}}
    pg_app.open_account(username="root", password=PASSWORD, display_name="管理员",
                        role="admin", jurisdiction=None, organization=None, meta=meta())
    api.tokens["root"] = pg_app.issue_token("root", meta())
    defaults = put_rule(api, "root")
    assert defaults.status_code == 200 and defaults.json["parameters"] == {"working_days": 7}
    assert rule_version(api) == version + 2
