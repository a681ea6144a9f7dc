"""The texts the system writes into events: a rule's warning title, a proposal's reason,
the reason of an event the clock records (and into its stored answers: the audit
verification's findings). Each is an English template with named
parameters, by id, written once here: the rules render it (``render``) and the pages
recognize a stored text again (``recognize``) to show it in the reader's language from
its id and parameters, so the stored events keep their plain English text (as they
always had) and need no new field.

``N_`` marks an English text for translation without translating it (gettext's
``gettext_noop``): Babel's ``pybabel extract`` collects every marked text into the
catalog (adapters/web/translations), and the pages translate it when they show it.
"""

from __future__ import annotations

import re
from functools import lru_cache


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for the marker
    """Marks ``message`` for the translation catalog; returns it unchanged."""
    return message


# id -> English template; a parameter's name says how the pages show its value
# (adapters/web/display.py: dates, codes, amounts, a nested text).
TEXTS: dict[str, str] = {
    "major_event_late": N_("major event %(report)s reported late: %(days)s days' notice "
                           "required"),
    "major_event_high_risk": N_("major event %(report)s reviewed as high risk"),
    "penalty_fine": N_("penalty %(decision)s: %(penalty_kind)s of %(amount)s CNY"),
    "penalty": N_("penalty %(decision)s: %(penalty_kind)s"),
    "repeated_penalties": N_("%(count)s warnings or small fines within %(years)s years"),
    "registration_revoked": N_("registration revoked"),
    "rectification_not_completed": N_("rectification %(notice)s not completed by its "
                                      "deadline"),
    "rectification_overdue": N_("rectification %(notice)s not completed by %(date)s"),
    "rectification_verified": N_("rectification %(notice)s verified on %(date)s: to be "
                                 "removed within %(days)s working days (by %(due)s)"),
    "certificate_expired": N_("certificate expired on %(date)s"),
    "certificate_expiring": N_("certificate expires on %(date)s (%(days)s days)"),
    "report_not_submitted": N_("annual report for %(year)s not submitted to the "
                               "supervisory unit by %(date)s"),
    "report_not_filed": N_("annual report for %(year)s not filed by the deadline"),
    "no_reports": N_("no annual report for %(year)s-%(last_year)s"),
    "inactive": N_("nothing recorded since %(date)s"),
    "on_abnormal_list": N_("on the abnormal-activity list since %(date)s"),
    "abnormal_list_expired": N_("%(months)s months on the list with nothing to rectify"),
    "serious_list_expired": N_("%(years)s years on the list with no new trigger"),
    "removal_overdue": N_("removal overdue: rectification verified on %(date)s"),
    "objection_overdue": N_("objection %(objection)s not decided by %(date)s"),
    "not_handled": N_("not handled within %(days)s days at %(level)s level"),
    "proposal_confirmed": N_("%(reason)s (proposed by %(actor)s, confirmed)"),
    "imported": N_("imported from register"),
    "organization_closed": N_("organization %(status)s"),
    "replaced": N_("replaced"),
    "personal_data": N_("[personal data of person %(person)s]"),
    "start_up_token": N_("printed at start-up"),
    # the audit verification's findings (projections.audit, adapters.views.audit_verification)
    "chain_no_event": N_("the entry has no event in the log"),
    "chain_unreadable": N_("the recorded event at position %(position)s cannot be read "
                           "(altered or damaged in the event store)"),
    "chain_missing": N_("the entry for position %(position)s is missing (deleted)"),
    "chain_repeated": N_("an entry for position %(position)s appears again"),
    "chain_reordered": N_("the entry holds the event of position %(position)s (reordered)"),
    "chain_altered": N_("the entry differs from the recorded event (altered)"),
    "chain_unlinked": N_("the entry does not link to the previous entry's hash"),
    "chain_hash": N_("the entry's hash does not match its content"),
    "chain_no_entry": N_("the event has no audit entry (deleted or not yet projected)"),
    "head_invalid": N_("the stored verified head is not valid (%(error)s): run a full "
                       "verification"),
    "head_other_key": N_("the stored verified head is signed by another key than this "
                         "service's: run a full verification"),
    "head_removed": N_("the trail ends at position %(end)s, before the verified head "
                       "%(position)s: entries were removed"),
    "head_rewritten": N_("the entry at the verified head (position %(position)s) no longer "
                         "holds the verified hash: the trail was rewritten at or before it "
                         "(a full verification names the first broken entry)"),
}

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# What a parameter's value looks like, by its name (any other: some text); a template
# that takes another text (``reason``) is tried first, so a text inside it is its own.
VALUES = {"date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "due": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
          "year": r"[0-9]{4}", "last_year": r"[0-9]{4}", "days": r"-?[0-9]+",
          "count": r"[0-9]+", "months": r"[0-9]+", "years": r"[0-9]+",
          "amount": r"-?[0-9]+(?:\.[0-9]+)?", "penalty_kind": r"[a-z_]+",
          "status": r"[a-z_]+", "level": r"[a-z_]+", "actor": r"\S+",
          "objection": r"OB[0-9]+", "position": r"[0-9]+", "end": r"[0-9]+"}


def render(text_id: str, **params: object) -> str:
    """The English text of ``text_id`` with its parameters, as stored in an event."""
    return TEXTS[text_id] % {k: str(x) for k, x in params.items()}


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern]]:
    """Each template as a pattern that gives back its parameters: those that take
    another text first, then the most specific (most literal text) first."""
    found = []
    for text_id, template in TEXTS.items():
        parts = PLACEHOLDER.split(template)
        pattern = "".join(re.escape(part) if i % 2 == 0 else
                          f"(?P<{part}>{VALUES.get(part, '.+?')})"
                          for i, part in enumerate(parts))
        literal = sum(len(part) for part in parts[::2])
        found.append(("reason" not in parts[1::2], -literal, text_id,
                      re.compile(pattern, re.S)))
    return [(text_id, pattern) for *_, text_id, pattern in sorted(found)]


def recognize(text: str) -> tuple[str, dict[str, str]] | None:
    """The id and parameters of a stored text the system wrote, or None for any other
    text (what a person typed)."""
    for text_id, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match:
            return text_id, match.groupdict()
    return None
