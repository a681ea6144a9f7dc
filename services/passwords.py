"""Passwords: the policy a new password must meet, and scrypt hashing.

The policy (OWASP ASVS 5.0 V6.2, the login controls of 等保 2.0 level 3): at least
``PASSWORD_MIN_LENGTH`` characters (default 12), not the username (nor the name) or a
password built on it, and not a common or easily guessed password. The common passwords
and the guessability come from zxcvbn (Dropbox's estimator, with its frequency lists of
leaked passwords, English words and names), so no list of our own is kept here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from domain.errors import RuleViolation

MAX_LENGTH = 200  # what the sign-in form reads; a longer one could never sign in
MIN_SCORE = 3  # zxcvbn's "safely unguessable: moderate protection from offline attacks"
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str, *, username: str, display_name: str | None = None,
                   min_length: int = 12) -> None:
    """Refuse a password the policy does not accept (RuleViolation naming the part of the
    policy, on the field ``password``)."""
    if not isinstance(password, str) or len(password) < min_length:
        raise RuleViolation(f"the password needs at least {min_length} characters",
                            rule="password_too_short", field="password")
    if len(password) > MAX_LENGTH:
        raise RuleViolation(f"the password must not be longer than {MAX_LENGTH} characters",
                            rule="password_too_long", field="password")
    lowered = password.lower()
    names = [n.lower() for n in (username, display_name) if n and len(n) >= 3]
    if any(name in lowered for name in names):
        raise RuleViolation("the password must not contain the username or the name",
                            rule="password_contains_username", field="password")
    if lowered in COMMON_PASSWORDS:
        raise RuleViolation("this is a common password: choose another",
                            rule="password_too_common", field="password")
    if zxcvbn(password[:100], user_inputs=names)["score"] < MIN_SCORE:
        raise RuleViolation("this password is easy to guess (a common word, name, "
                            "sequence or pattern): choose a longer or less usual one",
                            rule="password_too_common", field="password")


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


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash no password matches, with the parameters of the real ones: a sign-in for an
    unknown username is verified against it, so it takes the time a known one takes."""
    return hash_password(secrets.token_urlsafe(32))
