"""The sales reports as read: the scope input, the reports object (funnel, won revenue by person and by
product, forecast, partner results, time per channel) and the opportunity board. The same request and
type serve the `salesReports` query and the `salesReportsUpdated` subscription."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from domain import reports
from domain import scoreboard as sb
from domain.errors import NotFound, ValidationError
from domain.money import Money as DomainMoney
from domain.money import check_currency
from gql import ids
from gql.errors import ClientError
from gql.schema import enums
from gql.schema.base import MAX_PAGE_SIZE, Money, money, window
from gql.schema.catalog import Product
from gql.schema.opportunities import Opportunity
from gql.schema.people import Partner, Team, User
from gql.schema.scoreboard import CURRENCY, PERIOD, PeriodInput, PeriodPreset
from persistence.db import ConnectionSource
from persistence.reports import OPPORTUNITY_FIELDS, BoardColumn, BoardRequest, ReportRows, load_board, load_reports
from persistence.visibility import PARTNER, Viewer

HOUR = Decimal(60)
TENTH = Decimal("0.1")


@strawberry.input(
    description="Whose deals a report counts: a team's (its members own them), a user's (owns them) or a "
    "partner's (credited with them: the deal's partner, else its account's). Together, all must hold; "
    "none: everything the caller may see. In the reports that credit a person (won revenue by person, the "
    "forecast) a team or user is credited with the deals: a shared deal counts by the users' percentages."
)
class ReportScopeInput:
    team_id: strawberry.ID | None = strawberry.field(default=None, description="A Team id.")
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="A User id (the deals' owner; in the person reports, the credited user)."
    )
    partner_id: strawberry.ID | None = strawberry.field(
        default=None, description="A Partner id (a partner may name only itself)."
    )


SCOPE = Annotated[
    ReportScopeInput | None,
    strawberry.argument(description="Whose deals to count; everything you may see when omitted."),
]


def report_scope(scope: ReportScopeInput | None) -> reports.ReportScope:
    if scope is None:
        return reports.ReportScope()
    return reports.ReportScope(
        team_id=ids.decode_as(scope.team_id, "Team") if scope.team_id is not None else None,
        user_id=ids.decode_as(scope.user_id, "User") if scope.user_id is not None else None,
        partner_id=ids.decode_as(scope.partner_id, "Partner") if scope.partner_id is not None else None,
    )


def report_request(period: PeriodInput, scope: ReportScopeInput | None, currency: str | None) -> reports.ReportRequest:
    """The arguments of `salesReports` / `salesReportsUpdated` as a request; a ClientError when they are bad."""
    parsed = report_scope(scope)
    try:
        spec = sb.PeriodSpec.of(period.preset.value if period.preset is not None else None, period.from_, period.to)
        return reports.ReportRequest.of(spec, parsed, currency)
    except ValidationError as error:
        raise ClientError(error.message, code="BAD_USER_INPUT", field=error.field) from None


def _money(value: DomainMoney) -> Money:
    return money(value.amount, value.currency)  # type: ignore[return-value]


@strawberry.type(description="How many deals, and their amount, in the report's currency.")
class ReportFigure:
    deals: int = strawberry.field(description="How many opportunities.")
    amount: Money = strawberry.field(
        description="Their revenue: estimated for open deals, actual for won and lost ones (for a product: the "
        "values of its contracts)."
    )
    weighted_amount: Money = strawberry.field(
        description="Open deals: each deal's estimated revenue × its probability, summed. Zero for closed deals."
    )

    @classmethod
    def of(cls, figure: reports.Figure) -> ReportFigure:
        return cls(deals=figure.deals, amount=_money(figure.amount), weighted_amount=_money(figure.weighted))


@strawberry.type(description="One open stage of the funnel.")
class FunnelStage:
    stage: enums.Stage = strawberry.field(description="The stage.")  # type: ignore[valid-type]
    deals: int = strawberry.field(description="Open opportunities at this stage now.")
    amount: Money = strawberry.field(description="Their estimated revenue.")
    weighted_amount: Money = strawberry.field(description="Their estimated revenue × probability.")
    reached: int = strawberry.field(
        description="Opportunities at this stage or beyond: at a later open stage now, or won in the period."
    )
    conversion: Decimal | None = strawberry.field(
        description="The share of `reached` that went on to the next step (the next stage's `reached`; after "
        "the last open stage: won in the period), in % with one decimal; null when none reached this stage."
    )


@strawberry.type(description="The sales funnel: open deals by stage now, won and lost in the period.")
class SalesFunnel:
    stages: list[FunnelStage] = strawberry.field(description="The open stages, in the order of the process.")
    won: ReportFigure = strawberry.field(description="Won in the period.")
    lost: ReportFigure = strawberry.field(description="Lost in the period.")
    win_rate: Decimal | None = strawberry.field(
        description="Won ÷ (won + lost) in the period, in % with one decimal; null when none closed."
    )


CREDIT_NOTE = "a deal shared among co-workers counts by the user's percentage"


def _whole(count: Decimal | int) -> int:
    """A credited count rounded half up to a whole number of deals (exact when no deal in it is shared)."""
    return int(Decimal(count).to_integral_value(ROUND_HALF_UP))


def _credit(count: Decimal | int) -> Decimal:
    """A credited count with two decimals (percentages are whole, so it is exact)."""
    return Decimal(count).quantize(Decimal("0.01"))


@strawberry.type(
    description="Won revenue of one sales rep in the period: the rep's credit (" + CREDIT_NOTE + "; an unshared "
    "deal is its owner's in full)."
)
class PersonRevenue:
    user_row: strawberry.Private[Any]
    deals: int = strawberry.field(description="How many deals the rep won, rounded to a whole number (`dealsCredit`).")
    deals_credit: Decimal = strawberry.field(
        description="Deals won credited to the rep: 1 for each unshared deal it owns, its percentage of a shared "
        "one (0.33 for 33 %); two decimals."
    )
    revenue: Money = strawberry.field(description="Their actual revenue, each shared deal's by the rep's percentage.")

    @strawberry.field(description="The rep (credited with the deals).")
    def user(self) -> User:
        return User.from_row(self.user_row)


@strawberry.type(description="Won revenue of one product in the period: the values of its contracts from won deals.")
class ProductRevenue:
    product_row: strawberry.Private[Any]
    deals: int = strawberry.field(description="How many won deals sold it.")
    revenue: Money = strawberry.field(description="The values of its contracts.")

    @strawberry.field(
        description="The product; null for revenue on no product (manual items, deals won without contracts)."
    )
    def product(self) -> Product | None:
        return Product.from_row(self.product_row) if self.product_row is not None else None


@strawberry.type(description="Open pipeline expected to close in one month.")
class ForecastMonth:
    month: date | None = strawberry.field(
        description="The first day of the month of the expected close date; null for deals without one."
    )
    deals: int = strawberry.field(description="How many open opportunities, rounded (`dealsCredit`).")
    deals_credit: Decimal = strawberry.field(description="Open opportunities credited, two decimals.")
    pipeline: Money = strawberry.field(description="Their estimated revenue.")
    weighted: Money = strawberry.field(description="Their estimated revenue × probability: the forecast.")

    @classmethod
    def of(cls, keyed: reports.Keyed) -> ForecastMonth:
        f = keyed.figure
        return cls(
            month=keyed.key,  # type: ignore[arg-type]
            deals=_whole(f.deals),
            deals_credit=_credit(f.deals),
            pipeline=_money(f.amount),
            weighted=_money(f.weighted),
        )


@strawberry.type(description="One rep's forecast: the rep's credit (" + CREDIT_NOTE + ").")
class RepForecast:
    user_row: strawberry.Private[Any]
    team_row: strawberry.Private[Any]
    deals: int = strawberry.field(
        description="How many open opportunities the rep expects to close in the period, rounded (`dealsCredit`)."
    )
    deals_credit: Decimal = strawberry.field(description="Open opportunities credited to the rep, two decimals.")
    pipeline: Money = strawberry.field(description="Their estimated revenue.")
    weighted: Money = strawberry.field(description="Their estimated revenue × probability.")
    months: list[ForecastMonth] = strawberry.field(description="The same by expected close month.")

    @strawberry.field(description="The rep (credited with the deals).")
    def user(self) -> User:
        return User.from_row(self.user_row)

    @strawberry.field(description="The rep's team; null without one.")
    def team(self) -> Team | None:
        return Team.from_row(self.team_row) if self.team_row is not None else None


@strawberry.type(description="One team's forecast.")
class TeamForecast:
    team_row: strawberry.Private[Any]
    deals: int = strawberry.field(
        description="How many open opportunities the team's reps expect to close, rounded (`dealsCredit`)."
    )
    deals_credit: Decimal = strawberry.field(description="Open opportunities credited to the team's reps.")
    pipeline: Money = strawberry.field(description="Their estimated revenue.")
    weighted: Money = strawberry.field(description="Their estimated revenue × probability.")

    @strawberry.field(description="The team; null for reps without a team.")
    def team(self) -> Team | None:
        return Team.from_row(self.team_row) if self.team_row is not None else None


@strawberry.type(
    description="The forecast: open opportunities whose expected close date lies in the period (every open "
    "one for ALL_TIME, those without a date too), weighted by their probability; each credited user's part "
    "(" + CREDIT_NOTE + "), so the reps add up to the total."
)
class SalesForecast:
    deals: int = strawberry.field(description="How many open opportunities, rounded (`dealsCredit`).")
    deals_credit: Decimal = strawberry.field(
        description="Open opportunities credited: whole unless some shares of a deal are not yours to see."
    )
    pipeline: Money = strawberry.field(description="Their estimated revenue.")
    weighted: Money = strawberry.field(description="Their estimated revenue × probability.")
    months: list[ForecastMonth] = strawberry.field(description="By expected close month (no date last).")
    reps: list[RepForecast] = strawberry.field(description="By rep, the largest weighted forecast first.")
    teams: list[TeamForecast] = strawberry.field(description="By team (reps without a team last).")


@strawberry.type(
    description="One partner's results: what it is credited with (the deal's partner, else its account's)."
)
class PartnerResult:
    partner_row: strawberry.Private[Any]
    won: ReportFigure = strawberry.field(description="Deals won in the period.")
    open: ReportFigure = strawberry.field(description="Open deals now (the pipeline), with the weighted amount.")

    @strawberry.field(description="The partner.")
    def partner(self) -> Partner:
        return Partner.from_row(self.partner_row)


@strawberry.type(
    description="Time one user spent on one channel in the period, from the sales activities that occurred."
)
class ChannelTime:
    user_row: strawberry.Private[Any]
    channel: enums.ActivityType = strawberry.field(description="The kind of activity (CALL, EMAIL, MEETING, …).")  # type: ignore[valid-type]
    activities: int = strawberry.field(description="How many activities occurred.")
    minutes: int = strawberry.field(description="Their durations, summed (an activity without a duration adds 0).")
    hours: Decimal = strawberry.field(description="The same in hours, with one decimal.")

    @strawberry.field(description="The user who did them (the activities' owner).")
    def user(self) -> User:
        return User.from_row(self.user_row)


@strawberry.type(
    description="The sales reports for a period, a scope and a reporting currency, as the caller may see them: "
    "every figure is a sum of the aggregates of the deals and activities it may see."
)
class SalesReports:
    rows: strawberry.Private[ReportRows]
    preset: PeriodPreset | None = strawberry.field(description="The preset asked for; null for a custom range.")  # type: ignore[valid-type]
    period_start: datetime | None = strawberry.field(description="Start of the period (UTC); null for ALL_TIME.")
    period_end: datetime | None = strawberry.field(description="End of the period (UTC); null for ALL_TIME.")
    as_of: datetime = strawberry.field(description="When these figures were read.")
    currency: str = strawberry.field(description="The reporting currency (ISO 4217) of every amount here.")
    missing_rates: list[str] = strawberry.field(
        description="Currencies of amounts left out because they have no exchange rate (set one to count them)."
    )
    event_id: strawberry.ID | None = strawberry.field(
        description="The newest event these figures include; null before any event."
    )

    @strawberry.field(description="The sales funnel by stage, with conversion between stages.")
    def funnel(self) -> SalesFunnel:
        f = self.rows.reports.funnel
        return SalesFunnel(
            stages=[
                FunnelStage(
                    stage=s.stage,
                    deals=s.deals,
                    amount=_money(s.amount),
                    weighted_amount=_money(s.weighted),
                    reached=s.reached,
                    conversion=s.conversion,
                )
                for s in f.stages
            ],
            won=ReportFigure.of(f.won),
            lost=ReportFigure.of(f.lost),
            win_rate=f.win_rate,
        )

    @strawberry.field(
        description="Won revenue in the period by rep, the most first: each rep's credit (" + CREDIT_NOTE + ")."
    )
    def won_revenue_by_person(self) -> list[PersonRevenue]:
        users = self.rows.users
        return [
            PersonRevenue(
                user_row=users.get(k.key),
                deals=_whole(k.figure.deals),
                deals_credit=_credit(k.figure.deals),
                revenue=_money(k.figure.amount),
            )
            for k in self.rows.reports.won_by_person
        ]

    @strawberry.field(description="Won revenue in the period by product, the most first.")
    def won_revenue_by_product(self) -> list[ProductRevenue]:
        products = self.rows.products
        return [
            ProductRevenue(
                product_row=products.get(k.key) if k.key is not None else None,  # type: ignore[arg-type]
                deals=k.figure.deals,
                revenue=_money(k.figure.amount),
            )
            for k in self.rows.reports.won_by_product
        ]

    @strawberry.field(description="Open pipeline weighted by probability, by expected close month, rep and team.")
    def forecast(self) -> SalesForecast:
        f, users, teams = self.rows.reports.forecast, self.rows.users, self.rows.teams
        return SalesForecast(
            deals=_whole(f.total.deals),
            deals_credit=_credit(f.total.deals),
            pipeline=_money(f.total.amount),
            weighted=_money(f.total.weighted),
            months=[ForecastMonth.of(m) for m in f.months],
            reps=[
                RepForecast(
                    user_row=users.get(r.user_id),
                    team_row=teams.get(r.team_id) if r.team_id is not None else None,
                    deals=_whole(r.total.deals),
                    deals_credit=_credit(r.total.deals),
                    pipeline=_money(r.total.amount),
                    weighted=_money(r.total.weighted),
                    months=[ForecastMonth.of(m) for m in r.months],
                )
                for r in f.reps
            ],
            teams=[
                TeamForecast(
                    team_row=teams.get(t.key) if t.key is not None else None,  # type: ignore[arg-type]
                    deals=_whole(t.figure.deals),
                    deals_credit=_credit(t.figure.deals),
                    pipeline=_money(t.figure.amount),
                    weighted=_money(t.figure.weighted),
                )
                for t in f.teams
            ],
        )

    @strawberry.field(
        description="Won revenue in the period and open pipeline per partner, the most won first. A partner sees "
        "only its own row."
    )
    def partner_results(self) -> list[PartnerResult]:
        partners = self.rows.partners
        return [
            PartnerResult(partner_row=partners[p.partner_id], won=ReportFigure.of(p.won), open=ReportFigure.of(p.open))
            for p in self.rows.reports.partners
            if p.partner_id in partners
        ]

    @strawberry.field(
        description="Hours of e-mail, calls, meetings (every activity type) per user in the period, from the sales "
        "activities that occurred in it: an admin sees everyone's, a director the team's, a rep its own. "
        "Refused for partners (FORBIDDEN)."
    )
    def time_by_channel(self, info: Info) -> list[ChannelTime]:
        if info.context.viewer.role == PARTNER:
            raise ClientError(
                "time per channel is a report about the company's users; partners may not read it", code="FORBIDDEN"
            )
        users = self.rows.users
        return [
            ChannelTime(
                user_row=users.get(t.user_id),
                channel=t.type,  # type: ignore[call-arg]
                activities=t.activities,
                minutes=t.minutes,
                hours=(Decimal(t.minutes) / HOUR).quantize(TENTH, rounding=ROUND_HALF_UP),
            )
            for t in self.rows.reports.time
        ]

    @classmethod
    def from_rows(cls, rows: ReportRows, now: datetime) -> SalesReports:
        r, period = rows.reports, rows.period
        return cls(
            rows=rows,
            preset=period.preset,
            period_start=period.start,
            period_end=period.end,
            as_of=now,
            currency=r.currency,
            missing_rates=list(r.missing_rates),
            event_id=None if r.event_id is None else strawberry.ID(str(r.event_id)),
        )


def client_error(error: Exception) -> ClientError:
    if isinstance(error, ClientError):
        return error
    if isinstance(error, NotFound):
        # A row the caller may not see is named exactly like a missing one, and never echoed: the message
        # names the argument, not the id.
        argument = {"Team": "teamId", "User": "userId", "Partner": "partnerId"}.get(error.entity, "id")
        return ClientError(f"`scope.{argument}` names no {error.entity.lower()}", code="NOT_FOUND")
    if isinstance(error, ValidationError):
        return ClientError(error.message, code="BAD_USER_INPUT", field=error.field)
    raise error


async def load(
    source: ConnectionSource | AsyncConnection, request: reports.ReportRequest, now: datetime, viewer: Viewer
) -> SalesReports:
    try:
        return SalesReports.from_rows(await load_reports(source, request, now, viewer), now)
    except (NotFound, ValidationError) as error:
        raise client_error(error) from None


async def resolve_sales_reports(
    info: Info, period: PERIOD, scope: SCOPE = None, currency: CURRENCY = None
) -> SalesReports:
    request = report_request(period, scope, currency)
    return await load(info.context.reads, request, info.context.clock(), info.context.viewer)


@strawberry.type(description="One open stage of the opportunity board (a kanban column).")
class OpportunityColumn:
    stage: enums.Stage = strawberry.field(description="The stage of the opportunities in this column.")  # type: ignore[valid-type]
    total_count: int = strawberry.field(description="How many open opportunities are at this stage (in the scope).")
    amount: Money = strawberry.field(description="Their estimated revenue, in the board's currency.")
    weighted_amount: Money = strawberry.field(description="Their estimated revenue × probability.")
    opportunities: list[Opportunity] = strawberry.field(
        description="The newest opportunities of this column (at most `limit`), newest first."
    )


def board_request(scope: ReportScopeInput | None, currency: str | None, limit: int) -> BoardRequest:
    """The arguments of `opportunityBoard` / `opportunityBoardUpdated` as a request; a ClientError when bad."""
    parsed = report_scope(scope)
    first = window(limit, None, None, None).first or 0
    code = (currency or "EUR").strip().upper()
    try:
        check_currency(code)
    except ValidationError as error:
        raise client_error(error) from None
    return BoardRequest(parsed, code, first)


def board_columns(columns: list[BoardColumn]) -> list[OpportunityColumn]:
    return [
        OpportunityColumn(
            stage=c.stage,
            total_count=c.count,
            amount=_money(c.amount),
            weighted_amount=_money(c.weighted),
            opportunities=Opportunity.from_rows(c.rows, OPPORTUNITY_FIELDS),
        )
        for c in columns
    ]


LIMIT = Annotated[int, strawberry.argument(description=f"How many opportunities per column (0 to {MAX_PAGE_SIZE}).")]


async def resolve_opportunity_board(
    info: Info,
    scope: SCOPE = None,
    currency: CURRENCY = None,
    limit: LIMIT = 10,
) -> list[OpportunityColumn]:
    request = board_request(scope, currency, limit)
    try:
        async with info.context.reads.connect() as conn:
            columns = await load_board(conn, request.scope, request.currency, request.limit, info.context.viewer)
    except (NotFound, ValidationError) as error:
        raise client_error(error) from None
    return board_columns(columns)


@strawberry.type(
    description="The opportunity board as `opportunityBoardUpdated` sends it: the columns `opportunityBoard` "
    "returns for the same arguments, with when they were read."
)
class OpportunityBoard:
    columns: list[OpportunityColumn] = strawberry.field(
        description="A column per open stage, in the order of the process: what `opportunityBoard` returns."
    )
    as_of: datetime = strawberry.field(description="When these columns were read.")
    event_id: strawberry.ID | None = strawberry.field(
        description="The newest event these columns include; null before any event."
    )

    @classmethod
    def of(cls, columns: list[BoardColumn], now: datetime, event_id: int | None) -> OpportunityBoard:
        return cls(
            columns=board_columns(columns),
            as_of=now,
            event_id=None if event_id is None else strawberry.ID(str(event_id)),
        )
