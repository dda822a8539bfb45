"""Catalog storage that is not an entity: the global exchange rates, keyed by currency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert

from domain.catalog import ExchangeRate
from persistence import tables as t
from persistence.uow import SqlUnitOfWork


class SqlExchangeRates:
    """Writes rates in the transaction of a unit of work (implements domain ExchangeRateBook)."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def write(self, rate: ExchangeRate, at: datetime) -> None:
        rates = t.exchange_rates
        # Delete and insert rather than a dialect-specific upsert: one statement pair on both databases.
        await self.uow.execute(delete(rates).where(rates.c.currency == rate.currency))
        await self.uow.execute(insert(rates).values(currency=rate.currency, rate=rate.rate, updated_at=at))
