"""The event bus between processes: broadcaster's backends as the transport (`memory://` in one
process, `redis://` for several), with the guarantees broadcaster 0.3.1 lacks owned here.

- One broker subscription per channel per process: `EventBus.messages()` is meant for exactly one
  consumer (the process's EventHub), which fans out locally with bounded queues. broadcaster's own
  `Broadcast.subscribe` (unbounded queue per subscriber, a subscribe race on Redis) is not used.
- Our own Redis pub/sub backend (`RedisPubSubBackend`, broadcaster's interface): broadcaster's
  receives nothing with redis-py 8 (see the class) and hangs silently when Redis goes away; ours
  raises BusDisconnected, so the consumer can reconnect, resubscribe and catch up from the outbox.
- Publishing never needs a live subscription, and Redis being down at start-up does not stop the
  app: publishing raises (the outbox keeps the events), subscribing is retried by the hub.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend
from broadcaster._base import Event


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

    async def publish(self, channel: str, message: str) -> int | None:
        """Publish; with Redis, returns how many subscriptions received the message (None in memory)."""
        if self._memory is not None:
            await (await self._memory_backend()).publish(channel, message)
            return None
        if self._publisher is None:
            # redis-py connects lazily and reconnects per command: a Redis that is down makes this
            # raise (the dispatcher retries later), and one that is back just works.
            self._publisher = RedisPubSubBackend(self.url)
        try:
            return await self._publisher.publish(channel, message)
        except Exception as error:
            if not type(error).__module__.startswith("redis"):
                raise
            return await self._publisher.publish(channel, message)

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
                yield _backend_messages(backend, channel)
            finally:
                await backend.unsubscribe(channel)
            return
        backend = RedisPubSubBackend(self.url)
        try:
            await backend.connect()
            await backend.subscribe(channel)
            yield _backend_messages(backend, channel)
        finally:
            with contextlib.suppress(Exception):
                await backend.disconnect()

    async def close(self) -> None:
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.disconnect()
            self._publisher = None


async def _backend_messages(backend: BroadcastBackend, channel: str) -> AsyncIterator[str]:
    while True:
        event = await backend.next_published()
        if event.channel == channel:
            yield event.message


class RedisPubSubBackend(BroadcastBackend):
    """A broadcaster backend for Redis pub/sub that reads with `get_message` in the caller's task.

    broadcaster 0.3.1's RedisBackend starts a listener task that calls `pubsub.listen()` as soon as
    `subscribe()` is called but before the SUBSCRIBE reply: with redis-py 8, `listen()` sees no
    subscription yet, ends at once, and the listener waits forever, so nothing is ever received.
    Its listener also dies silently when Redis goes away (#144). Here there is no listener task:
    the one consumer reads, and a lost connection is raised to it at once. (redis-py would otherwise
    retry, reconnect and resubscribe on its own, and whatever was published meanwhile would be lost
    without anyone knowing: the consumer reconnects itself and catches up, or, for the token cache,
    forgets what it may have missed.)"""

    def __init__(self, url: str) -> None:
        from redis import asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._conn = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0))
        self._pubsub = self._conn.pubsub(ignore_subscribe_messages=True)

    async def connect(self) -> None:
        await self._pubsub.connect()

    async def disconnect(self) -> None:
        await self._pubsub.aclose()
        await self._conn.aclose()

    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> int:
        return await self._conn.publish(channel, message)

    async def next_published(self) -> Event:
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            except (ConnectionError, OSError) as error:
                raise BusDisconnected(f"the Redis subscription ended: {error!r}") from error
            except Exception as error:  # redis.exceptions.ConnectionError/TimeoutError are not OSErrors
                if type(error).__module__.startswith("redis"):
                    raise BusDisconnected(f"the Redis subscription ended: {error!r}") from error
                raise
            if message is not None and message.get("type") == "message":
                channel, data = message["channel"], message["data"]
                return Event(
                    channel=channel.decode() if isinstance(channel, bytes) else channel,
                    message=data.decode() if isinstance(data, bytes) else data,
                )
