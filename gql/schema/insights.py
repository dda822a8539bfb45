"""The sales manager's home page of conversation intelligence as one query, `conversationInsights`, and
its live form `conversationInsightsUpdated`: what customers talk about, what distinguishes the best
sellers, and the call-recording KPIs, read from the insights' buckets (persistence/insights.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import and_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from domain import insights, scoreboard
from domain.errors import NotFound, ValidationError
from gql import ids
from gql.errors import ClientError
from gql.schema.base import Edge, PageInfo, described_enum, encode_cursor, window
from gql.schema.conversations import Conversation, TrackedTerm
from gql.schema.people import User
from gql.schema.scoreboard import PERIOD, TEAM, PeriodInput, PeriodPreset
from persistence import tables
from persistence.db import ConnectionSource
from persistence.insights import Source, load_page, load_source
from persistence.reads import position_and_set_up
from persistence.visibility import Viewer

Part = insights.Part


class SeriesGrain(Enum):
    DAY = "DAY"
    MONTH = "MONTH"


InsightSeriesGrain = described_enum(
    SeriesGrain,
    "InsightSeriesGrain",
    "How a figure's series is cut.",
    {
        "DAY": "One point per UTC day (periods of up to 62 days).",
        "MONTH": "One point per UTC month (longer periods and ALL_TIME).",
    },
)


class Contributes(Enum):
    ALL = "ALL"
    POSITIVE = "POSITIVE"
    NEUTRAL = "NEUTRAL"
    NEGATIVE = "NEGATIVE"
    BELOW_MEAN = "BELOW_MEAN"
    KEYWORDS = "KEYWORDS"
    COMPETITORS = "COMPETITORS"
    NEW_NAMES = "NEW_NAMES"
    TERM = "TERM"


@dataclass(frozen=True)
class Request:
    """What a page is of: the period asked for, a team and a seller (either may be none)."""

    spec: scoreboard.PeriodSpec
    team_id: int | None
    user_id: int | None


@dataclass(frozen=True)
class Contribution:
    """Which conversations of the period a figure counts (read only when a client asks for them)."""

    request: Request
    period: scoreboard.Period
    which: Contributes
    term_id: int | None = None
    mean_centi: int | None = None


@strawberry.type(description="One point of a figure's series.")
class InsightPoint:
    starts_on: date = strawberry.field(description="The day, or the first day of the month, the point covers.")
    value: Decimal | None = strawberry.field(description="The figure over that day or month; null when undefined.")


@strawberry.type(description="A page of the conversations a figure counts, the newest first (Relay connection).")
class ContributingConversations:
    rows: strawberry.Private[list[Any]]
    low: strawberry.Private[int]
    more: strawberry.Private[bool]

    @strawberry.field(description="The conversations of this page with their cursors.")
    def edges(self) -> list[Edge[Conversation]]:
        return [Edge(cursor=encode_cursor(self.low + n), node=node) for n, node in enumerate(self.nodes())]

    @strawberry.field(description="The conversations of this page.")
    def nodes(self) -> list[Conversation]:
        return Conversation.from_rows(self.rows)

    @strawberry.field(description="Where this page lies among all the figure's conversations.")
    def page_info(self) -> PageInfo:
        empty = not self.rows
        return PageInfo(
            has_next_page=self.more,
            has_previous_page=self.low > 0,
            start_cursor=None if empty else encode_cursor(self.low),
            end_cursor=None if empty else encode_cursor(self.low + len(self.rows) - 1),
        )


FIRST = Annotated[int | None, strawberry.argument(description="How many conversations (20 unless given, at most 100).")]
AFTER = Annotated[str | None, strawberry.argument(description="The conversations after this cursor.")]


async def contributing(
    info: Info, contribution: Contribution | None, first: int | None, after: str | None
) -> ContributingConversations:
    page = window(first, after, None, None)
    size = page.first if page.first is not None else 20
    if contribution is None:
        return ContributingConversations(rows=[], low=page.low, more=False)
    c, an = tables.conversations, tables.conversation_analyses
    request, period = contribution.request, contribution.period
    viewer: Viewer = info.context.viewer
    where = [c.c.id == an.c.conversation_id]
    if period.start is not None and period.end is not None:
        if period.sliding:
            where += [c.c.started_at > period.start, c.c.started_at <= period.end]
        else:
            where += [c.c.started_at >= period.start, c.c.started_at < period.end]
    if request.team_id is not None:
        where.append(c.c.owner_id.in_(select(tables.users.c.id).where(tables.users.c.team_id == request.team_id)))
    if request.user_id is not None:
        where.append(c.c.owner_id == request.user_id)
    which = contribution.which
    if which in (Contributes.POSITIVE, Contributes.NEUTRAL, Contributes.NEGATIVE):
        where.append(an.c.sentiment_label == which.value)
    elif which is Contributes.BELOW_MEAN:
        mean = contribution.mean_centi
        where.append(true() if mean is None else an.c.sentiment_score < (mean - 0.5) / 100)
        where.append(an.c.sentiment_label.is_not(None))
    elif which is Contributes.KEYWORDS:
        where.append(an.c.keyword_mentions > 0)
    elif which is Contributes.COMPETITORS:
        where.append(an.c.competitor_mentions > 0)
    elif which is Contributes.NEW_NAMES:
        where.append(an.c.new_names > 0)
    elif which is Contributes.TERM:
        m = tables.conversation_mentions
        where.append(c.c.id.in_(select(m.c.conversation_id).where(m.c.term_id == contribution.term_id)))
    rule = viewer.rule(c)
    if rule is not None:
        where.append(rule)
    stmt = (
        select(*c.c)
        .select_from(c.join(an, an.c.conversation_id == c.c.id))
        .where(and_(*where))
        .order_by(c.c.started_at.desc(), c.c.id.desc())
        .offset(page.low)
        .limit(size + 1)
    )
    async with info.context.reads.connect() as conn:
        rows = list(await conn.execute(stmt, viewer.params))
    return ContributingConversations(rows=rows[:size], low=page.low, more=len(rows) > size)


@strawberry.type(
    description="A figure of the page: its value in the period, in the previous period of equal length, the "
    "change between them, its series for a trend, and the conversations it counts."
)
class InsightFigure:
    contribution: strawberry.Private[Contribution | None]
    value: Decimal | None = strawberry.field(description="The figure in the period; null when undefined (no calls).")
    previous: Decimal | None = strawberry.field(
        description="The figure in the previous period of equal length; null for ALL_TIME or when undefined."
    )
    change: Decimal | None = strawberry.field(
        description="`value` against `previous`, in % with one decimal; null when either is null or `previous` is 0."
    )
    series: list[InsightPoint] = strawberry.field(
        description="The figure per day or month of the period (see `seriesGrain`), points with no call left out; "
        "for ALL_TIME a count has a point in every month from the company's set-up month on, 0 included."
    )

    @strawberry.field(description="The conversations of the period this figure counts, the newest first.")
    async def conversations(self, info: Info, first: FIRST = None, after: AFTER = None) -> ContributingConversations:
        return await contributing(info, self.contribution, first, after)


@strawberry.type(description="A tracked keyword or competitor with its mentions in the period.")
class TermInsight:
    term_id: strawberry.Private[int]
    contribution: strawberry.Private[Contribution]
    name: str = strawberry.field(description="The term's name.")
    mentions: int = strawberry.field(description="Its mentions in the period, by both sides.")
    calls: int = strawberry.field(description="How many conversations of the period mention it.")
    previous_mentions: int = strawberry.field(description="Its mentions in the previous period of equal length.")
    change: Decimal | None = strawberry.field(
        description="Mentions against the previous period, in %; null when it had none."
    )

    @strawberry.field(description="The tracked term.")
    async def term(self, info: Info) -> TrackedTerm | None:
        return TrackedTerm.from_row(await info.context.by_id(tables.tracked_terms).load(self.term_id))

    @strawberry.field(description="The conversations of the period that mention it, the newest first.")
    async def conversations(self, info: Info, first: FIRST = None, after: AFTER = None) -> ContributingConversations:
        return await contributing(info, self.contribution, first, after)


@strawberry.type(description="A name of a product, brand or organisation the customer side said for the first time.")
class NewNameInsight:
    conversation_id: strawberry.Private[int]
    name: str = strawberry.field(description="The name as first said.")
    mentions: int = strawberry.field(description="How often the customer side said it in that first conversation.")
    first_mentioned_at: datetime = strawberry.field(description="When that conversation started.")

    @strawberry.field(description="The conversation that first mentioned it.")
    async def conversation(self, info: Info) -> Conversation | None:
        return Conversation.from_row(await info.context.by_id(tables.conversations).load(self.conversation_id))


@strawberry.type(description="What customers talk about: calls analysed, sentiment, tracked terms and new names.")
class CustomerTalk:
    calls_analysed: InsightFigure = strawberry.field(description="Conversations analysed in the period.")
    average_sentiment: InsightFigure = strawberry.field(
        description="The mean customer sentiment score of the calls (-1 … 1, four decimals)."
    )
    below_average: InsightFigure = strawberry.field(
        description="Calls whose customer sentiment is more negative than the period's mean (scores compared in "
        "hundredths)."
    )
    below_average_percent: InsightFigure = strawberry.field(
        description="`belowAverage` as a share of the calls with a customer sentiment, in %."
    )
    positive: InsightFigure = strawberry.field(description="Calls whose customer sentiment is positive.")
    neutral: InsightFigure = strawberry.field(description="Calls whose customer sentiment is neutral.")
    negative: InsightFigure = strawberry.field(description="Calls whose customer sentiment is negative.")
    positive_percent: InsightFigure = strawberry.field(description="Positive calls in % of those with a sentiment.")
    neutral_percent: InsightFigure = strawberry.field(description="Neutral calls in % of those with a sentiment.")
    negative_percent: InsightFigure = strawberry.field(description="Negative calls in % of those with a sentiment.")
    keywords: list[TermInsight] = strawberry.field(
        description="The 20 most mentioned tracked keywords, the most mentioned first (then by name)."
    )
    competitors: list[TermInsight] = strawberry.field(
        description="The 20 most mentioned tracked competitors, the most mentioned first (then by name)."
    )
    new_names: list[NewNameInsight] = strawberry.field(
        description="Names of products, brands and organisations first said by a customer in the period (that no "
        "earlier conversation mentioned and that are not tracked terms), the most said first; at most 20."
    )
    new_name_count: InsightFigure = strawberry.field(description="How many names were new in the period.")


@strawberry.type(description="Figures of a group of sellers (the top sellers, or the whole team).")
class SellerGroup:
    sellers: int = strawberry.field(description="How many sellers the group has.")
    calls: int = strawberry.field(description="Their conversations in the period.")
    talk_percent: Decimal | None = strawberry.field(description="The seller side's share of the talking time, in %.")
    switches_per_hour: Decimal | None = strawberry.field(description="Speaker switches per recorded hour.")
    positive_percent: Decimal | None = strawberry.field(description="Positive calls in % of those with a sentiment.")
    neutral_percent: Decimal | None = strawberry.field(description="Neutral calls in % of those with a sentiment.")
    negative_percent: Decimal | None = strawberry.field(description="Negative calls in % of those with a sentiment.")
    email_hours: Decimal | None = strawberry.field(description="Hours in e-mail per seller (EMAIL activities).")
    call_hours: Decimal | None = strawberry.field(
        description="Hours in calls per seller (CALL activities and recorded phone calls)."
    )
    meeting_hours: Decimal | None = strawberry.field(
        description="Hours in meetings per seller (MEETING activities and recorded meetings)."
    )


@strawberry.type(description="A tracked term the top sellers say more per call than the other sellers.")
class BestPracticeTerm:
    term_id: strawberry.Private[int]
    name: str = strawberry.field(description="The term's name.")
    top_per_call: Decimal = strawberry.field(description="The top sellers' own mentions of it per call.")
    rest_per_call: Decimal = strawberry.field(description="The other sellers' own mentions of it per call.")

    @strawberry.field(description="The tracked term.")
    async def term(self, info: Info) -> TrackedTerm | None:
        return TrackedTerm.from_row(await info.context.by_id(tables.tracked_terms).load(self.term_id))


@strawberry.type(description="One seller's line of the team overview.")
class SellerInsight:
    user_id: strawberry.Private[int]
    won_revenue: Decimal = strawberry.field(
        description="Won revenue in the period, in the scoreboard's currency (EUR)."
    )
    top_seller: bool = strawberry.field(description="Whether the seller is among the top sellers.")
    figures: SellerGroup = strawberry.field(description="The seller's own figures.")

    @strawberry.field(description="The seller.")
    async def user(self, info: Info) -> User | None:
        return User.from_row(await info.context.by_id(tables.users).load(self.user_id))


@strawberry.type(
    description="What distinguishes the best sellers: the reps whose won revenue in the period is above the "
    "team's average, compared with the team."
)
class BestSellers:
    top_ids: strawberry.Private[tuple[int, ...]]
    average_won_revenue: Decimal | None = strawberry.field(
        description="The average won revenue of the team's reps in the period (EUR); null without reps."
    )
    top: SellerGroup = strawberry.field(description="The top sellers' figures.")
    team: SellerGroup = strawberry.field(description="The whole team's figures (top sellers included).")
    best_practice_keywords: list[BestPracticeTerm] = strawberry.field(
        description="Tracked terms the top sellers say more per call than the rest, the largest difference first; "
        "at most 20."
    )
    overview: list[SellerInsight] = strawberry.field(
        description="Every seller of the team with their figures, by won revenue then calls."
    )

    @strawberry.field(description="The top sellers.")
    async def top_sellers(self, info: Info) -> list[User]:
        rows = await info.context.by_id(tables.users).load_many(list(self.top_ids))
        return [User.from_row(r) for r in rows if r is not None]


@strawberry.type(description="The call-recording KPIs.")
class RecordingKpis:
    calls_recorded: InsightFigure = strawberry.field(description="Conversations recorded in the period.")
    hours_recorded: InsightFigure = strawberry.field(description="Hours recorded, with two decimals.")
    calls_mentioning_keywords: InsightFigure = strawberry.field(description="Calls mentioning a tracked keyword.")
    calls_mentioning_competitors: InsightFigure = strawberry.field(description="Calls mentioning a tracked competitor.")


@strawberry.type(
    description="The sales manager's home page of conversation intelligence for a period: what customers talk "
    "about, what distinguishes the best sellers and the call-recording KPIs, of the conversations the caller "
    "may see. The basic KPIs are on `scoreboard`."
)
class ConversationInsights:
    preset: PeriodPreset | None = strawberry.field(  # type: ignore[valid-type]
        description="The preset asked for; null for a custom range."
    )
    period_start: datetime | None = strawberry.field(
        description="Start of the period (UTC); for ALL_TIME 00:00 UTC of the day the company was set up (its "
        "first user was made), null before it has a user."
    )
    period_end: datetime | None = strawberry.field(description="End of the period (UTC); null for ALL_TIME.")
    previous_start: datetime | None = strawberry.field(
        description="Start of the previous period of equal length, the figures' `previous`; null for ALL_TIME."
    )
    as_of: datetime = strawberry.field(description="When these figures were computed.")
    series_grain: InsightSeriesGrain = strawberry.field(  # type: ignore[valid-type]
        description="Whether the series are by day or by month."
    )
    customers: CustomerTalk = strawberry.field(description="What customers talk about.")
    best_sellers: BestSellers = strawberry.field(description="What distinguishes the best sellers.")
    recording: RecordingKpis = strawberry.field(description="The call-recording KPIs.")
    event_id: strawberry.ID | None = strawberry.field(
        description="The newest event these figures include (a subscription's `since`); null before any event."
    )


# --- building the page from what persistence read ---


def _count(name: str) -> Callable[[Part], Decimal | None]:
    return lambda part: Decimal(part.sums[name])


def _share(name: str) -> Callable[[Part], Decimal | None]:
    return lambda part: insights.percent(part.sums[name], part.sums["scored"])


def _below(part: Part) -> Decimal | None:
    return Decimal(insights.below_mean(part.sums, part.items))


def _below_percent(part: Part) -> Decimal | None:
    return insights.percent(insights.below_mean(part.sums, part.items), part.sums["scored"])


def _hours(part: Part) -> Decimal | None:
    return insights.hours(part.sums["seconds"])


def build(data: insights.PageData, request: Request, now: datetime, event_id: int | None) -> ConversationInsights:
    period, before = data.period, data.before
    mine = None if data.user_id is None else {data.user_id}
    now_part = insights.total(data, "now", mine)
    before_part = insights.total(data, "before", mine) if before is not None else None
    points = insights.series(data, mine, now)
    dense = set(insights.set_up_months(period, now))  # ALL_TIME: counts are shown in every month since set-up
    mean = insights.mean_score_centi(now_part.sums)

    def figure(
        measure: Callable[[Part], Decimal | None], which: Contributes | None = Contributes.ALL, count: bool = False
    ) -> InsightFigure:
        """`count`: a count is 0 without calls; other figures are then null."""
        value = measure(now_part) if now_part.sums["calls"] or count else None
        old = None
        if before_part is not None and (before_part.sums["calls"] or count):
            old = measure(before_part)
        return InsightFigure(
            contribution=None if which is None else Contribution(request, period, which, mean_centi=mean),
            value=value,
            previous=old,
            change=insights.change(value, old),
            series=[
                InsightPoint(starts_on=at, value=measure(p))
                for at, p in points.items()
                if p.sums["calls"] or (count and at in dense)
            ],
        )

    def terms(kind: str) -> list[TermInsight]:
        return [
            TermInsight(
                term_id=term.id,
                contribution=Contribution(request, period, Contributes.TERM, term_id=term.id),
                name=term.name,
                mentions=mentions,
                calls=calls,
                previous_mentions=old,
                change=insights.change(mentions, old) if before is not None else None,
            )
            for term, mentions, calls, old in insights.top_terms(
                now_part.items, before_part.items if before_part else insights.Items(), data.terms, kind
            )
        ]

    def average(part: Part) -> Decimal | None:
        return insights.mean_score(part.sums)

    new_count = len(data.names)
    customers = CustomerTalk(
        calls_analysed=figure(_count("calls"), count=True),
        average_sentiment=figure(average, None),
        below_average=figure(_below, Contributes.BELOW_MEAN, count=True),
        below_average_percent=figure(_below_percent, Contributes.BELOW_MEAN),
        positive=figure(_count("positive"), Contributes.POSITIVE, count=True),
        neutral=figure(_count("neutral"), Contributes.NEUTRAL, count=True),
        negative=figure(_count("negative"), Contributes.NEGATIVE, count=True),
        positive_percent=figure(_share("positive"), Contributes.POSITIVE),
        neutral_percent=figure(_share("neutral"), Contributes.NEUTRAL),
        negative_percent=figure(_share("negative"), Contributes.NEGATIVE),
        keywords=terms("KEYWORD"),
        competitors=terms("COMPETITOR"),
        new_names=[
            NewNameInsight(
                conversation_id=n.conversation_id,
                name=n.name,
                mentions=n.customer_mentions,
                first_mentioned_at=n.started_at,
            )
            for n in data.names[: insights.TOP]
        ],
        new_name_count=InsightFigure(
            contribution=Contribution(request, period, Contributes.NEW_NAMES),
            value=Decimal(new_count),
            previous=None if before is None else Decimal(data.names_before),
            change=None if before is None else insights.change(new_count, data.names_before),
            series=_name_series(data, now),
        ),
    )
    recording = RecordingKpis(
        calls_recorded=figure(_count("calls"), count=True),
        hours_recorded=figure(_hours, count=True),
        calls_mentioning_keywords=figure(_count("keyword_calls"), Contributes.KEYWORDS, count=True),
        calls_mentioning_competitors=figure(_count("competitor_calls"), Contributes.COMPETITORS, count=True),
    )
    return ConversationInsights(
        preset=period.preset,
        period_start=period.start,
        period_end=period.end,
        previous_start=None if before is None else before.start,
        as_of=now,
        series_grain=InsightSeriesGrain("DAY" if data.by_day else "MONTH"),
        customers=customers,
        best_sellers=_best_sellers(data),
        recording=recording,
        event_id=None if event_id is None else strawberry.ID(str(event_id)),
    )


def _name_series(data: insights.PageData, now: datetime) -> list[InsightPoint]:
    found: dict[date, int] = dict.fromkeys(insights.set_up_months(data.period, now), 0)
    for n in data.names:
        at = insights.point(n.started_at.date(), data.by_day)
        found[at] = found.get(at, 0) + 1
    return [InsightPoint(starts_on=at, value=Decimal(v)) for at, v in sorted(found.items())]


def _group(data: insights.PageData, sellers: set[int]) -> SellerGroup:
    part = insights.total(data, "now", sellers)
    hours = insights.engagement(data, "now", sellers)
    count = len(sellers)

    def per_seller(value: Decimal) -> Decimal | None:
        return None if not count else (value / count).quantize(insights.TWO_DECIMALS)

    return SellerGroup(
        sellers=count,
        calls=part.sums["calls"],
        talk_percent=insights.talk_percent(part.sums),
        switches_per_hour=insights.switches_per_hour(part.sums),
        positive_percent=insights.percent(part.sums["positive"], part.sums["scored"]),
        neutral_percent=insights.percent(part.sums["neutral"], part.sums["scored"]),
        negative_percent=insights.percent(part.sums["negative"], part.sums["scored"]),
        email_hours=per_seller(hours["EMAIL"]),
        call_hours=per_seller(hours["CALL"]),
        meeting_hours=per_seller(hours["MEETING"]),
    )


def _best_sellers(data: insights.PageData) -> BestSellers:
    top, average = insights.top_sellers(data)
    everyone = insights.owners(data)
    rest = everyone - top
    overview = sorted(
        everyone,
        key=lambda u: (-data.won.get(u, Decimal(0)), -insights.total(data, "now", {u}).sums["calls"], u),
    )
    return BestSellers(
        top_ids=tuple(sorted(top)),
        average_won_revenue=None if average is None else average.quantize(insights.TWO_DECIMALS),
        top=_group(data, top),
        team=_group(data, everyone),
        best_practice_keywords=[
            BestPracticeTerm(term_id=term.id, name=term.name, top_per_call=mine, rest_per_call=theirs)
            for term, mine, theirs in insights.best_practice_terms(
                insights.total(data, "now", top), insights.total(data, "now", rest), data.terms
            )
        ],
        overview=[
            SellerInsight(
                user_id=u,
                won_revenue=data.won.get(u, Decimal(0)),
                top_seller=u in top,
                figures=_group(data, {u}),
            )
            for u in overview
        ],
    )


# --- the query ---


def insights_request(period: PeriodInput, team_id: strawberry.ID | None, user_id: strawberry.ID | None) -> Request:
    team = ids.decode_as(team_id, "Team") if team_id is not None else None
    user = ids.decode_as(user_id, "User") if user_id is not None else None
    try:
        spec = scoreboard.PeriodSpec.of(
            period.preset.value if period.preset is not None else None, period.from_, period.to
        )
    except ValidationError as error:
        raise ClientError(error.message, code="BAD_USER_INPUT", field=error.field) from None
    return Request(spec, team, user)


async def load(
    source: ConnectionSource | AsyncConnection, request: Request, now: datetime, viewer: Viewer
) -> ConversationInsights:
    if isinstance(source, AsyncConnection):
        return await _load(source, request, now, viewer)
    async with source.connect() as conn:
        return await _load(conn, request, now, viewer)


async def _load(conn: AsyncConnection, request: Request, now: datetime, viewer: Viewer) -> ConversationInsights:
    data, event_id = await read_page(conn, request, now, viewer)
    return build(data, request, now, event_id)


async def read_page(
    conn: AsyncConnection, request: Request, now: datetime, viewer: Viewer
) -> tuple[insights.PageData, int | None]:
    """What the page of `request` at `now` shows `viewer`, with the newest event it includes (read first)."""
    event_id, set_up = await position_and_set_up(conn)
    period = request.spec.resolve(now, set_up)
    try:
        data = await load_page(conn, viewer, request.spec, period, now, request.team_id, request.user_id, "EUR")
    except NotFound:
        raise ClientError(f"{ids.encode('Team', request.team_id)!r} names no team", code="NOT_FOUND") from None
    return data, event_id


async def read_source(conn: AsyncConnection, request: Request, now: datetime) -> Source:
    """The one read of a page shape for every viewer of a live page (persistence.insights.load_source)."""
    try:
        return await load_source(conn, request.spec, now, request.team_id, request.user_id, "EUR")
    except NotFound:
        raise ClientError(f"{ids.encode('Team', request.team_id)!r} names no team", code="NOT_FOUND") from None


USER = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Only this seller's conversations (a User id); the best sellers still compare the team."
    ),
]


async def resolve_insights(
    info: Info, period: PERIOD, team_id: TEAM = None, user_id: USER = None
) -> ConversationInsights:
    return await load(
        info.context.reads, insights_request(period, team_id, user_id), info.context.clock(), info.context.viewer
    )
