"""Personal data as values that know whose they are (crypto-shredding, issue 7 item 9).

A person's name, identity number and birth date, wherever an event carries them, are
``PersonalText`` / ``PersonalDate`` values owned by that person (the Person aggregate's
pseudonymous id). They behave as the plain ``str`` / ``date`` they wrap, so documents,
templates and rules use them unchanged; the event store seals each one with the owner's
own key (services.casefiles.PersonalSealing). When the person is erased the key is
destroyed: every stored copy then reads back as ``erased(owner)``, a text ``[erased]``
that says so (``is_erased``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

ERASED = "[erased]"


class PersonalText(str):
    """A personal text field (name, identity number) of the person ``owner``."""

    owner: str
    erased: bool

    def __new__(cls, value: str, owner: Any, erased: bool = False) -> "PersonalText":
        obj = super().__new__(cls, value)
        obj.owner = str(owner)
        obj.erased = erased
        return obj

    def __reduce__(self):
        return PersonalText, (str(self), self.owner, self.erased)

    def __copy__(self) -> "PersonalText":
        return self

    def __deepcopy__(self, memo: dict) -> "PersonalText":
        return self


class PersonalDate(date):
    """A personal date (birth date) of the person ``owner``."""

    owner: str
    erased = False

    def __new__(cls, year: int, month: int, day: int, owner: Any = "") -> "PersonalDate":
        obj = super().__new__(cls, year, month, day)
        obj.owner = str(owner)
        return obj

    def __reduce__(self):
        return PersonalDate, (self.year, self.month, self.day, self.owner)

    def __copy__(self) -> "PersonalDate":
        return self

    def __deepcopy__(self, memo: dict) -> "PersonalDate":
        return self


Personal = (PersonalText, PersonalDate)


def personal(owner: Any, value: Any) -> Any:
    """``value`` (a str or a date) as personal data of ``owner``; None stays None."""
    if value is None or isinstance(value, Personal):
        return value
    if isinstance(value, date):
        return PersonalDate(value.year, value.month, value.day, owner)
    return PersonalText(str(value), owner)


def erased(owner: Any) -> PersonalText:
    """What a personal field of an erased person reads as."""
    return PersonalText(ERASED, owner, erased=True)


def is_erased(value: Any) -> bool:
    return bool(getattr(value, "erased", False)) or value == ERASED


# The types whose values are not personal and hold none (exactly these types: a personal
# value is of a subclass of str or date): a walk over a state passes them by.
PLAIN_TYPES = frozenset({str, int, float, bool, type(None), date, datetime, UUID, Decimal})


def personal_owners(value: Any, into: set[str]) -> set[str]:
    """The owners of the personal values (not yet erased) in an event's state."""
    t = type(value)
    if t is PersonalText or t is PersonalDate:
        if not getattr(value, "erased", False):
            into.add(value.owner)
    elif t is dict or t is list or t is tuple:
        for v in (value.values() if t is dict else value):
            if type(v) not in PLAIN_TYPES:  # (most values: no call for them)
                personal_owners(v, into)
    return into
