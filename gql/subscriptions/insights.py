"""Live conversation insights (`conversationInsightsUpdated`) on the live scoreboards' machinery
(gql/subscriptions/scoreboards.py): one topic per page shape (period, team, seller) in a process, shared by
its subscribers; an event that can move a figure (a conversation recorded or deleted, a term changed, a
re-analysis batch, an activity, a sale, an account's or contact's change) wakes it, bursts are coalesced,
the reads share the boards' connections (the same semaphore), each viewer's subscribers with the same
document are one group rendered once per new state, and a state whose figures did not move is not pushed.

Unlike a scoreboard, a page is not cut from one shared read in Python: the conversations' visibility
follows accounts, contacts and opportunities (persistence/visibility.conversation_scope_rule), which the
page's reads apply in SQL. So a coalesced event costs one page read per distinct viewer of a shape
(13 statements for a bounded period), not one per subscriber."""

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
SLIDING_REREAD = timedelta(seconds=60)  # a sliding window's page is read again this often without events


def moves_insights(event_type: str, data: Mapping | None = None) -> bool:
    return event_type in MOVING or moves_scoreboard(event_type, data)


def _moves(event: Event) -> bool:
    return moves_insights(event["type"], event.get("data"))


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
    async def read(self, conn: Any, now: datetime) -> tuple[insights.PageData, int | None]:
        return await page.read_page(conn, self.topic.request, now, self.viewer)

    def take(self, data: insights.PageData, event_id: int | None, now: datetime) -> Any:
        request = self.topic.request
        return self.publish(_figures(data), _changes_at(data, now), lambda: page.build(data, request, now, event_id))


class InsightsTopic(ScoreboardTopic):
    async def open_view(self, viewer: Viewer) -> ViewerBoard:
        found = self.views.get(viewer)
        if found is None:
            found = InsightsViewerBoard(self, viewer)
            topics = self.topics
            now = topics.clock()
            async with topics.reading, topics.engine.connect() as conn:
                state = await found.read(conn, now)
            found.take(*state, now)  # raises ClientError for an unknown team, before anyone joins
            if viewer not in self.views:
                self.views[viewer] = found
                self._joined.set()
            else:
                found = self.views[viewer]
        return found

    async def _compute(self, listener: Any) -> None:
        """One page read per viewer of this shape (sharing the boards' connections), then the pushes."""
        topics = self.topics
        views = list(self.views.items())
        states: dict[Viewer, Any] = {}
        async with topics.reading:
            while not listener.queue.empty():
                listener.queue.get_nowait()
            now = topics.clock()
            if views:
                async with topics.engine.connect() as conn:
                    for viewer, view in views:
                        states[viewer] = await view.read(conn, now)  # type: ignore[attr-defined]
        self.computations += 1
        self.source = True  # type: ignore[assignment]
        for viewer, view in views:
            if viewer not in states:
                continue
            board = view.take(*states[viewer], now)  # type: ignore[attr-defined]
            if board is not None:
                await view.fan_out(board)
            await asyncio.sleep(0)


class InsightsKind(BoardKind):
    """The insights page as a kind of live board: what moves it. Its reads are `InsightsTopic`'s, one per
    viewer, so the shared read and cut of `BoardKind` are not used."""

    name = "insights"

    def moves(self, event: Event) -> bool:
        return _moves(event)


INSIGHTS = InsightsKind()


class InsightsTopics(ScoreboardTopics):
    """The process's live insight pages."""

    topic_class = InsightsTopic

    async def subscribe(self, request: Any, viewer: Viewer, kind: BoardKind = INSIGHTS) -> Any:
        return await super().subscribe(request, viewer, kind)
