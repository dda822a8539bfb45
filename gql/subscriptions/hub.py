"""The process's event hub: one subscription to the event bus, fanned out to local listeners with
bounded queues, and a stream without gaps.

Event ids (outbox positions) are given one after the other with no holes, so the hub knows exactly
what it has not seen: a message that skips ahead, a reconnect after the bus was away, or a quiet
spell (checked every `resync_seconds`) makes it read the missing events from the outbox, which is
the source of truth. Listeners therefore see every event once, in id order, whatever the bus
dropped, duplicated or delayed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy.ext.asyncio import AsyncEngine

from persistence.bus import EventBus
from persistence.outbox import BATCH, CHANNEL, events_after, newest_position

log = logging.getLogger("salesgraph.events")

Event = dict[str, Any]


class SlowConsumer(Exception):
    """A listener let more events wait than its queue holds; it is dropped (its client can resume
    with `since`)."""


_OVERFLOW: Event = {"overflow": True}


class Listener:
    """A local consumer of the event stream: events it `accepts`, in order, through a bounded queue."""

    __slots__ = ("accepts", "queue", "overflowed", "_hub", "_maxsize")

    def __init__(self, hub: EventHub, accepts: Callable[[Event], bool] | None, maxsize: int) -> None:
        self._hub, self.accepts, self._maxsize = hub, accepts, maxsize
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.overflowed = False

    def push(self, event: Event) -> None:
        if self.overflowed or (self.accepts is not None and not self.accepts(event)):
            return
        if self.queue.qsize() >= self._maxsize:
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(_OVERFLOW)
            return
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        event = await self.queue.get()
        if event is _OVERFLOW:
            raise SlowConsumer(f"more than {self._maxsize} events were waiting for this subscriber")
        return event

    def close(self) -> None:
        self._hub._listeners.discard(self)


class EventHub:
    """Run `run()` as a task for the life of the process; `listen()` from anywhere."""

    def __init__(
        self,
        engine: AsyncEngine,
        bus: EventBus,
        channel: str = CHANNEL,
        queue_size: int = 1000,
        resync_seconds: float = 2.0,
        retry_seconds: float = 1.0,
    ) -> None:
        self.engine, self.bus, self.channel = engine, bus, channel
        self.queue_size, self.resync_seconds, self.retry_seconds = queue_size, resync_seconds, retry_seconds
        self.position: int | None = None  # the id of the last event delivered to listeners
        self.connected = False  # whether the bus subscription is live (for /readyz)
        self._listeners: set[Listener] = set()
        self._lock = asyncio.Lock()
        self._started = asyncio.Event()
        self.caught_up = 0  # events read from the outbox instead of the bus (for tests and logs)

    @contextlib.contextmanager
    def listen(self, accepts: Callable[[Event], bool] | None = None, maxsize: int | None = None) -> Iterator[Listener]:
        """A listener for every event after `self.position` (read it in the same step, before any
        await, to know exactly where the listener starts)."""
        listener = Listener(self, accepts, maxsize or self.queue_size)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            listener.close()

    async def started(self) -> int:
        """Wait until the hub knows where the stream stands; returns that position."""
        await self._started.wait()
        assert self.position is not None
        return self.position

    async def run(self) -> None:
        # Its reads of the outbox (a resync every few seconds) make no traces; the events it delivers carry
        # their own trace context to the pushes (gql/subscriptions/protocol.py).
        with suppress_instrumentation():
            await self._run()

    async def _run(self) -> None:
        while self.position is None:
            try:
                async with self.engine.connect() as conn:
                    self.position = await newest_position(conn)
            except Exception as error:  # noqa: BLE001 - the database is away: the app is not ready either
                log.warning("event hub cannot read the outbox (%r); retrying", error)
                await asyncio.sleep(self.retry_seconds)
        self._started.set()
        resync = asyncio.create_task(self._resync(), name="event-hub-resync")
        try:
            while True:
                try:
                    async with self.bus.messages(self.channel) as messages:
                        self.connected = True
                        await self.catch_up()
                        async for raw in messages:
                            await self._receive(orjson.loads(raw))
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 - reconnect, resubscribe, catch up
                    log.warning("event bus subscription lost (%r); reconnecting", error)
                self.connected = False
                await asyncio.sleep(self.retry_seconds)
        finally:
            self.connected = False
            resync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await resync

    async def catch_up(self, upto: int | None = None) -> None:
        """Deliver the events after `self.position` (up to `upto`) from the outbox."""
        async with self._lock:
            await self._fill(upto)

    async def _receive(self, event: Event) -> None:
        position = event["id"]
        async with self._lock:
            assert self.position is not None
            if position <= self.position:
                return
            if position > self.position + 1:
                await self._fill(position - 1)
            if position > self.position:
                self._deliver(event)

    async def _fill(self, upto: int | None) -> None:
        assert self.position is not None
        while upto is None or self.position < upto:
            async with self.engine.connect() as conn:
                events = await events_after(conn, self.position, upto)
            for event in events:
                self.caught_up += 1
                self._deliver(event)
            if len(events) < BATCH:
                break
        if upto is not None and self.position < upto:
            self.position = upto  # gone from the outbox (pruned): nothing more to deliver

    def _deliver(self, event: Event) -> None:
        self.position = event["id"]
        for listener in list(self._listeners):
            listener.push(event)

    async def _resync(self) -> None:
        """Catch events the bus lost with nothing after them to reveal the gap (or a bus that is down)."""
        while True:
            await asyncio.sleep(self.resync_seconds)
            try:
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the database is away; next turn
                log.warning("event hub resync failed (%r)", error)
