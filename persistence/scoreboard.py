"""What the scoreboard needs, in four statements (five with a team) whatever the number of
opportunities: the newest event position, the exchange rates, the deals aggregated by owner, kind and
currency, and the reps with their goals in the period.

The deals come from the buckets the unit of work keeps (persistence/aggregates.py), with the closed
deals of a period's partial days at either end read from the deal table; `from_deals=True` reads
them all from the deal table instead (the full recomputation the buckets are checked against)."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import credit
from domain.errors import NotFound
from domain.money import Money
from domain.scoreboard import (
    DealGroup,
    DealKind,
    GoalRow,
    Period,
    Scoreboard,
    ScoreboardRequest,
    compute_scoreboard,
)
from domain.stages import StageKind
from persistence import aggregates, reads, stages, tables
from persistence.db import ConnectionSource
from persistence.visibility import Viewer, scoreboard_bucket_slices, scoreboard_cut, scoreboard_deal_rule

# SQLite sums NUMERIC columns as floating point; summing ten-thousandths as integers keeps it exact.
SCALE = 10_000
# Beyond this, so many closed deals fall in the period that scanning the table beats the index.
EVERYTHING = Viewer.everything()
WIDE = timedelta(days=180)


def _sum(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.sum(cast(func.round(column * SCALE), Integer))
    return func.sum(column)


def deal_groups_statement(period: Period, team_id: int | None, dialect: str, viewer: Viewer = EVERYTHING) -> Select:
    """Closed deals of the period per owner, stage and currency (with the oldest closing time, for a
    sliding window), and open deals per owner and currency whenever they were opened; each row with
    'DEAL' first and the deals' `credit_shares` last (NULL: unshared, the owner's in full). A shared
    deal is counted once per credited user (`_credited`), as that user's, under the board's rule for
    a deal of that owner; the percentage is applied when the rows are read.

    Where most rows qualify (open deals; closed deals of all time or of a period longer than WIDE) a
    scan of the table beats the (stage, closed_at) index, whose random row lookups SQLite would
    otherwise pick: `stage || ''` keeps the planners off that index there. Grouping by `owner_id + 0` keeps SQLite from walking the
    owner index for the sake of its order (a hash or a sort of the few groups is far cheaper)."""
    return union_all(
        *_deal_groups_parts(period, team_id, dialect, viewer, shared=False),
        *_deal_groups_parts(period, team_id, dialect, viewer, shared=True),
    )  # type: ignore[return-value]


def _credited() -> tuple[Any, Any]:
    """The users credited with a part of a shared deal: a join of the deals to `users` on the user's
    id in the deal's canonical shares text ("7:34,9:33,12:33"), and the condition to join on."""
    u = tables.users.alias("credited")
    o = tables.opportunities.c
    return u, literal(",").concat(o.credit_shares).like(
        literal("%,").concat(cast(u.c.id, String)).concat(literal(":%"))
    )


def _deal_groups_parts(period: Period, team_id: int | None, dialect: str, viewer: Viewer, shared: bool) -> list:
    o = tables.opportunities.c
    if shared:
        credited, on = _credited()
        who = credited.c.id
        source: Any = tables.opportunities.join(credited, on).join(
            tables.accounts, tables.accounts.c.id == o.account_id
        )
        visible = scoreboard_deal_rule(viewer, tables.accounts, owner=who)
        only = [o.credit_shares.is_not(None)]
    else:
        who = o.owner_id
        source = tables.opportunities
        visible = viewer.rule(tables.opportunities)
        only = [o.credit_shares.is_(None)]
    owner = (who + 0).label("owner_id")
    in_team = [who.in_(select(tables.users.c.id).where(tables.users.c.team_id == team_id))] if team_id else []
    in_team += [visible] if visible is not None else []  # a caller's board counts only what it may see
    in_team += only
    if period.sliding:
        when = [o.closed_at > period.start, o.closed_at <= period.end]
    else:
        when = [o.closed_at >= period.start] if period.start is not None else []
        when += [o.closed_at < period.end] if period.end is not None else []
    wide = period.length is None or period.length > WIDE
    closed_stage = o.stage.concat("") if wide else o.stage
    closed = (
        select(
            literal("DEAL").label("source"),
            owner,
            stages.kind_of(o.stage).label("kind"),
            o.actual_revenue_currency.label("currency"),
            func.count().label("deals"),
            _sum(o.actual_revenue_amount, dialect).label("amount"),
            func.min(o.closed_at).label("oldest"),
            o.credit_shares,
        )
        .select_from(source)
        .where(closed_stage.in_(stages.keys_of(StageKind.WON, StageKind.LOST)), *when, *in_team)
        .group_by(owner, o.stage, o.actual_revenue_currency, o.credit_shares)
    )
    opened = (
        select(
            literal("DEAL"),
            owner,
            literal(DealKind.OPEN.value),
            o.estimated_revenue_currency,
            func.count(),
            _sum(o.estimated_revenue_amount, dialect),
            null(),
            o.credit_shares,
        )
        .select_from(source)
        .where(o.stage.concat("").in_(stages.keys_of(StageKind.OPEN)), *in_team)
        .group_by(owner, o.estimated_revenue_currency, o.credit_shares)
    )
    return [closed, opened]


def bucket_groups_statement(
    period: Period, team_id: int | None, dialect: str, viewer: Viewer = EVERYTHING
) -> tuple[Select, dict[str, Any]]:
    """The same groups as `deal_groups_statement` (amounts in ten-thousandths), summed from the buckets
    that cover the period (`aggregates.cover`) and, for its partial days, from the closed deals
    themselves through the (stage, closed_at) index: one statement, reading rows by owners and days, not
    by opportunities. Returned with
    its parameters (the viewer's among them): the statement is built once per shape of period, team
    and role, and serves every request of that shape.

    The oldest closing time comes from those edges only. It matters for a sliding window, whose
    scoreboard changes when its oldest deal drops out: a deal of the window's first partial day drops
    out before the next midnight, any later one at or after it, when the board changes anyway."""
    plan = aggregates.cover(period)
    params: dict[str, Any] = {**viewer.params, "team": team_id}
    if plan.months is not None:
        params.update(m_low=plan.months[0], m_high=plan.months[1])
    for n, (low, high) in enumerate(plan.day_ranges):
        params.update({f"d_low{n}": low, f"d_high{n}": high})
    for n, (_, low, high, _) in enumerate(plan.edges):
        params.update({f"e_low{n}": low, f"e_high{n}": high})
    shape = (
        plan.everything,
        plan.months is not None,
        len(plan.day_ranges),
        tuple((after, until) for after, _, _, until in plan.edges),
        team_id is not None,
    )
    return _bucket_groups(shape, viewer.role, dialect), params


@cache
def _bucket_groups(shape: tuple, role: str | None, dialect: str) -> Select:
    """Each (slice, part of the period) is its own branch, a range of the buckets' key (or of an
    index by owner or manager), rather than one condition over all of them that the planner would
    answer with a scan of the whole table."""
    everything, months, day_ranges, edges, team = shape
    viewer = Viewer(role)  # its ids are parameters: the statement is the same for every viewer of the role
    b = tables.scoreboard_buckets.c
    times, in_team = _bucket_times(everything, months, day_ranges, team)
    branches = [
        select(b.owner_id, b.kind, b.currency, b.credit, b.amount_e6).where(b.slice == slice_, when, rule, *in_team)
        for slice_, rule in scoreboard_bucket_slices(viewer)
        for when in times
    ]
    if branches:
        found = union_all(*branches).subquery("found")
    else:  # a viewer who may see nothing
        found = select(b.owner_id, b.kind, b.currency, b.credit, b.amount_e6).where(false()).subquery("found")
    summed = select(
        literal("BUCKET").label("source"),
        found.c.owner_id,
        found.c.kind,
        found.c.currency,
        func.sum(found.c.credit).label("deals"),
        func.sum(found.c.amount_e6).label("amount"),
        type_coerce(null(), tables.UTCDateTime).label("oldest"),
        type_coerce(null(), String).label("credit_shares"),
    ).group_by(found.c.owner_id, found.c.kind, found.c.currency)
    o, a = tables.opportunities.c, tables.accounts.c
    # Each edge deal's account by its key: on PostgreSQL a lateral lookup the planner cannot flatten
    # (OFFSET 0) into a join that reads every account, for a few dozen deals.
    account = select(a.id, a.is_private, a.created_by_id, a.manager_id, a.partner_id).where(a.id == o.account_id)
    if dialect == "postgresql":
        account = account.offset(0).lateral("account")
        deals = tables.opportunities.join(account, true())
    else:
        account = tables.accounts
        deals = tables.opportunities.join(account, a.id == o.account_id)
    amount = (
        cast(func.round(o.actual_revenue_amount * aggregates.E4), BigInteger)
        if dialect == "sqlite"
        else o.actual_revenue_amount * aggregates.E4
    )
    credited, on = _credited()
    parts = []
    for n, (after, until) in enumerate(edges):
        # Unshared deals by their owner; shared ones once per credited user, as that user's.
        for who, source, only in (
            (o.owner_id, deals, o.credit_shares.is_(None)),
            (credited.c.id, deals.join(credited, on), o.credit_shares.is_not(None)),
        ):
            visible = scoreboard_deal_rule(viewer, account, owner=who)
            mine = ([who.in_(_team_members())] if team else []) + ([visible] if visible is not None else [])
            parts.append(
                select(
                    literal("EDGE"),
                    who,
                    stages.kind_of(o.stage),
                    o.actual_revenue_currency,
                    func.count(),
                    func.sum(amount),
                    func.min(o.closed_at),
                    o.credit_shares,
                )
                .select_from(source)
                .where(
                    o.stage.in_(stages.keys_of(StageKind.WON, StageKind.LOST)),
                    o.closed_at > _moment(f"e_low{n}") if after else o.closed_at >= _moment(f"e_low{n}"),
                    o.closed_at <= _moment(f"e_high{n}") if until else o.closed_at < _moment(f"e_high{n}"),
                    only,
                    *mine,
                )
                .group_by(who, o.stage, o.actual_revenue_currency, o.credit_shares)
            )
    return union_all(summed, *parts) if parts else summed  # type: ignore[return-value]


def _date(name: str) -> Any:
    return bindparam(name, type_=Date)


def _bucket_times(everything: bool, months: bool, day_ranges: int, team: bool) -> tuple[list[Any], list[Any]]:
    """The buckets that cover a period (one condition per branch: all time, its months, its day ranges;
    open deals come from the all-time buckets), and the condition of a team's owners if a team is asked."""
    b = tables.scoreboard_buckets.c
    if everything:
        times = [b.grain == aggregates.ALL]
    else:
        times = [and_(b.grain == aggregates.ALL, b.kind == DealKind.OPEN.value)]
        if months:
            times.append(and_(b.grain == aggregates.MONTH, b.starts_on.between(_date("m_low"), _date("m_high"))))
        times += [
            and_(b.grain == aggregates.DAY, b.starts_on.between(_date(f"d_low{n}"), _date(f"d_high{n}")))
            for n in range(day_ranges)
        ]
    return times, ([b.owner_id.in_(_team_members())] if team else [])


def _deal_in_team() -> Any:
    """A deal of the partial days that counts for the `team` parameter's board: owned by one of its
    members, or shared with one (each credited part is then kept only if its user is a member)."""
    o = tables.opportunities.c
    credited, on = _credited()
    return or_(
        o.owner_id.in_(_team_members()),
        and_(
            o.credit_shares.is_not(None),
            select(credited.c.id).where(on, credited.c.team_id == bindparam("team", type_=Integer)).exists(),
        ),
    )


def _team_members() -> Select:
    """The users of the team the `team` parameter names."""
    return select(tables.users.c.id).where(tables.users.c.team_id == bindparam("team", type_=Integer))


def _moment(name: str) -> Any:
    return bindparam(name, type_=tables.UTCDateTime)


def reps_statement(
    period: Period, team_id: int | None, owners: Sequence[int], viewer: Viewer = EVERYTHING, every_user: bool = False
) -> Select:
    """The reps to show (a team's members, or everyone with deals or a goal in the period), each with
    the goals whose days reach into the period (one row per goal; none: a row with null goal columns)."""
    u, g = tables.users.c, tables.goals.c
    first, last = period.days()
    overlap = [g.user_id == u.id]
    visible_goals = viewer.rule(tables.goals)
    overlap += [visible_goals] if visible_goals is not None else []
    overlap += [g.period_end >= first] if first is not None else []
    overlap += [g.period_start <= last] if last is not None else []
    stmt = (
        select(
            tables.users,
            g.id.label("goal_id"),
            g.period_start,
            g.period_end,
            g.target_revenue_amount,
            g.target_revenue_currency,
            g.target_deals,
        )
        .select_from(tables.users.outerjoin(tables.goals, and_(*overlap)))
        .order_by(u.id, g.period_start, g.id)
    )
    if every_user:
        return stmt
    if team_id:
        return stmt.where(u.team_id == team_id)
    return stmt.where(or_(u.id.in_(list(owners)), g.id.is_not(None)))


UserRow = namedtuple("UserRow", [c.name for c in tables.users.c])  # type: ignore[misc]


class ScoreboardRows(NamedTuple):
    """A computed scoreboard with the rows it shows: its reps' users and its team."""

    board: Scoreboard
    users: dict[int, Any]
    team: Any | None


async def load_scoreboard(
    source: ConnectionSource | AsyncConnection,
    request: ScoreboardRequest,
    now: datetime,
    viewer: Viewer = EVERYTHING,
    *,
    from_deals: bool = False,
) -> Scoreboard:
    """The scoreboard of `request` at `now`. Its `event_id` is the newest outbox position read before
    the figures: they include at least every event up to it (and maybe some after it, which a
    client replaying from it merely sees again). Raises NotFound for an unknown team and
    ValidationError for a reporting currency without an exchange rate."""
    return (await load_scoreboard_rows(source, request, now, viewer, from_deals=from_deals)).board


async def load_scoreboard_with_users(
    source: ConnectionSource | AsyncConnection, request: ScoreboardRequest, now: datetime, viewer: Viewer = EVERYTHING
) -> tuple[Scoreboard, dict[int, Any]]:
    """The scoreboard and the `users` rows of its reps (see load_scoreboard_rows)."""
    board, users, _ = await load_scoreboard_rows(source, request, now, viewer)
    return board, users


async def load_scoreboard_rows(
    source: ConnectionSource | AsyncConnection,
    request: ScoreboardRequest,
    now: datetime,
    viewer: Viewer = EVERYTHING,
    *,
    from_deals: bool = False,
) -> ScoreboardRows:
    """The scoreboard with the `users` rows of its reps and the `teams` row of its team (read in the
    same statements), so showing them needs no further SQL, however many subscribers a push goes to."""
    if isinstance(source, AsyncConnection):
        return await _load(source, request, now, viewer, from_deals)
    async with source.connect() as conn:
        return await _load(conn, request, now, viewer, from_deals)


async def _deal_groups(
    conn: AsyncConnection, period: Period, team_id: int | None, viewer: Viewer, from_deals: bool
) -> list[DealGroup]:
    """The deal groups of the period, in one order whichever way they were read (sums then add up the
    same), rows of one group from the buckets and from the edges merged."""
    dialect = conn.dialect.name
    merged: dict[tuple[int, str, str | None], list[Any]] = {}
    if from_deals:
        stmt, params = deal_groups_statement(period, team_id, dialect, viewer), viewer.params
        places = 4 if dialect == "sqlite" else 0
    else:  # ten-thousandths
        stmt, params = bucket_groups_statement(period, team_id, dialect, viewer)
        places = 4
    for source, owner_id, kind, currency, count, amount, oldest, shares in await conn.execute(stmt, params):
        if source == "BUCKET":  # credit in hundredths, amounts in millionths
            _merge(merged, owner_id, kind, currency, Decimal(count).scaleb(-2), Decimal(amount or 0).scaleb(-6), None)
            continue
        part = _part(owner_id, shares)
        count, amount = Decimal(count) * part, Decimal(amount or 0).scaleb(-places if source == "DEAL" else -4) * part
        _merge(merged, owner_id, kind, currency, count, amount, oldest)
    return _groups(merged)


def _part(user_id: int, shares: str | None) -> Decimal:
    """The part of a deal credited to `user_id` (1 for an unshared deal's owner)."""
    if shares is None:
        return Decimal(1)
    percent = dict(credit.decode(shares)).get(user_id, 0)
    return Decimal(percent).scaleb(-2)


def _merge(
    merged: dict[tuple[int, str, str | None], list[Any]],
    owner_id: int,
    kind: str,
    currency: str | None,
    count: Decimal,
    amount: Decimal,
    oldest: datetime | None,
) -> None:
    entry = merged.setdefault((owner_id, kind, currency or None), [Decimal(0), Decimal(0), None])
    entry[0] += count
    entry[1] += amount
    if oldest is not None:
        entry[2] = oldest if entry[2] is None else min(entry[2], oldest)


def _groups(merged: dict[tuple[int, str, str | None], list[Any]]) -> list[DealGroup]:
    return [
        DealGroup(
            owner_id=owner_id,
            kind=DealKind(kind),
            currency=currency,
            count=count,
            amount=amount,
            oldest_closed_at=oldest,
        )
        for (owner_id, kind, currency), (count, amount, oldest) in sorted(
            merged.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
        )
    ]


async def _load(
    conn: AsyncConnection, request: ScoreboardRequest, now: datetime, viewer: Viewer, from_deals: bool = False
) -> ScoreboardRows:
    event_id, set_up = await reads.position_and_set_up(conn)
    rates = await reads.exchange_rates(conn)
    team_id, team = request.team_id, None
    if team_id is not None:
        team = (await conn.execute(select(tables.teams).where(tables.teams.c.id == team_id))).first()
        if team is None:
            raise NotFound("Team", team_id)
    period = request.period.resolve(now)
    deals = await _deal_groups(conn, period, team_id, viewer, from_deals)
    users: dict[int, str] = {}
    rows: dict[int, UserRow] = {}
    goals: list[GoalRow] = []
    owners = sorted({d.owner_id for d in deals})
    for row in await conn.execute(reps_statement(period, team_id, owners, viewer), viewer.params):
        users[row.id] = row.name
        if row.id not in rows:
            rows[row.id] = UserRow(*(row._mapping[c] for c in tables.users.c))
        if row.goal_id is not None:
            goals.append(
                GoalRow(
                    user_id=row.id,
                    period_start=row.period_start,
                    period_end=row.period_end,
                    target_revenue=Money(row.target_revenue_amount, row.target_revenue_currency),
                    target_deals=row.target_deals,
                )
            )
    board = compute_scoreboard(request, now, deals, users, goals, rates, event_id=event_id, set_up=set_up)
    return ScoreboardRows(board, rows, team)


# --- one read for every viewer of a board: the live boards (gql/subscriptions/scoreboards.py) ---


class BoardSource(NamedTuple):
    """What every viewer's board of one request at one moment is cut from (`cut_board`): the
    buckets and the edge deals of the period summed per the attributes the visibility rules read, not
    per viewer, every user with its team and its goals in the period, the rates, the team."""

    request: ScoreboardRequest
    now: datetime
    event_id: int | None
    rates: dict[str, Any]
    team: Any | None
    # slice, owner, kind, currency, manager, partner, account partner, private, creator, credit (hundredths of
    # deals), amount (millionths)
    buckets: list[tuple]
    # owner (the credited user of a shared deal's part), stage, currency, partner, manager, account partner,
    # private, creator, deals (Decimal: credited), amount (Decimal: credited), oldest
    edges: list[tuple]
    users: dict[int, Any]  # id -> UserRow, every user
    goals: list[tuple[int, int, GoalRow]]  # (user id, goal id, goal) overlapping the period, by user and start
    team_of: dict[int, int | None]  # every user's team
    by_slice: dict[str, list[tuple]]  # the buckets of each slice
    by_key: dict[tuple[str, int], list[tuple]]  # OWNER buckets by owner, MANAGER buckets by manager
    set_up: datetime | None = None  # when the company was set up (ALL_TIME starts on its day)


async def load_board_source(conn: AsyncConnection, request: ScoreboardRequest, now: datetime) -> BoardSource:
    """The reads of `_load` once for all viewers, in four statements (five with a team): the newest
    event position, the rates, the team, the buckets and edge deals (one statement), the users with
    their goals. Raises NotFound for an unknown team."""
    event_id, set_up = await reads.position_and_set_up(conn)
    rates = await reads.exchange_rates(conn)
    team_id, team = request.team_id, None
    if team_id is not None:
        team = (await conn.execute(select(tables.teams).where(tables.teams.c.id == team_id))).first()
        if team is None:
            raise NotFound("Team", team_id)
    period = request.period.resolve(now)
    stmt, params = board_source_statement(period, team_id, conn.dialect.name)
    buckets: list[tuple] = []
    read_edges: list[tuple] = []
    for row in await conn.execute(stmt, params):
        if row[0] == "EDGE":
            read_edges.append(tuple(row[1:]))
        else:
            buckets.append(tuple(row[:-2]))
    users: dict[int, Any] = {}
    goals: list[tuple[int, int, GoalRow]] = []
    for row in await conn.execute(reps_statement(period, None, (), EVERYTHING, every_user=True)):
        if row.id not in users:
            users[row.id] = UserRow(*(row._mapping[c] for c in tables.users.c))
        if row.goal_id is not None:
            goal = GoalRow(
                user_id=row.id,
                period_start=row.period_start,
                period_end=row.period_end,
                target_revenue=Money(row.target_revenue_amount, row.target_revenue_currency),
                target_deals=row.target_deals,
            )
            goals.append((row.id, row.goal_id, goal))
    by_slice: dict[str, list[tuple]] = {}
    by_key: dict[tuple[str, int], list[tuple]] = {}
    for row in buckets:
        by_slice.setdefault(row[0], []).append(row)
        if row[0] != aggregates.PARTNER:
            by_key.setdefault((row[0], row[1] if row[0] == aggregates.OWNER else row[4]), []).append(row)
    team_of = {u: row.team_id for u, row in users.items()}
    edges: list[tuple] = []
    for (
        owner,
        stage,
        currency,
        partner,
        manager,
        account_partner,
        private,
        creator,
        count,
        e4,
        oldest,
        shares,
    ) in read_edges:
        for user, percent in credit.credited(owner, shares):  # a shared deal once per credited user
            if team_id is not None and shares is not None and team_of.get(user) != team_id:
                continue
            part = Decimal(percent).scaleb(-2)
            attributes = (user, stage, currency, partner, manager, account_partner, private, creator)
            edges.append((*attributes, Decimal(count) * part, Decimal(e4 or 0).scaleb(-4) * part, oldest))
    return BoardSource(
        request, now, event_id, rates, team, buckets, edges, users, goals, team_of, by_slice, by_key, set_up
    )


def cut_board(source: BoardSource, viewer: Viewer) -> ScoreboardRows:
    """The board `load_scoreboard_rows` returns for `viewer` (same figures, same rows), cut from
    `source` in Python: no SQL, whatever the number of viewers."""
    sight = scoreboard_cut(viewer, source.team_of)
    merged: dict[tuple[int, str, str | None], list[Any]] = {}
    bucket = sight.bucket
    for slice_, owner, kind, currency, manager, partner, account_partner, private, creator, share, e6 in _candidates(
        source, sight
    ):
        if bucket(slice_, owner, manager, partner, account_partner, private, creator):
            _merge(merged, owner, kind, currency, Decimal(share).scaleb(-2), Decimal(e6 or 0).scaleb(-6), None)
    deal = sight.deal
    for (
        owner,
        stage,
        currency,
        partner,
        manager,
        account_partner,
        private,
        creator,
        deals,
        amount,
        oldest,
    ) in source.edges:
        if deal(owner, partner, manager, account_partner, private, creator):
            _merge(merged, owner, stage, currency, deals, amount, oldest)
    groups = _groups(merged)
    team_id = source.request.team_id
    goals = [(user, goal) for user, _, goal in source.goals if sight.goal(user)]
    if team_id is not None:
        shown = {u for u, row in source.users.items() if row.team_id == team_id}
    else:
        shown = {g.owner_id for g in groups} | {user for user, _ in goals}
    rows = {u: row for u, row in source.users.items() if u in shown}
    board = compute_scoreboard(
        source.request,
        source.now,
        groups,
        {u: row.name for u, row in rows.items()},
        [goal for user, goal in goals if user in shown],
        source.rates,
        event_id=source.event_id,
        set_up=source.set_up,
    )
    return ScoreboardRows(board, rows, source.team)


def _candidates(source: BoardSource, sight: Any) -> Any:
    """The buckets that may count for a viewer, by its role's slices and, for a rep or a director, by
    the owners and managers that are its (or its team): a rep's cut reads its own rows, not all."""
    if sight.role is None or sight.role == "ADMIN":
        return source.by_slice.get(aggregates.OWNER, ())
    if sight.role == "PARTNER":
        return source.by_slice.get(aggregates.PARTNER, ())
    if sight.members is None:
        return ()
    found: list[tuple] = []
    for member in sorted(sight.members):
        found += source.by_key.get((aggregates.OWNER, member), ())
        found += source.by_key.get((aggregates.MANAGER, member), ())
    return found


def board_source_statement(period: Period, team_id: int | None, dialect: str) -> tuple[Select, dict[str, Any]]:
    """The buckets of every slice that cover the period and the closed deals of its partial days, each
    summed per owner, kind, currency and the attributes the visibility rules read (what
    `bucket_groups_statement` sums for one viewer, here for all of them): rows led by the slice, or
    by 'EDGE' for the deals, whose columns are then the deal's and its account's."""
    plan = aggregates.cover(period)
    params: dict[str, Any] = {"team": team_id}
    if plan.months is not None:
        params.update(m_low=plan.months[0], m_high=plan.months[1])
    for n, (low, high) in enumerate(plan.day_ranges):
        params.update({f"d_low{n}": low, f"d_high{n}": high})
    for n, (_, low, high, _) in enumerate(plan.edges):
        params.update({f"e_low{n}": low, f"e_high{n}": high})
    shape = (
        plan.everything,
        plan.months is not None,
        len(plan.day_ranges),
        tuple((after, until) for after, _, _, until in plan.edges),
        team_id is not None,
    )
    return _board_source(shape, dialect), params


@cache
def _board_source(shape: tuple, dialect: str) -> Select:
    everything, months, day_ranges, edges, team = shape
    b = tables.scoreboard_buckets.c
    times, in_team = _bucket_times(everything, months, day_ranges, team)
    keyed = (b.slice, b.owner_id, b.kind, b.currency, b.manager_id, b.partner_id, b.account_partner_id, b.is_private)
    columns = (*keyed, b.creator_id, b.credit, b.amount_e6)
    # One branch per slice and part of the period: a range of the buckets' key, as for one viewer.
    found = union_all(
        *(
            select(*columns).where(b.slice == slice_, when, *in_team)
            for slice_ in (aggregates.OWNER, aggregates.MANAGER, aggregates.PARTNER)
            for when in times
        )
    ).subquery("found")
    f = found.c
    group = (f.slice, f.owner_id, f.kind, f.currency, f.manager_id, f.partner_id, f.account_partner_id)
    summed = select(
        *group,
        f.is_private,
        f.creator_id,
        func.sum(f.credit).label("deals"),
        func.sum(f.amount_e6).label("amount"),
        type_coerce(null(), tables.UTCDateTime).label("oldest"),
        type_coerce(null(), String).label("credit_shares"),
    ).group_by(*group, f.is_private, f.creator_id)
    o, a = tables.opportunities.c, tables.accounts.c
    account = select(a.id, a.is_private, a.created_by_id, a.manager_id, a.partner_id).where(a.id == o.account_id)
    if dialect == "postgresql":
        account = account.offset(0).lateral("account")
        deals = tables.opportunities.join(account, true())
    else:
        account = tables.accounts
        deals = tables.opportunities.join(account, a.id == o.account_id)
    c = account.c
    amount = (
        cast(func.round(o.actual_revenue_amount * aggregates.E4), BigInteger)
        if dialect == "sqlite"
        else o.actual_revenue_amount * aggregates.E4
    )
    attributes = (o.owner_id, o.stage, o.actual_revenue_currency, o.partner_id, c.manager_id, c.partner_id)
    parts = [
        select(
            literal("EDGE"),
            o.owner_id,
            stages.kind_of(o.stage),  # the board counts by the stage's kind; grouped by the stage itself
            *attributes[2:],
            c.is_private,
            c.created_by_id,
            func.count(),
            func.sum(amount),
            func.min(o.closed_at),
            o.credit_shares,
        )
        .select_from(deals)
        .where(
            o.stage.in_(stages.keys_of(StageKind.WON, StageKind.LOST)),
            o.closed_at > _moment(f"e_low{n}") if after else o.closed_at >= _moment(f"e_low{n}"),
            o.closed_at <= _moment(f"e_high{n}") if until else o.closed_at < _moment(f"e_high{n}"),
            *([_deal_in_team()] if team else []),
        )
        .group_by(*attributes, c.is_private, c.created_by_id, o.credit_shares)
        for n, (after, until) in enumerate(edges)
    ]
    return union_all(summed, *parts) if parts else summed  # type: ignore[return-value]
