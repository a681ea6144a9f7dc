"""The errors the use cases raise beyond the domain's own (domain.errors)."""

from __future__ import annotations

from domain.errors import DomainError


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
