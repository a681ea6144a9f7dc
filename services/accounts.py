"""Accounts: opening, roles, tokens and passwords (scrypt), and authentication."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.account import Account
from domain.errors import Conflict, DomainError
from domain.meta import Meta
from services.errors import AuthenticationFailed, VersionConflict

MAX_ATTEMPTS = 5


class AccountUseCases:
    """Mixed into the application (services.casefiles.CaseFiles)."""

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

    def accounts_page(self, offset: int, limit: int) -> tuple[int, list[Account]]:
        """How many accounts there are, and those opened ``offset`` to ``offset + limit``
        in the order opened (a range of the accounts log, read as a range)."""
        last = self.account_log.get_last()
        entries = self.account_log.get(gt=offset, limit=limit) if last else []
        return (last.originator_version if last else 0,
                [self.get_account(e.username) for e in entries])

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
