"""The event bus between processes: broadcaster's backends as the transport (`memory://` in one
process, `redis://` for several), with the guarantees broadcaster 0.3.1 lacks owned here.

- One broker subscription per channel per process: `EventBus.messages()` is meant for exactly one
  consumer (the process's EventHub), which fans out locally with bounded queues. broadcaster's own
  `Broadcast.subscribe` (unbounded queue per subscriber, a subscribe race on Redis) is not used.
- A dead Redis listener is an error, not a silent hang: `messages()` raises when the backend's
  listener task stops, so the consumer can reconnect, resubscribe and catch up from the outbox.
- Publishing never needs a live subscription, and Redis being down at start-up does not stop the
  app: publishing raises (the outbox keeps the events), subscribing is retried by the hub.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend


class BusDisconnected(ConnectionError):
    """The bus stopped delivering (Redis went away); reconnect and catch up from the outbox."""


class EventBus:
    """Publish to and listen on the deployment's event bus named by a broadcaster URL."""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self.scheme = urlparse(url).scheme
        if self.scheme not in ("memory", "redis", "rediss"):
            raise ValueError(f"BROADCAST_URL {url!r}: use memory:// (one process) or redis://host:port (several)")
        self._memory: MemoryBackend | None = None
        self._publisher: Any = None
        if self.scheme == "memory":
            self._memory = MemoryBackend(url)
            self._memory_ready = False

    @property
    def shared(self) -> bool:
        """Whether events cross processes."""
        return self.scheme != "memory"

    async def _memory_backend(self) -> MemoryBackend:
        assert self._memory is not None
        if not self._memory_ready:
            await self._memory.connect()
            self._memory_ready = True
        return self._memory

    async def publish(self, channel: str, message: str) -> None:
        if self._memory is not None:
            await (await self._memory_backend()).publish(channel, message)
            return
        if self._publisher is None:
            from redis import asyncio as redis

            # redis-py connects lazily and reconnects per command: a Redis that is down makes this
            # raise (the dispatcher retries later), and one that is back just works.
            self._publisher = redis.Redis.from_url(self.url)
        await self._publisher.publish(channel, message)

    async def ping(self) -> None:
        """Raise unless the bus is reachable (for /readyz)."""
        if self._memory is not None:
            return
        await self.publish("salesgraph.ping", "")

    @contextlib.asynccontextmanager
    async def messages(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        """A live subscription to `channel`: an async iterator of messages that raises
        BusDisconnected when the bus stops delivering. For the process's single consumer."""
        if self._memory is not None:
            backend = await self._memory_backend()
            await backend.subscribe(channel)
            try:
                yield _memory_messages(backend, channel)
            finally:
                await backend.unsubscribe(channel)
            return
        backend = _WatchedRedisBackend(self.url)
        try:
            await backend.connect()
            await backend.subscribe(channel)
            yield backend.iterate()
        finally:
            with contextlib.suppress(Exception):
                await backend.disconnect()

    async def close(self) -> None:
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.aclose()
            self._publisher = None


async def _memory_messages(backend: MemoryBackend, channel: str) -> AsyncIterator[str]:
    while True:
        event = await backend.next_published()
        if event.channel == channel:
            yield event.message


def _redis_backend() -> type[BroadcastBackend]:
    from broadcaster._backends.redis import RedisBackend

    return RedisBackend


class _WatchedRedisBackend(_redis_backend()):  # type: ignore[misc]
    """broadcaster's Redis pub/sub backend, except that a listener that died (Redis gone for longer
    than redis-py's retries) ends the iteration with BusDisconnected instead of hanging (#144)."""

    async def iterate(self) -> AsyncIterator[str]:
        while True:
            if self._listener is None:
                raise BusDisconnected("the Redis listener never started")
            get = asyncio.ensure_future(self._queue.get())
            try:
                done, _ = await asyncio.wait({get, self._listener}, return_when=asyncio.FIRST_COMPLETED)
            except BaseException:
                get.cancel()
                raise
            if get in done:
                yield get.result().message
                continue
            get.cancel()
            error = self._listener.exception() if not self._listener.cancelled() else None
            raise BusDisconnected(f"the Redis subscription ended: {error!r}") from error
