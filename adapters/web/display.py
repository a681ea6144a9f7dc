"""Values as people read them, in the page's language: codes as labels (adapters.web.
labels), the texts the rules wrote recognized and translated (domain.texts), amounts in
yuan with separators, times in China Standard Time with the zone named, nothing shown
for nothing ("—", never ``None``), and a changed value of the audit trail as a list of
its fields. The pages use them as Jinja filters (``register``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask
from flask_babel import format_currency, format_decimal, get_locale, gettext
from markupsafe import Markup, escape

from adapters.web.labels import LABELS, event_label, field_label, label, value_kind
from domain.calendar import CHINA
from domain.personal import ERASED
from domain.texts import TEXTS, recognize

NOTHING = "—"
MONEY_FIELDS = {"amount", "registered_funds", "income", "expenditure", "net_assets"}
# How a stored text's parameter is shown, by its name (domain/texts.py).
PARAMETER_KINDS = {"penalty_kind": "penalty_kind", "level": "level", "status": "status"}


def chinese() -> bool:
    return str(get_locale() or "zh").startswith("zh")


def blank(value: Any) -> str:
    return NOTHING if value is None or value == "" else str(value)


def money(amount: Any) -> str:
    """An amount in yuan with thousands separators (¥1,000,000.00); "—" for none."""
    if amount is None or amount == "":
        return NOTHING
    try:
        return format_currency(Decimal(str(amount)), "CNY")
    except (InvalidOperation, ValueError):
        return str(amount)


def when(moment: Any) -> str:
    """A moment in China Standard Time, minutes, with the zone named:
    "2024-03-01 14:05 (北京时间)", "2024-03-01 14:05 (CST, UTC+8)"."""
    if moment is None or moment == "":
        return NOTHING
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHINA)
        zone = gettext("CST, UTC+8")
        return f"{moment.astimezone(CHINA):%Y-%m-%d %H:%M} ({zone})"
    return str(moment)


def day(value: Any) -> str:
    """A date as YYYY-MM-DD; "—" for none."""
    if isinstance(value, datetime):
        return f"{value.astimezone(CHINA):%Y-%m-%d}"
    if isinstance(value, date):
        return value.isoformat()
    return blank(value)


def actor(actor_id: Any) -> str:
    """Who recorded it: a rule with its version (``rule:NAME@vN``), the clock, the
    system, or an account's username."""
    if not actor_id:
        return NOTHING
    actor_id = str(actor_id)
    if actor_id.startswith("rule:"):
        name, _, version = actor_id[len("rule:"):].partition("@v")
        return gettext("Rule: %(rule)s (version %(version)s)", rule=label(name, "rule"),
                       version=version or "1")
    return label(actor_id, "actor")


def text(stored: Any) -> str:
    """A stored text in the page's language: one the system wrote (a rule's warning
    title, a proposal's reason) from its id and parameters, anything else as written."""
    if stored is None:
        return ""
    found = recognize(str(stored))
    if found is None:
        return str(stored)
    text_id, params = found
    return gettext(TEXTS[text_id], **{k: _parameter(k, x) for k, x in params.items()})


def _parameter(name: str, value: str) -> str:
    if name in PARAMETER_KINDS:
        return label(value, PARAMETER_KINDS[name])
    if name == "amount":  # the text names the currency itself
        try:
            return format_decimal(Decimal(value))
        except (InvalidOperation, ValueError):
            return value
    if name == "actor":
        return actor(value)
    if name == "reason":
        return text(value)
    return value


def labels(codes: Any, kind: str) -> str:
    """Several codes of one kind, as labels in a list."""
    if not codes:
        return NOTHING
    if isinstance(codes, str):
        codes = [codes]
    return ("、" if chinese() else ", ").join(label(c, kind) for c in codes)


def field_path(path: str) -> str:
    """A document field's path (``rectifications[0].status``) in words."""
    words = []
    for part in path.replace("]", "").replace("[", ".").split("."):
        if not part:
            continue
        words.append(f"#{int(part) + 1}" if part.isdigit() else field_label(part))
    return " › ".join(words)


def value(data: Any, path: str = "") -> Markup:
    """A value of a document for the page: a code as its label, an amount in yuan, a
    list item by item, an object as a list of "field: value"; "—" for nothing."""
    if data is None or data == "" or data == [] or data == {}:
        return Markup(NOTHING)
    leaf = path.replace("]", "").replace("[", ".").split(".")[-1] if path else ""
    if isinstance(data, bool):
        return escape(label(str(data), "bool"))
    if isinstance(data, dict):
        items = "".join(f"<li>{escape(field_path(k))}: {value(x, f'{path}.{k}')}</li>"
                        for k, x in data.items() if x not in (None, "", [], {}))
        return Markup(f'<ul class="fields">{items}</ul>') if items else Markup(NOTHING)
    if isinstance(data, list):
        return Markup(("、" if chinese() else ", ").join(
            str(value(x, f"{path}[]")) for x in data))
    if leaf in MONEY_FIELDS and isinstance(data, (int, float, Decimal)):
        return escape(money(data))
    kind = value_kind(path)
    if kind is not None and str(data) in LABELS.get(kind, {}):
        return escape(label(data, kind))
    if data == ERASED:
        return escape(gettext("erased"))
    if leaf in ("recorded_at", "timestamp") and isinstance(data, str):
        return escape(when(data))
    return escape(text(data))


def choice(code: str, field: str) -> str:
    """A choice of a form's field (a code of the kind the field holds) as its label."""
    return label(code, value_kind(field) or "")


def register(app: Flask) -> None:
    """The filters, for every template."""
    app.jinja_env.filters.update(
        label=label, labels=labels, event=event_label, actor=actor, text=text, money=money,
        when=when, day=day, blank=blank, value=value, field_path=field_path, choice=choice)
