"""Versions of an event class (docs/EVENTS.md, "How to change an event").

An event class that has changed since events of it were first recorded says so with the
eventsourcing library's convention: ``class_version = N`` and one static method
``upcast_vK_vK+1(state)`` per step, which the mapper runs on a stored event's state
until it reaches version N (adapters.store.mapper; the aggregate's snapshots likewise,
with the aggregate's own ``class_version`` and upcasters).

Here an upcaster only *adds* a field, with the value an older event reads as: what was
recorded stays what it was, so the audit trail's hashes of the past do not change
(projections.audit leaves such a field out while it holds that value) and the schema of
each version published on Kafka is the current fields less those added after it
(adapters.kafka.schemas). A change that is not an addition (a field renamed, split or
retyped) is a new event class, not a new version."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


def class_version(event_class: type) -> int:
    return getattr(event_class, "class_version", 1)


@lru_cache(maxsize=None)
def fields_added_since(event_class: type, version: int = 1) -> dict[str, Any]:
    """The fields the class's upcasters add to an event recorded as ``version``, each
    with the value such an event reads as (run on an empty state)."""
    state: dict[str, Any] = {}
    for step in range(version, class_version(event_class)):
        getattr(event_class, f"upcast_v{step}_v{step + 1}")(state)
    return dict(state)
