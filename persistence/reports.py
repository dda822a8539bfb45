"""What the sales reports need, in nine statements whatever the number of opportunities and activities:
the newest event position, the rates, the report buckets covering the period, the closed deals of its
partial days, the activity buckets and activities of its partial days (one statement), the users, the
teams, and the products and partners the figures name.

The report buckets (persistence/aggregates.py) carry the scoreboard's slices, so every role's reports are
a sum of the buckets it may see, read by `scoreboard_bucket_slices` (in SQL, for one caller) or cut
in Python by `ScoreboardCut` (for the live boards, from one read for every viewer). The edges of a
period (partial days) are read from the deal and activity tables and counted by the same functions the
buckets are kept with (`report_contributions`, `activity_contributions`).

Activities (time per channel) are counted by owner for every role: the report shows people's time, no
row; an admin sees everyone's, a director the team's, a rep its own, a partner none (it is refused)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import reports as domain
from domain.errors import NotFound
from domain.scoreboard import Period, next_change
from domain.stages import StageCatalog, StageKind
from persistence import aggregates, reads, stages, tables
from persistence.aggregates import ALL, DAY, MONTH, AccountSide
from persistence.db import ConnectionSource
from persistence.visibility import ADMIN, DIRECTOR, PARTNER, Viewer, scoreboard_bucket_slices, scoreboard_cut

EVERYTHING = Viewer.everything()
SEEN = "SEEN"  # the slice of rows a viewer's own read summed by its rules already
ONE_DAY = timedelta(days=1)
OPEN = stages.keys_of(StageKind.OPEN)  # subqueries of the stage table: the statement asks the kind itself
CLOSED = stages.keys_of(StageKind.WON, StageKind.LOST)


class Raw(NamedTuple):
    """A sum of report buckets (or of edge deals) with the attributes the visibility rules read."""

    part: str
    slice: str
    stage: str
    owner_id: int
    currency: str
    product_id: int
    manager_id: int
    partner_id: int
    account_partner_id: int
    is_private: bool
    creator_id: int
    day: date | None  # FORECAST: the expected close day or month's first day (None: no date)
    deals: int
    amount_e4: int
    weighted_e6: int


class ReportSource(NamedTuple):
    """What every viewer's reports of one request at one moment are cut from (`cut_reports`)."""

    request: domain.ReportRequest
    now: datetime
    period: Period
    event_id: int | None
    rates: dict[str, Any]
    raw: list[Raw]
    activities: list[domain.ActivityLine]
    users: dict[int, Any]  # id -> users row, every user
    teams: dict[int, Any]  # id -> teams row, every team
    products: dict[int, Any]  # id -> products row, those the figures name
    partners: dict[int, Any]  # id -> partners row, those the figures name (and the scope's)
    team_of: dict[int, int | None]
    # When time alone changes a figure next: a sliding window's oldest deal or activity leaves it, or
    # a day or the period begins or ends (as for the scoreboard, `domain.scoreboard.next_change`).
    changes_at: datetime | None
    catalog: StageCatalog  # the stages: the funnel's columns and order, which closed stages are won


class ReportRows(NamedTuple):
    """A viewer's computed reports with the rows they name."""

    reports: domain.Reports
    period: Period
    users: dict[int, Any]
    teams: dict[int, Any]
    products: dict[int, Any]
    partners: dict[int, Any]


def date_cover(first: date, last: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """Days first..last (inclusive) as whole months (first days, inclusive) and the days around them."""
    low = first if first.day == 1 else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    after_last = last + ONE_DAY
    high_end = after_last.replace(day=1)  # the first day after the last whole month
    if low >= high_end:
        return None, [(first, last)]
    days = []
    if first < low:
        days.append((first, low - ONE_DAY))
    if high_end <= last:
        days.append((high_end, last))
    return (low, high_end - ONE_DAY), days


def _forecast_days(period: Period) -> tuple[date, date] | None:
    first, last = period.days()
    if first is None or last is None:
        return None
    return first, last


def _plan(period: Period) -> tuple[tuple, dict[str, Any]]:
    """The statement's shape (which branches) and its parameters, for the period."""
    closed = aggregates.cover(period)
    params: dict[str, Any] = {}
    if closed.months is not None:
        params.update(m_low=closed.months[0], m_high=closed.months[1])
    for n, (low, high) in enumerate(closed.day_ranges):
        params.update({f"d_low{n}": low, f"d_high{n}": high})
    days = _forecast_days(period)
    f_months = False
    f_days = 0
    if days is not None:
        months, day_ranges = date_cover(*days)
        if months is not None:
            f_months = True
            params.update(fm_low=months[0], fm_high=months[1])
        for n, (low, high) in enumerate(day_ranges):
            params.update({f"fd_low{n}": low, f"fd_high{n}": high})
        f_days = len(day_ranges)
    shape = (closed.everything, closed.months is not None, len(closed.day_ranges), days is None, f_months, f_days)
    return shape, params


def _date(name: str) -> Any:
    return bindparam(name, type_=Date)


@cache
def _buckets_statement(shape: tuple, role: str | None, shared: bool) -> Select:
    """The report buckets of the period: open deals now (ALL), open deals by expected close date (the
    months and days of the period; every month for all time), closed deals in the period; each part
    summed per the attributes the rules read. `shared`: every slice, for every viewer (a live board's
    read); else the slices of `role`'s rules (its ids are parameters)."""
    everything, months, day_ranges, all_time, f_months, f_days = shape
    b = tables.report_buckets.c
    is_open, is_closed = b.stage.in_(OPEN), b.stage.in_(CLOSED)
    parts: list[tuple[str, Any, bool]] = [("OPEN", and_(b.grain == ALL, is_open), False)]
    if all_time:
        parts.append(("FORECAST", and_(b.grain == MONTH, is_open), True))
    else:
        if f_months:
            parts.append(
                (
                    "FORECAST",
                    and_(b.grain == MONTH, is_open, b.starts_on.between(_date("fm_low"), _date("fm_high"))),
                    True,
                )
            )
        parts += [
            (
                "FORECAST",
                and_(b.grain == DAY, is_open, b.starts_on.between(_date(f"fd_low{n}"), _date(f"fd_high{n}"))),
                True,
            )
            for n in range(f_days)
        ]
    if everything:
        parts.append(("CLOSED", and_(b.grain == ALL, is_closed), False))
    else:
        if months:
            parts.append(
                (
                    "CLOSED",
                    and_(b.grain == MONTH, is_closed, b.starts_on.between(_date("m_low"), _date("m_high"))),
                    False,
                )
            )
        parts += [
            (
                "CLOSED",
                and_(b.grain == DAY, is_closed, b.starts_on.between(_date(f"d_low{n}"), _date(f"d_high{n}"))),
                False,
            )
            for n in range(day_ranges)
        ]
    if shared:
        slices = [(s, None) for s in (aggregates.OWNER, aggregates.MANAGER, aggregates.PARTNER)]
    else:
        slices = list(scoreboard_bucket_slices(Viewer(role), tables.report_buckets))
    attributes = (
        b.slice,
        b.stage,
        b.owner_id,
        b.currency,
        b.product_id,
        b.manager_id,
        b.partner_id,
        b.account_partner_id,
        b.is_private,
        b.creator_id,
    )
    # One viewer's read sums what its rules already chose, per what the reports group by (the slices and
    # the attributes the rules read are left out: SEEN rows need no cut); a shared read keeps them all.
    kept = attributes if shared else (b.stage, b.owner_id, b.currency, b.product_id, b.partner_id, b.account_partner_id)
    shown = (
        attributes
        if shared
        else (
            literal(SEEN).label("slice"),
            b.stage,
            b.owner_id,
            b.currency,
            b.product_id,
            literal(0).label("manager_id"),
            b.partner_id,
            b.account_partner_id,
            false().label("is_private"),
            literal(0).label("creator_id"),
        )
    )
    branches = []
    for part, when, dated in parts:
        day = b.starts_on if dated else cast(null(), Date)
        for slice_, rule in slices:
            conditions = [b.slice == slice_, when, *([rule] if rule is not None else [])]
            branches.append(
                select(
                    literal(part).label("part"),
                    *shown,
                    day.label("day"),
                    func.sum(b.deals),
                    func.sum(b.amount_e4),
                    func.sum(b.weighted_e6),
                )
                .where(*conditions)
                .group_by(*kept, *([b.starts_on] if dated else []))
            )
    if not branches:
        return select(literal("OPEN"), *attributes, null(), b.deals, b.amount_e4, b.weighted_e6).where(false())
    return union_all(*branches)  # type: ignore[return-value]


def _edge_range(n: int, after: bool, until: bool, column: Any) -> Any:
    low, high = bindparam(f"e_low{n}", type_=tables.UTCDateTime), bindparam(f"e_high{n}", type_=tables.UTCDateTime)
    return and_(column > low if after else column >= low, column <= high if until else column < high)


@cache
def _edges_statement(edges: tuple[tuple[bool, bool], ...]) -> Select:
    """The closed deals of the period's partial days, with their accounts and contracts."""
    o = tables.opportunities.c
    ranges = [_edge_range(n, after, until, o.closed_at) for n, (after, until) in enumerate(edges)]
    return aggregates._deals_with_accounts().where(o.stage.in_(CLOSED), or_(*ranges) if ranges else false())


@cache
def _activities_statement(everything: bool, months: bool, day_ranges: int, edges: tuple) -> Select:
    """Activities per type and owner: from the buckets covering the period, and from the activities of
    its partial days."""
    b = tables.activity_buckets.c
    if everything:
        times = [b.grain == ALL]
    else:
        times = [and_(b.grain == MONTH, b.starts_on.between(_date("m_low"), _date("m_high")))] if months else []
        times += [
            and_(b.grain == DAY, b.starts_on.between(_date(f"d_low{n}"), _date(f"d_high{n}")))
            for n in range(day_ranges)
        ]
    s = tables.sales_activities.c
    none = cast(null(), tables.UTCDateTime)
    branches = [
        select(b.type, b.owner_id, func.sum(b.activities), func.sum(b.minutes), none)
        .where(when)
        .group_by(b.type, b.owner_id)
        for when in times
    ]
    branches += [
        select(
            s.type, s.owner_id, func.count(), func.coalesce(func.sum(s.duration_minutes), 0), func.min(s.occurred_at)
        )
        .where(_edge_range(n, after, until, s.occurred_at))
        .group_by(s.type, s.owner_id)
        for n, (after, until) in enumerate(edges)
    ]
    if not branches:
        return select(b.type, b.owner_id, b.activities, b.minutes, none).where(false())
    return union_all(*branches) if len(branches) > 1 else branches[0]  # type: ignore[return-value]


async def load_report_source(
    conn: AsyncConnection, request: domain.ReportRequest, now: datetime, viewer: Viewer | None = None
) -> ReportSource:
    """The reads of a report in nine statements. `viewer`: only the buckets it may see (a query);
    None: every slice (a live board, cut for each of its viewers). Raises NotFound for a scope that
    names an unknown team, user or partner."""
    event_id = (await conn.execute(select(func.max(tables.outbox_events.c.position)))).scalar_one()
    rates = await reads.exchange_rates(conn)
    period = request.period.resolve(now)
    shape, params = _plan(period)
    closed = aggregates.cover(period)
    edges = tuple((after, until) for after, _, _, until in closed.edges)
    edge_params = {f"e_low{n}": low for n, (_, low, _, _) in enumerate(closed.edges)}
    edge_params |= {f"e_high{n}": high for n, (_, _, high, _) in enumerate(closed.edges)}
    role = viewer.role if viewer is not None else None
    stmt = _buckets_statement(shape, role, viewer is None)
    found = await conn.execute(stmt, {**params, **(viewer.params if viewer is not None else {})})
    raw = [Raw(*row[:12], int(row[12] or 0), int(row[13] or 0), int(row[14] or 0)) for row in found]
    if shape[3]:  # all time
        raw = _with_undated(raw)
    oldest: datetime | None = None  # the oldest closed deal or activity of the partial days
    catalog = await stages.catalog(conn.engine, conn)
    kinds = catalog.kinds()
    for row, sold in aggregates._by_deal(await conn.execute(_edges_statement(edges), edge_params)).values():
        if row.closed_at is not None and (oldest is None or row.closed_at < oldest):
            oldest = row.closed_at
        for key, (deals, amount, weighted) in aggregates.report_contributions(
            row, AccountSide.of_row(row), sold, kinds
        ):
            if key.grain == ALL:
                raw.append(Raw("CLOSED", *_attributes(key), None, deals, amount, weighted))
    activity_params = {k: v for k, v in params.items() if k[:2] in ("m_", "d_")} | edge_params
    activity_stmt = _activities_statement(closed.everything, closed.months is not None, len(closed.day_ranges), edges)
    activities = []
    for kind, owner, n, minutes, first in await conn.execute(activity_stmt, activity_params):
        activities.append(domain.ActivityLine(kind, owner, int(n or 0), int(minutes or 0)))
        oldest = first if oldest is None or (first is not None and first < oldest) else oldest
    users = {row.id: row for row in await conn.execute(select(tables.users))}
    teams = {row.id: row for row in await conn.execute(select(tables.teams))}
    scope = request.scope
    if scope.team_id is not None and scope.team_id not in teams:
        raise NotFound("Team", scope.team_id)
    if scope.user_id is not None and scope.user_id not in users:
        raise NotFound("User", scope.user_id)
    wanted_products = sorted({r.product_id for r in raw if r.product_id > 0})
    p = tables.products
    products = {row.id: row for row in await conn.execute(select(p).where(p.c.id.in_(wanted_products)))}
    wanted_partners = {r.partner_id for r in raw if r.partner_id} | {r.account_partner_id for r in raw}
    wanted_partners.discard(0)
    if scope.partner_id is not None:
        wanted_partners.add(scope.partner_id)
    q = tables.partners
    partners = {row.id: row for row in await conn.execute(select(q).where(q.c.id.in_(sorted(wanted_partners))))}
    if scope.partner_id is not None and scope.partner_id not in partners:
        raise NotFound("Partner", scope.partner_id)
    team_of = {u: row.team_id for u, row in users.items()}
    changes_at = next_change(period, now, oldest)
    return ReportSource(
        request,
        now,
        period,
        event_id,
        rates,
        raw,
        activities,
        users,
        teams,
        products,
        partners,
        team_of,
        changes_at,
        catalog,
    )


def _attributes(key: aggregates.ReportKey) -> tuple:
    return (
        key.slice,
        key.stage,
        key.owner_id,
        key.currency,
        key.product_id,
        key.manager_id,
        key.partner_id,
        key.account_partner_id,
        key.is_private,
        key.creator_id,
    )


def _with_undated(raw: list[Raw]) -> list[Raw]:
    """For all time: the open deals without an expected close date, as FORECAST rows with no day (what
    the all-time bucket holds beyond the sum of the month buckets, per attributes)."""
    left: dict[tuple, list[int]] = {}
    for r in raw:
        if r.part == "OPEN" and r.product_id == aggregates.CREDITED:  # (the forecast counts credited parts)
            entry = left.setdefault(r[1:11], [0, 0, 0])
            entry[0] += r.deals
            entry[1] += r.amount_e4
            entry[2] += r.weighted_e6
    for r in raw:
        if r.part == "FORECAST":
            entry = left[r[1:11]]
            entry[0] -= r.deals
            entry[1] -= r.amount_e4
            entry[2] -= r.weighted_e6
    return raw + [Raw("FORECAST", *key, None, *values) for key, values in left.items() if any(values)]


def _month(day: date | None) -> date | None:
    return None if day is None else day.replace(day=1)


def cut_reports(source: ReportSource, viewer: Viewer) -> ReportRows:
    """`viewer`'s reports from `source` (read for it, or for every viewer): the buckets its rules let it
    see, then the scope. A partner that names another partner in the scope gets NotFound, as for a
    partner it may not see; a partner's time per channel is empty (the field refuses it)."""
    sight = scoreboard_cut(viewer, source.team_of)
    scope = source.request.scope
    if viewer.role == PARTNER and scope.partner_id is not None and scope.partner_id != viewer.partner_id:
        raise NotFound("Partner", scope.partner_id)
    bucket = sight.bucket
    lines = [
        domain.Line(
            r.part,
            r.stage,
            r.owner_id,
            r.currency,
            r.product_id,
            r.partner_id,
            r.account_partner_id,
            _month(r.day),
            r.deals,
            r.amount_e4,
            r.weighted_e6,
        )
        for r in source.raw
        if r.slice == SEEN
        or bucket(r.slice, r.owner_id, r.manager_id, r.partner_id, r.account_partner_id, r.is_private, r.creator_id)
    ]
    activities = [a for a in source.activities if _sees_time(viewer, sight, a.owner_id)]
    reports = domain.compute_reports(
        source.request,
        lines,
        activities,
        source.team_of,
        source.rates,
        event_id=source.event_id,
        catalog=source.catalog,
    )
    if viewer.role == PARTNER:  # a partner sees its own results only, not those of a partner credited
        own = tuple(p for p in reports.partners if p.partner_id == viewer.partner_id)  # on its accounts
        reports = dataclasses.replace(reports, partners=own)
    return ReportRows(reports, source.period, source.users, source.teams, source.products, source.partners)


def _sees_time(viewer: Viewer, sight: Any, owner_id: int) -> bool:
    if viewer.role is None or viewer.role == ADMIN:
        return True
    if viewer.role == PARTNER or viewer.role == "NOBODY":
        return False
    if viewer.role == DIRECTOR:
        return sight.mine(owner_id)
    return owner_id == viewer.user_id


async def load_reports(
    source: ConnectionSource | AsyncConnection, request: domain.ReportRequest, now: datetime, viewer: Viewer
) -> ReportRows:
    """The reports of `request` at `now` as `viewer` may see them (the query)."""
    if isinstance(source, AsyncConnection):
        return cut_reports(await load_report_source(source, request, now, viewer), viewer)
    async with source.connect() as conn:
        return cut_reports(await load_report_source(conn, request, now, viewer), viewer)


# --- the opportunity board: counts and amounts per open stage from the buckets, a first page each ---
#
# The query (`load_board`) reads one viewer's board with that viewer's rules in SQL; a live board
# (`load_board_source`, then `cut_board` per viewer) reads a board shape once for every viewer and cuts
# each viewer's board in Python by the same rules (`ScoreboardCut`). Both build their columns with
# `board_stages` and `_board_columns`, so the two always show the same columns.


def board_stages(catalog: StageCatalog) -> list[str]:
    """The open stages in the catalogue's order (deactivated ones too): the columns a board may show."""
    return list(catalog.keys(StageKind.OPEN))


def _shown(catalog: StageCatalog, sums: dict[str, domain._Acc]) -> list[str]:
    """The board's columns: an open stage in the catalogue's order, a deactivated one while it still holds deals."""
    return [stage.key for stage in catalog if stage.is_open and (stage.active or sums[stage.key].deals)]


BOARD_BUCKET_COLUMNS = (
    "slice",
    "stage",
    "owner_id",
    "currency",
    "manager_id",
    "partner_id",
    "account_partner_id",
    "is_private",
    "creator_id",
    "deals",
    "amount_e4",
    "weighted_e6",
)


def _board_bucket_branch(slice_: str, rule: Any) -> Select:
    b = tables.report_buckets.c
    return select(*(b[c] for c in BOARD_BUCKET_COLUMNS)).where(
        b.slice == slice_,
        b.grain == ALL,
        b.product_id == 0,
        b.stage.in_(OPEN),  # (the open stages, asked of the stage table by the statement)
        *([rule] if rule is not None else []),
    )


@cache
def _board_counts(role: str | None) -> Select:
    """Open deals per stage now, from the all-time report buckets the role's rules let it see."""
    branches = [
        _board_bucket_branch(slice_, rule)
        for slice_, rule in scoreboard_bucket_slices(Viewer(role), tables.report_buckets)
    ]
    if not branches:
        return select(*(tables.report_buckets.c[c] for c in BOARD_BUCKET_COLUMNS)).where(false())
    return union_all(*branches)  # type: ignore[return-value]


@cache
def _board_counts_shared() -> Select:
    """Open deals per stage now, every slice (a live board's read, cut for each viewer)."""
    return union_all(  # type: ignore[return-value]
        *(_board_bucket_branch(s, None) for s in (aggregates.OWNER, aggregates.MANAGER, aggregates.PARTNER))
    )


class BoardColumn(NamedTuple):
    stage: str
    count: int
    amount: Any  # Money in the reporting currency
    weighted: Any
    rows: list[Any]  # the first opportunities rows (their first columns are the opportunity's: OPPORTUNITY_FIELDS)


OPPORTUNITY_FIELDS = tuple(tables.opportunities.c.keys())


def _scope_conditions(scope: domain.ReportScope) -> list[Any]:
    # (its own name for the accounts, so that a statement that joins the accounts too keeps this apart)
    o, a, u = tables.opportunities.c, tables.accounts.alias("credited").c, tables.users.c
    found = []
    if scope.user_id is not None:
        found.append(o.owner_id == scope.user_id)
    if scope.team_id is not None:
        found.append(o.owner_id.in_(select(u.id).where(u.team_id == scope.team_id)))
    if scope.partner_id is not None:
        credited = select(a.id).where(a.id == o.account_id, a.partner_id == scope.partner_id).exists()
        found.append(or_(o.partner_id == scope.partner_id, and_(o.partner_id.is_(None), credited)))
    return found


def _check_board_scope(scope: domain.ReportScope, team_of: dict[int, int | None]) -> None:
    """NotFound for a scope naming an unknown team or user (for every viewer alike)."""
    if scope.team_id is not None and scope.team_id not in set(team_of.values()):
        raise NotFound("Team", scope.team_id)
    if scope.user_id is not None and scope.user_id not in team_of:
        raise NotFound("User", scope.user_id)


def _check_board_partner(scope: domain.ReportScope, viewer: Viewer) -> None:
    """A partner names only itself: another partner is reported like one that does not exist."""
    if viewer.role == PARTNER and scope.partner_id is not None and scope.partner_id != viewer.partner_id:
        raise NotFound("Partner", scope.partner_id)


def _board_sums(
    rows: Any, sight: Any, scope: domain.ReportScope, team_of: dict[int, int | None], open_stages: list[str]
) -> dict[str, domain._Acc]:
    """The bucket rows (BOARD_BUCKET_COLUMNS) `sight` lets the viewer see, in the scope, summed per open stage."""
    sums: dict[str, domain._Acc] = {stage: domain._Acc() for stage in open_stages}
    for row in rows:
        slice_, stage, owner, cur, manager, partner, account_partner, private, creator, deals, amount, weighted = row
        if stage not in sums or not sight.bucket(slice_, owner, manager, partner, account_partner, private, creator):
            continue
        line = domain.Line(
            "OPEN", stage, owner, cur, 0, partner, account_partner, None, deals, int(amount), int(weighted)
        )
        if domain.in_scope(scope, owner, line.credited_partner, team_of):
            sums[stage].add(line)
    return sums


def _board_columns(
    sums: dict[str, domain._Acc], rows: dict[str, list[Any]], currency: str, rates: dict[str, Any], shown: list[str]
) -> list[BoardColumn]:
    money = domain._Money(currency, rates, set())
    columns = []
    for stage in shown:
        figure = sums[stage].figure(money)
        columns.append(BoardColumn(stage, figure.deals, figure.amount, figure.weighted, rows.get(stage, [])))
    return columns


async def load_board(
    conn: AsyncConnection,
    scope: domain.ReportScope,
    currency: str,
    limit: int,
    viewer: Viewer,
) -> list[BoardColumn]:
    """A column per open stage: how many open opportunities, their estimated and weighted revenue (from the
    report buckets), and the newest `limit` of them (from the opportunities, by the (stage, created_at)
    index); in four statements. Raises NotFound for a scope naming an unknown team, user or partner, and
    ValidationError for a currency without a rate."""
    rates = domain.check_rate(currency, await reads.exchange_rates(conn))
    users = {row.id: row.team_id for row in await conn.execute(select(tables.users.c.id, tables.users.c.team_id))}
    _check_board_scope(scope, users)
    _check_board_partner(scope, viewer)
    sight = scoreboard_cut(viewer, users)
    catalog = await stages.catalog(conn.engine, conn)
    sums = _board_sums(
        await conn.execute(_board_counts(viewer.role), viewer.params), sight, scope, users, board_stages(catalog)
    )
    shown = _shown(catalog, sums)
    rows: dict[str, list[Any]] = {stage: [] for stage in shown}
    o = tables.opportunities
    visible = viewer.rule(o)
    where = [*([visible] if visible is not None else []), *_scope_conditions(scope)]
    if limit > 0:
        parts = [
            select(
                select(o)
                .where(o.c.stage == stage, *where)
                .order_by(o.c.created_at.desc(), o.c.id.desc())
                .limit(limit)
                .subquery()
            )
            for stage in shown
        ]
        for row in await conn.execute(union_all(*parts), viewer.params):
            rows[row.stage].append(row)
        for found in rows.values():
            found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return _board_columns(sums, rows, currency, rates, shown)


@dataclasses.dataclass(frozen=True)
class BoardRequest:
    """A live opportunity board's shape: the arguments of `opportunityBoard`."""

    scope: domain.ReportScope
    currency: str
    limit: int


class BoardSource(NamedTuple):
    """What every viewer's opportunity board of one request at one moment is cut from (`cut_board`)."""

    request: BoardRequest
    now: datetime
    event_id: int | None
    rates: dict[str, Any]
    team_of: dict[int, int | None]
    buckets: list[Any]  # rows of BOARD_BUCKET_COLUMNS, every slice
    candidates: list[Any]  # opportunities (OPPORTUNITY_FIELDS) with their accounts' sight columns, newest first
    catalog: StageCatalog  # the stages as they were at the read


# What the rules read of an opportunity's account, beside the opportunity's own columns.
_SIGHT = ("sight_is_private", "sight_creator_id", "sight_manager_id", "sight_partner_id")


def _board_candidates(scope: domain.ReportScope, open_stages: list[str]) -> Select:
    """The opportunities among which every viewer's newest `limit` of each column are, whatever the viewer:
    per column, the newest `limit` of each group of deals a viewer sees whole or not at all (by owner, by
    account manager, by the deal's partner, by the account's partner, and all of them, each also by who
    alone may see a private account's deals). A viewer sees a union of such groups, so its newest `limit`
    are among the newest `limit` of each of them."""
    o, a = tables.opportunities, tables.accounts
    hidden = case((a.c.is_private == true(), func.coalesce(a.c.created_by_id, -1)), else_=0)
    newest = (o.c.created_at.desc(), o.c.id.desc())

    def rank(name: str, *by: Any) -> Any:
        return func.row_number().over(partition_by=(o.c.stage, *by, hidden), order_by=newest).label(name)

    ranked = (
        select(
            *o.c,
            a.c.is_private.label(_SIGHT[0]),
            a.c.created_by_id.label(_SIGHT[1]),
            a.c.manager_id.label(_SIGHT[2]),
            a.c.partner_id.label(_SIGHT[3]),
            rank("r_owner", o.c.owner_id),
            rank("r_manager", a.c.manager_id),
            rank("r_partner", o.c.partner_id),
            rank("r_account_partner", a.c.partner_id),
            rank("r_any"),
        )
        .select_from(o.join(a, a.c.id == o.c.account_id))
        .where(o.c.stage.in_(open_stages), *_scope_conditions(scope))
        .subquery()
    )
    limit = bindparam("board_limit", type_=Integer)
    r = ranked.c
    wanted = or_(*(r[c] <= limit for c in ("r_owner", "r_manager", "r_partner", "r_account_partner", "r_any")))
    return (
        select(*(r[c] for c in OPPORTUNITY_FIELDS), *(r[c] for c in _SIGHT))
        .where(wanted)
        .order_by(r.created_at.desc(), r.id.desc())
    )


async def load_board_source(conn: AsyncConnection, request: BoardRequest, now: datetime) -> BoardSource:
    """The one read of a live opportunity board for every viewer, in five statements: the newest event
    position, the rates, the users, every slice of the open deals' buckets, and the candidates of every
    viewer's first page (`_board_candidates`; none when `limit` is 0). Raises ValidationError for a
    currency without a rate and NotFound for a scope naming an unknown team or user."""
    event_id = (await conn.execute(select(func.max(tables.outbox_events.c.position)))).scalar_one()
    rates = domain.check_rate(request.currency, await reads.exchange_rates(conn))
    users = {row.id: row.team_id for row in await conn.execute(select(tables.users.c.id, tables.users.c.team_id))}
    _check_board_scope(request.scope, users)
    catalog = await stages.catalog(conn.engine, conn)
    buckets = list(await conn.execute(_board_counts_shared()))
    candidates = []
    if request.limit > 0:
        stmt = _board_candidates(request.scope, board_stages(catalog))
        candidates = list(await conn.execute(stmt, {"board_limit": request.limit}))
    return BoardSource(request, now, event_id, rates, users, buckets, candidates, catalog)


def cut_board(source: BoardSource, viewer: Viewer) -> list[BoardColumn]:
    """`viewer`'s opportunity board from `source`: what `load_board` reads for it, decided in Python by the
    same rules. A partner naming another partner in the scope gets NotFound."""
    request = source.request
    _check_board_partner(request.scope, viewer)
    sight = scoreboard_cut(viewer, source.team_of)
    sums = _board_sums(source.buckets, sight, request.scope, source.team_of, board_stages(source.catalog))
    shown = _shown(source.catalog, sums)
    rows: dict[str, list[Any]] = {stage: [] for stage in shown}
    for row in source.candidates:
        found = rows.get(row.stage)
        if found is None or len(found) >= request.limit:
            continue
        private, creator, manager, account_partner = row[-4:]
        if sight.deal(row.owner_id, row.partner_id, manager, account_partner, bool(private), creator):
            found.append(row)
    return _board_columns(sums, rows, request.currency, source.rates, shown)


def _hashable(value: Any) -> Any:
    """A row's value as it can be compared and hashed: a JSON column (custom fields, credit shares) as its text."""
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value


def board_figures(columns: list[BoardColumn]) -> tuple:
    """What a board shows, to tell whether it moved (hashable: boards are grouped by it): each column's figures and
    its opportunities' rows."""
    n = len(OPPORTUNITY_FIELDS)
    return tuple(
        (c.stage, c.count, c.amount, c.weighted, tuple(tuple(_hashable(v) for v in row[:n]) for row in c.rows))
        for c in columns
    )
