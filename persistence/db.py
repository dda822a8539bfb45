from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

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


def pooler() -> str | None:
    """SALESGRAPH_DATABASE_POOLER=pgbouncer: PostgreSQL is reached through PgBouncer in transaction
    pooling mode (any other value, or none: directly)."""
    value = os.environ.get("SALESGRAPH_DATABASE_POOLER", "").strip().lower()
    if value in ("", "none", "off"):
        return None
    if value != "pgbouncer":
        raise SystemExit(f"SALESGRAPH_DATABASE_POOLER={value!r}: the one pooler known is pgbouncer")
    return value


def pooler_connect_args() -> dict[str, Any]:
    """asyncpg's settings for PgBouncer's transaction pooling, where consecutive transactions of one client
    connection may run on different server connections: no prepared statement is kept past its use
    (neither asyncpg's cache nor SQLAlchemy's), and each gets a name no other client's can take. Everything
    else Salesgraph does works there unchanged: its locks are transaction-level advisory locks
    (`pg_advisory_xact_lock`), it sets no session state, and it does not LISTEN (events go through the
    outbox and the bus)."""
    if pooler() is None:
        return {}
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__salesgraph_{uuid.uuid4().hex}__",
    }


def create_engine(url: str | None = None) -> AsyncEngine:
    url = normalize_url(url) if url else database_url()
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=8, max_overflow=16)
        _sqlite_pragmas(engine)
    else:
        # A read connection (autocommit, `read_engine`) goes back to the pool without a ROLLBACK.
        engine = create_async_engine(
            url,
            pool_size=10,
            max_overflow=30,
            pool_pre_ping=False,
            skip_autocommit_rollback=True,
            connect_args=pooler_connect_args(),
        )
    _count_statements(engine)
    return engine


def probe_engine(engine: AsyncEngine) -> AsyncEngine:
    """An engine of one connection to `engine`'s database, for the readiness probe: when the load holds
    every connection of the main pool (a reconnect storm after another process died), the probe still
    answers at once whether the database is reachable, instead of waiting for the pool (30 s) while the
    load balancer's check times out and takes the process out."""
    probe = create_async_engine(
        engine.url, pool_size=1, max_overflow=0, pool_timeout=5, connect_args=pooler_connect_args()
    )
    _count_statements(probe)
    return probe


class ConnectionSource(Protocol):
    """Where reads get a connection: `async with source.connect() as conn` (an engine, or `SharedReads`)."""

    def connect(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


_read_engines: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """`engine` for reads that need no transaction: on PostgreSQL its connections in autocommit, so a
    statement runs alone, without the BEGIN and ROLLBACK around it (one round trip instead of three).
    Each statement still sees what was committed when it began, as it did in a transaction of its own.
    On SQLite `engine` itself: the driver begins a transaction only before a write, so reads run alone
    already (and switching a connection to autocommit would cost a trip to its thread). Behind PgBouncer
    (`pooler`) `engine` itself too."""
    if engine.dialect.name == "sqlite" or pooler() is not None:
        # Behind PgBouncer's transaction pooling an autocommit statement may be prepared on one server
        # connection and run on another: reads run in transactions there.
        return engine
    found = _read_engines.get(engine)
    if found is None:
        found = _read_engines[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


class SharedReads:
    """One connection for every read of one operation (a query): taken from the pool at the first read,
    in autocommit (`read_engine`), and given back by `close()`, instead of a pool checkout and return per
    statement. Sibling fields load concurrently and one connection runs one statement at a time, so
    statements take turns on it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = read_engine(engine)
        self._conn: AsyncConnection | None = None
        self._turn = asyncio.Lock()
        self._closed = False

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self._turn:
            if self._closed:
                # A batch that outlived its operation (a sibling of a field that failed, left running by
                # the executor): a pooled connection of its own, given back when it is done.
                async with self._engine.connect() as conn:
                    yield conn
                return
            if self._conn is None:
                self._conn = await self._engine.connect()
            try:
                yield self._conn
            finally:
                if self._closed:  # the operation ended meanwhile (its time ran out): give it back now
                    await self._give_back()

    async def close(self) -> None:
        """Give the connection back, at once if no statement runs on it, else when that one is done (the
        operation need not wait for a statement that outlived it)."""
        self._closed = True
        if not self._turn.locked():
            await self._give_back()

    async def _give_back(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


def unreachable(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) says the database could not be reached or dropped the
    connection: refused, reset, shut down or starting up (a restart), as opposed to a failing statement.
    SQLAlchemy marks a connection it found dead (`connection_invalidated`); asyncpg raises its
    connection errors, ConnectionError (refused, reset), or the server's "admin shutdown" and "cannot
    connect now" (57P01-57P03)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if getattr(error, "connection_invalidated", False) or isinstance(error, ConnectionError):
            return True
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")):
            return True  # connection exceptions; admin shutdown, crash shutdown, cannot connect now
        if type(error).__name__ in ("ConnectionDoesNotExistError", "InterfaceError") and "closed" in str(error):
            return True  # asyncpg: the connection was closed under a statement
        if type(error).__name__ == "PendingRollbackError" and "Can't reconnect" in str(error):
            return True  # SQLAlchemy: a connection found dead earlier in the same operation
        error = error.__cause__ or error.__context__
    return False


def pool_exhausted(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is SQLAlchemy's pool timing out: every connection of this
    process's pool stayed in use for `pool_timeout` (a burst of work, say every client of a process that
    died resuming here at once)."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, PoolTimeout):
            return True
        error = error.__cause__ or error.__context__
    return False


async def ping(conn: AsyncConnection) -> None:
    from sqlalchemy import text

    await conn.execute(text("SELECT 1"))
