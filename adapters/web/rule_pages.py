"""The pages of the rules as data (DOMAIN.md section 5): the list, one rule with each
parameter's default, current value and overrides and its history (who changed it, when,
why, old and new values), and the rule's form, which lists each parameter as a field of
its own, prefilled with the value in force, and posts through the one command path
(the ``change_rule`` command: adapters.commands.catalog, as ``casefile rules set`` and
``PUT /api/v1/rules/<name>`` do), sending only the values that change."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask_babel import gettext as _

from adapters.commands.catalog import BY_ENDPOINT
from adapters.web.commands import Submission, attempt
from adapters.web.forms import may
from adapters.web.i18n import translate_error
from adapters.web.network import may_read_rules, rule_document, rule_history
from adapters.web.requests import (answer_or_refusal, casefiles, login_redirect, page,
                                   signed_in)
from domain.calendar import today_in_china
from domain.network import SEVERITIES

bp = Blueprint("rule_pages", __name__, template_folder="templates")

CHANGE_RULE = BY_ENDPOINT["api.change_rule"]
PARAMETER = "p."  # a parameter's form field: p.<its key>


def rules() -> dict:
    """The rules, for whoever reads them or changes them (an administrator)."""
    may_read_rules()
    return {"rules": [rule_document(r) for r in casefiles().rules().values()],
            "working_days": casefiles().working_days(today_in_china())}


@bp.get("/rules")
def list_rules():
    if signed_in() is None:
        return login_redirect()
    status, data = answer_or_refusal(rules)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    return page("rules.html", rules=data["rules"], working_days=data.get("working_days"))


@bp.get("/rules/<name>")
def rule(name: str):
    if signed_in() is None:
        return login_redirect()
    status, data = answer_or_refusal(rule_history, name)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    return page("rule.html", rule=data, changed=request.args.get("changed", ""))


def typed(raw: str, default: Any) -> Any:
    """A field's text as the parameter's type (that of its catalog default); what does
    not parse is handed on as text, for the rule to refuse with its reason."""
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return raw
    if re.fullmatch(r"-?[0-9]{1,12}", raw):
        return int(raw)
    try:
        return float(raw)
    except ValueError:
        return raw


@bp.route("/rules/<name>/change", methods=["GET", "POST"])
def change(name: str):
    """The rule's form: one field per parameter, prefilled with the value in force for
    the chosen jurisdiction (none: the global defaults)."""
    actor = signed_in()
    if actor is None:
        return login_redirect()
    if not may("manage_rules"):
        return page("error.html", 403, error={"message": translate_error(
            {"code": "forbidden", "status": 403, "message": "forbidden"})})
    status, data = answer_or_refusal(rule_history, name)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    values = request.values
    jurisdiction = values.get("jurisdiction", "" if may("change_rule_defaults")
                              else actor.jurisdiction or "").strip()
    current = casefiles().rule(name)
    in_force = current.parameters_for(jurisdiction or None) if re.fullmatch(
        r"[0-9]{12}", jurisdiction) else dict(current.parameters)
    errors: dict[str, str] = {}
    shown = {p["key"]: str(in_force.get(p["key"], p["current"])) for p in data["parameters"]}
    if request.method == "POST":
        shown.update({key: values.get(PARAMETER + key, "").strip() for key in shown})
        parameters = {key: typed(raw, in_force.get(key)) for key, raw in shown.items()
                      if raw != "" and typed(raw, in_force.get(key)) != in_force.get(key)}
        body = {"parameters": parameters, "jurisdiction": jurisdiction or None,
                **{k: values[k].strip() for k in ("reason", "reference", "effective_date")
                   if values.get(k, "").strip()}}
        if not parameters:
            errors["_form"] = _("Change at least one value: every field holds the value "
                                "in force.")
        else:
            result_status, result = attempt(CHANGE_RULE, {"name": name},
                                            Submission.from_form(body))
            if result_status < 300:
                return redirect(url_for("rule_pages.rule", name=name,
                                        changed=result.get("version")))
            error = result.get("error", {})
            field = error.get("field") or ""
            key = field[len("parameters."):] if field.startswith("parameters.") else None
            target = (PARAMETER + key if key in shown else
                      field if field in ("reason", "reference", "effective_date",
                                         "jurisdiction") else "_form")
            errors[target] = translate_error(error)
        status = 400
    return page("rule_form.html", status, rule=data, jurisdiction=jurisdiction,
                shown=shown, errors=errors, severities=SEVERITIES,
                meta={k: values.get(k, "") for k in ("reason", "reference",
                                                     "effective_date")})
