"""Mutations of status monitor definitions: create, update (including switching on and off), delete."""

from __future__ import annotations

import strawberry

from domain import monitors as dm
from domain.enums import ActivityType, Stage
from domain.errors import Conflict, NotFound, PermissionDenied
from domain.workflows import monitors as wf
from gql.resolvers.mutation import Deleted, mutation
from gql.schema import enums
from gql.schema.inputs import described, keep, optional
from gql.schema.monitors import ActivityState, MonitoredEntity, StatusMonitor, StatusRuleKind

VERSION = "The version you read; the change fails with a ConflictError if the monitor moved on since."


@strawberry.input(
    description="A status monitor's rule: a kind and exactly the parameters that kind takes (see "
    "StatusRuleKind); a parameter the kind does not take is a ValidationError on it."
)
class StatusMonitorRuleInput:
    kind: StatusRuleKind = described("What the rule tests.")  # type: ignore[valid-type]
    days: int | None = optional("A positive number of days (NO_ACTIVITY, STUCK_IN_STAGE, MANY_MEETINGS_NO_SALE).")
    weeks: int | None = optional("A positive number of weeks (TOO_MANY_ACTIVITIES).")
    months: int | None = optional("A positive number of months (NO_WON_OPPORTUNITY).")
    count: int | None = optional("A positive number of activities (TOO_MANY_ACTIVITIES, MANY_MEETINGS_NO_SALE).")
    activity_types: list[enums.ActivityType] | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Only these activity types count (NO_ACTIVITY, TOO_MANY_ACTIVITIES); "
        "left out or empty: every type.",
    )
    activity_state: ActivityState | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Only open or only done activities count (NO_ACTIVITY, TOO_MANY_ACTIVITIES); left out: ANY.",
    )
    stage: enums.Stage | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="STUCK_IN_STAGE only: only opportunities in this open stage."
    )

    def to_domain(self) -> dm.Rule:
        """The domain rule, validated by the domain (a ValidationError names `rule.<parameter>`)."""
        return dm.Rule(
            kind=dm.RuleKind(self.kind.value),
            days=self.days,
            weeks=self.weeks,
            months=self.months,
            count=self.count,
            activity_types=tuple(ActivityType(t.value) for t in self.activity_types or ()),
            activity_state=dm.ActivityState(self.activity_state.value) if self.activity_state else dm.ActivityState.ANY,
            stage=Stage(self.stage.value) if self.stage else None,
        )


@strawberry.input(description="A new status monitor: what it marks, its rule, and how its indicator looks.")
class CreateStatusMonitorInput:
    name: str = described("The indicator's name, unique in any case (at most 200 characters).")
    entity_type: MonitoredEntity = strawberry.field(  # type: ignore[valid-type]
        description="What it marks; the rule's kind must be able to judge it (else a ValidationError on `rule.kind`)."
    )
    rule: StatusMonitorRuleInput = described("What must hold for an entity to be marked.")
    description: str | None = optional("What the indicator means.")
    icon: str | None = optional("An icon name (default: `flag`).")
    colour: str | None = optional("A colour as #rrggbb (default: #d9534f).")
    priority: int = strawberry.field(default=0, description="Rank among an entity's indicators: higher first.")
    active: bool = strawberry.field(default=True, description="False to define it switched off.")


@strawberry.input(
    description="Changes to a status monitor; fields left out stay as they are. `active` switches it on or off."
)
class UpdateStatusMonitorInput:
    id: strawberry.ID = described("The status monitor.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    description: str | None = keep("New description (null clears it).")
    icon: str | None = keep("New icon name.")
    colour: str | None = keep("New colour as #rrggbb.")
    priority: int | None = keep("New priority.")
    entity_type: MonitoredEntity | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET, description="New type of entity to mark (the rule must be able to judge it)."
    )
    rule: StatusMonitorRuleInput | None = keep("A new rule; it replaces the whole rule.")
    active: bool | None = keep("True switches the monitor on, false switches it off.")


@strawberry.input(description="Identifies a status monitor to delete, with the version you read.")
class DeleteStatusMonitorInput:
    id: strawberry.ID = described("The status monitor.")
    version: int | None = optional(VERSION)


@strawberry.type(description="The status monitor as it is after the change.")
class StatusMonitorPayload:
    status_monitor: StatusMonitor = described("The status monitor, with its new version.")


@strawberry.type
class StatusMonitorMutations:
    @mutation(
        wf.create_status_monitor,
        CreateStatusMonitorInput,
        StatusMonitorPayload,
        errors=(NotFound, Conflict, PermissionDenied),
    )
    def create_status_monitor(self) -> None:
        """Define a status monitor: a typed rule that marks accounts, contacts or opportunities with its indicator while
        the rule holds."""

    @mutation(
        wf.update_status_monitor,
        UpdateStatusMonitorInput,
        StatusMonitorPayload,
        ids={"id": "StatusMonitor"},
        errors=(NotFound, Conflict, PermissionDenied),
    )
    def update_status_monitor(self) -> None:
        """Change a status monitor, or switch it on or off with `active`."""

    @mutation(
        wf.delete_status_monitor,
        DeleteStatusMonitorInput,
        Deleted("StatusMonitor"),
        ids={"id": "StatusMonitor"},
        errors=(NotFound, Conflict, PermissionDenied),
    )
    def delete_status_monitor(self) -> None:
        """Delete a status monitor; the indicators it set go with it."""


TYPES = [StatusMonitorPayload]
