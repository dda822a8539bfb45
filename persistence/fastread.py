"""The hot read path on PostgreSQL: a cached read statement, compiled once per process, run on the asyncpg
connection under SQLAlchemy's, without SQLAlchemy's execution machinery (its async bridge, its per-execution
context and result objects), which was about a quarter of the CPU of a small query.

SQLAlchemy still builds and compiles the statement, and converts the parameters and the values with its
own types' processors, so a row holds exactly what `AsyncConnection.execute` gives. Every other case takes
that way: SQLite, PgBouncer (`db.pooler`), a connection in a transaction (the driver would be asked outside
it), and any listener on the engine's statements besides our statement count (tracing, or a test that
records the SQL), so that whatever watches statements sees every one."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.db import current_stats, pooler

Processor = Callable[[Any], Any] | None


class _Plan:
    """A statement compiled for asyncpg: its text, the parameters in their order with their processors,
    and the row type of its result (a tuple with the columns as attributes, like SQLAlchemy's rows)."""

    __slots__ = ("supported", "sql", "names", "binds", "fixed", "types", "results", "row")

    def __init__(self, stmt: Select, dialect: Any) -> None:
        compiled = stmt.compile(dialect=dialect)
        # A parameter SQLAlchemy renders into the text per execution (an IN list of values) needs its
        # execution machinery: such a statement (`supported` False) goes through it.
        self.supported = not (compiled.post_compile_params or compiled.literal_execute_params)
        self.sql: str = compiled.string
        self.names: list[str] = list(compiled.positiontup or ())
        processors = compiled._bind_processors
        self.binds: list[Processor] = [processors.get(name) for name in self.names]
        # The values the statement carries itself (a page's bounds): the caller's parameters are the rest.
        carried = compiled.construct_params(_check=False) if self.supported else {}
        self.fixed: dict[str, Any] = {
            name: carried[name] for name in self.names if self.supported and not compiled.binds[name].required
        }
        self.types = [c.type for c in compiled._result_columns]
        self.results: list[Processor] | None = None  # known once the database has described the result
        self.row = _row_type(tuple(c.keyname for c in compiled._result_columns))

    async def first_run(self, driver: asyncpg.Connection, dialect: Any, args: list[Any]) -> list[Any]:
        """Run the statement for the first time, prepared, and learn from it the value processors of its
        columns: a processor depends on the type the database gives the column (as SQLAlchemy asks it of
        the cursor's description). Later runs go through asyncpg's statement cache."""
        prepared = await driver.prepare(self.sql)
        oids = [attribute.type.oid for attribute in prepared.get_attributes()]
        results = [t._cached_result_processor(dialect, oid) for t, oid in zip(self.types, oids, strict=True)]
        records = await prepared.fetch(*args)
        self.results = results if any(results) else []
        return records


def _row_type(fields: tuple[str, ...]) -> type:
    """A tuple type whose columns are also attributes (`row.id`), with `_fields` and `_mapping` as
    SQLAlchemy's Row has them."""
    namespace: dict[str, Any] = {
        "__slots__": (),
        "_fields": fields,
        "_mapping": property(lambda row: dict(zip(fields, row, strict=True))),
    }
    for index, name in enumerate(fields):
        namespace[name] = property(itemgetter(index))
    return type("Row", (tuple,), namespace)


_plans: dict[int, tuple[Select, _Plan]] = {}


def _plan(stmt: Select, dialect: Any) -> _Plan:
    found = _plans.get(id(stmt))
    if found is None or found[0] is not stmt:
        if len(_plans) > 5_000:
            _plans.clear()
        found = _plans[id(stmt)] = (stmt, _Plan(stmt, dialect))
    return found[1]


def _driver(conn: AsyncConnection) -> asyncpg.Connection | None:
    """The asyncpg connection under `conn` when a statement may run on it directly: an open connection
    in autocommit whose engine has no listener on statements but the statement count."""
    if conn.dialect.name != "postgresql" or pooler() is not None:
        return None
    sync = conn.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return None
    if len(sync.engine.dispatch.before_cursor_execute) > 1 or len(sync.engine.dispatch.after_cursor_execute) > 1:
        return None
    adapted = sync.connection.dbapi_connection
    if adapted is None or not getattr(adapted, "autocommit", False):
        return None
    return adapted.driver_connection


async def fetch(conn: AsyncConnection, stmt: Select, parameters: dict[str, Any], cached: bool) -> Sequence[Any]:
    """The rows of `stmt` with `parameters`; `cached`: the statement is built once per process
    (`reads.statement`), so its compiled form is worth keeping."""
    driver = _driver(conn) if cached else None
    plan = _plan(stmt, conn.dialect) if driver is not None else None
    if plan is None or not plan.supported:
        return list(await conn.execute(stmt, parameters))
    values = {**plan.fixed, **parameters} if plan.fixed else parameters
    args = [
        value if process is None else process(value)
        for process, value in zip(plan.binds, (values[name] for name in plan.names), strict=True)
    ]
    stats = current_stats.get()
    started = time.perf_counter()
    try:
        if plan.results is None:
            records = await plan.first_run(driver, conn.dialect, args)
        else:
            records = await driver.fetch(plan.sql, *args)
        results = plan.results
    except (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError):
        with contextlib.suppress(Exception):  # the error to report is the one above
            await conn.invalidate()  # the pool must not hand this connection out again
        raise
    finally:
        if stats is not None:
            stats.statements += 1
            stats.seconds += time.perf_counter() - started
    make = plan.row
    if not results:
        return [make(record) for record in records]
    return [
        make([value if process is None else process(value) for process, value in zip(results, record, strict=True)])
        for record in records
    ]
