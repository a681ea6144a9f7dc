"""Accounts: opening, roles, passwords (the policy and scrypt: services.passwords), API
tokens (named, expiring, revocable one by one), sign-in and its lockout.

Who may act is decided by the adapters (domain.access); what an account's credentials
are, and when they end, is decided here and recorded on the Account aggregate. A token's
last use is not an event (one per request would swamp the log): the ``token_usage`` port
keeps it beside the events, updated at most once a minute per token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.account import USERNAME_CHARS, Account
from domain.errors import Conflict, DomainError
from domain.meta import Meta
from services.errors import AuthenticationFailed, VersionConflict
from services.passwords import check_password, dummy_hash, hash_password, verify_password
from services.ports import TokenUsage

MAX_ATTEMPTS = 5
TOKEN_LIFETIME_DAYS = "90"
PASSWORD_MIN_LENGTH = "12"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AccountUseCases:
    """Mixed into the application (services.casefiles.CaseFiles)."""

    token_usage: TokenUsage | None = None

    # ------------------------------------------------------------------ settings

    def token_lifetime(self) -> timedelta:
        """TOKEN_LIFETIME_DAYS (default 90): how long an API token is valid."""
        return timedelta(days=float(self.env.get("TOKEN_LIFETIME_DAYS") or TOKEN_LIFETIME_DAYS))

    def check_password(self, password: str, *, username: str,
                       display_name: str | None = None) -> None:
        """The password policy (services.passwords), with PASSWORD_MIN_LENGTH."""
        check_password(password, username=username, display_name=display_name,
                       min_length=int(self.env.get("PASSWORD_MIN_LENGTH") or
                                      PASSWORD_MIN_LENGTH))

    # ------------------------------------------------------------------ accounts

    def open_account(self, *, username: str, password: str, display_name: str, role: str,
                     jurisdiction: str | None, organization: str | None,
                     meta: Meta) -> Account:
        self.check_password(password, username=username, display_name=display_name)
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
        if not username or len(username) > 64 or not set(username) <= USERNAME_CHARS:
            return None
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

    def accounts_page(self, offset: int, limit: int) -> tuple[int, list[Account]]:
        """How many accounts there are, and those opened ``offset`` to ``offset + limit``
        in the order opened (a range of the accounts log, read as a range)."""
        last = self.account_log.get_last()
        entries = self.account_log.get(gt=offset, limit=limit) if last else []
        return (last.originator_version if last else 0,
                [self.get_account(e.username) for e in entries])

    def grant(self, username: str, *, role: str, jurisdiction: str | None,
              organization: str | None, meta: Meta) -> Account:
        account = self.get_account(username)
        account.grant(role=role, jurisdiction=jurisdiction, organization=organization,
                      meta=meta)
        self.save(account)
        return account

    def disable_account(self, username: str, meta: Meta) -> None:
        """Disabled: every session and token of the account ends with it."""
        account = self.get_account(username)
        account.disable(meta=meta)
        self.save(account)

    def change_password(self, username: str, password: str, meta: Meta) -> None:
        """A new password (the policy applies); every session and token of the account
        ends."""
        account = self.get_account(username)
        self.check_password(password, username=username, display_name=account.display_name)
        account.change_password(hash_password(password), meta=meta)
        self.save(account)

    # -------------------------------------------------------------------- tokens

    def issue_token(self, username: str, meta: Meta, *, name: str | None = None) -> str:
        """A new API token ``username.token_id.secret``, valid for ``token_lifetime``;
        only its hash is stored."""
        account = self.get_account(username)
        token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        now = utc_now()
        account.issue_token(token_id=token_id, token_hash=hash_token(secret),
                            name=name or meta.reason or "token", issued_at=now,
                            expires_at=now + self.token_lifetime(), meta=meta)
        self.save(account)
        return f"{username}.{token_id}.{secret}"

    def token_expiry(self, token: dict) -> datetime:
        """When a token expires: as issued, or (a token issued before tokens expired) the
        lifetime after it was issued."""
        return token["expires_at"] or token["issued_at"] + self.token_lifetime()

    def authenticate_token(self, token: str, now: datetime | None = None
                           ) -> tuple[Account, str, datetime]:
        """The account of a valid token, the token's id and when it expires; a malformed,
        unknown, revoked or expired token, or one of a disabled account, is refused."""
        try:
            username, token_id, secret = token.split(".", 2)
        except ValueError:
            raise AuthenticationFailed("malformed token") from None
        account = self._find_account(username)
        if account is None or account.disabled:
            raise AuthenticationFailed("unknown token")
        found = account.tokens.get(token_id)
        if found is None or not hmac.compare_digest(found["hash"], hash_token(secret)):
            raise AuthenticationFailed("unknown token")
        expires = self.token_expiry(found)
        if (now or utc_now()) >= expires:
            raise AuthenticationFailed("expired token")
        return account, token_id, expires

    def note_token_use(self, username: str, token_id: str) -> None:
        if self.token_usage is not None:
            self.token_usage.touch(username, token_id)

    def list_tokens(self, username: str, now: datetime | None = None) -> list[dict]:
        """The account's tokens (never their hashes): id, name, issued, expires, last
        used, and whether it has expired."""
        account = self.get_account(username)
        now = now or utc_now()
        used = self.token_usage.last_used(username) if self.token_usage is not None else {}
        return [{"id": token_id, "name": token["name"], "issued_at": token["issued_at"],
                 "expires_at": self.token_expiry(token), "last_used_at": used.get(token_id),
                 "expired": now >= self.token_expiry(token)}
                for token_id, token in sorted(account.tokens.items(),
                                              key=lambda item: item[1]["issued_at"])]

    def revoke_token(self, username: str, token_id: str, meta: Meta) -> Account:
        account = self.get_account(username)
        account.revoke_token(token_id=token_id, meta=meta)
        self.save(account)
        return account

    # ------------------------------------------------------------------- sign-in

    def authenticate_password(self, username: str, password: str,
                              now: datetime | None = None) -> Account:
        """The account, if the password is its own and it is neither disabled nor locked
        out. Every attempt verifies one scrypt hash (an unknown username's against a
        dummy one), so an unknown username answers in the time a known one takes."""
        account = self._find_account(username)
        matches = verify_password(password[:200], account.password_hash if account is not None
                                  else dummy_hash())
        if (account is None or not matches or account.disabled
                or account.is_locked(now or utc_now())):
            raise AuthenticationFailed("wrong username or password")
        return account

    def lock_out(self, username: str, *, minutes: float, failures: int,
                 meta: Meta) -> Account | None:
        """Lock the account (if there is one) for ``minutes`` after ``failures`` failed
        sign-ins: recorded once per lockout (LockedOut, with its end)."""
        account = self._find_account(username)
        if account is None:
            return None
        now = utc_now()
        account.lock_out(until=now + timedelta(minutes=minutes), failures=failures, now=now,
                         meta=meta)
        if account.pending_events:
            self.save(account)
        return account

    def lift_lockout(self, username: str, meta: Meta) -> Account:
        """An admin lifts a lockout before its end (LockoutLifted)."""
        account = self.get_account(username)
        account.lift_lockout(now=utc_now(), meta=meta)
        self.save(account)
        return account


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
