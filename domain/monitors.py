"""Status monitors (after SuperOffice SAINT): a typed rule over accounts, contacts, opportunities or leads
that marks each entity with a status indicator while the rule holds. Evaluation is the realtime issue's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from domain.base import Entity, required
from domain.errors import ValidationError
from domain.stages import StageCatalog


class MonitoredEntity(str, Enum):
    ACCOUNT = "ACCOUNT"
    CONTACT = "CONTACT"
    OPPORTUNITY = "OPPORTUNITY"
    LEAD = "LEAD"


class ActivityState(str, Enum):
    ANY = "ANY"
    OPEN = "OPEN"
    DONE = "DONE"


class RuleKind(str, Enum):
    NO_ACTIVITY = "NO_ACTIVITY"  # no activity of the types within the last `days`
    NO_WON_OPPORTUNITY = "NO_WON_OPPORTUNITY"  # no opportunity won within the last `months`
    TOO_MANY_ACTIVITIES = "TOO_MANY_ACTIVITIES"  # more than `count` activities of the types within `weeks`
    OPEN_PAST_CLOSE_DATE = "OPEN_PAST_CLOSE_DATE"  # still open after its expected close date
    STUCK_IN_STAGE = "STUCK_IN_STAGE"  # in its stage (or in `stage`) for more than `days`
    NO_FUTURE_ACTIVITY = "NO_FUTURE_ACTIVITY"  # open, and nothing scheduled from now on
    MANY_MEETINGS_NO_SALE = "MANY_MEETINGS_NO_SALE"  # at least `count` meetings within `days`, nothing won
    TASK_OVERDUE = "TASK_OVERDUE"  # an open task on it is past its due time
    CONTRACT_EXPIRING = "CONTRACT_EXPIRING"  # an active contract of it ends within `days`
    NO_OPEN_OR_WON_SALE = "NO_OPEN_OR_WON_SALE"  # no open opportunity, and none won within the last `months`
    DELAYED_SALE = "DELAYED_SALE"  # one of its open opportunities is past its expected close date
    ACTIVITY_MISSING_IN_STAGE = "ACTIVITY_MISSING_IN_STAGE"  # in `stage`, with no activity of the types


ACCOUNT, CONTACT, OPPORTUNITY, LEAD = (
    MonitoredEntity.ACCOUNT,
    MonitoredEntity.CONTACT,
    MonitoredEntity.OPPORTUNITY,
    MonitoredEntity.LEAD,
)
# What each rule can be about (a contact is judged by its account's activities and deals), and the
# parameters it takes: required ones must be given and positive, no others may be.
RULES: dict[RuleKind, tuple[frozenset[MonitoredEntity], frozenset[str]]] = {
    RuleKind.NO_ACTIVITY: (frozenset({ACCOUNT, CONTACT, OPPORTUNITY}), frozenset({"days"})),
    RuleKind.NO_WON_OPPORTUNITY: (frozenset({ACCOUNT, CONTACT}), frozenset({"months"})),
    RuleKind.TOO_MANY_ACTIVITIES: (frozenset({ACCOUNT, CONTACT, OPPORTUNITY}), frozenset({"count", "weeks"})),
    RuleKind.OPEN_PAST_CLOSE_DATE: (frozenset({OPPORTUNITY}), frozenset()),
    RuleKind.STUCK_IN_STAGE: (frozenset({OPPORTUNITY}), frozenset({"days"})),
    RuleKind.NO_FUTURE_ACTIVITY: (frozenset({OPPORTUNITY}), frozenset()),
    RuleKind.MANY_MEETINGS_NO_SALE: (frozenset({ACCOUNT, CONTACT}), frozenset({"count", "days"})),
    RuleKind.TASK_OVERDUE: (frozenset({ACCOUNT, CONTACT, OPPORTUNITY, LEAD}), frozenset()),
    RuleKind.CONTRACT_EXPIRING: (frozenset({ACCOUNT, OPPORTUNITY}), frozenset({"days"})),
    RuleKind.NO_OPEN_OR_WON_SALE: (frozenset({ACCOUNT, CONTACT}), frozenset({"months"})),
    RuleKind.DELAYED_SALE: (frozenset({ACCOUNT, CONTACT}), frozenset()),
    RuleKind.ACTIVITY_MISSING_IN_STAGE: (frozenset({OPPORTUNITY}), frozenset()),
}
_NUMBERS = ("days", "weeks", "months", "count")
_USES_TYPES = {RuleKind.NO_ACTIVITY, RuleKind.TOO_MANY_ACTIVITIES, RuleKind.ACTIVITY_MISSING_IN_STAGE}
_USES_STAGE = {RuleKind.STUCK_IN_STAGE, RuleKind.ACTIVITY_MISSING_IN_STAGE}


@dataclass(frozen=True)
class Rule:
    kind: RuleKind
    days: int | None = None
    weeks: int | None = None
    months: int | None = None
    count: int | None = None
    activity_types: tuple[str, ...] = ()  # keys of the activity types (checked by the workflows)
    activity_state: ActivityState = ActivityState.ANY
    stage: str | None = None  # a stage's key (workflows check it is an open one: `check_stage`)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", RuleKind(self.kind))
        object.__setattr__(self, "activity_types", tuple(str(getattr(t, "value", t)) for t in self.activity_types))
        object.__setattr__(self, "activity_state", ActivityState(self.activity_state))
        if self.stage is not None:
            object.__setattr__(self, "stage", self.stage.value if isinstance(self.stage, Enum) else str(self.stage))
        _, needed = RULES[self.kind]
        for name in _NUMBERS:
            value = getattr(self, name)
            if name in needed and (value is None or value <= 0):
                raise ValidationError(f"rule.{name}", f"{self.kind.value} needs a positive {name}")
            if name not in needed and value is not None:
                raise ValidationError(f"rule.{name}", f"{self.kind.value} takes no {name}")
        if self.kind not in _USES_TYPES and (self.activity_types or self.activity_state is not ActivityState.ANY):
            raise ValidationError("rule.activityTypes", f"{self.kind.value} takes no activity filter")
        if self.stage is not None and self.kind not in _USES_STAGE:
            raise ValidationError(
                "rule.stage", "only STUCK_IN_STAGE and ACTIVITY_MISSING_IN_STAGE take a stage, and only an open one"
            )
        if self.kind is RuleKind.ACTIVITY_MISSING_IN_STAGE and (self.stage is None or not self.activity_types):
            raise ValidationError("rule.stage", "ACTIVITY_MISSING_IN_STAGE needs a stage and activity types")

    def check_stage(self, stages: StageCatalog) -> None:
        """The stage a rule names is an open one of the catalogue (a write: so active too)."""
        if self.stage is not None:
            stage = stages.usable(self.stage, "rule.stage")
            if not stage.is_open:
                raise ValidationError(
                    "rule.stage", "only STUCK_IN_STAGE and ACTIVITY_MISSING_IN_STAGE take a stage, and only an open one"
                )

    def applies_to(self, entity: MonitoredEntity) -> bool:
        return entity in RULES[self.kind][0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "days": self.days,
            "weeks": self.weeks,
            "months": self.months,
            "count": self.count,
            "activity_types": list(self.activity_types),
            "activity_state": self.activity_state.value,
            "stage": self.stage,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        return cls(**{**data, "activity_types": tuple(data.get("activity_types") or ())})


MAX_CATEGORIES = 50


@dataclass(frozen=True)
class MonitorScope:
    """Which rows a monitor judges: the members of one selection (of the monitor's entity type), or accounts
    of some categories (for contacts: their account's). Rows outside never carry its indicator."""

    selection_id: int | None = None
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(dict.fromkeys(c.strip() for c in self.categories)))
        if (self.selection_id is None) == (not self.categories):
            raise ValidationError("scope", "a scope is one selection or some categories")
        if len(self.categories) > MAX_CATEGORIES or any(not c or len(c) > 100 for c in self.categories):
            raise ValidationError("scope.categories", f"1 to {MAX_CATEGORIES} categories of 1 to 100 characters")

    def to_dict(self) -> dict[str, Any]:
        if self.selection_id is not None:
            return {"selection": self.selection_id}
        return {"categories": list(self.categories)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorScope:
        return cls(selection_id=data.get("selection"), categories=tuple(data.get("categories") or ()))


_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(kw_only=True)
class StatusMonitor(Entity):
    name: str
    entity_type: MonitoredEntity
    rule: Rule
    description: str | None = None
    icon: str = "flag"
    colour: str = "#d9534f"
    priority: int = 0
    active: bool = True
    scope: MonitorScope | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.entity_type = MonitoredEntity(self.entity_type)
        if self.scope is not None and self.scope.categories and self.entity_type not in (ACCOUNT, CONTACT):
            raise ValidationError("scope.categories", "only account and contact monitors are scoped to categories")
        if not self.rule.applies_to(self.entity_type):
            raise ValidationError(
                "rule.kind", f"{self.rule.kind.value} cannot mark an entity of type {self.entity_type.value}"
            )
        if not _COLOUR.match(self.colour):
            raise ValidationError("colour", f"{self.colour!r} is not a colour like #d9534f")


@dataclass(kw_only=True)
class StatusIndicator:
    """A monitor's mark on one entity, present exactly while the monitor's rule holds for it."""

    monitor_id: int
    entity_type: MonitoredEntity
    entity_id: int
    set_at: datetime
    id: int | None = None
