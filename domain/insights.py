"""The sales manager's home page of the conversation intelligence guide, from summed figures: what
customers talk about, what distinguishes the best sellers, and the call-recording KPIs, each figure with
its value in the period, in the previous period of equal length and a series for its trend.

Pure: persistence reads the sums (persistence/insights.py: the buckets of conversation_aggregates, the
edges of a sliding window, the new names, the scoreboard's won revenue, the activities' hours) and this
module makes the figures. `Sums` are the bucket figures added up; `Items` what is counted per tracked
term and per customer sentiment score in hundredths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.scoreboard import Period

# The bucket figures, in the order persistence keeps them (persistence/conversation_aggregates.FIGURES).
FIGURES = (
    "calls",
    "seconds",
    "phone_seconds",
    "meeting_seconds",
    "seller_talk_ms",
    "customer_talk_ms",
    "switches",
    "scored",
    "score_e4",
    "positive",
    "neutral",
    "negative",
    "keyword_calls",
    "competitor_calls",
    "keyword_mentions",
    "competitor_mentions",
    "new_names",
)
TERM, SCORE = "T", "S"
TOP = 20  # keywords and competitors shown
DAILY_UP_TO = 62  # days: a longer period's series is by month
ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")


class Sums(dict[str, int]):
    """Bucket figures added up (missing ones are 0)."""

    def __missing__(self, key: str) -> int:
        return 0

    def add(self, values: Iterable[int]) -> None:
        for name, value in zip(FIGURES, values):
            self[name] += int(value)


@dataclass
class Items:
    """Per tracked term: [calls, seller mentions, customer mentions]; per score in hundredths: calls."""

    terms: dict[int, list[int]] = field(default_factory=dict)
    scores: dict[int, int] = field(default_factory=dict)

    def add(self, kind: str, item: int, calls: int, seller: int, customer: int) -> None:
        if kind == TERM:
            entry = self.terms.setdefault(item, [0, 0, 0])
            entry[0] += calls
            entry[1] += seller
            entry[2] += customer
        else:
            self.scores[item] = self.scores.get(item, 0) + calls


@dataclass
class Part:
    """What one seller's conversations in one period (and series point) sum to."""

    sums: Sums = field(default_factory=Sums)
    items: Items = field(default_factory=Items)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def change(now: Decimal | int | None, before: Decimal | int | None) -> Decimal | None:
    """The change from `before` to `now` in %, with one decimal; None when there is nothing to compare with."""
    if now is None or before is None or not before:
        return None
    return ((Decimal(now) - Decimal(before)) * 100 / abs(Decimal(before))).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def hours(seconds: int | Decimal) -> Decimal:
    return (Decimal(seconds) / 3600).quantize(TWO_DECIMALS, ROUND_HALF_UP)


def mean_score_centi(sums: Sums) -> int | None:
    """The mean customer sentiment of the scored calls, in hundredths (rounded half up)."""
    if not sums["scored"]:
        return None
    return int((Decimal(sums["score_e4"]) / sums["scored"] / 100).to_integral_value(ROUND_HALF_UP))


def below_mean(sums: Sums, items: Items) -> int:
    """The calls whose score (in hundredths) is below the mean's."""
    mean = mean_score_centi(sums)
    return 0 if mean is None else sum(n for score, n in items.scores.items() if score < mean)


def talk_percent(sums: Sums) -> Decimal | None:
    """The seller side's share of the talking time, in %."""
    return percent(sums["seller_talk_ms"], sums["seller_talk_ms"] + sums["customer_talk_ms"])


def switches_per_hour(sums: Sums) -> Decimal | None:
    """Speaker switches per recorded hour."""
    if not sums["seconds"]:
        return None
    return (Decimal(sums["switches"]) * 3600 / sums["seconds"]).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def mean_score(sums: Sums) -> Decimal | None:
    if not sums["scored"]:
        return None
    return (Decimal(sums["score_e4"]) / sums["scored"] / 10_000).quantize(Decimal("0.0001"), ROUND_HALF_UP)


# --- periods and series ---


def previous(period: Period) -> Period | None:
    """The period of equal length just before (none for ALL_TIME)."""
    if period.start is None or period.end is None:
        return None
    return Period(period.preset, period.start - (period.end - period.start), period.start)


def daily(period: Period) -> bool:
    """Whether the series is by day (a period of up to 62 days) or by month."""
    return period.length is not None and period.length.days <= DAILY_UP_TO


def point(day: date, by_day: bool) -> date:
    return day if by_day else day.replace(day=1)


# --- the page ---


@dataclass(frozen=True)
class TermRow:
    id: int
    kind: str  # KEYWORD or COMPETITOR
    name: str


@dataclass(frozen=True)
class NewName:
    key: str
    name: str
    conversation_id: int
    started_at: datetime
    customer_mentions: int


@dataclass
class PageData:
    """What persistence read for a page: each seller's parts per period ("now", "before") and series
    point, the tracked terms, the new names, each rep's won revenue in the period (in the scoreboard's
    currency) and each seller's activity minutes by channel and period."""

    period: Period
    before: Period | None
    by_day: bool
    parts: dict[tuple[str, int, date], Part]  # (now|before, owner, series point)
    terms: Mapping[int, TermRow]
    names: list[NewName]
    names_before: int
    won: Mapping[int, Decimal]  # rep -> won revenue in the period
    board_reps: tuple[int, ...]  # the reps of the scoreboard (the team's, or all the caller sees)
    activity_minutes: Mapping[tuple[str, int, str], int]  # (now|before, owner, CALL|EMAIL|MEETING) -> minutes
    user_id: int | None = None


def total(data: PageData, when: str, owners: set[int] | None = None) -> Part:
    """The sums of `when` for `owners` (everyone when None)."""
    whole = Part()
    for (w, owner, _), part in data.parts.items():
        if w != when or (owners is not None and owner not in owners):
            continue
        _merge(whole, part)
    return whole


def series(data: PageData, owners: set[int] | None = None, now: datetime | None = None) -> dict[date, Part]:
    """The series points of the period with what `owners` sum to in each. ALL_TIME's series (given `now`)
    has every month from the company's set-up month to now's, with or without calls."""
    found: dict[date, Part] = {at: Part() for at in set_up_months(data.period, now)}
    for (w, owner, at), part in data.parts.items():
        if w != "now" or (owners is not None and owner not in owners):
            continue
        _merge(found.setdefault(at, Part()), part)
    return dict(sorted(found.items()))


def set_up_months(period: Period, now: datetime | None) -> list[date]:
    """ALL_TIME's months from the set-up month to `now`'s (none for other periods, or without a set-up day)."""
    if period.end is not None or period.start is None or now is None:
        return []
    months, at, last = [], period.start.date().replace(day=1), now.date().replace(day=1)
    while at <= last:
        months.append(at)
        at = (at + timedelta(days=31)).replace(day=1)
    return months


def _merge(into: Part, part: Part) -> None:
    for name in FIGURES:
        into.sums[name] += part.sums[name]
    for term, counts in part.items.terms.items():
        into.items.add(TERM, term, *counts)
    for score, n in part.items.scores.items():
        into.items.add(SCORE, score, n, 0, 0)


def owners(data: PageData) -> set[int]:
    return {owner for (_, owner, _) in data.parts} | set(data.board_reps)


def top_sellers(data: PageData) -> tuple[set[int], Decimal | None]:
    """The reps whose won revenue in the period is above the average of the board's reps, and that
    average (None without reps)."""
    reps = data.board_reps
    if not reps:
        return set(), None
    average = sum((data.won.get(r, Decimal(0)) for r in reps), Decimal(0)) / len(reps)
    return {r for r in reps if data.won.get(r, Decimal(0)) > average}, average


def top_terms(
    now: Items, before: Items, terms: Mapping[int, TermRow], kind: str
) -> list[tuple[TermRow, int, int, int]]:
    """The TOP terms of `kind` by mentions (both sides), then by name: (term, mentions, calls, mentions before)."""
    found = []
    for term_id, (calls, seller, customer) in now.terms.items():
        term = terms.get(term_id)
        if term is None or term.kind != kind:
            continue
        old = before.terms.get(term_id, [0, 0, 0])
        found.append((term, seller + customer, calls, old[1] + old[2]))
    found.sort(key=lambda t: (-t[1], t[0].name.lower(), t[0].id))
    return found[:TOP]


def best_practice_terms(top: Part, rest: Part, terms: Mapping[int, TermRow]) -> list[tuple[TermRow, Decimal, Decimal]]:
    """Tracked terms the top sellers say more per call than the other sellers: (term, per call by the top
    sellers, per call by the rest), the largest difference first."""
    found = []
    for term_id, term in terms.items():
        mine = top.items.terms.get(term_id, [0, 0, 0])[1]
        theirs = rest.items.terms.get(term_id, [0, 0, 0])[1]
        per_top = Decimal(mine) / top.sums["calls"] if top.sums["calls"] else Decimal(0)
        per_rest = Decimal(theirs) / rest.sums["calls"] if rest.sums["calls"] else Decimal(0)
        if mine and per_top > per_rest:
            found.append(
                (term, per_top.quantize(TWO_DECIMALS, ROUND_HALF_UP), per_rest.quantize(TWO_DECIMALS, ROUND_HALF_UP))
            )
    found.sort(key=lambda t: (-(t[1] - t[2]), t[0].name.lower(), t[0].id))
    return found[:TOP]


def engagement(data: PageData, when: str, sellers: set[int] | None) -> dict[str, Decimal]:
    """Hours by channel: e-mail (EMAIL activities), calls (CALL activities and recorded phone calls),
    meetings (MEETING activities and recorded meetings)."""
    part = total(data, when, sellers)
    minutes = {"EMAIL": 0, "CALL": 0, "MEETING": 0}
    for (w, owner, channel), value in data.activity_minutes.items():
        if w == when and (sellers is None or owner in sellers):
            minutes[channel] += value
    return {
        "EMAIL": hours(minutes["EMAIL"] * 60),
        "CALL": hours(minutes["CALL"] * 60 + part.sums["phone_seconds"]),
        "MEETING": hours(minutes["MEETING"] * 60 + part.sums["meeting_seconds"]),
    }
