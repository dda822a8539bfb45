"""The Alembic migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio

from alembic import command

from persistence.migrate import alembic_config


async def test_the_migrated_database_matches_the_declared_tables(backend):
    # `alembic check` raises when autogenerate finds any difference between the database and the tables.
    await asyncio.to_thread(command.check, alembic_config(backend.url))
