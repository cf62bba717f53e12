"""Domain errors. The API maps each class to one HTTP status in `caseline.api.errors` — never by message."""

from __future__ import annotations


class DomainError(Exception):
    """Base class. `detail` is safe to show to the caller."""

    def __init__(self, detail: str, **context: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class NotFound(DomainError):
    """The thing does not exist — or the caller may not know that it exists."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class Unauthenticated(DomainError):
    """No valid credentials."""


class VersionConflict(DomainError):
    """The caller's version of the thing is stale; nothing was changed."""

    def __init__(self, detail: str, *, current_version: int | None = None, **context: object) -> None:
        super().__init__(detail, current_version=current_version, **context)
        self.current_version = current_version


class InvalidTransition(DomainError):
    """A state change the lifecycle does not allow (e.g. closed → pending)."""


class AlreadyExists(DomainError):
    """A unique value (email, phone, external id) is taken by another record."""


class RuleViolation(DomainError):
    """A business rule rejects the command (e.g. replying on a closed case)."""


class PreconditionRequired(DomainError):
    """An update that needs the caller's version (If-Match) arrived without one."""
