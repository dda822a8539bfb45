"""The home page's figures as pure functions of sums (domain/insights.py): the rounding of the mean score that
decides "more negative than the mean", changes against a previous period of 0, the previous period and the
series' grain, top sellers against the average and best-practice terms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain import insights
from domain.scoreboard import Period, PeriodPreset, PeriodSpec


def sums(**values: int) -> insights.Sums:
    found = insights.Sums()
    found.update(values)
    return found


def test_a_call_is_below_the_mean_when_its_score_in_hundredths_is_below_the_mean_s_rounded_half_away_from_zero():
    # scores 0.6, -0.8, 0.0, -0.3: mean -0.125 -> -13 (not -12): -80 and -30 are below, 0 is not
    total = sums(scored=4, score_e4=6_000 - 8_000 + 0 - 3_000)
    items = insights.Items(scores={60: 1, -80: 1, 0: 1, -30: 1})
    assert insights.mean_score_centi(total) == -13
    assert insights.below_mean(total, items) == 2
    # a score equal to the mean's hundredths is not below it
    assert insights.below_mean(sums(scored=2, score_e4=2_000), insights.Items(scores={10: 2})) == 0
    assert insights.mean_score_centi(sums()) is None and insights.below_mean(sums(), insights.Items()) == 0


def test_change_is_null_against_nothing_and_relative_to_the_size_of_a_negative_previous_value():
    assert insights.change(Decimal(2), Decimal(0)) is None
    assert insights.change(Decimal(2), None) is None
    assert insights.change(Decimal("-0.125"), Decimal("0.2")) == Decimal("-162.5")
    assert insights.change(Decimal("-0.1"), Decimal("-0.2")) == Decimal("50.0")


def test_the_previous_period_has_the_same_length_and_the_series_is_by_day_up_to_62_days():
    now = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
    week = PeriodSpec.of(PeriodPreset.LAST_7_DAYS).resolve(now)
    before = insights.previous(week)
    assert before is not None and (before.start, before.end) == (now - timedelta(days=14), now - timedelta(days=7))
    assert before.sliding and insights.daily(week)
    quarter = PeriodSpec.of(PeriodPreset.THIS_QUARTER).resolve(now)
    assert not insights.daily(quarter)
    assert insights.previous(Period(PeriodPreset.ALL_TIME, None, None)) is None
    last = PeriodSpec.of(PeriodPreset.LAST_MONTH).resolve(now)
    assert (last.start, last.end) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def page(won: dict[int, str], parts: dict) -> insights.PageData:
    period = Period(None, datetime(2030, 3, 1, tzinfo=UTC), datetime(2030, 4, 1, tzinfo=UTC))
    return insights.PageData(
        period=period,
        before=insights.previous(period),
        by_day=True,
        parts=parts,
        terms={1: insights.TermRow(1, "KEYWORD", "Zephyrix"), 2: insights.TermRow(2, "KEYWORD", "Quorbit")},
        names=[],
        names_before=0,
        won={k: Decimal(v) for k, v in won.items()},
        board_reps=tuple(won),
        activity_minutes={},
    )


def test_top_sellers_are_above_the_average_and_best_practice_terms_are_said_more_per_call_by_them():
    day = datetime(2030, 3, 3).date()
    top, rest = insights.Part(sums(calls=2)), insights.Part(sums(calls=4))
    top.items.add(insights.TERM, 1, 2, 3, 0)  # 1.5 seller mentions per call
    rest.items.add(insights.TERM, 1, 2, 2, 5)  # 0.5 per call (the customer's do not count)
    rest.items.add(insights.TERM, 2, 4, 8, 0)  # only the rest say it
    data = page({10: "900", 11: "100", 12: "200"}, {("now", 10, day): top, ("now", 11, day): rest})
    chosen, average = insights.top_sellers(data)
    assert chosen == {10} and average == Decimal(400)
    found = insights.best_practice_terms(
        insights.total(data, "now", {10}), insights.total(data, "now", {11, 12}), data.terms
    )
    assert [(t.name, mine, theirs) for t, mine, theirs in found] == [("Zephyrix", Decimal("1.50"), Decimal("0.50"))]
