from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
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
from persistence.db import ConnectionSource, SharedReads, read_engine
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
    # Awaited after a commit that changed a token, a user or a partner: clears every process's cache of
    # token lookups before the mutation answers (gql/token_cache.py).
    credentials_changed: Callable[[], Awaitable[None]] | None = None
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

    @property
    def reads(self) -> ConnectionSource:
        """Where this operation's reads get their connection: within `shared_reads` (a query) one
        connection for all of them, otherwise a pooled connection per statement; in autocommit either way
        (`persistence.db.read_engine`). Writes go through a unit of work on `engine`."""
        found = self.__dict__.get("_reads")
        if found is None:
            found = self.__dict__["_reads"] = read_engine(self.engine)
        return found

    @contextlib.asynccontextmanager
    async def shared_reads(self) -> AsyncIterator[None]:
        """Run the block's reads on one connection, given back to the pool when the block ends."""
        shared = SharedReads(self.engine)
        self.__dict__["_reads"] = shared
        try:
            yield
        finally:
            self.__dict__.pop("_reads", None)
            await shared.close()

    def by_id(self, table: Table) -> DataLoader:
        return self.loader(("id", table.name), lambda: RowsByIdLoader(self.reads, table, viewer=self.viewer))

    def children(self, table: Table, fk: str, order_by: tuple = (), where: Any = None, tag: str = "") -> DataLoader:
        key = ("fk", table.name, fk, tag)
        return self.loader(
            key, lambda: RowsByParentLoader(self.reads, table, fk, order_by, where, cache_key=key, viewer=self.viewer)
        )

    def linked(self, link: Table, left: str, right: str, target: Table, order_by: tuple = ()) -> DataLoader:
        return self.loader(
            ("link", link.name, left),
            lambda: RowsThroughLinkLoader(self.reads, link, left, right, target, order_by, viewer=self.viewer),
        )
