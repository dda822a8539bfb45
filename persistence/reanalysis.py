"""The background re-analysis: after the tracked terms change, every conversation analysed with older
terms is analysed again, a batch per transaction, off the request that changed them.

Nothing is queued: what is left is what the database says is stale (an analysis whose terms' revision is
older than the current one), so a change committed just before the process stopped is picked up by the
next process to run; the term's event (the outbox) and each commit wake the worker, and it also polls.
Each batch commits with an event (`ConversationsReanalysed`) telling how many are left. One process of a
deployment works at a time (a PostgreSQL advisory lock; on SQLite the unit of work's writer lock)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.base import utcnow
from domain.events import ConversationsReanalysed
from domain.sentiment import SentimentScorer, builtin_scorer
from domain.workflows.conversations import reanalyse_conversation
from persistence import conversations
from persistence.conversations import SqlConversationStore
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("salesgraph.reanalysis")
BATCH = 20  # conversations per transaction: short enough not to hold up recordings (SQLite has one writer)
_LOCK = 0x5A1E_A7A  # one re-analysing process at a time, deployment-wide


class Reanalyser:
    """Run `run()` as a task; `wake()` after a commit that may have changed the terms; `run_pending()`
    does everything that is stale now (tests call it). `stop()` ends `run()` between two conversations,
    rolling back the batch under way: a task cancelled inside a transaction can leave its connection
    holding SQLite's write lock, so shutdown asks instead of cancelling."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Callable[[], datetime] = utcnow,
        on_events: Callable[[], None] | None = None,
        scorer: SentimentScorer | None = None,
        poll_seconds: float = 10.0,
        batch: int = BATCH,
    ) -> None:
        self.engine, self.clock, self.on_events = engine, clock, on_events
        self.scorer = scorer
        self.poll_seconds, self.batch = poll_seconds, batch
        self.store = SqlConversationStore()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run_pending(self) -> int:
        """Analyse again every conversation analysed with older terms, a batch per transaction, in id order;
        returns how many. A term changed meanwhile makes the ones done before it stale again: the run starts
        over with the new revision."""
        done, after, revision, remaining = 0, 0, None, 0
        while not self._stopping.is_set():
            batch = await self.run_batch(after, revision, remaining)
            if batch is None:
                break
            analysed, after, revision, remaining = batch
            done += analysed
        return done

    async def run_batch(
        self, after: int = 0, previous: int | None = None, remaining: int = 0
    ) -> tuple[int, int, int, int] | None:
        """One batch: (how many, the last id, the revision, about how many are left), or None when nothing
        is stale (or another process is at it, or the worker is stopping)."""
        scorer = self.scorer or builtin_scorer()
        async with SqlUnitOfWork(self.engine, clock=self.clock, on_commit=self.on_events) as uow:
            if self.engine.dialect.name == "postgresql":
                locked = (await uow.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK})).scalar()
                if not locked:
                    return None  # another process is at it
            revision = await conversations.terms_revision(uow.c)
            if revision != previous:  # the first batch of this revision: from the start, and count what is left
                after = 0
                remaining = await conversations.count_stale(uow.c, revision)
            ids = await conversations.stale(uow.c, revision, after, self.batch)
            if not ids:
                return None
            for conversation_id in ids:
                if self._stopping.is_set():
                    return None  # leaving without a commit rolls the batch back
                await reanalyse_conversation(conversation_id, uow, self.store, scorer)
            remaining = max(0, remaining - len(ids))
            uow.record(
                ConversationsReanalysed(
                    entity_id=revision,
                    data={"termsRevision": revision, "analysed": len(ids), "remaining": remaining},
                )
            )
            await uow.commit()
        return len(ids), ids[-1], revision, remaining

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("analysing conversations again failed; retrying")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
