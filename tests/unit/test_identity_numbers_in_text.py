"""Identity numbers written into free text (domain.codes.find_id_numbers) and the refusal
of every text field that holds one (adapters.commands.validation), but the identity-number
field itself."""

from __future__ import annotations

import pytest

from adapters.commands import validation as v
from adapters.commands.catalog import META_SCHEMA, PERSON
from domain.codes import find_id_numbers, id_number_check_character, validate_id_number
from domain.errors import RuleViolation
from tests.support import id_number

VALID = id_number("19850615", 1)  # 310110198506150013: a digit as its check character
WITH_X = id_number("19850615", 8)  # 31011019850615008X
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def checked(first17: str) -> str:
    """17 digits and their right check character, whatever the digits say."""
    return first17 + id_number_check_character(first17)


def wrong_check(number: str) -> str:
    digit = "0" if number[17] != "0" else "1"
    return number[:17] + digit


def test_the_samples_are_what_they_say():
    assert validate_id_number(VALID) == VALID and VALID[17] != "X"
    assert validate_id_number(WITH_X) == WITH_X and WITH_X[17] == "X"


@pytest.mark.parametrize("text", [
    VALID,
    f"谈话对象身份证号{VALID}，住所在杨浦区",
    f"张某（{VALID}）",
    f"身份证：{VALID}。",
    f"id {VALID} noted",
    f"号码{VALID}号",
])
def test_a_valid_number_in_text_is_found(text):
    assert find_id_numbers(text) == [VALID]


@pytest.mark.parametrize("check", ["X", "x"])
def test_the_x_check_character_in_either_case(check):
    assert find_id_numbers(f"负责人身份证{WITH_X[:17]}{check}已核实") == [WITH_X]


def test_written_in_groups_or_in_fullwidth_digits():
    assert find_id_numbers(f"证号 {VALID[:6]} {VALID[6:14]} {VALID[14:]}") == [VALID]
    assert find_id_numbers(f"证号{VALID[:6]}-{VALID[6:14]}-{VALID[14:]}") == [VALID]
    assert find_id_numbers(f"证号{WITH_X.translate(FULLWIDTH)}") == [WITH_X]


def test_several_numbers():
    assert find_id_numbers(f"{VALID}与{WITH_X}") == [VALID, WITH_X]


@pytest.mark.parametrize("text", [
    wrong_check(VALID),  # an 18-digit reference whose check character is wrong
    f"参考编号{wrong_check(VALID)}",
    wrong_check(WITH_X[:17] + "0"),
    f"流水号1{VALID}",  # inside a longer run of digits
    f"流水号{VALID}7",
    f"9{VALID}9",
    VALID[:17],  # too short
    checked("31011019850230001"),  # 30 February
    checked("31011018501301001"),  # month 13
    checked("31011021000101001"),  # born after 2099
    checked("31011017991231001"),  # born before 1800
    "",
    "财务管理",
])
def test_not_an_identity_number(text):
    assert find_id_numbers(text) == []


def test_the_old_15_digit_numbers_are_not_looked_for():
    """First-generation numbers (6-digit division, YYMMDD, 3-digit sequence) carry no check
    character, so any 15-digit number with a YYMMDD in it would look like one; they are
    invalid since 2013 and are not detected."""
    assert find_id_numbers("旧身份证号310110850615001") == []


# ------------------------------------------------------------ the validation

def test_a_text_field_holding_one_is_refused_naming_the_field():
    with pytest.raises(v.IdentityNumberInText) as refused:
        v.parse({"topics": ["财务管理", f"其配偶身份证{VALID}"]}, {"topics": v.lines()})
    error = refused.value
    assert isinstance(error, RuleViolation)
    assert error.rule == "identity_number_in_text"
    assert error.field == "topics[1]"
    assert "topics[1]" in error.message and "record the person as a person" in error.message
    assert VALID not in error.message


@pytest.mark.parametrize("name", ["reason", "reference"])
def test_the_meta_fields_are_searched(name):
    with pytest.raises(v.IdentityNumberInText) as refused:
        v.parse({name: f"当事人{VALID}"}, META_SCHEMA)
    assert refused.value.field == name


def test_nested_and_line_fields():
    schema = {"changes": v.obj({"name": v.line()})}
    with pytest.raises(v.IdentityNumberInText) as refused:
        v.parse({"changes": {"name": f"协会{WITH_X.lower()}"}}, schema)
    assert refused.value.field == "changes.name"


def test_the_identity_number_field_itself_is_exempt():
    person = v.convert({"name": "张某", "id_number": VALID}, PERSON, "person")
    assert person == {"name": "张某", "id_number": VALID}


def test_a_reference_failing_the_check_is_accepted():
    reference = wrong_check(VALID)
    assert v.parse({"reason": f"依据编号{reference}"}, META_SCHEMA) == {
        "reason": f"依据编号{reference}"}
