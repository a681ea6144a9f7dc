import pytest

from domain.codes import (jurisdiction_contains, jurisdiction_level, mask_id_number,
                          validate_credit_code, validate_id_number)
from domain.errors import InvalidValue
from tests.support import code, id_number


def test_the_example_code_of_the_brief_is_valid():
    assert validate_credit_code("51310110MJ0000001B") == "51310110MJ0000001B"


@pytest.mark.parametrize("bad, says", [
    ("51310110MJ0000001C", "should be B"),
    ("51310110MJ000000IB", "character set"),
    ("51310110MJ000001B", "18-character"),
    ("51ABCDEFMJ0000001B", "division"),
])
def test_a_wrong_code_is_rejected_with_a_message_that_says_why(bad, says):
    with pytest.raises(InvalidValue) as refused:
        validate_credit_code(bad)
    assert says in refused.value.message
    assert refused.value.field == "code"


def test_generated_codes_pass_their_own_check():
    for n in range(200):
        validate_credit_code(code(n, category="123"[n % 3]))


def test_identity_numbers_are_checked_and_masked():
    number = id_number("19800229", 7)
    assert validate_id_number(number) == number
    assert mask_id_number(number) == number[:3] + "*" * 11 + number[-4:]
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(InvalidValue, match="check character"):
        validate_id_number(wrong)
    impossible = id_number("19810229", 7)
    with pytest.raises(InvalidValue, match="birth date"):
        validate_id_number(impossible)


def test_jurisdiction_tree():
    assert jurisdiction_level("310110000000") == "district"
    assert jurisdiction_level("310110001000") == "sub_district"
    assert jurisdiction_level("310110001001") == "committee"
    assert jurisdiction_contains("310110000000", "310110001001")
    assert jurisdiction_contains("310110001000", "310110001001")
    assert not jurisdiction_contains("310110002000", "310110001001")
    assert not jurisdiction_contains("310230000000", "310110001001")
