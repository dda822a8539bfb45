"""Event streams for subscriptions: replay from the outbox after `since`, then live from the hub,
with no gap and no duplicate."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncEngine

from gql import tracing
from gql.subscriptions.hub import Event, EventHub
from persistence import reads
from persistence.outbox import SinceOutOfRange, check_since, events_after
from persistence.visibility import KEPT_ROW, Viewer


@dataclass
class Realtime:
    """What a process's subscriptions share: the event hub and the live scoreboards."""

    engine: AsyncEngine
    hub: EventHub
    scoreboards: Any = None
    insights: Any = None  # the live conversation insights (gql/subscriptions/insights.py)


def parse_since(since: str | None) -> int | None:
    if since is None:
        return None
    try:
        value = int(str(since))
    except ValueError:
        raise GraphQLError(
            f"`since` must be an event id as received in `eventId`, not {since!r}",
            extensions={"code": "BAD_USER_INPUT"},
        ) from None
    if value < 0:
        raise GraphQLError("`since` must not be negative", extensions={"code": "BAD_USER_INPUT"})
    return value


async def may_see(engine: AsyncEngine, viewer: Viewer, event: Event) -> bool:
    """Whether the viewer may see the row an event is about (the same rules as every read,
    persistence/visibility.py): as it is now or, when the event's transaction deleted it, as it was
    then. Every kind of event follows this, a deletion included; a row gone without a kept copy (an
    older event about a row deleted since) is seen by no one the rules limit."""
    told = viewer.told_of(event["entityType"])
    if told is not None:
        return told
    kept = (event.get("data") or {}).get(KEPT_ROW)
    async with engine.connect() as conn:
        if kept is not None:
            return await reads.kept_row_visible(conn, event["entityType"], kept, viewer)
        return await reads.entity_visible(conn, event["entityType"], event["entityId"], viewer)


async def check_resume(realtime: Realtime, since: int) -> None:
    """Raise a GraphQLError (code SINCE_OUT_OF_RANGE) unless the outbox still has what follows `since`."""
    try:
        async with realtime.engine.connect() as conn:
            await check_since(conn, since)
    except SinceOutOfRange as error:
        raise GraphQLError(str(error), extensions={"code": "SINCE_OUT_OF_RANGE"}) from None


async def events(
    realtime: Realtime, accepts: Callable[[Event], bool], since: int | None, viewer: Viewer | None = None
) -> AsyncIterator[Event]:
    """The events `accepts` takes: those after `since` first (from the outbox), then live ones.
    Raises a GraphQLError (code SINCE_OUT_OF_RANGE) when the outbox no longer has what follows `since`."""
    hub = realtime.hub
    await hub.started()
    if since is not None:
        await check_resume(realtime, since)
    return _visible_only(realtime.engine, viewer, _replay_then_live(realtime.engine, hub, accepts, since))


async def _visible_only(
    engine: AsyncEngine, viewer: Viewer | None, source: AsyncIterator[Event]
) -> AsyncIterator[Event]:
    try:
        async for event in source:
            if viewer is None:
                yield event
            elif not tracing.ENABLED or viewer.told_of(event["entityType"]) is not None:  # (no SQL then)
                if await may_see(engine, viewer, event):
                    yield event
            else:
                # Its statements join the event's trace, beside the push they decide on.
                started = tracing.start_push("check visibility", event.get("traceparent"), None)
                try:
                    visible = await may_see(engine, viewer, event)
                finally:
                    tracing.end_push(started)
                if visible:
                    yield event
    finally:
        await source.aclose()  # type: ignore[attr-defined]


async def _replay_then_live(
    engine: AsyncEngine, hub: EventHub, accepts: Callable[[Event], bool], since: int | None
) -> AsyncIterator[Event]:
    with hub.listen(accepts) as listener:
        start = hub.position  # read in the same step as registering: the listener gets exactly what follows
        assert start is not None
        last = since if since is not None else start
        while last < start:
            async with engine.connect() as conn:
                batch = await events_after(conn, last, start)
            if not batch:
                break
            for event in batch:
                last = event["id"]
                if accepts(event):
                    yield event
        while True:
            event = await listener.get()
            # A client that saw an event through another process may be ahead of this one's hub.
            if since is None or event["id"] > since:
                yield event
