"""The live scoreboard as read: the period input, the board and its reps. The same request object and
type serve the `scoreboard` query and the `scoreboardUpdated` subscription."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from domain import scoreboard
from domain.errors import NotFound, ValidationError
from domain.money import Money as DomainMoney
from gql import ids
from gql.errors import ClientError
from gql.schema.base import Edge, Money, PageInfo, described_enum, encode_cursor, money, window
from gql.schema.people import Team, User
from gql.subscriptions.sharing import NOTHING, RENDER_READS, VIEWER_USER
from persistence import tables
from persistence.db import ConnectionSource
from persistence.scoreboard import load_scoreboard_rows
from persistence.visibility import Viewer

MAX_INT = 2**31 - 1  # GraphQL Int is 32-bit

PeriodPreset = described_enum(
    scoreboard.PeriodPreset,
    "PeriodPreset",
    "A scoreboard period relative to now (UTC).",
    {
        "LAST_24_HOURS": "The 24 hours up to now: a sliding window that moves with time and never ends.",
        "LAST_7_DAYS": "The 7 days up to now: a sliding window that moves with time and never ends.",
        "THIS_MONTH": "The current calendar month, in UTC.",
        "LAST_MONTH": "The calendar month before the current one, in UTC.",
        "THIS_QUARTER": "The current calendar quarter (January–March, April–June, …), in UTC.",
        "ALL_TIME": (
            "Everything since the day the company was set up (the day its first user was made), with no end; "
            "rows dated earlier (imported history) count too."
        ),
    },
)


@strawberry.input(
    description="The period of a scoreboard: either a `preset`, or a custom range with both `from` and "
    "`to`; never both, never neither."
)
class PeriodInput:
    preset: PeriodPreset | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="A period relative to now."
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Start of a custom range (included); without an offset it is UTC."
    )
    to: datetime | None = strawberry.field(default=None, description="End of a custom range (excluded); after `from`.")


@strawberry.type(description="One sales rep's figures on a scoreboard. Amounts are in the scoreboard's currency.")
class ScoreboardRep:
    user_id: strawberry.Private[int]
    user_row: strawberry.Private[Any]
    rank: int = strawberry.field(description="1 for the most won revenue; ties go to more deals won, then by name.")
    won_revenue: Money = strawberry.field(description="Actual revenue of the deals the rep won in the period.")
    deals_won: int = strawberry.field(
        description="How many deals the rep won in the period, a shared deal by the rep's percentage, rounded to a "
        "whole number (`dealsWonCredit` is exact)."
    )
    deals_lost: int = strawberry.field(
        description="How many deals the rep lost in the period, rounded like `dealsWon` (`dealsLostCredit`)."
    )
    deals_won_credit: Decimal = strawberry.field(
        description="Deals won in the period credited to the rep: 1 for each unshared deal, the rep's percentage "
        "of a deal shared among co-workers (0.33 for 33 %); two decimals."
    )
    deals_lost_credit: Decimal = strawberry.field(description="Deals lost in the period credited to the rep.")
    open_deals_credit: Decimal = strawberry.field(description="Open opportunities credited to the rep.")
    win_rate: Decimal | None = strawberry.field(
        description="Deals won ÷ deals closed (won or lost) in the period, in % with one decimal; null when none "
        "closed."
    )
    open_pipeline: Money = strawberry.field(
        description="Estimated revenue of the rep's open opportunities (whenever they were opened)."
    )
    open_deals: int = strawberry.field(
        description="How many open opportunities the rep has, rounded like `dealsWon` (`openDealsCredit`)."
    )
    goal: Money | None = strawberry.field(
        description="The rep's revenue goal for the period: each goal counts by the share of its days that lie in "
        "the period (a monthly goal counts fully in its month, 7/30 of it in a 7-day window). Null "
        "when the rep has no goal there."
    )
    deals_goal: Decimal | None = strawberry.field(
        description="The rep's goal in deals won, shared out over the period like `goal` (one decimal)."
    )
    progress: Decimal | None = strawberry.field(
        description="Won revenue ÷ goal, in % with one decimal; null without a goal (or a zero goal)."
    )
    projected: Money = strawberry.field(
        description="Won revenue projected to the period's end at the pace so far, counted in whole days from the "
        "period's start (a begun day counts). Equals won revenue for sliding windows, ALL_TIME and "
        "periods that have ended."
    )
    on_track: bool | None = strawberry.field(description="Whether `projected` reaches `goal`; null without a goal.")

    # Users are seen by everyone (persistence/visibility.py, SHARED), so whether the row comes with the board
    # (a live board's always does) or through the loader, the caller makes no difference to the render
    # (gql/subscriptions/sharing.py).
    @strawberry.field(description="The sales rep.", metadata={RENDER_READS: NOTHING})
    async def user(self, info: Info) -> User:
        if self.user_row is not None:
            return User.from_row(self.user_row)
        return User.from_row(await info.context.by_id(tables.users).load(self.user_id))

    @classmethod
    def from_domain(cls, rep: scoreboard.RepFigures, user_row: Any = None) -> ScoreboardRep:
        return cls(
            user_id=rep.user_id,
            user_row=user_row,
            rank=rep.rank,
            won_revenue=_money(rep.won_revenue),
            deals_won=_whole(rep.deals_won),
            deals_lost=_whole(rep.deals_lost),
            deals_won_credit=_credit(rep.deals_won),
            deals_lost_credit=_credit(rep.deals_lost),
            open_deals_credit=_credit(rep.open_deals),
            win_rate=rep.win_rate,
            open_pipeline=_money(rep.open_pipeline),
            open_deals=_whole(rep.open_deals),
            goal=_money(rep.goal),
            deals_goal=rep.deals_goal,
            progress=rep.progress,
            projected=_money(rep.projected),
            on_track=rep.on_track,
        )


@strawberry.type(
    description="A page of a scoreboard's reps by rank (Relay connection). Cursors are places in this board's "
    "ranking: the next board (after an event) may rank reps otherwise."
)
class ScoreboardRepConnection:
    board: strawberry.Private[Scoreboard]
    low: strawberry.Private[int]
    high: strawberry.Private[int]

    @strawberry.field(description="The reps of this page, by rank, with their cursors.")
    def edges(self) -> list[Edge[ScoreboardRep]]:
        return [
            Edge(cursor=encode_cursor(self.low + n), node=rep)
            for n, rep in enumerate(self.board._reps(self.low, self.high))
        ]

    @strawberry.field(description="The reps of this page, by rank, without cursors.")
    def nodes(self) -> list[ScoreboardRep]:
        return self.board._reps(self.low, self.high)

    @strawberry.field(description="Where this page lies in the whole ranking.")
    def page_info(self) -> PageInfo:
        empty = self.low >= self.high
        return PageInfo(
            has_next_page=self.high < len(self.board.rep_figures),
            has_previous_page=self.low > 0,
            start_cursor=None if empty else encode_cursor(self.low),
            end_cursor=None if empty else encode_cursor(self.high - 1),
        )

    @strawberry.field(description="How many reps the whole board ranks.")
    def total_count(self) -> int:
        return len(self.board.rep_figures)


@strawberry.type(
    description="A live sales scoreboard for a period, optionally one team, in a reporting currency. "
    "Figures change only through events (see `eventId`) or at `changesAt`; totals are the "
    "sums of the reps' rounded figures."
)
class Scoreboard:
    team_id: strawberry.Private[int | None]
    team_row: strawberry.Private[Any]
    rep_figures: strawberry.Private[tuple[scoreboard.RepFigures, ...]]
    user_rows: strawberry.Private[Mapping[int, Any]]
    preset: PeriodPreset | None = strawberry.field(  # type: ignore[valid-type]
        description="The preset asked for; null for a custom range."
    )
    period_start: datetime | None = strawberry.field(
        description="Start of the period (UTC); for ALL_TIME 00:00 UTC of the day the company was set up (null "
        "before it has a user). Moves with `asOf` for sliding windows."
    )
    period_end: datetime | None = strawberry.field(
        description="End of the period (UTC, excluded; for sliding windows: now, included); null for ALL_TIME."
    )
    as_of: datetime = strawberry.field(description="When these figures were computed.")
    time_left: int | None = strawberry.field(
        description="Seconds from `asOf` to the period's end (0 once it has ended; at most 2147483647); null for "
        "periods that never end (sliding windows, ALL_TIME)."
    )
    changes_at: datetime | None = strawberry.field(
        description="The next moment at which time alone changes a figure (a new day of the pace, a deal leaving a "
        "sliding window, the period's end); null when only events can change them."
    )
    currency: str = strawberry.field(description="The reporting currency (ISO 4217) of every amount here.")
    won_revenue: Money = strawberry.field(description="Actual revenue of the opportunities won in the period.")
    deals_won: int = strawberry.field(
        description="How many opportunities were won in the period (the reps' credit, rounded to a whole number)."
    )
    deals_lost: int = strawberry.field(description="How many opportunities were lost in the period (rounded).")
    deals_won_credit: Decimal = strawberry.field(
        description="The reps' credited deals won (`dealsWonCredit` summed): a fraction when only some of the users "
        "sharing a deal are on this board (a team's); two decimals."
    )
    deals_lost_credit: Decimal = strawberry.field(description="The reps' credited deals lost, two decimals.")
    open_deals_credit: Decimal = strawberry.field(description="The reps' credited open opportunities, two decimals.")
    win_rate: Decimal | None = strawberry.field(
        description="Won ÷ closed (won or lost) in the period, in % with one decimal; null when none closed."
    )
    average_deal_size: Money | None = strawberry.field(
        description="Average revenue per won deal in the period; null when none was won."
    )
    guide_win_rate: Decimal | None = strawberry.field(
        description="The win rate as the conversation intelligence guide defines it: won in the period against "
        "the opportunities available in it (won or lost in the period, or open now), in % with one decimal; null "
        "when there are none. `winRate` is won against closed (won or lost) only."
    )
    open_pipeline: Money = strawberry.field(
        description="Estimated revenue of all open opportunities now (not bound to the period)."
    )
    open_deals: int = strawberry.field(description="How many opportunities are open now (rounded).")
    goal: Money | None = strawberry.field(description="The sum of the reps' goals; null when none has one.")
    progress: Decimal | None = strawberry.field(description="Won revenue ÷ goal, in % with one decimal.")
    projected: Money = strawberry.field(description="The sum of the reps' projected results.")
    on_track: bool | None = strawberry.field(description="Whether `projected` reaches `goal`; null without a goal.")
    missing_rates: list[str] = strawberry.field(
        description="Currencies of amounts left out because they have no exchange rate (set one to count them)."
    )
    event_id: strawberry.ID | None = strawberry.field(
        description="The newest event these figures include (a subscription's `since`); null before any event."
    )

    @strawberry.field(
        description="The sales reps by rank: a team's members, or (without a team) everyone who owns open "
        "opportunities, closed deals in the period or has a goal in it. All of them: on a large sales "
        "organisation ask for `ranking` (a page) and `viewerRep` instead."
    )
    def reps(self) -> list[ScoreboardRep]:
        return self._reps(0, len(self.rep_figures))

    @strawberry.field(
        description="The sales reps by rank, a page at a time, as `reps` lists them: the top 20 unless `first` "
        "or `last` says how many (at most 100), and the next with `after` (`before` for the previous)."
    )
    def ranking(
        self,
        first: Annotated[
            int | None, strawberry.argument(description="How many reps from the start (or `after`).")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The reps ranked after this cursor (an edge's `cursor`).")
        ] = None,
        last: Annotated[
            int | None, strawberry.argument(description="How many reps from the end (or `before`).")
        ] = None,
        before: Annotated[
            str | None, strawberry.argument(description="The reps ranked before this cursor (an edge's `cursor`).")
        ] = None,
    ) -> ScoreboardRepConnection:
        low, high = window(first, after, last, before).bounds(len(self.rep_figures))
        return ScoreboardRepConnection(board=self, low=low, high=high)

    @strawberry.field(
        description="The caller's own row on this board, wherever it ranks (so a page of `ranking` and this "
        "together always show it); null for a partner, or a user with no row on this board.",
        metadata={RENDER_READS: VIEWER_USER},  # (the caller's user id and nothing else)
    )
    def viewer_rep(self, info: Info) -> ScoreboardRep | None:
        user_id = info.context.viewer.user_id
        for n, rep in enumerate(self.rep_figures):
            if rep.user_id == user_id:
                return self._reps(n, n + 1)[0]
        return None

    def _reps(self, low: int, high: int) -> list[ScoreboardRep]:
        return [ScoreboardRep.from_domain(r, self.user_rows.get(r.user_id)) for r in self.rep_figures[low:high]]

    # Teams are seen by everyone (SHARED): the loader's answer is the same whoever the caller.
    @strawberry.field(
        description="The team the scoreboard is limited to; null for everyone.", metadata={RENDER_READS: NOTHING}
    )
    async def team(self, info: Info) -> Team | None:
        if self.team_id is None:
            return None
        if self.team_row is not None:
            return Team.from_row(self.team_row)
        return Team.from_row(await info.context.by_id(tables.teams).load(self.team_id))

    @classmethod
    def from_domain(
        cls, board: scoreboard.Scoreboard, users: Mapping[int, Any] | None = None, team: Any = None
    ) -> Scoreboard:
        """The GraphQL object of a computed scoreboard. `users` (the reps' `users` rows by id) and `team`
        (the `teams` row), when the caller has them (`load` does); without them each goes through the
        request's loaders. With them the object needs no SQL to show, so one can serve every subscriber."""
        users = users or {}
        period = board.period
        return cls(
            team_id=board.request.team_id,
            team_row=team,
            preset=period.preset,
            period_start=period.start,
            period_end=period.end,
            as_of=board.as_of,
            time_left=None if board.time_left is None else min(board.time_left, MAX_INT),
            changes_at=board.changes_at,
            currency=board.currency,
            won_revenue=_money(board.won_revenue),
            deals_won=_whole(board.deals_won),
            deals_lost=_whole(board.deals_lost),
            deals_won_credit=_credit(board.deals_won),
            deals_lost_credit=_credit(board.deals_lost),
            open_deals_credit=_credit(board.open_deals),
            win_rate=board.win_rate,
            guide_win_rate=scoreboard.percent(board.deals_won, board.deals_won + board.deals_lost + board.open_deals),
            average_deal_size=_money(board.average_deal_size),
            open_pipeline=_money(board.open_pipeline),
            open_deals=_whole(board.open_deals),
            goal=_money(board.goal),
            progress=board.progress,
            projected=_money(board.projected),
            on_track=board.on_track,
            rep_figures=board.reps,
            user_rows=users,
            missing_rates=list(board.missing_rates),
            event_id=None if board.event_id is None else strawberry.ID(str(board.event_id)),
        )


def _whole(count: Decimal | int) -> int:
    """A credited count rounded half up to a whole number of deals (exact when no deal in it is shared)."""
    return int(Decimal(count).to_integral_value(ROUND_HALF_UP))


def _credit(count: Decimal | int) -> Decimal:
    """A credited count with two decimals (percentages are whole, so it is exact)."""
    return Decimal(count).quantize(Decimal("0.01"))


def _money(value: DomainMoney | None) -> Money | None:
    return None if value is None else money(value.amount, value.currency)


def scoreboard_request(
    period: PeriodInput, team_id: strawberry.ID | None, currency: str | None
) -> scoreboard.ScoreboardRequest:
    """The arguments of `scoreboard` / `scoreboardUpdated` as a request; a ClientError when they are bad."""
    team = ids.decode_as(team_id, "Team") if team_id is not None else None
    try:
        spec = scoreboard.PeriodSpec.of(
            period.preset.value if period.preset is not None else None, period.from_, period.to
        )
        return scoreboard.ScoreboardRequest.of(spec, team, currency)
    except ValidationError as error:
        raise ClientError(error.message, code="BAD_USER_INPUT", field=error.field) from None


async def load(
    source: ConnectionSource | AsyncConnection,
    request: scoreboard.ScoreboardRequest,
    now: datetime,
    viewer: Viewer,
) -> Scoreboard:
    """The scoreboard of `request` at `now` counting only what `viewer` may see, as the GraphQL type; a
    ClientError for an unknown team or a reporting currency without an exchange rate."""
    try:
        return Scoreboard.from_domain(*await load_scoreboard_rows(source, request, now, viewer))
    except NotFound:
        raise ClientError(f"{ids.encode('Team', request.team_id)!r} names no team", code="NOT_FOUND") from None
    except ValidationError as error:
        raise ClientError(error.message, code="BAD_USER_INPUT", field=error.field) from None


PERIOD = Annotated[PeriodInput, strawberry.argument(description="The period: a preset or a custom from/to range.")]
TEAM = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="Only this team's members (a Team id); all reps when omitted."),
]
CURRENCY = Annotated[
    str | None,
    strawberry.argument(
        description="The reporting currency (ISO 4217); EUR, the base of the exchange rates, when omitted."
    ),
]


async def resolve_scoreboard(info: Info, period: PERIOD, team_id: TEAM = None, currency: CURRENCY = None) -> Scoreboard:
    return await load(
        info.context.reads, scoreboard_request(period, team_id, currency), info.context.clock(), info.context.viewer
    )
