"""The scoreboard's rules: periods, figures per rep and in total, goals over periods, the pace,
conversion, and when time alone changes a figure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import ValidationError
from domain.money import Money
from domain.scoreboard import (
    DealGroup,
    DealKind,
    GoalRow,
    PeriodPreset,
    PeriodSpec,
    ScoreboardRequest,
    compute_scoreboard,
    moves_scoreboard,
)

NOW = datetime(2026, 5, 10, 13, 30, tzinfo=UTC)  # day 10 of a 31-day month, in Q2
RATES = {"EUR": Decimal(1), "USD": Decimal("0.9"), "NOK": Decimal("0.08")}
USERS = {1: "Ada", 2: "Bo", 3: "Cy"}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def request(
    preset: PeriodPreset | None = PeriodPreset.THIS_MONTH, currency: str = "EUR", **range_
) -> ScoreboardRequest:
    return ScoreboardRequest.of(
        PeriodSpec.of(preset, **range_) if preset else PeriodSpec.of(**range_), currency=currency
    )


def won(owner: int, amount: str, currency: str = "EUR", count: int = 1, oldest: datetime | None = None) -> DealGroup:
    return DealGroup(owner, DealKind.WON, currency, count, Decimal(amount), oldest or NOW - timedelta(hours=1))


def lost(owner: int, count: int = 1, oldest: datetime | None = None) -> DealGroup:
    return DealGroup(owner, DealKind.LOST, None, count, Decimal(0), oldest or NOW - timedelta(hours=1))


def open_(owner: int, amount: str, currency: str = "EUR", count: int = 1) -> DealGroup:
    return DealGroup(owner, DealKind.OPEN, currency, count, Decimal(amount))


def month_goal(user: int, amount: str, month: int = 5, deals: int = 0) -> GoalRow:
    start = date(2026, month, 1)
    end = date(2026, month + 1, 1) - timedelta(days=1)
    return GoalRow(user, start, end, Money(Decimal(amount), "EUR"), deals)


def board(deals=(), goals=(), req=None, now=NOW, users=USERS, rates=RATES):
    return compute_scoreboard(req or request(), now, list(deals), users, list(goals), rates)


# --- periods ---


def test_calendar_presets_are_the_utc_month_and_quarter_around_now():
    month = PeriodSpec.of(PeriodPreset.THIS_MONTH).resolve(NOW)
    quarter = PeriodSpec.of("THIS_QUARTER").resolve(NOW)
    assert (month.start, month.end) == (utc(2026, 5, 1), utc(2026, 6, 1))
    assert (quarter.start, quarter.end) == (utc(2026, 4, 1), utc(2026, 7, 1))
    december = PeriodSpec.of(PeriodPreset.THIS_QUARTER).resolve(datetime(2026, 12, 31, 23, tzinfo=UTC))
    assert december.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_sliding_windows_end_now_and_all_time_has_no_bounds():
    day = PeriodSpec.of(PeriodPreset.LAST_24_HOURS).resolve(NOW)
    week = PeriodSpec.of(PeriodPreset.LAST_7_DAYS).resolve(NOW)
    ever = PeriodSpec.of(PeriodPreset.ALL_TIME).resolve(NOW)
    assert (day.start, day.end, day.sliding) == (NOW - timedelta(hours=24), NOW, True)
    assert week.start == NOW - timedelta(days=7)
    assert (ever.start, ever.end, ever.sliding) == (None, None, False)


def test_a_custom_range_is_taken_as_given_and_naive_times_are_utc():
    period = PeriodSpec.of(start=datetime(2026, 1, 1), end=datetime(2026, 2, 1, 12, tzinfo=UTC)).resolve(NOW)
    assert period.start == datetime(2026, 1, 1, tzinfo=UTC) and period.preset is None


@pytest.mark.parametrize(
    "args, field",
    [
        (dict(preset=PeriodPreset.THIS_MONTH, start=NOW), "period"),
        (dict(), "period"),
        (dict(start=NOW), "period"),
        (dict(start=NOW, end=NOW), "period.to"),
        (dict(start=NOW, end=NOW - timedelta(days=1)), "period.to"),
        (dict(preset="NEXT_YEAR"), "period.preset"),
    ],
)
def test_a_period_is_a_preset_or_an_ordered_range_never_both_nor_neither(args, field):
    with pytest.raises(ValidationError) as raised:
        PeriodSpec.of(**args)
    assert raised.value.field == field


def test_the_reporting_currency_defaults_to_euros_and_must_be_an_iso_code():
    assert ScoreboardRequest.of(PeriodSpec.of(PeriodPreset.ALL_TIME)).currency == "EUR"
    assert ScoreboardRequest.of(PeriodSpec.of(PeriodPreset.ALL_TIME), currency="usd").currency == "USD"
    with pytest.raises(ValidationError):
        ScoreboardRequest.of(PeriodSpec.of(PeriodPreset.ALL_TIME), currency="dollars")


def test_a_reporting_currency_without_an_exchange_rate_is_refused():
    with pytest.raises(ValidationError, match="no exchange rate for SEK"):
        board(req=request(currency="SEK"))


# --- figures ---


def test_totals_add_up_the_reps_and_the_win_rate_counts_closed_deals_in_the_period():
    result = board(
        [won(1, "1000", count=2), won(2, "500"), lost(2, count=3), open_(1, "700"), open_(3, "300", count=4)]
    )
    assert result.won_revenue == Money(Decimal("1500.00"), "EUR")
    assert (result.deals_won, result.deals_lost, result.open_deals) == (3, 3, 5)
    assert result.win_rate == Decimal("50.0")
    assert result.average_deal_size == Money(Decimal("500.00"), "EUR")
    assert result.open_pipeline == Money(Decimal("1000.00"), "EUR")
    bo = next(r for r in result.reps if r.name == "Bo")
    assert (bo.deals_won, bo.deals_lost, bo.win_rate) == (1, 3, Decimal("25.0"))


def test_nothing_closed_gives_no_win_rate_and_no_average():
    result = board([open_(1, "700")])
    assert result.win_rate is None and result.average_deal_size is None and result.deals_won == 0
    assert all(r.win_rate is None for r in result.reps)


def test_reps_rank_by_won_revenue_then_deals_won_then_name():
    result = board([won(3, "900"), won(2, "900", count=2), won(1, "900", count=2)])
    assert [(r.rank, r.name) for r in result.reps] == [(1, "Ada"), (2, "Bo"), (3, "Cy")]
    result = board([won(3, "901"), won(2, "900", count=2)])
    assert [r.name for r in result.reps] == ["Cy", "Bo", "Ada"] and result.reps[-1].won_revenue.amount == 0


def test_amounts_are_converted_per_currency_and_rounded_half_up_to_the_reporting_currency():
    result = board([won(1, "100", "USD"), won(1, "1000", "NOK"), open_(2, "0.05", "USD")], req=request(currency="NOK"))
    ada = result.reps[0]
    # 100 USD = 90 EUR = 1125 NOK; 1000 NOK stays; 0.05 USD = 0.045 EUR = 0.5625 NOK -> 0.56
    assert ada.won_revenue == Money(Decimal("2125.00"), "NOK")
    assert result.open_pipeline == Money(Decimal("0.56"), "NOK")
    assert board([won(1, "0.005")]).won_revenue.amount == Decimal("0.01")


def test_amounts_in_a_currency_without_a_rate_are_left_out_and_named():
    result = board([won(1, "100"), won(1, "999", "CHF"), open_(2, "5", "XAF")])
    assert result.won_revenue.amount == Decimal("100.00") and result.deals_won == 2
    assert result.missing_rates == ("CHF", "XAF")


def test_deals_and_goals_of_people_not_on_the_board_are_left_out():
    result = board([won(9, "100"), won(1, "5")], [month_goal(9, "1000")])
    assert result.won_revenue.amount == Decimal("5.00") and result.goal is None


# --- goals, progress and the pace ---


def test_a_goal_counts_by_the_share_of_its_days_in_the_period():
    goals = [month_goal(1, "3100", 5, deals=31), month_goal(1, "3000", 6), month_goal(1, "9999", 3)]
    assert board(goals=goals).reps[0].goal == Money(Decimal("3100.00"), "EUR")
    quarter = board(goals=goals, req=request(PeriodPreset.THIS_QUARTER)).reps[0]
    assert quarter.goal == Money(Decimal("6100.00"), "EUR")
    week = board(goals=goals, req=request(PeriodPreset.LAST_7_DAYS)).reps[0]  # 4 May .. 10 May: 7 days of May
    assert week.goal == Money(Decimal("700.00"), "EUR") and week.deals_goal == Decimal("7.0")
    day = board(goals=goals, req=request(PeriodPreset.LAST_24_HOURS)).reps[0]  # today's midnight
    assert day.goal == Money(Decimal("100.00"), "EUR")
    assert board(goals=goals, req=request(PeriodPreset.ALL_TIME)).reps[0].goal.amount == Decimal("16099.00")
    assert board(goals=goals).reps[1].goal is None


def test_progress_projection_and_on_track_follow_the_days_begun():
    # 10 May 13:30: 10 of 31 days have begun; 1000 won so far projects to 3100.
    result = board([won(1, "1000"), won(2, "500")], [month_goal(1, "3100"), month_goal(2, "3100")])
    ada, bo = result.reps[0], result.reps[1]
    assert ada.progress == Decimal("32.3") and ada.projected == Money(Decimal("3100.00"), "EUR")
    assert ada.on_track is True and bo.on_track is False and bo.projected.amount == Decimal("1550.00")
    assert result.reps[2].on_track is None and result.reps[2].progress is None
    assert result.goal.amount == Decimal("6200.00") and result.projected.amount == Decimal("4650.00")
    assert result.on_track is False and result.progress == Decimal("24.2")


def test_the_projection_stays_the_same_through_the_day_and_steps_at_midnight():
    deals, goals = [won(1, "1000")], [month_goal(1, "3100")]
    morning = board(deals, goals, now=NOW.replace(hour=0, minute=0))
    night = board(deals, goals, now=NOW.replace(hour=23, minute=59, second=59))
    tomorrow = board(deals, goals, now=NOW.replace(hour=0, minute=0) + timedelta(days=1))
    assert morning.figures() == night.figures()
    assert tomorrow.reps[0].projected.amount == Decimal("2818.18")  # 1000 * 31 / 11


def test_windows_and_all_time_project_what_was_won():
    for preset in (PeriodPreset.LAST_7_DAYS, PeriodPreset.ALL_TIME):
        assert board([won(1, "1000")], req=request(preset)).reps[0].projected.amount == Decimal("1000.00")


def test_time_left_is_in_seconds_for_periods_that_end_and_none_for_windows_and_all_time():
    assert board().time_left == int((datetime(2026, 6, 1, tzinfo=UTC) - NOW).total_seconds())
    assert board(req=request(PeriodPreset.LAST_7_DAYS)).time_left is None
    assert board(req=request(PeriodPreset.ALL_TIME)).time_left is None
    past = request(None, start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC))
    assert board(req=past).time_left == 0


# --- when time alone changes a figure ---


def test_a_calendar_period_changes_at_the_next_midnight_and_not_after_its_end():
    assert board().changes_at == datetime(2026, 5, 11, tzinfo=UTC)
    last_day = board(now=datetime(2026, 5, 31, 8, tzinfo=UTC))
    assert last_day.changes_at == datetime(2026, 6, 1, tzinfo=UTC)
    assert board(req=request(PeriodPreset.ALL_TIME)).changes_at is None


def test_a_custom_range_changes_when_it_starts_then_each_day_from_its_start():
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)
    future = request(None, start=start, end=start + timedelta(days=2, hours=3))
    assert board(req=future).changes_at == start
    assert board(req=future, now=start + timedelta(hours=5)).changes_at == start + timedelta(days=1)
    assert board(req=future, now=start + timedelta(days=2, hours=1)).changes_at == start + timedelta(days=2, hours=3)
    assert board(req=future, now=start + timedelta(days=3)).changes_at is None


def test_a_sliding_window_changes_when_its_oldest_closed_deal_drops_out():
    oldest = NOW - timedelta(hours=20)
    req = request(PeriodPreset.LAST_24_HOURS)
    before = board([won(1, "1000", oldest=oldest), lost(2, oldest=NOW - timedelta(hours=2))], req=req)
    assert before.changes_at == oldest + timedelta(hours=24)
    # otherwise at midnight, when the window's days (and the goals it counts) shift
    assert board([open_(1, "5")], req=req).changes_at == utc(2026, 5, 11)
    assert board([won(1, "1000", oldest=NOW - timedelta(hours=2))], req=req).changes_at == utc(2026, 5, 11)


def test_a_sliding_window_keeps_its_figures_until_changes_at():
    """Deals as persistence would load them at each moment: the one closed 20 hours ago is in the
    window until 4 hours from now, then drops out; nothing else changes in between."""
    closed = [(NOW - timedelta(hours=20), "1000"), (NOW - timedelta(hours=2), "300")]
    req = request(PeriodPreset.LAST_24_HOURS)

    def at(moment: datetime):
        inside = [(c, a) for c, a in closed if moment - timedelta(hours=24) < c <= moment]
        groups = [won(1, a, oldest=c) for c, a in inside]
        return board(groups, req=req, now=moment)

    first = at(NOW)
    assert first.won_revenue.amount == Decimal("1300.00") and first.changes_at == NOW + timedelta(hours=4)
    assert at(first.changes_at - timedelta(microseconds=1)).figures() == first.figures()
    after = at(first.changes_at)
    assert after.won_revenue.amount == Decimal("300.00") and after.deals_won == 1
    assert after.changes_at == utc(2026, 5, 11)  # midnight comes before the other deal leaves
    assert at(utc(2026, 5, 11)).changes_at == NOW + timedelta(hours=22)


def test_figures_leave_out_the_clock_but_keep_a_calendar_periods_bounds():
    a, b = board(now=NOW), board(now=NOW + timedelta(minutes=5))
    assert a.as_of != b.as_of and a.time_left != b.time_left and a.figures() == b.figures()
    assert board(now=NOW).figures() != board(now=NOW + timedelta(days=31)).figures()


# --- which events move it ---


@pytest.mark.parametrize(
    "event_type",
    [
        "OpportunityCreated",
        "OpportunityStageChanged",
        "OpportunityWon",
        "OpportunityLost",
        "OpportunityUnlocked",
        "OpportunityDeleted",
        "GoalSet",
        "OpportunityChanged",
        "CatalogChanged",
    ],
)
def test_events_about_deals_goals_and_rates_move_the_scoreboard(event_type):
    assert moves_scoreboard(event_type)


@pytest.mark.parametrize(
    "event_type",
    [
        "LeadCreated",
        "AccountChanged",
        "ActivityLogged",
        "QuoteChanged",
        "QuoteActivated",
        "ContractCreated",
        "StatusMonitorChanged",
        "Unknown",
    ],
)
def test_other_events_do_not(event_type):
    assert not moves_scoreboard(event_type)


def test_with_its_data_an_event_is_judged_by_what_it_changed():
    assert moves_scoreboard("OpportunityChanged", {"fields": ["estimated_revenue", "name"]})
    assert moves_scoreboard("OpportunityChanged", {"fields": ["owner_id"]})
    assert not moves_scoreboard("OpportunityChanged", {"fields": ["business_roles"]})
    # Moving a deal to another account or partner moves it between the boards of those who may see it.
    assert moves_scoreboard("OpportunityChanged", {"fields": ["account_id"]})
    assert moves_scoreboard("OpportunityChanged", {"fields": ["partner_id"]})
    assert moves_scoreboard("AccountChanged", {"fields": ["is_private"]})
    assert moves_scoreboard("AccountChanged", {"fields": ["manager_id", "name"]})
    assert moves_scoreboard("AccountChanged", {"fields": ["partner_id"]})
    assert not moves_scoreboard("AccountChanged", {"fields": ["groups"]})
    assert moves_scoreboard("CatalogChanged", {"what": "ExchangeRate"})
    assert not moves_scoreboard("CatalogChanged", {"what": "ProductImport"})


# --- a scoreboard stays exact until changes_at ---


def aggregate(deals: list[tuple[int, str, datetime, str, str]], req: ScoreboardRequest, moment: datetime):
    """What persistence loads at `moment`: closed deals of the period and open deals, grouped."""
    period = req.period.resolve(moment)
    groups: dict[tuple, list] = {}
    for owner, kind, closed_at, amount_, currency in deals:
        if kind != "OPEN" and not period.contains(closed_at):
            continue
        key = (owner, kind, currency)
        entry = groups.setdefault(key, [0, Decimal(0), None])
        entry[0] += 1
        entry[1] += Decimal(amount_)
        if kind != "OPEN":
            entry[2] = closed_at if entry[2] is None else min(entry[2], closed_at)
    return [DealGroup(o, DealKind(k), c, n, a, oldest) for (o, k, c), (n, a, oldest) in groups.items()]


deal_strategy = st.tuples(
    st.sampled_from([1, 2, 3]),
    st.sampled_from(["WON", "LOST", "OPEN"]),
    st.one_of(st.integers(0, 8 * 24), st.integers(0, 60 * 24)).map(lambda h: NOW - timedelta(hours=h, minutes=7)),
    st.sampled_from(["100", "250.50", "999.99"]),
    st.sampled_from(["EUR", "USD", "NOK"]),
)


@settings(max_examples=300, deadline=None)
@given(
    deals=st.lists(deal_strategy, max_size=12),
    preset=st.sampled_from(list(PeriodPreset)),
    later=st.floats(min_value=0, max_value=1, exclude_max=True),
    goal=st.booleans(),
)
def test_a_scoreboard_stays_equal_to_a_fresh_one_until_its_changes_at(deals, preset, later, goal):
    req = request(preset)
    goals = [month_goal(1, "3100", 4), month_goal(2, "1000", 5)] if goal else []
    first = board(aggregate(deals, req, NOW), goals, req=req)
    horizon = first.changes_at or NOW + timedelta(days=400)
    span = (horizon - NOW) // timedelta(microseconds=1)
    moment = NOW + timedelta(microseconds=min(span - 1, int(span * later)))
    again = board(aggregate(deals, req, moment), goals, req=req, now=moment)
    assert again.figures() == first.figures()


def test_all_time_starts_at_midnight_of_the_set_up_day_and_contains_everything():
    set_up = datetime(2024, 5, 17, 13, 45, tzinfo=UTC)
    ever = PeriodSpec.of(PeriodPreset.ALL_TIME).resolve(NOW, set_up)
    assert (ever.start, ever.end, ever.length, ever.days()) == (
        datetime(2024, 5, 17, tzinfo=UTC),
        None,
        None,
        (None, None),
    )
    assert ever.contains(datetime(2001, 1, 1, tzinfo=UTC)) and ever.contains(NOW)
    assert PeriodSpec.of(PeriodPreset.ALL_TIME).resolve(NOW).start is None  # no user yet: no set-up day
    assert board(req=request(PeriodPreset.ALL_TIME)).period.start is None
