"""Mutations of tasks: create a task on an account, a contact, an opportunity or a lead, then change,
complete, reopen or delete it."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.workflows import tasks as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, node_payload
from gql.schema.inputs import described, gid, optional, ref, update_of
from gql.schema.mutations.common import RESTRICTED, WRITE, attached_to
from gql.schema.tasks import Task, TaskPriority

ASSIGNEE = (
    "Who does it (default: you; a partner names a user). They must be able to see what the task is attached "
    "to: a task is seen only with that row."
)


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


UpdateTaskInput = update_of(
    CreateTaskInput,
    "Changes to a task; fields left out stay as they are, null clears. What it is attached to stays.",
    what="The task.",
)
CompleteTaskInput = ref("Task", "Mark a task done: now, by you.", what="The task.")
ReopenTaskInput = ref("Task", "Open a done task again.", what="The task.")
DeleteTaskInput = ref("Task", "Identifies a task to delete.", what="The task.")
TaskPayload = node_payload(Task)
create_task = mutation(wf, CreateTaskInput, TaskPayload, WRITE, **attached_to(wf.Attachment))
update_task = complete_task = reopen_task = mutation(wf, OWN_INPUT, TaskPayload, RESTRICTED)
delete_task = mutation(wf, DeleteTaskInput, Deleted("Task"), RESTRICTED)
