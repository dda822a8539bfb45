"""The Alembic migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import command

from persistence.migrate import alembic_config


async def test_the_migrated_database_matches_the_declared_tables(backend):
    # `alembic check` raises when autogenerate finds any difference between the database and the tables.
    await asyncio.to_thread(command.check, alembic_config(backend.url))


async def test_the_id_of_a_deleted_row_is_never_given_again(writable):
    """History and events refer to (type, id): a new account must not inherit a deleted one's."""
    from sqlalchemy import delete, insert

    from persistence import tables

    row = {"kind": "ORGANIZATION", "name": "Short-lived AS", "category_group": "PROSPECT", "custom_fields": {}}
    async with writable.engine.begin() as conn:
        first = (await conn.execute(insert(tables.accounts).values(**row).returning(tables.accounts.c.id))).scalar_one()
        await conn.execute(delete(tables.accounts).where(tables.accounts.c.id == first))
        second = (
            await conn.execute(insert(tables.accounts).values(**row).returning(tables.accounts.c.id))
        ).scalar_one()
    assert second > first
