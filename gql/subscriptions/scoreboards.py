"""Live scoreboards: one topic per board shape (period, team, currency) in a process, shared by every
viewer and subscriber of it. After an event that can move a figure (or when time alone changes one,
`changes_at`) the topic reads the board once for all its viewers (`load_board_source`: the buckets and
edge deals per the attributes the visibility rules read, every user and goal) and cuts each viewer's
board from that read in Python (`cut_board`), so the SQL per event does not grow with the number of
distinct viewers, nor with the number of subscribers.

Off the write path: a mutation commits and answers before any board hears of it (the outbox and the
event hub carry it here), bursts are coalesced to at most one read per `coalesce` seconds per shape,
and a board that falls behind reads the newest state once, not every step. The reads of all boards
share `readers` connections (a semaphore), so however many shapes are live, boards never hold more of
the pool than that and the writes keep the rest.

Each viewer's board is pushed to groups of subscribers with the same document, variables and caller
(`Group`): a new state is rendered once per group (a `rendered` cache on the board, see
gql/subscriptions/protocol.py) and pushed to each member in one loop."""

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
from gql import ids, tracing
from gql.errors import ClientError
from gql.schema.scoreboard import Scoreboard
from gql.subscriptions.hub import Event, EventHub
from persistence.db import QueryStats, current_stats
from persistence.scoreboard import BoardSource, cut_board, load_board_source
from persistence.visibility import Viewer

log = logging.getLogger("salesgraph.scoreboard")


def _moves(event: Event) -> bool:
    return scoreboard.moves_scoreboard(event["type"], event.get("data"))


class BoardKind:
    """What a kind of live board reads and shows: the scoreboard (this class), the sales reports
    (gql/schema/reports.py, `REPORTS`). Every kind shares the topics' machinery: one read per board
    shape per coalesced event, each viewer's answer cut from it, the readers' semaphore, `since`."""

    name = "scoreboard"
    # Whether two viewers' boards with equal figures (cut from the same read) are the same board, so that
    # one GraphQL object (and its renders) can serve both: true of the scoreboard, whose figures are all it
    # shows besides the read's own event id and clock.
    figures_identify = True

    def moves(self, event: Event) -> bool:
        """Whether an event can move a board of this kind."""
        return _moves(event)

    async def load(self, conn: Any, request: Any, now: datetime) -> Any:
        """The one read of a board shape for every viewer (raises NotFound for an unknown team)."""
        return await load_board_source(conn, request, now)

    def cut(self, source: Any, viewer: Viewer) -> tuple[tuple, Any, datetime | None]:
        """`viewer`'s board from `source`: its figures (equal figures: nothing to push), a function that
        makes the GraphQL object to push, and when time alone changes it next."""
        rows = cut_board(source, viewer)
        board = rows.board
        return board.figures()[:-1], lambda: Scoreboard.from_domain(board, rows.users), board.changes_at

    def client_error(self, error: BaseException, request: Any) -> BaseException:
        return _client_error(error, request)


SCOREBOARD = BoardKind()


class Group:
    """Subscribers of one viewer's board with the same document, variables and caller: each new state
    is rendered once for them all and pushed to each in one loop."""

    __slots__ = ("key", "render", "members", "links")

    def __init__(self, key: Any, render: Callable[[Scoreboard], Awaitable[str]]) -> None:
        self.key, self.render = key, render
        self.members: dict[tuple[Any, str], str] = {}  # (connection, operation id) -> its message prefix
        self.links: dict[tuple[Any, str], Any] = {}  # with traces on: member -> its subscription's span context


class ViewerBoard:
    """One viewer's board of a topic: its newest state and its subscribers' groups (what the WebSocket
    handler joins, `TopicStream.topic`)."""

    def __init__(self, topic: ScoreboardTopic, viewer: Viewer) -> None:
        self.topic, self.viewer = topic, viewer
        self.latest: Scoreboard | None = None
        self.changes_at: datetime | None = None
        self._figures: tuple | None = None
        self._changed = asyncio.Event()
        self.subscribers = 0
        self.groups: dict[Any, Group] = {}

    def join(
        self,
        key: Any,
        member: tuple[Any, str],
        prefix: str,
        render: Callable[[Scoreboard], Awaitable[str]],
        subscription: Any = None,
    ) -> Group:
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key, render)
        group.members[member] = prefix
        if subscription is not None:
            group.links[member] = subscription
        return group

    def leave(self, group: Group, member: tuple[Any, str]) -> None:
        group.members.pop(member, None)
        group.links.pop(member, None)
        if not group.members and self.groups.get(group.key) is group:
            del self.groups[group.key]

    def cut(self, source: BoardSource, same: dict[Any, Any] | None = None) -> Scoreboard | None:
        """This viewer's board from `source`; the new state when its figures moved, else None. Raises
        ValidationError for a reporting currency without a rate. `same`: the boards made from this read
        so far by their figures, when the kind's figures identify a board (see `publish`)."""
        kind = self.topic.kind
        figures, make, changes_at = kind.cut(source, self.viewer)
        # (the event id alone changing is not news: figures leave it out)
        return self.publish(figures, changes_at, make, same if kind.figures_identify else None)

    def publish(
        self,
        figures: Any,
        changes_at: datetime | None,
        render: Callable[[], Any],
        same: dict[Any, Any] | None = None,
    ) -> Any:
        """Make the state `render()` gives the newest when `figures` differ from the last ones'; returns
        it then, else None. `changes_at`: when time alone changes the figures next. With `same` (the
        states made from one read, by figures), a viewer whose figures equal another's gets that one's
        object, and with it the renders already made of it (its `rendered` cache): viewers whose boards
        are identical cost one render per document, however many they are."""
        self.changes_at = changes_at
        if figures == self._figures:
            return None
        self._figures = figures
        rendered = same.get(figures) if same is not None else None
        if rendered is None:
            rendered = render()
            rendered.rendered = {}  # see gql/subscriptions/protocol.py
            if same is not None:
                same[figures] = rendered
        self.latest = rendered
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        return rendered

    async def fan_out(self, board: Scoreboard) -> None:
        for group in list(self.groups.values()):
            if not tracing.ENABLED:
                await self._push(group, board)
                continue
            # One span per group's push (its render and its sends), linked to each member's subscription.
            started = tracing.start_push(
                f"push {self.topic.kind.name}",
                None,
                list(group.links.values()),
                **{"salesgraph.subscribers": len(group.members)},
            )
            try:
                await self._push(group, board)
            finally:
                tracing.end_push(started)

    async def _push(self, group: Group, board: Scoreboard) -> None:
        try:
            body = await group.render(board)
        except Exception:
            log.exception("rendering scoreboard %s failed", self.topic.request)
            return
        for n, ((connection, op_id), prefix) in enumerate(list(group.members.items())):
            connection.push(op_id, prefix + body + "}")
            if n % 500 == 499:
                await asyncio.sleep(0)  # let requests in between during a large fan-out

    async def updates(self) -> AsyncIterator[Scoreboard]:
        """The current board at once, then each new one (intermediate states a slow subscriber did not
        take in time are skipped: only the newest matters)."""
        seen = None
        while True:
            board = self.latest
            if board is not None and board is not seen:
                seen = board
                yield board
            changed = self._changed
            if self.latest is seen:
                await changed.wait()


class ScoreboardTopic:
    """One board shape: one read per (coalesced) event, cut for each of its viewers."""

    def __init__(self, topics: ScoreboardTopics, request: Any, kind: BoardKind = SCOREBOARD) -> None:
        self.topics, self.request, self.kind = topics, request, kind
        self.source: BoardSource | None = None
        self.views: dict[Viewer, ViewerBoard] = {}
        self.joining = 0  # subscribers waiting for the first read
        self._ready = asyncio.Event()
        self._joined = asyncio.Event()  # a new viewer's board: the time to wait may be shorter now
        self._error: BaseException | None = None
        self.events: list[Event] = []  # the events since the last read (a kind that keeps state per viewer reads them)
        self.computations = 0  # reads of the board (one per coalesced event, whatever the viewers)
        self.busy = 0.0  # seconds the last read, cuts and pushes took
        self._task: asyncio.Task[None] | None = None

    @property
    def subscribers(self) -> int:
        return sum(view.subscribers for view in self.views.values())

    async def open_view(self, viewer: Viewer) -> ViewerBoard:
        """`viewer`'s board (the subscription's way in: a kind of board may need to read for a new viewer)."""
        return self.view(viewer)

    def view(self, viewer: Viewer) -> ViewerBoard:
        """`viewer`'s board, cut from the newest read when it is new to this topic."""
        found = self.views.get(viewer)
        if found is None:
            assert self.source is not None
            found = ViewerBoard(self, viewer)
            found.cut(self.source)  # raises for a currency without a rate, before anyone joins
            self.views[viewer] = found
            self._joined.set()
        return found

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"scoreboard {self.request}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _changes_at(self) -> datetime | None:
        times = [view.changes_at for view in self.views.values() if view.changes_at is not None]
        return min(times) if times else None

    async def _run(self) -> None:
        hub = self.topics.hub
        # Every statement of this task (reads, cuts, renders for its groups) counts in the boards' stats
        # (the task has its own context: requests are not counted there).
        current_stats.set(self.topics.stats)
        await hub.started()
        with hub.listen(self.kind.moves, maxsize=1_000_000) as listener:
            # Listening before the first read: any event after it is seen.
            try:
                await self._traced_compute(listener)
            except Exception as error:  # noqa: BLE001 - an unknown team
                self._error = error
                self._ready.set()
                return
            self._ready.set()
            last = time.monotonic()
            failed = False
            while True:
                try:
                    timeout = None
                    changes_at = self._changes_at()
                    if changes_at is not None:
                        timeout = max(0.0, (changes_at - self.topics.clock()).total_seconds())
                    if not failed and not await self._event_or_time(listener, timeout):
                        continue  # a viewer joined: wait again until the earliest time any board changes
                    # Coalesce a burst into one read; and a board whose read, cuts and renders took long
                    # starts the next no sooner than three times that after this one began: it holds the
                    # event loop (which serves the writes too) a third of the time at most, and what it
                    # skips meanwhile it catches up on in one read of the newest state.
                    pause = max(self.topics.coalesce, 3 * self.busy)
                    wait = last + pause - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    last = time.monotonic()
                    await self._traced_compute(listener)
                    self.busy = time.monotonic() - last
                    failed = False
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("recomputing scoreboard %s failed; retrying", self.request)
                    self.failed()
                    failed = True
                    await asyncio.sleep(1.0)

    async def _traced_compute(self, listener: Any) -> None:
        """`_compute`, with traces on as a span of its own (its reads, and its pushes as children)."""
        if not tracing.ENABLED:
            await self._compute(listener)
            return
        started = tracing.start_push(f"update {self.kind.name}", None, None, **{"salesgraph.views": len(self.views)})
        try:
            await self._compute(listener)
        finally:
            tracing.end_push(started)

    def failed(self) -> None:
        """A read failed or events were lost (a slow listener): a kind that keeps state per viewer drops it."""

    async def _event_or_time(self, listener: Any, timeout: float | None) -> bool:
        """Wait for an event or `timeout`: True, time to read again; False when a viewer joined first,
        whose board may change with time sooner than the others' (its wait is to be set again)."""
        self._joined.clear()
        event = asyncio.ensure_future(listener.get())
        joined = asyncio.ensure_future(self._joined.wait())
        try:
            done, _ = await asyncio.wait({event, joined}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (event, joined):
                if not task.done():
                    task.cancel()
        if event in done:
            self.events.append(event.result())  # (raises SlowConsumer, as listener.get does)
            return True
        return joined not in done

    async def _compute(self, listener: Any) -> None:
        """Read the board once (taking one of the boards' connections), then cut and push each viewer's."""
        topics = self.topics
        async with topics.reading:
            # Everything that waits now is in this read: a board that fell behind reads the newest
            # state once instead of replaying every step.
            while not listener.queue.empty():
                listener.queue.get_nowait()
            self.events.clear()
            async with topics.engine.connect() as conn:
                source = await self.kind.load(conn, self.request, topics.clock())
        self.computations += 1
        self.source = source
        same: dict[Any, Any] = {}  # this read's boards by figures: viewers with identical boards share one
        for viewer, view in list(self.views.items()):
            try:
                board = view.cut(source, same)
            except Exception:
                log.exception("cutting scoreboard %s for %s failed", self.request, viewer)
                continue
            if board is not None:
                await view.fan_out(board)
            await asyncio.sleep(0)  # let requests in between viewers


class TopicStream:
    """The updates of one viewer's board as an async iterator that also names that board, so the
    WebSocket handler can make the subscriber a member of its group instead of iterating. `release()`
    (or `aclose()`) ends the subscription's share of the topic, once: the WebSocket handler releases a
    member when its subscription ends, with no task or generator kept for it meanwhile."""

    __slots__ = ("topics", "owner", "topic", "_updates", "_released")

    def __init__(self, topics: ScoreboardTopics, owner: ScoreboardTopic, topic: ViewerBoard) -> None:
        self.topics, self.owner, self.topic = topics, owner, topic
        self._updates: AsyncIterator[Scoreboard] | None = None
        self._released = False

    def __aiter__(self) -> TopicStream:
        return self

    async def __anext__(self) -> Scoreboard:
        if self._released:
            raise StopAsyncIteration
        if self._updates is None:
            self._updates = self.topic.updates()
        return await self._updates.__anext__()

    async def close_updates(self) -> None:
        """Stop iterating (the subscriber now gets its states through its group), keeping its share."""
        updates, self._updates = self._updates, None
        if updates is not None:
            await updates.aclose()  # type: ignore[attr-defined]

    def release(self) -> None:
        """The subscriber is gone: its viewer's board goes with its last subscriber, the topic with its last
        viewer (its task cancelled). Idempotent, and never waits."""
        if self._released:
            return
        self._released = True
        view, topic = self.topic, self.owner
        view.subscribers -= 1
        if view.subscribers == 0 and topic.views.get(view.viewer) is view:
            del topic.views[view.viewer]
        self.topics.drop_if_idle(topic)

    async def aclose(self) -> None:
        try:
            await self.close_updates()
        finally:
            self.release()


class ScoreboardTopics:
    """The process's live boards; a topic lives while it has subscribers. The insights pages
    (gql/subscriptions/insights.py) are a subclass with their own `topic_class` (each viewer keeps its sight)
    and kind."""

    topic_class: Any = None  # ScoreboardTopic, set below

    def __init__(
        self,
        engine: Any,
        hub: EventHub,
        clock: Callable[[], datetime],
        coalesce: float = 0.2,
        readers: int = 2,
    ) -> None:
        self.engine, self.hub, self.clock, self.coalesce = engine, hub, clock, coalesce
        # One topic per board shape, for every viewer: each viewer's board is cut from its read.
        self.topics: dict[tuple[str, Any], ScoreboardTopic] = {}  # by (kind, request)
        self.reading = asyncio.Semaphore(readers)  # the connections all boards' reads share
        self.stats = QueryStats()  # the statements of all topics' tasks: reads, cuts, renders (tests count them)

    async def subscribe(self, request: Any, viewer: Viewer, kind: BoardKind = SCOREBOARD) -> AsyncIterator[Scoreboard]:
        """The updates of the board of `request` (a scoreboard, or another `kind`) as `viewer` may see
        it; a ClientError now (not in the stream) when the request names an unknown team or a currency
        without a rate."""
        key = (kind.name, request)
        topic = self.topics.get(key)
        if topic is None:
            topic = self.topics[key] = self.topic_class(self, request, kind)
            topic.start()
        topic.joining += 1
        try:
            await topic._ready.wait()
            if topic._error is not None:
                raise kind.client_error(topic._error, request)
            view = await topic.open_view(viewer)
        except BaseException as error:
            topic.joining -= 1
            self.drop_if_idle(topic)
            if isinstance(error, Exception):
                raise kind.client_error(error, request) from None
            raise
        view.subscribers += 1
        topic.joining -= 1
        return TopicStream(self, topic, view)

    def drop_if_idle(self, topic: ScoreboardTopic) -> None:
        """Forget a topic with no viewer and nobody joining, and cancel its task (it ends on its own)."""
        key = (topic.kind.name, topic.request)
        if not topic.views and topic.joining == 0 and self.topics.get(key) is topic:
            del self.topics[key]
            if topic._task is not None:
                topic._task.cancel()

    async def close(self) -> None:
        for topic in list(self.topics.values()):
            await topic.stop()
        self.topics.clear()


ScoreboardTopics.topic_class = ScoreboardTopic


def _client_error(error: BaseException, request: Any) -> BaseException:
    if isinstance(error, ClientError):
        return error
    if isinstance(error, NotFound):
        return ClientError(f"{ids.encode('Team', request.team_id)!r} names no team", code="NOT_FOUND")
    if isinstance(error, ValidationError):
        return ClientError(error.message, code="BAD_USER_INPUT", field=error.field)
    return error
