"""The walks over a state that find its personal values (domain.personal.personal_owners,
and the transcoders' conversion before JSON) pass plain values by without looking into
them, and still find a personal value at any depth, beside plain ones of every kind."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from uuid import uuid4

from adapters.store.transcoding import make_transcoder
from domain.personal import PersonalDate, PersonalText, erased, personal, personal_owners


def state() -> dict:
    return {
        "name": "协会", "count": 3, "ratio": 0.5, "open": True, "none": None,
        "on": date(2026, 12, 7), "at": datetime(2026, 12, 7, tzinfo=timezone.utc),
        "id": uuid4(), "capital": Decimal("30000.00"),
        "leaders": [{"name": personal("p1", "张伟"), "born": personal("p1", date(1980, 5, 1))},
                    ("plain", {"deeper": [personal("p2", "李娜")]})],
        "gone": erased("p3"),
    }


def test_the_owners_are_found_at_every_depth_and_an_erased_value_has_none():
    assert personal_owners(state(), set()) == {"p1", "p2"}


def test_a_state_without_personal_values_is_converted_as_itself():
    transcoder = make_transcoder()
    plain = {k: v for k, v in state().items() if k not in ("leaders", "gone", "id")}
    plain["list"] = [1, "a", [date(2026, 1, 1)], ("b", None)]
    assert transcoder._convert(plain) is plain


def test_a_uuid_is_converted_to_the_form_the_librarys_encoder_writes():
    transcoder = make_transcoder()
    identifier = uuid4()
    assert transcoder._convert({"id": identifier}) == {
        "id": {"_type_": "uuid_hex", "_data_": identifier.hex}}


def test_personal_values_read_back_as_themselves_and_the_state_is_left_unchanged():
    transcoder = make_transcoder()
    original = state()
    leaders_before = original["leaders"]
    decoded = transcoder.decode(transcoder.encode(original))
    name = decoded["leaders"][0]["name"]
    born = decoded["leaders"][0]["born"]
    deeper = decoded["leaders"][1][1]["deeper"][0]
    assert (type(name), name, name.owner) == (PersonalText, "张伟", "p1")
    assert (type(born), born, born.owner) == (PersonalDate, date(1980, 5, 1), "p1")
    assert (type(deeper), deeper.owner) == (PersonalText, "p2")
    assert decoded["gone"].erased and decoded["capital"] == Decimal("30000.00")
    assert original["leaders"] is leaders_before  # converted copies, not the caller's
    assert type(original["leaders"][0]["name"]) is PersonalText
