"""An organization's remedies against its credit information (issue 16 items 2 and 3).

- **Objection (异议)**: the organization contests one entry of its credit information (a
  credit listing, a penalty, an annual-inspection conclusion) with a reason and evidence;
  the competent authority decides within the ``credit_objection`` rule's working days:
  upheld, and the entry is corrected by its own event (a removal from the list, a
  rescission, a correction) recorded with the decision; or dismissed, with reasons. While
  it is pending the entry is *disputed* (``disputed_entries``).
- **Credit repair (信用修复)**: an organization on a credit list applies for removal with
  evidence of rectification; staff approve (the removal is recorded with the approval) or
  refuse. Rules 2 and 3 of DOMAIN.md section 5 decide whether removal is possible at all
  (``removal_blocked``, which the daily clock's delisting proposals apply too): an
  application while it is not is refused, naming the rule and when it becomes possible.

The objections and applications are items of the organization's case (its state and its
events: ``Organization.objections`` / ``repair_applications``), for an upheld objection
or an approved application is recorded in one transaction with the correction it makes to
the same case, and the case file, the public disclosure and the open data read them where
they read the entries they concern. The rules are here; the organization only applies the
events (its ``_objection_*`` / ``_credit_repair_*`` methods).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from domain.calendar import add_years, working_days_after
from domain.errors import Conflict, InvalidValue, NotFound, RuleViolation
from domain.meta import Meta
from domain.rules import Parameters

if TYPE_CHECKING:  # the organization calls none of this: the services do
    from domain.organization import Organization

# what an objection may contest, by the name of the case file's entry
OBJECTION_ENTRIES = ("credit_listing", "penalty", "annual_inspection")
OBJECTION_OUTCOMES = ("upheld", "dismissed")
REPAIR_OUTCOMES = ("approved", "refused")


# ------------------------------------------------------------------ removal

def removal_blocked(org: "Organization", listing: dict, day: date, *,
                    serious_dishonesty_listing: Parameters) -> tuple[str, date | None] | None:
    """Why the listing cannot be removed on ``day`` under rules 2 and 3, and from when it
    can (None: once the open rectifications are completed); None when it can.

    - both lists: a rectification ordered and not completed (rule 2: removal follows a
      verified rectification; rule 3: completed rectification where it came from the
      abnormal list) blocks it;
    - serious-dishonesty list: ``removal_years`` after the listing, restarted by each new
      trigger (a penalty decided after the listing)."""
    open_notices = sorted(n for n, r in org.rectifications.items()
                          if r["status"] != "completed")
    if open_notices:
        return (f"rectification {', '.join(open_notices)} is not completed", None)
    if listing["list"] == "serious_dishonesty":
        since = max([listing["listed_on"]]
                    + [p["decision_date"] for p in org.penalties.values()
                       if p["decision_date"] > listing["listed_on"]])
        possible = add_years(since, int(serious_dishonesty_listing["removal_years"]))
        if day < possible:
            return (f"{serious_dishonesty_listing['removal_years']} years with no new "
                    f"trigger since {since}", possible)
    return None


def _check_removal(org: "Organization", listing: dict, day: date,
                   serious_dishonesty_listing: Parameters) -> None:
    blocked = removal_blocked(org, listing, day,
                              serious_dishonesty_listing=serious_dishonesty_listing)
    if blocked is not None:
        why, possible = blocked
        rule = ("abnormal_activity_listing" if listing["list"] == "abnormal_activity"
                else "serious_dishonesty_listing")
        when = (f"possible from {possible}" if possible
                else "possible once the rectification is completed")
        raise RuleViolation(f"removal of listing {listing['id']} is not yet possible under "
                            f"rule {rule}: {why}; {when}", rule="removal_premature",
                            field="listing_id")


def _active_listing(org: "Organization", listing_id: str) -> dict:
    listing = org.credit_listings.get(listing_id)
    if listing is None:
        raise NotFound(f"no credit listing {listing_id}", rule="unknown_listing",
                       field="listing_id")
    if listing["removed_on"] is not None:
        raise RuleViolation(f"listing {listing_id} was already removed on "
                            f"{listing['removed_on']}", rule="already_removed",
                            field="listing_id")
    return listing


# --------------------------------------------------------------- objections

def disputed_entries(objections: dict | list) -> set[tuple[str, str]]:
    """The entries (entry, entry_id) that a pending objection contests."""
    items = objections.values() if isinstance(objections, dict) else objections
    return {(o["entry"], str(o["entry_id"])) for o in items if o["status"] == "pending"}


def _contested_entry(org: "Organization", entry: str, entry_id: str) -> None:
    if entry == "credit_listing":
        _active_listing(org, entry_id)
    elif entry == "penalty":
        penalty = org.penalties.get(entry_id)
        if penalty is None:
            raise NotFound(f"no penalty decision {entry_id}", rule="unknown_penalty",
                           field="entry_id")
        if penalty["rescinded"]:
            raise RuleViolation(f"penalty {entry_id} was already rescinded",
                                rule="already_rescinded", field="entry_id")
        if penalty["kind"] == "revocation":
            raise RuleViolation("a revocation is contested by administrative "
                                "reconsideration or in court, not by an objection",
                                rule="revocation_not_objectionable", field="entry_id")
    elif entry == "annual_inspection":
        if entry_id not in org.conclusions:
            raise NotFound(f"no annual inspection conclusion for {entry_id}",
                           rule="no_conclusion", field="entry_id")
    else:
        raise InvalidValue(f"entry must be one of {', '.join(OBJECTION_ENTRIES)}",
                           field="entry")


def file_objection(org: "Organization", *, entry: str, entry_id: str,
                   evidence: str | None, credit_objection: Parameters, meta: Meta) -> str:
    """异议: the organization contests one entry of its credit information; decided by
    the ``credit_objection`` rule's ``decision_working_days`` after filing."""
    org._require_open("objection")
    entry_id = str(entry_id)
    if not meta.reason:
        raise InvalidValue("reason must say what is wrong with the entry", field="reason")
    _contested_entry(org, entry, entry_id)
    if (entry, entry_id) in disputed_entries(org.objections):
        raise Conflict(f"an objection against {entry} {entry_id} is already pending",
                       field="entry_id")
    objection_id = f"OB{len(org.objections) + 1}"
    due_by = working_days_after(meta.effective_date,
                                int(credit_objection["decision_working_days"]))
    org._objection_filed(objection_id=objection_id, entry=entry, entry_id=entry_id,
                         evidence=evidence, due_by=due_by, meta=meta)
    return objection_id


def _not_before(filed_on: date, meta: Meta) -> None:
    if meta.effective_date < filed_on:
        raise InvalidValue(f"the decision cannot take effect before the filing ({filed_on})",
                           field="effective_date")


def _pending_objection(org: "Organization", objection_id: str) -> dict:
    objection = org.objections.get(objection_id)
    if objection is None:
        raise NotFound(f"no objection {objection_id}", rule="unknown_objection",
                       field="objection_id")
    if objection["status"] != "pending":
        raise RuleViolation(f"objection {objection_id} was already {objection['status']}",
                            rule="objection_decided", field="objection_id")
    return objection


def uphold_objection(org: "Organization", *, objection_id: str, result: str | None = None,
                     findings: str | None = None, meta: Meta) -> None:
    """Upheld: the contested entry is corrected by its own event (a listing removed, a
    penalty rescinded, a conclusion corrected to ``result`` and ``findings``), recorded
    before the decision, in the same transaction."""
    objection = _pending_objection(org, objection_id)
    _not_before(objection["filed_on"], meta)
    if not meta.reason:
        raise InvalidValue("reason must say why the objection is upheld", field="reason")
    entry, entry_id = objection["entry"], objection["entry_id"]
    if entry != "annual_inspection" and (result is not None or findings is not None):
        raise InvalidValue("result and findings correct a conclusion only", field="result")
    if entry == "credit_listing":
        org.remove_from_credit_list(listing_id=entry_id, meta=meta)
    elif entry == "penalty":
        org.rescind_penalty(decision_number=entry_id, meta=meta)
    else:
        if result is None:
            raise InvalidValue("result: the corrected conclusion is required", field="result")
        current = org.conclusions[entry_id]
        org.correct_annual_inspection(year=int(entry_id), result=result,
                                      findings=findings or current["findings"], meta=meta)
    org._objection_upheld(objection_id=objection_id, meta=meta)


def dismiss_objection(org: "Organization", *, objection_id: str, meta: Meta) -> None:
    _not_before(_pending_objection(org, objection_id)["filed_on"], meta)
    if not meta.reason:
        raise InvalidValue("reason must say why the objection is dismissed", field="reason")
    org._objection_dismissed(objection_id=objection_id, meta=meta)


def overdue_objections(org: "Organization", day: date) -> list[dict]:
    """The pending objections past their decision deadline on ``day``."""
    return [o for o in org.objections.values()
            if o["status"] == "pending" and day > o["due_by"]]


# ------------------------------------------------------------- credit repair

def apply_for_credit_repair(org: "Organization", *, listing_id: str, evidence: str | None,
                            serious_dishonesty_listing: Parameters, meta: Meta) -> str:
    """信用修复: removal applied for with evidence of rectification; refused at once while
    rules 2 and 3 do not allow it yet (``removal_blocked``)."""
    org._require_open("credit repair")
    if not meta.reason:
        raise InvalidValue("reason must describe the rectification", field="reason")
    listing = _active_listing(org, listing_id)
    if any(a["listing_id"] == listing_id and a["status"] == "pending"
           for a in org.repair_applications.values()):
        raise Conflict(f"a credit repair of listing {listing_id} is already pending",
                       field="listing_id")
    _check_removal(org, listing, meta.effective_date, serious_dishonesty_listing)
    application_id = f"CR{len(org.repair_applications) + 1}"
    org._credit_repair_applied(application_id=application_id, listing_id=listing_id,
                               evidence=evidence, meta=meta)
    return application_id


def _pending_application(org: "Organization", application_id: str) -> dict:
    application = org.repair_applications.get(application_id)
    if application is None:
        raise NotFound(f"no credit repair application {application_id}",
                       rule="unknown_application", field="application_id")
    if application["status"] != "pending":
        raise RuleViolation(f"credit repair application {application_id} was already "
                            f"{application['status']}", rule="application_decided",
                            field="application_id")
    return application


def approve_credit_repair(org: "Organization", *, application_id: str,
                          serious_dishonesty_listing: Parameters, meta: Meta) -> None:
    """Approved: the listing is removed (``CreditListingRemoved``), if the rules allow it
    on the day the approval takes effect."""
    application = _pending_application(org, application_id)
    _not_before(application["applied_on"], meta)
    if not meta.reason:
        raise InvalidValue("reason must say why the credit repair is approved",
                           field="reason")
    listing = _active_listing(org, application["listing_id"])
    _check_removal(org, listing, meta.effective_date, serious_dishonesty_listing)
    org.remove_from_credit_list(listing_id=listing["id"], meta=meta)
    org._credit_repair_approved(application_id=application_id, meta=meta)


def refuse_credit_repair(org: "Organization", *, application_id: str, meta: Meta) -> None:
    _not_before(_pending_application(org, application_id)["applied_on"], meta)
    if not meta.reason:
        raise InvalidValue("reason must say why the credit repair is refused", field="reason")
    org._credit_repair_refused(application_id=application_id, meta=meta)


def repair_deadline(applied_on: date, credit_list: str | None,
                    abnormal_activity_listing: Parameters, timeliness: Parameters) -> date:
    """An application to leave the abnormal-activity list is decided within that rule's
    removal period (rule 2: removal within ``removal_working_days`` of a verified
    rectification); one to leave the serious-dishonesty list, whose removal is a matter
    of years (rule 3), as credit information is recorded: within the ``timeliness``
    rule's working days (rule 12)."""
    days = (abnormal_activity_listing["removal_working_days"]
            if credit_list == "abnormal_activity"
            else timeliness["working_days"])
    return working_days_after(applied_on, int(days))
