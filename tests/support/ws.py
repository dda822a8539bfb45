"""A small GraphQL-over-WebSocket client for tests, speaking either protocol over a real socket."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

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
        cls,
        http_url: str,
        token: str | None,
        protocol: str = TRANSPORT_WS,
        init: bool = True,
        max_queue: int | None = 16,
    ) -> GraphQLSocket:
        """`max_queue`: messages the client takes in before it stops reading the socket (websockets' default, 16,
        which tests of slow clients rely on); None keeps reading however many pushes a test lets wait, as a
        browser does, so that the keep-alive's pongs behind them are read too (otherwise a socket the test
        leaves unread for a while closes itself with 1011 "keepalive ping timeout")."""
        ws = await connect(
            http_url.replace("http", "ws", 1) + "/graphql",
            subprotocols=[protocol],
            max_size=None,
            open_timeout=WAIT,
            max_queue=max_queue,
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


class ServerClosed(Exception):
    """The server closed the WebSocket (its close frame's code and reason)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed by the server: {code} {reason}")
        self.code, self.reason = code, reason


class StallingSocket:
    """A GraphQL WebSocket client on a raw TCP socket that reads only when the test asks it to: in
    between, nothing is read from the socket, so what the server sends fills the client's receive
    buffer, then the server's socket and transport buffers, and then waits in the server (a client
    that stopped reading, or a slow network). The receive buffer is set small before connecting."""

    def __init__(self, sock: socket.socket, protocol: str) -> None:
        self.sock, self.protocol = sock, protocol
        self.receive_buffer = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self.ws = ClientProtocol(parse_uri("ws://server/graphql"), subprotocols=[Subprotocol(protocol)], max_size=None)
        self._messages: list[str] = []
        self._ids = itertools.count(1)
        self.eof = False

    @classmethod
    async def open(
        cls, http_url: str, token: str, protocol: str = TRANSPORT_WS, receive_buffer: int = 4096
    ) -> StallingSocket:
        host, port = http_url.removeprefix("http://").split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)  # before connecting: the window follows it
        sock.setblocking(False)
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, int(port))), WAIT)
        client = cls(sock, protocol)
        request = client.ws.connect()
        client.ws.send_request(request)
        await client._flush()
        async with asyncio.timeout(WAIT):
            while client.ws.handshake_exc is None and not client._handshaken():
                await client._read()
        if client.ws.handshake_exc is not None:
            raise client.ws.handshake_exc
        await client.send({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        return client

    def _handshaken(self) -> bool:
        return self.ws.state is not State.CONNECTING

    async def _flush(self) -> None:
        for data in self.ws.data_to_send():
            if data:
                await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def _read(self) -> None:
        data = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
        if not data:
            self.eof = True
            self.ws.receive_eof()
        else:
            self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self._messages.append(event.data.decode())
        await self._flush()  # pongs and the reply to a close frame

    async def send(self, message: dict[str, Any]) -> None:
        self.ws.send_text(json.dumps(message).encode())
        await self._flush()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        op_id = str(next(self._ids))
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.send({"type": kind, "id": op_id, "payload": {"query": query, "variables": variables or {}}})
        return op_id

    async def receive_text(self, timeout: float = WAIT) -> str:
        """The next text message as sent (keep-alives included); ServerClosed once the server closed."""
        async with asyncio.timeout(timeout):
            while not self._messages:
                if self.ws.close_rcvd is not None:
                    raise ServerClosed(self.ws.close_rcvd.code, self.ws.close_rcvd.reason)
                if self.eof:
                    raise ServerClosed(None, "")
                await self._read()
        return self._messages.pop(0)

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next message that is not a keep-alive (answering pings as the protocol asks)."""
        while True:
            message = json.loads(await self.receive_text(timeout))
            if message["type"] == "ka":
                continue
            if message["type"] == "ping" and self.protocol == TRANSPORT_WS:
                if self.ws.state is State.OPEN:  # (it may have come with the close frame)
                    await self.send({"type": "pong"})
                continue
            return message

    async def until_eof(self, timeout: float = WAIT) -> None:
        """Read until the server has closed the TCP connection."""
        async with asyncio.timeout(timeout):
            while not self.eof:
                await self._read()

    def close(self) -> None:
        self.sock.close()
