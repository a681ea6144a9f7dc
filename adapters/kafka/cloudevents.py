"""Recorded events as CloudEvents 1.0 (JSON structured mode), the format on Kafka.

What is published (docs/EVENTS.md): organization events with their data and meta, and
person events without identity numbers or birth dates. Account events (password and
token hashes) are never published. Leaders' names are published unless
``KAFKA_REDACT_NAMES=yes``. The documents an event's meta records are published
(hash, type, size, public, personal) with their names, except a personal one's. Once a person is erased (``PersonalDataErased``, and
``LeaderPersonalDataErased`` on each organization they led) their personal fields are
published as ``[erased]``, also when older events are published again; consumers should
drop what they kept of that person when they see either event.

A message's type ends in its event class's version (``.v2`` for ``AnnualReportFiled``
since issue 17); what a new version may change and how long both are published:
docs/EVENTS.md, "How to change an event".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from domain.account import Account
from domain.inspection_plan import InspectionPlan
from domain.organization import Organization
from domain.person import Person
from domain.versions import class_version
from projections.documents import plain

SPEC_VERSION = "1.0"
TYPE_PREFIX = "cn.gov.civilaffairs.socorg"
NEVER_PUBLISHED = {"id_number", "birth_date", "password_hash", "token_hash"}
NAME_FIELDS = {"name", "person_name"}


@dataclass(frozen=True)
class PublishSettings:
    source: str = "urn:casefile:civil-affairs"
    redact_names: bool = False


SEQUENCE_DIGITS = 20  # any PostgreSQL bigint (19 digits) fits


def sequence(position: int) -> str:
    """The CloudEvents ``sequence`` of a position: zero-padded to a fixed width, so that
    comparing the strings orders the events as the positions do (the Sequence
    extension's requirement: ``"00000000000000000099" < "00000000000000000100"``)."""
    return f"{position:0{SEQUENCE_DIGITS}d}"


def event_id(originator_id: UUID, version: int) -> str:
    """A stable id: the same event always gets the same id, so consumers can drop the
    duplicates that re-publishing after a failure may produce."""
    return str(uuid5(originator_id, str(version)))


def aggregate_kind(event: Any) -> str | None:
    qualname = type(event).__qualname__
    for cls, kind in ((Organization, "organization"), (Person, "person"),
                      (InspectionPlan, "inspection_plan")):
        if qualname.startswith(cls.__name__ + ".") and isinstance(event, (cls.Event,
                                                                          cls.Created)):
            return kind
    return None


def is_published(event: Any) -> bool:
    return aggregate_kind(event) is not None and not isinstance(event, Account.Event)


def type_name(kind: str, event_class: type, version: int) -> str:
    """``cn.gov.civilaffairs.socorg.{kind}.{EventName}.v{N}``: one type per version of
    an event class (domain.versions), each with its own JSON Schema."""
    return f"{TYPE_PREFIX}.{kind}.{event_class.__name__}.v{version}"


def event_type(event: Any) -> str:
    """A message's type: its event class at its current version (an event recorded
    before the class's latest version is published upcast, as the latest version)."""
    return type_name(aggregate_kind(event), type(event), class_version(type(event)))


def to_cloudevent(event: Any, position: int, subject: str,
                  settings: PublishSettings = PublishSettings()) -> dict:
    data = {}
    for key, value in event.__dict__.items():
        if key in ("originator_id", "originator_version", "timestamp", "originator_topic"):
            continue
        if key in NEVER_PUBLISHED or (settings.redact_names and key in NAME_FIELDS):
            continue
        data[key] = value
    payload = plain(data)
    # Demo data says so in an extension attribute of the envelope, not in ``data``: the
    # types' schemas (closed, docs/EVENTS.md) stay as they are.
    demo = isinstance(payload.get("meta"), dict) and payload["meta"].pop("demo", False)
    if isinstance(payload.get("meta"), dict) and payload["meta"].get("documents"):
        # a personal document's name may name the person: published without it
        payload["meta"]["documents"] = [
            {k: v for k, v in document.items() if not (k == "name" and document["personal"])}
            for document in payload["meta"]["documents"]]
    payload.update({"aggregate_id": str(event.originator_id),
                    "version": event.originator_version, "position": position})
    cloudevent = {
        "specversion": SPEC_VERSION,
        "id": event_id(event.originator_id, event.originator_version),
        "source": settings.source,
        "type": event_type(event),
        "subject": subject,
        "time": event.timestamp.isoformat(),
        "datacontenttype": "application/json",
        "sequence": sequence(position),
        "data": payload,
    }
    if demo:
        cloudevent["demo"] = True
    return cloudevent


def encode(cloudevent: dict) -> bytes:
    return json.dumps(cloudevent, ensure_ascii=False, separators=(",", ":")).encode()
