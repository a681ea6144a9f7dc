"""The application base: loading, deciding and saving a command once, atomically with its
Idempotency-Key record, and the reads every use case shares.

Each command loads the aggregates it needs, asks them to decide (they raise a domain
error or trigger events), and saves everything in one atomic write together with the
Idempotency-Key record, if one was given. A stale expected version, or a concurrent
write that got there first, is a ``VersionConflict``.

The infrastructure (recorder, mapper, personal-data sealing) is chosen by the adapters
(adapters.store.application); this layer sees it through services.ports.
"""

from __future__ import annotations

import hashlib
import hmac
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import (AggregateNotFoundError, Application, EventSourcedLog,
                                       ProcessingEvent)
from eventsourcing.domain import Aggregate, BaseAggregate, DomainEvent
from eventsourcing.persistence import IntegrityError, Tracking

from domain.account import AccountOpened
from domain.errors import Conflict
from domain.meta import Meta
from domain.organization import ORGANIZATION_EVENTS, Organization
from domain.person import Person
from domain.personal import personal_owners
from services.command_cache import Checkout, CommandCache
from services.errors import (IdempotencyKeyReused, OrganizationNotFound, PersonNotFound,
                             VersionConflict)
from services.ports import IdempotencyLog, IdempotencyRecord, PersonKeys, TimeIndexRow

PERSON_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/persons")
ACCOUNT_LOG_ID = uuid5(NAMESPACE_URL, "https://casefile.example/accounts-log")
MAX_ATTEMPTS = 5
# Organizations kept per process for the next command on them (services.command_cache);
# COMMAND_CACHE_MAXSIZE=0 turns it off.
COMMAND_CACHE_MAXSIZE = 1000


@dataclass(frozen=True)
class CommandResult:
    identifier: str
    aggregate_id: UUID
    version: int
    position: int | None
    replayed: bool = False
    result: dict = field(default_factory=dict)
    aggregate: Any = field(default=None, compare=False, repr=False)  # as saved
    presented: Any = field(default=None, compare=False, repr=False)  # see ``presenting``


Decide = Callable[[Any], tuple[Iterable[Aggregate], dict]]
ScopeCheck = Callable[[Any], None]  # raises to refuse the caller this aggregate

_scope_check: ContextVar["_Checked | None"] = ContextVar("scope_check", default=None)
_present: ContextVar[Callable[[Any], Any] | None] = ContextVar("present", default=None)


class _Checked:
    """A scope check, and whether the command ran it."""

    def __init__(self, check: ScopeCheck):
        self.check, self.ran = check, False

    def __call__(self, target: Any) -> None:
        self.ran = True
        self.check(target)


@contextmanager
def checking_scope(check: ScopeCheck) -> Iterator[None]:
    """Run the command called inside with ``check`` on the aggregate it loads, before it
    decides: the caller's scope (may this actor touch this organization?) checked on the
    one copy the command loads, as eventsourcing's content-management example passes the
    user in ``user_id_cvar``. The use cases' signatures stay as they are. A command that
    returns without loading its aggregate through ``_execute`` never checked it: that is
    a programming error, raised rather than passed over."""
    checked = _Checked(check)
    token = _scope_check.set(checked)
    try:
        yield
    finally:
        _scope_check.reset(token)
    if not checked.ran:
        raise RuntimeError("the command did not check the caller's scope on its aggregate")


@contextmanager
def presenting(present: Callable[[Any], Any]) -> Iterator[None]:
    """Have the command called inside answer ``present(aggregate)`` of its aggregate as
    saved (``CommandResult.presented``), taken while the command still holds it: an
    answer of the command's own state without a second read. (A command decided on the
    command cache's instance does not hand the instance out: the next command changes
    it.)"""
    token = _present.set(present)
    try:
        yield
    finally:
        _present.reset(token)


class _Processing(ProcessingEvent):
    """The library's, but an aggregate's events are collected without its two runtime
    checks against typing Protocols (15-36 us per save, about 5 % of a command's CPU
    with 8 writers); anything else goes the library's way."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif obj is not None:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


class CaseFileApplication(Application):
    """The machinery the use-case modules share."""

    name = "casefile"
    person_keys: PersonKeys | None = None

    def __init__(self, env: dict | None = None):
        super().__init__(env)
        if not isinstance(self.recorder, IdempotencyLog):
            raise TypeError("the application recorder must implement IdempotencyLog; set "
                            "APPLICATION_RECORDER_TOPIC")
        key = self.env.get("PSEUDONYM_KEY")
        if not key:
            raise ValueError("PSEUDONYM_KEY is required: the secret that derives person ids")
        self._pseudonym_key = key.encode()
        self.account_log = EventSourcedLog(self.events, ACCOUNT_LOG_ID, AccountOpened)
        size = int(self.env.get("COMMAND_CACHE_MAXSIZE", COMMAND_CACHE_MAXSIZE))
        self.command_cache = CommandCache(size) if size > 0 else None

    def save(self, *objs: Any, **kwargs: Any):
        """The library's (without its deprecated ``notify`` hook, which nothing here
        overrides), collecting the events as ``_Processing`` does."""
        return self._save_processing(_Processing(), objs, kwargs)

    def save_processed(self, tracking: Tracking, *objs: Aggregate):
        """Save what processing one recorded event decided, with that event's tracking
        position, in one transaction (as the library's EventSourcedProjection does)."""
        return self._save_processing(_Processing(tracking=tracking), objs, {})

    def _save_processing(self, processing: ProcessingEvent, objs: Iterable[Any],
                         kwargs: dict[str, Any]):
        processing.collect_events(*objs, **kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def _record(self, processing_event: ProcessingEvent):
        """The library's, with the time-travel index rows of the organization events as
        a keyword argument, like the idempotency record: the recorder writes them in the
        same transaction as the events (the in-memory recorder ignores them)."""
        rows = [TimeIndexRow(e.originator_id, e.originator_version, e.meta.effective_date,
                             e.timestamp)
                for e in processing_event.events if isinstance(e, ORGANIZATION_EVENTS)]
        if rows:
            processing_event.saved_kwargs["time_index"] = rows
        owners: set[str] = set()
        for event in processing_event.events:
            personal_owners(event.__dict__, owners)
        if owners and self.person_keys is not None:  # their keys, before the encoding seals with them
            self.person_keys.ensure(owners)
        recordings = super()._record(processing_event)
        if self.command_cache is not None:  # saved otherwise than by their own command
            for aggregate_id in processing_event.aggregates:
                self.command_cache.discard(aggregate_id)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent) -> None:
        """The library's, except that an aggregate saved at a version its interval falls on
        is snapshotted as it is in memory (its state at that version, just recorded)
        instead of being loaded again: the library replays the events since the last
        snapshot (up to 50) to take one, a tenth of a command's CPU when spread over
        the commands. An event of an interval before the aggregate's last (a save of
        several events) is snapshotted the library's way."""
        if not (self.snapshots and self.snapshotting_intervals):
            return
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval is None or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version:
                snapshot_class = getattr(type(aggregate), "Snapshot", self.snapshot_class)
                self.snapshots.put([snapshot_class.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, version=event.originator_version)

    # ----------------------------------------------------------------- reading

    def get_organization(self, identifier: str, version: int | None = None, *,
                         shared: bool = False) -> Organization:
        """The organization (at a version). ``shared=True``: the repository's cached
        instance itself, not a copy, for callers that only read it (an authorization
        check); never change it."""
        try:
            return self.repository.get(Organization.create_id(identifier), version=version,
                                       deepcopy_from_cache=not shared)
        except AggregateNotFoundError:
            raise OrganizationNotFound(f"no organization {identifier}",
                                       field="code") from None

    def position_of_version(self, identifier: str, version: int) -> int | None:
        """The log position of the organization's event of this version."""
        return self._position_of(Organization.create_id(identifier), version)

    def organization_history(self, identifier: str, *, after_version: int = 0,
                             limit: int | None = None) -> list[DomainEvent]:
        """The organization's events in order; a page of them: those after
        ``after_version``, at most ``limit``."""
        org_id = Organization.create_id(identifier)
        events = list(self.events.get(org_id, gt=after_version or None, limit=limit))
        if not events and not after_version:
            raise OrganizationNotFound(f"no organization {identifier}", field="code")
        return events

    def get_person(self, person_id: UUID) -> Person:
        try:
            return self.repository.get(person_id)
        except AggregateNotFoundError:
            raise PersonNotFound(f"no person {person_id}", field="person") from None

    def person_id_for(self, id_number: str) -> UUID:
        """A stable pseudonym: the identity number never leaves the Person aggregate."""
        digest = hmac.new(self._pseudonym_key, id_number.encode(), hashlib.sha256).hexdigest()
        return uuid5(PERSON_NAMESPACE, digest)

    # ---------------------------------------------------------------- machinery

    def _execute(self, aggregate_id: UUID, load: Callable[[UUID], Any], decide: Decide, *,
                 identifier: str, meta: Meta, expected_version: int | None,
                 idempotency_key: str | None, fingerprint: str,
                 cached: bool = False) -> CommandResult:
        """Load the command's aggregate, check the caller's scope on it (``checking_scope``),
        replay an Idempotency-Key's earlier answer, check the expected version, decide and
        save, retrying a concurrent write's conflict. ``cached``: decide on the instance
        that this process's last command on the aggregate saved (services.command_cache),
        holding the aggregate against this process's other commands meanwhile."""
        check = _scope_check.get()
        if check is not None:
            _scope_check.set(None)  # this command's aggregate, not one a nested command loads
        present = _present.get()
        if present is not None:
            _present.set(None)  # likewise
        command = _Command(self, aggregate_id, load, decide, check, present,
                           identifier=identifier, meta=meta,
                           expected_version=expected_version,
                           idempotency_key=idempotency_key, fingerprint=fingerprint)
        if not cached or self.command_cache is None:
            return command.run(None)
        with self.command_cache.checkout(aggregate_id) as checkout:
            return command.run(checkout)

    def _save(self, target: Aggregate, others: Iterable[Aggregate], identifier: str,
              meta: Meta, idempotency_key: str | None, fingerprint: str, result: dict):
        record = None
        if idempotency_key:
            record = IdempotencyRecord(key=idempotency_key, actor_id=meta.actor_id,
                                       fingerprint=fingerprint, aggregate_id=target.id,
                                       version=target.version,
                                       result={"identifier": identifier, **result})
        return self.save(target, *others, idempotency=record)

    @staticmethod
    def _result(target: Aggregate, identifier: str, recordings, result: dict, *,
                hand_out: bool = True, presented: Any = None) -> CommandResult:
        position = recordings[-1].notification.id if recordings else None
        return CommandResult(identifier=identifier, aggregate_id=target.id,
                             version=target.version, position=position, result=result,
                             aggregate=target if hand_out else None, presented=presented)

    def _replay(self, previous: IdempotencyRecord, identifier: str,
                fingerprint: str) -> CommandResult:
        if previous.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different request",
                rule="idempotency_key_reused", field="Idempotency-Key")
        result = {k: v for k, v in previous.result.items() if k != "identifier"}
        return CommandResult(identifier=previous.result.get("identifier", identifier),
                             aggregate_id=previous.aggregate_id, version=previous.version,
                             position=self._position_of(previous.aggregate_id,
                                                        previous.version),
                             replayed=True, result=result)

    def _position_of(self, aggregate_id: UUID, version: int) -> int | None:
        """The position of the replayed command's (last) event."""
        return self.recorder.position_of(aggregate_id, version)

    def _organization_command(self, identifier: str, decide: Decide, *, meta: Meta,
                              expected_version: int | None = None,
                              idempotency_key: str | None = None,
                              fingerprint: str = "") -> CommandResult:
        return self._execute(Organization.create_id(identifier),
                             lambda _id: self.get_organization(identifier), decide,
                             identifier=identifier, meta=meta,
                             expected_version=expected_version,
                             idempotency_key=idempotency_key, fingerprint=fingerprint,
                             cached=True)

    def _create(self, make: Callable[[], Organization], *, meta: Meta,
                idempotency_key: str | None, fingerprint: str,
                others: Callable[[Organization], Iterable[Aggregate]] = lambda org: ()
                ) -> CommandResult:
        if idempotency_key:
            previous = self.recorder.find_idempotency_record(meta.actor_id, idempotency_key)
            if previous is not None:
                return self._replay(previous, "", fingerprint)
        org = make()
        try:
            self.repository.get(org.id)
        except AggregateNotFoundError:
            pass
        else:
            raise Conflict(f"{org.identifier} is already registered", rule="already_registered",
                           field="code")
        try:
            recordings = self._save(org, others(org), org.identifier, meta, idempotency_key,
                                    fingerprint, {})
        except IntegrityError:
            if idempotency_key:
                previous = self.recorder.find_idempotency_record(meta.actor_id,
                                                                 idempotency_key)
                if previous is not None:
                    return self._replay(previous, org.identifier, fingerprint)
            raise Conflict(f"{org.identifier} is already registered",
                           rule="already_registered", field="code") from None
        return self._result(org, org.identifier, recordings, {})


class _Command:
    """One run of ``CaseFileApplication._execute``: its aggregate taken from the command
    cache (services.command_cache) or loaded, checked, decided and saved, with retries."""

    def __init__(self, app: CaseFileApplication, aggregate_id: UUID,
                 load: Callable[[UUID], Any], decide: Decide, check: ScopeCheck | None,
                 present: Callable[[Any], Any] | None, *, identifier: str, meta: Meta,
                 expected_version: int | None, idempotency_key: str | None,
                 fingerprint: str):
        self.app, self.aggregate_id, self.load, self.decide = app, aggregate_id, load, decide
        self.check, self.present, self.identifier, self.meta = check, present, identifier, meta
        self.expected_version, self.idempotency_key = expected_version, idempotency_key
        self.fingerprint = fingerprint
        self.checkout: Checkout | None = None
        # the instance taken from the command cache; None before the first load, False
        # once the command loads afresh (after nothing was cached, or a refusal)
        self.cached: Any = None

    def run(self, checkout: Checkout | None) -> CommandResult:
        self.checkout = checkout
        target = None
        if self.check is not None:  # checked before a replay too: the scope may have changed
            target = self._target()
        if self.idempotency_key:
            replay = self._replayed()
            if replay is not None:
                if target is not None and checkout is not None:
                    checkout.put(target)  # as it was: a check changes nothing
                return replay
        for _ in range(MAX_ATTEMPTS):
            if target is None:
                target = self._target()
            try:
                if (self.expected_version is not None
                        and target.version != self.expected_version):
                    raise VersionConflict(
                        f"{self.identifier} is at version {target.version}, not "
                        f"{self.expected_version}: read it again and retry",
                        rule="expected_version")
                others, result = self.decide(target)
            except Exception:
                if self.cached is target:  # perhaps stale: decide again on a fresh load
                    target = None
                    continue
                raise
            try:
                recordings = self.app._save(target, others, self.identifier, self.meta,
                                            self.idempotency_key, self.fingerprint, result)
            except IntegrityError:  # a concurrent write, or a stale cached instance
                if self.idempotency_key:
                    replay = self._replayed()
                    if replay is not None:
                        return replay
                if self.expected_version is not None:
                    raise VersionConflict(f"{self.identifier} was changed by another "
                                          "command: read it again and retry",
                                          rule="expected_version") from None
                target = None
                continue
            return self._answer(target, recordings, result)
        raise VersionConflict(f"{self.identifier} is changing too fast; retry",
                              rule="expected_version")

    def _target(self) -> Any:
        """The command cache's instance the first time (if a refusal of the scope check
        on it is believed only of a fresh load), else the aggregate loaded."""
        if self.checkout is not None and self.cached is None:
            taken = self.checkout.take()
            if taken is not None:
                self.cached = taken
                try:
                    self._checked(taken)
                    return taken
                except Exception:
                    pass  # perhaps stale: believe a refusal of a fresh load only
        self.cached = False  # once: a retry loads afresh
        target = self.load(self.aggregate_id)
        self._checked(target)
        return target

    def _checked(self, target: Any) -> None:
        if self.check is not None:
            self.check(target)

    def _replayed(self) -> CommandResult | None:
        previous = self.app.recorder.find_idempotency_record(self.meta.actor_id,
                                                             self.idempotency_key)
        if previous is None:
            return None
        return self.app._replay(previous, self.identifier, self.fingerprint)

    def _answer(self, target: Any, recordings, result: dict) -> CommandResult:
        """The result; with the command cache, the aggregate is kept for the next command
        and not handed out (``presented`` is what the caller asked to see of it)."""
        presented = self.present(target) if self.present is not None else None
        if self.checkout is not None:
            self.checkout.put(target)
        return self.app._result(target, self.identifier, recordings, result,
                                hand_out=self.checkout is None, presented=presented)
