"""Selection workflows: create (dynamic, static, or static from the results of criteria), change, copy,
convert dynamic → static, delete, and add / remove / clear a static selection's members. Only the owner
changes a selection (an admin too, once it is shared); members are only ever rows the caller may see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from domain.commands import UNSET, apply, changes, expect_version
from domain.criteria import CriteriaEntity, monitors_named, relative
from domain.errors import PermissionDenied, Ref, ValidationError, ref
from domain.events import DomainEvent
from domain.monitors import StatusMonitor
from domain.selections import MAX_MEMBERS_PER_CHANGE, Selection, SelectionKind, SelectionRows, Sharing
from domain.uow import UnitOfWork
from domain.workflows.custom_fields import check_criteria

Rows = Callable[[UnitOfWork], SelectionRows]


@dataclass(frozen=True, kw_only=True)
class SelectionEvent(DomainEvent):
    entity_type: ClassVar[str] = "Selection"


@dataclass(frozen=True, kw_only=True)
class SelectionChanged(SelectionEvent):
    """A selection was created, changed, converted to static or deleted.
    data: change (CREATED, UPDATED, CONVERTED, DELETED), fields, entityType, kind, sharing."""


@dataclass(frozen=True, kw_only=True)
class SelectionMembersChanged(SelectionEvent):
    """Members were added to or removed from a static selection. data: added, removed (entity ids), entityType."""


@dataclass(kw_only=True)
class CreateSelection:
    name: str
    entity_type: CriteriaEntity
    criteria: dict[str, Any] | None = None
    member_ids: list[tuple[str, int]] | None = None  # (type, key) of each row
    sharing: Sharing = Sharing.PRIVATE
    description: str | None = None
    static: bool = False  # with criteria: a static selection of the rows matching them now


@dataclass(kw_only=True)
class UpdateSelection:
    id: int
    version: int | None = None
    name: str = UNSET
    description: str | None = UNSET
    sharing: Sharing = UNSET
    criteria: dict[str, Any] = UNSET


@dataclass(kw_only=True)
class SelectionRef:
    id: int
    version: int | None = None


@dataclass(kw_only=True)
class CopySelection:
    id: int
    name: str | None = None


@dataclass(kw_only=True)
class ChangeSelectionMembers:
    id: int
    member_ids: list[tuple[str, int]]  # (type, key) of each row


def _summary(selection: Selection) -> dict[str, Any]:
    return {
        "entityType": selection.entity_type.value,
        "kind": selection.kind.value,
        "sharing": selection.sharing.value,
    }


def _owner(uow: UnitOfWork) -> dict[str, Any]:
    return {"owner_user_id": uow.actor.user_id, "owner_partner_id": uow.actor.partner_id}


async def _changeable(uow: UnitOfWork, id: int, version: int | None = None) -> Selection:
    selection = await uow.get(Selection, id)
    expect_version(selection, version)
    actor = uow.actor
    if selection.owned_by(actor.user_id, actor.partner_id):
        return selection
    if actor.is_admin and selection.sharing is not Sharing.PRIVATE:
        return selection
    raise PermissionDenied("only the owner of a selection (or an admin, once it is shared) changes it")


TYPE_NAMES = {
    CriteriaEntity.ACCOUNT: "Account",
    CriteriaEntity.CONTACT: "Contact",
    CriteriaEntity.OPPORTUNITY: "Opportunity",
    CriteriaEntity.LEAD: "Lead",
    CriteriaEntity.ACTIVITY: "SalesActivity",
}


def _keys(entity: CriteriaEntity, members: list[tuple[str, int]], field: str) -> list[int]:
    """The keys of rows named as (type, key), each of the selection's entity type."""
    if len(members) > MAX_MEMBERS_PER_CHANGE:
        raise ValidationError(field, f"at most {MAX_MEMBERS_PER_CHANGE} members per change")
    wrong = [n for n, (kind, _) in enumerate(members) if kind != TYPE_NAMES[entity]]
    if wrong:
        raise ValidationError(f"{field}[{wrong[0]}]", f"is not a {TYPE_NAMES[entity]}: the selection holds those")
    return list(dict.fromkeys(key for _, key in members))


async def _members(
    uow: UnitOfWork, rows: SelectionRows, entity: CriteriaEntity, members: list[tuple[str, int]], field: str
) -> list[int]:
    """The keys of the rows, each of the entity and one the caller may see (else a ValidationError: a hidden
    row is named as a missing one)."""
    wanted = _keys(entity, members, field)
    seen = await rows.visible(entity, wanted)
    missing = [i for i in wanted if i not in seen]
    if missing:
        raise ValidationError(field, f"no {TYPE_NAMES[entity]} {ref(TYPE_NAMES[entity], missing[0])}")
    return wanted


async def create_selection(cmd: CreateSelection, uow: UnitOfWork, rows: Rows) -> Selection:
    """Create a selection: dynamic (criteria), static (member ids, or none), or with `static` a static one of the rows
    the criteria match now, as you see them ("save these results as a selection")."""
    port = rows(uow)
    if cmd.criteria is not None and cmd.member_ids is not None:
        raise ValidationError("memberIds", "give criteria or members, not both")
    static = cmd.static or cmd.criteria is None
    selection = Selection(
        name=cmd.name,
        entity_type=cmd.entity_type,
        kind=SelectionKind.STATIC if static else SelectionKind.DYNAMIC,
        criteria=None if static else cmd.criteria,
        sharing=cmd.sharing,
        description=cmd.description,
        **_owner(uow),
    )
    entity = selection.entity_type
    if cmd.criteria is not None and static:
        checked = Selection(name=cmd.name, entity_type=entity, kind=SelectionKind.DYNAMIC, criteria=cmd.criteria)
        await check_criteria(uow, entity, checked.criteria)
        members = await port.matching(entity, cmd.criteria)
        if len(members) > MAX_MEMBERS_PER_CHANGE * 10:
            raise ValidationError("criteria", f"match more than {MAX_MEMBERS_PER_CHANGE * 10} rows; narrow them")
    else:
        await check_criteria(uow, entity, selection.criteria)
        members = await _members(uow, port, entity, cmd.member_ids or [], "memberIds")
    selection = await uow.add(selection)
    if members:
        await port.add(selection.id, members)
    uow.record(SelectionChanged(entity_id=selection.id, data={"change": "CREATED", **_summary(selection)}))
    await uow.commit()
    return selection


async def update_selection(cmd: UpdateSelection, uow: UnitOfWork) -> Selection:
    """Rename, describe or share a selection, or give a dynamic one new criteria."""
    selection = await _changeable(uow, cmd.id, cmd.version)
    values = changes(cmd, "name", "description", "sharing", "criteria")
    if values.get("sharing", Sharing.PRIVATE) is None:
        raise ValidationError("sharing", "is PRIVATE, TEAM or EVERYONE")
    if "criteria" in values and selection.kind is SelectionKind.STATIC:
        raise ValidationError("criteria", "a static selection has members, not criteria")
    if "criteria" in values and values["criteria"] is None:
        raise ValidationError("criteria", "a dynamic selection needs its criteria")
    updated = apply(selection, values)
    if "criteria" in values:
        await check_criteria(uow, updated.entity_type, updated.criteria)
    if "criteria" in values and (monitors_named(updated.criteria) or relative(updated.criteria)):
        for monitor in await uow.find(StatusMonitor):
            if monitor.scope is not None and monitor.scope.selection_id == selection.id:
                raise ValidationError(
                    "criteria",
                    f"status monitor {monitor.name!r} judges this selection's members: its criteria may "
                    "not test indicators nor times relative to now",
                )
    fields = sorted(name for name in values if getattr(updated, name) != getattr(selection, name))
    updated = await uow.update(updated)
    uow.record(
        SelectionChanged(entity_id=updated.id, data={"change": "UPDATED", "fields": fields, **_summary(updated)})
    )
    await uow.commit()
    return updated


async def copy_selection(cmd: CopySelection, uow: UnitOfWork, rows: Rows) -> Selection:
    """Copy a selection you may read into a private one of yours (a static one: the members you may see)."""
    port = rows(uow)
    source = await uow.get(Selection, cmd.id)
    copy = Selection(
        name=cmd.name if cmd.name is not None else f"Copy of {source.name}"[:200],
        entity_type=source.entity_type,
        kind=source.kind,
        criteria=source.criteria,
        description=source.description,
        **_owner(uow),
    )
    copy = await uow.add(copy)
    if source.kind is SelectionKind.STATIC:
        members = sorted(await port.visible(source.entity_type, sorted(await port.members(source.id))))
        if members:
            await port.add(copy.id, members)
    uow.record(SelectionChanged(entity_id=copy.id, data={"change": "CREATED", "copyOf": source.id, **_summary(copy)}))
    await uow.commit()
    return copy


async def convert_selection_to_static(cmd: SelectionRef, uow: UnitOfWork, rows: Rows) -> Selection:
    """Make a dynamic selection static: its members become the rows its criteria match now, as you see them."""
    port = rows(uow)
    selection = await _changeable(uow, cmd.id, cmd.version)
    if selection.kind is SelectionKind.STATIC:
        raise ValidationError("id", "the selection is static already")
    members = await port.matching(selection.entity_type, selection.criteria)
    updated = apply(selection, {"kind": SelectionKind.STATIC, "criteria": None})
    updated = await uow.update(updated)
    if members:
        await port.add(updated.id, members)
    uow.record(
        SelectionChanged(
            entity_id=updated.id, data={"change": "CONVERTED", "fields": ["criteria", "kind"], **_summary(updated)}
        )
    )
    await uow.commit()
    return updated


async def delete_selection(cmd: SelectionRef, uow: UnitOfWork) -> int:
    """Delete a selection (its member list goes with it; the rows themselves stay)."""
    selection = await _changeable(uow, cmd.id, cmd.version)
    await uow.delete(selection)
    uow.record(SelectionChanged(entity_id=selection.id, data={"change": "DELETED", **_summary(selection)}))
    await uow.commit()
    return selection.id


async def _static(uow: UnitOfWork, id: int) -> Selection:
    selection = await _changeable(uow, id)
    if selection.kind is not SelectionKind.STATIC:
        raise ValidationError("id", "a dynamic selection's members follow its criteria; convert it to static first")
    return selection


async def _members_changed(
    uow: UnitOfWork, selection: Selection, added: list[int], removed: list[int], gone: list[int] | None = None
) -> Selection:
    """After members were added or removed: the selection's version moves, its history names the rows (as
    references: a reader who may not see one reads null), and an event tells of those the caller may see
    (`gone`: every row removed, when more than `removed`)."""
    touched = await uow.touch(selection)
    left = gone if gone is not None else removed
    if added or left:
        kind = TYPE_NAMES[selection.entity_type]
        uow.audit(
            "Selection",
            selection.id,
            "members",
            [Ref(kind, i) for i in left] or None,
            [Ref(kind, i) for i in added] or None,
        )
    if added or removed:
        uow.record(
            SelectionMembersChanged(
                entity_id=selection.id,
                data={"added": added, "removed": removed, "entityType": selection.entity_type.value},
            )
        )
    await uow.commit()
    return touched


async def add_selection_members(cmd: ChangeSelectionMembers, uow: UnitOfWork, rows: Rows) -> Selection:
    """Add rows you may see to a static selection; rows already in it stay as they are."""
    port = rows(uow)
    selection = await _static(uow, cmd.id)
    wanted = await _members(uow, port, selection.entity_type, cmd.member_ids, "memberIds")
    present = await port.members(selection.id)
    added = [i for i in wanted if i not in present]
    if added:
        await port.add(selection.id, added)
    return await _members_changed(uow, selection, added, [])


async def remove_selection_members(cmd: ChangeSelectionMembers, uow: UnitOfWork, rows: Rows) -> Selection:
    """Remove rows from a static selection (rows not in it, or not visible to you, are left alone)."""
    port = rows(uow)
    selection = await _static(uow, cmd.id)
    keys = _keys(selection.entity_type, cmd.member_ids, "memberIds")
    present = await port.members(selection.id)
    seen = await port.visible(selection.entity_type, sorted(present & set(keys)))
    removed = sorted(seen)
    if removed:
        await port.remove(selection.id, removed)
    return await _members_changed(uow, selection, [], removed)


async def clear_selection(cmd: SelectionRef, uow: UnitOfWork, rows: Rows) -> Selection:
    """Remove every member of a static selection."""
    port = rows(uow)
    selection = await _static(uow, cmd.id)
    expect_version(selection, cmd.version)
    present = sorted(await port.members(selection.id))
    if present:
        await port.remove(selection.id, present)
    # The event names only the rows the caller may see (members may have gone out of its sight since).
    shown = sorted(await port.visible(selection.entity_type, present))
    return await _members_changed(uow, selection, [], shown, gone=present)
