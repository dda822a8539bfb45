"""The subscriber side of bench/soak.py: one client process holding a share of the WebSocket subscribers,
driven by the bench over a pipe. Free of the application's imports, so it starts fast and stays small.

Each subscriber is what the README tells a client to do: `graphql-transport-ws` with the `websockets`
library; on any disconnect, or an operation that ends (`complete`, `error`, or a `next` carrying errors),
it reconnects after a short random back-off and subscribes again with `since` = the `eventId` of the
last event it received. It keeps every event id it received (duplicates included: the bench compares
the list with the committed event log), and a live board's last state. Commands (tuples):

    ("start", url, specs, in_flight)  -> ("started", {"connected": n, "seconds": s})
    ("phase", name)                   -> nothing: later pushes, lags and disconnects count for `name`
    ("kinds",)                        -> ("kinds", [(kind, variables), ...])  per subscriber
    ("status",)                       -> ("status", [(received, last event id, board), ...])
    ("report",)                       -> ("report", {...}) stop every subscriber and tell everything
"""

from __future__ import annotations

import array
import asyncio
import random
import time
from collections import Counter, defaultdict
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus


class Retry(Exception):
    """The operation ended; subscribe again (with `since`)."""


class Subscriber:
    def __init__(self, client: Client, spec: dict[str, Any]) -> None:
        self.client = client
        self.kind: str = spec["kind"]
        self.token: str = spec["token"]
        self.query: str = spec["query"]
        self.variables: dict[str, Any] = spec["variables"]
        self.since: int | None = spec.get("since")
        self.resumes = spec.get("resumes", True)  # event streams resume with `since`; boards need not
        self.timed = spec.get("timed", False)  # note each event's delay from its commit (a sample of them)
        self.ids = array.array("q")
        self.board: dict[str, Any] | None = None
        self.pushes = 0
        self.connected = asyncio.Event()
        self.subscriptions = 0

    async def run(self, url: str, gate: asyncio.Semaphore) -> None:
        backoff = 0.5
        first = True
        while True:
            try:
                if first:
                    async with gate:  # the first connections go at most `in_flight` at a time
                        ws = await self._open(url)
                    first = False
                else:
                    ws = await self._open(url)
                backoff = 0.5
                try:
                    await self._subscribe(ws)
                    await self._read(ws)
                finally:
                    await ws.close()
            except asyncio.CancelledError:
                raise
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
                self.client.note("disconnect", f"closed {code}")
            except Retry as retry:
                self.client.note("disconnect", str(retry))
            except InvalidStatus as refused:
                self.client.note("disconnect", f"handshake HTTP {refused.response.status_code}")
            except (OSError, TimeoutError) as error:
                self.client.note("disconnect", f"connect {type(error).__name__}")
            except Exception as error:  # noqa: BLE001 - counted and shown by the bench
                self.client.note("disconnect", f"{type(error).__name__}: {str(error)[:80]}")
            first = False
            # As the dashboard does: 0.5 s doubling (to 10 s here), with jitter, so that the clients of a
            # process that died do not all come back in the same instant.
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 10.0)

    async def _open(self, url: str) -> Any:
        ws = await connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            compression=None,
            max_size=None,
            open_timeout=30,
            ping_interval=None,
            proxy=None,
        )
        try:
            await ws.send(
                orjson.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}})
            )
            ack = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
            if ack.get("type") != "connection_ack":
                raise Retry(f"no connection_ack: {str(ack)[:80]}")
        except BaseException:
            await ws.close()
            raise
        return ws

    async def _subscribe(self, ws: Any) -> None:
        variables = dict(self.variables)
        if self.resumes and self.since is not None:
            variables["since"] = str(self.since)
        self.subscriptions += 1
        if self.subscriptions > 1:
            self.client.note("resubscribed", "")
        await ws.send(
            orjson.dumps({"type": "subscribe", "id": "1", "payload": {"query": self.query, "variables": variables}})
        )
        self.connected.set()

    async def _read(self, ws: Any) -> None:
        while True:
            raw = await ws.recv()
            message = orjson.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                await ws.send(b'{"type":"pong"}')
                continue
            if kind == "complete":
                raise Retry("complete")
            if kind == "error":
                payload = message.get("payload")
                first = payload[0] if isinstance(payload, list) and payload else payload or {}
                raise Retry(f"error {(first.get('extensions') or {}).get('code', first.get('message', '')[:60])}")
            if kind != "next":
                continue
            payload = message["payload"]
            if payload.get("errors"):
                error = payload["errors"][0]
                code = (error.get("extensions") or {}).get("code") or error.get("message", "")[:60]
                self.client.note("error", f"next with errors {code}")
                continue  # a `complete` follows
            value = next(iter(payload["data"].values()))
            self.pushes += 1
            self.client.pushed()
            if self.resumes:
                event_id = int(value["eventId"])
                self.ids.append(event_id)
                self.since = event_id
                at = value.get("at")
                if at is not None and self.timed:
                    self.client.lag(time.time() - datetime.fromisoformat(at).timestamp())
            else:
                self.board = value


class Client:
    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.subscribers: list[Subscriber] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.phase = "start"
        self.notes: dict[str, Counter[str]] = defaultdict(Counter)  # phase -> "what: detail" -> count
        self.pushes: Counter[str] = Counter()
        self.lags: dict[str, array.array] = defaultdict(lambda: array.array("d"))

    def note(self, what: str, detail: str) -> None:
        self.notes[self.phase][f"{what} {detail}".strip()] += 1

    def pushed(self) -> None:
        self.pushes[self.phase] += 1

    def lag(self, seconds: float) -> None:
        self.lags[self.phase].append(seconds)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, self.pipe.recv)
            name = command[0]
            if name == "start":
                self.pipe.send(("started", await self.start(*command[1:])))
            elif name == "phase":
                self.phase = command[1]
            elif name == "status":
                self.pipe.send(
                    ("status", [(len(s.ids), s.ids[-1] if s.ids else s.since, s.board) for s in self.subscribers])
                )
            elif name == "kinds":
                self.pipe.send(("kinds", [(s.kind, s.variables) for s in self.subscribers]))
            elif name == "report":
                self.pipe.send(("report", await self.report()))
                return

    async def start(self, url: str, specs: list[dict[str, Any]], in_flight: int) -> dict[str, Any]:
        gate = asyncio.Semaphore(in_flight)
        started = time.monotonic()
        for spec in specs:
            subscriber = Subscriber(self, spec)
            self.subscribers.append(subscriber)
            self.tasks.append(asyncio.create_task(subscriber.run(url, gate)))
        await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in self.subscribers)), 300)
        return {"connected": len(self.subscribers), "seconds": time.monotonic() - started}

    async def report(self) -> dict[str, Any]:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        return {
            "subscribers": [(s.kind, s.ids, s.board, s.subscriptions) for s in self.subscribers],
            "notes": {phase: dict(counts) for phase, counts in self.notes.items()},
            "pushes": dict(self.pushes),
            "lags": dict(self.lags),
        }


def main(pipe: Connection) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(Client(pipe).run())
