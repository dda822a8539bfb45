"""Status indicators: whether a monitor's rule holds for one entity at a given time, and when the
answer next changes by time alone (`due_at`), so a scheduler can flip it with no request.

What counts (the same for the incremental path, the scheduler and a full re-evaluation):
- An activity's time is when it happened (`occurred_at`), else when it is due (`due_at`), else when
  it was logged (`created_at`). A planned activity therefore counts from its due time on.
- An opportunity is judged by its own activities; an account by the activities on it and on its
  opportunities; a contact by its account's activities and opportunities (a contact without an
  account, a partner's consultant, is never marked). Activities on leads and partners count for no one.
- "Within the last N days" at `now` means in the window (now - N days, now]: an activity enters the
  window at its time and leaves it N days later. Activities after `now` are not in it yet.
- NO_ACTIVITY and NO_WON_OPPORTUNITY measure silence since the later of the last matching activity
  (or won deal) and the entity's creation: an entity younger than the period is not flagged. They hold
  from exactly `last + period` on (months are calendar months, the day clipped to the month's end).
- OPEN_PAST_CLOSE_DATE: a date ends at midnight UTC; an open opportunity is past its expected close
  date from 00:00 UTC of the following day.
- STUCK_IN_STAGE: in the stage since `stage_changed_at` (else since it was created), held from
  `since + days` on.
- NO_FUTURE_ACTIVITY: an open opportunity holds unless one of its open (not done) activities is due
  strictly after `now`; it flips at the latest such due time.
- MANY_MEETINGS_NO_SALE: at least `count` meetings (open or done) in the window of `days` days, and no
  opportunity won (closed_at) in that same window.
- NO_OPEN_OR_WON_SALE (accounts; contacts by their account): no open opportunity, and silence since the later
  of the last win and the account's creation for `months` (as NO_WON_OPPORTUNITY); an open deal ends it at once.
- DELAYED_SALE (accounts; contacts by their account): one of its open opportunities is past its expected close
  date (as OPEN_PAST_CLOSE_DATE), from 00:00 UTC after the earliest such date.
- ACTIVITY_MISSING_IN_STAGE: an open opportunity in `stage` with no activity of `activity_types` (in
  `activity_state`) on it; it changes only with the data.
- TASK_OVERDUE: an open (not done) task is overdue from its due time on (due_at <= now); it holds while
  one of the entity's tasks is, whatever state the entity is in, and flips at the earliest due time to
  come. An opportunity, a contact or a lead is judged by the tasks attached to it; an account by those
  on it, on its opportunities and on its contacts (as for activities, a contact without an account is
  never marked).
- CONTRACT_EXPIRING: an active contract with an end (time-based) ends within `days` days: it holds from
  `days` before the contract's end (a date ends at 00:00 UTC of the next day) until that end, when the
  scheduler ends the contract. An account is judged by its contracts, an opportunity by those sold with
  it. A cancelled or expired contract counts for nothing; a renewal moves the window with the end."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain.enums import ActivityType
from domain.events import DomainEvent
from domain.monitors import ActivityState, MonitoredEntity, Rule, RuleKind
from domain.stages import DEFAULT_CATALOG, StageKind

# The entity type of indicator events, as the other events name them.
EVENT_ENTITY_TYPE = {
    MonitoredEntity.ACCOUNT: "Account",
    MonitoredEntity.CONTACT: "Contact",
    MonitoredEntity.OPPORTUNITY: "Opportunity",
    MonitoredEntity.LEAD: "Lead",
}


@dataclass(frozen=True)
class ActivityFact:
    type: str  # a key of the activity types
    done: bool
    at: datetime  # occurred_at, else due_at, else created_at
    due_at: datetime | None = None

    @classmethod
    def of(
        cls,
        type: str | ActivityType,
        done: bool,
        occurred_at: datetime | None,
        due_at: datetime | None,
        created_at: datetime,
    ) -> ActivityFact:
        return cls(str(getattr(type, "value", type)), bool(done), occurred_at or due_at or created_at, due_at)


@dataclass(frozen=True)
class OpportunityFact:
    stage: str  # its stage's key
    since: datetime  # in this stage since: stage_changed_at, else created_at
    closed_at: datetime | None = None
    expected_close_date: date | None = None
    # Its stage's kind, from the stage catalogue (persistence gives it; left out: the seeded stages' kinds).
    kind: StageKind | None = None

    def __post_init__(self) -> None:
        stage = getattr(self.stage, "value", self.stage)
        object.__setattr__(self, "stage", stage)
        object.__setattr__(self, "kind", StageKind(self.kind) if self.kind else DEFAULT_CATALOG.kind(stage))

    @property
    def is_open(self) -> bool:
        return self.kind is StageKind.OPEN

    @property
    def won_at(self) -> datetime | None:
        return self.closed_at if self.kind is StageKind.WON else None


@dataclass(frozen=True)
class TaskFact:
    due_at: datetime | None
    done: bool


@dataclass(frozen=True)
class ContractFact:
    ends_on: date  # an active contract's end date (contracts that are not active are not facts)


@dataclass(frozen=True)
class Facts:
    """What the rules know about one entity: when it was created, the activities that count for it,
    the opportunities that count for it (an account's or a contact's account's), for an opportunity the
    opportunity itself, and the tasks that count for it."""

    created_at: datetime
    activities: tuple[ActivityFact, ...] = ()
    opportunities: tuple[OpportunityFact, ...] = ()
    opportunity: OpportunityFact | None = None
    tasks: tuple[TaskFact, ...] = ()
    contracts: tuple[ContractFact, ...] = ()


@dataclass(frozen=True)
class Verdict:
    holds: bool
    due_at: datetime | None = None  # when, with no data change, `holds` next changes (always after now)


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def end_of_day(day: date) -> datetime:
    """The instant a date is over: 00:00 UTC of the next day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def _matching(rule: Rule, activities: Iterable[ActivityFact]) -> list[ActivityFact]:
    types = set(rule.activity_types)
    state = rule.activity_state
    return [
        a
        for a in activities
        if (not types or a.type in types) and (state is ActivityState.ANY or (state is ActivityState.DONE) == a.done)
    ]


def _from(ends: datetime, now: datetime) -> Verdict:
    """Holds from `ends` on."""
    return Verdict(True) if now >= ends else Verdict(False, ends)


def _windowed(
    now: datetime, series: list[tuple[list[datetime], timedelta]], holds_with: Callable[[list[int]], bool]
) -> Verdict:
    """Rules over how many items of each series lie in their window (t <= moment < t + width): whether
    they hold now, and the first later instant at which the counts make the answer change."""
    counts = [sum(1 for t in times if t <= now < t + width) for times, width in series]
    holds = holds_with(counts)
    changes: dict[datetime, list[int]] = {}
    for index, (times, width) in enumerate(series):
        for t in times:
            if t > now:
                changes.setdefault(t, [0] * len(series))[index] += 1
            if t + width > now:
                changes.setdefault(t + width, [0] * len(series))[index] -= 1
    for moment in sorted(changes):
        counts = [c + d for c, d in zip(counts, changes[moment])]
        if holds_with(counts) != holds:
            return Verdict(holds, moment)
    return Verdict(holds)


def evaluate(rule: Rule, facts: Facts, now: datetime) -> Verdict:
    """Whether `rule` holds for the entity described by `facts` at `now`, and when that next changes."""
    kind = rule.kind
    if kind is RuleKind.NO_ACTIVITY:
        times = [a.at for a in _matching(rule, facts.activities)]
        last = max([facts.created_at, *times])
        return _from(last + timedelta(days=rule.days or 0), now)
    if kind is RuleKind.NO_WON_OPPORTUNITY:
        wins = [o.won_at for o in facts.opportunities if o.won_at is not None]
        last = max([facts.created_at, *wins])
        return _from(add_months(last, rule.months or 0), now)
    if kind is RuleKind.TOO_MANY_ACTIVITIES:
        times = [a.at for a in _matching(rule, facts.activities)]
        limit = rule.count or 0
        return _windowed(now, [(times, timedelta(weeks=rule.weeks or 0))], lambda c: c[0] > limit)
    if kind is RuleKind.MANY_MEETINGS_NO_SALE:
        width = timedelta(days=rule.days or 0)
        meetings = [a.at for a in facts.activities if a.type == ActivityType.MEETING.value]
        wins = [o.won_at for o in facts.opportunities if o.won_at is not None]
        least = rule.count or 0
        return _windowed(now, [(meetings, width), (wins, width)], lambda c: c[0] >= least and c[1] == 0)
    if kind is RuleKind.NO_OPEN_OR_WON_SALE:
        if any(o.is_open for o in facts.opportunities):
            return Verdict(False)
        wins = [o.won_at for o in facts.opportunities if o.won_at is not None]
        return _from(add_months(max([facts.created_at, *wins]), rule.months or 0), now)
    if kind is RuleKind.DELAYED_SALE:
        ends = [
            end_of_day(o.expected_close_date)
            for o in facts.opportunities
            if o.is_open and o.expected_close_date is not None
        ]
        return _from(min(ends), now) if ends else Verdict(False)
    if kind is RuleKind.TASK_OVERDUE:
        open_due = [t.due_at for t in facts.tasks if not t.done and t.due_at is not None]
        if any(due <= now for due in open_due):
            return Verdict(True)
        return Verdict(False, min(open_due)) if open_due else Verdict(False)
    if kind is RuleKind.CONTRACT_EXPIRING:
        width = timedelta(days=rule.days or 0)
        starts = [end_of_day(c.ends_on) - width for c in facts.contracts]
        return _windowed(now, [(starts, width)], lambda c: c[0] > 0)
    opportunity = facts.opportunity
    if opportunity is None or not opportunity.is_open:
        return Verdict(False)  # closed opportunities are neither late, stuck nor unplanned
    if kind is RuleKind.OPEN_PAST_CLOSE_DATE:
        if opportunity.expected_close_date is None:
            return Verdict(False)
        return _from(end_of_day(opportunity.expected_close_date), now)
    if kind is RuleKind.STUCK_IN_STAGE:
        if rule.stage is not None and opportunity.stage != rule.stage:
            return Verdict(False)
        return _from(opportunity.since + timedelta(days=rule.days or 0), now)
    if kind is RuleKind.ACTIVITY_MISSING_IN_STAGE:
        return Verdict(opportunity.stage == rule.stage and not _matching(rule, facts.activities))
    if kind is RuleKind.NO_FUTURE_ACTIVITY:
        planned = [a.due_at for a in facts.activities if not a.done and a.due_at is not None and a.due_at > now]
        return Verdict(False, max(planned)) if planned else Verdict(True)
    raise ValueError(f"no evaluation for {kind}")


# --- events ---


@dataclass(frozen=True, kw_only=True)
class StatusIndicatorEvent(DomainEvent):
    """An indicator set on or cleared from one account, contact, opportunity or lead. Unlike other events,
    the entity type is per event (the class attribute of DomainEvent is shadowed by a real field)."""

    entity_type: str = field()  # type: ignore[misc]  # "Account", "Contact", "Opportunity" or "Lead"

    @classmethod
    def about(cls, entity: MonitoredEntity | str, entity_id: int, **data: Any) -> StatusIndicatorEvent:
        return cls(entity_type=EVENT_ENTITY_TYPE[MonitoredEntity(entity)], entity_id=entity_id, data=data)


@dataclass(frozen=True, kw_only=True)
class StatusIndicatorSet(StatusIndicatorEvent):
    """A monitor's rule began to hold for the entity (data: monitorId, setAt, at)."""


@dataclass(frozen=True, kw_only=True)
class StatusIndicatorCleared(StatusIndicatorEvent):
    """A monitor's rule stopped holding for the entity, or the monitor or the entity went away
    (data: monitorId, setAt, clearedAt, at)."""


def indicator_set(entity: MonitoredEntity | str, entity_id: int, monitor_id: int, at: datetime) -> StatusIndicatorSet:
    return StatusIndicatorSet.about(
        entity,
        entity_id,
        monitorId=monitor_id,
        setAt=at.isoformat(),  # type: ignore[return-value]
        at=at.isoformat(),
    )


def indicator_cleared(
    entity: MonitoredEntity | str, entity_id: int, monitor_id: int, set_at: datetime, at: datetime
) -> StatusIndicatorCleared:
    return StatusIndicatorCleared.about(
        entity,
        entity_id,
        monitorId=monitor_id,  # type: ignore[return-value]
        setAt=set_at.isoformat(),
        clearedAt=at.isoformat(),
        at=at.isoformat(),
    )
