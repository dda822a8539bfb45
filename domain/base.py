from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.errors import ValidationError


def utcnow() -> datetime:
    return datetime.now(UTC)


def required(value: str | None, field_name: str) -> str:
    if value is None or not value.strip():
        raise ValidationError(field_name, "is required")
    return value.strip()


def check_email(value: str | None, field_name: str = "email") -> str | None:
    if value is None or value == "":
        return None
    local, _, domain_part = value.partition("@")
    if not local or "." not in domain_part or " " in value:
        raise ValidationError(field_name, f"{value!r} is not an e-mail address")
    return value


@dataclass(kw_only=True)
class Entity:
    """What every entity has: an id once stored, timestamps and a version for optimistic concurrency."""

    id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1


def key_of(value: object, field_name: str) -> str:
    """The key a configurable list value is stored as (domain/lists.py): a plain string, also when a built-in
    enum member (ActivityType.CALL) is given."""
    key = getattr(value, "value", value)
    if not isinstance(key, str):
        raise ValidationError(field_name, "is required")
    return required(key, field_name)
