"""Every event class matches its committed fingerprint (tests/event_fingerprint.py): a
class whose fields change without a version bump and an upcaster fails here, with what to
do (docs/EVENTS.md, "How to change an event"). The second half proves the check on small
aggregates of its own: it fails on an unversioned change, on a bump without an upcaster,
on an upcaster that adds the wrong field, on a removed field, and on a class that is
gone; it passes a versioned addition."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from tests.event_fingerprint import UPDATE, check, event_classes, fields_of, load


def test_every_event_class_matches_its_fingerprint():
    problems = check(load(), event_classes())
    assert not problems, "\n".join(problems)


def test_every_aggregate_s_events_are_fingerprinted():
    topics = set(event_classes())
    for aggregate in ("organization:Organization", "person:Person", "account:Account",
                      "network:NetworkNode", "network:EarlyWarning", "network:Proposal",
                      "network:Clock", "inspection_plan:InspectionPlan", "rules:Rule"):
        assert any(t.startswith(f"domain.{aggregate}.") for t in topics), aggregate
    assert "domain.organization:Organization.Founded" not in topics  # a base, never stored
    assert load()["domain.organization:Organization.AnnualReportFiled"].keys() == {"1", "2"}


# ------------------------------------------------------------- the check, on samples

class Before(Aggregate):
    class Noted(Aggregate.Event):
        text: str


class Unversioned(Aggregate):
    class Noted(Aggregate.Event):
        text: str
        page: int


class BumpedWithoutUpcaster(Aggregate):
    class Noted(Aggregate.Event):
        class_version = 2
        text: str
        page: int


class UpcastsAnotherField(Aggregate):
    class Noted(Aggregate.Event):
        class_version = 2
        text: str
        page: int

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["line"] = 0


class Removed(Aggregate):
    class Noted(Aggregate.Event):
        class_version = 2
        page: int

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["page"] = 0


class Versioned(Aggregate):
    class Noted(Aggregate.Event):
        class_version = 2
        text: str
        page: int | None

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["page"] = None


TOPIC = "sample:Noted"
RECORDED = {TOPIC: {"1": fields_of(Before.Noted)}}


def test_an_unversioned_change_fails_and_says_what_to_do():
    [problem] = check(RECORDED, {TOPIC: Unversioned.Noted})
    assert "changed without a version bump: added page" in problem
    assert "class_version = 2" in problem and "upcast_v1_v2(state)" in problem
    assert UPDATE in problem


def test_a_bump_without_an_upcaster_fails():
    [problem] = check(RECORDED, {TOPIC: BumpedWithoutUpcaster.Noted})
    assert "has no upcast_v1_v2" in problem


def test_an_upcaster_that_adds_another_field_fails():
    [problem] = check(RECORDED, {TOPIC: UpcastsAnotherField.Noted})
    assert "add line, but the fields added since are page" in problem


def test_a_removed_field_is_a_new_class_not_a_version():
    [problem] = check(RECORDED, {TOPIC: Removed.Noted})
    assert "removed text" in problem and "new event class" in problem


def test_a_class_that_is_gone_fails():
    [problem] = check(RECORDED, {})
    assert problem.startswith(f"{TOPIC} is recorded but no longer exists")


def test_a_versioned_addition_passes_once_recorded():
    [problem] = check(RECORDED, {TOPIC: Versioned.Noted})
    assert "version 2 is not recorded yet" in problem
    recorded = {TOPIC: {**RECORDED[TOPIC], "2": fields_of(Versioned.Noted)}}
    assert check(recorded, {TOPIC: Versioned.Noted}) == []
    # and then holds: the same fields without the bump (or the bump taken back) fail
    [problem] = check(recorded, {TOPIC: Unversioned.Noted})
    assert "changed without a version bump" in problem
    [problem] = check(recorded, {TOPIC: Before.Noted})
    assert "version 2 is recorded: a version never goes back" in problem
