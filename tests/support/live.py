"""The app served by uvicorn inside the test's event loop: real HTTP and WebSocket sockets, the
app's lifespan (event hub, outbox dispatcher) running, and the app object at hand for the test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette

from gql.app import create_app
from persistence.db import create_engine
from tests.support.server import free_port

WAIT = 30.0


@dataclass
class LiveServer:
    url: str
    app: Starlette


@contextlib.asynccontextmanager
async def live_server(database_url: str, **options: Any) -> AsyncIterator[LiveServer]:
    """Serve a new app (its own engine) on `database_url` until the block ends."""
    app = create_app(create_engine(database_url), **options)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws_per_message_deflate=False
        )
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT):
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("the server stopped while starting")
            await asyncio.sleep(0.01)
        await app.state.hub.started()
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        await task
