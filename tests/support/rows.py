"""Whole tables read as they are, for tests that compute what a caller should see in plain Python."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from persistence import tables


async def table_rows(engine: Any, *names: str) -> dict[str, list]:
    """Every row of each named table (`persistence.tables`' names), in one connection."""
    rows = {}
    async with engine.connect() as conn:
        for name in names:
            rows[name] = list(await conn.execute(select(getattr(tables, name))))
    return rows
