"""The live sales scoreboard: a period, the figures of the sales reps in it, and when time alone
changes them. Pure: persistence loads the aggregates, this module turns them into figures.

Figures depend on time only in steps (whole days of the period, a deal leaving a sliding window,
the period's end), so a scoreboard computed once stays equal to a fresh one until an event moves
a figure or `changes_at` comes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

from domain.catalog import BASE_CURRENCY
from domain.errors import ValidationError
from domain.money import Money, check_currency

DAY = timedelta(days=1)
PERCENT = Decimal("0.1")  # percentages are shown with one decimal


class PeriodPreset(str, Enum):
    LAST_24_HOURS = "LAST_24_HOURS"
    LAST_7_DAYS = "LAST_7_DAYS"
    THIS_MONTH = "THIS_MONTH"
    LAST_MONTH = "LAST_MONTH"
    THIS_QUARTER = "THIS_QUARTER"
    ALL_TIME = "ALL_TIME"


SLIDING = {PeriodPreset.LAST_24_HOURS: timedelta(hours=24), PeriodPreset.LAST_7_DAYS: timedelta(days=7)}


class DealKind(str, Enum):
    WON = "WON"
    LOST = "LOST"
    OPEN = "OPEN"


def _utc(value: datetime) -> datetime:
    """Naive times are taken as UTC (the API's DateTime is ISO 8601; a missing offset means UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _first_full_day(moment: datetime) -> date:
    """The first UTC day whose midnight is at or after `moment`."""
    day = moment.date()
    return day if moment == _midnight(day) else day + DAY


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A resolved period in UTC: [start, end) for calendar periods and custom ranges. ALL_TIME has no
    end and starts at 00:00 UTC of the day the company was set up (None when that is unknown: no user
    yet); it contains every moment all the same (rows dated before, imported, still count). A sliding window (LAST_24_HOURS, LAST_7_DAYS) is (start, end]: it ends at the moment
    it was resolved, so a deal closed at that very moment is in it, and a deal leaves it exactly one
    window length after it closed."""

    preset: PeriodPreset | None
    start: datetime | None
    end: datetime | None

    @property
    def sliding(self) -> bool:
        return self.preset in SLIDING

    @property
    def length(self) -> timedelta | None:
        return None if self.start is None or self.end is None else self.end - self.start

    def contains(self, moment: datetime) -> bool:
        if self.end is None:  # ALL_TIME: everything, whatever its start says
            return True
        if self.sliding:
            return self.start < moment <= self.end  # type: ignore[operator]
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)

    def days(self) -> tuple[date | None, date | None]:
        """The first and the last UTC day whose midnight lies in the period (None: unbounded). Every
        interval of N whole days holds N midnights, so a 7-day window always spans 7 days, and which
        days those are changes only at midnight."""
        if self.start is None or self.end is None:
            return None, None
        if self.sliding:  # (start, end]
            return self.start.date() + DAY, self.end.date()
        return _first_full_day(self.start), _first_full_day(self.end) - DAY

    def goal_days(self, first: date, last: date) -> int:
        """How many days of a goal running from `first` to `last` (inclusive) lie in the period."""
        low, high = self.days()
        if low is not None:
            first = max(first, low)
        if high is not None:
            last = min(last, high)
        return max(0, (last - first).days + 1)


@dataclass(frozen=True)
class PeriodSpec:
    """What a client asked for: a preset, or a custom range [start, end); never both. Resolved against
    `now` each time the scoreboard is computed (sliding windows and calendar periods move)."""

    preset: PeriodPreset | None = None
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def of(
        cls, preset: PeriodPreset | str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> PeriodSpec:
        if preset is not None and (start is not None or end is not None):
            raise ValidationError("period", "give either a preset or a from/to range, not both")
        if preset is not None:
            try:
                return cls(preset=PeriodPreset(preset))
            except ValueError:
                raise ValidationError("period.preset", f"{preset!r} is not a period preset") from None
        if start is None and end is None:
            raise ValidationError("period", "give a preset, or both `from` and `to`")
        if start is None or end is None:
            missing = "from" if start is None else "to"
            raise ValidationError("period", f"a custom range needs both `from` and `to` (`{missing}` is missing)")
        start, end = _utc(start), _utc(end)
        if start >= end:
            raise ValidationError("period.to", "must be after `from`")
        return cls(start=start, end=end)

    def resolve(self, now: datetime, set_up: datetime | None = None) -> Period:
        """The period at `now`; `set_up`: when the company was set up (ALL_TIME starts on its day)."""
        now = _utc(now)
        preset = self.preset
        if preset is None:
            return Period(None, self.start, self.end)
        if preset in SLIDING:
            return Period(preset, now - SLIDING[preset], now)
        if preset is PeriodPreset.ALL_TIME:
            return Period(preset, None if set_up is None else _midnight(_utc(set_up).date()), None)
        month = now.date().replace(day=1)
        if preset is PeriodPreset.THIS_MONTH:
            return Period(preset, _midnight(month), _midnight(_add_months(month, 1)))
        if preset is PeriodPreset.LAST_MONTH:
            return Period(preset, _midnight(_add_months(month, -1)), _midnight(month))
        quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
        return Period(preset, _midnight(quarter), _midnight(_add_months(quarter, 3)))


@dataclass(frozen=True)
class ScoreboardRequest:
    """A scoreboard's identity: subscribers asking for the same request see the same scoreboard."""

    period: PeriodSpec
    team_id: int | None = None
    currency: str = BASE_CURRENCY

    @classmethod
    def of(cls, period: PeriodSpec, team_id: int | None = None, currency: str | None = None) -> ScoreboardRequest:
        code = (currency or BASE_CURRENCY).strip().upper()
        check_currency(code)
        return cls(period=period, team_id=team_id, currency=code)


# --- what persistence loads ---


@dataclass(frozen=True)
class DealGroup:
    """An aggregate of one owner's deals of one kind in one currency: WON and LOST deals closed in the
    period (amount: actual revenue), OPEN deals whenever they were opened (amount: estimated revenue).
    A deal shared among co-workers (domain/credit.py) counts in each credited user's group by its
    percentage: `count` is then a fraction (0.33 of a deal) and `amount` that part of its amount."""

    owner_id: int
    kind: DealKind
    currency: str | None
    count: Decimal | int
    amount: Decimal = Decimal(0)
    oldest_closed_at: datetime | None = None


@dataclass(frozen=True)
class GoalRow:
    user_id: int
    period_start: date
    period_end: date  # inclusive
    target_revenue: Money
    target_deals: int = 0


# --- the result ---


@dataclass(frozen=True)
class RepFigures:
    user_id: int
    name: str
    rank: int
    won_revenue: Money
    deals_won: Decimal  # credited: whole deals, and each shared deal by the rep's percentage
    deals_lost: Decimal
    win_rate: Decimal | None
    open_pipeline: Money
    open_deals: Decimal
    goal: Money | None
    deals_goal: Decimal | None
    progress: Decimal | None
    projected: Money
    on_track: bool | None


@dataclass(frozen=True)
class Scoreboard:
    request: ScoreboardRequest
    period: Period
    as_of: datetime
    currency: str
    time_left: int | None  # seconds; None when the period never ends (sliding windows, ALL_TIME)
    won_revenue: Money
    deals_won: Decimal  # the reps' credited deals: a fraction when a shared deal's users are not all shown
    deals_lost: Decimal
    win_rate: Decimal | None
    average_deal_size: Money | None
    open_pipeline: Money
    open_deals: Decimal
    goal: Money | None
    progress: Decimal | None
    projected: Money
    on_track: bool | None
    reps: tuple[RepFigures, ...]
    missing_rates: tuple[str, ...]
    changes_at: datetime | None
    event_id: int | None = None

    def figures(self) -> tuple:
        """Everything a subscriber sees except what moves with the clock alone (`as_of`, `time_left`,
        and a sliding window's bounds): two scoreboards with equal figures show the same numbers.
        The last item is `event_id`, which every event moves (drop it to compare numbers alone)."""
        bounds = () if self.period.sliding else (self.period.start, self.period.end)
        return (
            self.request,
            bounds,
            self.won_revenue,
            self.deals_won,
            self.deals_lost,
            self.win_rate,
            self.average_deal_size,
            self.open_pipeline,
            self.open_deals,
            self.goal,
            self.progress,
            self.projected,
            self.on_track,
            self.reps,
            self.missing_rates,
            self.changes_at,
            self.event_id,
        )


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PERCENT, rounding=ROUND_HALF_UP)


def pace_factor(period: Period, now: datetime) -> Decimal:
    """What to multiply the revenue won so far by to project it to the period's end. Counted in whole
    days from the period's start (a day that has begun counts as elapsed), so the projection steps once
    a day instead of drifting with every second. 1 where nothing lies ahead: sliding windows (they
    always end now), ALL_TIME, a period that has ended or not started."""
    if period.sliding or period.start is None or period.end is None or not period.contains(now):
        return Decimal(1)
    begun = (now - period.start) // DAY + 1
    elapsed = min(period.end, period.start + begun * DAY) - period.start
    micro = timedelta(microseconds=1)
    return Decimal((period.end - period.start) // micro) / Decimal(elapsed // micro)


def next_change(period: Period, now: datetime, oldest_closed_at: datetime | None) -> datetime | None:
    """The next instant at which time alone changes a figure (other than `asOf`/`timeLeft`)."""
    candidates: list[datetime] = []
    if period.sliding:
        if oldest_closed_at is not None:  # the oldest closed deal drops out of the window
            candidates.append(oldest_closed_at + (period.end - period.start))
        # the window's days shift at midnight, and with them the goals it counts (even a goal that
        # only starts tomorrow, which nothing loaded today can tell)
        candidates.append(_midnight(now.date() + DAY))
    elif period.start is not None and period.end is not None:
        if now < period.start:
            candidates.append(period.start)
        elif now < period.end:
            begun = (now - period.start) // DAY + 1
            candidates.append(min(period.end, period.start + begun * DAY))
    if period.preset is PeriodPreset.LAST_MONTH and period.end is not None:
        # it ended when this month began; it becomes another month when the next one begins
        candidates.append(_midnight(_add_months(period.end.date(), 1)))
    later = [c for c in candidates if c > now]
    return min(later) if later else None


def with_base(rates: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {BASE_CURRENCY: Decimal(1), **rates}


def compute_scoreboard(
    request: ScoreboardRequest,
    now: datetime,
    deals: Iterable[DealGroup],
    users: Mapping[int, str],
    goals: Iterable[GoalRow],
    rates: Mapping[str, Decimal],
    event_id: int | None = None,
    set_up: datetime | None = None,
) -> Scoreboard:
    """The scoreboard of `request` at `now`. `users` names the reps to show (a team's members, or
    everyone who has deals or goals in the period); deals and goals of others are left out.

    Amounts are converted to the reporting currency per (owner, currency) sum; each rep's figures are
    rounded half-up to the currency's minor unit, and the totals are the sums of the reps' figures,
    so the board adds up. Amounts in a currency without an exchange rate are left out and named in
    `missing_rates`. `set_up`: when the company was set up, where ALL_TIME starts."""
    now = _utc(now)
    currency = request.currency
    rates = with_base(rates)
    if currency not in rates:
        raise ValidationError(
            "currency",
            f"there is no exchange rate for {currency}; set one with setExchangeRate "
            "or report in a currency that has one",
        )
    period = request.period.resolve(now, set_up)
    zero = Money.zero(currency)
    missing: set[str] = set()

    def convert(amount: Decimal, source: str | None) -> Decimal:
        """As Money.convert (through the base currency), without building Money for every group."""
        if source is None or not amount:
            return Decimal(0)
        if source not in rates:
            missing.add(source)
            return Decimal(0)
        return amount if source == currency else amount * rates[source] / rates[currency]

    won: dict[int, Decimal] = {u: Decimal(0) for u in users}
    pipeline: dict[int, Decimal] = {u: Decimal(0) for u in users}
    counts: dict[tuple[int, DealKind], Decimal] = {}
    oldest: datetime | None = None
    for group in deals:
        if group.owner_id not in users:
            continue
        counts[group.owner_id, group.kind] = counts.get((group.owner_id, group.kind), Decimal(0)) + group.count
        if group.kind is DealKind.WON:
            won[group.owner_id] += convert(group.amount, group.currency)
        elif group.kind is DealKind.OPEN:
            pipeline[group.owner_id] += convert(group.amount, group.currency)
        if group.kind is not DealKind.OPEN and group.oldest_closed_at is not None:
            oldest = group.oldest_closed_at if oldest is None else min(oldest, group.oldest_closed_at)

    goal_money: dict[int, Decimal] = {}
    goal_deals: dict[int, Decimal] = {}
    for goal in goals:
        if goal.user_id not in users:
            continue
        days = period.goal_days(goal.period_start, goal.period_end)
        if not days:
            continue
        share = Decimal(days) / Decimal((goal.period_end - goal.period_start).days + 1)
        goal_money[goal.user_id] = goal_money.get(goal.user_id, Decimal(0)) + convert(
            goal.target_revenue.amount * share, goal.target_revenue.currency
        )
        goal_deals[goal.user_id] = goal_deals.get(goal.user_id, Decimal(0)) + goal.target_deals * share

    factor = pace_factor(period, now)
    unranked = []
    for user_id, name in users.items():
        won_money = Money(won[user_id], currency).rounded()
        goal = Money(goal_money[user_id], currency).rounded() if user_id in goal_money else None
        projected = (won_money * factor).rounded()
        deals_won = counts.get((user_id, DealKind.WON), Decimal(0))
        deals_lost = counts.get((user_id, DealKind.LOST), Decimal(0))
        unranked.append(
            dict(
                user_id=user_id,
                name=name,
                won_revenue=won_money,
                deals_won=deals_won,
                deals_lost=deals_lost,
                win_rate=percent(deals_won, deals_won + deals_lost),
                open_pipeline=Money(pipeline[user_id], currency).rounded(),
                open_deals=counts.get((user_id, DealKind.OPEN), Decimal(0)),
                goal=goal,
                deals_goal=goal_deals[user_id].quantize(PERCENT, rounding=ROUND_HALF_UP)
                if user_id in goal_deals
                else None,
                progress=percent(won_money.amount, goal.amount) if goal is not None else None,
                projected=projected,
                on_track=None if goal is None else projected.amount >= goal.amount,
            )
        )
    unranked.sort(key=lambda r: (-r["won_revenue"].amount, -r["deals_won"], r["name"], r["user_id"]))
    reps = tuple(RepFigures(rank=n, **r) for n, r in enumerate(unranked, start=1))

    won_total = sum((r.won_revenue for r in reps), zero)
    deals_won = sum((r.deals_won for r in reps), Decimal(0))
    deals_lost = sum((r.deals_lost for r in reps), Decimal(0))
    goals_set = [r.goal for r in reps if r.goal is not None]
    goal_total = sum(goals_set, zero) if goals_set else None
    projected_total = sum((r.projected for r in reps), zero)
    return Scoreboard(
        request=request,
        period=period,
        as_of=now,
        currency=currency,
        time_left=None if period.end is None or period.sliding else max(0, int((period.end - now).total_seconds())),
        won_revenue=won_total,
        deals_won=deals_won,
        deals_lost=deals_lost,
        win_rate=percent(deals_won, deals_won + deals_lost),
        average_deal_size=Money(won_total.amount / deals_won, currency).rounded() if deals_won else None,
        open_pipeline=sum((r.open_pipeline for r in reps), zero),
        open_deals=sum((r.open_deals for r in reps), Decimal(0)),
        goal=goal_total,
        progress=percent(won_total.amount, goal_total.amount) if goal_total is not None else None,
        projected=projected_total,
        on_track=None if goal_total is None else projected_total.amount >= goal_total.amount,
        reps=reps,
        missing_rates=tuple(sorted(missing)),
        changes_at=next_change(period, now, oldest),
        event_id=event_id,
    )


# --- which events can move a figure ---

# Opportunity events change stage, amounts, owner or existence; a goal changes targets; exchange rates
# change conversions. Users and teams have no workflow (and no event) yet: they change only by seeding.
_MOVING = frozenset(
    {
        "OpportunityCreated",
        "OpportunityChanged",
        "OpportunityStageChanged",
        "OpportunityWon",
        "OpportunityLost",
        "OpportunityUnlocked",
        "OpportunityDeleted",
        "GoalSet",
        "CatalogChanged",
    }
)
# An opportunity's owner and amount move figures; its account and partner move it between the boards
# of those who may see it (a rep managing the account, a partner). So do an account's privacy,
# manager and partner, for all its opportunities.
_FIGURE_FIELDS = frozenset({"owner_id", "estimated_revenue", "account_id", "partner_id", "credit_shares"})
_ACCOUNT_FIELDS = frozenset({"is_private", "manager_id", "partner_id", "created_by_id"})


def moves_scoreboard(event_type: str, data: Mapping | None = None) -> bool:
    """Whether an event of this type (the class name, as in the outbox) can move a scoreboard figure.
    With the event's `data`, two kinds are judged more closely: an `OpportunityChanged` moves a figure
    only when it changed the owner, the estimated revenue, the account or the partner, a
    `CatalogChanged` only when it was an exchange rate. Without data the answer errs on the safe side
    (True for both). An `AccountChanged` is judged by its data alone: it moves the boards of those who
    may see its opportunities when it changed the account's privacy, manager or partner."""
    if event_type == "AccountChanged":
        return data is not None and bool(_ACCOUNT_FIELDS.intersection(data.get("fields") or ()))
    if event_type not in _MOVING:
        return False
    if data is None:
        return True
    if event_type == "OpportunityChanged":
        fields = data.get("fields")
        return fields is None or bool(_FIGURE_FIELDS.intersection(fields))
    if event_type == "CatalogChanged":
        return data.get("what") in (None, "ExchangeRate")
    return True
