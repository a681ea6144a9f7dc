"""Staff and organization accounts: who may act, in which role and jurisdiction; their
API tokens (each with a name and an expiry, revocable one by one), their sign-in
lockouts, and the credentials epoch that ends every session when the password changes
or the account is disabled."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, DomainEvent, event
from eventsourcing.utils import register_topic

from domain.codes import validate_jurisdiction
from domain.errors import InvalidValue, NotFound, RuleViolation
from domain.meta import ROLES, Meta

ACCOUNT_NAMESPACE = uuid5(NAMESPACE_URL, "https://casefile.example/accounts")
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


class Account(Aggregate):
    """An account; the password and token hashes are made by the service layer."""

    @staticmethod
    def create_id(username: str) -> UUID:
        return uuid5(ACCOUNT_NAMESPACE, username)

    @classmethod
    def open(cls, *, username: str, display_name: str, role: str, jurisdiction: str | None,
             organization: str | None, password_hash: str, meta: Meta) -> "Account":
        if not username or len(username) > 64 or not set(username) <= USERNAME_CHARS:
            raise InvalidValue("username must be 1-64 characters of a-z, 0-9, _ and -",
                               field="username")
        cls._check_scope(role, jurisdiction, organization)
        return cls._create(cls.Opened, username=username, display_name=display_name, role=role,
                           jurisdiction=jurisdiction, organization=organization,
                           password_hash=password_hash, meta=meta)

    @staticmethod
    def _check_scope(role: str, jurisdiction: str | None, organization: str | None) -> None:
        """A role that exists; a jurisdiction where the role needs one; an organization
        for an organization's account; for a supervisory unit's, the unit it is (in
        ``organization``: domain.access.supervised_by)."""
        if role not in ROLES or role == "system":
            raise InvalidValue(f"role must be one of {', '.join(r for r in ROLES if r != 'system')}",
                               field="role")
        if jurisdiction is not None:
            validate_jurisdiction(jurisdiction)
        if role == "organization" and not organization:
            raise InvalidValue("an organization account names its organization",
                               field="organization")
        if role == "supervisory_unit" and not (organization or "").strip():
            raise InvalidValue("a supervisory unit's account names its unit, as the "
                               "organizations it supervises record it",
                               field="organization")
        if role not in ("auditor", "admin", "organization") and jurisdiction is None:
            raise InvalidValue(f"a {role} account needs a jurisdiction", field="jurisdiction")

    class Opened(Aggregate.Created):
        username: str
        display_name: str
        role: str
        jurisdiction: str | None
        organization: str | None
        password_hash: str
        meta: Meta

    def __init__(self, username: str, display_name: str, role: str, jurisdiction: str | None,
                 organization: str | None, password_hash: str, meta: Meta):
        self.username = username
        self.display_name = display_name
        self.role = role
        self.jurisdiction = jurisdiction
        self.organization = organization
        self.password_hash = password_hash
        # token id -> {"hash", "name", "issued_at", "expires_at"}
        self.tokens: dict[str, dict] = {}
        self.disabled = False
        self.credentials_epoch = 0  # a session of an older epoch has ended
        self.locked_until: datetime | None = None

    # ------------------------------------------------------------------ tokens

    def issue_token(self, *, token_id: str, token_hash: str, name: str, issued_at: datetime,
                    expires_at: datetime, meta: Meta) -> None:
        if self.disabled:
            raise RuleViolation("the account is disabled", rule="account_disabled")
        if not name or len(name) > 100:
            raise InvalidValue("a token's name must be 1-100 characters", field="name")
        if expires_at <= issued_at:
            raise InvalidValue("a token must expire after it is issued", field="expires_at")
        self._token_issued(token_id=token_id, token_hash=token_hash, name=name,
                           issued_at=issued_at, expires_at=expires_at, meta=meta)

    class TokenIssued(Aggregate.Event):
        """An API token issued (only its hash is kept).

        Version 2 (issue 15) adds the token's ``name``, ``issued_at`` and ``expires_at``;
        a token issued before reads with None in each (see ``_token_issued``)."""

        class_version = 2
        token_id: str
        token_hash: str
        meta: Meta
        name: str | None
        issued_at: datetime | None
        expires_at: datetime | None

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.update(name=None, issued_at=None, expires_at=None)

    @event(TokenIssued)
    def _token_issued(self, token_id: str, token_hash: str, meta: Meta, name: str | None,
                      issued_at: datetime | None, expires_at: datetime | None) -> None:
        # A token issued before tokens had names and expiries: issued no later than the
        # account's previous event (its time, here); the service counts its lifetime from
        # then.
        self.tokens[token_id] = {"hash": token_hash, "name": name or "token",
                                 "issued_at": issued_at or self.modified_on,
                                 "expires_at": expires_at}

    def token(self, token_id: str) -> dict:
        found = self.tokens.get(token_id)
        if found is None:
            raise NotFound(f"no token {token_id} of {self.username}", rule="unknown_token",
                           field="token_id")
        return found

    def revoke_token(self, *, token_id: str, meta: Meta) -> None:
        self.token(token_id)
        self._token_revoked(token_id=token_id, meta=meta)

    @event("TokenRevoked")
    def _token_revoked(self, token_id: str, meta: Meta) -> None:
        self.tokens.pop(token_id, None)

    # ------------------------------------------------------------- credentials

    @event("PasswordChanged")
    def change_password(self, password_hash: str, meta: Meta) -> None:
        """A new password ends every session and every token of the account."""
        self.password_hash = password_hash
        self.tokens = {}
        self.credentials_epoch = getattr(self, "credentials_epoch", 0) + 1

    @event("Disabled")
    def disable(self, meta: Meta) -> None:
        self.disabled = True
        self.tokens = {}
        self.credentials_epoch = getattr(self, "credentials_epoch", 0) + 1

    # ------------------------------------------------------------------ lockout

    def is_locked(self, now: datetime) -> bool:
        until = getattr(self, "locked_until", None)
        return until is not None and now < until

    def lock_out(self, *, until: datetime, failures: int, now: datetime, meta: Meta) -> None:
        """Too many failed sign-ins: no sign-in until ``until`` (or an admin lifts it).
        Recorded once per lockout: an account locked already stays as it is."""
        if self.is_locked(now):
            return
        self._locked_out(until=until, failures=failures, meta=meta)

    @event("LockedOut")
    def _locked_out(self, until: datetime, failures: int, meta: Meta) -> None:
        self.locked_until = until

    def lift_lockout(self, *, now: datetime, meta: Meta) -> None:
        if not self.is_locked(now):
            raise RuleViolation(f"{self.username} is not locked", rule="not_locked",
                                field="username")
        self._lockout_lifted(meta=meta)

    @event("LockoutLifted")
    def _lockout_lifted(self, meta: Meta) -> None:
        self.locked_until = None

    def grant(self, *, role: str, jurisdiction: str | None, organization: str | None,
              meta: Meta) -> None:
        """Change the account's role and scope (recorded, so the audit trail shows who
        could do what, and when)."""
        self._check_scope(role, jurisdiction, organization)
        self._granted(role=role, jurisdiction=jurisdiction, organization=organization,
                      meta=meta)

    @event("Granted")
    def _granted(self, role: str, jurisdiction: str | None, organization: str | None,
                 meta: Meta) -> None:
        self.role, self.jurisdiction, self.organization = role, jurisdiction, organization


class AccountOpened(DomainEvent):
    """An entry of the log that lists every account (the library's EventSourcedLog)."""

    username: str


# Stored before the class moved here (existing data folders hold this topic).
register_topic("services.casefiles:AccountOpened", AccountOpened)
