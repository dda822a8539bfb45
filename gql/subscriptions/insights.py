"""Live conversation insights (`conversationInsightsUpdated`) on the live boards' machinery
(gql/subscriptions/scoreboards.py): one topic per page shape (period, team, seller) in a process, shared by
its viewers and subscribers; an event that can move a figure or what a viewer may see wakes it, bursts are
coalesced, the reads share the boards' connections (the same semaphore), each viewer's subscribers with the
same document are one group rendered once per new state, and a state whose figures did not move is not
pushed.

As for the scoreboard, a coalesced event costs one read of the shape for every viewer
(`persistence.insights.load_source`: the buckets and items of *all* scopes, the partial days' conversations,
the new names, the terms, the scoreboard's shared read), and each viewer's page is cut from it in Python by
the scopes and conversations it may see (`cut`). Which those are is SQL (the conversations' visibility
follows accounts, contacts and opportunities: persistence/visibility.conversation_scope_rule), so each viewer
keeps a `Sight`: the scopes and conversations it was found to see or not, and its activity minutes. A viewer
costs one statement for what is new to it (scopes or conversations it has not been checked for, or its
activity minutes after an activity changed or the period's bounds moved), none when nothing is; an event that
may change what someone sees (anything but `SAFE`) makes every viewer check again."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from domain import insights
from domain.scoreboard import moves_scoreboard
from gql.schema import insights as page
from gql.subscriptions.hub import Event
from gql.subscriptions.scoreboards import BoardKind, ScoreboardTopic, ScoreboardTopics, ViewerBoard
from persistence.insights import Sight, Source, cut
from persistence.visibility import Viewer

# Events after which a page may show other figures (besides those that move the scoreboard's won revenue).
MOVING = frozenset(
    {
        "ConversationRecorded",
        "ConversationDeleted",
        "TrackedTermChanged",
        "ConversationsReanalysed",
        "ActivityLogged",
        "ActivityChanged",
        "ActivityDeleted",
        "AccountDeleted",
        "ContactDeleted",
        "ContactChanged",
    }
)
# Events after which every viewer sees the same scopes, conversations and activities as before (a new
# conversation's scope, if new, is checked as new): any other event makes every viewer check again.
SAFE = frozenset(
    {
        "ConversationRecorded",
        "ConversationDeleted",
        "TrackedTermChanged",
        "ConversationsReanalysed",
        "ActivityLogged",
        "ActivityChanged",
        "ActivityDeleted",
        "OpportunityStageChanged",
        "OpportunityWon",
        "OpportunityLost",
        "OpportunityUnlocked",
        "GoalSet",
        "CatalogChanged",
    }
)
ACTIVITIES = frozenset({"ActivityLogged", "ActivityChanged", "ActivityDeleted"})  # move activity minutes
# Events that move neither a figure of the page nor what anyone sees: they do not wake a page.
QUIET_PREFIXES = (
    "Task",
    "Quote",
    "Contract",
    "StatusIndicator",
    "StatusMonitor",
    "Selection",
    "Campaign",
    "Attachment",
)
SLIDING_REREAD = timedelta(seconds=60)  # a sliding window's page is read again this often without events


def moves_insights(event_type: str, data: Mapping | None = None) -> bool:
    return event_type in MOVING or moves_scoreboard(event_type, data)


def _moves(event: Event) -> bool:
    """Whether a page may move: its figures, or what a viewer may see of them."""
    kind = event["type"]
    return moves_insights(kind, event.get("data")) or not kind.startswith(QUIET_PREFIXES)


def _figures(data: insights.PageData) -> tuple:
    """What a page shows, but for the period's bounds (a sliding window's move alone is not news)."""
    return (data.parts, data.terms, data.names, data.names_before, data.won, data.board_reps, data.activity_minutes)


def _changes_at(data: insights.PageData, now: datetime) -> datetime | None:
    """When time alone may change the figures: a sliding window's every minute, a calendar period's end."""
    period = data.period
    if period.sliding:
        return now + SLIDING_REREAD
    if period.end is not None and now < period.end:
        return period.end
    return None


class InsightsViewerBoard(ViewerBoard):
    def __init__(self, topic: ScoreboardTopic, viewer: Viewer) -> None:
        super().__init__(topic, viewer)
        self.sight = Sight(viewer)

    def take(self, source: Source, now: datetime) -> Any:
        """This viewer's page from `source` (its sight updated for it); the new state when its figures moved."""
        data = cut(source, self.sight)
        request, event_id = self.topic.request, source.board.event_id
        return self.publish(_figures(data), _changes_at(data, now), lambda: page.build(data, request, now, event_id))


class InsightsTopic(ScoreboardTopic):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = asyncio.Lock()  # a read with its viewers' sights, or a viewer joining: one at a time
        self.read_at: datetime | None = None
        self._stale = True  # every viewer checks all again (after a failed read)

    def failed(self) -> None:
        self._stale = True  # (events may have been lost: every viewer checks everything again)

    async def open_view(self, viewer: Viewer) -> ViewerBoard:
        """`viewer`'s page, cut from the newest read after one statement for its sight."""
        found = self.views.get(viewer)
        if found is not None:
            return found
        topics = self.topics
        async with self.lock:
            found = self.views.get(viewer)
            if found is None:
                found = InsightsViewerBoard(self, viewer)
                source = self.source
                async with topics.reading, topics.engine.connect() as conn:
                    await found.sight.update(conn, source)  # type: ignore[arg-type]
                found.take(source, self.read_at)  # type: ignore[arg-type]
                self.views[viewer] = found
                self._joined.set()
        return found

    async def _compute(self, listener: Any) -> None:
        """One read of the shape, each viewer's sight brought up to date (one statement at most each), then
        each viewer's page cut and pushed."""
        topics = self.topics
        async with self.lock:
            async with topics.reading:
                while not listener.queue.empty():
                    self.events.append(listener.queue.get_nowait())
                events, self.events = self.events, []
                again = self._stale or any(e["type"] not in SAFE for e in events)
                activities = any(e["type"] in ACTIVITIES for e in events)
                self._stale = True
                now = topics.clock()
                views: list[InsightsViewerBoard] = list(self.views.values())  # type: ignore[arg-type]
                async with topics.engine.connect() as conn:
                    source = await page.read_source(conn, self.request, now)
                    for view in views:
                        if again or activities:
                            view.sight.forget(activities_only=not again)
                        await view.sight.update(conn, source)
            self._stale = False
            self.computations += 1
            self.source, self.read_at = source, now  # type: ignore[assignment]
            boards = [(view, view.take(source, now)) for view in views]
        for view, board in boards:
            if board is not None:
                await view.fan_out(board)
            await asyncio.sleep(0)


class InsightsKind(BoardKind):
    """The insights page as a kind of live board: what moves it. Its reads and cuts are `InsightsTopic`'s
    (each viewer's sight is kept between reads)."""

    name = "insights"

    def moves(self, event: Event) -> bool:
        return _moves(event)


INSIGHTS = InsightsKind()


class InsightsTopics(ScoreboardTopics):
    """The process's live insight pages."""

    topic_class = InsightsTopic

    async def subscribe(self, request: Any, viewer: Viewer, kind: BoardKind = INSIGHTS) -> Any:
        return await super().subscribe(request, viewer, kind)
