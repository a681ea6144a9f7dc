"""Persons at the trust boundary (issue 15, finding 7): looking a person up by identity
number needs ``read_persons``, records nothing and tells nothing about an erased person;
a person is recorded only where first needed (appointed, or banned); and a person's
record belongs to the jurisdictions of the organizations they serve (and where they were
banned), which every read and write of it checks."""

from __future__ import annotations

from tests.conftest import meta, stored_event_count
from tests.support import Api, id_number, registration

LEADER = id_number(n=11)
STRANGER = id_number(n=12)


def appoint(api, number: str = LEADER) -> str:
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    done = api.post(f"{api.org(1)}/leaders", {
        "person": {"name": "周一", "id_number": number}, "roles": ["legal_representative"],
        "term_start": "2021-01-01", "term_end": "2025-12-31", "effective_date": "2021-01-01"})
    assert done.status_code == 201, done.json
    return done.json["person_id"]


def lookup(api, number: str, as_: str = "staff"):
    return api.post("/api/v1/persons/lookup", {"id_number": number}, as_=as_)


def test_a_lookup_needs_read_persons_and_records_nothing(api, pg_app):
    person_id = appoint(api)
    assert lookup(api, LEADER, as_="officer").status_code == 403
    assert lookup(api, LEADER, as_="supervisor").status_code == 403
    found = lookup(api, LEADER)
    assert found.status_code == 200
    assert found.json["person_id"] == person_id and found.json["name"] == "周一"
    assert LEADER not in found.text and found.json["id_number_masked"].endswith(LEADER[-4:])
    before = stored_event_count(pg_app)
    unknown = lookup(api, STRANGER)
    assert unknown.status_code == 404 and STRANGER not in unknown.text
    assert stored_event_count(pg_app) == before  # no person recorded by a lookup
    assert pg_app.find_person(id_number=STRANGER) is None
    assert api.post("/api/v1/persons", {"name": "x", "id_number": STRANGER}).status_code \
        in (404, 405)  # the old look-up-or-record endpoint is gone


def test_a_lookup_answers_nothing_about_an_erased_person(api, tokens, pg_app):
    person_id = appoint(api)
    pg_app.open_account(username="admin1", password="correct horse battery",
                        display_name="admin1", role="admin", jurisdiction=None,
                        organization=None, meta=meta())
    admin = Api(api.client, {**tokens, "admin1": pg_app.issue_token("admin1", meta())})
    erased = admin.post(f"/api/v1/persons/{person_id}/erasure", {"reason": "本人申请"},
                        as_="admin1")
    assert erased.status_code == 201, erased.json
    for as_ in ("staff", "auditor"):
        answer = lookup(api, LEADER, as_=as_)
        assert answer.status_code == 404 and "周一" not in answer.text
        assert person_id not in answer.text


def test_another_districts_staff_can_neither_read_nor_ban_the_person(api, pg_app):
    person_id = appoint(api)
    other = "other_staff"
    assert api.get(f"/api/v1/persons/{person_id}", as_=other).status_code == 403
    assert lookup(api, LEADER, as_=other).status_code == 404  # tells nothing
    before = stored_event_count(pg_app)
    ban = {"from": "2024-01-01", "reason": "刑事判决"}
    assert api.post(f"/api/v1/persons/{person_id}/occupational-bans", ban,
                    as_=other).status_code == 403
    by_number = api.post("/api/v1/persons/occupational-bans",
                         {"person": {"name": "周一", "id_number": LEADER}, **ban}, as_=other)
    assert by_number.status_code == 403
    assert stored_event_count(pg_app) == before
    # the district it serves reads and bans the person; an auditor reads everyone
    assert api.get(f"/api/v1/persons/{person_id}").status_code == 200
    assert api.get(f"/api/v1/persons/{person_id}", as_="auditor").status_code == 200
    banned = api.post(f"/api/v1/persons/{person_id}/occupational-bans", ban)
    assert banned.status_code == 201 and banned.json["bans"][0]["jurisdiction"] == \
        "310110000000"


def test_a_ban_by_identity_number_records_the_person_in_the_banning_district(api, pg_app):
    ban = {"person": {"name": "吴二", "id_number": STRANGER}, "from": "2024-01-01",
           "reason": "刑事判决"}
    assert pg_app.find_person(id_number=STRANGER) is None
    banned = api.post("/api/v1/persons/occupational-bans", ban, as_="other_staff")
    assert banned.status_code == 201, banned.json
    person_id = banned.json["person_id"]
    assert STRANGER not in banned.text
    assert pg_app.find_person(id_number=STRANGER).bans[0]["jurisdiction"] == "310230000000"
    # the person belongs to the banning district: not to the other one
    assert api.get(f"/api/v1/persons/{person_id}").status_code == 403
    assert api.get(f"/api/v1/persons/{person_id}", as_="other_staff").status_code == 200
    assert lookup(api, STRANGER).status_code == 404
    assert lookup(api, STRANGER, as_="other_staff").status_code == 200
    again = api.post("/api/v1/persons/occupational-bans",
                     {**ban, "from": "2024-06-01"}, as_="other_staff")
    assert again.status_code == 201 and len(again.json["bans"]) == 2  # the same person
