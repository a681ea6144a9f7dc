"""Identifiers: the unified social credit code, identity numbers, jurisdiction codes."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from domain.errors import InvalidValue

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = [pow(3, i, 31) for i in range(17)]
CIVIL_AFFAIRS_CATEGORIES = {"1": "social_association", "2": "social_service_institution",
                            "3": "foundation", "9": "other"}


def credit_code_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015)."""
    total = sum(CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def validate_credit_code(code: object, field: str = "code") -> str:
    """Return the code if it is a well-formed unified social credit code, else raise."""
    if not isinstance(code, str) or len(code) != 18:
        raise InvalidValue(f"{field} must be an 18-character unified social credit code", field=field)
    bad = sorted({c for c in code if c not in CREDIT_CODE_CHARSET})
    if bad:
        raise InvalidValue(
            f"{field} contains characters outside the code's character set: {''.join(bad)}"
            " (I, O, S, V, Z and lower case are not used)", field=field)
    if not re.fullmatch(r"[0-9]{6}", code[2:8]):
        raise InvalidValue(f"{field} positions 3-8 must be the 6-digit division code", field=field)
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        raise InvalidValue(
            f"{field} {code} fails its check character: the 18th character should be "
            f"{expected}, not {code[17]}", field=field, rule="credit_code_check_character")
    return code


def make_credit_code(category: str, division: str, org_code: str) -> str:
    """Build a valid code from category digit, 6-digit division and 9-character body."""
    first17 = "5" + category + division + org_code
    return first17 + credit_code_check_character(first17)


ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def id_number_check_character(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def validate_id_number(value: object, field: str = "id_number") -> str:
    """A resident identity number (GB 11643): 17 digits and a check character."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        raise InvalidValue(f"{field} must be an 18-character identity number", field=field)
    if id_number_check_character(value[:17]) != value[17]:
        raise InvalidValue(f"{field} fails its check character", field=field)
    try:
        birth_date_from_id_number(value)
    except ValueError:
        raise InvalidValue(f"{field} holds an impossible birth date", field=field) from None
    return value


def birth_date_from_id_number(value: str) -> date:
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


# An identity number written into free text: 6 digits of division, a birth date from 1800
# to 2099, 3 digits of sequence and the check character (x or X), not inside a longer run
# of digits. The 6-8-4 grouping may be set off by one space or hyphen, as numbers are
# often written. Full-width digits count (NFKC). Only numbers whose check character and
# birth date are right count, so an ordinary 18-digit reference is not taken for one
# (about 1 in 10,000 random 18-digit numbers is). The 15-digit numbers of the first
# generation of cards (no check character, invalid since 2013) are not looked for: any
# 15-digit number with a YYMMDD in it would look like one.
ID_NUMBER_IN_TEXT_RE = re.compile(
    r"(?<![0-9])(?=([0-9]{6})[ -]?((?:18|19|20)[0-9]{6})[ -]?([0-9]{3})([0-9Xx])(?![0-9]))")


def find_id_numbers(text: str) -> list[str]:
    """The identity numbers (GB 11643, right check character and birth date) in a text,
    as 18 characters with an upper-case X."""
    found = []
    for match in ID_NUMBER_IN_TEXT_RE.finditer(unicodedata.normalize("NFKC", text)):
        number = "".join(match.groups()).upper()
        if id_number_check_character(number[:17]) != number[17]:
            continue
        try:
            birth_date_from_id_number(number)
        except ValueError:
            continue
        found.append(number)
    return found


def mask_id_number(value: str) -> str:
    """`310***********1234`: the first three and last four characters only."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


JURISDICTION_RE = re.compile(r"[0-9]{12}")


def validate_jurisdiction(value: object, field: str = "jurisdiction") -> str:
    if not isinstance(value, str) or not JURISDICTION_RE.fullmatch(value):
        raise InvalidValue(f"{field} must be a 12-digit statistical division code", field=field)
    return value


def validate_committee(value: object, field: str = "jurisdiction") -> str:
    """A residents' or village committee's code: a leaf of the network (its last three
    digits not 000), where an organization is domiciled."""
    code = validate_jurisdiction(value, field)
    if jurisdiction_level(code) != "committee":
        raise InvalidValue(f"{field} must be a residents' or village committee "
                           "(a leaf of the network, last three digits not 000)", field=field)
    return code


def jurisdiction_level(code: str) -> str:
    """district (区), sub_district (街道/乡镇) or committee (居委会/村委会)."""
    if code[6:] == "000000":
        return "district"
    if code[9:] == "000":
        return "sub_district"
    return "committee"


def jurisdiction_prefix(code: str) -> str:
    level = jurisdiction_level(code)
    return {"district": code[:6], "sub_district": code[:9], "committee": code}[level]


def jurisdiction_contains(node: str, leaf: str) -> bool:
    """Whether the leaf jurisdiction lies inside (or is) the node."""
    return leaf.startswith(jurisdiction_prefix(node))
