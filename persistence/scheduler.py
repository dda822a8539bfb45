"""The indicator scheduler: time-based rules flip on their own. It re-evaluates only the (monitor,
entity) pairs whose due time has come, one process of a deployment at a time.

Apart from persistence/indicators.py because it runs its passes in a unit of work, while the unit of
work calls persistence/indicators.py at every commit: in one module the two imported each other."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.base import utcnow
from persistence import tables
from persistence.indicators import load_monitors, lock, reevaluate
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("salesgraph.indicators")
BATCH = 1000  # due pairs per transaction


class IndicatorScheduler:
    """Flips time-based indicators when their time comes. Run `run()` as a task (one per process is
    safe: runs queue on a deployment-wide lock); `wake()` after a commit that may have brought a due
    time closer; `run_due(now)` does one pass (tests call it with their own clock)."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Callable[[], datetime] = utcnow,
        on_events: Callable[[], None] | None = None,
        max_sleep: float = 10.0,
    ) -> None:
        self.engine, self.clock, self.on_events, self.max_sleep = engine, clock, on_events, max_sleep
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self, now: datetime | None = None) -> int:
        """Re-evaluate the (monitor, entity) pairs due at or before `now` (default: the clock's time)
        in one transaction per batch, which also writes the indicator events to the outbox; then call
        `on_events`. Returns how many pairs were re-evaluated."""

        moment = now or self.clock()
        done = 0
        while True:
            async with SqlUnitOfWork(self.engine, clock=lambda: moment, on_commit=self.on_events) as uow:
                await lock(uow.c)
                d = tables.indicator_due_times
                rows = list(
                    await uow.c.execute(
                        select(d.c.monitor_id, d.c.entity_type, d.c.entity_id)
                        .where(d.c.due_at <= moment)
                        .order_by(d.c.due_at)
                        .limit(BATCH)
                    )
                )
                if not rows:
                    return done
                scope: dict[int, set[int] | None] = defaultdict(set)
                for r in rows:
                    scope[r.monitor_id].add(r.entity_id)  # type: ignore[union-attr]
                monitors = {m.id: m for m in (await load_monitors(uow.c, set(scope))).values() if m.id in scope}
                for monitor in monitors.values():
                    if monitor.entity_type is None:
                        scope[monitor.id] = None  # gone without the unit of work: clear all it left
                uow.events.extend(await reevaluate(uow.c, monitors, dict(scope), moment))
                # A due time is always after the evaluation's time: one still due is stale (its pair no
                # longer matches its monitor); dropping it keeps the loop from coming back to it.
                await uow.c.execute(
                    delete(d).where(
                        d.c.due_at <= moment,
                        tuple_(d.c.monitor_id, d.c.entity_type, d.c.entity_id).in_(
                            [(r.monitor_id, r.entity_type, r.entity_id) for r in rows]
                        ),
                    )
                )
                await uow.commit()
            done += len(rows)
            if len(rows) < BATCH:
                return done

    async def next_due(self) -> datetime | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.min(tables.indicator_due_times.c.due_at)))).scalar()

    async def run(self) -> None:
        while True:
            wait = self.max_sleep
            try:
                await self.run_due()
                upcoming = await self.next_due()
                if upcoming is not None:
                    wait = min(wait, max(0.0, (upcoming - self.clock()).total_seconds()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("flipping due status indicators failed; retrying")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()
