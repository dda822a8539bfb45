"""Field factories for the relations every type repeats: to-one by id, lists and connections."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import strawberry
from sqlalchemy import Table
from strawberry.types import Info

from gql.resolvers.connections import pages_loader, root_connection
from gql.schema.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Connection
from persistence.filters import FilterSpec

_P = inspect.Parameter
PAGE_ARGS = [
    (
        "first",
        int | None,
        f"Return the first N items (0 to {MAX_PAGE_SIZE}; {DEFAULT_PAGE_SIZE} when neither first nor last is given).",
    ),
    ("after", str | None, "Return items after this cursor."),
    ("last", int | None, f"Return the last N items (0 to {MAX_PAGE_SIZE})."),
    ("before", str | None, "Return items before this cursor."),
]
_classes: dict[str, type] = {}


@dataclass(frozen=True)
class Batch:
    """How a relation field resolves for many parents at once (used by the breadth-first executor):
    `one` loads a row per key column, `many` a list of rows per parent id, `pages` a connection page."""

    kind: str
    target: str
    key: str
    loader: Callable[[Any, dict[str, Any]], Any]
    table: Table


def node_class(target: str) -> type:
    """The class of `module:Name`, imported on first use (types refer to each other in cycles)."""
    found = _classes.get(target)
    if found is None:
        module, _, name = target.partition(":")
        found = _classes[target] = getattr(importlib.import_module(module), name)
    return found


def lazy(target: str) -> Any:
    module, _, name = target.partition(":")
    return Annotated[name, strawberry.lazy(module)]


def _arg(name: str, annotation: Any, description: str) -> inspect.Parameter:
    return _P(
        name,
        _P.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[annotation, strawberry.argument(description=description)],
    )


def connection(
    target: str,
    spec: FilterSpec,
    *,
    description: str,
    default_order: str,
    fk: str | None = None,
    parent_key: str = "id",
    filter_type: type | None = None,
    order_type: type | None = None,
    table: Table | None = None,
    where: Any = None,
    tag: str = "",
    criteria_entity: str | None = None,
) -> Any:
    """A Relay connection field: at the root when `fk` is None, else the children of the parent object
    (restricted by `where`, a fixed condition named by `tag`). `criteria_entity`: a root list that takes
    the criteria language (`criteria:`) for that entity, ANDed with `filter`."""
    params = [_P("info", _P.POSITIONAL_OR_KEYWORD, annotation=Info)]
    if fk is not None:
        params.insert(0, _P("self", _P.POSITIONAL_OR_KEYWORD))
    params += [_arg(n, a, d) for n, a, d in PAGE_ARGS]
    if filter_type is not None:
        params.append(_arg("filter", filter_type | None, "Only items matching all these conditions."))
    if criteria_entity is not None:
        from gql.schema.criteria import Criteria

        params.append(
            _arg(
                "criteria",
                Criteria | None,
                "Only items matching these criteria (the criteria language; with `filter`, both must hold).",
            )
        )
    if order_type is not None:
        params.append(
            _arg("order_by", order_type | None, f"The order of the items (default: {default_order}, ties by id).")
        )

    async def resolve(*args: Any, **kwargs: Any) -> Any:
        positional = list(args)
        info = kwargs.pop("info") if "info" in kwargs else positional.pop()
        if fk is None:
            return await root_connection(
                info,
                node_class(target),
                spec,
                default_order=default_order,
                filter=kwargs.get("filter"),
                order_by=kwargs.get("order_by"),
                first=kwargs["first"],
                after=kwargs["after"],
                last=kwargs["last"],
                before=kwargs["before"],
                criteria=kwargs.get("criteria"),
                criteria_entity=criteria_entity,
            )
        parent = kwargs.pop("self") if "self" in kwargs else positional[0]
        page = await nested_loader(info.context, kwargs).load(parent.__dict__[parent_key])
        return Connection(page=page, node_type=node_class(target))

    def nested_loader(ctx: Any, kwargs: dict[str, Any]) -> Any:
        return pages_loader(
            ctx,
            spec,
            fk,
            default_order=default_order,
            table=table,
            filter=kwargs.get("filter"),
            order_by=kwargs.get("order_by"),
            first=kwargs["first"],
            after=kwargs["after"],
            last=kwargs["last"],
            before=kwargs["before"],
            where=where,
            tag=tag,
        )

    if fk is not None:
        resolve._batch = Batch(
            "pages",
            target,
            key=parent_key,
            loader=nested_loader,  # type: ignore[attr-defined]
            table=table if table is not None else spec.table,
        )
        resolve._needs = (parent_key,)  # type: ignore[attr-defined]

    resolve.__signature__ = inspect.Signature(params, return_annotation=Connection[lazy(target)])  # type: ignore[attr-defined]
    resolve.__annotations__ = {p.name: p.annotation for p in params if p.annotation is not _P.empty}
    resolve.__annotations__["return"] = Connection[lazy(target)]
    return strawberry.field(resolver=resolve, description=description)


def to_one(target: str, table: Table, column: str, description: str) -> Any:
    """A to-one relation through a foreign key column of the parent object (null when unset)."""

    async def resolve(self: Any, info: Info) -> Any:
        key = self.__dict__[column]
        if key is None:
            return None
        return node_class(target).from_row(await info.context.by_id(table).load(key))

    resolve._batch = Batch(
        "one",
        target,
        key=column,  # type: ignore[attr-defined]
        loader=lambda ctx, kwargs: ctx.by_id(table),
        table=table,
    )
    resolve._needs = (column,)  # type: ignore[attr-defined]

    resolve.__annotations__ = {"info": Info, "return": Optional[lazy(target)]}  # noqa: UP045 - a lazy type has no `|`
    return strawberry.field(resolver=resolve, description=description)


def to_many(
    target: str, table: Table, fk: str, description: str, order_by: tuple = (), where: Any = None, tag: str = ""
) -> Any:
    """All children of the parent, for relations that stay small (a quote's items)."""

    async def resolve(self: Any, info: Info) -> Any:
        rows = await info.context.children(table, fk, order_by, where, tag).load(self.__dict__["id"])
        return node_class(target).from_rows(rows)

    resolve._batch = Batch(
        "many",
        target,
        key="id",  # type: ignore[attr-defined]
        loader=lambda ctx, kwargs: ctx.children(table, fk, order_by, where, tag),
        table=table,
    )
    resolve._needs = ("id",)  # type: ignore[attr-defined]

    resolve.__annotations__ = {"info": Info, "return": list[lazy(target)]}
    return strawberry.field(resolver=resolve, description=description)


def linked(target: str, link: Table, left: str, right: str, target_table: Table, description: str) -> Any:
    """A many-to-many relation through a link table."""

    async def resolve(self: Any, info: Info) -> Any:
        rows = await info.context.linked(link, left, right, target_table).load(self.__dict__["id"])
        return node_class(target).from_rows(rows)

    resolve._batch = Batch(
        "many",
        target,
        key="id",  # type: ignore[attr-defined]
        loader=lambda ctx, kwargs: ctx.linked(link, left, right, target_table),
        table=target_table,
    )
    resolve._needs = ("id",)  # type: ignore[attr-defined]

    resolve.__annotations__ = {"info": Info, "return": list[lazy(target)]}
    return strawberry.field(resolver=resolve, description=description)
