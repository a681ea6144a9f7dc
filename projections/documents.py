"""Aggregates and events as plain JSON documents (dates ISO, amounts as numbers).

The case-file read model stores these documents; the API serves them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.credit_remedies import disputed_entries
from domain.meta import Meta
from domain.organization import Organization
from domain.rules import Rule


# Values that are already plain, by exact type (a subclass, e.g. a personal text, takes
# the general path of ``_plain``, which returns it unchanged).
PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """``value`` as plain JSON-able data: dicts and lists (tuples become lists), dates
    ISO, decimals as numbers, metadata as a dict; anything else unchanged.

    The read models call this on every organization document for every event (the audit
    trail twice), so the common cases are decided by exact type, and the leaves of a
    dict or list that are already plain are taken without a call."""
    cls = type(value)
    if cls in PLAIN_TYPES:
        return value
    if cls is dict:
        return {k: v if type(v) in PLAIN_TYPES else plain(v) for k, v in value.items()}
    if cls is list or cls is tuple:
        return [v if type(v) in PLAIN_TYPES else plain(v) for v in value]
    if cls is date or cls is datetime:
        return value.isoformat()
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Meta):
        return plain(value.as_dict())
    return value


def public_document(document: dict) -> dict:
    """What the public may see of a case file (``organization_document``): its registration
    data, conclusions by year, credit listings and penalties; nothing about persons (no
    leaders, no reasons or findings, which are free text). The public disclosure pages and
    the open-data extract both show exactly this. An entry that a pending objection
    contests is marked ``disputed`` (issue 16)."""
    disputed = disputed_entries(document.get("objections", []))
    return {"code": document["code"], "identifier": document["identifier"],
            "name": document["name"], "type": document["type"],
            "status": document["status"], "domicile": document["domicile"]["address"],
            "registered_on": document["registered_on"],
            "business_scope": document["business_scope"],
            "supervisory_unit": document["supervisory_unit"],
            "certificate_valid_until": document["certificate"]["valid_until"],
            "conclusions": [{"year": c["year"], "result": c["result"],
                             "disputed": ("annual_inspection", str(c["year"])) in disputed}
                            for c in document["annual_inspections"]],
            "credit_listings": [{"list": c["list"], "listed_on": c["listed_on"],
                                 "removed_on": c["removed_on"],
                                 "disputed": ("credit_listing", c["id"]) in disputed}
                                for c in document["credit_listings"]],
            "penalties": [{"decision_number": p["decision_number"], "kind": p["kind"],
                           "decision_date": p["decision_date"],
                           "rescinded": p["rescinded"],
                           "disputed": ("penalty", p["decision_number"]) in disputed}
                          for p in document["penalties"]]}


def certificate_state(valid_until: date | None, today: date,
                      expiring_days: int) -> str | None:
    """Expired after its end; expiring within ``expiring_days`` of it (DOMAIN.md section 3,
    the ``certificate_expiry`` rule)."""
    if valid_until is None:
        return None
    if today > valid_until:
        return "expired"
    if today >= valid_until - timedelta(days=int(expiring_days)):
        return "expiring"
    return "valid"


def organization_document(org: Organization) -> dict:
    """The organization's state as a document (no identity numbers: leaders carry only the
    masked number). The certificate's expiring/expired state depends on the reading day
    and the certificate rule as it stands then, so ``with_certificate_state`` adds it when
    the document is served. Its ``objections`` and ``repair_applications`` (issue 16) are
    there only once it has some, and the online annual reports' drafts and reviews only for
    an organization that has one, so the documents of a case without any (all of them
    before, and their audit entries, rebuilt) read exactly as they did."""
    document = {
        "code": org.code,
        "identifier": org.identifier,
        "name": org.name,
        "type": org.org_type,
        "status": org.status,
        "status_since": org.status_since,
        "suspended_until": org.suspended_until,
        "domicile": org.domicile,
        "business_scope": org.business_scope,
        "registered_funds": org.registered_funds,
        "supervisory_unit": org.supervisory_unit,
        "founded_on": org.founded_on,
        "registered_on": org.registered_on,
        "imported": org.imported,
        "certificate": {"valid_until": org.certificate_valid_until,
                        "renewals": org.certificate_renewals},
        "changes": org.changes,
        "annual_reports": sorted(org.annual_reports.values(), key=lambda r: r["year"]),
        "annual_inspections": sorted(org.conclusions.values(), key=lambda c: c["year"]),
        "level": org.level,
        "major_events": list(org.major_events.values()),
        "inspections": org.inspections,
        "rectifications": list(org.rectifications.values()),
        "management_suggestions": org.suggestions,
        "penalties": list(org.penalties.values()),
        "credit_listings": list(org.credit_listings.values()),
        "interviews": org.interviews,
        "leaders": list(org.leaders.values()),
        "legal_representative": org.legal_representative(),
        "former_leaders": org.former_leaders,
        "term_elections": org.term_elections,
        "closure": org.closure,
        "version": org.version,
    }
    for name, items in (("objections", org.objections),
                        ("repair_applications", org.repair_applications)):
        if items:
            document[name] = list(items.values())
    if org.annual_report_reviews:
        document["annual_report_reviews"] = [
            {**entry, "stage": org.annual_report_stage(entry["year"])}
            for _, entry in sorted(org.annual_report_reviews.items())]
    return plain(document)


def with_certificate_state(document: dict, today: date, certificate_expiry: Rule) -> dict:
    """The document with its certificate's state on ``today`` by the ``certificate_expiry``
    rule (its parameters for the organization's jurisdiction)."""
    valid_until = document["certificate"]["valid_until"]
    parameters = certificate_expiry.parameters_for(document["domicile"]["jurisdiction"])
    state = certificate_state(date.fromisoformat(valid_until) if valid_until else None, today,
                              parameters["expiring_days"])
    return {**document, "certificate": {**document["certificate"], "state": state}}


EVENT_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "meta"}


def event_document(event: Any) -> dict:
    """One recorded event: its type, who and when, and what it says."""
    data = {k: v for k, v in event.__dict__.items() if k not in EVENT_ENVELOPE}
    return plain({
        "type": type(event).__name__,
        "version": event.originator_version,
        "recorded_at": event.timestamp,
        "meta": event.meta,
        "data": data,
    })


def risk_flags(org: Organization) -> list[str]:
    """What needs attention, from the record itself (the network issue adds warnings)."""
    flags = []
    if org.active_listings():
        flags.append("credit_listed")
    if any(r["status"] == "overdue" for r in org.rectifications.values()):
        flags.append("overdue_rectification")
    if any(r["status"] != "completed" for r in org.rectifications.values()):
        flags.append("open_rectification")
    if any((e["review"] or {}).get("risk_level") == "high" for e in org.major_events.values()):
        flags.append("high_risk_major_event")
    if any(e["late"] for e in org.major_events.values()):
        flags.append("late_major_event")
    latest = latest_conclusion(org)
    if latest is not None and latest["result"] == "unqualified":
        flags.append("unqualified")
    if org.status == "suspended":
        flags.append("suspended")
    return flags


def latest_conclusion(org: Organization) -> dict | None:
    if not org.conclusions:
        return None
    return org.conclusions[max(org.conclusions, key=int)]
