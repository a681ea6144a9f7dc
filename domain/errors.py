"""Errors the domain raises. Each names the rule or field it concerns."""

from __future__ import annotations


class DomainError(Exception):
    """Base for every refusal by the domain."""

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field


class InvalidValue(DomainError):
    """A value is malformed (a wrong check character, an unknown enum value...)."""


class RuleViolation(DomainError):
    """A domain rule refuses the command (DOMAIN.md sections 3 and 5)."""


class Conflict(DomainError):
    """The thing already exists (a second registration of one code, a duplicate number)."""


class NotFound(DomainError):
    """A numbered item of the case (a report, a notice, a decision, a listing, a leader)
    that does not exist."""
