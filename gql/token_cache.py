"""Each process's cache of token lookups, so most requests run no SQL for their token, and the clearing
that keeps revocation immediate in every process.

- An entry is the lookup of one token hash (its principal with role and effective scopes, whether it
  runs only trusted documents, its expiry), kept at most `max_age` seconds and never past its expiry
  (checked at each use with the app's clock). Only valid tokens are kept; 10,000 at most, least
  recently used out.
- A committed change to a token, a user or a partner (`auth.CREDENTIAL_ENTITIES`) clears the cache of the
  process that made it before the mutation answers (`changed`), and, with a Redis bus, the cache of every
  other process: the clearing is published on `CHANNEL` and `changed` returns once every subscribed
  process has confirmed it cleared (or after `ACK_SECONDS`, logged). So once `revokeApiToken` has
  answered, the next request with that token, in any process, reads the token again and gets 401.
- A lookup that began before a clearing does not store its (possibly stale) answer after it: each
  clearing increases `generation`, and `put` takes the generation read before the SQL ran.
- With Redis, a process answers from its cache only while its subscription to `CHANNEL` is live, and
  confirmed by a message it sent itself; when the subscription breaks it forgets everything and reads
  every token until it is back. The outbox's token, user and partner events (the event hub, which
  catches up from the database every few seconds even without Redis) clear the cache too: a change
  whose clearing got lost on the way is seen within SALESGRAPH_EVENT_RESYNC_SECONDS. A change made
  in the database by hand is seen within `max_age`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from gql.auth import CREDENTIAL_ENTITIES, TokenLookup
from gql.subscriptions.hub import EventHub, SlowConsumer
from persistence.bus import EventBus

log = logging.getLogger("salesgraph.tokens")

CHANNEL = "salesgraph.tokens"
ACK_SECONDS = 2.0  # how long `changed` waits for the other processes to confirm


@dataclass(frozen=True)
class _Entry:
    lookup: TokenLookup
    stored_at: float  # the app clock's timestamp


class _Acks:
    """The confirmations of one clearing this process published."""

    def __init__(self) -> None:
        self.expected: int | None = None
        self.received = 0
        self.done = asyncio.Event()

    def add(self) -> None:
        self.received += 1
        self._check()

    def expect(self, count: int) -> None:
        self.expected = count
        self._check()

    def _check(self) -> None:
        if self.expected is not None and self.received >= self.expected:
            self.done.set()


class TokenCache:
    """Run `run()` (the Redis subscription) and `follow(hub)` as tasks for the life of the process."""

    SIZE = 10_000

    def __init__(
        self,
        bus: EventBus,
        max_age: float = 60.0,
        retry_seconds: float = 1.0,
    ) -> None:
        self.bus, self.max_age, self.retry_seconds = bus, max_age, retry_seconds
        self.generation = 0
        # In one process (memory://) every change is made here, so the cache is always usable; with
        # Redis only while the subscription that brings other processes' changes is live.
        self.live = max_age > 0 and not bus.shared
        self.name = uuid.uuid4().hex  # this process, on CHANNEL
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # Called, and awaited, when a token, a user or a partner changed (here, or in another process that
        # said so): the WebSocket endpoint checks the callers of its open sockets again.
        self.listeners: list[Callable[[], Awaitable[None]]] = []
        self._sent = 0
        self._acks: dict[int, _Acks] = {}

    @property
    def enabled(self) -> bool:
        return self.max_age > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token_hash: str, now: datetime) -> TokenLookup | None:
        """The cached lookup of a token that is still valid at `now`, or None (then read it)."""
        if not self.live:
            return None
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expires_at = entry.lookup.expires_at
        if (expires_at is not None and expires_at <= now) or now.timestamp() - entry.stored_at >= self.max_age:
            del self._entries[token_hash]
            return None
        self._entries.move_to_end(token_hash)
        return entry.lookup

    def put(self, token_hash: str, lookup: TokenLookup, generation: int, now: datetime) -> None:
        """Keep a lookup read at `generation` (read before the SQL ran): dropped if a clearing came since."""
        if not self.live or generation != self.generation:
            return
        self._entries[token_hash] = _Entry(
            TokenLookup(lookup.principal, lookup.trusted_documents_only, None, lookup.expires_at), now.timestamp()
        )
        self._entries.move_to_end(token_hash)
        if len(self._entries) > self.SIZE:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    async def _credentials_changed(self) -> None:
        """Forget every lookup and tell the listeners (each failure logged, none stops the others)."""
        self.clear()
        for listener in self.listeners:
            try:
                await listener()
            except Exception:  # one listener's failure must not keep the change from the others
                log.exception("token cache: a listener failed after a change of credentials")

    async def changed(self) -> None:
        """After a commit that changed a token, a user or a partner: clear this process's cache and every
        other process's, and return once they have confirmed (or after ACK_SECONDS). Each process
        confirms once its listeners are done (its sockets' callers checked again)."""
        await self._credentials_changed()
        if not self.bus.shared:
            return
        self._sent += 1
        number = self._sent
        acks = self._acks[number] = _Acks()
        try:
            async with asyncio.timeout(ACK_SECONDS):
                receivers = await self.bus.publish(
                    CHANNEL, orjson.dumps({"kind": "clear", "from": self.name, "n": number}).decode()
                )
                acks.expect(receivers or 0)
                await acks.done.wait()
        except TimeoutError:
            log.warning(
                "token cache: %s of %s processes confirmed clearing within %s s; the others answer from "
                "their caches until they do, or until their outbox check (SALESGRAPH_EVENT_RESYNC_SECONDS)",
                acks.received,
                acks.expected if acks.expected is not None else "?",
                ACK_SECONDS,
            )
        except Exception as error:  # noqa: BLE001 - the bus is away: processes that cannot hear it read every token
            log.warning("token cache: clearing not published (%r); other processes see it by their outbox check", error)
        finally:
            del self._acks[number]

    async def run(self) -> None:
        """Listen to the other processes' clearings (with Redis); without Redis there is nothing to hear."""
        if not self.bus.shared or not self.enabled:
            return
        while True:
            try:
                async with self.bus.messages(CHANNEL) as messages:
                    hello = uuid.uuid4().hex
                    await asyncio.wait_for(
                        self.bus.publish(
                            CHANNEL, orjson.dumps({"kind": "hello", "from": self.name, "n": hello}).decode()
                        ),
                        ACK_SECONDS,
                    )
                    async for raw in messages:
                        await self._receive(orjson.loads(raw), hello)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - reconnect; meanwhile every token is read
                log.warning("token cache: subscription lost (%r); reading every token until it is back", error)
            finally:
                self.live = False
                self.clear()
            await asyncio.sleep(self.retry_seconds)

    async def _receive(self, message: dict[str, Any], hello: str) -> None:
        kind = message.get("kind")
        if kind == "hello":
            if message.get("from") == self.name and message.get("n") == hello:
                # Our own message came back: the subscription is live, so every clearing published from
                # now on reaches us. Anything kept before may have missed one.
                self.clear()
                self.live = True
        elif kind == "clear":
            await self._credentials_changed()
            reply = {"kind": "ack", "to": message.get("from"), "n": message.get("n")}
            await asyncio.wait_for(self.bus.publish(CHANNEL, orjson.dumps(reply).decode()), ACK_SECONDS)
        elif kind == "ack" and message.get("to") == self.name:
            acks = self._acks.get(message.get("n"))  # type: ignore[arg-type]
            if acks is not None:
                acks.add()

    async def follow(self, hub: EventHub) -> None:
        """Clear on every token, user or partner event of the outbox (whichever process committed it)."""
        while True:
            with hub.listen(lambda event: event.get("entityType") in CREDENTIAL_ENTITIES) as listener:
                with contextlib.suppress(SlowConsumer):
                    while True:
                        await listener.get()
                        await self._credentials_changed()
            await self._credentials_changed()
