"""What commands share: an UNSET marker for "not given" (different from None, which clears a field)."""

from __future__ import annotations

import dataclasses
from typing import Any

from domain.base import Entity
from domain.errors import StaleVersion, ValidationError


class Unset:
    """A field the client did not send: leave it as it is."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = Unset()


def given(value: Any) -> bool:
    return value is not UNSET


def changes(command: Any, *names: str) -> dict[str, Any]:
    """The fields among `names` that the command sets (None included: it clears)."""
    return {n: getattr(command, n) for n in names if given(getattr(command, n))}


def apply(entity: Entity, values: dict[str, Any]) -> Entity:
    """A copy of `entity` with `values` set, validated again by the entity's own rules. None for a
    field that must have a value is a ValidationError ("cannot be cleared"), not a crash."""
    fields = {f.name: f for f in dataclasses.fields(entity)}
    for name, value in values.items():
        if value is None and not _nullable(fields[name]):
            raise ValidationError(camel(name), "cannot be cleared")
    current = {name: getattr(entity, name) for name in fields}
    current.update(values)
    return type(entity)(**current)


# The longest name the name columns keep (campaigns, routing rules, splitters).
NAME_MAX = 200


def fits(value: str | None, field: str, limit: int = NAME_MAX) -> None:
    """A text input no longer than its column (blank-trimmed, as it is stored)."""
    if isinstance(value, str) and len(value.strip()) > limit:
        raise ValidationError(field, f"is longer than {limit} characters")


def _nullable(f: dataclasses.Field) -> bool:
    annotation = f.type if isinstance(f.type, str) else repr(f.type)
    return "None" in annotation or "Optional" in annotation


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def expect_version(entity: Entity, version: int | None) -> None:
    """Optimistic concurrency: a client that read version N may change the entity only while it is at N."""
    if version is not None and version is not UNSET and version != entity.version:
        raise StaleVersion(type(entity).__name__, entity.id, entity.version, version)
