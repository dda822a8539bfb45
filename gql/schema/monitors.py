"""Status monitors as read: the definitions (a typed rule over accounts, contacts, opportunities or leads and
the indicator it sets), their enums, and the filter and order of the `statusMonitors` list."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from domain import monitors
from gql.schema import enums
from gql.schema.base import Node, described_enum, needs
from gql.schema.filters import SEARCH, _f, order_input
from persistence import tables

if TYPE_CHECKING:
    from gql.schema.selections import Selection

MonitoredEntity = described_enum(
    monitors.MonitoredEntity,
    "MonitoredEntity",
    "What a status monitor marks.",
    {
        "ACCOUNT": "Accounts.",
        "CONTACT": "Contacts (judged by their account's activities and opportunities).",
        "OPPORTUNITY": "Opportunities.",
        "LEAD": "Leads (only TASK_OVERDUE applies to them).",
    },
)

StatusRuleKind = described_enum(
    monitors.RuleKind,
    "StatusRuleKind",
    "What a status monitor's rule tests; each kind takes its own parameters.",
    {
        "NO_ACTIVITY": "No activity (of `activityTypes`, in `activityState`) within the last `days` days, e.g. "
        '"not followed up in 6 months". Accounts, contacts and opportunities.',
        "NO_WON_OPPORTUNITY": 'No opportunity won within the last `months` months ("no purchase in 3 months"). '
        "Accounts and contacts.",
        "TOO_MANY_ACTIVITIES": "More than `count` activities (of `activityTypes`, in `activityState`) within the last "
        '`weeks` weeks ("too many requests"). Accounts, contacts and opportunities.',
        "OPEN_PAST_CLOSE_DATE": "An open opportunity past its expected close date. Opportunities; no parameters.",
        "STUCK_IN_STAGE": "An open opportunity in its current stage (or only in `stage`, when given) for more than "
        "`days` days. Opportunities.",
        "NO_FUTURE_ACTIVITY": "An open opportunity with no activity scheduled from now on. Opportunities; no parameters.",
        "MANY_MEETINGS_NO_SALE": "At least `count` meetings within the last `days` days and no opportunity won in that "
        "time. Accounts and contacts.",
        "NO_OPEN_OR_WON_SALE": 'No open opportunity and none won within the last `months` months ("no open or won '
        'sale in N months"). Accounts and contacts (by their account).',
        "DELAYED_SALE": "One of its open opportunities is past its expected close date (a delayed sale). Accounts "
        "and contacts (by their account); no parameters.",
        "ACTIVITY_MISSING_IN_STAGE": "An open opportunity in `stage` with no activity of `activityTypes` (in "
        '`activityState`) on it ("no meeting while in NEGOTIATION"). Opportunities.',
        "TASK_OVERDUE": "An open task past its due time: on the opportunity, contact or lead itself; for an account, "
        "on it, its opportunities or its contacts. Flips on its own when a due time passes. Accounts, contacts, "
        "opportunities and leads; no parameters.",
        "CONTRACT_EXPIRING": "An active time-based contract ends within `days` days (from `days` before its end "
        "until the end, when the contract expires). Flips on its own as time passes; a renewal moves the window. "
        "Accounts (their contracts) and opportunities (the contracts sold with them).",
    },
)

ActivityState = described_enum(
    monitors.ActivityState,
    "ActivityState",
    "Which activities a rule counts by their state.",
    {
        "ANY": "Open and done activities alike.",
        "OPEN": "Only activities not done yet.",
        "DONE": "Only activities that are done.",
    },
)


@strawberry.type(
    description="A status monitor's rule: its kind and the parameters that kind takes (the others are "
    "null; see StatusRuleKind)."
)
class StatusMonitorRule:
    kind: StatusRuleKind = strawberry.field(description="What the rule tests.")  # type: ignore[valid-type]
    days: int | None = strawberry.field(
        description="A number of days (NO_ACTIVITY, STUCK_IN_STAGE, MANY_MEETINGS_NO_SALE)."
    )
    weeks: int | None = strawberry.field(description="A number of weeks (TOO_MANY_ACTIVITIES).")
    months: int | None = strawberry.field(description="A number of months (NO_WON_OPPORTUNITY).")
    count: int | None = strawberry.field(
        description="How many activities (TOO_MANY_ACTIVITIES: more than this; "
        "MANY_MEETINGS_NO_SALE: at least this many meetings)."
    )
    activity_types: list[enums.ActivityType] = strawberry.field(  # type: ignore[valid-type]
        description="The activity types counted (NO_ACTIVITY, TOO_MANY_ACTIVITIES); empty: every type."
    )
    activity_state: ActivityState = strawberry.field(  # type: ignore[valid-type]
        description="Which activities are counted by state (NO_ACTIVITY, TOO_MANY_ACTIVITIES); ANY otherwise."
    )
    stage: enums.Stage | None = strawberry.field(  # type: ignore[valid-type]
        description="STUCK_IN_STAGE: only opportunities in this open stage; null: whatever stage they are in."
    )


def rule_of(data: dict[str, Any]) -> StatusMonitorRule:
    rule = monitors.Rule.from_dict(data)
    return StatusMonitorRule(
        kind=StatusRuleKind[rule.kind.value],
        days=rule.days,
        weeks=rule.weeks,
        months=rule.months,  # type: ignore[index]
        count=rule.count,
        activity_types=list(rule.activity_types),  # type: ignore[index]
        activity_state=ActivityState[rule.activity_state.value],  # type: ignore[index]
        stage=rule.stage,
    )  # type: ignore[index]


@strawberry.type(
    description="Which rows a status monitor judges: the members of a selection, or accounts of categories."
)
class StatusMonitorScope:
    selection_id: strawberry.Private[int | None]
    categories: list[str] = strawberry.field(
        description="Accounts of these categories (a contact monitor: contacts of such accounts); empty with a "
        "selection."
    )

    @strawberry.field(description="The selection whose members it judges (null when none, or one you may not read).")
    async def selection(self, info: Info) -> Annotated[Selection, strawberry.lazy("gql.schema.selections")] | None:
        if self.selection_id is None:
            return None
        from gql.schema.selections import Selection as Found

        return Found.from_row(await info.context.by_id(tables.selections).load(self.selection_id))


@strawberry.type(
    description="A rule over the data that marks each account, contact, opportunity or lead for which it "
    "holds with a status indicator (this monitor's name, icon, colour and priority)."
)
class StatusMonitor(Node):
    graphql_type = "StatusMonitor"
    name: str = strawberry.field(
        description="The indicator's name as shown on the entities, e.g. \"Not followed "
        'up in 6 months" (unique, any case).'
    )
    description: str | None = strawberry.field(description="What the indicator means and what to do about it.")
    icon: str = strawberry.field(description="The name of the icon shown with the indicator, e.g. `flag`.")
    colour: str = strawberry.field(description="The indicator's colour as #rrggbb.")
    priority: int = strawberry.field(
        description="Where the indicator ranks among an entity's indicators: higher first."
    )
    entity_type: MonitoredEntity = strawberry.field(  # type: ignore[valid-type]
        description="What the monitor marks: accounts, contacts, opportunities or leads."
    )
    active: bool = strawberry.field(description="False when the monitor is switched off: it marks nothing.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")

    @strawberry.field(
        description="Which rows it judges: null for every row of its type; else only a selection's members or "
        "accounts (contacts) of some categories. A row that leaves the scope loses the indicator at once."
    )
    @needs("scope")
    def scope(self) -> StatusMonitorScope | None:
        data = self.__dict__["scope"]
        if not data:
            return None
        return StatusMonitorScope(selection_id=data.get("selection"), categories=list(data.get("categories") or ()))

    @strawberry.field(description="The rule: what must hold for an entity to carry the indicator.")
    @needs("rule")
    def rule(self) -> StatusMonitorRule:
        return rule_of(self.__dict__["rule"])


StatusMonitorOrder = order_input(
    "StatusMonitor",
    {
        "NAME": "By name.",
        "PRIORITY": "By priority.",
        "ENTITY_TYPE": "By the type of entity marked.",
        "CREATED_AT": "When it was created.",
        "UPDATED_AT": "When it last changed.",
    },
)


@strawberry.input(description="Which status monitors to list. All given conditions must hold.")
class StatusMonitorFilter:
    search: str | None = _f(SEARCH)
    entity_type: MonitoredEntity | None = _f("Only monitors that mark this type of entity.")  # type: ignore[valid-type]
    active: bool | None = _f("Only active (true) or only switched-off (false) monitors.")
