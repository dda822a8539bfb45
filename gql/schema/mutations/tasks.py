"""Mutations of tasks: create a task on an account, a contact, an opportunity or a lead, then change,
complete, reopen or delete it."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLError

from domain.errors import ValidationError
from domain.workflows import tasks as wf
from gql import ids as global_ids
from gql.resolvers.mutation import Deleted, mutation, node_payload
from gql.schema.inputs import acts_on, changes, described, gid, optional
from gql.schema.mutations.common import RESTRICTED, WRITE
from gql.schema.tasks import Task, TaskPriority

ASSIGNEE = (
    "Who does it (default: you; a partner names a user). They must be able to see what the task is attached "
    "to: a task is seen only with that row."
)


def _attachment(value: strawberry.ID) -> wf.Attachment:
    """What the task is about, from one global id: its type names the kind (checked by Attachment)."""
    try:
        return wf.Attachment(*global_ids.decode(str(value)))
    except GraphQLError as error:
        raise ValidationError("attachToId", error.message) from None


@strawberry.input(description="A new task on one account, contact, opportunity or lead.")
class CreateTaskInput:
    attach_to_id: strawberry.ID = described(
        "The id of the Account, Contact, Opportunity or Lead the task is about (it stays there).", update=False
    )
    title: str = described("What to do, in a few words (at most 300 characters).", update="New title.")
    assignee_id: strawberry.ID | None = gid(
        "User", ASSIGNEE, None, update="Give it to this user, who must be able to see what the task is attached to."
    )
    notes: str | None = optional("Details.")
    due_at: dt.datetime | None = optional("When it is due (null: no due time).", update="New due time; null: none.")
    priority: TaskPriority = optional(  # type: ignore[valid-type]
        "How urgent it is.", TaskPriority.NORMAL, update="New priority."
    )


@changes(
    CreateTaskInput,
    "Task",
    "Changes to a task; fields left out stay as they are, null clears. What it is attached to stays.",
    what="The task.",
)
class UpdateTaskInput: ...


@acts_on("Task", "Mark a task done: now, by you.", what="The task.")
class CompleteTaskInput: ...


@acts_on("Task", "Open a done task again.", what="The task.")
class ReopenTaskInput: ...


@acts_on("Task", "Identifies a task to delete.", what="The task.")
class DeleteTaskInput: ...


TaskPayload = node_payload(Task)

create_task = mutation(
    wf.create_task,
    CreateTaskInput,
    TaskPayload,
    WRITE,
    rename={"attach_to_id": "attach_to"},
    convert={"attach_to_id": _attachment},
)
update_task = mutation(wf.update_task, UpdateTaskInput, TaskPayload, RESTRICTED)
complete_task = mutation(wf.complete_task, CompleteTaskInput, TaskPayload, RESTRICTED)
reopen_task = mutation(wf.reopen_task, ReopenTaskInput, TaskPayload, RESTRICTED)
delete_task = mutation(wf.delete_task, DeleteTaskInput, Deleted("Task"), RESTRICTED)
