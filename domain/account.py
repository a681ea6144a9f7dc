"""Staff and organization accounts: who may act, in which role and jurisdiction."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, DomainEvent, event
from eventsourcing.utils import register_topic

from domain.codes import validate_jurisdiction
from domain.errors import InvalidValue, RuleViolation
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
        for an organization's account."""
        if role not in ROLES or role == "system":
            raise InvalidValue(f"role must be one of {', '.join(r for r in ROLES if r != 'system')}",
                               field="role")
        if jurisdiction is not None:
            validate_jurisdiction(jurisdiction)
        if role == "organization" and not organization:
            raise InvalidValue("an organization account names its organization",
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
        self.token_hashes: dict[str, str] = {}
        self.disabled = False

    def issue_token(self, *, token_id: str, token_hash: str, meta: Meta) -> None:
        if self.disabled:
            raise RuleViolation("the account is disabled", rule="account_disabled")
        self._token_issued(token_id=token_id, token_hash=token_hash, meta=meta)

    @event("TokenIssued")
    def _token_issued(self, token_id: str, token_hash: str, meta: Meta) -> None:
        self.token_hashes[token_id] = token_hash

    @event("PasswordChanged")
    def change_password(self, password_hash: str, meta: Meta) -> None:
        self.password_hash = password_hash

    @event("Disabled")
    def disable(self, meta: Meta) -> None:
        self.disabled = True
        self.token_hashes = {}

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
