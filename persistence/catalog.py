"""Catalog storage that is not an entity: the global exchange rates, keyed by currency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert

from domain.catalog import ExchangeRate
from persistence import tables
from persistence.uow import SqlUnitOfWork


class SqlExchangeRates:
    """Writes rates in the transaction of the unit of work it is given (implements domain ExchangeRateBook)."""

    async def write(self, uow: SqlUnitOfWork, rate: ExchangeRate, at: datetime) -> None:
        rates = tables.exchange_rates
        # Delete and insert rather than a dialect-specific upsert: one statement pair on both databases.
        await uow.execute(delete(rates).where(rates.c.currency == rate.currency))
        await uow.execute(insert(rates).values(currency=rate.currency, rate=rate.rate, updated_at=at))
