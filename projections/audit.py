"""The audit trail: one entry per recorded event, chained by hashes.

Each entry holds who did what, when it was recorded and when it takes effect, why, the
field-level before/after values, whether it was recorded late (rule 12, by the timeliness
rule as it stood then: projections.base follows it), and a hash that covers the
canonical event and the previous entry's hash. Personal data is redacted before it is
canonicalized (identity numbers masked, password and token hashes removed), so the trail
can be shown and exported; the verifier recomputes every entry from the event log and
the chain, and names the first entry that does not match.
"""

from __future__ import annotations

import hashlib
import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from domain.codes import mask_id_number
from domain.organization import Organization
from domain.personal import Personal
from domain.texts import render
from domain.versions import fields_added_since
from projections.base import OrganizationProjection, StatefulView
from projections.casefile import recorded_late
from projections.documents import PLAIN_TYPES, organization_document, plain

GENESIS = "0" * 64
SECRET_FIELDS = {"password_hash", "token_hash"}


def personal_placeholder(value: Any) -> str:
    """What the trail keeps of a personal field (a name, an identity number, a birth
    date sealed with its owner's key): a stable reference to the person, the same before
    and after an erasure, so the hash chain never depends on personal data and still
    verifies once the person's key is destroyed."""
    return render("personal_data", person=value.owner)


def without_personal_data(value: Any) -> Any:
    """``value`` with every personal field replaced by its placeholder."""
    if type(value) in PLAIN_TYPES:  # most values; a personal value is a subclass
        return value
    if isinstance(value, Personal):
        return personal_placeholder(value)
    if isinstance(value, dict):
        return {k: without_personal_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_personal_data(v) for v in value]
    return value


def personal_changes_redacted(changes: list[dict]) -> list[dict]:
    """Field changes with personal values replaced by their placeholder, on both sides
    when either is personal (a state stored before personal values were typed may hold
    the plain text on the other side); changes that are then no change are dropped."""
    redacted = []
    for change in changes:
        before, after = change["before"], change["after"]
        owner = next((v for v in (after, before) if isinstance(v, Personal)), None)
        if owner is not None:
            before = personal_placeholder(owner) if before is not None else None
            after = personal_placeholder(owner) if after is not None else None
        else:
            before, after = without_personal_data(before), without_personal_data(after)
        if before != after:
            redacted.append({**change, "before": before, "after": after})
    return redacted


def canonical_event(event: Any, position: int) -> dict:
    """The event as the audit trail keeps it: redacted, plain JSON. Personal fields are
    replaced by a reference to their owner (events recorded before personal data was
    sealed per person carry plain text: their identity numbers are masked, as before).

    A field that a later version of the event class added (domain.versions) is left out
    while it holds the value an older event reads as: an event recorded before the
    field existed hashes exactly as it did when it was recorded (its entry still
    verifies, a rebuild gives the same hashes), and a new event that leaves the field at
    that value records the same fact and hashes the same way. Any other value is in the
    hash, so changing it in the store is detected."""
    data = {}
    added = fields_added_since(type(event))
    for key, value in event.__dict__.items():
        if key in ("originator_id", "originator_version", "timestamp", "originator_topic",
                   "meta"):
            continue
        if key in added and type(value) is type(added[key]) and value == added[key]:
            continue
        if isinstance(value, Personal):
            value = personal_placeholder(value)
        elif key == "id_number" and isinstance(value, str):
            value = mask_id_number(value)
        elif key in SECRET_FIELDS:
            value = "[redacted]"
        data[key] = value
    meta = getattr(event, "meta", None)
    return plain({
        "position": position, "aggregate_id": str(event.originator_id),
        "version": event.originator_version, "type": type(event).__qualname__,
        "recorded_at": event.timestamp, "meta": meta.as_dict() if meta else None,
        "data": data})


def canonical_json(canonical: dict) -> str:
    return json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(previous_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{previous_hash}\n{canonical}".encode()).hexdigest()


def field_changes(before: Any, after: Any, path: str = "") -> list[dict]:
    """Leaf-level differences between two plain documents: ``{field, before, after}``."""
    if before == after:  # equal subtrees (most of the document): compared in C, skipped
        return []
    # (equal children are skipped here too, without a call each: a document has about 30
    # fields, and an event changes one or two)
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in list(before) + [k for k in after if k not in before]:
            if key == "version":
                continue
            b, a = before.get(key), after.get(key)
            if b == a:
                continue
            changes += field_changes(b, a, f"{path}.{key}" if path else key)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for i in range(max(len(before), len(after))):
            b = before[i] if i < len(before) else None
            a = after[i] if i < len(after) else None
            if b == a:
                continue
            changes += field_changes(b, a, f"{path}[{i}]")
        return changes
    if before == after:
        return []
    return [{"field": path, "before": before, "after": after}]


@dataclass
class AuditEntry:
    position: int
    aggregate_id: str
    identifier: str | None
    event_type: str
    actor_id: str | None
    actor_role: str | None
    recorded_at: str
    effective_date: str | None
    reason: str | None
    reference: str | None
    changes: list[dict]
    late: bool
    canonical: str
    previous_hash: str = ""
    hash: str = ""


class AuditView(StatefulView):
    @abstractmethod
    def head(self) -> tuple[int, str]:
        """(position, hash) of the last entry; (0, GENESIS) when empty."""

    @abstractmethod
    def entries(self, *, identifier: str | None = None, after: int = 0,
                up_to: int | None = None, limit: int | None = None) -> list[dict]:
        """Entries in position order, all or one organization's."""

    @abstractmethod
    def all_entries(self, up_to: int, after: int = 0) -> Iterable[dict]:
        """Every entry after a position up to another, in order (streamed)."""

    @abstractmethod
    def page(self, identifier: str, offset: int, limit: int) -> tuple[int, list[dict]]:
        """One organization's entries in position order, a page of them: (how many it
        has in all, those ``offset`` to ``offset + limit``)."""


class AuditProjection(OrganizationProjection[AuditView]):
    name = "audittrail"
    follows_rules = ("timeliness",)

    def process_batch(self, events, tracking) -> None:
        self._documents: dict = {}  # org id -> (version, document), within this batch
        super().process_batch(events, tracking)

    def before(self, org: Organization | None) -> Any:
        if org is None:
            return {}
        cached = getattr(self, "_documents", {}).get(org.id)
        if cached is not None and cached[0] == org.version:
            return cached[1]  # the previous event's "after": the same state
        return organization_document(org)

    def rows_for(self, event: Any, position: int, before: Any,
                 org: Organization | None) -> list[Any]:
        canonical = canonical_event(event, position)
        if org is not None:
            after = organization_document(org)
            # a leader's name in the changes: a reference to the person, never the name
            changes = personal_changes_redacted(field_changes(before, after))
            getattr(self, "_documents", {})[org.id] = (org.version, after)
            identifier = org.identifier
        else:
            changes = [{"field": k, "before": None, "after": v}
                       for k, v in canonical["data"].items()]
            identifier = None
        meta = canonical["meta"] or {}
        return [AuditEntry(
            position=position, aggregate_id=canonical["aggregate_id"], identifier=identifier,
            event_type=canonical["type"], actor_id=meta.get("actor_id"),
            actor_role=meta.get("actor_role"), recorded_at=canonical["recorded_at"],
            effective_date=meta.get("effective_date"), reason=meta.get("reason"),
            reference=meta.get("reference"), changes=changes,
            late=org is not None and recorded_late(
                event, self.parameters("timeliness", org.domicile["jurisdiction"])),
            canonical=canonical_json(canonical))]


def link(entries: Sequence[AuditEntry], previous_hash: str) -> None:
    """Chain the entries after the given hash."""
    for entry in entries:
        entry.previous_hash = previous_hash
        entry.hash = previous_hash = chain_hash(previous_hash, entry.canonical)


@dataclass
class Verification:
    ok: bool
    verified: int
    head_position: int
    head_hash: str
    first_broken: dict | None = None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "verified_entries": self.verified,
                "head": {"position": self.head_position, "hash": self.head_hash},
                "first_broken": self.first_broken}


def verify(stored: Iterable[dict], recorded: Iterable[tuple[Any, int]], *,
           after: tuple[int, str] = (0, GENESIS), verified: int = 0) -> Verification:
    """Walk the stored entries and the event log side by side: every entry must be the
    canonical form of the event at its position, and chained to the one before.

    ``after`` is where the walk starts: the genesis (a full verification), or an earlier
    verified head ``(position, hash)`` with ``verified`` entries up to it (an extension:
    ``stored`` and ``recorded`` then hold only what follows that position)."""
    (head_position, previous), count = after, verified
    log = iter(recorded)
    for entry in stored:
        problem, at = None, entry["position"]
        expected = next(log, None)
        if expected is None:
            problem = render("chain_no_event")
        else:
            event, position = expected
            if event is None:
                problem, at = render("chain_unreadable", position=position), position
            elif entry["position"] > position:
                problem, at = render("chain_missing", position=position), position
            elif entry["position"] < position:
                problem = render("chain_repeated", position=entry["position"])
            elif entry["canonical"] != canonical_json(canonical_event(event, position)):
                # (the canonical form holds the position: an equal one is in its place)
                held = json.loads(entry["canonical"]).get("position")
                problem = (render("chain_reordered", position=held) if held != position else
                           render("chain_altered"))
        if problem is None and entry["previous_hash"] != previous:
            problem = render("chain_unlinked")
        if problem is None and entry["hash"] != chain_hash(previous, entry["canonical"]):
            problem = render("chain_hash")
        if problem is not None:
            return Verification(False, count, head_position, previous,
                                {"position": at, "problem": problem})
        previous, head_position = entry["hash"], entry["position"]
        count += 1
    missing = next(log, None)
    if missing is not None:
        return Verification(False, count, head_position, previous,
                            {"position": missing[1],
                             "problem": render("chain_no_entry")})
    return Verification(True, count, head_position, previous)
