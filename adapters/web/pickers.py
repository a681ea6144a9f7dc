"""Choosing an organization, a leader or a network node by its name, within the user's
scope, instead of typing its code.

A form field that names one of these (``PICKERS``) is offered the choices the user may
act on: a ``<datalist>`` filled here, through the API's own reads, so the scope is the
API's (the register search within the reader's jurisdiction; the nodes within it; the
organization's serving leaders). The browser proposes them as the user types a name;
``static/picker.js`` refills an organization's list from the register search when the
scope holds more than the page lists. Nothing needs the script: what was typed (a name,
a code, or a choice "name · code") is resolved here when the form is submitted, again
within the user's scope, and a name that matches none or several is refused next to its
field. A code typed as it is goes on to the command unchanged, whose scope check holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import g
from flask_babel import gettext

from adapters.web.i18n import translate_error
from adapters.web.reads import search
from adapters.web.requests import ApiError, fresh
from domain.access import allowed
from domain.codes import jurisdiction_contains, jurisdiction_level, validate_credit_code
from domain.errors import DomainError

# A form field (its dotted name) and what it names.
PICKERS = {"organization": "organization", "replaces": "leader",
           "domicile.jurisdiction": "committee", "changes.domicile.jurisdiction": "committee",
           "jurisdiction": "node"}
LISTED = 300  # organizations listed in the page; the script searches beyond them
SEARCHED = 20
CODE_AT_END = re.compile(r"(?:^|[\s·(（])([0-9A-Za-z_-]{4,64})[)）]?\s*$")


@dataclass(frozen=True)
class Choices:
    """A picker's choices: (value, name) pairs; ``complete`` when they are all the user's
    scope holds (else the script searches for more)."""

    kind: str
    options: list[tuple[str, str]]
    complete: bool = True


def picker(name: str) -> str | None:
    return PICKERS.get(name)


def choices(kind: str, context: dict) -> Choices:
    """What the user may choose for a picker of this kind."""
    if kind == "organization":
        return _organizations()
    if kind == "leader":
        leaders = (context.get("org") or {}).get("leaders") or []
        return Choices(kind, [(str(x["person_id"]), x.get("name") or "") for x in leaders
                              if x.get("person_id")])
    return Choices(kind, [(n["code"], n["name"]) for n in _nodes()
                          if kind == "node" or jurisdiction_level(n["code"]) == "committee"])


def _organizations(text: str | None = None) -> Choices:
    args = {"limit": str(SEARCHED if text else LISTED)}
    if text:
        args["q"] = text
    try:
        found = search(args)
    except (ApiError, DomainError):  # no read models, or a role that may not search
        return Choices("organization", [], complete=False)
    rows = found["organizations"]
    return Choices("organization", [(r["identifier"], r["name"]) for r in rows],
                   complete=found["total"] <= len(rows))


def _nodes() -> list[dict]:
    """The network's nodes within the actor's jurisdiction (an auditor's: all)."""
    actor = g.actor
    try:
        view = fresh("network", {})  # the reader's own last write included
    except ApiError:
        return []
    if allowed(actor.role, "read_all"):
        return view.nodes("")
    if not actor.jurisdiction:
        return []
    return [n for n in view.nodes(actor.jurisdiction[:6])
            if jurisdiction_contains(actor.jurisdiction, n["code"])]


def resolve(kind: str, typed: str, context: dict) -> tuple[str | None, str | None]:
    """What a picker's typed text names: (its value, None), or (None, why not) in the
    page's language. A code typed as it is (an organization's, a node's, a person's id)
    goes on unchanged: the command checks it and its scope."""
    text = typed.strip()
    if kind == "organization":
        found = _organizations(text).options  # the register search: name or code contains
        code = CODE_AT_END.search(text)
        if not found and code and code.group(1) != text:  # "name · code"
            found = _organizations(code.group(1)).options
    else:
        found = choices(kind, context).options
    value = _one(text, found)
    if value is not None:
        return value, None
    if sum(text in name for _value, name in found) > 1:
        return None, gettext("Several match \u201c%(text)s\u201d: choose one from the list.",
                             text=text)
    if kind == "organization" and re.fullmatch(r"[0-9A-Za-z]{18}", text):
        try:  # a credit code: its own check first, with its reason
            validate_credit_code(text, "organization")
        except DomainError as e:
            return None, translate_error({"code": "invalid_value", "message": e.message,
                                          "field": e.field})
    if re.fullmatch(r"[\x21-\x7e]+", text):  # a code, not a name: the command reads it
        return text, None
    if kind == "leader":
        return None, gettext("No serving leader of this organization is called "
                             "\u201c%(text)s\u201d.", text=text)
    return None, gettext("Nothing within your jurisdiction is called \u201c%(text)s\u201d.",
                         text=text)


def _one(text: str, found: list[tuple[str, str]]) -> str | None:
    """The one choice the text names: its value, its exact name, "name · value", or the
    only one whose name contains the text."""
    for value, name in found:
        if text == value or text == f"{name} · {value}":
            return value
    exact = [value for value, name in found if name == text]
    if len(exact) == 1:
        return exact[0]
    if exact:
        return None
    partial = [value for value, name in found if text and text in name]
    return partial[0] if len(partial) == 1 else None


def resolve_all(body: dict, context: dict) -> tuple[dict, dict[str, str]]:
    """The body with each picker's text replaced by what it names, and the pickers that
    named nothing (left out of the body), with why."""
    errors: dict[str, str] = {}
    for name, kind in PICKERS.items():
        *parents, leaf = name.split(".")
        target: Any = body
        for parent in parents:
            target = target.get(parent) if isinstance(target, dict) else None
        if not isinstance(target, dict) or not isinstance(target.get(leaf), str):
            continue
        value, error = resolve(kind, target[leaf], context)
        if error:
            del target[leaf]
            errors[name] = error
        else:
            target[leaf] = value
    return body, errors
