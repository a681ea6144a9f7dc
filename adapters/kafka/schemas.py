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

from adapters.kafka.cloudevents import NEVER_PUBLISHED, TYPE_PREFIX
from domain.meta import Meta
from domain.organization import Organization
from domain.person import Person

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
        "rules": {"type": "array", "items": {"type": "string"}}},
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


def event_fields(event_class: type) -> dict[str, Any]:
    """The event's data fields with their types, from its constructor's signature."""
    namespace = {**vars(__import__(event_class.__module__, fromlist=["_"])),
                 "datetime": datetime, "date": date, "UUID": UUID, "Decimal": Decimal,
                 "Meta": Meta}
    hints = typing.get_type_hints(event_class.__init__, globalns=namespace)
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic", "return"}
    return {k: v for k, v in hints.items() if k not in skip and k not in NEVER_PUBLISHED}


def published_event_classes() -> dict[str, type]:
    classes = {}
    for aggregate, kind in ((Organization, "organization"), (Person, "person")):
        for name, value in vars(aggregate).items():
            if inspect.isclass(value) and (issubclass(value, aggregate.Event) or
                                           issubclass(value, aggregate.Created)) \
                    and value not in (aggregate.Event, getattr(aggregate, "Founded", None)) \
                    and name not in ("Created", "Event"):
                classes[f"{TYPE_PREFIX}.{kind}.{name}.v1"] = value
    return classes


def event_schema(type_name: str, event_class: type) -> dict:
    fields = event_fields(event_class)
    properties = {name: type_schema(annotation) for name, annotation in fields.items()}
    properties.update(ENVELOPE_FIELDS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{type_name}.json",
        "title": type_name,
        "description": (event_class.__doc__ or "").strip().split("\n")[0] or type_name,
        "type": "object",
        "required": sorted(set(properties) - ADDED_LATER.get(event_class.__name__, set())),
        "properties": properties,
        "additionalProperties": False,
        "$defs": {"meta": META_SCHEMA},
    }


def message_key(type_name: str) -> str:
    kind, name = type_name.split(".")[-3:-1]
    return kind + name


def asyncapi(topic: str, types: list[str]) -> dict:
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Social-organization case files: event stream", "version": "1.0.0",
                 "description": "Every recorded event, as a CloudEvent 1.0 in JSON "
                                "structured mode, keyed by aggregate id (per-organization "
                                "order). Identity numbers are never published."},
        "channels": {"events": {"address": topic, "messages": {
            message_key(t): {"$ref": f"#/components/messages/{message_key(t)}"}
            for t in types}}},
        "operations": {"receiveEvents": {"action": "receive",
                                         "channel": {"$ref": "#/channels/events"}}},
        "components": {"messages": {message_key(t): {
            "name": t, "contentType": "application/cloudevents+json",
            "payload": {"type": "object",
                        "required": ["specversion", "id", "source", "type", "subject",
                                     "time", "data"],
                        "properties": {"specversion": {"const": "1.0"},
                                       "id": {"type": "string"}, "source": {"type": "string"},
                                       "type": {"const": t}, "subject": {"type": "string"},
                                       "time": {"type": "string", "format": "date-time"},
                                       "sequence": {"type": "string"},
                                       "datacontenttype": {"const": "application/json"},
                                       "data": {"$ref": f"events/{t}.json"}}}}
            for t in types}},
    }


def write_schemas(folder: Path, topic: str = "socorg.events") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    classes = published_event_classes()
    for type_name, event_class in sorted(classes.items()):
        path = folder / f"{type_name}.json"
        path.write_text(json.dumps(event_schema(type_name, event_class), indent=2,
                                   ensure_ascii=False) + "\n")
        written.append(path)
    spec = folder.parent / "asyncapi.json"
    spec.write_text(json.dumps(asyncapi(topic, sorted(classes)), indent=2) + "\n")
    written.append(spec)
    return written
