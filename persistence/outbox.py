"""The outbox dispatcher: publishes committed domain events to the event bus, in order, and marks
them sent. Events are written, and numbered, by the unit of work in the transaction that made the
change, so a rolled-back change publishes nothing, and an event committed just before the process
died is published by the next dispatcher to run (at least once; consumers skip ids they have seen)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.base import utcnow
from persistence import tables
from persistence.locks import EVENT_NUMBERING_LOCK
from persistence.uow import _sqlite_write_locks, current_traceparent

log = logging.getLogger("salesgraph.outbox")

CHANNEL = "salesgraph.events"
BATCH = 500
# Any constant shared by every process of a deployment: one dispatcher at a time publishes. (Numbering
# has its own lock, EVENT_NUMBERING_LOCK, so commits never wait for a publish.)
_PUBLISHING_LOCK = 0x5A1E5_0B1


def retention() -> timedelta:
    """How long published events stay in the outbox for clients that resume with `since`
    (SALESGRAPH_EVENT_RETENTION_HOURS, default 24)."""
    return timedelta(hours=float(os.environ.get("SALESGRAPH_EVENT_RETENTION_HOURS", "24")))


class SinceOutOfRange(Exception):
    """A client asked to resume after an event the outbox no longer has (or never had)."""


class Publisher(Protocol):
    async def publish(self, channel: str, message: Any) -> None: ...


def event_message(row: Any) -> dict[str, Any]:
    """The published form of an outbox row (what subscribers receive; `id` is its position)."""
    return {
        "id": row.position,
        "type": row.type,
        "entityType": row.entity_type,
        "entityId": row.entity_id,
        "data": row.data,
        "actorUserId": row.actor_user_id,
        "actorPartnerId": row.actor_partner_id,
        "at": row.created_at.isoformat(),
        **({"traceparent": row.traceparent} if row.traceparent else {}),
    }


class OutboxDispatcher:
    """Run `run()` as a task; call `wake()` after a commit that recorded events. It also polls,
    so events committed by other processes (or before a crash) go out too."""

    def __init__(
        self,
        engine: AsyncEngine,
        publisher: Publisher,
        channel: str = CHANNEL,
        poll_seconds: float = 1.0,
        keep: timedelta | None = None,
        tracer: Any = None,
    ) -> None:
        self.engine = engine
        self.tracer = tracer  # an OpenTelemetry tracer when traces are on (gql/tracing.py)
        self.publisher = publisher
        self.channel = channel
        self.poll_seconds = poll_seconds
        self.keep = keep if keep is not None else retention()
        self._wake = asyncio.Event()
        self._pruned_at = 0.0
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        # The looks at the outbox (every second, mostly finding nothing) make no traces of their own; a
        # publication is a span (`_publish`).
        with suppress_instrumentation():
            await self._run()

    async def _run(self) -> None:
        while True:
            try:
                while await self.dispatch_once() == BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the bus or the database is away: retry on the next turn
                log.warning("publishing the outbox failed (%r); the events wait and are retried", error)
            if time.monotonic() - self._pruned_at > 60:
                self._pruned_at = time.monotonic()
                try:
                    async with self._locked(_PUBLISHING_LOCK) as conn:
                        await prune(conn, utcnow() - self.keep)
                except Exception:
                    log.exception("pruning the outbox failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def dispatch_once(self) -> int:
        """Publish every unpublished event in position order and mark them sent, under the publishing
        lock; a publish that fails is retried with the same positions. Events are numbered when they
        are committed; any left without a position (written by an older version) are numbered first,
        under the numbering lock, and that is committed before they are published. Returns how many
        were published."""
        if await self._unnumbered():
            async with self._locked(EVENT_NUMBERING_LOCK) as conn:
                await self._number(conn)
        async with self._locked(_PUBLISHING_LOCK) as conn:
            rows = list(
                await conn.execute(
                    select(tables.outbox_events)
                    .where(tables.outbox_events.c.published_at.is_(None), tables.outbox_events.c.position.is_not(None))
                    .order_by(tables.outbox_events.c.position)
                    .limit(BATCH)
                )
            )
            if self.tracer is None:
                for row in rows:
                    await self.publisher.publish(self.channel, orjson.dumps(event_message(row)).decode())
            else:
                for traceparent, run in itertools.groupby(rows, key=lambda r: r.traceparent):
                    await self._publish_traced(traceparent, list(run))
            if rows:
                await conn.execute(
                    update(tables.outbox_events)
                    .where(tables.outbox_events.c.id.in_([r.id for r in rows]))
                    .values(published_at=utcnow())
                )
        self.published += len(rows)
        return len(rows)

    async def _publish_traced(self, traceparent: str | None, rows: list[Any]) -> None:
        """Publish the events one operation committed (consecutive rows with its traceparent) in a span of
        that operation's trace, and send them with this span's traceparent, so that the pushes they cause in
        any process are its children; events committed untraced get a span of their own trace."""
        from opentelemetry import context, propagate, trace

        parent = propagate.extract({"traceparent": traceparent}) if traceparent else context.Context()
        with self.tracer.start_as_current_span(
            "outbox publish",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.destination.name": self.channel,
                "messaging.batch.message_count": len(rows),
                "salesgraph.event.first": rows[0].position,
                "salesgraph.event.last": rows[-1].position,
            },
        ):
            own = current_traceparent()
            for row in rows:
                message = event_message(row)
                if own is not None:
                    message["traceparent"] = own
                await self.publisher.publish(self.channel, orjson.dumps(message).decode())

    async def _unnumbered(self) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(tables.outbox_events.c.id).where(tables.outbox_events.c.position.is_(None)).limit(1)
            )
            return found.first() is not None

    @contextlib.asynccontextmanager
    async def _locked(self, key: int) -> AsyncIterator[AsyncConnection]:
        """A transaction holding the deployment-wide advisory lock `key` (the SQLite writer lock in one
        process)."""
        lock = None
        if self.engine.dialect.name == "sqlite":
            lock = _sqlite_write_locks.setdefault(self.engine, asyncio.Lock())
            await lock.acquire()
        try:
            async with self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":
                    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
                yield conn
        finally:
            if lock is not None:
                lock.release()

    @staticmethod
    async def _number(conn: AsyncConnection) -> None:
        last = (await conn.execute(select(func.coalesce(func.max(tables.outbox_events.c.position), 0)))).scalar_one()
        waiting = [
            r.id
            for r in await conn.execute(
                select(tables.outbox_events.c.id)
                .where(tables.outbox_events.c.position.is_(None))
                .order_by(tables.outbox_events.c.id)
                .limit(BATCH)
            )
        ]
        if waiting:
            await conn.execute(
                update(tables.outbox_events)
                .where(tables.outbox_events.c.id == bindparam("event_id"))
                .values(position=bindparam("new_position")),
                [{"event_id": event_id, "new_position": last + n} for n, event_id in enumerate(waiting, start=1)],
            )


def _numbered() -> Any:
    return select(tables.outbox_events).where(tables.outbox_events.c.position.is_not(None))


async def newest_position(conn: AsyncConnection) -> int:
    """The public id of the newest numbered event (0 when there is none)."""
    return (await conn.execute(select(func.coalesce(func.max(tables.outbox_events.c.position), 0)))).scalar_one()


async def events_after(
    conn: AsyncConnection, position: int, upto: int | None = None, limit: int = BATCH
) -> list[dict[str, Any]]:
    """Numbered events after `position` (up to `upto`), oldest first, in their published form.
    Numbered means committed and finally ordered, whether or not the bus has carried it yet."""
    stmt = _numbered().where(tables.outbox_events.c.position > position)
    if upto is not None:
        stmt = stmt.where(tables.outbox_events.c.position <= upto)
    rows = await conn.execute(stmt.order_by(tables.outbox_events.c.position).limit(limit))
    return [event_message(row) for row in rows]


async def check_since(conn: AsyncConnection, since: int) -> int:
    """Raise SinceOutOfRange unless every event after `since` is still in the outbox; returns the
    newest position."""
    oldest, newest = (
        await conn.execute(select(func.min(tables.outbox_events.c.position), func.max(tables.outbox_events.c.position)))
    ).one()
    newest = newest or 0
    if since > newest:
        raise SinceOutOfRange(
            f"event {since} is newer than the newest event ({newest}): the data was reset; "
            "query the current state again and subscribe without `since`"
        )
    if oldest is not None and since + 1 < oldest:
        raise SinceOutOfRange(
            f"events after {since} are no longer kept (the oldest kept is {oldest}); query the "
            "current state again and subscribe without `since`"
        )
    return newest


async def prune(conn: AsyncConnection, before: datetime) -> int:
    """Delete published events created before `before`, always keeping the newest one (so a client's
    `since` can still be told apart from a reset database)."""
    newest = await newest_position(conn)
    result = await conn.execute(
        delete(tables.outbox_events).where(
            tables.outbox_events.c.published_at.is_not(None),
            tables.outbox_events.c.created_at < before,
            tables.outbox_events.c.position < newest,
        )
    )
    return result.rowcount or 0
