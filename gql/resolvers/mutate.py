"""What every mutation resolver shares: decode the input, run a workflow in a unit of work, turn
expected failures into error types, and hand back fresh nodes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from graphql import GraphQLError
from sqlalchemy.exc import DataError
from strawberry.types import Info

from domain import errors as d
from domain.uow import Actor
from gql import ids
from gql.resolvers.loaders import RowsByIdLoader
from gql.schema.errors import UserError, to_user_error
from persistence.uow import SqlUnitOfWork

T = TypeVar("T")
log = logging.getLogger("salesgraph.mutations")


def pk(global_id: Any, expected: str | tuple[str, ...], field: str) -> int:
    """The primary key behind a global id of the expected type; a ValidationError on `field` otherwise."""
    try:
        return ids.decode_as(str(global_id), expected)
    except GraphQLError as error:
        raise d.ValidationError(field, error.message) from None


def opt_pk(global_id: Any, expected: str | tuple[str, ...], field: str) -> int | None:
    return None if global_id is None else pk(global_id, expected, field)


async def run(info: Info, work: Callable[[SqlUnitOfWork], Awaitable[T]]) -> T | UserError:
    """Run `work` (which ends with a workflow that commits) in a new unit of work as the caller.
    A DomainError anywhere, including while decoding the input, rolls everything back and becomes
    the matching error type."""
    context = info.context
    principal = context.principal
    actor = (
        Actor(user_id=principal.user_id, partner_id=principal.partner_id, role=principal.role) if principal else Actor()
    )
    try:
        async with SqlUnitOfWork(context.engine, actor, clock=context.clock, on_commit=context.events_committed) as uow:
            outcome = await work(uow)
            if not uow.committed:
                raise RuntimeError("the workflow returned without committing")
    except d.DomainError as error:
        return to_user_error(error)
    except DataError as error:
        # A value the checks before writing let through and the database refused: still the
        # client's input, so a typed error (logged, since it means a check is missing).
        log.warning("database refused a value in request %s: %s", context.request_id, error.orig)
        return to_user_error(
            d.ValidationError(
                "input", "a value does not fit the field it is stored in: " + str(error.orig).splitlines()[0][:200]
            )
        )
    context.loaders.clear()  # what this request read before the change is stale now
    return outcome


async def node(info: Info, node_type: Any, table: Any, pk_value: int | None) -> Any:
    """The GraphQL node of the row a mutation wrote, as it is now (after the commit). It is shown to the
    caller who was just allowed to write it even when the change takes it out of the caller's sight
    (a rep creating an opportunity for a colleague, a lead routed away); what it points to is read
    with the caller's rules as usual."""
    if pk_value is None:
        return None
    context = info.context
    loader = context.loader(("written", table.name), lambda: RowsByIdLoader(context.engine, table))
    return node_type.from_row(await loader.load(pk_value))
