"""Which buckets a period sums (`aggregates.cover`): for any period, every closing time lies in
exactly one of its whole months, its whole days and its edges when the period holds it, and in none
when it does not; a calendar month is one month bucket, a day-aligned range whole days, and a sliding
window reads only its two partial days from the deal table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.scoreboard import PeriodPreset, PeriodSpec
from persistence.aggregates import cover

MOMENTS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
# Midnights and whole seconds are where boundaries go wrong, so they are drawn often.
ROUND = st.sampled_from([timedelta(0), timedelta(days=1), timedelta(seconds=1), timedelta(hours=1)])


def rounded(moment: datetime, unit: timedelta) -> datetime:
    if not unit:
        return moment
    since = moment - datetime(2000, 1, 1, tzinfo=UTC)
    return moment - since % unit


def places(period, moment: datetime) -> int:
    """In how many parts of the cover `moment` (a closing time) lies."""
    plan = cover(period)
    if plan.everything:
        return 1
    day = moment.date()
    found = 0
    if plan.months is not None and plan.months[0] <= day.replace(day=1) <= plan.months[1]:
        found += 1
    found += sum(low <= day <= high for low, high in plan.day_ranges)
    for after, low, high, until in plan.edges:
        above = moment > low if after else moment >= low
        below = moment <= high if until else moment < high
        found += above and below
    return found


# A closing time near either bound of the period (where the parts meet), to the second or on the bound.
NEAR = st.tuples(st.booleans(), st.integers(-40 * 86400, 40 * 86400), ROUND)


def near(period, where: tuple[bool, int, timedelta]) -> datetime:
    at_start, seconds, unit = where
    bound = period.start if at_start else period.end
    return rounded(bound + timedelta(seconds=seconds), unit)


@given(MOMENTS, MOMENTS, ROUND, ROUND, NEAR)
def test_a_custom_range_is_covered_once_and_nothing_outside_it(start, end, start_unit, end_unit, where):
    low, high = sorted([rounded(start, start_unit), rounded(end, end_unit)])
    period = PeriodSpec.of(start=low, end=high if high > low else low + timedelta(seconds=1)).resolve(low)
    moment = near(period, where)
    assert places(period, moment) == (1 if period.contains(moment) else 0)


@given(st.sampled_from([p for p in PeriodPreset if p is not PeriodPreset.ALL_TIME]), MOMENTS, ROUND, NEAR)
def test_every_preset_is_covered_once_and_nothing_outside_it(preset, now, now_unit, where):
    period = PeriodSpec.of(preset).resolve(rounded(now, now_unit))
    moment = near(period, where)
    assert places(period, moment) == (1 if period.contains(moment) else 0)


def test_a_month_is_one_bucket_and_a_quarter_three_with_no_edges():
    now = datetime(2026, 6, 15, 13, 7, tzinfo=UTC)
    month = cover(PeriodSpec.of(PeriodPreset.THIS_MONTH).resolve(now))
    assert (month.months, month.day_ranges, month.edges) == ((date(2026, 6, 1), date(2026, 6, 1)), (), ())
    quarter = cover(PeriodSpec.of(PeriodPreset.THIS_QUARTER).resolve(now))
    assert (quarter.months, quarter.day_ranges, quarter.edges) == ((date(2026, 4, 1), date(2026, 6, 1)), (), ())


def test_a_sliding_week_is_six_whole_days_and_two_partial_ones():
    now = datetime(2026, 6, 15, 13, 7, tzinfo=UTC)
    week = cover(PeriodSpec.of(PeriodPreset.LAST_7_DAYS).resolve(now))
    assert week.months is None and week.day_ranges == ((date(2026, 6, 9), date(2026, 6, 14)),)
    assert week.edges == (
        (True, now - timedelta(days=7), datetime(2026, 6, 9, tzinfo=UTC), False),
        (False, datetime(2026, 6, 15, tzinfo=UTC), now, True),
    )


def test_all_time_is_the_all_time_buckets():
    assert cover(PeriodSpec.of(PeriodPreset.ALL_TIME).resolve(datetime(2026, 6, 15, tzinfo=UTC))).everything
