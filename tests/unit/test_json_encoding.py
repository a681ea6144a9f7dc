"""The states are written by orjson (adapters.store.transcoding) as the library's ``json``
encoder wrote them: byte for byte, but for a float's exponent (``1e-07`` is ``1e-7``, the
same number), and read back by the library's decoder as what they were; what orjson would
write otherwise goes to the library's encoder."""

from __future__ import annotations

import math
import string
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.store.transcoding import make_transcoder
from domain.meta import Meta
from domain.personal import personal

TRANSCODER = make_transcoder()


def library_bytes(state) -> bytes:
    """What the library's ``json`` encoder writes for the state (walked as before)."""
    return JSONTranscoder.encode(TRANSCODER, TRANSCODER._convert(state, for_orjson=False))


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12) | \
    st.sampled_from(["", "协会", "负责人\n", 'quote "x"', "back\\slash", "\u2028", "\x00\x1f",
                     "emoji 😀", string.punctuation])
SCALARS = (TEXT | st.integers(min_value=-2**63, max_value=2**64 - 1) | st.booleans()
           | st.none() | st.floats(allow_nan=False, allow_infinity=False)
           | st.dates() | st.datetimes(timezones=st.just(timezone(timedelta(hours=8))))
           | st.uuids() | st.decimals(allow_nan=False, allow_infinity=False, places=2)
           | st.builds(lambda name: personal("p1", name), st.text(min_size=1, max_size=5)))
STATES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.tuples(inner, inner)
                      | st.dictionaries(TEXT, inner, max_size=4), max_leaves=30)


def floats_in(value) -> bool:
    if isinstance(value, dict):
        return any(floats_in(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(floats_in(v) for v in value)
    return type(value) is float


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(TEXT, STATES, max_size=6))
def test_any_state_is_written_as_the_librarys_encoder_wrote_it_and_reads_back(state):
    written, before = TRANSCODER.encode(state), library_bytes(state)
    assert TRANSCODER.decode(written) == TRANSCODER.decode(before)
    if not floats_in(state):
        assert written == before


def test_a_float_is_the_same_number():
    for number in (0.1, 1.192092896e-07, 1e16, -2.5e-300, 123456789.125):
        written = TRANSCODER.encode({"x": number})
        assert TRANSCODER.decode(written)["x"] == number


def test_an_event_with_its_meta_is_written_as_before():
    meta = Meta(actor_id="staff-1", actor_role="registration_staff",
                effective_date=date(2026, 12, 7), correlation_id="c-1", reason="复核",
                rules=("major_event_reporting@v2",),
                documents=({"sha256": "ab" * 32, "name": "决定书.pdf", "size": 10},))
    event = {"meta": meta, "timestamp": datetime(2026, 12, 7, 1, 2, 3, 4, timezone.utc),
             "person_name": personal("p9", "王芳"), "topics": ["财务"], "funds": Decimal("1.50")}
    assert TRANSCODER.encode(event) == library_bytes(event)
    assert TRANSCODER.decode(TRANSCODER.encode(event))["meta"] == meta


def test_what_orjson_would_write_otherwise_is_written_by_the_librarys_encoder():
    for state in ({"n": 2**64}, {"n": -2**63 - 1}, {1: "integer key"}, {"x": math.nan},
                  {"x": [1.0, math.inf]}, {"x": {"deep": -math.inf}}):
        assert TRANSCODER.encode(state) == library_bytes(state)
    assert TRANSCODER.encode({"x": math.nan}) == b'{"x":NaN}'  # as before, not null


def test_a_type_without_a_transcoding_is_refused_as_before():
    class Unknown:
        pass

    for encode in (TRANSCODER.encode, library_bytes):
        try:
            encode({"x": Unknown()})
        except Exception as e:  # the library's TranscodingNotRegisteredError
            assert "not serializable" in str(e)
        else:
            raise AssertionError("encoded a value of an unknown type")
