"""The app served by uvicorn inside the test's event loop: real HTTP and WebSocket sockets, the
app's lifespan (event hub, outbox dispatcher) running, and the app object at hand for the test."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette

from gql.app import create_app
from persistence.db import create_engine

WAIT = 30.0


@dataclass
class LiveServer:
    url: str
    app: Starlette
    send_buffer: int | None = None  # the kernel's send buffer of each accepted socket, when set


@contextlib.asynccontextmanager
async def live_server(database_url: str, send_buffer: int | None = None, **options: Any) -> AsyncIterator[LiveServer]:
    """Serve a new app (its own engine) on `database_url` until the block ends. `send_buffer` sets the
    kernel's send buffer of the accepted sockets (as a slow network would leave little in flight), so
    a client that stops reading makes the server's sends wait after a few KiB instead of megabytes."""
    app = create_app(create_engine(database_url), **options)
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)  # accepted sockets inherit it
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    effective = listening.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) if send_buffer is not None else None
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", ws_per_message_deflate=False))
    task = asyncio.create_task(server.serve(sockets=[listening]))
    async with asyncio.timeout(WAIT):
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("the server stopped while starting")
            await asyncio.sleep(0.01)
        await app.state.hub.started()
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app, effective)
    finally:
        server.should_exit = True
        await task
