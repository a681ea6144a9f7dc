"""Chinese (the default) and English for the pages, through Flask-Babel and gettext.

The messages are English in the code, marked for translation (``_()`` in the templates,
``gettext`` in the views, ``N_`` in tables: domain.texts), and translated by the gettext
catalog ``translations/zh/LC_MESSAGES/messages.po`` (English needs no catalog: the
message ids are English). Babel's tools keep the catalog (``make messages``: ``pybabel
extract`` with babel.cfg, then ``pybabel update``); the compiled ``.mo`` is a build
product, compiled by ``make`` (``pybabel compile``) and, when it is missing or older than
its ``.po``, when the application starts (``compiled_translations``).
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request
from flask_babel import Babel, get_locale, gettext

from adapters.web.labels import field_label
from domain.texts import N_

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

# The API's messages, matched by their form (adapters/web/validation.py and the checks in
# domain/codes.py): (pattern, message id); the pattern's ``f`` is the field's path.
MESSAGE_PATTERNS = [
    (r"(?P<f>\S+) is required", N_("%(field)s is required.")),
    (r"(?P<f>\S+) must not be (empty|null)", N_("%(field)s must not be empty.")),
    (r"(?P<f>\S+) is longer than (?P<n>[0-9]+) characters",
     N_("%(field)s is longer than %(n)s characters.")),
    (r"(?P<f>\S+) must be one of .*", N_("%(field)s: choose one of the listed values.")),
    (r"(?P<f>\S+) must be a date YYYY-MM-DD", N_("%(field)s must be a date YYYY-MM-DD.")),
    (r"(?P<f>\S+) is not a real date: (?P<value>.*)",
     N_("%(field)s: %(value)s is not a real date.")),
    (r"(?P<f>\S+) must be a (finite )?number", N_("%(field)s must be a number.")),
    (r"(?P<f>\S+) must not be less than (?P<n>\S+)", N_("%(field)s must not be less than %(n)s.")),
    (r"(?P<f>\S+) is too large", N_("%(field)s is too large.")),
    (r"(?P<f>\S+) has more than two decimals", N_("%(field)s has more than two decimals.")),
    (r"(?P<f>\S+) must be a whole number from (?P<a>\S+) to (?P<b>\S+)",
     N_("%(field)s must be a whole number from %(a)s to %(b)s.")),
    (r"(?P<f>\S+) must be a whole number", N_("%(field)s must be a whole number.")),
    (r"(?P<f>\S+) must be between (?P<a>\S+) and (?P<b>\S+)",
     N_("%(field)s must be between %(a)s and %(b)s.")),
    (r"(?P<f>\S+) must be true or false", N_("%(field)s must be ticked or not.")),
    (r"(?P<f>\S+) has more than (?P<n>[0-9]+) items", N_("%(field)s has more than %(n)s items.")),
    (r"(?P<f>\S+) must be (a string|a list|a JSON object)", N_("%(field)s is not valid.")),
    (r"(?P<f>\S+) holds (characters that are not valid Unicode|a NUL character)",
     N_("%(field)s holds characters that are not allowed.")),
    (r"unknown field (?P<f>[^;]+);.*", N_("%(field)s is not a field of this form.")),
    (r"(?P<f>\S+) must be an 18-character unified social credit code",
     N_("%(field)s must be an 18-character unified social credit code.")),
    (r"(?P<f>\S+) positions 3-8 must be the 6-digit division code",
     N_("%(field)s: positions 3-8 must be the 6-digit division code.")),
    (r"(?P<f>\S+) \S+ fails its check character: the 18th character should be (?P<a>\S+), "
     r"not (?P<b>\S+)", N_("%(field)s fails its check character: the 18th character should "
                           "be %(a)s, not %(b)s.")),
    (r"(?P<f>\S+) contains characters outside the code's character set: (?P<value>\S+) .*",
     N_("%(field)s holds characters a unified social credit code does not use: %(value)s "
        "(I, O, S, V, Z and lower case are not used).")),
    (r"(?P<f>\S+) fails its check character", N_("%(field)s fails its check character.")),
    (r"(?P<f>\S+) must be an 18-character identity number",
     N_("%(field)s must be an 18-character identity number.")),
    (r"(?P<f>\S+) holds an impossible birth date",
     N_("%(field)s holds an impossible birth date.")),
    (r"(?P<f>\S+) must be a 12-digit statistical division code",
     N_("%(field)s must be a 12-digit statistical division code.")),
    (r"(?P<f>\S+) \S+ is in the future.*",
     N_("%(field)s is in the future: record what has taken effect.")),
    (r"(?P<f>\S+) must not be before (?P<other>\S+)",
     N_("%(field)s must not be before %(other)s.")),
    (r"parameters must be an object.*", N_("%(field)s is not valid.")),
    (r"(?P<f>\S+) must be after the order's effective date",
     N_("%(field)s must be after the date the order takes effect.")),
    (r"(?P<f>\S+) must not be after the (registration's )?effective date",
     N_("%(field)s must not be after the date it takes effect.")),
    (r"(?P<f>\S+) must be after (?P<other>[a-z_.]+)", N_("%(field)s must be after %(other)s.")),
    (r"(?P<f>\S+) must not be after (?P<other>[a-z_.]+)",
     N_("%(field)s must not be after %(other)s.")),
    (r"(?P<f>\S+) must (say|list|name) .*", N_("%(field)s must say why or what.")),
    (r"(?P<f>\S+) must be a residents' or village committee .*",
     N_("%(field)s must be a residents' or village committee's division code.")),
    (r"(?P<f>\S+) must not repeat a name", N_("%(field)s must not repeat a name.")),
    (r"(?P<f>\S+) must not be negative", N_("%(field)s must not be negative.")),
    (r"(?P<f>\S+) is the same as the current value", N_("%(field)s is the same as now.")),
    # the register import's own (adapters/seed/importer.py, spreadsheets.py)
    (r"unknown column '(?P<value>.*)'; expected: .*",
     N_("Unknown column \u201c%(value)s\u201d: the columns are listed below the form.")),
    (r"column (?P<f>\S+) appears twice", N_("The column %(field)s appears twice.")),
    (r"column (?P<f>\S+) \(.*\) is missing", N_("The column %(field)s is missing.")),
    (r"(?P<f>\S+) applies to community organizations without a code only",
     N_("%(field)s applies only to community organizations without a code.")),
    (r"(?P<f>\S+) does not apply to a community organization: leave it empty",
     N_("%(field)s does not apply to a community organization: leave it empty.")),
    (r"give either code or record_number, not both.*",
     N_("Give either the code or the record number, not both.")),
    (r"(?P<f>record_number) must be 4-64 letters, digits, _ or -",
     N_("%(field)s must be 4-64 letters, digits, _ or -.")),
    (r"(?P<value>[0-9]{12}) is outside your jurisdiction (?P<mine>[0-9]{12})",
     N_("%(value)s lies outside your jurisdiction %(mine)s.")),
    (r".* is also on row (?P<n>[0-9]+)", N_("The same organization is also on row %(n)s.")),
    (r"(?P<value>\S+) is already registered", N_("%(value)s is already registered.")),
    (r"a value in column (?P<n>[0-9]+), which has no header",
     N_("A value in column %(n)s, which has no header.")),
    (r"the file has a header but no organizations",
     N_("The file has a header but no organizations.")),
    (r"saving failed from this row on.*",
     N_("Saving failed from this row on: this row and those after it were not imported; "
        "import them again as a new file.")),
    (r"this is an old Excel \.xls workbook.*",
     N_("This is an old Excel .xls workbook: save it as .xlsx or as CSV UTF-8.")),
    (r"the file is neither a CSV nor an XLSX workbook",
     N_("The file is neither a CSV nor an XLSX workbook.")),
    (r"more than (?P<n>[0-9]+) rows: split the file",
     N_("More than %(n)s rows: split the file.")),
    (r"the file is empty.*", N_("The file is empty: it needs a header row and one row per "
                                "organization.")),
    (r"the CSV is not UTF-8.*", N_("The CSV is not UTF-8: save it as CSV UTF-8 (or as "
                                   ".xlsx).")),
    (r"the CSV is malformed.*", N_("The CSV is malformed.")),
    (r"the file is not a readable XLSX workbook|the workbook has no sheet",
     N_("The file is not a readable XLSX workbook.")),
]
CODE_MESSAGES = {
    "forbidden": N_("Your role may not do this."),
    "forbidden_jurisdiction": N_("This lies outside your jurisdiction."),
    "unauthenticated": N_("Sign in again."), "csrf": N_("The form has expired: reload the page."),
    "version_conflict": N_("Someone changed this in the meantime: reload and try again."),
    "not_found": N_("Not found."),
}
# An error of the HTTP layer without a code of its own above, by its status.
STATUS_MESSAGES = {
    400: N_("The request was not accepted."), 401: N_("Sign in again."),
    403: N_("Your role may not do this."), 404: N_("Not found."),
    405: N_("This page does not take that request."),
    409: N_("Someone changed this in the meantime: reload and try again."),
    413: N_("What was sent is too large."), 415: N_("The request was not accepted."),
    422: N_("A business rule refuses this."),
    500: N_("Something went wrong on the server; it has been logged."),
    503: N_("The service is unavailable for a moment: try again shortly."),
}



# A domain rule's refusal, by the API's error code (the rule's name). The Chinese pages
# show this; the English pages show the API's own message, which names the particulars.
REFUSALS = {
    "password_too_short": N_("The password is too short."),
    "password_too_long": N_("The password is too long."),
    "password_contains_username": N_("The password may not contain the username or name."),
    "password_too_common": N_("This is a common or easily guessed password: choose "
                              "another."),
    "unknown_token": N_("There is no such API token."),
    "not_locked": N_("The account is not locked."),
    "unknown_parameter": N_("The rule has no such parameter."),
    "parameter_type": N_("The parameter's value has the wrong type."),
    "account_disabled": N_("This account is disabled."),
    "already_a_leader": N_("This person already leads the organization."),
    "already_acknowledged": N_("The warning is already acknowledged."),
    "already_submitted": N_("The annual report is submitted already and awaits the "
                            "supervisory unit's pre-review."),
    "no_draft": N_("There is no saved draft of that year's annual report: save one first."),
    "not_submitted": N_("Only a submitted annual report awaits the pre-review."),
    "report_under_review": N_("The annual report is with the supervisory unit: it can be "
                              "edited once returned."),
    "already_assigned": N_("This information officer is already assigned."),
    "already_listed": N_("The organization is already on this credit list."),
    "already_overdue": N_("Already overdue."),
    "already_published": N_("This plan's results are published already."),
    "already_registered": N_("The organization is already registered."),
    "already_removed": N_("Already removed."),
    "objection_decided": N_("The objection has already been decided."),
    "unknown_objection": N_("There is no such objection."),
    "application_decided": N_("The credit repair application has already been decided."),
    "unknown_application": N_("There is no such credit repair application."),
    "removal_premature": N_("Removal from the credit list is not yet possible under the "
                            "rules of the credit lists (rectification first; the "
                            "serious-dishonesty list: its period without a new trigger)."),
    "revocation_not_objectionable": N_("A revocation is contested by administrative "
                                       "reconsideration or in court, not by an "
                                       "objection."),
    "already_rescinded": N_("The penalty is already rescinded."),
    "already_suspended": N_("The organization is already suspended."),
    "already_ticked": N_("That day has already been run."),
    "ban_unregistered_only": N_("Only an unregistered organization can be banned."),
    "before_registration": N_("The date is before the registration."),
    "closed_organization": N_("The organization is deregistered, revoked or banned."),
    "credit_code_check_character": N_("The unified social credit code fails its check "
                                      "character."),
    "deadline_not_passed": N_("The deadline has not passed."),
    "departure_audit_required": N_("The departure audit must be done first."),
    "duplicate_plan_number": N_("An inspection plan with this number exists."),
    "expected_version": N_("Someone changed this in the meantime: reload and try again."),
    "idempotency_key_reused": N_("A repeated request had different content."),
    "identity_number_in_text": N_("The text holds an identity number: remove it, and "
                                  "register the person instead."),
    "inspections_not_concluded": N_("Not every drawn organization has an inspection "
                                    "recorded against this plan yet."),
    "led_sanctioned_organization": N_("This person led a sanctioned organization and may "
                                      "not be appointed."),
    "no_conclusion": N_("That year has no annual-inspection conclusion."),
    "no_leaders": N_("The organization has no serving leader."),
    "node_exists": N_("The node exists already."),
    "not_a_leader": N_("This person does not lead the organization."),
    "not_assigned": N_("This information officer is not assigned to this node."),
    "not_suspended": N_("The organization is not suspended."),
    "occupational_ban": N_("This person is under an occupational ban."),
    "one_annual_report_per_year": N_("That year's annual report is filed already."),
    "one_conclusion_per_year": N_("That year has a conclusion already."),
    "one_legal_representative": N_("There is only one legal representative."),
    "one_review_per_report": N_("This major-event report is reviewed already."),
    "proposal_decided": N_("The proposal is decided already."),
    "public_notice_period": N_("The pre-appointment public notice does not meet the "
                               "requirements."),
    "rating_basically_qualified_twice": N_("Basically qualified two years running: not "
                                           "eligible for rating."),
    "rating_credit_listed": N_("An organization on a credit list is not eligible for "
                               "rating."),
    "rating_last_inspection": N_("Last year's inspection was missed or failed: not eligible "
                                 "for rating."),
    "rating_penalized_last_year": N_("Penalized last year: not eligible for rating."),
    "rating_registered_two_years": N_("Registered less than two years: not eligible for "
                                      "rating."),
    "rectification_completed": N_("The rectification is completed already."),
    "registered_only": N_("This applies to registered organizations only."),
    "retired_official_age": N_("The retired official is over the age limit."),
    "retired_official_one_post": N_("A retired official may hold one post only."),
    "retired_official_two_terms": N_("A retired official may serve two terms at most."),
    "revocation_not_in_effect": N_("The revocation has not taken effect."),
    "serving_official_approval": N_("A serving official needs an approval reference."),
    "six_month_exemption": N_("Registered less than six months before the year's end: "
                              "exempt from that year's inspection."),
    "suspension_in_force": N_("The organization is suspended."),
    "top_of_network": N_("This is the top of the network already."),
    "two_inspectors_on_site": N_("An on-site inspection needs at least two inspectors."),
    "unfiled_report_unqualified": N_("Without an annual report the conclusion can only be "
                                     "unqualified."),
    "unknown_listing": N_("There is no such credit listing."),
    "unknown_node": N_("There is no such network node."),
    "unknown_penalty": N_("There is no such penalty decision."),
    "unknown_proposal": N_("There is no such proposal."),
    "unknown_rectification": N_("There is no such rectification notice."),
    "unknown_report": N_("There is no such major-event report."),
    "unknown_rule": N_("There is no such rule."),
    "unknown_warning": N_("There is no such warning."),
    "warning_resolved": N_("The warning is resolved already."),
    "year_not_ended": N_("That year has not ended."),
    "demo_already_loaded": N_("The demo data is loaded already."),
    "already_erased": N_("This person's personal data is erased already."),
    "unsupported_media_type": N_("Only PDF, JPEG and PNG files may be attached (the type is "
                                 "read from the file's content)."),
    "document_too_large": N_("The file is larger than the size limit for documents."),
    "document_erased": N_("This document was erased with a person's personal data."),
    "unknown_document": N_("No such document is stored: upload the file first."),
    "personal_document_public": N_("A document holding personal data cannot be public."),
    "personal_data_erased": N_("This person's personal data is erased."),
    "warning_exists": N_("This warning exists already."),
}


def chinese() -> bool:
    return str(get_locale() or "zh").startswith("zh")


def translate_error(error: dict) -> str:
    """The API's error (status, code, message, field) as a message for the page, in its
    language: by the message's form for malformed input, by the error code for refusals
    and by the rule's name for a domain rule. The JSON API's messages stay as they are."""
    message, code = error.get("message") or "", error.get("code") or ""
    if code == "invalid_value" or code == "":
        for pattern, template in MESSAGE_PATTERNS:
            match = re.fullmatch(pattern, message.strip(), re.S)
            if match:
                values = match.groupdict()
                field = values.pop("f", None) or error.get("field") or ""
                values = {k: (field_label(x) if k == "other" else x)
                          for k, x in values.items()}
                return gettext(template, field=field_label(field), **values)
        return gettext("This input was refused.") + (f" ({message})" if not chinese() else "")
    if code in CODE_MESSAGES:
        return gettext(CODE_MESSAGES[code])
    status = error.get("status") or 422
    if code in REFUSALS or status == 422:  # a domain rule's refusal
        if chinese():
            text = gettext(REFUSALS.get(code, STATUS_MESSAGES[422]))
            possible = re.search(r"possible from ([0-9]{4}-[0-9]{2}-[0-9]{2})", message)
            if possible:  # a premature credit repair: when it becomes possible
                text += gettext("It becomes possible on %(date)s.", date=possible.group(1))
            return text
        return message or gettext(STATUS_MESSAGES[422])
    return gettext(STATUS_MESSAGES.get(status, STATUS_MESSAGES[500 if status >= 500
                                                               else 400]))


# ------------------------------------------------------------------ the catalogs

def compile_catalogs(source: Path, target: Path) -> list[Path]:
    """Compile each language's ``messages.po`` under ``source`` into ``messages.mo``
    under ``target`` (what ``pybabel compile`` does), where the ``.mo`` is missing or
    older than its ``.po``. Answers the files written."""
    written = []
    for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with open(po, "rb") as f:
            catalog = read_po(f, locale=po.parts[-3])
        mo.parent.mkdir(parents=True, exist_ok=True)
        partial = mo.with_suffix(".mo.tmp")
        with open(partial, "wb") as f:
            write_mo(f, catalog)
        partial.replace(mo)
        written.append(mo)
    return written


def compiled_translations() -> Path:
    """The folder of compiled catalogs: the package's own (compiled there if stale), or a
    temporary copy when the package cannot be written to (an installed read-only one)."""
    try:
        written = compile_catalogs(TRANSLATIONS, TRANSLATIONS)
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="casefile-i18n-"))
        compile_catalogs(TRANSLATIONS, folder)
        return folder
    if written:
        log.info("compiled the translations: %s", ", ".join(str(p) for p in written))
    return TRANSLATIONS


def select_locale() -> str:
    wanted = request.args.get("lang") or request.cookies.get("lang") or "zh"
    g.lang = wanted if wanted in LANGUAGES else "zh"
    return g.lang


def init_babel(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled_translations())
    app.config["BABEL_DEFAULT_LOCALE"] = "zh"
    Babel(app, locale_selector=select_locale)

    @app.after_request
    def remember_language(response):
        if request.args.get("lang") in LANGUAGES:
            response.set_cookie("lang", request.args["lang"], samesite="Lax",
                                max_age=3600 * 24 * 365)
        return response
