"""The use cases: an eventsourcing Application whose methods are the commands.

Each command loads the aggregates it needs, asks them to decide (they raise a domain
error or trigger events), and saves everything in one atomic write together with the
Idempotency-Key record, if one was given. A stale expected version, or a concurrent
write that got there first, is a ``VersionConflict``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import (AggregateNotFoundError, Application, EventSourcedLog,
                                       ProcessingEvent)
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Tracking, Transcoding
from eventsourcing.popo import POPOFactory
from eventsourcing.utils import resolve_topic

from domain.account import Account
from domain.codes import birth_date_from_id_number, mask_id_number, validate_id_number
from domain.errors import Conflict, DomainError, RuleViolation
from domain.meta import Meta
from domain.organization import Organization
from domain.person import Person
from services.network import NetworkUseCases
from services.ports import IdempotencyLog, IdempotencyRecord

PERSON_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/persons")
ACCOUNT_LOG_ID = uuid5(NAMESPACE_URL, "https://casefile.example/accounts-log")
MAX_ATTEMPTS = 5


class OrganizationNotFound(DomainError):
    pass


class PersonNotFound(DomainError):
    pass


class VersionConflict(DomainError):
    pass


class IdempotencyKeyReused(DomainError):
    pass


class AuthenticationFailed(Exception):
    pass


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MetaAsDict(Transcoding):
    type = Meta
    name = "meta"

    def encode(self, obj: Meta) -> dict:
        return {"actor_id": obj.actor_id, "actor_role": obj.actor_role,
                "effective_date": obj.effective_date, "correlation_id": obj.correlation_id,
                "reason": obj.reason, "reference": obj.reference, "imported": obj.imported}

    def decode(self, data: dict) -> Meta:
        return Meta(**data)


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    transcoder.register(MetaAsDict())


def make_transcoder() -> JSONTranscoder:
    """The transcoder of the event store, for read models that keep aggregate states."""
    from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, UUIDAsHex

    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO(),
                        MetaAsDict()):
        transcoder.register(transcoding)
    return transcoder


class AccountOpened(DomainEvent):
    """An entry of the log that lists every account (the library's EventSourcedLog)."""

    username: str


@dataclass(frozen=True)
class CommandResult:
    identifier: str
    aggregate_id: UUID
    version: int
    position: int | None
    replayed: bool = False
    result: dict = field(default_factory=dict)
    aggregate: Any = field(default=None, compare=False, repr=False)  # as saved


Decide = Callable[[Any], tuple[Iterable[Aggregate], dict]]


class CaseFiles(NetworkUseCases, Application):
    """The case-management application: organizations, persons and accounts."""

    name = "casefile"
    snapshotting_intervals = {Organization: 50, Person: 50}
    env = {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}

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

    def save_processed(self, tracking: Tracking, *objs: Aggregate):
        """Save what processing one recorded event decided, with that event's tracking
        position, in one transaction (as the library's EventSourcedProjection does)."""
        processing = ProcessingEvent(tracking=tracking)
        processing.collect_events(*objs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def construct_recorder(self):
        topic = self.env.get("APPLICATION_RECORDER_TOPIC")
        if topic and isinstance(self.factory, POPOFactory):
            return resolve_topic(topic)()
        return super().construct_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    # ----------------------------------------------------------------- reading

    def get_organization(self, identifier: str, version: int | None = None) -> Organization:
        try:
            return self.repository.get(Organization.create_id(identifier), version=version)
        except AggregateNotFoundError:
            raise OrganizationNotFound(f"no organization {identifier}",
                                       field="code") from None

    def organization_history(self, identifier: str) -> list[DomainEvent]:
        org_id = Organization.create_id(identifier)
        events = list(self.events.get(org_id))
        if not events:
            raise OrganizationNotFound(f"no organization {identifier}", field="code")
        return events

    def organization_at(self, identifier: str, *, as_of: date | None = None,
                        known_at: datetime | None = None) -> Organization:
        """The organization bitemporally: ``as_of`` keeps the events in effect on that
        business date, ``known_at`` those recorded by that moment; both together is the
        state in effect on ``as_of`` as the office knew it at ``known_at``.

        A snapshot is a valid start when everything before it qualifies: it was recorded
        by ``known_at`` and the latest effective date it had seen is on or before
        ``as_of``; the events after it are replayed with the same filter."""
        org_id = Organization.create_id(identifier)
        start: Organization | None = None
        upper: int | None = None  # the oldest snapshot found not to qualify

        def qualifies(candidate: Organization) -> bool:
            return not ((known_at is not None and candidate.modified_on > known_at) or
                        (as_of is not None and candidate.latest_effective_date > as_of))

        def snapshot_at(version: int) -> Organization:
            return next(iter(self.snapshots.get(org_id, gt=version - 1, lte=version))
                        ).mutate(None)

        if self.snapshots is not None:
            # Both tests are monotonic in the version (latest_effective_date is a running
            # maximum, modified_on the recording time): test the newest snapshot first
            # ("as of today" needs only it), else binary-search, decoding about log2(n)
            # snapshots instead of walking back through all of them.
            versions = self._snapshot_versions(org_id)
            lo, hi = 0, len(versions) - 1
            if versions:
                newest = snapshot_at(versions[-1])
                if qualifies(newest):
                    start, lo = newest, hi + 1
                else:
                    upper, hi = versions[-1], hi - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                candidate = snapshot_at(versions[mid])
                if qualifies(candidate):
                    start, lo = candidate, mid + 1
                else:
                    upper, hi = versions[mid], mid - 1
        org = start
        # With known_at alone, everything after ``upper`` was recorded after known_at; with
        # as_of, a later event may still be in effect (a late filing): read them all.
        lte = upper if as_of is None else None
        for event in self.events.get(org_id, gt=start.version if start else None, lte=lte):
            if known_at is not None and event.timestamp > known_at:
                break
            if as_of is not None and event.meta.effective_date > as_of:
                continue
            org = event.mutate(org) if org is None else self._apply_out_of_sequence(org, event)
        if org is None:
            when = " and ".join(filter(None, [as_of and f"in effect on {as_of}",
                                               known_at and f"known at {known_at.isoformat()}"]))
            raise OrganizationNotFound(f"no organization {identifier} {when}".strip(),
                                       field="code")
        return org

    def _snapshot_versions(self, org_id: UUID) -> list[int]:
        """The versions of the organization's snapshots, oldest first (no state read)."""
        from psycopg.sql import SQL, Identifier

        recorder = self.snapshots.recorder
        if not hasattr(recorder, "datastore"):  # the in-memory store
            return [s.originator_version for s in self.snapshots.get(org_id)]
        statement = SQL("SELECT originator_version FROM {0}.{1} WHERE originator_id = %s "
                        "ORDER BY originator_version").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (org_id,), prepare=True)
            return [row["originator_version"] for row in curs.fetchall()]

    @staticmethod
    def _apply_out_of_sequence(org: Organization, event: Any) -> Organization:
        """Apply an event whose predecessors were filtered out (not yet in effect)."""
        event.apply(org)
        org.version = event.originator_version
        org.modified_on = event.timestamp
        return org

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
                 idempotency_key: str | None, fingerprint: str) -> CommandResult:
        if idempotency_key:
            previous = self.recorder.find_idempotency_record(meta.actor_id, idempotency_key)
            if previous is not None:
                return self._replay(previous, identifier, fingerprint)
        for _ in range(MAX_ATTEMPTS):
            target = load(aggregate_id)
            if expected_version is not None and target.version != expected_version:
                raise VersionConflict(
                    f"{identifier} is at version {target.version}, not {expected_version}: "
                    "read it again and retry", rule="expected_version")
            others, result = decide(target)
            try:
                recordings = self._save(target, others, identifier, meta, idempotency_key,
                                        fingerprint, result)
            except IntegrityError:
                if idempotency_key:
                    previous = self.recorder.find_idempotency_record(meta.actor_id,
                                                                     idempotency_key)
                    if previous is not None:
                        return self._replay(previous, identifier, fingerprint)
                if expected_version is not None:
                    raise VersionConflict(f"{identifier} was changed by another command: "
                                          "read it again and retry",
                                          rule="expected_version") from None
                continue
            return self._result(target, identifier, recordings, result)
        raise VersionConflict(f"{identifier} is changing too fast; retry",
                              rule="expected_version")

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
    def _result(target: Aggregate, identifier: str, recordings, result: dict) -> CommandResult:
        position = recordings[-1].notification.id if recordings else None
        return CommandResult(identifier=identifier, aggregate_id=target.id,
                             version=target.version, position=position, result=result,
                             aggregate=target)

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
                             idempotency_key=idempotency_key, fingerprint=fingerprint)

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

    # ----------------------------------------------------------------- filings

    def register_organization(self, *, meta: Meta, idempotency_key: str | None = None,
                              fingerprint: str = "", **fields: Any) -> CommandResult:
        return self._create(lambda: Organization.register(meta=meta, **fields), meta=meta,
                            idempotency_key=idempotency_key, fingerprint=fingerprint)

    def record_community_organization(self, *, meta: Meta, code: str | None = None,
                                      idempotency_key: str | None = None,
                                      fingerprint: str = "", **fields: Any) -> CommandResult:
        jurisdiction = fields["domicile"]["jurisdiction"]
        record_number = f"BA{jurisdiction}{secrets.token_hex(3).upper()}"
        return self._create(
            lambda: Organization.record(meta=meta, code=code, record_number=record_number,
                                        **fields),
            meta=meta, idempotency_key=idempotency_key, fingerprint=fingerprint)

    def execute(self, identifier: str, command: str, *, meta: Meta,
                expected_version: int | None = None, idempotency_key: str | None = None,
                fingerprint: str = "", **args: Any) -> CommandResult:
        """Run one of the organization's single-aggregate commands by name."""
        method = SIMPLE_COMMANDS[command]

        def decide(org: Organization):
            returned = getattr(org, method)(meta=meta, **args)
            return (), ({"id": returned} if returned is not None else {})

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    # --------------------------------------------------------------- leadership

    def ensure_person(self, name: str, id_number: str, meta: Meta) -> Person:
        validate_id_number(id_number)
        person_id = self.person_id_for(id_number)
        try:
            return self.repository.get(person_id)
        except AggregateNotFoundError:
            return Person(id=person_id, name=name, id_number=id_number,
                          birth_date=birth_date_from_id_number(id_number), meta=meta)

    def register_person(self, *, name: str, id_number: str, meta: Meta) -> tuple[Person, bool]:
        """Look up a person by identity number, recording them if they are new."""
        person = self.ensure_person(name, id_number, meta)
        created = bool(person.pending_events)
        if created:
            try:
                self.save(person)
            except IntegrityError:
                person = self.get_person(person.id)
                created = False
        return person, created

    def appoint_leader(self, identifier: str, *, person: dict, roles: list[str],
                       term_start: date, term_end: date, public_notice: dict | None = None,
                       official_status: str = "none", approval_reference: str | None = None,
                       replaces: str | None = None, departure_audit_done: bool = False,
                       meta: Meta, expected_version: int | None = None,
                       idempotency_key: str | None = None,
                       fingerprint: str = "") -> CommandResult:
        def decide(org: Organization):
            appointee = self.ensure_person(person["name"], person["id_number"], meta)
            replaced = self._person_or_none(replaces)
            org.appoint_leader(person_id=str(appointee.id), name=person["name"],
                               id_number_masked=mask_id_number(person["id_number"]),
                               roles=roles, term_start=term_start, term_end=term_end,
                               public_notice=public_notice, official_status=official_status,
                               approval_reference=approval_reference, replaces=replaces,
                               departure_audit_done=departure_audit_done, meta=meta)
            if replaced is not None:
                replaced.leave_post(organization=identifier, meta=meta)
            appointee.take_post(organization=identifier, roles=roles,
                                official_status=official_status, meta=meta)
            return [p for p in (appointee, replaced) if p is not None], {
                "person_id": str(appointee.id)}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def _person_or_none(self, person_id: str | None) -> Person | None:
        if person_id is None:
            return None
        try:
            return self.get_person(UUID(person_id))
        except ValueError:
            raise RuleViolation(f"person {person_id} is not a current leader",
                                rule="not_a_leader", field="replaces") from None

    def record_leader_departure(self, identifier: str, person_id: str, *,
                                departure_reason: str, departure_audit_done: bool, meta: Meta,
                                expected_version: int | None = None,
                                idempotency_key: str | None = None,
                                fingerprint: str = "") -> CommandResult:
        def decide(org: Organization):
            org.record_leader_departure(person_id=person_id, departure_reason=departure_reason,
                                        departure_audit_done=departure_audit_done, meta=meta)
            person = self.get_person(UUID(person_id))
            person.leave_post(organization=identifier, meta=meta)
            return [person], {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def hold_term_election(self, identifier: str, *, term_start: date, term_end: date,
                           meta: Meta, expected_version: int | None = None,
                           idempotency_key: str | None = None,
                           fingerprint: str = "") -> CommandResult:
        def decide(org: Organization):
            persons = [self.get_person(UUID(p)) for p in sorted(org.leaders)]
            org.hold_term_election(term_start=term_start, term_end=term_end, meta=meta)
            for person in persons:
                person.begin_new_term(organization=identifier, meta=meta)
            return persons, {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def close_organization(self, identifier: str, how: str, *, meta: Meta,
                           expected_version: int | None = None,
                           idempotency_key: str | None = None, fingerprint: str = "",
                           **penalty: Any) -> CommandResult:
        """Deregistration, revocation, ban, or a penalty (which may revoke): the leaders'
        posts end, and for a revocation or ban each leader's record keeps it (rule 8)."""

        def decide(org: Organization):
            persons = [self.get_person(UUID(p)) for p in sorted(org.leaders)]
            if how == "penalty":
                org.impose_penalty(meta=meta, **penalty)
            else:
                getattr(org, {"deregister": "deregister", "revoke": "revoke",
                              "ban": "ban"}[how])(meta=meta)
            if org.is_closed:
                for person in persons:
                    if org.status == "deregistered":
                        person.leave_post(organization=identifier, meta=meta)
                    else:
                        person.record_sanctioned_organization(organization=identifier,
                                                              status=org.status, meta=meta)
            return persons, {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def rescind_penalty(self, identifier: str, *, decision_number: str, meta: Meta,
                        expected_version: int | None = None,
                        idempotency_key: str | None = None,
                        fingerprint: str = "") -> CommandResult:
        """A rescinded revocation no longer bars the leaders it removed (rule 8)."""

        def decide(org: Organization):
            closure = org.closure or {}
            revoked = (org.penalties.get(decision_number, {}).get("kind") == "revocation"
                       and org.status == "revoked")
            org.rescind_penalty(decision_number=decision_number, meta=meta)
            persons = []
            if revoked:
                for person_id in closure.get("leaders", []):
                    person = self.get_person(UUID(person_id))
                    person.lift_sanction(organization=identifier, meta=meta)
                    persons.append(person)
            return persons, {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def record_occupational_ban(self, person_id: UUID, *, banned_from: date,
                                banned_until: date | None, meta: Meta,
                                expected_version: int | None = None,
                                idempotency_key: str | None = None,
                                fingerprint: str = "") -> CommandResult:
        def decide(person: Person):
            person.record_occupational_ban(banned_from=banned_from, banned_until=banned_until,
                                           meta=meta)
            return (), {}

        return self._execute(person_id, self.get_person, decide, identifier=str(person_id),
                             meta=meta, expected_version=expected_version,
                             idempotency_key=idempotency_key, fingerprint=fingerprint)

    # ----------------------------------------------------------------- accounts

    def open_account(self, *, username: str, password: str, display_name: str, role: str,
                     jurisdiction: str | None, organization: str | None,
                     meta: Meta) -> Account:
        account = Account.open(username=username, display_name=display_name, role=role,
                               jurisdiction=jurisdiction, organization=organization,
                               password_hash=hash_password(password), meta=meta)
        for _ in range(MAX_ATTEMPTS):
            if self._find_account(username) is not None:
                raise Conflict(f"account {username} already exists", field="username")
            entry = self.account_log.trigger_event(username=username)
            try:
                self.save(account, entry)
                return account
            except IntegrityError:
                continue
        raise VersionConflict("accounts are being opened too fast; retry")

    def _find_account(self, username: str) -> Account | None:
        try:
            return self.repository.get(Account.create_id(username))
        except AggregateNotFoundError:
            return None

    def get_account(self, username: str) -> Account:
        account = self._find_account(username)
        if account is None:
            raise DomainError(f"no account {username}", field="username")
        return account

    def list_accounts(self) -> list[Account]:
        return [self.get_account(e.username) for e in self.account_log.get()]

    def issue_token(self, username: str, meta: Meta) -> str:
        """A new API token ``username.token_id.secret``; only its hash is stored."""
        account = self.get_account(username)
        token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        account.issue_token(token_id=token_id, token_hash=hash_token(secret), meta=meta)
        self.save(account)
        return f"{username}.{token_id}.{secret}"

    def authenticate_token(self, token: str) -> Account:
        try:
            username, token_id, secret = token.split(".", 2)
        except ValueError:
            raise AuthenticationFailed("malformed token") from None
        if not set(username) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-"):
            raise AuthenticationFailed("malformed token")
        account = self._find_account(username)
        if account is None or account.disabled:
            raise AuthenticationFailed("unknown token")
        expected = account.token_hashes.get(token_id)
        if expected is None or not hmac.compare_digest(expected, hash_token(secret)):
            raise AuthenticationFailed("unknown token")
        return account

    def authenticate_password(self, username: str, password: str) -> Account:
        account = self._find_account(username)
        if account is None or account.disabled or not verify_password(password,
                                                                      account.password_hash):
            raise AuthenticationFailed("wrong username or password")
        return account

    def grant(self, username: str, *, role: str, jurisdiction: str | None,
              organization: str | None, meta: Meta) -> Account:
        account = self.get_account(username)
        account.grant(role=role, jurisdiction=jurisdiction, organization=organization,
                      meta=meta)
        self.save(account)
        return account

    def disable_account(self, username: str, meta: Meta) -> None:
        account = self.get_account(username)
        account.disable(meta=meta)
        self.save(account)

    def change_password(self, username: str, password: str, meta: Meta) -> None:
        account = self.get_account(username)
        account.change_password(hash_password(password), meta=meta)
        self.save(account)


# The organization's commands that touch only the organization, by name.
SIMPLE_COMMANDS = {
    "change": "register_change",
    "annual_report": "file_annual_report",
    "annual_inspection": "conclude_annual_inspection",
    "annual_inspection_correction": "correct_annual_inspection",
    "level_assessment": "assess_level",
    "certificate_renewal": "renew_certificate",
    "major_event": "report_major_event",
    "major_event_review": "review_major_event",
    "inspection": "conduct_inspection",
    "rectification": "order_rectification",
    "rectification_follow_up": "follow_up_rectification",
    "rectification_completion": "complete_rectification",
    "rectification_overdue": "mark_rectification_overdue",
    "management_suggestion": "issue_management_suggestion",
    "resumption": "resume_activities",
    "credit_listing": "list_on_credit_list",
    "credit_listing_removal": "remove_from_credit_list",
    "interview": "hold_interview",
    "leader_warning": "warn_leader",
    "leader_replacement_order": "order_leader_replacement",
}


def hash_password(password: str) -> str:
    """scrypt (RFC 7914) with a random salt; parameters are stored with the hash."""
    salt = secrets.token_bytes(16)
    n, r, p = 2 ** 14, 8, 1
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                               p=int(p), dklen=32)
    return hmac.compare_digest(candidate.hex(), digest)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
