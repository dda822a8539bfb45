"""Live scoreboards: one topic per distinct scoreboard (period, team, currency) in a process, shared
by all its subscribers. A topic recomputes only after an event that can move a figure, or when time
alone changes one (`changes_at`); bursts are coalesced to at most one computation per `coalesce`
seconds, and the last state is always computed after the last event. Subscribers are woken with
the newest scoreboard, which carries a `rendered` cache so the same document is executed once per
scoreboard for all of them: the work per event does not grow with the number of subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from domain import scoreboard
from domain.errors import NotFound, ValidationError
from gql import ids
from gql.errors import ClientError
from gql.schema.scoreboard import Scoreboard
from gql.subscriptions.hub import Event, EventHub
from persistence.scoreboard import load_scoreboard_with_users
from persistence.visibility import Viewer

log = logging.getLogger("salesgraph.scoreboard")


def _moves(event: Event) -> bool:
    return scoreboard.moves_scoreboard(event["type"], event.get("data"))


class Group:
    """Subscribers of one topic with the same document, variables and caller: each new state is
    rendered once for them all and pushed to each in one loop."""

    __slots__ = ("render", "members")

    def __init__(self, render: Callable[[Scoreboard], Awaitable[str]]) -> None:
        self.render = render
        self.members: dict[tuple[Any, str], str] = {}  # (connection, operation id) -> its message prefix


class ScoreboardTopic:
    def __init__(self, topics: ScoreboardTopics, request: scoreboard.ScoreboardRequest, viewer: Viewer) -> None:
        self.topics, self.request, self.viewer = topics, request, viewer
        self.latest: Scoreboard | None = None
        self._figures: tuple | None = None
        self._changes_at: datetime | None = None
        self._changed = asyncio.Event()
        self._ready = asyncio.Event()
        self._error: BaseException | None = None
        self.subscribers = 0
        self.computations = 0
        self.groups: dict[Any, Group] = {}
        self._task: asyncio.Task[None] | None = None

    def join(
        self, key: Any, member: tuple[Any, str], prefix: str, render: Callable[[Scoreboard], Awaitable[str]]
    ) -> Group:
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(render)
        group.members[member] = prefix
        return group

    def leave(self, key: Any, group: Group, member: tuple[Any, str]) -> None:
        group.members.pop(member, None)
        if not group.members and self.groups.get(key) is group:
            del self.groups[key]

    async def _fan_out(self, board: Scoreboard) -> None:
        for group in list(self.groups.values()):
            try:
                body = await group.render(board)
            except Exception:
                log.exception("rendering scoreboard %s failed", self.request)
                continue
            for n, ((connection, op_id), prefix) in enumerate(list(group.members.items())):
                connection.push(op_id, prefix + body + "}")
                if n % 500 == 499:
                    await asyncio.sleep(0)  # let requests in between during a large fan-out

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"scoreboard {self.request}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def updates(self) -> AsyncIterator[Scoreboard]:
        """The current scoreboard at once, then each new one (intermediate states a slow subscriber
        did not take in time are skipped: only the newest matters)."""
        await self._ready.wait()
        if self._error is not None:
            raise self._error
        seen = None
        while True:
            board = self.latest
            if board is not None and board is not seen:
                seen = board
                yield board
            changed = self._changed
            if self.latest is seen:
                await changed.wait()

    async def _run(self) -> None:
        hub = self.topics.hub
        await hub.started()
        with hub.listen(_moves, maxsize=1_000_000) as listener:
            # Listening before the first computation: any event after it is seen.
            try:
                await self._compute()
            except Exception as error:  # noqa: BLE001 - an unknown team, a currency without a rate
                self._error = error
                self._ready.set()
                return
            self._ready.set()
            last = time.monotonic()
            failed = False
            while True:
                try:
                    timeout = None
                    if self._changes_at is not None:
                        timeout = max(0.0, (self._changes_at - self.topics.clock()).total_seconds())
                    if not failed:  # after a failure, compute again without waiting for another event
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(listener.get(), timeout)
                    wait = last + self.topics.coalesce - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)  # coalesce a burst into one computation
                    while not listener.queue.empty():
                        listener.queue.get_nowait()
                    last = time.monotonic()
                    await self._compute()
                    failed = False
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("recomputing scoreboard %s failed; retrying", self.request)
                    failed = True
                    await asyncio.sleep(1.0)

    async def _compute(self) -> None:
        board, users = await load_scoreboard_with_users(
            self.topics.engine, self.request, self.topics.clock(), self.viewer
        )
        self.computations += 1
        self._changes_at = board.changes_at
        figures = board.figures()[:-1]  # the event id alone changing is not news
        if figures == self._figures:
            return
        self._figures = figures
        rendered = Scoreboard.from_domain(board, users)
        rendered.rendered = {}  # type: ignore[attr-defined]  # see gql/subscriptions/protocol.py
        self.latest = rendered
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        await self._fan_out(rendered)


class TopicStream:
    """The updates of one topic as an async iterator that also names its topic, so the WebSocket
    handler can make the subscriber a member of the topic's group instead of iterating."""

    __slots__ = ("topic", "_updates")

    def __init__(self, topic: ScoreboardTopic, updates: AsyncIterator[Scoreboard]) -> None:
        self.topic, self._updates = topic, updates

    def __aiter__(self) -> TopicStream:
        return self

    async def __anext__(self) -> Scoreboard:
        return await self._updates.__anext__()

    async def aclose(self) -> None:
        await self._updates.aclose()  # type: ignore[attr-defined]


class ScoreboardTopics:
    """The process's live scoreboards; a topic lives while it has subscribers."""

    def __init__(self, engine: Any, hub: EventHub, clock: Callable[[], datetime], coalesce: float = 0.2) -> None:
        self.engine, self.hub, self.clock, self.coalesce = engine, hub, clock, coalesce
        # One topic per scoreboard and viewer: a board counts only what its viewer may see.
        self.topics: dict[tuple[scoreboard.ScoreboardRequest, Viewer], ScoreboardTopic] = {}

    async def subscribe(self, request: scoreboard.ScoreboardRequest, viewer: Viewer) -> AsyncIterator[Scoreboard]:
        """The updates of the scoreboard of `request` as `viewer` may see it; a ClientError now (not in
        the stream) when the request names an unknown team or a currency without a rate."""
        key = (request, viewer)
        topic = self.topics.get(key)
        if topic is None:
            topic = self.topics[key] = ScoreboardTopic(self, request, viewer)
            topic.start()
        await topic._ready.wait()
        if topic._error is not None:
            if self.topics.get(key) is topic and topic.subscribers == 0:
                del self.topics[key]
            raise _client_error(topic._error, request)
        return TopicStream(topic, self._updates(topic))

    async def _updates(self, topic: ScoreboardTopic) -> AsyncIterator[Scoreboard]:
        topic.subscribers += 1
        try:
            async for board in topic.updates():
                yield board
        finally:
            topic.subscribers -= 1
            key = (topic.request, topic.viewer)
            if topic.subscribers == 0 and self.topics.get(key) is topic:
                del self.topics[key]
                await topic.stop()

    async def close(self) -> None:
        for topic in list(self.topics.values()):
            await topic.stop()
        self.topics.clear()


def _client_error(error: BaseException, request: scoreboard.ScoreboardRequest) -> Exception:
    if isinstance(error, NotFound):
        return ClientError(f"{ids.encode('Team', request.team_id)!r} names no team", code="NOT_FOUND")
    if isinstance(error, ValidationError):
        return ClientError(error.message, code="BAD_USER_INPUT", field=error.field)
    return error
