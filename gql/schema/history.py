"""The change history of accounts, opportunities, quotes, tasks, contracts and price books.

A value that names a row (an account, a partner, a contact, …) is stored as the row it names
(`{"ref": "Account", "id": 38}`, see persistence.mapping.plain) and read with the reader's rules:
its global id when the reader may see that row, null when it may not, so a visible row's history
never tells of a hidden one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import ColumnElement
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.money import in_minor_units
from gql import ids
from gql.schema import filters
from gql.schema.base import Node, needs
from gql.schema.fields import connection, node_class, to_one
from gql.schema.inputs import in_words
from gql.schema.nodes import NODE_TYPES
from persistence import filters as spec
from persistence import tables


def shown(value: Any) -> Any:
    """An amount in the currency's minor units, as everywhere else (entries written before amounts were
    stored that way keep the column's 4 decimals)."""
    if isinstance(value, dict) and value.keys() == {"amount", "currency"} and isinstance(value["currency"], str):
        try:
            return {**value, "amount": str(in_minor_units(Decimal(str(value["amount"])), value["currency"]))}
        except ArithmeticError:
            return value
    return value


def _is_ref(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.keys() == {"ref", "id"}
        and isinstance(value["ref"], str)
        and isinstance(value["id"], int)
    )


def _refs(value: Any) -> Iterator[dict[str, Any]]:
    if _is_ref(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


async def _row(info: Info, reference: dict[str, Any]) -> Any:
    """The row a stored reference names, if the reader may see it (None as for a missing row)."""
    found = NODE_TYPES.get(reference["ref"])
    if found is None:
        return None
    return await info.context.by_id(found[1]).load(reference["id"])


async def as_read(info: Info, value: Any) -> Any:
    """A stored value as this reader may read it: each row it names as its global id, or null where the
    reader may not see that row."""
    references = list(_refs(value))
    if not references:
        return shown(value)
    rows = await asyncio.gather(*(_row(info, r) for r in references))
    visible = {(r["ref"], r["id"]) for r, row in zip(references, rows, strict=True) if row is not None}

    def named(item: Any) -> Any:
        if _is_ref(item):
            return ids.encode(item["ref"], item["id"]) if (item["ref"], item["id"]) in visible else None
        if isinstance(item, dict):
            return {k: named(v) for k, v in item.items()}
        if isinstance(item, list):
            return [named(v) for v in item]
        return item

    return shown(named(value))


async def named_node(info: Info, value: Any) -> Node | None:
    reference = next(_refs(value), None)
    if reference is None:
        return None
    return node_class(NODE_TYPES[reference["ref"]][0]).from_row(await _row(info, reference))


@strawberry.type(
    description="One changed field of an account, opportunity, quote, task, contract, price book, partner, "
    "selection, saved view or custom field definition: who changed it, when, from what to what. Written in the "
    "same transaction as the change."
)
class AuditEntry(Node):
    graphql_type = "AuditEntry"
    entity_type: str = strawberry.field(
        description="Account, Opportunity, Quote, Task, Contract, PriceBook, Partner, Selection, SavedView, "
        "CustomFieldDefinition or OpportunityStage."
    )
    field: str = strawberry.field(
        description="The field that changed, as named in the API (`created` and `deleted` "
        "mark the beginning and the end; `items` a quote line; `members` a static selection's rows: the value "
        "before lists those removed, the value after those added)."
    )

    @strawberry.field(
        description="The value before (null when there was none). A row it names (an account, a partner, "
        "a contact, …) is given as its global id, or as null when it is a row you may not see."
    )
    @needs("old_value")
    async def old_value(self, info: Info) -> JSON | None:
        return await as_read(info, self.__dict__["old_value"])

    @strawberry.field(
        description="The value after (null when it was removed). A row it names is given as its global id, "
        "or as null when it is a row you may not see."
    )
    @needs("new_value")
    async def new_value(self, info: Info) -> JSON | None:
        return await as_read(info, self.__dict__["new_value"])

    @strawberry.field(
        description="The row the value before names (the account an opportunity moved from, the partner "
        "it was assigned to, the contact of a business role, …); null when it names none or one you may not see."
    )
    @needs("old_value")
    async def old_node(self, info: Info) -> Node | None:
        return await named_node(info, self.__dict__["old_value"])

    @strawberry.field(description="The row the value after names; null when it names none or one you may not see.")
    @needs("new_value")
    async def new_node(self, info: Info) -> Node | None:
        return await named_node(info, self.__dict__["new_value"])

    at: datetime = strawberry.field(description="When the change was committed.")
    actor = to_one("gql.schema.people:User", tables.users, "actor_user_id", "The user who made the change.")
    actor_partner = to_one(
        "gql.schema.people:Partner",
        tables.partners,
        "actor_partner_id",
        "The partner who made the change (through a partner token).",
    )


def history_field(entity_type: str) -> Any:
    where: ColumnElement = tables.audit_entries.c.entity_type == entity_type
    return connection(
        "gql.schema.history:AuditEntry",
        spec.HISTORY,
        fk="entity_id",
        where=where,
        tag=entity_type,
        default_order="AT",
        filter_type=filters.HistoryFilter,
        order_type=filters.HistoryOrder,
        description=f"The change history of this {in_words(entity_type)}, oldest first (`last: 10` for the newest).",
    )
