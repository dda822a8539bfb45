from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# Rows named in a message travel inside it as `\x1fType:key\x1f` between the f-string that builds
# the message and the error's constructor, which splits them out again: raise sites stay plain
# f-strings, and no error keeps a marker in its text.
_MARK = "\x1f"
_MARKED = re.compile(f"{_MARK}([A-Za-z]+):(-?[0-9]+){_MARK}")


@dataclass(frozen=True, slots=True)
class Ref:
    """One row named in an error message. The domain knows rows by their key; the API names them as
    its clients know them (global ids), so a message keeps which row it means, not how to write it."""

    entity: str
    id: int

    def __str__(self) -> str:
        return f"{_MARK}{self.entity}:{self.id}{_MARK}"

    def __format__(self, spec: str) -> str:
        return str(self)


def ref(entity: object, id: int | None = None) -> Ref:
    """`ref(opportunity)` or `ref("Account", cmd.account_id)`, for an f-string that becomes an error message."""
    if isinstance(entity, str):
        if id is None:
            raise TypeError("ref(kind, id) needs the id when the kind is given by name")
        return Ref(entity, id)
    return Ref(type(entity).__name__, entity.id)  # type: ignore[attr-defined]


Part = str | Ref


def _split(text: str) -> tuple[Part, ...]:
    pieces = _MARKED.split(text)
    parts: list[Part] = []
    for index in range(0, len(pieces), 3):
        if pieces[index]:
            parts.append(pieces[index])
        if index + 2 < len(pieces):
            parts.append(Ref(pieces[index + 1], int(pieces[index + 2])))
    return tuple(parts)


def by_key(reference: Ref) -> str:
    """How the domain and the command line name a row: by its key."""
    return str(reference.id)


def _render(parts: tuple[Part, ...], name: Callable[[Ref], str]) -> str:
    return "".join(part if isinstance(part, str) else name(part) for part in parts)


class DomainError(Exception):
    """An expected failure that a client can act on. `message` names rows by their key; `render`
    names them as a caller knows them."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        self.parts = _split(message)
        self.message = _render(self.parts, by_key)
        super().__init__(self.message)

    @property
    def refs(self) -> tuple[Ref, ...]:
        return tuple(part for part in self.parts if isinstance(part, Ref))

    def render(self, name: Callable[[Ref], str]) -> str:
        """The message with each row it names written by `name`."""
        return _render(self.parts, name)


class ValidationError(DomainError):
    code = "VALIDATION"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = _render(_split(message), by_key)


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    message: str


class ImportRejected(ValidationError):
    """A CSV import with bad rows: every problem found, each with its line and column; nothing was written."""

    def __init__(self, problems: list[RowProblem], more: int = 0) -> None:
        first = "; ".join(f"line {p.line}, column {p.column}: {p.message}" for p in problems[:3])
        rows = len({p.line for p in problems})
        tail = f" (and {more} more problems)" if more else ""
        super().__init__(
            "csv",
            f"{rows} row(s) are invalid and nothing was imported; fix every one and send the file again: {first}{tail}",
        )
        self.problems, self.more = problems, more


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, entity: str, ident: object) -> None:
        if isinstance(ident, int) and not isinstance(ident, bool):
            named: object = ref(entity, ident)
        else:
            # Not repr(): a description may name a row itself, and repr would escape its marker.
            named = f"'{ident}'" if isinstance(ident, str) else repr(ident)
        super().__init__(f"{entity} {named} does not exist")
        self.entity = entity
        self.ident = ident


class Conflict(DomainError):
    code = "CONFLICT"


class StaleVersion(Conflict):
    """Someone changed the row since the client read it (optimistic concurrency): `current` is its
    version now, when known, and `sent` the one the client read."""

    def __init__(self, entity: str, ident: int, current: int | None = None, sent: int | None = None) -> None:
        where = f"is at version {current}, not {sent}" if current is not None else "was changed by someone else"
        super().__init__(
            f"{entity} {ref(entity, ident)} {where}: someone changed it since you read it; reload it and try again"
        )
        self.entity, self.ident, self.current, self.sent = entity, ident, current, sent


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
