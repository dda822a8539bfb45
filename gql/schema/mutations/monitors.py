"""Mutations of status monitor definitions: create, update (including switching on and off), delete."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain import monitors as dm
from domain.enums import ActivityType, Stage
from domain.workflows import monitors as wf
from gql import ids
from gql.resolvers.mutate import node, pk, run
from gql.schema import enums as e
from gql.schema.errors import UserError, result
from gql.schema.inputs import opt
from gql.schema.monitors import ActivityState, MonitoredEntity, StatusMonitor, StatusRuleKind
from gql.schema.mutations.common import DeletedPayload
from persistence import tables as t

VERSION = "The version you read; the change fails with a ConflictError if the monitor moved on since."
INPUT = "What to do; see the input type."


@strawberry.input(
    description="A status monitor's rule: a kind and exactly the parameters that kind takes (see "
    "StatusRuleKind); a parameter the kind does not take is a ValidationError on it."
)
class StatusMonitorRuleInput:
    kind: StatusRuleKind = strawberry.field(description="What the rule tests.")  # type: ignore[valid-type]
    days: int | None = strawberry.field(
        default=None, description="A positive number of days (NO_ACTIVITY, STUCK_IN_STAGE, MANY_MEETINGS_NO_SALE)."
    )
    weeks: int | None = strawberry.field(default=None, description="A positive number of weeks (TOO_MANY_ACTIVITIES).")
    months: int | None = strawberry.field(default=None, description="A positive number of months (NO_WON_OPPORTUNITY).")
    count: int | None = strawberry.field(
        default=None, description="A positive number of activities (TOO_MANY_ACTIVITIES, MANY_MEETINGS_NO_SALE)."
    )
    activity_types: list[e.ActivityType] | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Only these activity types count (NO_ACTIVITY, TOO_MANY_ACTIVITIES); "
        "left out or empty: every type.",
    )
    activity_state: ActivityState | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Only open or only done activities count (NO_ACTIVITY, TOO_MANY_ACTIVITIES); left out: ANY.",
    )
    stage: e.Stage | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="STUCK_IN_STAGE only: only opportunities in this open stage."
    )


def to_rule(value: StatusMonitorRuleInput) -> dm.Rule:
    """The domain rule, validated by the domain (a ValidationError names `rule.<parameter>`)."""
    return dm.Rule(
        kind=dm.RuleKind(value.kind.value),
        days=value.days,
        weeks=value.weeks,
        months=value.months,
        count=value.count,
        activity_types=tuple(ActivityType(t.value) for t in value.activity_types or ()),
        activity_state=dm.ActivityState(value.activity_state.value) if value.activity_state else dm.ActivityState.ANY,
        stage=Stage(value.stage.value) if value.stage else None,
    )


@strawberry.input(description="A new status monitor: what it marks, its rule, and how its indicator looks.")
class CreateStatusMonitorInput:
    name: str = strawberry.field(description="The indicator's name, unique in any case (at most 200 characters).")
    entity_type: MonitoredEntity = strawberry.field(  # type: ignore[valid-type]
        description="What it marks; the rule's kind must be able to judge it (else a ValidationError on `rule.kind`)."
    )
    rule: StatusMonitorRuleInput = strawberry.field(description="What must hold for an entity to be marked.")
    description: str | None = strawberry.field(default=None, description="What the indicator means.")
    icon: str | None = strawberry.field(default=None, description="An icon name (default: `flag`).")
    colour: str | None = strawberry.field(default=None, description="A colour as #rrggbb (default: #d9534f).")
    priority: int = strawberry.field(default=0, description="Rank among an entity's indicators: higher first.")
    active: bool = strawberry.field(default=True, description="False to define it switched off.")


@strawberry.input(
    description="Changes to a status monitor; fields left out stay as they are. `active` switches it on or off."
)
class UpdateStatusMonitorInput:
    id: strawberry.ID = strawberry.field(description="The status monitor.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description (null clears it)."
    )
    icon: str | None = strawberry.field(default=strawberry.UNSET, description="New icon name.")
    colour: str | None = strawberry.field(default=strawberry.UNSET, description="New colour as #rrggbb.")
    priority: int | None = strawberry.field(default=strawberry.UNSET, description="New priority.")
    entity_type: MonitoredEntity | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET, description="New type of entity to mark (the rule must be able to judge it)."
    )
    rule: StatusMonitorRuleInput | None = strawberry.field(
        default=strawberry.UNSET, description="A new rule; it replaces the whole rule."
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True switches the monitor on, false switches it off."
    )


@strawberry.input(description="Identifies a status monitor to delete, with the version you read.")
class DeleteStatusMonitorInput:
    id: strawberry.ID = strawberry.field(description="The status monitor.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.type(description="The status monitor as it is after the change.")
class StatusMonitorPayload:
    status_monitor: StatusMonitor = strawberry.field(description="The status monitor, with its new version.")


CreateStatusMonitorResult = result("CreateStatusMonitorResult", StatusMonitorPayload)
UpdateStatusMonitorResult = result("UpdateStatusMonitorResult", StatusMonitorPayload)
DeleteStatusMonitorResult = result("DeleteStatusMonitorResult", DeletedPayload)


def _monitor(value: strawberry.ID) -> int:
    return pk(value, "StatusMonitor", "id")


def _enum(value, convert):  # noqa: ANN001, ANN202
    if value is strawberry.UNSET:
        return opt(value)
    return None if value is None else convert(value.value)


async def monitor_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return StatusMonitorPayload(status_monitor=await node(info, StatusMonitor, t.status_monitors, outcome.id))


@strawberry.type
class StatusMonitorMutations:
    @strawberry.mutation(
        description="Define a status monitor: a typed rule that marks accounts, contacts or "
        "opportunities with its indicator while the rule holds."
    )
    async def create_status_monitor(
        self,
        info: Info,
        input: Annotated[CreateStatusMonitorInput, strawberry.argument(description=INPUT)],
    ) -> CreateStatusMonitorResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_status_monitor(
                wf.CreateStatusMonitor(
                    name=input.name,
                    entity_type=dm.MonitoredEntity(input.entity_type.value),
                    rule=to_rule(input.rule),
                    description=input.description,
                    icon=input.icon,
                    colour=input.colour,
                    priority=input.priority,
                    active=input.active,
                ),
                uow,
            )

        return await monitor_payload(info, await run(info, work))

    @strawberry.mutation(description="Change a status monitor, or switch it on or off with `active`.")
    async def update_status_monitor(
        self,
        info: Info,
        input: Annotated[UpdateStatusMonitorInput, strawberry.argument(description=INPUT)],
    ) -> UpdateStatusMonitorResult:
        async def work(uow):  # noqa: ANN001, ANN202
            rule = input.rule
            return await wf.update_status_monitor(
                wf.UpdateStatusMonitor(
                    id=_monitor(input.id),
                    version=input.version,
                    name=opt(input.name),
                    description=opt(input.description),
                    icon=opt(input.icon),
                    colour=opt(input.colour),
                    priority=opt(input.priority),
                    entity_type=_enum(input.entity_type, dm.MonitoredEntity),
                    rule=opt(rule) if rule is None or rule is strawberry.UNSET else to_rule(rule),
                    active=opt(input.active),
                ),
                uow,
            )

        return await monitor_payload(info, await run(info, work))

    @strawberry.mutation(description="Delete a status monitor; the indicators it set go with it.")
    async def delete_status_monitor(
        self,
        info: Info,
        input: Annotated[DeleteStatusMonitorInput, strawberry.argument(description=INPUT)],
    ) -> DeleteStatusMonitorResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_status_monitor(
                wf.DeleteStatusMonitor(id=_monitor(input.id), version=input.version), uow
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return DeletedPayload(deleted_id=strawberry.ID(ids.encode("StatusMonitor", outcome)))


TYPES = [StatusMonitorPayload]
