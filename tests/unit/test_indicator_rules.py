"""Every status monitor rule decides whether it holds for an entity at a time, and when the answer next
changes with no data change (the instant a scheduler must look again), boundaries included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.enums import ActivityType, Stage
from domain.errors import ValidationError
from domain.indicators import (
    ActivityFact,
    Facts,
    OpportunityFact,
    TaskFact,
    Verdict,
    add_months,
    evaluate,
    indicator_cleared,
    indicator_set,
)
from domain.monitors import ActivityState, MonitoredEntity, Rule, RuleKind

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
CALL, MEETING, EMAIL = ActivityType.CALL, ActivityType.MEETING, ActivityType.EMAIL


def act(type_: ActivityType, at: datetime, done: bool = True, due_at: datetime | None = None) -> ActivityFact:
    return ActivityFact(type=type_, done=done, at=at, due_at=due_at)


def won(at: datetime) -> OpportunityFact:
    return OpportunityFact(stage=Stage.WON, since=at, closed_at=at)


def account(*activities: ActivityFact, opportunities: tuple = (), created: datetime = NOW - 1000 * DAY) -> Facts:
    return Facts(created_at=created, activities=activities, opportunities=opportunities)


def opportunity(
    stage: Stage = Stage.PROPOSAL,
    since: datetime = NOW - 10 * DAY,
    close: date | None = None,
    *activities: ActivityFact,
) -> Facts:
    me = OpportunityFact(
        stage=stage,
        since=since,
        closed_at=since if stage in (Stage.WON, Stage.LOST) else None,
        expected_close_date=close,
    )
    return Facts(created_at=since, activities=activities, opportunity=me)


def holds_until_and_after(rule: Rule, facts: Facts, flips_at: datetime) -> None:
    """Not holding a microsecond before `flips_at` (and saying so), holding from it on."""
    assert evaluate(rule, facts, flips_at - timedelta(microseconds=1)) == Verdict(False, flips_at)
    assert evaluate(rule, facts, flips_at).holds


class TestNoActivity:
    rule = Rule(kind=RuleKind.NO_ACTIVITY, days=180)

    def test_holds_from_exactly_the_period_after_the_last_activity_and_is_due_then(self):
        last = NOW - 30 * DAY
        facts = account(act(CALL, last), act(EMAIL, last - 50 * DAY))
        assert evaluate(self.rule, facts, NOW) == Verdict(False, last + 180 * DAY)
        holds_until_and_after(self.rule, facts, last + 180 * DAY)
        assert evaluate(self.rule, facts, last + 400 * DAY) == Verdict(True, None)

    def test_an_entity_younger_than_the_period_is_not_flagged_until_it_is_old_enough(self):
        created = NOW - 10 * DAY
        assert evaluate(self.rule, account(created=created), NOW) == Verdict(False, created + 180 * DAY)
        assert evaluate(self.rule, account(created=NOW - 180 * DAY), NOW).holds

    def test_a_planned_activity_counts_from_its_due_time(self):
        planned = act(CALL, NOW + 20 * DAY, done=False, due_at=NOW + 20 * DAY)
        assert evaluate(self.rule, account(planned), NOW) == Verdict(False, NOW + 200 * DAY)

    def test_only_the_given_types_and_state_count(self):
        rule = Rule(
            kind=RuleKind.NO_ACTIVITY, days=180, activity_types=(CALL, MEETING), activity_state=ActivityState.DONE
        )
        facts = account(act(EMAIL, NOW - DAY), act(CALL, NOW - DAY, done=False), act(MEETING, NOW - 200 * DAY))
        assert evaluate(rule, facts, NOW).holds
        open_only = Rule(kind=RuleKind.NO_ACTIVITY, days=180, activity_state=ActivityState.OPEN)
        assert evaluate(open_only, facts, NOW) == Verdict(False, NOW - DAY + 180 * DAY)


class TestNoWonOpportunity:
    rule = Rule(kind=RuleKind.NO_WON_OPPORTUNITY, months=3)

    def test_holds_three_calendar_months_after_the_last_win(self):
        win = datetime(2026, 5, 31, 9, 0, tzinfo=UTC)
        facts = account(opportunities=(won(win), won(win - 90 * DAY)))
        flips = datetime(2026, 8, 31, 9, 0, tzinfo=UTC)
        assert evaluate(self.rule, facts, NOW) == Verdict(False, flips)
        holds_until_and_after(self.rule, facts, flips)

    def test_lost_and_open_deals_are_no_purchase(self):
        lost = OpportunityFact(stage=Stage.LOST, since=NOW - DAY, closed_at=NOW - DAY)
        still_open = OpportunityFact(stage=Stage.NEGOTIATION, since=NOW - DAY)
        assert evaluate(self.rule, account(opportunities=(lost, still_open)), NOW).holds

    def test_month_ends_are_clipped(self):
        assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
        assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
        assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 14) == datetime(2028, 2, 15, tzinfo=UTC)


class TestTooManyActivities:
    rule = Rule(kind=RuleKind.TOO_MANY_ACTIVITIES, count=2, weeks=1, activity_types=(ActivityType.REQUEST,))

    def test_more_than_count_in_the_window_holds_until_the_oldest_leaves_it(self):
        times = [NOW - 6 * DAY, NOW - 2 * DAY, NOW - DAY]
        facts = account(*(act(ActivityType.REQUEST, t) for t in times), act(CALL, NOW))
        assert evaluate(self.rule, facts, NOW) == Verdict(True, NOW + DAY)  # the first leaves after 7 days
        assert evaluate(self.rule, facts, NOW + DAY) == Verdict(False, None)

    def test_exactly_count_does_not_hold_and_a_planned_one_makes_it_hold_when_its_time_comes(self):
        planned = act(ActivityType.REQUEST, NOW + 3 * DAY, done=False, due_at=NOW + 3 * DAY)
        facts = account(act(ActivityType.REQUEST, NOW - DAY), act(ActivityType.REQUEST, NOW - 2 * DAY), planned)
        holds_until_and_after(self.rule, facts, NOW + 3 * DAY)
        # then the one from two days ago leaves the window 7 days after it happened
        assert evaluate(self.rule, facts, NOW + 3 * DAY) == Verdict(True, NOW + 5 * DAY)

    def test_an_activity_is_in_the_window_from_its_time_to_just_before_the_period_ends(self):
        rule = Rule(kind=RuleKind.TOO_MANY_ACTIVITIES, count=1, weeks=1)
        facts = account(act(CALL, NOW), act(EMAIL, NOW))
        assert evaluate(rule, facts, NOW) == Verdict(True, NOW + 7 * DAY)
        assert not evaluate(rule, facts, NOW + 7 * DAY).holds


class TestManyMeetingsNoSale:
    rule = Rule(kind=RuleKind.MANY_MEETINGS_NO_SALE, count=2, days=30)

    def test_enough_meetings_and_no_win_in_the_window(self):
        facts = account(act(MEETING, NOW - 20 * DAY), act(MEETING, NOW - 5 * DAY), act(CALL, NOW))
        assert evaluate(self.rule, facts, NOW) == Verdict(True, NOW + 10 * DAY)

    def test_a_win_in_the_window_clears_it_until_the_win_leaves_the_window(self):
        meetings = [act(MEETING, NOW - DAY * n) for n in (1, 2, 3)]
        facts = account(*meetings, opportunities=(won(NOW - 25 * DAY),))
        # the win leaves the window after 30 days: at NOW + 5 days, with all three meetings still in it
        assert evaluate(self.rule, facts, NOW) == Verdict(False, NOW + 5 * DAY)
        holds_until_and_after(self.rule, facts, NOW + 5 * DAY)

    def test_one_meeting_short_is_not_many(self):
        assert evaluate(self.rule, account(act(MEETING, NOW - DAY)), NOW) == Verdict(False, None)


class TestOpportunityRules:
    def test_open_past_close_date_holds_from_midnight_utc_after_the_date(self):
        rule = Rule(kind=RuleKind.OPEN_PAST_CLOSE_DATE)
        facts = opportunity(Stage.PROPOSAL, NOW - 10 * DAY, date(2026, 6, 15))
        midnight = datetime(2026, 6, 16, tzinfo=UTC)
        assert evaluate(rule, facts, NOW) == Verdict(False, midnight)
        holds_until_and_after(rule, facts, midnight)
        assert evaluate(rule, opportunity(Stage.PROPOSAL, NOW, None), NOW) == Verdict(False, None)

    @pytest.mark.parametrize("stage", [Stage.WON, Stage.LOST])
    def test_closed_opportunities_are_never_late_stuck_or_unplanned(self, stage):
        facts = opportunity(stage, NOW - 400 * DAY, date(2025, 1, 1))
        for rule in (
            Rule(kind=RuleKind.OPEN_PAST_CLOSE_DATE),
            Rule(kind=RuleKind.STUCK_IN_STAGE, days=5),
            Rule(kind=RuleKind.NO_FUTURE_ACTIVITY),
        ):
            assert evaluate(rule, facts, NOW) == Verdict(False, None)

    def test_stuck_in_stage_counts_from_the_last_stage_change(self):
        rule = Rule(kind=RuleKind.STUCK_IN_STAGE, days=30)
        since = NOW - 10 * DAY
        holds_until_and_after(rule, opportunity(Stage.QUALIFICATION, since), since + 30 * DAY)
        only_proposal = Rule(kind=RuleKind.STUCK_IN_STAGE, days=30, stage=Stage.PROPOSAL)
        assert evaluate(only_proposal, opportunity(Stage.QUALIFICATION, NOW - 90 * DAY), NOW) == Verdict(False)
        assert evaluate(only_proposal, opportunity(Stage.PROPOSAL, NOW - 90 * DAY), NOW) == Verdict(True)

    def test_no_future_activity_holds_once_the_last_planned_one_is_due(self):
        rule = Rule(kind=RuleKind.NO_FUTURE_ACTIVITY)
        planned = [act(CALL, NOW + DAY * n, done=False, due_at=NOW + DAY * n) for n in (2, 5)]
        done_later = act(CALL, NOW + 9 * DAY, done=True, due_at=NOW + 9 * DAY)
        facts = opportunity(Stage.PROPOSAL, NOW - DAY, None, *planned, done_later)
        assert evaluate(rule, facts, NOW) == Verdict(False, NOW + 5 * DAY)
        holds_until_and_after(rule, facts, NOW + 5 * DAY)
        assert evaluate(rule, opportunity(Stage.PROPOSAL, NOW - DAY, None), NOW) == Verdict(True)


def test_a_verdict_never_falls_due_at_or_before_now():
    """The scheduler re-evaluates what is due at `now`: a due time that is not in the future would spin."""
    facts = account(
        act(MEETING, NOW), act(MEETING, NOW), act(ActivityType.REQUEST, NOW), opportunities=(won(NOW),), created=NOW
    )
    rules = [
        Rule(kind=RuleKind.NO_ACTIVITY, days=1),
        Rule(kind=RuleKind.NO_WON_OPPORTUNITY, months=1),
        Rule(kind=RuleKind.TOO_MANY_ACTIVITIES, count=1, weeks=1),
        Rule(kind=RuleKind.MANY_MEETINGS_NO_SALE, count=1, days=1),
    ]
    for rule in rules:
        moment = NOW - 3 * DAY
        for _ in range(10):
            verdict = evaluate(rule, facts, moment)
            if verdict.due_at is None:
                break
            assert verdict.due_at > moment
            moment = verdict.due_at


def test_indicator_events_name_the_entity_like_other_events_and_carry_the_monitor_and_times():
    at = datetime(2026, 6, 15, 12, tzinfo=UTC)
    made = indicator_set(MonitoredEntity.CONTACT, 7, 3, at)
    assert made.to_dict() == {
        "type": "StatusIndicatorSet",
        "entityType": "Contact",
        "entityId": 7,
        "data": {"monitorId": 3, "setAt": at.isoformat(), "at": at.isoformat()},
    }
    gone = indicator_cleared("OPPORTUNITY", 9, 3, at, at + DAY)
    assert (gone.type, gone.entity_type) == ("StatusIndicatorCleared", "Opportunity")
    assert gone.data == {
        "monitorId": 3,
        "setAt": at.isoformat(),
        "clearedAt": (at + DAY).isoformat(),
        "at": (at + DAY).isoformat(),
    }


class TestTaskOverdue:
    rule = Rule(kind=RuleKind.TASK_OVERDUE)

    @staticmethod
    def tasks(*tasks: TaskFact) -> Facts:
        return Facts(created_at=NOW - 100 * DAY, tasks=tasks)

    def test_an_open_task_is_overdue_from_its_due_time_on_and_the_rule_flips_then(self):
        holds_until_and_after(self.rule, self.tasks(TaskFact(due_at=NOW + 3 * DAY, done=False)), NOW + 3 * DAY)

    def test_the_earliest_due_time_to_come_is_when_it_flips(self):
        facts = self.tasks(TaskFact(due_at=NOW + 9 * DAY, done=False), TaskFact(due_at=NOW + 2 * DAY, done=False))
        assert evaluate(self.rule, facts, NOW) == Verdict(False, NOW + 2 * DAY)

    def test_done_tasks_and_tasks_without_a_due_time_never_count(self):
        facts = self.tasks(TaskFact(due_at=NOW - 5 * DAY, done=True), TaskFact(due_at=None, done=False))
        assert evaluate(self.rule, facts, NOW) == Verdict(False)

    def test_once_overdue_only_a_change_of_the_data_clears_it(self):
        facts = self.tasks(TaskFact(due_at=NOW - DAY, done=False), TaskFact(due_at=NOW + DAY, done=False))
        assert evaluate(self.rule, facts, NOW) == Verdict(True)

    def test_it_judges_any_entity_whatever_its_state(self):
        closed = Facts(
            created_at=NOW - 100 * DAY,
            opportunity=OpportunityFact(stage=Stage.LOST, since=NOW - 50 * DAY, closed_at=NOW - 50 * DAY),
            tasks=(TaskFact(due_at=NOW - DAY, done=False),),
        )
        assert evaluate(self.rule, closed, NOW).holds
        assert all(self.rule.applies_to(entity) for entity in MonitoredEntity)


# --- the rules the CRM guides name (issue 17) ---


def open_deal(closes: date | None = None) -> OpportunityFact:
    return OpportunityFact(stage=Stage.PROPOSAL, since=NOW - 10 * DAY, expected_close_date=closes)


def test_no_open_or_won_sale_holds_after_the_months_without_a_win_while_no_deal_is_open():
    rule = Rule(kind=RuleKind.NO_OPEN_OR_WON_SALE, months=3)
    last_win = NOW - 100 * DAY
    quiet = account(opportunities=(won(last_win),))
    assert evaluate(rule, quiet, NOW) == Verdict(True)
    recent = account(opportunities=(won(NOW - 20 * DAY),))
    assert evaluate(rule, recent, NOW) == Verdict(False, add_months(NOW - 20 * DAY, 3))
    assert evaluate(rule, account(opportunities=(won(last_win), open_deal())), NOW) == Verdict(False)
    young = account(created=NOW - 10 * DAY)
    assert evaluate(rule, young, NOW) == Verdict(False, add_months(NOW - 10 * DAY, 3))


def test_a_delayed_sale_is_an_open_deal_past_its_close_date_from_the_next_midnight():
    rule = Rule(kind=RuleKind.DELAYED_SALE)
    today = NOW.date()
    assert evaluate(rule, account(opportunities=(open_deal(today - DAY),)), NOW) == Verdict(True)
    later = account(opportunities=(open_deal(today + 2 * DAY), open_deal(today)))
    assert evaluate(rule, later, NOW) == Verdict(False, datetime.combine(today + DAY, datetime.min.time(), UTC))
    assert evaluate(rule, account(opportunities=(won(NOW - 5 * DAY), open_deal())), NOW) == Verdict(False)


def test_an_activity_missing_in_a_stage_holds_only_in_that_stage_without_such_an_activity():
    rule = Rule(kind=RuleKind.ACTIVITY_MISSING_IN_STAGE, stage=Stage.NEGOTIATION, activity_types=(MEETING,))
    negotiating = OpportunityFact(stage=Stage.NEGOTIATION, since=NOW - 5 * DAY)
    assert evaluate(rule, Facts(created_at=NOW - 50 * DAY, opportunity=negotiating), NOW) == Verdict(True)
    met = Facts(created_at=NOW - 50 * DAY, opportunity=negotiating, activities=(act(MEETING, NOW - DAY),))
    assert evaluate(rule, met, NOW) == Verdict(False)
    called = Facts(created_at=NOW - 50 * DAY, opportunity=negotiating, activities=(act(CALL, NOW - DAY),))
    assert evaluate(rule, called, NOW) == Verdict(True)
    proposing = OpportunityFact(stage=Stage.PROPOSAL, since=NOW - 5 * DAY)
    assert evaluate(rule, Facts(created_at=NOW - 50 * DAY, opportunity=proposing), NOW) == Verdict(False)
    with pytest.raises(ValidationError):
        Rule(kind=RuleKind.ACTIVITY_MISSING_IN_STAGE, stage=Stage.NEGOTIATION)
