"""Per-request dataloaders. Each batch takes a connection from its source for its statement: the
operation's own connection (a query: `Context.shared_reads`, on which concurrent batches take turns) or
a pooled one; never an AsyncSession or connection shared by tasks without turns.
`fetch(keys, columns)` is the batch with only the columns a breadth-first level needs."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Table

from persistence import reads
from persistence.db import ConnectionSource
from persistence.pages import Window
from persistence.visibility import Viewer

EVERYTHING = Viewer.everything()


class RowsByIdLoader(DataLoader):
    """A table's rows by primary key (None for ids that do not exist)."""

    def __init__(self, source: ConnectionSource, table: Table, key: str = "id", viewer: Viewer = EVERYTHING) -> None:
        super().__init__()
        self.source, self.table, self.key, self.viewer = source, table, key, viewer

    async def batch_load_fn(self, keys: Sequence[Any]) -> list:
        return await self.fetch(keys)

    async def fetch(self, keys: Sequence[Any], columns: tuple[str, ...] | None = None) -> list:
        async with self.source.connect() as conn:
            return await reads.rows_by_ids(conn, self.table, keys, self.key, columns, self.viewer)


class RowsByParentLoader(DataLoader):
    """All rows of `table` whose `fk` is the key, for relations that stay small."""

    def __init__(
        self,
        source: ConnectionSource,
        table: Table,
        fk: str,
        order_by: Sequence[ColumnElement] = (),
        where: ColumnElement | None = None,
        cache_key: Hashable | None = None,
        viewer: Viewer = EVERYTHING,
    ) -> None:
        super().__init__()
        self.source, self.table, self.fk, self.order_by, self.where = source, table, fk, order_by, where
        self.cache_key, self.viewer = cache_key, viewer

    async def batch_load_fn(self, keys: Sequence[Any]) -> list:
        return await self.fetch(keys)

    async def fetch(self, keys: Sequence[Any], columns: tuple[str, ...] | None = None) -> list:
        async with self.source.connect() as conn:
            return await reads.rows_by_fk(
                conn, self.table, self.fk, keys, self.order_by, self.where, self.cache_key, columns, self.viewer
            )


class RowsThroughLinkLoader(DataLoader):
    """Many-to-many: rows of `target` linked to the key through `link`."""

    def __init__(
        self,
        source: ConnectionSource,
        link: Table,
        left: str,
        right: str,
        target: Table,
        order_by: Sequence[ColumnElement] = (),
        viewer: Viewer = EVERYTHING,
    ) -> None:
        super().__init__()
        self.source, self.link, self.left, self.right, self.target = source, link, left, right, target
        self.order_by, self.viewer = order_by, viewer

    async def batch_load_fn(self, keys: Sequence[Any]) -> list:
        return await self.fetch(keys)

    async def fetch(self, keys: Sequence[Any], columns: tuple[str, ...] | None = None) -> list:
        async with self.source.connect() as conn:
            return await reads.rows_through(
                conn, self.link, self.left, self.right, self.target, keys, self.order_by, columns, self.viewer
            )


class PagesByParentLoader(DataLoader):
    """One connection page per parent, all parents in one windowed statement."""

    def __init__(
        self,
        source: ConnectionSource,
        table: Table,
        fk: str,
        window: Window,
        order_by: Sequence[ColumnElement],
        where: Sequence[ColumnElement],
        cache_key: Hashable | None = None,
        viewer: Viewer = EVERYTHING,
    ) -> None:
        super().__init__()
        self.source, self.table, self.fk, self.window = source, table, fk, window
        self.order_by, self.where, self.cache_key, self.viewer = order_by, where, cache_key, viewer

    async def batch_load_fn(self, keys: Sequence[Any]) -> list:
        return await self.fetch(keys)

    async def fetch(self, keys: Sequence[Any], columns: tuple[str, ...] | None = None) -> list:
        async with self.source.connect() as conn:
            return await reads.pages_by_fk(
                conn,
                self.table,
                self.fk,
                keys,
                self.window,
                self.order_by,
                self.where,
                self.cache_key,
                columns,
                self.viewer,
            )


class UsablePriceBooksLoader(DataLoader):
    """The price books a quote for an account may be priced from, by (account id, country)."""

    def __init__(self, source: ConnectionSource, viewer: Viewer = EVERYTHING) -> None:
        super().__init__()
        self.source, self.viewer = source, viewer

    async def batch_load_fn(self, keys: Sequence[Any]) -> list:
        from persistence.catalog import usable_price_books

        async with self.source.connect() as conn:
            return await usable_price_books(conn, keys, self.viewer)
