from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.access import Principal
from domain.base import utcnow
from domain.uow import Actor
from gql.resolvers.loaders import RowsByIdLoader, RowsByParentLoader, RowsThroughLinkLoader
from persistence.visibility import Viewer


def actor_of(principal: Principal | None) -> Actor:
    """The caller as the workflows see it, role included: who makes the change, and whose rules apply
    (also outside GraphQL, e.g. `POST /ingest/leads`)."""
    if principal is None:
        return Actor()
    return Actor(user_id=principal.user_id, partner_id=principal.partner_id, role=principal.role)


@dataclass
class Context:
    """What every resolver of one request shares: the engine, the caller and the request's loaders."""

    engine: AsyncEngine
    principal: Principal | None
    request_id: str
    clock: Callable[[], datetime] = utcnow
    # Called after a commit that recorded events: wakes the outbox dispatcher.
    events_committed: Callable[[], None] | None = None
    # The process's realtime side (event hub, scoreboard topics) for subscriptions; None in tools.
    realtime: Any = None
    loaders: dict[Hashable, DataLoader] = field(default_factory=dict)

    def loader(self, key: Hashable, factory: Callable[[], DataLoader]) -> DataLoader:
        found = self.loaders.get(key)
        if found is None:
            found = self.loaders[key] = factory()
        return found

    @property
    def actor(self) -> Actor:
        """The caller as the workflows see it (role included): who makes the change, and whose rules apply."""
        found = self.__dict__.get("_actor")
        if found is None:
            found = self.__dict__["_actor"] = actor_of(self.principal)
        return found

    @property
    def viewer(self) -> Viewer:
        """The caller as the visibility rules see it: every read of this request is limited to it. It reads
        at the request's time (the clock when first asked), so time-based filters agree within a request."""
        found = self.__dict__.get("_viewer")
        if found is None:
            found = self.__dict__["_viewer"] = Viewer.of(self.principal, now=self.clock())
        return found

    def by_id(self, table: Table) -> DataLoader:
        return self.loader(("id", table.name), lambda: RowsByIdLoader(self.engine, table, viewer=self.viewer))

    def children(self, table: Table, fk: str, order_by: tuple = (), where: Any = None, tag: str = "") -> DataLoader:
        key = ("fk", table.name, fk, tag)
        return self.loader(
            key, lambda: RowsByParentLoader(self.engine, table, fk, order_by, where, cache_key=key, viewer=self.viewer)
        )

    def linked(self, link: Table, left: str, right: str, target: Table, order_by: tuple = ()) -> DataLoader:
        return self.loader(
            ("link", link.name, left),
            lambda: RowsThroughLinkLoader(self.engine, link, left, right, target, order_by, viewer=self.viewer),
        )
