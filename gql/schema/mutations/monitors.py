"""Mutations of status monitor definitions: create, update (including switching on and off), delete."""

from __future__ import annotations

import strawberry

from domain import monitors as dm
from domain.workflows import monitors as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, decode_optional, mutation, node_payload
from gql.schema import enums
from gql.schema.inputs import described, optional, ref, update_of
from gql.schema.monitors import ActivityState, MonitoredEntity, StatusMonitor, StatusRuleKind
from gql.schema.mutations.common import RESTRICTED

VERSION = "The version you read; the change fails with a ConflictError if the monitor moved on since."


@strawberry.input(
    description="A status monitor's rule: a kind and exactly the parameters that kind takes (see "
    "StatusRuleKind); a parameter the kind does not take is a ValidationError on it."
)
class StatusMonitorRuleInput:
    kind: StatusRuleKind = described("What the rule tests.")  # type: ignore[valid-type]
    days: int | None = optional("A positive number of days (NO_ACTIVITY, STUCK_IN_STAGE, MANY_MEETINGS_NO_SALE).")
    weeks: int | None = optional("A positive number of weeks (TOO_MANY_ACTIVITIES).")
    months: int | None = optional("A positive number of months (NO_WON_OPPORTUNITY, NO_OPEN_OR_WON_SALE).")
    count: int | None = optional("A positive number of activities (TOO_MANY_ACTIVITIES, MANY_MEETINGS_NO_SALE).")
    activity_types: list[enums.ActivityType] | None = optional(  # type: ignore[valid-type]
        "Only these activity types count (NO_ACTIVITY, TOO_MANY_ACTIVITIES; ACTIVITY_MISSING_IN_STAGE needs them); "
        "left out or empty: every type."
    )
    activity_state: ActivityState | None = optional(  # type: ignore[valid-type]
        "Only open or only done activities count (NO_ACTIVITY, TOO_MANY_ACTIVITIES); left out: ANY."
    )
    stage: enums.Stage | None = optional(
        "STUCK_IN_STAGE: only opportunities in this open stage; ACTIVITY_MISSING_IN_STAGE: the stage (required)."
    )  # type: ignore[valid-type]

    def to_domain(self, where: str) -> dm.Rule:
        """The domain rule, validated by the domain (a ValidationError names `rule.<parameter>`)."""
        return dm.Rule(
            kind=dm.RuleKind(self.kind.value),
            days=self.days,
            weeks=self.weeks,
            months=self.months,
            count=self.count,
            activity_types=tuple(self.activity_types or ()),
            activity_state=dm.ActivityState(self.activity_state.value) if self.activity_state else dm.ActivityState.ANY,
            stage=self.stage,
        )


@strawberry.input(
    description="Which rows a monitor judges: one selection (dynamic or static, of the monitor's entity type, whose "
    "criteria test no indicators) or some account categories (account and contact monitors)."
)
class StatusMonitorScopeInput:
    selection_id: strawberry.ID | None = optional("The selection whose members it judges.")
    categories: list[str] | None = optional("Accounts of these categories (contacts: of such accounts).")

    def to_domain(self, where: str) -> dm.MonitorScope:
        selection = decode_optional(self.selection_id, "Selection", f"{where}.selectionId")
        return dm.MonitorScope(selection_id=selection, categories=tuple(self.categories or ()))


@strawberry.input(description="A new status monitor: what it marks, its rule, and how its indicator looks.")
class CreateStatusMonitorInput:
    name: str = described("The indicator's name, unique in any case (at most 200 characters).", update="New name.")
    entity_type: MonitoredEntity = described(  # type: ignore[valid-type]
        "What it marks; the rule's kind must be able to judge it (else a ValidationError on `rule.kind`).",
        update="New type of entity to mark (the rule must be able to judge it).",
    )
    rule: StatusMonitorRuleInput = described(
        "What must hold for an entity to be marked.", update="A new rule; it replaces the whole rule."
    )
    description: str | None = optional("What the indicator means.", update="New description (null clears it).")
    icon: str | None = optional("An icon name (default: `flag`).", update="New icon name.")
    colour: str | None = optional("A colour as #rrggbb (default: #d9534f).", update="New colour as #rrggbb.")
    priority: int = optional("Rank among an entity's indicators: higher first.", 0, update="New priority.")
    active: bool = optional(
        "False to define it switched off.", True, update="True switches the monitor on, false switches it off."
    )
    scope: StatusMonitorScopeInput | None = optional(
        "Only these rows are judged (default: every row of its type).", update="A new scope; null: every row."
    )


UpdateStatusMonitorInput = update_of(
    CreateStatusMonitorInput,
    "Changes to a status monitor; fields left out stay as they are. `active` switches it on or off.",
    order=("name", "description", "icon", "colour", "priority", "entity_type", "rule", "active", "scope"),
    version=VERSION,
)
DeleteStatusMonitorInput = ref(
    "StatusMonitor", "Identifies a status monitor to delete, with the version you read.", version=VERSION
)
StatusMonitorPayload = node_payload(StatusMonitor)
create_status_monitor = update_status_monitor = mutation(wf, OWN_INPUT, StatusMonitorPayload, RESTRICTED)
delete_status_monitor = mutation(wf, DeleteStatusMonitorInput, Deleted("StatusMonitor"), RESTRICTED)
