"""Tasks as read: the Task node and its priority, the filter and order of task lists (the root `tasks`
and the `tasks` of accounts, contacts, opportunities and leads), and the events `taskEvents` sends."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from domain import enums as domain_enums
from gql import ids
from gql.schema.base import Node, described_enum, needs
from gql.schema.events import LoggedEvent
from gql.schema.fields import connection, to_one
from gql.schema.filters import SEARCH, _f, order_input
from gql.schema.history import history_field
from gql.schema.people import Partner, User
from gql.subscriptions.hub import Event
from persistence import filters as spec
from persistence import tables

TaskPriority = described_enum(
    domain_enums.TaskPriority,
    "TaskPriority",
    "How urgent a task is; lists order them LOW < NORMAL < HIGH < URGENT.",
    {
        "LOW": "When there is time.",
        "NORMAL": "In the ordinary course of work (the default).",
        "HIGH": "Before ordinary work.",
        "URGENT": "Before anything else.",
    },
)


@strawberry.type(
    description="Something to do about one account, contact, opportunity or lead, by one user, by a due time. "
    "You see a task exactly when you may see what it is attached to."
)
class Task(Node):
    graphql_type = "Task"
    title: str = strawberry.field(description="What to do, in a few words.")
    notes: str | None = strawberry.field(description="Details.")
    due_at: datetime | None = strawberry.field(description="When it is due (null: no due time).")
    priority: TaskPriority = strawberry.field(description="How urgent it is.")  # type: ignore[valid-type]
    done: bool = strawberry.field(description="True once completed (until reopened).")
    completed_at: datetime | None = strawberry.field(description="When it was completed (null while open).")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    history = history_field("Task")

    @strawberry.field(
        description="True while it is open and its due time has come (at the time of your request): what the "
        "`overdue` filter and the TASK_OVERDUE status monitor rule count."
    )
    @needs("done", "due_at")
    def is_overdue(self, info: Info) -> bool:
        due = self.__dict__["due_at"]
        return not self.__dict__["done"] and due is not None and due <= info.context.viewer.now

    assignee = to_one("gql.schema.people:User", tables.users, "assignee_id", "Who does it.")
    completed_by = to_one(
        "gql.schema.people:User", tables.users, "completed_by_user_id", "The user who completed it (null while open)."
    )
    completed_by_partner = to_one(
        "gql.schema.people:Partner",
        tables.partners,
        "completed_by_partner_id",
        "The partner who completed it, when a partner did.",
    )
    created_by = to_one("gql.schema.people:User", tables.users, "created_by_user_id", "The user who created it.")
    created_by_partner = to_one(
        "gql.schema.people:Partner", tables.partners, "created_by_partner_id", "The partner who created it, if one did."
    )
    account = to_one("gql.schema.accounts:Account", tables.accounts, "account_id", "The account it is about.")
    contact = to_one("gql.schema.accounts:Contact", tables.contacts, "contact_id", "The contact it is about.")
    opportunity = to_one(
        "gql.schema.opportunities:Opportunity", tables.opportunities, "opportunity_id", "The opportunity it is about."
    )
    lead = to_one("gql.schema.leads:Lead", tables.leads, "lead_id", "The lead it is about.")


TaskOrder = order_input(
    "Task",
    {
        "DUE_AT": "By due time (tasks without one last).",
        "PRIORITY": "By priority (LOW < NORMAL < HIGH < URGENT).",
        "TITLE": "By title.",
        "COMPLETED_AT": "By the time it was completed (open tasks last).",
        "CREATED_AT": "When it was created.",
        "UPDATED_AT": "When it last changed.",
    },
)


@strawberry.input(
    description="Which tasks to list. All given conditions must hold. My open tasks: `{mine: true, open: true}`; "
    "everything overdue: `{overdue: true}`."
)
class TaskFilter:
    search: str | None = _f(SEARCH + " Searches title and notes.")
    mine: bool | None = _f("Only tasks assigned to you (true), or only those assigned to others (false).")
    open: bool | None = _f("Only open tasks (true), or only done ones (false).")
    overdue: bool | None = _f(
        "Only overdue tasks (true: open, with a due time at or before the time of your request), or only the "
        "others (false)."
    )
    assignee_id: strawberry.ID | None = _f("Only tasks assigned to this user.")
    account_id: strawberry.ID | None = _f("Only tasks on this account.")
    contact_id: strawberry.ID | None = _f("Only tasks on this contact.")
    opportunity_id: strawberry.ID | None = _f("Only tasks on this opportunity.")
    lead_id: strawberry.ID | None = _f("Only tasks on this lead.")
    priority: TaskPriority | None = _f("Only tasks of this priority.")  # type: ignore[valid-type]
    priority_in: list[TaskPriority] | None = _f("Only tasks of one of these priorities.")  # type: ignore[valid-type]
    due_at_min: datetime | None = _f("Due at or after this time.", name="dueFrom")
    due_at_max: datetime | None = _f("Due at or before this time.", name="dueTo")
    completed_at_min: datetime | None = _f("Completed at or after this time.", name="completedFrom")
    completed_at_max: datetime | None = _f("Completed at or before this time.", name="completedTo")
    created_at_min: datetime | None = _f("Created at or after this time.", name="createdFrom")
    created_at_max: datetime | None = _f("Created at or before this time.", name="createdTo")


def task_connection(fk: str | None, description: str) -> Any:
    """A connection of tasks: the root list (`fk` None) or the tasks attached to the parent."""
    return connection(
        "gql.schema.tasks:Task",
        spec.TASKS,
        fk=fk,
        default_order="DUE_AT",
        filter_type=TaskFilter,
        order_type=TaskOrder,
        description=description,
    )


# --- events ---


@strawberry.enum(description="What happened to a task.")
class TaskEventKind(Enum):
    CREATED = strawberry.enum_value("TaskCreated", description="It was created.")
    CHANGED = strawberry.enum_value(
        "TaskChanged", description="Its title, notes, due time, priority or assignee changed (`fields` says which)."
    )
    COMPLETED = strawberry.enum_value("TaskCompleted", description="It was marked done.")
    REOPENED = strawberry.enum_value("TaskReopened", description="It was opened again.")
    DELETED = strawberry.enum_value("TaskDeleted", description="It was deleted (`task` is null).")


TASK_EVENT_TYPES = frozenset(kind.value for kind in TaskEventKind)
ATTACHED_KEYS = {"Account": "accountId", "Contact": "contactId", "Opportunity": "opportunityId", "Lead": "leadId"}


@strawberry.type(description="Something that happened to a task, as it happened.")
class TaskEvent(LoggedEvent):
    @strawberry.field(description="What happened.")
    def kind(self) -> TaskEventKind:
        return TaskEventKind(self.event["type"])

    @strawberry.field(description="The task's id (also when it has been deleted since).")
    def task_id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Task", self.event["entityId"]))

    @strawberry.field(description="The task as it is now; null when it no longer exists.")
    async def task(self, info: Info) -> Task | None:
        return Task.from_row(await info.context.by_id(tables.tasks).load(self.event["entityId"]))

    @strawberry.field(description="CHANGED: the names of the fields that changed.")
    def fields(self) -> list[str] | None:
        found = self.event["data"].get("fields")
        return list(found) if isinstance(found, list) and self.event["type"] == "TaskChanged" else None

    @strawberry.field(description="The user who made the change (null for a partner).")
    async def actor_user(self, info: Info) -> User | None:
        user_id = self.event.get("actorUserId")
        return User.from_row(await info.context.by_id(tables.users).load(user_id)) if user_id else None

    @strawberry.field(description="The partner who made the change, when a partner did.")
    async def actor_partner(self, info: Info) -> Partner | None:
        partner_id = self.event.get("actorPartnerId")
        return Partner.from_row(await info.context.by_id(tables.partners).load(partner_id)) if partner_id else None


def task_events_filter(wanted: set[int] | None, attached: set[tuple[str, int]] | None, me: int | None) -> Any:
    """Which task events a `taskEvents` subscription takes: of these tasks, on these rows, or (`me`) those
    of the tasks assigned to that user, or given away from them."""

    def accepts(event: Event) -> bool:
        if event["type"] not in TASK_EVENT_TYPES:
            return False
        data = event.get("data") or {}
        if wanted is not None and event["entityId"] not in wanted:
            return False
        if attached is not None and not any(data.get(ATTACHED_KEYS[kind]) == pk for kind, pk in attached):
            return False
        return me is None or me in (data.get("assigneeId"), data.get("previousAssigneeId"))

    return accepts
