"""Task workflows: create a task on an account, a contact, an opportunity or a lead, change it, complete
it, reopen it and delete it. A task is seen by whoever may see what it is attached to (and only by
them), so it can be given only to a user who may see that row too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.accounts import Account, Contact
from domain.commands import UNSET, apply, changes, expect_version
from domain.enums import TaskPriority
from domain.errors import ValidationError
from domain.events import TaskChanged, TaskCompleted, TaskCreated, TaskDeleted, TaskEvent, TaskReopened
from domain.leads import Lead
from domain.opportunities import Opportunity
from domain.people import User
from domain.tasks import ATTACHABLE, Task, ensure_may_change
from domain.uow import UnitOfWork

KINDS: dict[str, type] = {kind.__name__: kind for kind in (Account, Contact, Opportunity, Lead)}


@dataclass(frozen=True)
class Attachment:
    """What a task is about: an account, a contact, an opportunity or a lead, by the kind's name (e.g.
    "Lead") and its key. One value, so a task about two things or none cannot be asked for."""

    kind: str
    id: int

    def __post_init__(self) -> None:
        if self.kind not in ATTACHABLE:
            raise ValidationError(
                "attachToId", f"a task is about an account, a contact, an opportunity or a lead, not a {self.kind}"
            )

    @property
    def column(self) -> str:
        """The task's field that holds the key, e.g. `opportunity_id`."""
        return ATTACHABLE[self.kind]


def event_data(task: Task, **extra: Any) -> dict[str, Any]:
    """What every task event carries: whom it is assigned to, its priority, due time and state, and what
    it is attached to, e.g. {"opportunityId": 7} (the indicators and the subscriptions read these)."""
    kind, key = task.attached_to
    return {
        "assigneeId": task.assignee_id,
        "priority": task.priority.value,
        "dueAt": task.due_at.isoformat() if task.due_at else None,
        "done": task.done,
        f"{kind[0].lower()}{kind[1:]}Id": key,
        **extra,
    }


async def _give(uow: UnitOfWork, assignee_id: int, task: Task) -> None:
    """The assignee must exist and may see what the task is attached to: a task is seen only with its
    row, and a task its assignee cannot open is a task nobody does."""
    assignee = await uow.get(User, assignee_id)
    kind, key = task.attached_to
    if not await uow.may_see(assignee, KINDS[kind], key):
        raise ValidationError(
            "assigneeId",
            f"{assignee.name} may not see the {kind.lower()} this task is attached to; give it to someone who may",
        )


def _record(uow: UnitOfWork, event: type[TaskEvent], task: Task, **extra: Any) -> None:
    uow.record(event(entity_id=task.id, data=event_data(task, **extra)))


def _may_change(uow: UnitOfWork, task: Task, what: str) -> None:
    actor = uow.actor
    ensure_may_change(task, actor.user_id, actor.partner_id, actor.role, what)


@dataclass(kw_only=True)
class CreateTask:
    attach_to: Attachment
    title: str
    assignee_id: int | None = None
    notes: str | None = None
    due_at: datetime | None = None
    priority: TaskPriority = TaskPriority.NORMAL


async def create_task(cmd: CreateTask, uow: UnitOfWork) -> Task:
    """Create a task on an account, a contact, an opportunity or a lead, for a user who may see it (default: you).
    Whoever may see that row sees the task."""
    target = cmd.attach_to
    assignee_id = cmd.assignee_id or uow.actor.user_id
    if assignee_id is None:
        raise ValidationError("assigneeId", "a partner creating a task names the user who does it")
    task = Task(
        title=cmd.title,
        assignee_id=assignee_id,
        notes=cmd.notes,
        due_at=cmd.due_at,
        priority=cmd.priority,
        created_by_user_id=uow.actor.user_id,
        created_by_partner_id=uow.actor.partner_id,
        **{target.column: target.id},
    )
    await uow.get(KINDS[target.kind], target.id)
    await _give(uow, assignee_id, task)
    task = await uow.add(task)
    _record(uow, TaskCreated, task)
    await uow.commit()
    return task


@dataclass(kw_only=True)
class UpdateTask:
    id: int
    version: int | None = None
    title: str = UNSET
    assignee_id: int = UNSET
    notes: str | None = UNSET
    due_at: datetime | None = UNSET
    priority: TaskPriority = UNSET


async def update_task(cmd: UpdateTask, uow: UnitOfWork) -> Task:
    """Change a task's title, notes, due time, priority or assignee. Its assignee, its creator, a sales director or an
    admin may."""
    task = await uow.get(Task, cmd.id)
    expect_version(task, cmd.version)
    _may_change(uow, task, "change")
    values = changes(cmd, "title", "assignee_id", "notes", "due_at", "priority")
    changed = apply(task, values)
    if changed.assignee_id != task.assignee_id:
        await _give(uow, changed.assignee_id, changed)
    updated = await uow.update(changed)
    moved = {"previousAssigneeId": task.assignee_id} if updated.assignee_id != task.assignee_id else {}
    _record(uow, TaskChanged, updated, fields=sorted(values), **moved)
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class TaskRef:
    id: int
    version: int | None = None


async def complete_task(cmd: TaskRef, uow: UnitOfWork) -> Task:
    """Mark a task done (when and by whom are recorded). Its assignee, its creator, a sales director or an admin may; a
    done task is a ConflictError."""
    task = await uow.get(Task, cmd.id)
    expect_version(task, cmd.version)
    _may_change(uow, task, "complete")
    task.ensure_open()
    done = await uow.update(
        apply(
            task,
            {
                "done": True,
                "completed_at": uow.now,
                "completed_by_user_id": uow.actor.user_id,
                "completed_by_partner_id": uow.actor.partner_id,
            },
        )
    )
    _record(uow, TaskCompleted, done, completedAt=uow.now.isoformat())
    await uow.commit()
    return done


async def reopen_task(cmd: TaskRef, uow: UnitOfWork) -> Task:
    """Open a done task again (when and by whom it was completed are cleared). Its assignee, its creator, a sales
    director or an admin may; an open task is a ConflictError."""
    task = await uow.get(Task, cmd.id)
    expect_version(task, cmd.version)
    _may_change(uow, task, "reopen")
    task.ensure_done()
    reopened = await uow.update(
        apply(
            task, {"done": False, "completed_at": None, "completed_by_user_id": None, "completed_by_partner_id": None}
        )
    )
    _record(uow, TaskReopened, reopened)
    await uow.commit()
    return reopened


async def delete_task(cmd: TaskRef, uow: UnitOfWork) -> Task:
    """Delete a task. Its assignee, its creator, a sales director or an admin may."""
    task = await uow.get(Task, cmd.id)
    expect_version(task, cmd.version)
    _may_change(uow, task, "delete")
    await uow.delete(task)
    _record(uow, TaskDeleted, task)
    await uow.commit()
    return task
