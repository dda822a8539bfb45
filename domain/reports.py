"""The sales reports: funnel by stage, won revenue by person and by product, forecast, partner results and
time per channel. Pure: persistence reads sums of deals and activities (from the report and activity
buckets, whose sums are what the caller may see), this module turns them into figures.

Every amount is summed per currency in ten-thousandths (whole numbers, exact) and converted to the
reporting currency once per figure, then rounded to its minor unit; an amount in a currency without a
rate is left out and named in `missing_rates`, as on the scoreboard. Definitions:

- funnel: open deals now at each open stage (count, estimated revenue, weighted by each deal's
  probability), and deals won and lost in the period. `reached` of a stage is how many deals are at it
  or beyond (later open stages, or won in the period); `conversion` is the share of them that went on to
  the next step (the next stage's `reached`, won after the last open stage). Lost deals count in the
  win rate only (where they were lost is not kept).
- won revenue in the period by person, and by product: a won deal counts per product of its contracts
  with their values (in the contracts' currencies); one without contracts counts under no product. By
  person, a deal counts for each credited user by its percentage (an unshared deal: its owner's in full),
  as on the scoreboard: the person reports count credit, a fraction of a deal when it is shared.
- forecast: open deals whose expected close date lies in the period's days (all of them for ALL_TIME,
  those without a date too), per expected close month, per rep and per team: count, pipeline and
  pipeline × probability, each credited user's part by its percentage.
- partner results: per partner credited with a deal (the deal's partner, else its account's): won in
  the period and open now.
- time per channel: activities that occurred in the period, per owner and type, with their minutes.

Scope: a team (the owners in it), a user (the owner) and a partner (the credited partner); together
all must hold. In the person reports (by person, the forecast) a team or user is the credited users'."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.catalog import BASE_CURRENCY
from domain.errors import ValidationError
from domain.money import Money, check_currency
from domain.scoreboard import PeriodSpec, moves_scoreboard, percent, with_base
from domain.stages import DEFAULT_CATALOG, StageCatalog, StageKind

NO_PRODUCT = -1
# A credited user's part of an open or won deal (an unshared deal: its owner's whole deal). Its line's
# `deals` are hundredths of a deal, `amount_e4` millionths and `weighted_e6` hundred-millionths.
CREDITED = -2
E4 = Decimal(10_000)
E6 = Decimal(1_000_000)
E8 = Decimal(100_000_000)


@dataclass(frozen=True)
class ReportScope:
    """Whose deals a report counts (each None: anyone's); all that are given must hold."""

    team_id: int | None = None
    user_id: int | None = None
    partner_id: int | None = None


@dataclass(frozen=True)
class ReportRequest:
    """A report board's identity: the period, the scope and the reporting currency."""

    period: PeriodSpec
    scope: ReportScope = field(default_factory=ReportScope)
    currency: str = BASE_CURRENCY

    @classmethod
    def of(cls, period: PeriodSpec, scope: ReportScope | None = None, currency: str | None = None) -> ReportRequest:
        code = (currency or BASE_CURRENCY).strip().upper()
        check_currency(code)
        return cls(period=period, scope=scope or ReportScope(), currency=code)


# What the reports are made of. `part`: OPEN (open deals now, whenever their close is expected),
# FORECAST (open deals expected to close in the period, `month` the first day of that month, None for
# no date), CLOSED (won and lost in the period; product 0 the deal, others its revenue per product).
OPEN_NOW, FORECAST, CLOSED = "OPEN", "FORECAST", "CLOSED"


@dataclass(frozen=True)
class Line:
    part: str
    stage: str
    owner_id: int
    currency: str
    product_id: int
    partner_id: int  # the deal's partner, 0 for none
    account_partner_id: int  # its account's partner, 0 for none
    month: date | None
    deals: int
    amount_e4: int
    weighted_e6: int = 0

    @property
    def credited_partner(self) -> int:
        return self.partner_id or self.account_partner_id


@dataclass(frozen=True)
class ActivityLine:
    type: str
    owner_id: int
    activities: int
    minutes: int


@dataclass(frozen=True)
class Figure:
    """Deals, an amount and a weighted amount, in the reporting currency."""

    deals: int
    amount: Money
    weighted: Money


@dataclass(frozen=True)
class FunnelStage:
    stage: str
    deals: int
    amount: Money
    weighted: Money
    reached: int
    conversion: Decimal | None  # % of `reached` that went on to the next step


@dataclass(frozen=True)
class Funnel:
    stages: tuple[FunnelStage, ...]
    won: Figure
    lost: Figure
    win_rate: Decimal | None


@dataclass(frozen=True)
class Keyed:
    """A figure of one key (a user, a product, a team, a month, a partner)."""

    key: int | date | None
    figure: Figure


@dataclass(frozen=True)
class RepForecast:
    user_id: int
    team_id: int | None
    total: Figure
    months: tuple[Keyed, ...]


@dataclass(frozen=True)
class Forecast:
    total: Figure
    months: tuple[Keyed, ...]  # by month (None: no expected close date, last)
    reps: tuple[RepForecast, ...]
    teams: tuple[Keyed, ...]  # by team id (None: users without a team, last)


@dataclass(frozen=True)
class PartnerResult:
    partner_id: int
    won: Figure
    open: Figure


@dataclass(frozen=True)
class ChannelTime:
    user_id: int
    type: str
    activities: int
    minutes: int


@dataclass(frozen=True)
class Reports:
    request: ReportRequest
    currency: str
    funnel: Funnel
    won_by_person: tuple[Keyed, ...]
    won_by_product: tuple[Keyed, ...]  # key: product id, None for no product
    forecast: Forecast
    partners: tuple[PartnerResult, ...]
    time: tuple[ChannelTime, ...]
    missing_rates: tuple[str, ...]
    event_id: int | None = None

    def figures(self) -> tuple:
        """Everything a subscriber sees but the event id (two equal tuples: the same report)."""
        return (
            self.request,
            self.funnel,
            self.won_by_person,
            self.won_by_product,
            self.forecast,
            self.partners,
            self.time,
            self.missing_rates,
        )


def in_scope(scope: ReportScope, owner_id: int, credited_partner: int, team_of: Mapping[int, int | None]) -> bool:
    if scope.user_id is not None and owner_id != scope.user_id:
        return False
    if scope.team_id is not None and team_of.get(owner_id) != scope.team_id:
        return False
    return scope.partner_id is None or credited_partner == scope.partner_id


class _Money:
    """Sums per currency in ten-thousandths (and weighted in millionths), converted once at the end."""

    def __init__(self, currency: str, rates: Mapping[str, Decimal], missing: set[str]) -> None:
        self.currency, self.rates, self.missing = currency, rates, missing

    def convert(self, sums: Mapping[str, int], scale: Decimal) -> Money:
        total = Decimal(0)
        for source, amount in sorted(sums.items()):
            if not amount or not source:
                continue
            if source not in self.rates:
                self.missing.add(source)
                continue
            value = Decimal(amount) / scale
            total += value if source == self.currency else value * self.rates[source] / self.rates[self.currency]
        return Money(total, self.currency).rounded()


class _Acc:
    __slots__ = ("deals", "amount", "weighted", "credited")

    def __init__(self, credited: bool = False) -> None:
        self.deals = 0
        self.amount: dict[str, int] = {}
        self.weighted: dict[str, int] = {}
        self.credited = credited  # sums of CREDITED lines (hundredths of deals, amounts × percent)

    def add(self, line: Line) -> None:
        self.deals += line.deals
        self.amount[line.currency] = self.amount.get(line.currency, 0) + line.amount_e4
        self.weighted[line.currency] = self.weighted.get(line.currency, 0) + line.weighted_e6

    def figure(self, money: _Money) -> Figure:
        if self.credited:  # deals: a Decimal with two places, exact
            deals = Decimal(self.deals).scaleb(-2)
            return Figure(deals, money.convert(self.amount, E6), money.convert(self.weighted, E8))  # type: ignore[arg-type]
        return Figure(self.deals, money.convert(self.amount, E4), money.convert(self.weighted, E6))


def _credited() -> _Acc:
    return _Acc(credited=True)


def _keyed(groups: Mapping[object, _Acc], money: _Money, order: str) -> tuple[Keyed, ...]:
    figures = [Keyed(key, acc.figure(money)) for key, acc in groups.items()]  # type: ignore[arg-type]
    if order == "amount":
        figures.sort(key=lambda k: (-k.figure.amount.amount, -k.figure.deals, _none_last(k.key)))
    else:
        figures.sort(key=lambda k: _none_last(k.key))
    return tuple(figures)


def _none_last(key: object) -> tuple:
    return (key is None, key if key is not None else 0)


def check_rate(currency: str, rates: Mapping[str, Decimal]) -> dict[str, Decimal]:
    rates = with_base(rates)
    if currency not in rates:
        raise ValidationError(
            "currency",
            f"there is no exchange rate for {currency}; set one with setExchangeRate "
            "or report in a currency that has one",
        )
    return rates


def compute_reports(
    request: ReportRequest,
    lines: Iterable[Line],
    activities: Iterable[ActivityLine],
    team_of: Mapping[int, int | None],
    rates: Mapping[str, Decimal],
    event_id: int | None = None,
    catalog: StageCatalog = DEFAULT_CATALOG,
) -> Reports:
    """The reports of `request` from the lines the caller may see (any scope: it is applied here); the funnel's
    columns are the open stages of `catalog` in its order, and a closed line is won when its stage is WON-kind."""
    open_keys = list(catalog.keys(StageKind.OPEN))
    currency = request.currency
    money = _Money(currency, check_rate(currency, rates), set())
    scope = request.scope
    stages: dict[str, _Acc] = {s: _Acc() for s in open_keys}
    won, lost = _Acc(), _Acc()
    by_person: dict[object, _Acc] = {}
    by_product: dict[object, _Acc] = {}
    months: dict[object, _Acc] = {}
    reps: dict[int, _Acc] = {}
    rep_months: dict[int, dict[object, _Acc]] = {}
    teams: dict[object, _Acc] = {}
    forecast = _credited()
    partner_won: dict[int, _Acc] = {}
    partner_open: dict[int, _Acc] = {}
    for line in lines:
        # (a CREDITED line's owner is the credited user: a user or team scope counts its credit)
        if not in_scope(scope, line.owner_id, line.credited_partner, team_of):
            continue
        partner = line.credited_partner
        if line.product_id == CREDITED:  # the person reports: the forecast, won revenue by person
            if line.part == FORECAST:
                forecast.add(line)
                months.setdefault(line.month, _credited()).add(line)
                reps.setdefault(line.owner_id, _credited()).add(line)
                rep_months.setdefault(line.owner_id, {}).setdefault(line.month, _credited()).add(line)
                teams.setdefault(team_of.get(line.owner_id), _credited()).add(line)
            elif line.part == CLOSED and catalog.is_won(line.stage):
                by_person.setdefault(line.owner_id, _credited()).add(line)
        elif line.part == OPEN_NOW:
            stages.setdefault(line.stage, _Acc()).add(line)
            if partner:
                partner_open.setdefault(partner, _Acc()).add(line)
        elif line.part == FORECAST:
            continue
        elif line.product_id == 0:
            if catalog.is_won(line.stage):
                won.add(line)
                if partner:
                    partner_won.setdefault(partner, _Acc()).add(line)
            else:
                lost.add(line)
        else:
            by_product.setdefault(None if line.product_id == NO_PRODUCT else line.product_id, _Acc()).add(line)
    figures = {s: acc.figure(money) for s, acc in stages.items()}
    reached: dict[str, int] = {}
    beyond = won.deals
    for stage in reversed(open_keys):
        beyond += stages[stage].deals
        reached[stage] = beyond
    funnel_stages = []
    for n, stage in enumerate(open_keys):
        following = reached[open_keys[n + 1]] if n + 1 < len(open_keys) else won.deals
        figure = figures[stage]
        funnel_stages.append(
            FunnelStage(
                stage, figure.deals, figure.amount, figure.weighted, reached[stage], percent(following, reached[stage])
            )
        )
    funnel = Funnel(
        tuple(funnel_stages), won.figure(money), lost.figure(money), percent(won.deals, won.deals + lost.deals)
    )
    rep_forecasts = [
        RepForecast(user, team_of.get(user), acc.figure(money), _keyed(rep_months[user], money, "key"))
        for user, acc in reps.items()
    ]
    rep_forecasts.sort(key=lambda r: (-r.total.weighted.amount, -r.total.amount.amount, r.user_id))
    partners = [
        PartnerResult(
            partner,
            partner_won.get(partner, _Acc()).figure(money),
            partner_open.get(partner, _Acc()).figure(money),
        )
        for partner in partner_won.keys() | partner_open.keys()
    ]
    partners.sort(key=lambda p: (-p.won.amount.amount, -p.open.amount.amount, p.partner_id))
    time = [
        ChannelTime(a.owner_id, a.type, a.activities, a.minutes)
        for a in _time(activities, scope, team_of)
        if a.activities or a.minutes
    ]
    return Reports(
        request=request,
        currency=currency,
        funnel=funnel,
        won_by_person=_keyed(by_person, money, "amount"),
        won_by_product=_keyed(by_product, money, "amount"),
        forecast=Forecast(
            forecast.figure(money), _keyed(months, money, "key"), tuple(rep_forecasts), _keyed(teams, money, "key")
        ),
        partners=tuple(partners),
        time=tuple(time),
        missing_rates=tuple(sorted(money.missing)),
        event_id=event_id,
    )


def _time(
    activities: Iterable[ActivityLine], scope: ReportScope, team_of: Mapping[int, int | None]
) -> list[ActivityLine]:
    """Activities per (owner, type) in scope (a partner scope leaves none: partners own no activity)."""
    if scope.partner_id is not None:
        return []
    summed: dict[tuple[int, str], list[int]] = {}
    for a in activities:
        if in_scope(scope, a.owner_id, 0, team_of):
            entry = summed.setdefault((a.owner_id, a.type), [0, 0])
            entry[0] += a.activities
            entry[1] += a.minutes
    return [ActivityLine(t, u, n, m) for (u, t), (n, m) in sorted(summed.items())]


# --- which events can move a report ---

_MOVING = frozenset(
    {
        "ActivityLogged",
        "ActivityChanged",
        "ActivityDeleted",
        "ContractCreated",
        "ContractWithdrawn",
        "AccountDeleted",
        "LeadDeleted",
        "PartnerDeleted",
        "OpportunityStageDefined",  # the funnel's steps and their order follow the stages
    }
)
_FIELDS = frozenset({"owner_id", "estimated_revenue", "account_id", "partner_id", "probability", "expected_close_date"})


def moves_reports(event_type: str, data: Mapping | None = None) -> bool:
    """Whether an event of this type can move a report figure: what moves the scoreboard (but a goal),
    an opportunity's probability or expected close date, an activity, a contract, the deletions that
    take activities with them, and a change to the stages (the funnel's steps)."""
    if event_type in _MOVING:
        return True
    if event_type == "OpportunityChanged" and data is not None:
        fields = data.get("fields")
        return fields is None or bool(_FIELDS.intersection(fields))
    return event_type != "GoalSet" and moves_scoreboard(event_type, data)


# The opportunity board shows open deals' rows (any field of them), counted by the scoreboard's rules.
_BOARD_MOVING = frozenset({"QuoteActivated", "AccountDeleted", "PartnerChanged", "PartnerDeleted", "UserRoleChanged"})


def moves_opportunity_board(event_type: str, data: Mapping | None = None) -> bool:
    """Whether an event of this type can move the opportunity board: any opportunity event (its rows show
    every field), what moves who may see a deal (an account's privacy, manager or partner, a partner, an
    account deleted) and an exchange rate."""
    if event_type.startswith("Opportunity") or event_type in _BOARD_MOVING:
        return True
    return event_type != "GoalSet" and moves_scoreboard(event_type, data)
