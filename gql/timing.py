"""Server-Timing on every HTTP response: the request's SQL statements and database time."""

from __future__ import annotations

import time
from typing import Any

from persistence.db import QueryStats, current_stats


class ServerTimingMiddleware:
    """Pure ASGI (no per-request task or body buffering): counts through a ContextVar that the
    engine's cursor events update, and adds the header when the response starts."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        stats = QueryStats()
        token = current_stats.set(stats)

        async def send_with_timing(message: dict) -> None:
            if message["type"] == "http.response.start":
                count = stats.statements
                value = (
                    f'db;dur={stats.seconds * 1000:.2f};desc="{count} statement{"" if count == 1 else "s"}", '
                    f"total;dur={(time.perf_counter() - started) * 1000:.2f}"
                )
                message["headers"] = [*message.get("headers", []), (b"server-timing", value.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            current_stats.reset(token)
