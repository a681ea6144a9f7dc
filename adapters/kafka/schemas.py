"""JSON Schemas of the published events' data, generated from the event classes' own
signatures, and the AsyncAPI document of the topic. ``casefile schemas`` writes them to
docs/events/; a test checks the files are current and every published message fits.
"""

from __future__ import annotations

import inspect
import json
import typing
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args, get_origin
from uuid import UUID

from adapters.kafka.cloudevents import NEVER_PUBLISHED, SEQUENCE_DIGITS, type_name
from domain.meta import Meta
from domain.inspection_plan import InspectionPlan
from domain.organization import Organization
from domain.person import Person
from domain.versions import class_version, fields_added_since

META_SCHEMA = {
    "type": "object",
    "required": ["actor_id", "actor_role", "effective_date", "correlation_id"],
    "properties": {
        "actor_id": {"type": "string"}, "actor_role": {"type": "string"},
        "effective_date": {"type": "string", "format": "date"},
        "correlation_id": {"type": "string"},
        "reason": {"type": ["string", "null"]}, "reference": {"type": ["string", "null"]},
        "imported": {"type": "boolean"},
        # the rule versions the command applied ("major_event_reporting@v2"), when any
        "rules": {"type": "array", "items": {"type": "string"}},
        # the documents the entry rests on, when any (a personal one's name is left out)
        "documents": {"type": "array", "items": {
            "type": "object", "required": ["sha256", "media_type", "size", "public",
                                           "personal"],
            "properties": {"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                           "name": {"type": "string"},
                           "media_type": {"type": "string",
                                          "enum": ["application/pdf", "image/jpeg",
                                                   "image/png"]},
                           "size": {"type": "integer", "minimum": 0},
                           "public": {"type": "boolean"}, "personal": {"type": "boolean"}},
            "additionalProperties": False}}},
    "additionalProperties": False,
}
# Fields an event gained after events of its type were stored: absent from the older ones,
# so not required (event class name -> field names).
ADDED_LATER = {"OccupationalBanRecorded": {"jurisdiction"}}
ENVELOPE_FIELDS = {
    "aggregate_id": {"type": "string", "format": "uuid"},
    "version": {"type": "integer", "minimum": 1},
    "position": {"type": "integer", "minimum": 1},
}


def type_schema(annotation: Any) -> dict:
    origin = get_origin(annotation)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        options = [type_schema(a) for a in get_args(annotation)]
        return {"anyOf": options}
    if annotation is type(None):
        return {"type": "null"}
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is Decimal:
        return {"type": "number"}
    if annotation is date:
        return {"type": "string", "format": "date"}
    if annotation is Meta:
        return {"$ref": "#/$defs/meta"}
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        return {"type": "array", "items": type_schema(item) if item is not Any else {}}
    if annotation is dict or origin is dict:
        return {"type": "object"}
    return {}


def event_fields(event_class: type, version: int | None = None) -> dict[str, Any]:
    """The event's data fields with their types, from its constructor's signature; at an
    earlier ``version`` of the class, less the fields added since (domain.versions)."""
    namespace = {**vars(__import__(event_class.__module__, fromlist=["_"])),
                 "datetime": datetime, "date": date, "UUID": UUID, "Decimal": Decimal,
                 "Meta": Meta}
    hints = typing.get_type_hints(event_class.__init__, globalns=namespace)
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic", "return"}
    if version is not None:
        skip |= set(fields_added_since(event_class, version))
    return {k: v for k, v in hints.items() if k not in skip and k not in NEVER_PUBLISHED}


def published_event_classes() -> dict[str, tuple[type, int]]:
    """Every published type: its event class and version. Each version of a class is a
    type of its own: the current one is what the relay publishes, the earlier ones are
    on the topic from before (and their consumers read them)."""
    classes = {}
    for aggregate, kind in ((Organization, "organization"), (Person, "person"),
                            (InspectionPlan, "inspection_plan")):
        for name, value in vars(aggregate).items():
            if inspect.isclass(value) and (issubclass(value, aggregate.Event) or
                                           issubclass(value, aggregate.Created)) \
                    and value not in (aggregate.Event, getattr(aggregate, "Founded", None)) \
                    and name not in ("Created", "Event"):
                for version in range(1, class_version(value) + 1):
                    classes[type_name(kind, value, version)] = (value, version)
    return classes


def summary(event_class: type) -> str:
    """The first line of the event class's own docstring, where it has one (the library
    subclasses an event class it decorates, and the dataclass machinery gives that
    subclass a docstring of its own, ``Name(self, ...)``); else of its docstring."""
    for cls in event_class.__mro__:
        doc = vars(cls).get("__doc__") or ""
        if cls.__name__ == event_class.__name__ and doc \
                and not doc.startswith(f"{cls.__name__}("):
            return doc.strip().split("\n")[0]
    return (event_class.__doc__ or "").strip().split("\n")[0]


def event_schema(name: str, event_class: type, version: int | None = None) -> dict:
    fields = event_fields(event_class, version)
    properties = {field: type_schema(annotation) for field, annotation in fields.items()}
    properties.update(ENVELOPE_FIELDS)
    description = summary(event_class) or name
    latest = class_version(event_class)
    if latest > 1 and version is not None:
        added = fields_added_since(event_class, version)
        description += (f" Version {version} of {latest}" + (
            f": without {', '.join(added)}, which version {latest} adds."
            if added else "."))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{name}.json",
        "title": name,
        "description": description,
        "type": "object",
        "required": sorted(set(properties) - ADDED_LATER.get(event_class.__name__, set())),
        "properties": properties,
        "additionalProperties": False,
        "$defs": {"meta": META_SCHEMA},
    }


SEQUENCE_SCHEMA = {"type": "string", "pattern": f"^[0-9]{{{SEQUENCE_DIGITS}}}$",
                   "description": "the event's position in the recorded sequence (as "
                                  "data.position), zero-padded to a fixed width so that "
                                  "the strings order as the positions; positions of "
                                  "events that are not published (accounts) leave gaps"}


def message_key(name: str) -> str:
    """The AsyncAPI message's key: ``organizationRegistered`` for version 1 (as ever),
    ``organizationAnnualReportFiledV2`` for a later version."""
    kind, event_name, version = name.split(".")[-3:]
    return kind + event_name + ("" if version == "v1" else version.upper())


def message_description(event_class: type, version: int) -> dict:
    """For a type that is not its event's latest version: that it is no longer published
    but stays on the topic (docs/EVENTS.md, the compatibility policy)."""
    latest = class_version(event_class)
    if version == latest:
        return {}
    return {"description": f"Version {version} of {event_class.__name__}: published until "
                           f"version {latest} replaced it, and on the topic since; a "
                           f"consumer reads both (docs/EVENTS.md)."}


# The Kafka bindings (AsyncAPI bindings for Kafka, version 0.5.0): the record key.
KAFKA_BINDING_VERSION = "0.5.0"
MESSAGE_KEY_SCHEMA = {"type": "string", "format": "uuid",
                      "description": "the aggregate id (the organization's or the person's "
                                     "UUID, as in data.aggregate_id): every event of one "
                                     "aggregate goes to one partition, in recorded order"}


def asyncapi(topic: str, classes: dict[str, tuple[type, int]]) -> dict:
    types = sorted(classes)
    return {
        "asyncapi": "3.0.0",
        # 1.1.0: AnnualReportFiled v2 (issue 17); 1.2.0: the servers, the Kafka bindings and
        # the zero-padded sequence; 1.3.0: the online annual report's events (issue 16);
        # 1.4.0: the double-random plans' events (drawn, results published; issue 16); a
        # new type or version is a minor change of this document, a type's removal would
        # be a major one (docs/EVENTS.md)
        "info": {"title": "Social-organization case files: event stream", "version": "1.4.0",
                 "description": "Every recorded event, as a CloudEvent 1.0 in JSON "
                                "structured mode, keyed by aggregate id (per-organization "
                                "order). Identity numbers are never published. A type "
                                "ends in its version (.v1, .v2); each version has its own "
                                "schema, and consumers read every version listed here."},
        "servers": {
            "production": {
                "host": "{bootstrap}", "protocol": "kafka",
                "description": "The bureau's Kafka cluster: the relay's "
                               "KAFKA_BOOTSTRAP_SERVERS (docs/DEPLOYMENT.md).",
                "variables": {"bootstrap": {
                    "description": "a broker's host:port (KAFKA_BOOTSTRAP_SERVERS)",
                    "default": "kafka-1:9092"}}},
            "local": {
                "host": "127.0.0.1:9092", "protocol": "kafka", "protocolVersion": "0.9.0.1",
                "description": "`make kafka`: the local broker for trying the stream by "
                               "hand (clients pin api_version 0.9)"}},
        "channels": {"events": {
            "address": topic,
            "servers": [{"$ref": "#/servers/production"}, {"$ref": "#/servers/local"}],
            "messages": {message_key(t): {"$ref": f"#/components/messages/{message_key(t)}"}
                         for t in types},
            "bindings": {"kafka": {"topic": topic,
                                   "bindingVersion": KAFKA_BINDING_VERSION}}}},
        "operations": {"receiveEvents": {
            "action": "receive", "channel": {"$ref": "#/channels/events"},
            "bindings": {"kafka": {
                "groupId": {"type": "string", "description": "the consumer's own group"},
                "bindingVersion": KAFKA_BINDING_VERSION}}}},
        "components": {
            "messageBindings": {"aggregateKey": {"kafka": {
                "key": MESSAGE_KEY_SCHEMA, "bindingVersion": KAFKA_BINDING_VERSION}}},
            "messages": {message_key(t): {
                "name": t, **message_description(*classes[t]),
                "contentType": "application/cloudevents+json",
                "bindings": {"$ref": "#/components/messageBindings/aggregateKey"},
                "payload": {"type": "object",
                            "required": ["specversion", "id", "source", "type", "subject",
                                         "time", "sequence", "data"],
                            "properties": {"specversion": {"const": "1.0"},
                                           "id": {"type": "string"},
                                           "source": {"type": "string"},
                                           "type": {"const": t},
                                           "subject": {"type": "string"},
                                           "time": {"type": "string", "format": "date-time"},
                                           "sequence": SEQUENCE_SCHEMA,
                                           "datacontenttype": {"const": "application/json"},
                                           "demo": {"const": True, "description": (
                                               "an extension attribute, present on demo "
                                               "data only (the demo generator's history, "
                                               "recorded with a simulated clock)")},
                                           "data": {"$ref": f"events/{t}.json"}}}}
                for t in types}},
    }


def write_schemas(folder: Path, topic: str = "socorg.events") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    classes = published_event_classes()
    for name, (event_class, version) in sorted(classes.items()):
        path = folder / f"{name}.json"
        path.write_text(json.dumps(event_schema(name, event_class, version), indent=2,
                                   ensure_ascii=False) + "\n")
        written.append(path)
    spec = folder.parent / "asyncapi.json"
    spec.write_text(json.dumps(asyncapi(topic, classes), indent=2, ensure_ascii=False)
                    + "\n")
    written.append(spec)
    return written
