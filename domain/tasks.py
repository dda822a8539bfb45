"""Tasks: a to-do with a title, notes, a due time, an assignee and a priority, attached to exactly one
account, contact, opportunity or lead, done once (when, and by whom) and reopened if need be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.base import Entity, required
from domain.enums import Role, TaskPriority
from domain.errors import Conflict, PermissionDenied, ValidationError, ref

TITLE_MAX = 300  # the column's length
NOTES_MAX = 10_000
# What a task can be attached to, by the entity's name, and the task's field that holds its key.
ATTACHABLE = {"Account": "account_id", "Contact": "contact_id", "Opportunity": "opportunity_id", "Lead": "lead_id"}


@dataclass(kw_only=True)
class Task(Entity):
    """Something to do about one account, contact, opportunity or lead, by one user."""

    title: str
    assignee_id: int
    notes: str | None = None
    due_at: datetime | None = None
    priority: TaskPriority = TaskPriority.NORMAL
    done: bool = False
    completed_at: datetime | None = None
    completed_by_user_id: int | None = None
    completed_by_partner_id: int | None = None
    created_by_user_id: int | None = None
    created_by_partner_id: int | None = None
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    lead_id: int | None = None

    def __post_init__(self) -> None:
        self.title = required(self.title, "title")
        if len(self.title) > TITLE_MAX:
            raise ValidationError("title", f"is longer than {TITLE_MAX} characters")
        if self.notes is not None and len(self.notes) > NOTES_MAX:
            raise ValidationError("notes", f"is longer than {NOTES_MAX} characters")
        self.priority = TaskPriority(self.priority)
        if sum(getattr(self, column) is not None for column in ATTACHABLE.values()) != 1:
            raise ValidationError(
                "attachToId", "a task is attached to exactly one account, contact, opportunity or lead"
            )
        if self.done != (self.completed_at is not None):
            raise ValidationError("completedAt", "a task is done exactly when it records when it was completed")
        if not self.done and (self.completed_by_user_id is not None or self.completed_by_partner_id is not None):
            raise ValidationError("completedBy", "only a done task records who completed it")

    @property
    def attached_to(self) -> tuple[str, int]:
        """What the task is about: the entity's name and key, e.g. ("Opportunity", 7)."""
        return next(
            (kind, getattr(self, column)) for kind, column in ATTACHABLE.items() if getattr(self, column) is not None
        )

    def is_overdue(self, now: datetime) -> bool:
        """Open, and its due time has come (a task is overdue from its due time on)."""
        return not self.done and self.due_at is not None and self.due_at <= now

    def ensure_open(self) -> None:
        if self.done:
            raise Conflict(f"task {ref(self)} is already done; reopen it first")

    def ensure_done(self) -> None:
        if not self.done:
            raise Conflict(f"task {ref(self)} is not done, so there is nothing to reopen")


def ensure_may_change(task: Task, user_id: int | None, partner_id: int | None, role: Role | None, what: str) -> None:
    """Who may change, complete, reopen or delete a task (among those who may see it): its assignee and
    whoever created it, and a sales director or an admin (who manage others' work). A sales rep does not
    tick off or rewrite a colleague's task, nor a partner one it did not create."""
    if role in (Role.ADMIN, Role.SALES_DIRECTOR):
        return
    if user_id is not None and user_id in (task.assignee_id, task.created_by_user_id):
        return
    if partner_id is not None and partner_id == task.created_by_partner_id:
        return
    raise PermissionDenied(
        f"only the task's assignee, whoever created it, a sales director or an admin may {what} task {ref(task)}"
    )
