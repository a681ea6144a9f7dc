"""The three-level early-warning network (预警网络): its nodes and information officers,
warnings, the proposals rules make for staff to decide, and the daily clock.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.codes import jurisdiction_level, validate_jurisdiction
from domain.errors import InvalidValue, RuleViolation
from domain.meta import Meta
from domain.organization import CREDIT_LISTS

NETWORK_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/network")
SEVERITIES = ("low", "medium", "high")
SOURCES = ("information_officer", "rule", "tip_off", "public_opinion")
LEVELS = ("committee", "sub_district", "district")


def parent_node(code: str) -> str | None:
    """The next node up: committee -> sub-district -> district -> none."""
    level = jurisdiction_level(code)
    if level == "committee":
        return code[:9] + "000"
    if level == "sub_district":
        return code[:6] + "000000"
    return None


class NetworkNode(Aggregate):
    """A node of the network (district, sub-district or committee) and who staffs it."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(NETWORK_NAMESPACE, "node:" + code)

    @classmethod
    def establish(cls, *, code: str, name: str, meta: Meta) -> "NetworkNode":
        validate_jurisdiction(code, "code")
        if not name.strip():
            raise InvalidValue("name must not be empty", field="name")
        return cls(code=code, name=name, level=jurisdiction_level(code),
                   parent=parent_node(code), meta=meta)

    @event("Established")
    def __init__(self, code: str, name: str, level: str, parent: str | None, meta: Meta):
        self.code = code
        self.name = name
        self.level = level
        self.parent = parent
        self.officers: dict[str, dict] = {}

    def assign_officer(self, *, username: str, meta: Meta) -> None:
        if username in self.officers:
            raise RuleViolation(f"{username} is already an officer of {self.code}",
                                rule="already_assigned", field="username")
        self._officer_assigned(username=username, meta=meta)

    @event("OfficerAssigned")
    def _officer_assigned(self, username: str, meta: Meta) -> None:
        self.officers[username] = {"since": meta.effective_date}

    def remove_officer(self, *, username: str, meta: Meta) -> None:
        if username not in self.officers:
            raise RuleViolation(f"{username} is not an officer of {self.code}",
                                rule="not_assigned", field="username")
        self._officer_removed(username=username, meta=meta)

    @event("OfficerRemoved")
    def _officer_removed(self, username: str, meta: Meta) -> None:
        self.officers.pop(username)


class EarlyWarning(Aggregate):
    """A warning about one organization, at one level of the network."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(NETWORK_NAMESPACE, "warning:" + key)

    @classmethod
    def raise_(cls, *, key: str, organization: str, jurisdiction: str, severity: str,
               source: str, title: str, description: str, rule: str | None,
               meta: Meta) -> "EarlyWarning":
        """Raised at the lowest level that sees it: the organization's committee.
        ``key`` makes a rule's firing unique (the same fact never warns twice)."""
        if severity not in SEVERITIES:
            raise InvalidValue(f"severity must be one of {', '.join(SEVERITIES)}",
                               field="severity")
        if source not in SOURCES:
            raise InvalidValue(f"source must be one of {', '.join(SOURCES)}", field="source")
        if (source == "rule") != (rule is not None):
            raise InvalidValue("a rule's warning names the rule; no other does",
                               field="source")
        return cls._create(cls.Raised, id=cls.create_id(key), key=key,
                           organization=organization, jurisdiction=jurisdiction,
                           node=jurisdiction, level="committee", severity=severity,
                           source=source, title=title, description=description, rule=rule,
                           meta=meta)

    class Raised(Aggregate.Created):
        key: str
        organization: str
        jurisdiction: str
        node: str
        level: str
        severity: str
        source: str
        title: str
        description: str
        rule: str | None
        meta: Meta

    def __init__(self, key: str, organization: str, jurisdiction: str, node: str, level: str,
                 severity: str, source: str, title: str, description: str, rule: str | None,
                 meta: Meta):
        self.key = key
        self.organization = organization
        self.jurisdiction = jurisdiction
        self.node = node
        self.level = level
        self.severity = severity
        self.source = source
        self.title = title
        self.description = description
        self.rule = rule
        self.raised_on = meta.effective_date
        self.level_since = meta.effective_date
        self.status = "open"
        self.acknowledged_by: str | None = None
        self.resolution: dict | None = None
        self.history: list[dict] = []

    def _require_unresolved(self) -> None:
        if self.status == "resolved":
            raise RuleViolation("the warning is already resolved", rule="warning_resolved")

    def acknowledge(self, *, meta: Meta) -> None:
        self._require_unresolved()
        if self.status == "acknowledged":
            raise RuleViolation("the warning is already acknowledged",
                                rule="already_acknowledged")
        self._acknowledged(meta=meta)

    @event("Acknowledged")
    def _acknowledged(self, meta: Meta) -> None:
        self.status = "acknowledged"
        self.acknowledged_by = meta.actor_id
        self.history.append({"what": "acknowledged", "by": meta.actor_id,
                             "on": meta.effective_date})

    def escalate(self, *, rule: str | None, meta: Meta) -> None:
        """Up one level, by a rule (not handled in time) or by hand."""
        self._require_unresolved()
        to_node = parent_node(self.node)
        if to_node is None:
            raise RuleViolation("the warning is already at the district",
                                rule="top_of_network")
        self._escalated(from_node=self.node, to_node=to_node,
                        level=jurisdiction_level(to_node), rule=rule, meta=meta)

    @event("Escalated")
    def _escalated(self, from_node: str, to_node: str, level: str, rule: str | None,
                   meta: Meta) -> None:
        self.node, self.level, self.level_since = to_node, level, meta.effective_date
        self.status = "open"
        self.history.append({"what": "escalated", "to": to_node, "by": meta.actor_id,
                             "rule": rule, "on": meta.effective_date})

    def resolve(self, *, note: str, meta: Meta) -> None:
        self._require_unresolved()
        if not note.strip():
            raise InvalidValue("note must say how it was resolved", field="note")
        self._resolved(note=note, meta=meta)

    @event("Resolved")
    def _resolved(self, note: str, meta: Meta) -> None:
        self.status = "resolved"
        self.resolution = {"note": note, "by": meta.actor_id, "on": meta.effective_date}
        self.history.append({"what": "resolved", "by": meta.actor_id,
                             "on": meta.effective_date})


PROPOSAL_KINDS = ("listing", "delisting", "conclusion")


class Proposal(Aggregate):
    """A decision with legal effect that a rule proposes and staff confirm or reject
    (rule 1): a listing, a delisting, or an annual-inspection conclusion."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(NETWORK_NAMESPACE, "proposal:" + key)

    @classmethod
    def propose(cls, *, key: str, kind: str, organization: str, jurisdiction: str,
                credit_list: str | None, listing_id: str | None, year: int | None,
                reason: str, rule: str, meta: Meta) -> "Proposal":
        if kind not in PROPOSAL_KINDS:
            raise InvalidValue(f"kind must be one of {', '.join(PROPOSAL_KINDS)}", field="kind")
        if kind in ("listing", "delisting") and credit_list not in CREDIT_LISTS:
            raise InvalidValue("a listing names its list", field="list")
        return cls._create(cls.Made, id=cls.create_id(key), key=key, kind=kind,
                           organization=organization, jurisdiction=jurisdiction,
                           credit_list=credit_list, listing_id=listing_id, year=year,
                           reason=reason, rule=rule, meta=meta)

    class Made(Aggregate.Created):
        key: str
        kind: str
        organization: str
        jurisdiction: str
        credit_list: str | None
        listing_id: str | None
        year: int | None
        reason: str
        rule: str
        meta: Meta

    def __init__(self, key: str, kind: str, organization: str, jurisdiction: str,
                 credit_list: str | None, listing_id: str | None, year: int | None,
                 reason: str, rule: str, meta: Meta):
        self.key = key
        self.kind = kind
        self.organization = organization
        self.jurisdiction = jurisdiction
        self.credit_list = credit_list
        self.listing_id = listing_id
        self.year = year
        self.reason = reason
        self.rule = rule
        self.proposed_on = meta.effective_date
        self.status = "proposed"
        self.decision: dict | None = None

    def _require_open(self) -> None:
        if self.status != "proposed":
            raise RuleViolation(f"the proposal was already {self.status}",
                                rule="proposal_decided")

    def confirm(self, *, meta: Meta) -> None:
        self._require_open()
        self._confirmed(meta=meta)

    @event("Confirmed")
    def _confirmed(self, meta: Meta) -> None:
        self.status = "confirmed"
        self.decision = {"by": meta.actor_id, "on": meta.effective_date, "note": meta.reason}

    def reject(self, *, meta: Meta) -> None:
        self._require_open()
        if not meta.reason:
            raise InvalidValue("reason must say why the proposal is rejected", field="reason")
        self._rejected(meta=meta)

    @event("Rejected")
    def _rejected(self, meta: Meta) -> None:
        self.status = "rejected"
        self.decision = {"by": meta.actor_id, "on": meta.effective_date, "note": meta.reason}


CLOCK_ID = uuid5(NETWORK_NAMESPACE, "clock")


class Clock(Aggregate):
    """The daily clock that runs the date rules; each day is ticked once."""

    @staticmethod
    def create_id() -> UUID:
        return CLOCK_ID

    @event("Started")
    def __init__(self, meta: Meta):
        self.last_date: date | None = None

    def days_to_tick(self, until: date) -> list[date]:
        """The days not yet ticked up to ``until``: all missed days, or just ``until`` on
        a clock that never ran."""
        if self.last_date is None:
            return [until]
        days, day = [], self.last_date + timedelta(days=1)
        while day <= until:
            days.append(day)
            day += timedelta(days=1)
        return days

    def tick(self, *, day: date, meta: Meta) -> None:
        if self.last_date is not None and day <= self.last_date:
            raise RuleViolation(f"{day} was already ticked", rule="already_ticked")
        self._ticked(day=day, meta=meta)

    @event("Ticked")
    def _ticked(self, day: date, meta: Meta) -> None:
        self.last_date = day
