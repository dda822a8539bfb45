"""The indicator scheduler: time-based rules flip on their own. It re-evaluates only the (monitor,
entity) pairs whose due time has come, one process of a deployment at a time. It also moves contracts
along their dates (issue 18): an active contract whose end has passed is ended (EXPIRED, or CANCELLED
when terminated early) and one whose end is within the notice period is announced, each with its event.

Apart from persistence/indicators.py because it runs its passes in a unit of work, while the unit of
work calls persistence/indicators.py at every commit: in one module the two imported each other."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.base import utcnow
from domain.contracts import NOTICE_DAYS, Contract, end_of_day
from domain.enums import ContractStatus
from domain.workflows import contracts as contract_flows
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
        notice_days: int = NOTICE_DAYS,
    ) -> None:
        self.engine, self.clock, self.on_events, self.max_sleep = engine, clock, on_events, max_sleep
        self.notice_days = notice_days
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self, now: datetime | None = None) -> int:
        """Re-evaluate the (monitor, entity) pairs due at or before `now` (default: the clock's time)
        in one transaction per batch, which also writes the indicator events to the outbox; then call
        `on_events`. Returns how many pairs were re-evaluated."""

        moment = now or self.clock()
        done = await self.run_contracts(moment)
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

    async def run_contracts(self, moment: datetime) -> int:
        """End the active contracts whose end has passed at `moment` and announce those whose end is within
        the notice period (in batches, one transaction each, the events in the same transaction): the
        contract workflows decide what each becomes. Returns how many contracts changed."""
        c = tables.contracts
        # A date is over at 00:00 UTC of the next day: ended when ends_on < today, announced when
        # ends_on < today + notice days.
        today = moment.date()
        done = 0
        while True:
            async with SqlUnitOfWork(self.engine, clock=lambda: moment, on_commit=self.on_events) as uow:
                await lock(uow.c)  # schedulers take turns: two never end the same contract
                rows = list(
                    await uow.c.execute(
                        select(c.c.id)
                        .where(
                            c.c.status == ContractStatus.ACTIVE.value,
                            c.c.ends_on < today + timedelta(days=self.notice_days),
                        )
                        .where(
                            or_(
                                c.c.ends_on < today,
                                c.c.expiry_noticed_for.is_(None),
                                c.c.expiry_noticed_for != c.c.ends_on,
                            )
                        )
                        .order_by(c.c.ends_on, c.c.id)
                        .limit(BATCH)
                    )
                )
                if not rows:
                    return done
                for row in rows:
                    contract = await uow.get(Contract, row.id)
                    if contract.is_over(moment):
                        await contract_flows.end_contract(uow, contract)
                    elif contract.notice_at(self.notice_days) is not None:
                        await contract_flows.announce_expiry(uow, contract, self.notice_days)
                await uow.commit()
            done += len(rows)
            if len(rows) < BATCH:
                return done

    async def next_due(self) -> datetime | None:
        """The next instant something is due: an indicator's due time, a contract's end or its notice."""
        c = tables.contracts
        active = c.c.status == ContractStatus.ACTIVE.value
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        select(func.min(tables.indicator_due_times.c.due_at)).scalar_subquery(),
                        select(func.min(c.c.ends_on)).where(active).scalar_subquery(),
                        select(func.min(c.c.ends_on))
                        .where(active, or_(c.c.expiry_noticed_for.is_(None), c.c.expiry_noticed_for != c.c.ends_on))
                        .scalar_subquery(),
                    )
                )
            ).one()
        moments = [row[0]]
        if row[1] is not None:
            moments.append(end_of_day(row[1]))
        if row[2] is not None:
            moments.append(end_of_day(row[2]) - timedelta(days=self.notice_days))
        found = [m for m in moments if m is not None]
        return min(found) if found else None

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
