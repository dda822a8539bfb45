"""Root and nested Relay connections over the batch reads, with filters and ordering."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Table
from strawberry.types import Info

from gql import ids
from gql.errors import ClientError
from gql.resolvers.loaders import PagesByParentLoader
from gql.schema.base import Connection, window
from gql.schema.criteria import list_tree
from persistence import reads
from persistence.criteria import compile_criteria
from persistence.filters import MAX_SEARCH_LENGTH, FilterSpec, conditions, ordering

# Which type a global id in a filter field must name.
ID_TYPES: dict[str, str] = {
    "manager_id": "User",
    "owner_id": "User",
    "assigned_user_id": "User",
    "team_id": "Team",
    "account_id": "Account",
    "parent_id": "Account",
    "partner_id": "Partner",
    "assigned_partner_id": "Partner",
    "campaign_id": "Campaign",
    "contact_type_id": "ContactType",
    "opportunity_id": "Opportunity",
    "contact_id": "Contact",
    "lead_id": "Lead",
    "assignee_id": "User",
    "product_id": "Product",
    "actor_user_id": "User",
    "has_indicator": "StatusMonitor",
    "lacks_indicator": "StatusMonitor",
    "owner_user_id": "User",
}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def filter_criteria(filter_input: Any) -> dict[str, Any]:
    """A filter input as plain criteria: enums to their values, global ids to primary keys. A search
    term longer than a person types is a VALIDATION error before any SQL."""
    if filter_input is None:
        return {}
    search = getattr(filter_input, "search", None)
    if isinstance(search, str) and len(search.strip()) > MAX_SEARCH_LENGTH:
        raise ClientError(
            f"`filter.search` is {len(search.strip())} characters long; a search term has at most {MAX_SEARCH_LENGTH}",
            code="VALIDATION",
            field="filter.search",
            maximum=MAX_SEARCH_LENGTH,
        )
    result: dict[str, Any] = {}
    for f in dataclasses.fields(filter_input):
        value = getattr(filter_input, f.name)
        if value is None or value is strawberry.UNSET:
            continue
        base = f.name[:-3] if f.name.endswith("_in") else f.name
        if base in ID_TYPES:
            expected = ID_TYPES[base]
            value = (
                [ids.decode_as(v, expected) for v in value]
                if isinstance(value, list)
                else ids.decode_as(value, expected)
            )
        result[f.name] = _plain(value)
    return result


# The ORDER BY of each (spec, field, direction), built once per process with a name for loader keys:
# building the expression and printing it (a compilation) was a few percent of a small query's CPU.
_orders: dict[tuple[int, str, bool], tuple[FilterSpec, tuple[ColumnElement, ...], str]] = {}


def _order(spec: FilterSpec, order_by: Any, default: str) -> tuple[tuple[ColumnElement, ...], str]:
    """The ORDER BY expressions of `order_by` (default: `default`, ascending) and a name for them."""
    if order_by is None:
        field, descending = default, False
    else:
        field, descending = _plain(order_by.field), _plain(order_by.direction) == "DESC"
    key = (id(spec), field, descending)
    found = _orders.get(key)
    if found is None or found[0] is not spec:
        name = f"{spec.table.name}.{spec.order[field]} {'DESC' if descending else 'ASC'}"
        found = _orders[key] = (spec, tuple(ordering(spec, field, descending)), name)
    return found[1], found[2]


async def root_connection(
    info: Info,
    node_type: type,
    spec: FilterSpec,
    *,
    filter: Any,
    order_by: Any,
    default_order: str,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    where: list[ColumnElement] | None = None,
    criteria: Any = None,
    criteria_entity: str | None = None,
) -> Connection:
    page_window = window(first, after, last, before)
    conds = conditions(spec, filter_criteria(filter), info.context.viewer) + list(where or [])
    if criteria is not None and criteria_entity is not None:
        tree = list_tree(criteria_entity, criteria)
        conds.append(compile_criteria(criteria_entity, tree, info.context.viewer))
    order, _ = _order(spec, order_by, default_order)
    source, viewer = info.context.reads, info.context.viewer
    async with source.connect() as conn:
        page = await reads.root_page(conn, spec.table, conds, order, page_window, need_total=False, viewer=viewer)

    async def count() -> int:
        async with source.connect() as conn:
            return await reads.count_rows(conn, spec.table, conds, viewer)

    return Connection(page=page, node_type=node_type, count_query=count)


def pages_loader(
    ctx: Any,
    spec: FilterSpec,
    fk: str,
    *,
    filter: Any = None,
    order_by: Any = None,
    default_order: str,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    table: Table | None = None,
    where: Any = None,
    tag: str = "",
) -> PagesByParentLoader:
    """The request's loader of pages of `table` per `fk` for these arguments (validated here);
    `where` is a fixed condition of the relation (named by `tag` in the loader's key)."""
    page_window = window(first, after, last, before)
    found = filter_criteria(filter)
    conds = conditions(spec, found, ctx.viewer) + ([where] if where is not None else [])
    order, order_name = _order(spec, order_by, default_order)
    target = table if table is not None else spec.table
    key = ("pages", target.name, fk, tag, page_window, repr(sorted(found.items())), order_name)
    return ctx.loader(
        key,
        lambda: PagesByParentLoader(ctx.reads, target, fk, page_window, order, conds, cache_key=key, viewer=ctx.viewer),
    )
