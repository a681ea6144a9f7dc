"""The demo district: valid by the domain's own rules, deterministic, loaded once."""

from __future__ import annotations

import io
import re
import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from uuid import UUID

import pytest

from adapters.seed.demo import DEMO_ACCOUNTS, generate, load_demo_once
from domain.errors import Conflict
from domain.meta import ROLES
from domain.organization import Organization, is_exempt_year
from domain.rules import defaults
from services.errors import AuthenticationFailed

TODAY = date(2026, 6, 30)
ORGS, YEARS, SEED = 60, 4, 2024
EXEMPT_MONTHS = defaults("annual_inspection")["exempt_months"]


def organizations(app) -> list[Organization]:
    """Every organization that has events in the store, in the order first recorded."""
    notifications = app.recorder.select_notifications(1, 10_000_000)
    ids = dict.fromkeys(n.originator_id for n in notifications
                        if n.topic.startswith("domain.organization:Organization."))
    return [app.repository.get(i) for i in ids]


def recorded(app) -> list[tuple]:
    """Every event in the log's order: whose, which version, when recorded."""
    return [(n.originator_id, n.originator_version, app.mapper.to_domain_event(n).timestamp)
            for n in app.recorder.select_notifications(1, 10_000_000)]


def fingerprint(orgs: list[Organization]) -> dict[str, tuple]:
    return {o.identifier: (o.version, o.status, tuple(sorted(
        (y, c["result"]) for y, c in o.conclusions.items()))) for o in orgs}


def test_generated_district_obeys_the_rules_and_is_deterministic(pg_app, memory_app):
    lines: list[str] = []
    summary = generate(pg_app, orgs=ORGS, years=YEARS, seed=SEED, echo=lines.append,
                       progress=False, today=TODAY)
    assert summary["organizations"] == ORGS
    assert summary["community_organizations"] == ORGS // 10
    assert summary["events"] == pg_app.recorder.max_notification_id()
    assert lines and "organizations" in lines[0]

    orgs = organizations(pg_app)
    assert len(orgs) == ORGS + ORGS // 10
    # every organization loads, also by its identifier
    for org in orgs:
        assert pg_app.get_organization(org.identifier).version == org.version
    registered = [o for o in orgs if o.org_type != "community_organization"]
    assert Counter(o.code[1] for o in registered).keys() <= {"1", "2", "3"}
    assert {o.domicile["jurisdiction"][:6] for o in orgs} == {"310110"}

    results = Counter(c["result"] for o in orgs for c in o.conclusions.values())
    assert results["qualified"] and results["basically_qualified"] and results["unqualified"]
    assert results["unqualified"] > results["basically_qualified"]

    for org in registered:
        legal_reps = [p for p, leader in org.leaders.items()
                      if "legal_representative" in leader["roles"]]
        if org.status == "active":
            assert len(legal_reps) == 1, org.identifier
        for year, report in org.annual_reports.items():
            assert report["filed_on"].year > int(year)
            assert not is_exempt_year(org.registered_on, int(year), EXEMPT_MONTHS)
        for year, conclusion in org.conclusions.items():
            if year not in org.annual_reports:
                assert conclusion["result"] == "unqualified"
        for inspection in org.inspections:
            if inspection["on_site"]:
                assert len(set(inspection["inspectors"])) >= 2
        # the Person aggregates agree with the organization's leaders
        for person_id in org.leaders:
            person = pg_app.get_person(UUID(person_id))
            assert org.identifier in person.posts
    assert any(o.status in ("deregistered", "revoked") for o in orgs)
    assert any(o.penalties for o in orgs)
    assert any(o.credit_listings for o in orgs)
    assert any(o.rectifications for o in orgs)
    assert any(o.major_events for o in orgs)
    assert any(o.former_leaders for o in orgs)

    # the same seed on another store gives the same district
    again = generate(memory_app, orgs=ORGS, years=YEARS, seed=SEED, echo=lambda _: None,
                     progress=False, today=TODAY)
    assert {k: v for k, v in again.items() if k != "seconds"} == \
        {k: v for k, v in summary.items() if k != "seconds"}
    assert fingerprint(organizations(memory_app)) == fingerprint(orgs)
    # ... recorded at the same moments of the demo's clock, in the same order
    assert recorded(memory_app) == recorded(pg_app)


def test_generating_twice_into_one_store_is_refused(memory_app):
    generate(memory_app, orgs=5, years=2, seed=1, echo=lambda _: None, today=TODAY)
    with pytest.raises(Conflict):
        generate(memory_app, orgs=5, years=2, seed=1, echo=lambda _: None, today=TODAY)


def test_progress_bar_shows_organizations_rate_and_time_remaining(memory_app, monkeypatch):
    """The demo draws the command line's one progress bar (adapters.progress) on stderr:
    organizations done, events per second and the time remaining."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    generate(memory_app, orgs=5, years=2, seed=SEED, echo=lambda _: None, progress=True,
             today=TODAY)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())  # without colours
    assert "1/5 orgs" in text and "5/5 orgs" in text
    assert "events/s" in text
    assert re.search(r"\d+:\d\d:\d\d", text)  # the time remaining
    assert text.endswith("\n")


def test_load_demo_once_loads_once_and_prints_working_credentials(pg_app):
    first: list[str] = []
    tokens = load_demo_once(pg_app, first.append, orgs=20, years=3, seed=SEED,
                            progress=False, today=TODAY)
    assert {a[2] for a in DEMO_ACCOUNTS} == set(ROLES) - {"system"}
    assert set(tokens) == {a[0] for a in DEMO_ACCOUNTS}
    text = "\n".join(first)
    passwords = dict(re.findall(r"^\s+(demo-[a-z]+)\s.*password: (\S+)$", text, re.M))
    assert set(passwords) == set(tokens)
    for username, password in passwords.items():
        assert pg_app.authenticate_password(username, password).username == username
    issued = datetime.now(timezone.utc)
    assert "valid for 90 days" in text
    for username, token in tokens.items():
        assert token in text
        account, _token_id, expires = pg_app.authenticate_token(token)
        assert account.username == username
        # the token printed at start-up expires like any other (issue 15, finding 8)
        assert timedelta(days=89) < expires - issued <= timedelta(days=90)
        with pytest.raises(AuthenticationFailed):
            pg_app.authenticate_token(token, now=expires)
    demo_org = pg_app.get_account("demo-org").organization
    assert pg_app.get_organization(demo_org).status == "active"
    assert pg_app.get_account("demo-officer").jurisdiction == \
        pg_app.get_organization(demo_org).domicile["jurisdiction"]
    loaded = len(organizations(pg_app))
    assert loaded == 20 + 2

    position = pg_app.recorder.max_notification_id()
    second: list[str] = []
    tokens_again = load_demo_once(pg_app, second.append, orgs=20, years=3, seed=SEED,
                                  progress=False, today=TODAY)
    new = pg_app.recorder.select_notifications(position + 1, 1000)
    assert [n.topic for n in new] == ["domain.account:Account.TokenIssued"] * len(tokens)
    text = "\n".join(second)
    assert "password:" not in text
    assert "casefile accounts password demo-staff" in text
    for username, token in tokens_again.items():
        assert token != tokens[username]
        assert pg_app.authenticate_token(token)[0].username == username
    assert len(organizations(pg_app)) == loaded


def test_a_data_set_larger_than_one_district_is_generated_in_parts(memory_app, monkeypatch):
    """`casefile demo --orgs N` beyond the name pool of one district: parts with
    consecutive seeds into one store, no identity number (so no person) drawn twice."""
    import adapters.seed.demo as demo
    from domain.person import Person

    monkeypatch.setattr(demo, "CHUNK_ORGS", 25)
    lines: list[str] = []
    summary = demo.generate_many(memory_app, orgs=60, years=YEARS, seed=SEED,
                                 echo=lines.append, today=TODAY)
    assert summary["parts"] == 3 and summary["organizations"] == 60
    assert summary["events"] == memory_app.recorder.max_notification_id()
    orgs = organizations(memory_app)
    assert len({o.identifier for o in orgs}) == 60 + summary["community_organizations"]
    notifications = memory_app.recorder.select_notifications(1, 10_000_000)
    person_ids = {n.originator_id for n in notifications
                  if n.topic == "domain.person:Person.Registered"}
    assert len(person_ids) == summary["persons"] > 60
    assert [line for line in lines if line.startswith("part 3/3")]
    persons = [memory_app.repository.get(i) for i in person_ids]
    assert all(isinstance(p, Person) for p in persons)
    assert len({p.id_number for p in persons}) == len(persons)
