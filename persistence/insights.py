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
The owner filter (a team, a user) is applied in SQL to the conversations and in Python to the owners.

The live pages read the same once for every viewer of a page shape with no rule (`load_source`, by scope), and
cut each viewer's page from it (`cut`) by the scopes and conversations its `Sight` found it may see."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import insights
from domain.scoreboard import Period, PeriodSpec, ScoreboardRequest
from persistence import aggregates, tables
from persistence import conversation_aggregates as ca
from persistence.scoreboard import cut_board, load_board_source, load_scoreboard_rows
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


class Plan(NamedTuple):
    """What a page of a period reads: the period and the previous one, the series' grain, the bucket ranges
    and the partial days (edges) of both."""

    period: Period
    before: Period | None
    by_day: bool
    ranges: list[tuple[str, date, date]]
    edges: list[tuple[bool, datetime, datetime, bool]]

    @classmethod
    def of(cls, period: Period) -> Plan:
        before = insights.previous(period)
        by_day = insights.daily(period)
        ranges, edges = pieces(period, by_day)
        if before is not None:
            more, more_edges = pieces(before, by_day)
            ranges += more
            edges += more_edges
        return cls(period, before, by_day, ranges, edges)

    def when(self, at: date) -> str:
        # Every piece of the previous period lies before the current one's first (partial) day.
        period = self.period
        return NOW if period.end is None or at >= period.start.date() else BEFORE  # type: ignore[union-attr]


def _bucket_statement(plan: Plan, team_id: int | None, scope_rule: Any, by_scope: bool) -> Any:
    """The bucket figures per grain, day and owner (and scope: `by_scope`) of the scopes `scope_rule` allows."""
    where = [_ranges(b.c.grain, b.c.starts_on, plan.ranges), _owner_filter(s.c.owner_id, team_id, None)]
    if scope_rule is not None:
        where.append(scope_rule)
    keys = [b.c.grain, b.c.starts_on, s.c.owner_id, *([b.c.scope_id] if by_scope else [])]
    return (
        select(*keys, *(func.sum(b.c[n]).label(n) for n in ca.FIGURES))
        .select_from(b.join(s, s.c.id == b.c.scope_id))
        .where(*where)
        .group_by(*keys)
    )


def _item_statement(plan: Plan, team_id: int | None, scope_rule: Any, by_scope: bool) -> Any:
    """The items per owner, kind and item (and scope): a term's per period only (it has no series: grouped by
    period, not by day, one row per owner, term and period, the first day of each period standing for it), a
    score per day."""
    period = plan.period
    where = [_ranges(it.c.grain, it.c.starts_on, plan.ranges), _owner_filter(s.c.owner_id, team_id, None)]
    if scope_rule is not None:
        where.append(scope_rule)
    first_now = date.min if period.start is None or period.end is None else period.start.date()
    day = case(
        (it.c.kind == ca.SCORE, it.c.starts_on),
        (it.c.starts_on >= first_now, first_now),
        else_=date.min,
    ).label("day")
    keys = [day, s.c.owner_id, it.c.kind, it.c.item, *([it.c.scope_id] if by_scope else [])]
    return (
        select(
            *keys,
            func.sum(it.c.calls).label("calls"),
            func.sum(it.c.seller_mentions).label("seller"),
            func.sum(it.c.customer_mentions).label("customer"),
        )
        .select_from(it.join(s, s.c.id == it.c.scope_id))
        .where(*where)
        .group_by(*keys)
    )


def _edges_condition(plan: Plan, team_id: int | None, rule: Any) -> Any:
    return and_(
        or_(*(_edge(after, low, high, until) for after, low, high, until in plan.edges)),
        _owner_filter(c.c.owner_id, team_id, None),
        *([rule] if rule is not None else []),
    )


async def _terms(conn: AsyncConnection) -> dict[int, insights.TermRow]:
    terms = tables.tracked_terms
    return {
        r.id: insights.TermRow(r.id, r.kind, r.name)
        for r in await conn.execute(select(terms.c.id, terms.c.kind, terms.c.name))
    }


def _new_page(plan: Plan, user_id: int | None) -> insights.PageData:
    return insights.PageData(
        period=plan.period,
        before=plan.before,
        by_day=plan.by_day,
        parts={},
        terms={},
        names=[],
        names_before=0,
        won={},
        board_reps=(),
        activity_minutes={},
        user_id=user_id,
    )


def _part(page: insights.PageData, plan: Plan, at: date, owner: int) -> insights.Part:
    return page.parts.setdefault((plan.when(at), owner, insights.point(at, plan.by_day)), insights.Part())


def _add_edge(page: insights.PageData, plan: Plan, f: ca.Facts) -> None:
    when = NOW if plan.period.contains(f.started_at) else BEFORE
    day = f.started_at.astimezone(UTC).date()
    p = page.parts.setdefault((when, f.scope.owner_id, insights.point(day, plan.by_day)), insights.Part())
    p.sums.add(ca.figures(f))
    for kind, item, counts in ca.item_figures(f):
        p.items.add(kind, item, *counts)


def _names(plan: Plan, rows: Iterable[Any]) -> tuple[list[insights.NewName], int]:
    now_names, earlier = [], 0
    for r in rows:
        if plan.period.contains(r.started_at):
            now_names.append(insights.NewName(r.key, r.name, r.conversation_id, r.started_at, r.customer_mentions))
        else:
            earlier += 1
    now_names.sort(key=lambda n: (-n.customer_mentions, n.started_at, n.key))
    return now_names, earlier


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
    """The page as `viewer` sees it, its rules applied in SQL (the query; the live pages cut theirs from one
    read for every viewer: `load_source` and `cut`)."""
    plan = Plan.of(period)
    params = {**viewer.params, "i_team": team_id, "i_user": user_id}
    scope_rule = conversation_scope_rule(viewer)
    page = _new_page(plan, user_id)
    for r in await conn.execute(_bucket_statement(plan, team_id, scope_rule, False), params):
        _part(page, plan, r.starts_on, r.owner_id).sums.add(r[3:])
    for r in await conn.execute(_item_statement(plan, team_id, scope_rule, False), params):
        _part(page, plan, r.day, r.owner_id).items.add(r.kind, r.item, int(r.calls), int(r.seller), int(r.customer))
    if plan.edges:
        for f in await ca.facts_where(conn, _edges_condition(plan, team_id, viewer.rule(c)), params):
            _add_edge(page, plan, f)
    page.terms = await _terms(conn)
    page.names, page.names_before = _names(
        plan, await conn.execute(_names_statement(plan, team_id, user_id, viewer.rule(c)), params)
    )
    page.activity_minutes = await _activity_minutes(conn, viewer, period, plan.before, team_id, params)
    board = await load_scoreboard_rows(conn, ScoreboardRequest.of(spec, team_id, currency), now, viewer)
    page.board_reps = tuple(rep.user_id for rep in board.board.reps)
    page.won = {rep.user_id: rep.won_revenue.amount for rep in board.board.reps}
    return page


# --- one read of a page shape for every viewer (the live pages: gql/subscriptions/insights.py) ---


class Source(NamedTuple):
    """What every viewer's page of one shape at one moment is cut from (`cut`): the buckets and items per
    scope, the partial days' conversations, the new names with their conversations, the terms, and the
    scoreboard's shared read. A viewer's page is the part of it in the scopes and conversations it may see
    (`Sight`), with its own activity minutes."""

    plan: Plan
    team_id: int | None
    user_id: int | None
    buckets: list[tuple]  # (scope, day, owner, figures)
    items: list[tuple]  # (scope, day, owner, kind, item, calls, seller mentions, customer mentions)
    edges: list[ca.Facts]
    names: list[Any]  # rows: key, name, conversation_id, started_at, customer_mentions
    terms: dict[int, insights.TermRow]
    board: Any  # persistence.scoreboard.BoardSource (with the newest event position, read first)
    scopes: frozenset[int]  # the scopes of the buckets and items
    conversations: frozenset[int]  # the conversations of the edges and the names


async def load_source(
    conn: AsyncConnection,
    spec: PeriodSpec,
    now: datetime,
    team_id: int | None,
    user_id: int | None,
    currency: str,
) -> Source:
    """The reads of `load_page` once for every viewer, with no rule: first the scoreboard's `load_board_source`
    (four statements, five with a team: the newest event position and the set-up day come first), then the
    buckets and items by scope, the edges' conversations (three statements, a sliding window only), the terms
    and the new names. Raises NotFound for an unknown team."""
    board = await load_board_source(conn, ScoreboardRequest.of(spec, team_id, currency), now)
    plan = Plan.of(spec.resolve(now, board.set_up))
    params = {"i_team": team_id, "i_user": user_id}
    buckets = [
        (r.scope_id, r.starts_on, r.owner_id, tuple(r[4:]))
        for r in await conn.execute(_bucket_statement(plan, team_id, None, True), params)
    ]
    items = [
        (r.scope_id, r.day, r.owner_id, r.kind, r.item, int(r.calls), int(r.seller), int(r.customer))
        for r in await conn.execute(_item_statement(plan, team_id, None, True), params)
    ]
    edges = await ca.facts_where(conn, _edges_condition(plan, team_id, None), params) if plan.edges else []
    terms = await _terms(conn)
    names = list(await conn.execute(_names_statement(plan, team_id, user_id, None), params))
    scope_ids = frozenset(row[0] for row in buckets) | frozenset(row[0] for row in items)
    conversation_ids = frozenset(f.id for f in edges) | frozenset(r.conversation_id for r in names)
    return Source(plan, team_id, user_id, buckets, items, edges, names, terms, board, scope_ids, conversation_ids)


class Sight:
    """What one viewer may see of a page shape's reads, kept between reads: which scopes and conversations it
    was found to see or not (visibility changes only with the events `moves_sight` names, which clear it), and
    its activity minutes for the period bounds they were read for."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.scopes: dict[int, bool] = {}
        self.conversations: dict[int, bool] = {}
        self.minutes: dict[tuple[str, int, str], int] | None = None
        self.minutes_for: tuple | None = None
        self.checks = 0  # statements this viewer's sight took

    def forget(self, activities_only: bool = False) -> None:
        self.minutes = None
        if not activities_only:
            self.scopes.clear()
            self.conversations.clear()

    async def update(self, conn: AsyncConnection, source: Source) -> None:
        """Learn what of `source` is new to this viewer, in one statement at most (none when nothing is)."""
        viewer, plan = self.viewer, source.plan
        bounds = (plan.period.start, plan.period.end, None if plan.before is None else plan.before.start)
        new_scopes = sorted(source.scopes.difference(self.scopes))
        new_conversations = sorted(source.conversations.difference(self.conversations))
        need_minutes = self.minutes is None or self.minutes_for != bounds
        scope_rule, rule = conversation_scope_rule(viewer), viewer.rule(c)
        if scope_rule is None:  # the system: sees every scope and conversation
            self.scopes.update(dict.fromkeys(new_scopes, True))
            new_scopes = []
        if rule is None:
            self.conversations.update(dict.fromkeys(new_conversations, True))
            new_conversations = []
        if not (new_scopes or new_conversations or need_minutes):
            return
        dialect = conn.dialect.name
        params: dict[str, Any] = {**viewer.params, "i_team": source.team_id}
        parts = []
        blank_int, blank_text = cast(null(), Integer), cast(null(), String)
        if new_scopes:
            parts.append(
                select(literal_column("'S'"), s.c.id, blank_int, blank_text, blank_text).where(
                    _among(s.c.id, "i_scopes", dialect), scope_rule
                )
            )
            params["i_scopes"] = _ids_param(new_scopes, dialect)
        if new_conversations:
            parts.append(
                select(literal_column("'C'"), c.c.id, blank_int, blank_text, blank_text).where(
                    _among(c.c.id, "i_conversations", dialect), rule
                )
            )
            params["i_conversations"] = _ids_param(new_conversations, dialect)
        if need_minutes:
            parts.append(_minutes_statement(viewer, plan.period, plan.before, source.team_id, tagged=True))
        stmt = parts[0] if len(parts) == 1 else union_all(*parts)
        seen_scopes: set[int] = set()
        seen_conversations: set[int] = set()
        minutes: dict[tuple[str, int, str], int] = {}
        for tag, key, value, kind, when in await conn.execute(stmt, params):
            if tag == "S":
                seen_scopes.add(key)
            elif tag == "C":
                seen_conversations.add(key)
            else:
                minutes[(when, key, kind)] = int(value or 0)
        self.checks += 1
        for scope in new_scopes:
            self.scopes[scope] = scope in seen_scopes
        for conversation in new_conversations:
            self.conversations[conversation] = conversation in seen_conversations
        if need_minutes:
            self.minutes, self.minutes_for = minutes, bounds


def cut(source: Source, sight: Sight) -> insights.PageData:
    """`sight.viewer`'s page from `source` (after `sight.update`): what `load_page` returns for that viewer."""
    plan, scopes, conversations = source.plan, sight.scopes, sight.conversations
    page = _new_page(plan, source.user_id)
    for scope, day, owner, figures in source.buckets:
        if scopes[scope]:
            _part(page, plan, day, owner).sums.add(figures)
    for scope, day, owner, kind, item, calls, seller, customer in source.items:
        if scopes[scope]:
            _part(page, plan, day, owner).items.add(kind, item, calls, seller, customer)
    for f in source.edges:
        if conversations[f.id]:
            _add_edge(page, plan, f)
    page.terms = source.terms
    page.names, page.names_before = _names(plan, (r for r in source.names if conversations[r.conversation_id]))
    page.activity_minutes = dict(sight.minutes or {})
    board = cut_board(source.board, sight.viewer).board
    page.board_reps = tuple(rep.user_id for rep in board.reps)
    page.won = {rep.user_id: rep.won_revenue.amount for rep in board.reps}
    return page


def _among(column: Any, name: str, dialect: str) -> Any:
    """`column` is one of the ids of parameter `name`: one array (PostgreSQL) or one JSON text (SQLite), so
    the statement is the same whatever the number of ids and SQLite's limit on parameters never applies."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name, type_=String))))


def _ids_param(ids: list[int], dialect: str) -> Any:
    return ids if dialect == "postgresql" else json.dumps(ids)


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


def _names_statement(plan: Plan, team_id: int | None, user_id: int | None, rule: Any) -> Any:
    """The names first mentioned (by the customer side) by a conversation `rule` allows, in the period and
    the previous one."""
    period, before = plan.period, plan.before
    span = (
        _in(names.c.started_at, period)
        if before is None
        else or_(_in(names.c.started_at, period), _in(names.c.started_at, before))
    )
    return (
        select(names.c.key, names.c.name, names.c.conversation_id, names.c.started_at, names.c.customer_mentions)
        .select_from(names.join(c, c.c.id == names.c.conversation_id))
        .where(
            names.c.is_first == true(),
            names.c.customer_mentions > 0,
            span,
            _owner_filter(c.c.owner_id, team_id, user_id),
            *([rule] if rule is not None else []),
        )
    )


def _minutes_statement(
    viewer: Viewer, period: Period, before: Period | None, team_id: int | None, tagged: bool = False
) -> Any:
    """Minutes of done CALL, EMAIL and MEETING activities by owner, when they occurred, per period; `tagged`:
    as a part of `Sight.update`'s statement (tag, owner, minutes, type, when)."""
    moment = acts.c.occurred_at
    when = case((_in(moment, period), NOW), else_=BEFORE)
    span = _in(moment, period) if before is None else or_(_in(moment, period), _in(moment, before))
    rule = viewer.rule(acts)
    minutes = func.sum(func.coalesce(acts.c.duration_minutes, 0))
    columns = (
        [literal_column("'A'"), acts.c.owner_id, minutes, acts.c.type, when]
        if tagged
        else [when.label("w"), acts.c.owner_id, acts.c.type, minutes]
    )
    return (
        select(*columns)
        .where(
            acts.c.type.in_(["CALL", "EMAIL", "MEETING"]),
            acts.c.occurred_at.is_not(None),
            span,
            _owner_filter(acts.c.owner_id, team_id, None),
            *([rule] if rule is not None else []),
        )
        .group_by(when, acts.c.owner_id, acts.c.type)
    )


async def _activity_minutes(
    conn: AsyncConnection, viewer: Viewer, period: Period, before: Period | None, team_id: int | None, params: dict
) -> dict[tuple[str, int, str], int]:
    """Minutes of done CALL, EMAIL and MEETING activities by owner, when they occurred, per period."""
    stmt = _minutes_statement(viewer, period, before, team_id)
    return {(r[0], r[1], r[2]): int(r[3] or 0) for r in await conn.execute(stmt, params)}
