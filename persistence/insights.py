"""The reads of the conversation insights page (domain/insights.py): never a transcript, and a fixed number
of statements whatever the data.

1. the buckets of the scopes the viewer sees (visibility.conversation_scope_rule), for the period and
   the previous one: whole months as MONTH buckets (a series by month), every other whole day as DAY
   buckets, per owner and series point;
2. their items (tracked terms, sentiment scores) the same way;
3. (a sliding window only) the conversations of the partial days at either end, read as the tracker reads
   them (conversation_aggregates.facts_where: three statements) through the conversations' own rule;
4. the tracked terms; 5. the names new in either period; 6. the activities' minutes by channel;
7. the scoreboard of the period (its statements) for each rep's won revenue.
The owner filter (a team, a user) is applied in SQL to the conversations and in Python to the owners."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import insights
from domain.scoreboard import Period, PeriodSpec, ScoreboardRequest
from persistence import aggregates, tables
from persistence import conversation_aggregates as ca
from persistence.scoreboard import load_scoreboard_rows
from persistence.visibility import Viewer, conversation_scope_rule

b, it, s = ca.buckets, ca.items, ca.scopes
c, names = tables.conversations, tables.conversation_names
acts, users = tables.sales_activities, tables.users
NOW, BEFORE = "now", "before"


def pieces(
    period: Period, by_day: bool
) -> tuple[list[tuple[str, date, date]], list[tuple[bool, datetime, datetime, bool]]]:
    """The (grain, first, last) bucket ranges and the edges (as in aggregates.Cover) of a period."""
    if period.start is None or period.end is None:
        return [(ca.MONTH, date.min, date.max)], []
    cover = aggregates.cover(period)
    ranges = [(ca.DAY, low, high) for low, high in cover.day_ranges]
    if cover.months is not None:
        first, last = cover.months
        if by_day:
            after_last = aggregates._month(aggregates._index(last) + 1)
            ranges.append((ca.DAY, first, after_last - timedelta(days=1)))
        else:
            ranges.append((ca.MONTH, first, last))
    return ranges, list(cover.edges)


def _owner_filter(column: Any, team_id: int | None, user_id: int | None) -> Any:
    found = []
    if team_id is not None:
        found.append(column.in_(select(users.c.id).where(users.c.team_id == bindparam("i_team", type_=Integer))))
    if user_id is not None:
        found.append(column == bindparam("i_user", type_=Integer))
    return and_(true(), *found)


def _ranges(grain_col: Any, day_col: Any, ranges: list[tuple[str, date, date]]) -> Any:
    return or_(false(), *(and_(grain_col == g, day_col.between(low, high)) for g, low, high in ranges))


async def load_page(
    conn: AsyncConnection,
    viewer: Viewer,
    spec: PeriodSpec,
    period: Period,
    now: datetime,
    team_id: int | None,
    user_id: int | None,
    currency: str,
) -> insights.PageData:
    before = insights.previous(period)
    by_day = insights.daily(period)
    ranges, edges = pieces(period, by_day)
    if before is not None:
        more, more_edges = pieces(before, by_day)
        ranges += more
        edges += more_edges
    params = {**viewer.params, "i_team": team_id, "i_user": user_id}
    scope_rule = conversation_scope_rule(viewer)
    owners = _owner_filter(s.c.owner_id, team_id, None)
    page = insights.PageData(
        period=period,
        before=before,
        by_day=by_day,
        parts={},
        terms={},
        names=[],
        names_before=0,
        won={},
        board_reps=(),
        activity_minutes={},
        user_id=user_id,
    )

    def part(at: date, owner: int) -> insights.Part:
        # Every piece of the previous period lies before the current one's first (partial) day.
        when = NOW if period.end is None or at >= period.start.date() else BEFORE  # type: ignore[union-attr]
        key = (when, owner, insights.point(at, by_day))
        return page.parts.setdefault(key, insights.Part())

    where = [_ranges(b.c.grain, b.c.starts_on, ranges), owners]
    if scope_rule is not None:
        where.append(scope_rule)
    stmt = (
        select(b.c.grain, b.c.starts_on, s.c.owner_id, *(func.sum(b.c[n]).label(n) for n in ca.FIGURES))
        .select_from(b.join(s, s.c.id == b.c.scope_id))
        .where(*where)
        .group_by(b.c.grain, b.c.starts_on, s.c.owner_id)
    )
    for r in await conn.execute(stmt, params):
        part(r.starts_on, r.owner_id).sums.add(r[3:])
    where = [_ranges(it.c.grain, it.c.starts_on, ranges), owners]
    if scope_rule is not None:
        where.append(scope_rule)
    # A term's items are shown per period only (no series): grouped by period, not by day, they come back as
    # one row per owner, term and period (the first day of each period stands for it); scores keep their day.
    first_now = date.min if period.start is None or period.end is None else period.start.date()
    day = case(
        (it.c.kind == ca.SCORE, it.c.starts_on),
        (it.c.starts_on >= first_now, first_now),
        else_=date.min,
    ).label("day")
    stmt = (
        select(
            day,
            s.c.owner_id,
            it.c.kind,
            it.c.item,
            func.sum(it.c.calls).label("calls"),
            func.sum(it.c.seller_mentions).label("seller"),
            func.sum(it.c.customer_mentions).label("customer"),
        )
        .select_from(it.join(s, s.c.id == it.c.scope_id))
        .where(*where)
        .group_by(day, s.c.owner_id, it.c.kind, it.c.item)
    )
    for r in await conn.execute(stmt, params):
        part(r.day, r.owner_id).items.add(r.kind, r.item, int(r.calls), int(r.seller), int(r.customer))
    if edges:
        condition = and_(
            or_(*(_edge(after, low, high, until) for after, low, high, until in edges)),
            _owner_filter(c.c.owner_id, team_id, None),
            *([rule] if (rule := viewer.rule(c)) is not None else []),
        )
        for f in await ca.facts_where(conn, condition, params):
            when = NOW if period.contains(f.started_at) else BEFORE
            day = f.started_at.astimezone(UTC).date()
            p = page.parts.setdefault((when, f.scope.owner_id, insights.point(day, by_day)), insights.Part())
            p.sums.add(ca.figures(f))
            for kind, item, counts in ca.item_figures(f):
                p.items.add(kind, item, *counts)
    terms = tables.tracked_terms
    page.terms = {
        r.id: insights.TermRow(r.id, r.kind, r.name)
        for r in await conn.execute(select(terms.c.id, terms.c.kind, terms.c.name))
    }
    page.names, page.names_before = await _new_names(conn, viewer, period, before, team_id, params)
    page.activity_minutes = await _activity_minutes(conn, viewer, period, before, team_id, params)
    board = await load_scoreboard_rows(conn, ScoreboardRequest.of(spec, team_id, currency), now, viewer)
    page.board_reps = tuple(rep.user_id for rep in board.board.reps)
    page.won = {rep.user_id: rep.won_revenue.amount for rep in board.board.reps}
    return page


def _edge(after: bool, low: datetime, high: datetime, until: bool) -> Any:
    return and_(
        c.c.started_at > low if after else c.c.started_at >= low,
        c.c.started_at <= high if until else c.c.started_at < high,
    )


def _in(column: Any, period: Period) -> Any:
    if period.start is None or period.end is None:
        return true()
    if period.sliding:
        return and_(column > period.start, column <= period.end)
    return and_(column >= period.start, column < period.end)


async def _new_names(
    conn: AsyncConnection, viewer: Viewer, period: Period, before: Period | None, team_id: int | None, params: dict
) -> tuple[list[insights.NewName], int]:
    """The names first mentioned (by the customer side) by a conversation the viewer sees, in the period
    (the 20 most mentioned) and how many in the previous one."""
    span = (
        _in(names.c.started_at, period)
        if before is None
        else or_(_in(names.c.started_at, period), _in(names.c.started_at, before))
    )
    rule = viewer.rule(c)
    stmt = (
        select(names.c.key, names.c.name, names.c.conversation_id, names.c.started_at, names.c.customer_mentions)
        .select_from(names.join(c, c.c.id == names.c.conversation_id))
        .where(
            names.c.is_first == true(),
            names.c.customer_mentions > 0,
            span,
            _owner_filter(c.c.owner_id, team_id, params.get("i_user")),
            *([rule] if rule is not None else []),
        )
    )
    now_names, earlier = [], 0
    for r in await conn.execute(stmt, params):
        if period.contains(r.started_at):
            now_names.append(insights.NewName(r.key, r.name, r.conversation_id, r.started_at, r.customer_mentions))
        else:
            earlier += 1
    now_names.sort(key=lambda n: (-n.customer_mentions, n.started_at, n.key))
    return now_names, earlier


async def _activity_minutes(
    conn: AsyncConnection, viewer: Viewer, period: Period, before: Period | None, team_id: int | None, params: dict
) -> dict[tuple[str, int, str], int]:
    """Minutes of done CALL, EMAIL and MEETING activities by owner, when they occurred, per period."""
    moment = acts.c.occurred_at
    when = case((_in(moment, period), NOW), else_=BEFORE)
    span = _in(moment, period) if before is None else or_(_in(moment, period), _in(moment, before))
    rule = viewer.rule(acts)
    stmt = (
        select(when.label("w"), acts.c.owner_id, acts.c.type, func.sum(func.coalesce(acts.c.duration_minutes, 0)))
        .where(
            acts.c.type.in_(["CALL", "EMAIL", "MEETING"]),
            acts.c.occurred_at.is_not(None),
            span,
            _owner_filter(acts.c.owner_id, team_id, None),
            *([rule] if rule is not None else []),
        )
        .group_by(when, acts.c.owner_id, acts.c.type)
    )
    return {(r[0], r[1], r[2]): int(r[3] or 0) for r in await conn.execute(stmt, params)}
