"""What a running process tells its operators: Prometheus metrics on `/metrics` and one log line per
operation.

Metrics are prometheus-client's. A single process keeps them in memory; with `serve --workers N` every
worker writes them to files in `PROMETHEUS_MULTIPROC_DIR` (the CLI makes one) and whichever worker answers
a scrape adds them up (prometheus-client's multiprocess mode). Several hosts are several scrape targets.

Per operation (HTTP request or WebSocket operation): a count by transport, type, name and outcome, and
histograms of its duration, SQL statements and database time. Refusals by reason (the refusal's code).
WebSocket connections and active subscriptions by root field. Pushes sent and dropped. Event bus: the
newest committed event, the newest delivered to this process, the lag between them, the outbox's
unpublished events. Scheduler: due indicator pairs not yet flipped and how late the oldest is. The
database pool's connections in use and the process's memory.

The log line of an operation (logger `salesgraph.operations`) carries its transport, type, name,
outcome, status, duration, statements, principal and request id: as JSON with SALESGRAPH_LOG_FORMAT=json
(salesgraph/logs.py), as `key=value` text otherwise. It never holds a token: the principal is named by
ids, and every handler redacts what looks like one anyway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.access import Principal
from domain.scopes import Scope
from gql.auth import principal_for
from gql.scopes import InsufficientScope, require
from persistence import tables
from persistence.db import QueryStats

log = logging.getLogger("salesgraph.operations")

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
_BY_KIND = ["transport", "type"]

OPERATIONS = Counter(
    "salesgraph_operations",
    "GraphQL operations by transport (http, websocket), type (query, mutation, subscription), operation "
    "name and outcome (ok, errors, refused, invalid, failed).",
    ["transport", "type", "name", "outcome"],
)
DURATION = Histogram(
    "salesgraph_operation_duration_seconds",
    "Time from a request's arrival to its answer (a subscription: to its start).",
    _BY_KIND,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STATEMENTS = Histogram(
    "salesgraph_operation_sql_statements",
    "SQL statements an operation ran.",
    _BY_KIND,
    buckets=(0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128),
)
DATABASE_TIME = Histogram(
    "salesgraph_operation_database_seconds",
    "Time an operation spent waiting for SQL statements.",
    _BY_KIND,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)
REFUSALS = Counter(
    "salesgraph_refusals",
    "Operations refused before they ran, by reason: the refusal's code (MAX_DEPTH, INSUFFICIENT_SCOPE, "
    "RATE_LIMITED, TRUSTED_DOCUMENTS_ONLY, UNAUTHENTICATED, GRAPHQL_VALIDATION_FAILED, …).",
    ["reason"],
)
CONNECTIONS = Gauge("salesgraph_websocket_connections", "Open WebSocket connections.", multiprocess_mode="livesum")
SUBSCRIPTIONS = Gauge(
    "salesgraph_subscriptions_active",
    "Running subscriptions by root field.",
    ["field"],
    multiprocess_mode="livesum",
)
PUSHES = Counter("salesgraph_pushes", "Messages sent (or queued) to WebSocket clients.")
DROPPED = Counter(
    "salesgraph_pushes_dropped",
    "Messages to WebSocket clients that were never sent, by reason: superseded (a newer state of the "
    "same subscription replaced it while the client was behind) or slow_consumer (the connection was "
    "closed as too slow with these waiting).",
    ["reason"],
)
NEWEST_EVENT = Gauge(
    "salesgraph_outbox_newest_event_id",
    "The id of the newest committed event (read when /metrics is scraped).",
    multiprocess_mode="livemax",
)
DELIVERED_EVENT = Gauge(
    "salesgraph_event_bus_delivered_event_id",
    "The id of the newest event delivered to this process's subscribers (the least of the live processes).",
    multiprocess_mode="livemin",
)
EVENT_LAG = Gauge(
    "salesgraph_event_bus_lag_events",
    "Newest committed event id minus the newest delivered to the process answering the scrape; across "
    "processes: max(salesgraph_outbox_newest_event_id) - min(salesgraph_event_bus_delivered_event_id).",
    multiprocess_mode="livemax",
)
OUTBOX_BACKLOG = Gauge(
    "salesgraph_outbox_unpublished_events",
    "Committed events not yet published to the event bus.",
    multiprocess_mode="livemax",
)
SCHEDULER_BACKLOG = Gauge(
    "salesgraph_scheduler_due_pairs",
    "Status indicator (monitor, row) pairs whose due time has passed and that the scheduler has not flipped yet.",
    multiprocess_mode="livemax",
)
SCHEDULER_LATENESS = Gauge(
    "salesgraph_scheduler_lateness_seconds",
    "How long ago the oldest of those pairs was due (0 when none is).",
    multiprocess_mode="livemax",
)
POOL_IN_USE = Gauge(
    "salesgraph_database_connections_in_use",
    "Connections of the process's database pool checked out now.",
    multiprocess_mode="livesum",
)
MEMORY = Gauge(
    "salesgraph_process_resident_memory_bytes",
    "Resident memory of each server process.",
    multiprocess_mode="liveall",
)

# Client-chosen operation names are labels: after this many distinct ones, the rest count as `other`.
MAX_NAMES = 200
_names: set[str] = set()


def name_label(name: str | None) -> str:
    if not name:
        return ""
    if name in _names:
        return name
    if len(_names) < MAX_NAMES:
        _names.add(name)
        return name
    return "other"


class Pushes:
    """Counts of pushes kept as plain integers on the hot path (a fan-out sends thousands in a loop) and
    moved into the counters by `Sampler` and at each scrape."""

    sent = 0
    superseded = 0
    slow_consumer = 0
    _flushed = (0, 0, 0)

    @classmethod
    def flush(cls) -> None:
        now = (cls.sent, cls.superseded, cls.slow_consumer)
        sent, superseded, slow = (a - b for a, b in zip(now, cls._flushed))
        cls._flushed = now
        if sent:
            PUSHES.inc(sent)
        if superseded:
            DROPPED.labels("superseded").inc(superseded)
        if slow:
            DROPPED.labels("slow_consumer").inc(slow)


@dataclass
class Seen:
    """What a transport learnt of one operation while handling it, for its metrics and log line."""

    transport: str
    started: float
    request_id: str
    kind: str = ""  # query, mutation, subscription; empty when refused before the operation was known
    name: str | None = None
    principal: Principal | None = None
    outcome: str = "ok"
    code: str | None = None  # the refusal's or the error's code
    status: int | None = None  # HTTP status; None on a WebSocket

    def refused(self, code: str, outcome: str = "refused") -> None:
        self.outcome, self.code = outcome, code


def principal_label(principal: Principal | None) -> str | None:
    if principal is None:
        return None
    owner = f"user:{principal.user_id}" if principal.user_id is not None else f"partner:{principal.partner_id}"
    return f"{owner} token:{principal.token_id}" if principal.token_id is not None else owner


def record(seen: Seen, stats: QueryStats | None) -> None:
    """Count the operation and write its log line."""
    seconds = time.perf_counter() - seen.started
    statements = stats.statements if stats is not None else 0
    database = stats.seconds if stats is not None else 0.0
    kind = seen.kind or "unknown"
    OPERATIONS.labels(seen.transport, kind, name_label(seen.name), seen.outcome).inc()
    DURATION.labels(seen.transport, kind).observe(seconds)
    STATEMENTS.labels(seen.transport, kind).observe(statements)
    DATABASE_TIME.labels(seen.transport, kind).observe(database)
    if seen.outcome in ("refused", "invalid"):
        REFUSALS.labels(seen.code or "UNKNOWN").inc()
    fields = {
        "transport": seen.transport,
        "type": kind,
        "operation": seen.name or "",
        "outcome": seen.outcome,
        "code": seen.code,
        "status": seen.status,
        "ms": round(seconds * 1000, 2),
        "statements": statements,
        "db_ms": round(database * 1000, 2),
        "principal": principal_label(seen.principal),
        "request_id": seen.request_id,
    }
    if log.isEnabledFor(logging.INFO):
        text = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None and v != "")
        log.info("operation %s", text, extra={"fields": fields})


class Sampler:
    """Every `interval` seconds, without SQL: the pool's connections in use, the process's memory, the
    newest event delivered here and the push counts."""

    def __init__(self, engine: AsyncEngine, delivered: Callable[[], int | None], interval: float = 5.0) -> None:
        self.engine, self.delivered, self.interval = engine, delivered, interval

    def sample(self) -> None:
        checkedout = getattr(self.engine.pool, "checkedout", None)
        POOL_IN_USE.set(checkedout() if checkedout is not None else 0)
        MEMORY.set(_resident_bytes())
        position = self.delivered()
        if position is not None:
            DELIVERED_EVENT.set(position)
        Pushes.flush()

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def _sample_database(engine: AsyncEngine, delivered: int | None, now: Any) -> None:
    """The deployment-wide figures, read when /metrics is scraped: two statements."""
    outbox, due = tables.outbox_events, tables.indicator_due_times
    async with engine.connect() as conn:
        newest, unpublished = (
            await conn.execute(
                select(
                    func.coalesce(func.max(outbox.c.position), 0),
                    func.count().filter(outbox.c.published_at.is_(None)),
                )
            )
        ).one()
        pairs, oldest = (
            await conn.execute(select(func.count(), func.min(due.c.due_at)).where(due.c.due_at <= now))
        ).one()
    NEWEST_EVENT.set(newest)
    OUTBOX_BACKLOG.set(unpublished)
    if delivered is not None:
        EVENT_LAG.set(max(0, newest - delivered))
    SCHEDULER_BACKLOG.set(pairs)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    SCHEDULER_LATENESS.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)


def metrics_endpoint(
    engine: AsyncEngine, sampler: Sampler, clock: Callable[[], Any]
) -> Callable[[Request], Awaitable[Response]]:
    """`GET /metrics` for a token with the `metrics:read` scope (admins hold it; give Prometheus a token
    of its own with only that scope)."""

    async def metrics(request: Request) -> Response:
        principal = await principal_for(engine, request.headers.get("authorization"))
        if principal is None:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": "a token with the metrics:read scope is required",
                            "extensions": {"code": "UNAUTHENTICATED"},
                        }
                    ]
                },
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="salesgraph"'},
            )
        try:
            require(principal, Scope.METRICS_READ, "GET /metrics")
        except InsufficientScope as error:
            return JSONResponse(
                {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}, status_code=error.status
            )
        sampler.sample()
        try:
            await _sample_database(engine, sampler.delivered(), clock())
        except Exception as error:  # noqa: BLE001 - the process's own figures are still worth answering
            logging.getLogger("salesgraph").warning("metrics: the database figures could not be read (%r)", error)
        return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)

    return metrics


def registry() -> CollectorRegistry:
    """The registry a scrape reads: this process's, or every worker's added up in multiprocess mode."""
    if not MULTIPROCESS:
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def process_exited() -> None:
    """Let the live gauges of a worker that stops leave the sums (multiprocess mode)."""
    if MULTIPROCESS:
        with contextlib.suppress(Exception):
            multiprocess.mark_process_dead(os.getpid())
