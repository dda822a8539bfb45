"""Status monitor workflows: define, change, switch on/off and delete monitors. Only the definitions:
which entities carry which indicator is worked out elsewhere (from the definitions and the data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from domain.commands import UNSET, apply, changes, expect_version, given
from domain.criteria import monitors_named, relative
from domain.errors import Conflict, PermissionDenied, ValidationError, ref
from domain.events import DomainEvent
from domain.lists import ListName
from domain.monitors import MonitoredEntity, MonitorScope, Rule, StatusMonitor
from domain.selections import Selection
from domain.uow import UnitOfWork
from domain.workflows.lists import require_key

NAME_MAX = 200  # the column's length
ICON_MAX = 64


@dataclass(frozen=True, kw_only=True)
class StatusMonitorEvent(DomainEvent):
    entity_type: ClassVar[str] = "StatusMonitor"


@dataclass(frozen=True, kw_only=True)
class StatusMonitorChanged(StatusMonitorEvent):
    """A status monitor was created, changed (incl. switched on or off) or deleted.
    data: change (CREATED, UPDATED, DELETED), fields (what changed), entityType, active, rule."""


@dataclass(kw_only=True)
class CreateStatusMonitor:
    name: str
    entity_type: MonitoredEntity
    rule: Rule
    description: str | None = None
    icon: str | None = None
    colour: str | None = None
    priority: int = 0
    active: bool = True
    scope: MonitorScope | None = None


@dataclass(kw_only=True)
class UpdateStatusMonitor:
    id: int
    version: int | None = None
    name: str = UNSET
    description: str | None = UNSET
    icon: str = UNSET
    colour: str = UNSET
    priority: int = UNSET
    entity_type: MonitoredEntity = UNSET
    rule: Rule = UNSET
    active: bool = UNSET
    scope: MonitorScope | None = UNSET


@dataclass(kw_only=True)
class DeleteStatusMonitor:
    id: int
    version: int | None = None


def _ensure_user(uow: UnitOfWork) -> None:
    if uow.actor.partner_id is not None:
        raise PermissionDenied("status monitors are defined by the company's users, not by partners")


def _check_texts(values: dict[str, Any]) -> None:
    name = values.get("name")
    if isinstance(name, str) and len(name.strip()) > NAME_MAX:
        raise ValidationError("name", f"is longer than {NAME_MAX} characters")
    if "icon" in values:
        icon = values["icon"]
        if icon is None or not icon.strip():
            raise ValidationError("icon", "is required (an icon name such as `flag`)")
        if len(icon) > ICON_MAX:
            raise ValidationError("icon", f"is longer than {ICON_MAX} characters")
    if "colour" in values and values["colour"] is None:
        raise ValidationError("colour", "is required (a colour like #d9534f)")
    if isinstance(values.get("description"), str) and not values["description"].strip():
        values["description"] = None
    if "priority" in values and values["priority"] is None:
        raise ValidationError("priority", "is required (higher shows first)")


async def _ensure_unique_name(uow: UnitOfWork, name: str, own_id: int | None = None) -> None:
    wanted = name.strip().casefold()
    for other in await uow.find(StatusMonitor):
        if other.id != own_id and other.name.casefold() == wanted:
            raise Conflict(
                f"a status monitor named {other.name!r} exists already (id {ref(other)}); choose another name"
            )


def _summary(monitor: StatusMonitor) -> dict[str, Any]:
    return {
        "entityType": monitor.entity_type.value,
        "active": monitor.active,
        "rule": monitor.rule.to_dict(),
        "scope": monitor.scope.to_dict() if monitor.scope else None,
    }


async def _check_scope(uow: UnitOfWork, monitor: StatusMonitor) -> None:
    """A selection scope names a selection the caller may read, of the monitor's entity type, whose criteria
    name no monitor (an indicator's scope may not depend on indicators) and no time relative to now."""
    if monitor.scope is None or monitor.scope.selection_id is None:
        return
    selection = await uow.get(Selection, monitor.scope.selection_id)
    if selection.entity_type.value != monitor.entity_type.value:
        raise ValidationError(
            "scope.selectionId",
            f"the selection holds {selection.entity_type.value}, the monitor marks {monitor.entity_type.value}",
        )
    if monitors_named(selection.criteria):
        raise ValidationError("scope.selectionId", "the selection's criteria test indicators; a scope may not")
    if relative(selection.criteria):
        # Its members would change with time alone, which only events move a scope for.
        raise ValidationError(
            "scope.selectionId", "the selection's criteria test times relative to now; a scope may not"
        )


async def _check_keys(uow: UnitOfWork, monitor: StatusMonitor, before: StatusMonitor | None = None) -> None:
    """The activity types a rule names and the categories a scope names are keys of their lists, active unless
    the monitor named them already."""
    had_types = set(before.rule.activity_types) if before else set()
    for key in monitor.rule.activity_types:
        if key not in had_types:
            await require_key(uow, ListName.ACTIVITY_TYPE, key, "rule.activityTypes")
    had_categories = set(before.scope.categories) if before and before.scope else set()
    for key in monitor.scope.categories if monitor.scope else ():
        if key not in had_categories:
            await require_key(uow, ListName.CONTACT_CATEGORY, key, "scope.categories")


async def create_status_monitor(cmd: CreateStatusMonitor, uow: UnitOfWork) -> StatusMonitor:
    """Define a status monitor: a typed rule that marks accounts, contacts or opportunities with its indicator while the
    rule holds."""
    _ensure_user(uow)
    values = {
        "name": cmd.name,
        "description": cmd.description,
        "priority": cmd.priority,
        **{k: v for k, v in (("icon", cmd.icon), ("colour", cmd.colour)) if v is not None},
    }
    _check_texts(values)
    monitor = StatusMonitor(entity_type=cmd.entity_type, rule=cmd.rule, active=cmd.active, scope=cmd.scope, **values)
    monitor.rule.check_stage(await uow.stages())
    await _ensure_unique_name(uow, monitor.name)
    await _check_scope(uow, monitor)
    await _check_keys(uow, monitor)
    monitor = await uow.add(monitor)
    uow.record(StatusMonitorChanged(entity_id=monitor.id, data={"change": "CREATED", **_summary(monitor)}))
    await uow.commit()
    return monitor


async def update_status_monitor(cmd: UpdateStatusMonitor, uow: UnitOfWork) -> StatusMonitor:
    """Change a status monitor, or switch it on or off with `active`; a rule given replaces the whole rule (its kind
    decides its parameters)."""
    _ensure_user(uow)
    monitor = await uow.get(StatusMonitor, cmd.id)
    expect_version(monitor, cmd.version)
    values = changes(cmd, "name", "description", "icon", "colour", "priority", "entity_type", "rule", "active", "scope")
    if "active" in values and values["active"] is None:
        raise ValidationError("active", "is true or false")
    if "entity_type" in values and values["entity_type"] is None:
        raise ValidationError("entityType", "is required")
    if "rule" in values and values["rule"] is None:
        raise ValidationError("rule", "is required")
    _check_texts(values)
    updated = apply(monitor, values)
    if "rule" in values:
        updated.rule.check_stage(await uow.stages())
    if given(cmd.name):
        await _ensure_unique_name(uow, updated.name, own_id=monitor.id)
    if "scope" in values or "entity_type" in values:
        await _check_scope(uow, updated)
    await _check_keys(uow, updated, monitor)
    fields = sorted(name for name in values if getattr(updated, name) != getattr(monitor, name))
    updated = await uow.update(updated)
    uow.record(
        StatusMonitorChanged(entity_id=updated.id, data={"change": "UPDATED", "fields": fields, **_summary(updated)})
    )
    await uow.commit()
    return updated


async def delete_status_monitor(cmd: DeleteStatusMonitor, uow: UnitOfWork) -> int:
    """Delete a status monitor; the indicators it set go with it."""
    _ensure_user(uow)
    monitor = await uow.get(StatusMonitor, cmd.id)
    expect_version(monitor, cmd.version)
    await uow.delete(monitor)
    uow.record(
        StatusMonitorChanged(
            entity_id=monitor.id, data={"change": "DELETED", "name": monitor.name, **_summary(monitor)}
        )
    )
    await uow.commit()
    return monitor.id
