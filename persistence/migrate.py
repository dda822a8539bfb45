"""Apply the Alembic migrations (from code, so no alembic.ini is needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from persistence.db import normalize_url


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    """Run from inside an event loop: Alembic's env runs its own loop, so give it a thread."""
    await asyncio.to_thread(upgrade, url)


async def check_current(engine: AsyncEngine) -> None:
    """Refuse to serve a database that is behind the code's migrations, with what to do about it."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    head = ScriptDirectory.from_config(
        alembic_config(engine.url.render_as_string(hide_password=False))
    ).get_current_head()
    async with engine.connect() as conn:  # a database that cannot be reached fails here, as itself
        try:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except DBAPIError:
            current = None
    if current != head:
        raise RuntimeError(
            f"the database {engine.url.render_as_string(hide_password=True)} is at migration "
            f"{current or 'none'}, the code needs {head}: run `salesgraph migrate` first"
        )
