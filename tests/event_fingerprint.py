"""The fingerprint of every event class: its fields at each version (issue 17 item 3).

Events of a class are stored for decades; the code that reads them changes. Each event
class of every aggregate of ``domain/`` (organization, person, account, network,
inspection plan, rules) is recorded in ``tests/unit/event_fingerprint.json`` with its
fields (name and annotation) at each ``class_version``. A recorded version never changes:
events of it are in stores that the code must keep reading.
tests/unit/test_event_fingerprint.py compares the classes with it (``check``) and fails
when a class changed without a version bump and an upcaster (docs/EVENTS.md, "How to
change an event").

After a deliberate change (a new class; a new version with its upcaster)::

    .venv/bin/python -m tests.event_fingerprint --update

records it; it refuses to rewrite a recorded version.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import get_topic

import domain
from domain.versions import class_version, fields_added_since

FINGERPRINT = Path(__file__).resolve().parent / "unit" / "event_fingerprint.json"
ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}
UPDATE = "python -m tests.event_fingerprint --update"
NOTE = ("Each event class's fields at each of its versions (tests/event_fingerprint.py). A "
        "recorded version never changes: events of it are stored. After a deliberate "
        f"change (a new class, or a new version with its upcaster): {UPDATE}")


def event_classes() -> dict[str, type]:
    """Every event class a store can hold, by topic: the events of each aggregate of
    ``domain/`` (not the library's ``Event``/``Created`` bases, nor a base of another
    event such as ``Organization.Founded``)."""
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        for aggregate in vars(module).values():
            if not (inspect.isclass(aggregate) and issubclass(aggregate, Aggregate)
                    and aggregate.__module__ == module.__name__):
                continue
            events = [v for k, v in vars(aggregate).items() if inspect.isclass(v)
                      and issubclass(v, DomainEvent) and k not in ("Event", "Created")]
            for cls in events:
                if not any(other is not cls and issubclass(other, cls) and
                           other.__name__ != cls.__name__ for other in events):
                    found[get_topic(cls)] = cls
    return dict(sorted(found.items()))


def _annotation(value: Any) -> str:
    return value if isinstance(value, str) else getattr(value, "__name__", repr(value))


def fields_of(cls: type) -> dict[str, str]:
    """The event's fields (name: annotation as written), the envelope aside."""
    return {f.name: _annotation(f.type) for f in dataclasses.fields(cls)
            if f.name not in ENVELOPE}


def load(path: Path = FINGERPRINT) -> dict[str, dict[str, dict[str, str]]]:
    recorded = json.loads(path.read_text())
    return {k: v for k, v in recorded.items() if not k.startswith("_")}


def check(recorded: dict[str, dict[str, dict[str, str]]], classes: dict[str, type]
          ) -> list[str]:
    """What does not match: each problem says what to do."""
    problems = []
    for topic in sorted(set(recorded) - set(classes)):
        problems.append(f"{topic} is recorded but no longer exists: stored events of it "
                        "could not be read. Keep the class (a new name is a new class).")
    for topic, cls in classes.items():
        version, fields = class_version(cls), fields_of(cls)
        history = recorded.get(topic)
        if history is None:
            problems.append(f"{topic} is a new event class: record its fields ({UPDATE}).")
            continue
        versions = sorted(int(v) for v in history)
        if str(version) in history and history[str(version)] != fields:
            before = history[str(version)]
            problems.append(
                f"{topic} changed without a version bump: {_difference(before, fields)}. "
                f"Events of version {version} are stored with the recorded fields. Set "
                f"class_version = {version + 1}, add a static method upcast_v{version}_v"
                f"{version + 1}(state) that adds each new field with the value an older "
                f"event reads as (docs/EVENTS.md, \"How to change an event\"), then "
                f"{UPDATE}.")
            continue
        if version < versions[-1]:
            problems.append(f"{topic} is class_version {version}, but version "
                            f"{versions[-1]} is recorded: a version never goes back.")
            continue
        for old in versions:
            if old < version:
                problems += _upcasting(topic, cls, old, history[str(old)], fields)
        if str(version) not in history and not problems:
            problems.append(f"{topic} version {version} is not recorded yet ({UPDATE}).")
    return problems


def _difference(before: dict[str, str], after: dict[str, str]) -> str:
    parts = [f"added {', '.join(sorted(set(after) - set(before)))}"
             if set(after) - set(before) else "",
             f"removed {', '.join(sorted(set(before) - set(after)))}"
             if set(before) - set(after) else "",
             f"retyped {', '.join(sorted(k for k in set(before) & set(after) if before[k] != after[k]))}"
             if any(before[k] != after[k] for k in set(before) & set(after)) else ""]
    return "; ".join(p for p in parts if p) or "reordered"


def _upcasting(topic: str, cls: type, old: int, before: dict[str, str],
               now: dict[str, str]) -> list[str]:
    """An event recorded as version ``old`` must read as the current version: each step
    has its upcaster, and together they add exactly the fields added since."""
    version = class_version(cls)
    missing = [f"upcast_v{v}_v{v + 1}" for v in range(old, version)
               if not callable(getattr(cls, f"upcast_v{v}_v{v + 1}", None))]
    if missing:
        return [f"{topic} is version {version} but has no {', '.join(missing)}: events "
                f"stored as version {old} could not be read."]
    removed = set(before) - set(now)
    retyped = {k for k in set(before) & set(now) if before[k] != now[k]}
    if removed or retyped:
        return [f"{topic} since version {old}: {_difference(before, now)}. A new version "
                "may only add fields; a removed, renamed or retyped field is a new event "
                "class (docs/EVENTS.md)."]
    try:
        added = set(fields_added_since(cls, old))
    except Exception as e:  # an upcaster that reads the old state, not only adds
        return [f"{topic}: its upcasters from version {old} do not only add fields "
                f"({type(e).__name__}: {e})."]
    if added != set(now) - set(before):
        return [f"{topic}: the upcasters from version {old} add "
                f"{', '.join(sorted(added)) or 'nothing'}, but the fields added since are "
                f"{', '.join(sorted(set(now) - set(before))) or 'none'}."]
    return []


def update(path: Path = FINGERPRINT) -> list[str]:
    """Record the new classes and versions; refuse when anything else is wrong."""
    recorded = load(path) if path.exists() else {}
    classes = event_classes()
    refused = [p for p in check(recorded, classes)
               if "is a new event class" not in p and "is not recorded yet" not in p]
    if refused:
        return refused
    for topic, cls in classes.items():
        recorded.setdefault(topic, {})[str(class_version(cls))] = fields_of(cls)
    path.write_text(json.dumps({"_": NOTE, **dict(sorted(recorded.items()))}, indent=1,
                               ensure_ascii=False) + "\n")
    return []


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: {UPDATE}")
    problems = update()
    if problems:
        sys.exit("not recorded:\n" + "\n".join(problems))
    print(f"{FINGERPRINT} is up to date")
