from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class DomainError(Exception):
    """An expected failure that a client can act on."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    code = "VALIDATION"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, entity: str, ident: object) -> None:
        super().__init__(f"{entity} {ident!r} does not exist")
        self.entity = entity
        self.ident = ident


class Conflict(DomainError):
    code = "CONFLICT"


class Locked(DomainError):
    code = "LOCKED"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"


def raises(*errors: type[DomainError]) -> Callable[[F], F]:
    """Declare the expected failures of a port's method (a Protocol has no body to read them from):
    the mutation schema lists them for every workflow that calls it."""

    def mark(method: F) -> F:
        method.__raises__ = errors  # type: ignore[attr-defined]
        return method

    return mark
