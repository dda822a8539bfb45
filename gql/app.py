"""The ASGI application: GraphQL over HTTP on /graphql, liveness and readiness probes."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator

from broadcaster import Broadcast
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gql.downloads import document_endpoint
from gql.graphiql import ASSETS, ASSETS_URL
from gql.http import GraphQLEndpoint
from gql.ingest import ingest_endpoint
from gql.timing import ServerTimingMiddleware
from gql.schema.schema import schema
from persistence.db import create_engine, ping
from persistence.migrate import check_current
from persistence.outbox import OutboxDispatcher

log = logging.getLogger("salesgraph")


def tune_garbage_collector() -> None:
    """A large read allocates tens of thousands of short-lived, acyclic objects (freed by reference
    counting); with the default threshold of 700 the cyclic collector runs dozens of times per
    request and walks every long-lived object at start-up each time (~30% of a 700 KiB read).
    Freeze what start-up created and collect the young generation less often."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def broadcast_url() -> str:
    return os.environ.get("BROADCAST_URL", "memory://")


def dispatch_enabled() -> bool:
    """SALESGRAPH_DISPATCH=off runs a process without an outbox dispatcher (when `salesgraph
    dispatch` runs elsewhere); events then wait in the outbox."""
    return os.environ.get("SALESGRAPH_DISPATCH", "on").lower() not in ("off", "0", "false", "no")


def create_app(engine: AsyncEngine | None = None, dispatch: bool | None = None) -> Starlette:
    """The app on `engine` (default: one for DATABASE_URL), which it disposes of on shutdown."""
    engine = engine or create_engine()
    broadcast = Broadcast(broadcast_url())
    dispatcher = OutboxDispatcher(engine, broadcast)
    dispatch = dispatch_enabled() if dispatch is None else dispatch

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            async with engine.connect() as conn:
                await ping(conn)
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            log.warning("database not reachable: %s", error)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await check_current(engine)
        await broadcast.connect()
        task = asyncio.create_task(dispatcher.run(), name="outbox-dispatcher") if dispatch else None
        tune_garbage_collector()
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await broadcast.disconnect()
            await engine.dispose()

    endpoint = GraphQLEndpoint(schema, engine, events_committed=dispatcher.wake if dispatch else None)
    app = Starlette(
        routes=[
            Route("/graphql", endpoint),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/ingest/leads", ingest_endpoint(engine, dispatcher.wake if dispatch else None), methods=["POST"]),
            Route("/documents/{global_id}", document_endpoint(engine), methods=["GET"]),
            Mount(ASSETS_URL, app=GZipMiddleware(StaticFiles(directory=ASSETS)), name="graphiql-assets"),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.broadcast = broadcast
    app.state.dispatcher = dispatcher
    app.add_middleware(ServerTimingMiddleware)
    return app
