"""Request bodies: declared field by field, checked before anything reaches the domain.

A malformed body is refused with 400 and a message naming the field. Unknown fields are
refused too, so a misspelt field never silently records a default. Every field is
checked, so a body with several bad fields is refused once with all of them: the first is
raised, carrying the others in its ``errors`` (``refused``), so the JSON API answers the
first as its ``error`` and all of them as ``errors``, and a page form shows each next to
its field.

No text may hold an identity number (``IdentityNumberInText``, 422): every string field
but the identifiers (a credit code, a division code, a person's identity number, whose
own checks they pass) is searched for one, so a number typed into an interview's topics
or a penalty's reason is never recorded, shown or published in clear. The officer removes
it and records the person as a person, whose identity number is sealed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from domain.codes import (find_id_numbers, validate_committee, validate_credit_code,
                          validate_id_number, validate_jurisdiction)
from domain.errors import DomainError, InvalidValue, RuleViolation

MAX_TEXT = 4000
MAX_LINE = 200
MAX_ITEMS = 100
MAX_AMOUNT = Decimal("1e13")


class BadRequest(InvalidValue):
    pass


class IdentityNumberInText(RuleViolation):
    """A text field holds an identity number (domain.codes.find_id_numbers). The message
    names the field, never the number."""

    def __init__(self, path: str):
        super().__init__(f"{path} holds an identity number: remove the number and record "
                         "the person as a person instead", rule="identity_number_in_text",
                         field=path)


@dataclass
class F:
    """One field: a kind, whether it is required, and the kind's options."""

    kind: str
    required: bool = True
    choices: tuple[str, ...] = ()
    max_len: int = MAX_LINE
    minimum: Any = None
    maximum: Any = None
    schema: dict[str, "F"] = field(default_factory=dict)
    item: "F | None" = None
    nullable: bool = False
    check: Callable[[Any, str], Any] | None = None
    identifier: bool = False  # a code checked by ``check``: not searched for identity numbers


def text(required: bool = True, max_len: int = MAX_TEXT, nullable: bool = False) -> F:
    return F("str", required, max_len=max_len, nullable=nullable)


def line(required: bool = True, max_len: int = MAX_LINE, nullable: bool = False) -> F:
    return F("str", required, max_len=max_len, nullable=nullable)


def enum(choices: tuple[str, ...], required: bool = True) -> F:
    return F("enum", required, choices=choices)


def a_date(required: bool = True, nullable: bool = False) -> F:
    return F("date", required, nullable=nullable)


def money(required: bool = True, minimum: Decimal | None = Decimal(0),
          nullable: bool = False) -> F:
    return F("decimal", required, minimum=minimum, maximum=MAX_AMOUNT, nullable=nullable)


def integer(minimum: int, maximum: int, required: bool = True, nullable: bool = False) -> F:
    return F("int", required, minimum=minimum, maximum=maximum, nullable=nullable)


def boolean(required: bool = True) -> F:
    return F("bool", required)


def lines(required: bool = True, max_items: int = MAX_ITEMS) -> F:
    return F("list", required, maximum=max_items, item=line())


def obj(schema: dict[str, F], required: bool = True, nullable: bool = False) -> F:
    return F("object", required, schema=schema, nullable=nullable)


def credit_code(required: bool = True, nullable: bool = False) -> F:
    return F("str", required, max_len=18, check=validate_credit_code, nullable=nullable,
             identifier=True)


def jurisdiction(check: Callable[[Any, str], Any] = validate_jurisdiction) -> F:
    return F("str", True, max_len=12, check=check, identifier=True)


def committee() -> F:
    """A residents' or village committee: where an organization is domiciled."""
    return jurisdiction(validate_committee)


def id_number() -> F:
    return F("str", True, max_len=18, check=validate_id_number, identifier=True)


def every_error(error: DomainError) -> list[DomainError]:
    """The refusals an error stands for: those it carries (``refused``), else itself."""
    return getattr(error, "errors", None) or [error]


def refused(errors: list[DomainError]) -> DomainError:
    """The first of several refusals, carrying all of them (one per field: the first
    found for each), to raise."""
    kept: list[DomainError] = []
    fields: set[str] = set()
    for error in (e for found in errors for e in every_error(found)):
        if error.field is not None and error.field in fields:
            continue
        if error.field is not None:
            fields.add(error.field)
        kept.append(error)
    first = kept[0]
    first.errors = kept
    return first


def parse(body: Any, schema: dict[str, F], prefix: str = "") -> dict[str, Any]:
    """Check a JSON object against its schema; return the converted values, or raise the
    first refusal carrying every field's (``refused``)."""
    out, errors = parse_all(body, schema, prefix)
    if errors:
        raise refused(errors)
    return out


def parse_all(body: Any, schema: dict[str, F],
              prefix: str = "") -> tuple[dict[str, Any], list[DomainError]]:
    """The values that passed their checks, and the refusals of those that did not
    (unknown fields first, then in the schema's order)."""
    if not isinstance(body, dict):
        return {}, [BadRequest(f"{prefix.rstrip('.') or 'the body'} must be a JSON object",
                               field=prefix.rstrip(".") or None)]
    errors: list[DomainError] = [
        BadRequest(f"unknown field {prefix}{name}; expected: {', '.join(sorted(schema))}",
                   field=prefix + name) for name in sorted(set(body) - set(schema))]
    out: dict[str, Any] = {}
    for name, spec in schema.items():
        path = prefix + name
        if name not in body:
            if spec.required:
                errors.append(BadRequest(f"{path} is required", field=path))
            continue
        try:
            out[name] = convert(body[name], spec, path)
        except DomainError as e:
            errors.extend(every_error(e))
    return out, errors


def convert(value: Any, spec: F, path: str) -> Any:
    if value is None:
        if spec.nullable:
            return None
        raise BadRequest(f"{path} must not be null", field=path)
    kind = spec.kind
    if kind == "str":
        if not isinstance(value, str):
            raise BadRequest(f"{path} must be a string", field=path)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(f"{path} holds characters that are not valid Unicode",
                             field=path) from None
        if "\x00" in value:
            raise BadRequest(f"{path} holds a NUL character", field=path)
        value = value.strip()
        if not value:
            raise BadRequest(f"{path} must not be empty", field=path)
        if len(value) > spec.max_len:
            raise BadRequest(f"{path} is longer than {spec.max_len} characters", field=path)
        if not spec.identifier and find_id_numbers(value):
            raise IdentityNumberInText(path)
        if spec.check:
            spec.check(value, path)
        return value
    if kind == "enum":
        if not isinstance(value, str) or value not in spec.choices:
            raise BadRequest(f"{path} must be one of {', '.join(spec.choices)}", field=path)
        return value
    if kind == "date":
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise BadRequest(f"{path} must be a date YYYY-MM-DD", field=path)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise BadRequest(f"{path} is not a real date: {value}", field=path) from None
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequest(f"{path} must be a number", field=path)
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise BadRequest(f"{path} must be a number", field=path) from None
        if not number.is_finite():
            raise BadRequest(f"{path} must be a finite number", field=path)
        if spec.minimum is not None and number < spec.minimum:
            raise BadRequest(f"{path} must not be less than {spec.minimum}", field=path)
        if abs(number) > spec.maximum:
            raise BadRequest(f"{path} is too large", field=path)
        if number.as_tuple().exponent < -2:
            raise BadRequest(f"{path} has more than two decimals", field=path)
        return number
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 3.0 is a whole number, as JSON Schema's integer says
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"{path} must be a whole number", field=path)
        if not spec.minimum <= value <= spec.maximum:
            raise BadRequest(f"{path} must be between {spec.minimum} and {spec.maximum}",
                             field=path)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise BadRequest(f"{path} must be true or false", field=path)
        return value
    if kind == "list":
        if not isinstance(value, list):
            raise BadRequest(f"{path} must be a list", field=path)
        if len(value) > spec.maximum:
            raise BadRequest(f"{path} has more than {spec.maximum} items", field=path)
        items, errors = [], []
        for i, item in enumerate(value):
            try:
                items.append(convert(item, spec.item, f"{path}[{i}]"))
            except DomainError as e:
                errors.extend(every_error(e))
        if errors:
            raise refused(errors)
        return items
    if kind == "object":
        return parse(value, spec.schema, path + ".")
    raise AssertionError(kind)
