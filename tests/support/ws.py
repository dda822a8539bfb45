"""A small GraphQL-over-WebSocket client for tests, speaking either protocol over a real socket."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
# A bound on how long a test waits for something that must happen; not a synchronisation delay.
WAIT = 15.0


class GraphQLSocket:
    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws, self.protocol = ws, protocol
        self._ids = itertools.count(1)
        self.keepalives = 0
        self._held: dict[str, list[dict[str, Any]]] = {}  # messages of other operations, in order
        self._stopped: set[str] = set()

    @classmethod
    async def open(
        cls, http_url: str, token: str | None, protocol: str = TRANSPORT_WS, init: bool = True
    ) -> GraphQLSocket:
        ws = await connect(
            http_url.replace("http", "ws", 1) + "/graphql", subprotocols=[protocol], max_size=None, open_timeout=WAIT
        )
        socket = cls(ws, protocol)
        if init:
            await socket.send(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"} if token else {}}
            )
            ack = await socket.receive()
            assert ack["type"] == "connection_ack", ack
        return socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next message that is not a keep-alive (answering pings as the protocol asks)."""
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ka":
                self.keepalives += 1
                continue
            if message["type"] == "ping" and self.protocol == TRANSPORT_WS:
                self.keepalives += 1
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None, op_id: str | None = None) -> str:
        op_id = op_id or str(next(self._ids))
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.send({"type": kind, "id": op_id, "payload": {"query": query, "variables": variables or {}}})
        return op_id

    async def message_of(self, op_id: str, timeout: float = WAIT) -> dict[str, Any]:
        """The next message about `op_id`; those about other operations are kept for them (or
        dropped once the operation was stopped)."""
        held = self._held.get(op_id)
        if held:
            return held.pop(0)
        async with asyncio.timeout(timeout):
            while True:
                message = await self.receive()
                other = message.get("id")
                if other is None or other == op_id:
                    return message
                if other not in self._stopped:
                    self._held.setdefault(other, []).append(message)

    async def next(self, op_id: str, timeout: float = WAIT) -> dict[str, Any]:
        """The payload of the next result of `op_id` (`next` / `data`)."""
        message = await self.message_of(op_id, timeout)
        expected = "next" if self.protocol == TRANSPORT_WS else "data"
        assert message.get("id") == op_id and message["type"] == expected, message
        return message["payload"]

    async def stop(self, op_id: str) -> None:
        self._stopped.add(op_id)
        self._held.pop(op_id, None)
        await self.send({"type": "complete" if self.protocol == TRANSPORT_WS else "stop", "id": op_id})

    async def closed(self, timeout: float = WAIT) -> tuple[int | None, str]:
        """Wait for the server to close the socket; returns its close code and reason."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as closed:
            received = closed.rcvd
            return (received.code, received.reason) if received else (None, "")

    async def close(self) -> None:
        await self.ws.close()
