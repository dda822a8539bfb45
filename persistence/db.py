from __future__ import annotations

import os
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./salesgraph.sqlite3"


@dataclass
class QueryStats:
    """SQL statements and database time of one request (shown in Server-Timing)."""

    statements: int = 0
    seconds: float = 0.0
    _started: dict[int, float] = field(default_factory=dict)


current_stats: ContextVar[QueryStats | None] = ContextVar("current_stats", default=None)


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite://` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def database_url() -> str:
    return normalize_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))


def _count_statements(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        stats = current_stats.get()
        if stats is not None:
            stats._started[id(cursor)] = time.perf_counter()

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        stats = current_stats.get()
        if stats is not None:
            started = stats._started.pop(id(cursor), None)
            stats.statements += 1
            if started is not None:
                stats.seconds += time.perf_counter() - started


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def create_engine(url: str | None = None) -> AsyncEngine:
    url = normalize_url(url) if url else database_url()
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=8, max_overflow=16)
        _sqlite_pragmas(engine)
    else:
        engine = create_async_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=False)
    _count_statements(engine)
    return engine


async def ping(conn: AsyncConnection) -> None:
    from sqlalchemy import text

    await conn.execute(text("SELECT 1"))
