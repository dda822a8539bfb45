"""The subscriber side of bench/fanout.py: one client process holding a share of the WebSocket
subscribers, driven by the bench over a pipe. Kept free of the application's imports so that a
client process starts fast and stays small.

Every subscriber speaks `graphql-transport-ws` with the `websockets` library (asyncio, uvloop when
installed), and notes the wall-clock time (time.time(), CLOCK_REALTIME, shared by every process on
the machine) at which each `next` message arrives. Commands (tuples) from the bench:

    ("connect", urls, token or tokens, document, variables, compression, in_flight) -> ("connected", report)
    ("mark",)                        -> ("marked", None)       remember how many pushes each has had
    ("wait", pushes, timeout)        -> ("waited", report)     until each has `pushes` more (or timeout)
    ("converge", figures, timeout)   -> ("converged", report)  until every last push shows `figures`
    ("close",)                       -> ("closed", None)       close every subscriber
    ("exit",)                                                  end the process
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

NEXT = '{"type":"next"'
PING = '{"type":"ping"'


def raise_open_files_limit() -> int:
    """Raise the soft limit of open files to the hard limit; return it (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def receive(ws: ClientConnection, timeout: float = 120) -> str:
    """The next message that is not the server's keep-alive ping (answered with a pong)."""
    while True:
        message = await asyncio.wait_for(ws.recv(), timeout)
        message = message.decode() if isinstance(message, bytes) else message
        if not message.startswith(PING):
            return message
        await ws.send('{"type":"pong"}')


def figures(push: str | None) -> str | None:
    """The scoreboard's top-level `openPipeline` and `openDeals` in a push, read from the text (no
    JSON parsing per push: the bench's document names them before `reps`)."""
    if push is None:
        return None
    at = push.find('"openPipeline":')
    deals = push.find('"openDeals":')
    if at < 0 or deals < 0:
        return None
    return push[at : push.find("}", at) + 1] + push[deals : push.find(",", deals)]


class Subscriber:
    __slots__ = ("ws", "arrivals", "last", "closed")

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.arrivals: list[float] = []
        self.last: str | None = None
        self.closed: str | None = None


class Client:
    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.subscribers: list[Subscriber] = []
        self.readers: list[asyncio.Task[None]] = []
        self.baseline: list[int] = []
        self.changed = asyncio.Event()  # set on every push; the waits below re-check their condition
        self.cpu_mark = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, self.pipe.recv)
            name = command[0]
            if name == "connect":
                self.pipe.send(("connected", await self.connect(*command[1:])))
            elif name == "mark":
                self.baseline = [len(s.arrivals) for s in self.subscribers]
                self.cpu_mark = time.process_time()
                self.pipe.send(("marked", None))
            elif name == "wait":
                self.pipe.send(("waited", await self.wait(*command[1:])))
            elif name == "converge":
                self.pipe.send(("converged", await self.converge(*command[1:])))
            elif name == "close":
                await self.close()
                self.pipe.send(("closed", None))
            elif name == "exit":
                return

    async def connect(
        self,
        urls: list[str],
        token: str | list[str],
        document: str,
        variables: dict[str, Any],
        compression: bool,
        in_flight: int,
    ) -> dict[str, Any]:
        """Open one subscriber per URL (with `token`, or with the token of the same place in a list of
        them: distinct viewers), at most `in_flight` handshakes at a time (the server's accept backlog
        is not overrun), each up to its first push (the current scoreboard)."""
        gate = asyncio.Semaphore(in_flight)
        errors: list[str] = []
        tokens = [token] * len(urls) if isinstance(token, str) else token
        subscribe = json.dumps({"type": "subscribe", "id": "1", "payload": {"query": document, "variables": variables}})
        first_sizes: list[int] = []

        async def open_one(url: str, token: str) -> None:
            init = json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
            async with gate:
                try:
                    ws = await connect(
                        url,
                        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                        compression="deflate" if compression else None,
                        max_size=None,
                        open_timeout=120,
                        ping_interval=None,
                        proxy=None,
                    )
                    await ws.send(init)
                    ack = await receive(ws)
                    if not ack.startswith('{"type":"connection_ack"'):
                        raise RuntimeError(f"no connection_ack: {ack[:200]}")
                    await ws.send(subscribe)
                    first = await receive(ws)
                    if not first.startswith(NEXT) or '"errors"' in first:
                        raise RuntimeError(f"the first message is not the scoreboard: {first[:300]}")
                except Exception as error:  # noqa: BLE001 - counted and shown by the bench
                    errors.append(f"{type(error).__name__}: {error}"[:300])
                    return
            subscriber = Subscriber(ws)
            subscriber.last = first
            first_sizes.append(len(first))
            self.subscribers.append(subscriber)
            self.readers.append(asyncio.create_task(self.read(subscriber)))

        started = time.monotonic()
        await asyncio.gather(*(open_one(url, token) for url, token in zip(urls, tokens)))
        return {
            "connected": len(self.subscribers),
            "failed": len(errors),
            "errors": errors[:3],
            "seconds": time.monotonic() - started,
            "push_bytes": max(first_sizes) if first_sizes else 0,
        }

    async def read(self, subscriber: Subscriber) -> None:
        ws, arrivals = subscriber.ws, subscriber.arrivals
        try:
            async for message in ws:
                now = time.time()
                if isinstance(message, bytes):
                    message = message.decode()
                if message.startswith(NEXT):
                    arrivals.append(now)
                    subscriber.last = message
                    self.changed.set()
                elif message.startswith(PING):
                    await ws.send('{"type":"pong"}')
                else:
                    subscriber.closed = f"unexpected message: {message[:200]}"
                    self.changed.set()
        except ConnectionClosed as closed:
            subscriber.closed = f"closed by the server: {closed}"
            self.changed.set()

    async def wait(self, pushes: int, timeout: float) -> dict[str, Any]:
        """Until every subscriber got `pushes` pushes after the mark; returns for each the arrival
        time of the `pushes`-th (None when it did not come within `timeout`)."""
        deadline = time.monotonic() + timeout

        def missing() -> int:
            return sum(
                1
                for s, base in zip(self.subscribers, self.baseline)
                if len(s.arrivals) < base + pushes and s.closed is None
            )

        while missing() and time.monotonic() < deadline:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), max(0.0, min(0.5, deadline - time.monotonic())))
            except TimeoutError:
                pass
        times = [
            s.arrivals[base + pushes - 1] if len(s.arrivals) >= base + pushes else None
            for s, base in zip(self.subscribers, self.baseline)
        ]
        return {"times": times, "cpu": time.process_time() - self.cpu_mark, "closed": self._closed()}

    async def converge(self, expected: str, timeout: float) -> dict[str, Any]:
        """Until every subscriber's last push shows the figures `expected` (`figures()` of the
        `scoreboard` query's answer after the last mutation); returns every arrival since the mark,
        and for each subscriber when its last push arrived and whether it converged."""
        deadline = time.monotonic() + timeout

        def behind() -> int:
            return sum(1 for s in self.subscribers if s.closed is None and figures(s.last) != expected)

        while behind() and time.monotonic() < deadline:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), max(0.0, min(0.5, deadline - time.monotonic())))
            except TimeoutError:
                pass
        return {
            "arrivals": [s.arrivals[base:] for s, base in zip(self.subscribers, self.baseline)],
            "converged": [figures(s.last) == expected for s in self.subscribers],
            "cpu": time.process_time() - self.cpu_mark,
            "closed": self._closed(),
        }

    def _closed(self) -> list[str]:
        return [s.closed for s in self.subscribers if s.closed is not None][:3]

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(s.ws.close() for s in self.subscribers), return_exceptions=True)
        self.subscribers, self.readers, self.baseline = [], [], []


def main(pipe: Connection) -> None:
    """The client process's entry point (multiprocessing target)."""
    raise_open_files_limit()
    try:
        import uvloop
    except ImportError:
        uvloop = None
    if uvloop is not None:
        uvloop.run(Client(pipe).run())
    else:
        asyncio.run(Client(pipe).run())
