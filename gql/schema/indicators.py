"""Status indicators as read: the marks monitors set on accounts, contacts and opportunities, with the
look of their monitor, through one per-request loader per entity type (one statement per level)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import strawberry
from aiodataloader import DataLoader
from strawberry.types import Info

from gql.schema.fields import Batch, lazy, node_class
from persistence import indicators, tables
from persistence.db import ConnectionSource


class IndicatorsByEntityLoader(DataLoader):
    """The indicators of accounts, contacts, opportunities or leads (by entity id), ordered for display."""

    def __init__(self, source: ConnectionSource, entity_type: str) -> None:
        super().__init__()
        self.source, self.entity_type = source, entity_type

    async def batch_load_fn(self, keys: Sequence[int]) -> list:
        return await self.fetch(keys)

    async def fetch(self, keys: Sequence[int], columns: tuple[str, ...] | None = None) -> list:
        async with self.source.connect() as conn:
            return await indicators.indicators_of(conn, self.entity_type, keys)


def indicators_loader(context: Any, entity_type: str) -> IndicatorsByEntityLoader:
    """The request's loader of the indicators of one entity type ("ACCOUNT", "CONTACT", "OPPORTUNITY")."""
    return context.loader(
        ("status_indicators", entity_type), lambda: IndicatorsByEntityLoader(context.reads, entity_type)
    )


def _the_monitor() -> Any:
    """The monitor that set an indicator (never null: indicators are read with their active monitor)."""
    target = "gql.schema.monitors:StatusMonitor"

    async def resolve(self: Any, info: Info) -> Any:
        return node_class(target).from_row(
            await info.context.by_id(tables.status_monitors).load(self.__dict__["monitor_id"])
        )

    resolve._batch = Batch(
        "one",
        target,
        key="monitor_id",  # type: ignore[attr-defined]
        loader=lambda ctx, kwargs: ctx.by_id(tables.status_monitors),
        table=tables.status_monitors,
    )
    resolve._needs = ("monitor_id",)  # type: ignore[attr-defined]
    resolve.__annotations__ = {"info": Info, "return": lazy(target)}
    return strawberry.field(resolver=resolve, description="The status monitor that set it.")


@strawberry.type(
    description="A status monitor's mark on an account, contact, opportunity or lead, present exactly while "
    "the monitor's rule holds for it; name, description, icon, colour and priority are the "
    "monitor's, copied here for convenience."
)
class StatusIndicator:
    name: str = strawberry.field(description='The monitor\'s name, e.g. "Not followed up in 6 months".')
    description: str | None = strawberry.field(description="What the indicator means and what to do about it.")
    icon: str = strawberry.field(description="The name of the icon to show, e.g. `flag`.")
    colour: str = strawberry.field(description="The colour as #rrggbb.")
    priority: int = strawberry.field(description="Where it ranks among the entity's indicators: higher first.")
    set_at: datetime = strawberry.field(
        description="When the rule began to hold for this entity (the indicator was set)."
    )
    monitor = _the_monitor()

    @classmethod
    def from_rows(cls, rows: Iterable[Any], fields: tuple[str, ...] | None = None) -> list[Any]:
        result = []
        for row in rows:
            obj = cls.__new__(cls)
            obj.__dict__ = dict(zip(fields or row._fields, row))
            result.append(obj)
        return result


def indicators_field(entity_type: str) -> Any:
    """`statusIndicators` of an account, contact, opportunity or lead (highest priority first, then by name)."""

    async def resolve(self: Any, info: Info) -> Any:
        return StatusIndicator.from_rows(await indicators_loader(info.context, entity_type).load(self.__dict__["id"]))

    resolve._batch = Batch(
        "many",
        "gql.schema.indicators:StatusIndicator",
        key="id",  # type: ignore[attr-defined]
        loader=lambda ctx, kwargs: indicators_loader(ctx, entity_type),
        table=tables.status_indicators,
    )
    resolve._needs = ("id",)  # type: ignore[attr-defined]
    resolve.__annotations__ = {"info": Info, "return": list[lazy("gql.schema.indicators:StatusIndicator")]}
    return strawberry.field(
        resolver=resolve,
        description="The status indicators the active monitors set on it, highest priority first, then by name.",
    )
