"""The opportunity stage catalogue (domain/stages.py): read once per process and database, kept until a stage
changes, and the SQL that asks a stage's kind.

- Python rules (workflows, the scoreboard's buckets, indicators, the funnel's order) ask a `StageCatalog`:
  `catalog(engine)` answers from this process's copy, so a request that needs it costs no statement once
  the process has read it (the app reads it at start-up).
- A committed change to a stage clears the copy of the process that made it before the mutation answers
  (`SqlUnitOfWork.commit`), and every other process's copy when the outbox's `OpportunityStage` event reaches
  its event hub (gql/app.py, `follow_stages`): with Redis at once, without it within SALESGRAPH_EVENT_RESYNC_SECONDS. A stage
  edited in the database by hand is seen after a restart.
- A read that began before a clearing does not keep its answer: each clearing moves `_generation` on.
- SQL never reads the copy: a statement that asks "is it open / won / lost" tests the stage against the
  keys of that kind in `opportunity_stages` itself (`keys_of`), a subquery of the same statement, so it is
  right in every process at every moment and costs no statement of its own."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.stages import OpportunityStage, StageCatalog, StageKind
from persistence import tables
from persistence.mapping import from_row

ENTITY_TYPE = "OpportunityStage"

s = tables.opportunity_stages
_copies: weakref.WeakKeyDictionary[Any, StageCatalog] = weakref.WeakKeyDictionary()
_generation = 0


def keys_of(*kinds: StageKind | str) -> Any:
    """The keys of the stages of these kinds, as a subquery: `o.c.stage.in_(keys_of(StageKind.OPEN))`."""
    return select(s.c.key).where(s.c.kind.in_([getattr(k, "value", k) for k in kinds])).scalar_subquery()


async def read(conn: AsyncConnection) -> StageCatalog:
    """The catalogue as `conn` sees it now (one statement)."""
    rows = await conn.execute(select(s).order_by(s.c.position, s.c.key))
    return StageCatalog(from_row(OpportunityStage, row) for row in rows)  # type: ignore[misc]


def _owner(engine: AsyncEngine) -> Any:
    return engine.sync_engine


def cached(engine: AsyncEngine) -> StageCatalog | None:
    return _copies.get(_owner(engine))


async def catalog(engine: AsyncEngine, conn: AsyncConnection | None = None) -> StageCatalog:
    """This process's copy of the catalogue of `engine`'s database, read (through `conn` when given) if it has
    none."""
    found = _copies.get(_owner(engine))
    if found is not None:
        return found
    generation = _generation
    if conn is not None:
        found = await read(conn)
    else:
        async with engine.connect() as own:
            found = await read(own)
    if generation == _generation:
        _copies[_owner(engine)] = found
    return found


def forget() -> None:
    """Clear every copy: a stage changed (in this process, or in another one as the outbox tells)."""
    global _generation
    _generation += 1
    _copies.clear()


def kind_of(stage: Any) -> Any:
    """The kind of the stage in `stage` (a column of the outer statement), as a correlated subquery."""
    return select(s.c.kind).where(s.c.key == stage).scalar_subquery()
