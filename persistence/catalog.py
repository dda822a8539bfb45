"""Catalog storage that is not an entity (the global exchange rates, keyed by currency), and the price books an
account may use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, exists, insert, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.catalog import ExchangeRate, countries_of
from persistence import tables
from persistence.uow import SqlUnitOfWork
from persistence.visibility import Viewer


class SqlExchangeRates:
    """Writes rates in the transaction of the unit of work it is given (implements domain ExchangeRateBook)."""

    async def write(self, uow: SqlUnitOfWork, rate: ExchangeRate, at: datetime) -> None:
        rates = tables.exchange_rates
        # Delete and insert rather than a dialect-specific upsert: one statement pair on both databases.
        await uow.execute(delete(rates).where(rates.c.currency == rate.currency))
        await uow.execute(insert(rates).values(currency=rate.currency, rate=rate.rate, updated_at=at))


async def usable_price_books(
    conn: AsyncConnection, accounts: Sequence[tuple[int, str | None]], viewer: Viewer
) -> list[list[Row]]:
    """The price books a quote for each (account id, country) may be priced from: the active books the viewer may
    see that are for every customer or linked to the account, and whose regions include its country; by name. Two
    statements for any number of accounts (the catalog's books are few: they are filtered here)."""
    b, links = tables.price_books, tables.price_book_accounts
    rule = viewer.rule(b)
    restricted = exists().where(links.c.price_book_id == b.c.id).label("_restricted")
    books = list(
        await conn.execute(
            select(b, restricted)
            .where(b.c.active == true(), *([rule] if rule is not None else []))
            .order_by(b.c.name, b.c.id),
            viewer.params,
        )
    )
    linked: set[tuple[int, int]] = set()
    if any(book._restricted for book in books):
        keys = list({account for account, _ in accounts})
        for row in await conn.execute(
            select(links.c.price_book_id, links.c.account_id).where(links.c.account_id.in_(keys))
        ):
            linked.add((row.price_book_id, row.account_id))
    covered = {book.id: countries_of(book.regions or []) for book in books}
    found = []
    for account, country in accounts:
        where = (country or "").strip().upper()
        found.append(
            [
                book
                for book in books
                if (not book._restricted or (book.id, account) in linked)
                and (not book.regions or where in covered[book.id])
            ]
        )
    return found
