"""The ASGI application: GraphQL over HTTP on /graphql, liveness and readiness probes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from domain.base import utcnow
from domain.contracts import NOTICE_DAYS
from gql import tracing
from gql.admission import Settings
from gql.downloads import document_endpoint
from gql.graphiql import ASSETS, ASSETS_URL
from gql.http import GraphQLEndpoint
from gql.ingest import ingest_endpoint
from gql.ingest_conversations import ingest_conversations_endpoint
from gql.observe import Sampler, metrics_endpoint, process_exited
from gql.pipeline import Pipeline
from gql.schema.schema import schema
from gql.subscriptions.hub import EventHub, SlowConsumer
from gql.subscriptions.insights import InsightsTopics
from gql.subscriptions.protocol import WebSocketEndpoint
from gql.subscriptions.scoreboards import ScoreboardTopics
from gql.subscriptions.streams import Realtime
from gql.timing import ServerTimingMiddleware
from gql.token_cache import TokenCache
from gql.uploads import upload_endpoint
from persistence import custom_fields, stages
from persistence.bus import EventBus
from persistence.db import create_engine, ping, probe_engine
from persistence.migrate import check_current
from persistence.outbox import OutboxDispatcher
from persistence.reanalysis import Reanalyser
from persistence.scheduler import IndicatorScheduler

log = logging.getLogger("salesgraph")
DASHBOARD = ASSETS.parent / "dashboard"  # the live dashboard page (/dashboard) and its files


def tune_garbage_collector() -> None:
    """Start-up leaves hundreds of thousands of long-lived objects (the schema, SQLAlchemy's tables):
    frozen, no collection walks them again. A large read allocates tens of thousands of short-lived,
    acyclic objects, freed by reference counting; with the default threshold of 700 the young
    generation is collected dozens of times per read. The threshold of 10,000 keeps a collection
    under ~10 ms here while a nested read triggers few; requests leave almost no cyclic garbage
    (the parser's token chain, validation's visitors and the executor's helpers are cut), so
    collections stay rare. A higher threshold made each collection longer (50,000: 50-100 ms, the
    p99 of every request that waited for one)."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def broadcast_url() -> str:
    return os.environ.get("BROADCAST_URL", "memory://")


def dispatch_enabled() -> bool:
    """SALESGRAPH_DISPATCH=off runs a process without an outbox dispatcher (when `salesgraph
    dispatch` runs elsewhere); events then wait in the outbox."""
    return os.environ.get("SALESGRAPH_DISPATCH", "on").lower() not in ("off", "0", "false", "no")


def scheduler_enabled() -> bool:
    """SALESGRAPH_SCHEDULER=off runs a process without the status indicator scheduler (time-based
    indicators then flip only where one runs; one per deployment is enough, several are safe)."""
    return os.environ.get("SALESGRAPH_SCHEDULER", "on").lower() not in ("off", "0", "false", "no")


def reanalysis_enabled() -> bool:
    """SALESGRAPH_REANALYSIS=off runs a process without the background re-analysis of conversations after
    the tracked terms change (one process of a deployment works at a time; several are safe)."""
    return os.environ.get("SALESGRAPH_REANALYSIS", "on").lower() not in ("off", "0", "false", "no")


def _setting(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a number") from None


class App(Starlette):
    """The app: Starlette's, except that a WebSocket to /graphql goes straight to its endpoint. Starlette's
    middleware and router do nothing for it (the endpoint answers its own errors and close codes), yet each
    of their layers would stay suspended for the socket's whole life: about 3 KiB per idle socket here."""

    websocket_endpoint: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        endpoint = self.websocket_endpoint
        if (
            endpoint is not None
            and scope["type"] == "websocket"
            and scope["path"] == scope.get("root_path", "") + "/graphql"
        ):
            scope["app"] = self
            await endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def follow_settings(hub: EventHub) -> None:
    """Clear this process's copy of the stage catalogue, or of the custom field definitions, on every event of
    the outbox about them, whichever process committed it (persistence/stages.py, persistence/custom_fields.py);
    both when events may have been missed (a slow listener)."""
    copies = {stages.ENTITY_TYPE: stages.forget, custom_fields.ENTITY_TYPE: custom_fields.forget}
    while True:
        with hub.listen(lambda event: event.get("entityType") in copies) as listener:
            with contextlib.suppress(SlowConsumer):
                while True:
                    copies[(await listener.get()).get("entityType")]()
        for forget in copies.values():
            forget()


def create_app(
    engine: AsyncEngine | None = None,
    dispatch: bool | None = None,
    schedule: bool | None = None,
    clock: Callable[[], datetime] = utcnow,
    reanalyse: bool | None = None,
) -> Starlette:
    """The app on `engine` (default: one for DATABASE_URL), which it disposes of on shutdown; `clock`
    is the time of mutations and of the indicator scheduler (tests pass their own)."""
    engine = engine or create_engine()
    tracing.configure(engine)  # on only when the OTEL_* variables ask for it
    bus = EventBus(broadcast_url())
    probe = probe_engine(engine)
    dispatcher = OutboxDispatcher(engine, bus, tracer=tracing.tracer())
    hub = EventHub(
        engine,
        bus,
        queue_size=int(_setting("SALESGRAPH_SUBSCRIBER_QUEUE", 1000)),
        resync_seconds=_setting("SALESGRAPH_EVENT_RESYNC_SECONDS", 2.0),
    )
    realtime = Realtime(engine=engine, hub=hub)
    realtime.scoreboards = ScoreboardTopics(
        engine,
        hub,
        clock=clock,
        coalesce=_setting("SALESGRAPH_SCOREBOARD_COALESCE_SECONDS", 0.2),
        readers=int(_setting("SALESGRAPH_SCOREBOARD_READERS", 2)),
    )
    realtime.insights = InsightsTopics(
        engine,
        hub,
        clock=clock,
        coalesce=_setting("SALESGRAPH_SCOREBOARD_COALESCE_SECONDS", 0.2),
        readers=int(_setting("SALESGRAPH_SCOREBOARD_READERS", 2)),
    )
    realtime.insights.reading = realtime.scoreboards.reading  # the boards' connections, shared by both kinds
    # Token lookups kept per process; a change to a token, a user or a partner clears every process's.
    tokens = TokenCache(bus, max_age=Settings.from_env().token_cache_seconds)
    dispatch = dispatch_enabled() if dispatch is None else dispatch
    schedule = scheduler_enabled() if schedule is None else schedule
    scheduler = IndicatorScheduler(
        engine,
        clock=clock,
        on_events=dispatcher.wake if dispatch else None,
        notice_days=int(_setting("SALESGRAPH_CONTRACT_NOTICE_DAYS", NOTICE_DAYS)),
    )
    reanalyse = reanalysis_enabled() if reanalyse is None else reanalyse
    reanalyser = Reanalyser(engine, clock=clock, on_events=dispatcher.wake if dispatch else None)
    drain_seconds = _setting("SALESGRAPH_DRAIN_SECONDS", 0.0)
    sampler = Sampler(engine, lambda: hub.position, interval=_setting("SALESGRAPH_METRICS_SAMPLE_SECONDS", 5.0))

    def committed() -> None:
        """After a commit with events: publish them now, let the scheduler see new due times and the
        re-analysis changed terms."""
        if dispatch:
            dispatcher.wake()
        if schedule:
            scheduler.wake()
        if reanalyse:
            reanalyser.wake()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        if draining.is_set():  # stopping: the load balancer is to send nothing new here
            return JSONResponse({"status": "draining"}, status_code=503)
        try:
            async with asyncio.timeout(5.0), probe.connect() as conn:  # its own connection: see probe_engine
                await ping(conn)
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            log.warning("database not reachable: %s", error)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        status = {"status": "ok", "database": "ok", "eventBus": "ok"}
        if hub.position is None:  # the hub has not started: subscriptions would wait for it
            return JSONResponse({**status, "status": "unavailable", "eventBus": "not subscribed"}, status_code=503)
        try:
            await asyncio.wait_for(bus.ping(), 2.0)
        except Exception as error:  # noqa: BLE001 - any failure means the bus is away
            log.warning("event bus not reachable: %r", error)
            status.update(status="degraded", eventBus="unreachable")
        else:
            if not hub.connected:
                status.update(status="degraded", eventBus="not subscribed")
        # Degraded is still ready: queries and mutations work (events wait in the outbox) and subscribers
        # get events from the outbox every SALESGRAPH_EVENT_RESYNC_SECONDS. Every process shares the bus,
        # so a 503 here would take all of them out of the load balancer at once for a Redis restart.
        return JSONResponse(status)

    draining = asyncio.Event()

    async def drain(stop: Callable[[], None]) -> None:
        """A graceful stop: /readyz answers 503 for SALESGRAPH_DRAIN_SECONDS while everything is still
        served (a load balancer checking it stops sending requests and WebSockets here), then every
        WebSocket is closed with 1001, then the server stops (`stop`: uvicorn's own handling of the
        signal): it takes no new connection and finishes what it has begun within
        SALESGRAPH_GRACE_SECONDS."""
        log.info("stopping: draining for %s s", drain_seconds)
        await asyncio.sleep(drain_seconds)
        closed = websockets.going_away()
        log.info("stopping: %d WebSocket(s) told to reconnect elsewhere (1001)", closed)
        stop()

    def on_sigterm() -> Callable[[], None] | None:
        """Put `drain` before the server's own SIGTERM handling, in a process where uvicorn installed one
        (a real server, not a test's in-process app); returns what puts the old handler back."""
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous):
            return None
        loop = asyncio.get_running_loop()

        def stop() -> None:
            previous(signal.SIGTERM, None)

        def received(signum: int, frame: object) -> None:
            if draining.is_set():  # a second SIGTERM: stop now
                loop.call_soon_threadsafe(stop)
                return
            draining.set()
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(drain(stop)))

        signal.signal(signal.SIGTERM, received)
        return lambda: signal.signal(signal.SIGTERM, previous)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await check_current(engine)
        await stages.catalog(engine)  # so no request pays for reading the stage catalogue
        restore = on_sigterm()
        tasks = [
            asyncio.create_task(hub.run(), name="event-hub"),
            asyncio.create_task(follow_settings(hub), name="settings-events"),
            asyncio.create_task(tokens.run(), name="token-cache"),
            asyncio.create_task(tokens.follow(hub), name="token-cache-events"),
            asyncio.create_task(sampler.run(), name="metrics-sampler"),
        ]
        if dispatch:
            tasks.append(asyncio.create_task(dispatcher.run(), name="outbox-dispatcher"))
        if schedule:
            tasks.append(asyncio.create_task(scheduler.run(), name="indicator-scheduler"))
        if reanalyse:
            tasks.append(asyncio.create_task(reanalyser.run(), name="conversation-reanalysis"))
        tune_garbage_collector()
        try:
            yield
        finally:
            if restore is not None:
                restore()
            reanalyser.stop()  # it ends between two conversations; cancelled mid-transaction it could keep a lock
            for task in tasks:
                if task.get_name() != "conversation-reanalysis":
                    task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await realtime.scoreboards.close()
            await realtime.insights.close()
            await pipeline.admission.close()
            await bus.close()
            await probe.dispose()
            await engine.dispose()
            process_exited()

    # One pipeline for both transports: the same checks, parse cache, persisted queries, rate limit
    # budgets and executors whether an operation comes over HTTP or a WebSocket.
    pipeline = Pipeline(
        schema,
        engine,
        events_committed=committed if dispatch or schedule or reanalyse else None,
        clock=clock,
        tokens=tokens,
    )
    endpoint = GraphQLEndpoint(pipeline)
    websockets = WebSocketEndpoint(
        pipeline,
        realtime,
        init_timeout=_setting("SALESGRAPH_WS_INIT_TIMEOUT_SECONDS", 10.0),
        keepalive=_setting("SALESGRAPH_WS_KEEPALIVE_SECONDS", 15.0),
    )
    tokens.listeners.append(websockets.check_callers)  # a revoked token's sockets close at once
    app = App(
        routes=[
            Route("/graphql", endpoint),
            WebSocketRoute("/graphql", websockets),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint(engine, sampler, clock), methods=["GET"]),
            Route("/ingest/leads", ingest_endpoint(engine, pipeline.events_committed), methods=["POST"]),
            Route(
                "/ingest/conversations",
                ingest_conversations_endpoint(engine, pipeline.events_committed, clock),
                methods=["POST"],
            ),
            Route("/documents/{global_id}", document_endpoint(engine), methods=["GET"]),
            Route("/attachments", upload_endpoint(engine, pipeline.events_committed, clock), methods=["POST"]),
            Mount(ASSETS_URL, app=GZipMiddleware(StaticFiles(directory=ASSETS)), name="graphiql-assets"),
            Route("/dashboard", lambda request: FileResponse(DASHBOARD / "index.html"), methods=["GET"]),
            Mount("/dashboard", app=GZipMiddleware(StaticFiles(directory=DASHBOARD)), name="dashboard-assets"),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.bus = bus
    app.state.hub = hub
    app.state.realtime = realtime
    app.state.websockets = websockets
    app.websocket_endpoint = websockets
    app.state.pipeline = pipeline
    app.state.tokens = tokens
    app.state.dispatcher = dispatcher
    app.state.scheduler = scheduler
    app.state.reanalyser = reanalyser
    app.add_middleware(ServerTimingMiddleware)
    return app
