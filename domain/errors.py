from __future__ import annotations


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
