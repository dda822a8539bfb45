"""Expected failures of mutations, as types in the schema: a mutation returns its success payload
or one of these, and a client selects `... on UserError { code message }` to show them."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain import errors
from gql.ids import message_of


@strawberry.enum(description="What kind of expected failure a mutation met.")
class ErrorCode(Enum):
    VALIDATION = strawberry.enum_value("VALIDATION", description="An input is invalid; `field` names it.")
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="Something the input refers to does not exist.")
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="The change collides with the current state (a stale version, a duplicate, a rule)."
    )
    LOCKED = strawberry.enum_value("LOCKED", description="The opportunity is sold and locked; unlock it first.")
    PERMISSION_DENIED = strawberry.enum_value("PERMISSION_DENIED", description="The caller may not make this change.")


@strawberry.interface(description="An expected failure of a mutation; nothing was changed.")
class UserError:
    message: str = strawberry.field(description="What went wrong and what to do about it, for people.")
    code: ErrorCode = strawberry.field(description="What kind of failure this is, for programs.")


@strawberry.type(name="ValidationError", description="An input is invalid; nothing was written.")
class ValidationProblem(UserError):
    field: str = strawberry.field(description="The input field at fault, as named in the input (e.g. `email`).")


@strawberry.type(description="Something the input refers to does not exist (or is not visible to the caller).")
class NotFoundError(UserError):
    entity_type: str = strawberry.field(description="The kind of thing that was looked for, e.g. `Opportunity`.")


@strawberry.type(
    description="The change collides with the current state: someone changed the object since it was "
    "read (send the new `version`), it would duplicate something, or a rule forbids it now."
)
class ConflictError(UserError):
    pass


@strawberry.type(
    description="The opportunity is sold and locked: its quotes and items cannot change until it is unlocked."
)
class LockedError(UserError):
    pass


@strawberry.type(description="The caller may not make this change.")
class PermissionDeniedError(UserError):
    pass


@strawberry.type(description="One bad cell or row of an imported CSV file.")
class ImportProblem:
    line: int = strawberry.field(description="The line of the file (the header row is line 1).")
    column: str = strawberry.field(description="The column at fault, as named in the header (`row`: the whole row).")
    message: str = strawberry.field(description="What is wrong with it.")


@strawberry.type(
    description="A CSV import in which some rows are invalid: every problem found is listed, and nothing was written."
)
class ImportRejectedError(ValidationProblem):
    problems: list[ImportProblem] = strawberry.field(description="Every problem found, in the order of the file.")
    more_problems: int = strawberry.field(
        description="Problems found beyond those listed (0 unless the file is very bad)."
    )


# Each domain error and the type that shows it, in the order result unions list them (a subclass, such as
# StaleVersion, shows as its base).
ERROR_TYPES: dict[type[errors.DomainError], type[UserError]] = {
    errors.ValidationError: ValidationProblem,
    errors.ImportRejected: ImportRejectedError,
    errors.NotFound: NotFoundError,
    errors.Conflict: ConflictError,
    errors.Locked: LockedError,
    errors.PermissionDenied: PermissionDeniedError,
}


def to_user_error(error: errors.DomainError) -> UserError:
    """The schema's error type for a domain error; its message names rows by their global ids."""
    message = message_of(error)
    if isinstance(error, errors.ImportRejected):
        return ImportRejectedError(
            message=message,
            code=ErrorCode.VALIDATION,
            field=error.field,
            problems=[ImportProblem(line=p.line, column=p.column, message=p.message) for p in error.problems],
            more_problems=error.more,
        )
    if isinstance(error, errors.ValidationError):
        return ValidationProblem(message=message, code=ErrorCode.VALIDATION, field=error.field)
    if isinstance(error, errors.NotFound):
        return NotFoundError(message=message, code=ErrorCode.NOT_FOUND, entity_type=error.entity)
    if isinstance(error, errors.Locked):
        return LockedError(message=message, code=ErrorCode.LOCKED)
    if isinstance(error, errors.PermissionDenied):
        return PermissionDeniedError(message=message, code=ErrorCode.PERMISSION_DENIED)
    return ConflictError(message=message, code=ErrorCode.CONFLICT)
