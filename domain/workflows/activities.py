"""Sales activity workflows: log, edit, complete and delete calls, meetings, tasks … on a lead, an
opportunity, an account, a contact or a partner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.accounts import Account, Contact
from domain.activities import SalesActivity
from domain.commands import UNSET, apply, changes, expect_version
from domain.errors import Conflict, ValidationError, ref
from domain.events import ActivityChanged, ActivityDeleted, ActivityLogged
from domain.leads import Lead
from domain.lists import ListName
from domain.opportunities import Opportunity
from domain.people import Partner, User
from domain.uow import UnitOfWork
from domain.workflows.lists import require_key

KINDS: dict[str, type] = {kind.__name__: kind for kind in (Lead, Opportunity, Account, Contact, Partner)}


@dataclass(frozen=True)
class Target:
    """What an activity is about: a lead, an opportunity, an account, a contact or a partner, by the kind's name
    (e.g. "Opportunity") and its key. One value, so an activity about two things or none cannot be asked for."""

    kind: str
    id: int

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValidationError(
                "attachToId",
                f"an activity is about a lead, an opportunity, an account, a contact or a partner, not a {self.kind}",
            )

    @property
    def column(self) -> str:
        """The activity's field that holds the key, e.g. `opportunity_id`."""
        return f"{self.kind.lower()}_id"


def attached_to(activity: SalesActivity) -> dict[str, int]:
    """What the activity is about, as event data: e.g. {"opportunityId": 7}."""
    keys = {f"{kind.lower()}Id": getattr(activity, f"{kind.lower()}_id") for kind in KINDS}
    return {name: key for name, key in keys.items() if key is not None}


@dataclass(kw_only=True)
class CreateSalesActivity:
    attach_to: Target
    type: str
    subject: str
    owner_id: int | None = None
    notes: str | None = None
    due_at: datetime | None = None
    occurred_at: datetime | None = None
    done: bool = False
    duration_minutes: int | None = None


async def create_sales_activity(cmd: CreateSalesActivity, uow: UnitOfWork) -> SalesActivity:
    """Log a sales activity about one lead, opportunity, account, contact (the person's own) or partner. A done activity happened now unless
    `occurredAt` says when."""
    target = cmd.attach_to
    owner_id = cmd.owner_id or uow.actor.user_id
    if owner_id is None:
        raise ValidationError("ownerId", "a partner logging an activity names the user who owns it")
    occurred_at = cmd.occurred_at or (uow.now if cmd.done else None)
    activity = SalesActivity(
        type=cmd.type,
        subject=cmd.subject,
        owner_id=owner_id,
        notes=cmd.notes,
        due_at=cmd.due_at,
        occurred_at=occurred_at,
        done=cmd.done,
        duration_minutes=cmd.duration_minutes,
        **{target.column: target.id},
    )
    await require_key(uow, ListName.ACTIVITY_TYPE, activity.type, "type")
    await uow.get(User, owner_id)
    await uow.get(KINDS[target.kind], target.id)
    activity = await uow.add(activity)
    uow.record(
        ActivityLogged(
            entity_id=activity.id,
            data={"type": activity.type, "ownerId": owner_id, "done": activity.done, **attached_to(activity)},
        )
    )
    await uow.commit()
    return activity


@dataclass(kw_only=True)
class UpdateSalesActivity:
    id: int
    version: int | None = None
    type: str = UNSET
    subject: str = UNSET
    owner_id: int = UNSET
    notes: str | None = UNSET
    due_at: datetime | None = UNSET
    occurred_at: datetime | None = UNSET
    duration_minutes: int | None = UNSET


async def update_sales_activity(cmd: UpdateSalesActivity, uow: UnitOfWork) -> SalesActivity:
    """Change a sales activity's data; what it is about stays (log a new one for something else)."""
    activity = await uow.get(SalesActivity, cmd.id)
    expect_version(activity, cmd.version)
    values = changes(cmd, "type", "subject", "owner_id", "notes", "due_at", "occurred_at", "duration_minutes")
    changed = apply(activity, values)
    if "type" in values:
        await require_key(uow, ListName.ACTIVITY_TYPE, changed.type, "type", activity.type)
    if "owner_id" in values:
        await uow.get(User, values["owner_id"])
    updated = await uow.update(changed)
    uow.record(
        ActivityChanged(
            entity_id=updated.id, data={"type": updated.type, "fields": sorted(values), **attached_to(updated)}
        )
    )
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class CompleteSalesActivity:
    id: int
    version: int | None = None
    occurred_at: datetime | None = None
    notes: str | None = None


async def complete_sales_activity(cmd: CompleteSalesActivity, uow: UnitOfWork) -> SalesActivity:
    """Mark a sales activity done, when it happened (default: now), optionally with notes of how it went."""
    activity = await uow.get(SalesActivity, cmd.id)
    expect_version(activity, cmd.version)
    if activity.done:
        raise Conflict(f"activity {ref(activity)} is already done")
    values: dict[str, Any] = {"done": True, "occurred_at": cmd.occurred_at or uow.now}
    if cmd.notes is not None:
        values["notes"] = cmd.notes
    done = await uow.update(apply(activity, values))
    uow.record(
        ActivityChanged(
            entity_id=done.id,
            data={"type": done.type, "fields": sorted(values), "completed": True, **attached_to(done)},
        )
    )
    await uow.commit()
    return done


@dataclass(kw_only=True)
class DeleteSalesActivity:
    id: int
    version: int | None = None


async def delete_sales_activity(cmd: DeleteSalesActivity, uow: UnitOfWork) -> SalesActivity:
    """Delete a sales activity."""
    activity = await uow.get(SalesActivity, cmd.id)
    expect_version(activity, cmd.version)
    await uow.delete(activity)
    uow.record(ActivityDeleted(entity_id=activity.id, data={"type": activity.type, **attached_to(activity)}))
    await uow.commit()
    return activity
