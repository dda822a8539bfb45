"""Saved view workflows: create, change and delete a view; make it a role's default (admins) or one's own
default. One default per role and list, and one own default per owner and list: setting one moves it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from domain.commands import UNSET, apply, changes, expect_version
from domain.criteria import CriteriaEntity
from domain.enums import Role
from domain.errors import PermissionDenied, ValidationError
from domain.events import DomainEvent
from domain.selections import Sharing
from domain.uow import UnitOfWork
from domain.views import SavedView
from domain.workflows.custom_fields import check_criteria


@dataclass(frozen=True, kw_only=True)
class SavedViewChanged(DomainEvent):
    """A saved view was created, changed, made a default or deleted. data: change, fields, list, sharing."""

    entity_type: ClassVar[str] = "SavedView"


@dataclass(kw_only=True)
class CreateSavedView:
    name: str
    list: CriteriaEntity
    criteria: dict[str, Any] | None = None
    order_field: str | None = None
    order_descending: bool = False
    sharing: Sharing = Sharing.PRIVATE
    my_default: bool = False


@dataclass(kw_only=True)
class UpdateSavedView:
    id: int
    version: int | None = None
    name: str = UNSET
    criteria: dict[str, Any] | None = UNSET
    order_field: str | None = UNSET
    order_descending: bool = UNSET
    sharing: Sharing = UNSET


@dataclass(kw_only=True)
class SetDefaultView:
    id: int
    roles: list[Role] | None = None  # an admin: the roles whose default it becomes (empty: none any more)
    my_default: bool | None = None  # the caller's own default (its own view, or a shared one)


@dataclass(kw_only=True)
class SavedViewRef:
    id: int
    version: int | None = None


def _data(view: SavedView, change: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"change": change, "fields": fields or [], "list": view.list.value, "sharing": view.sharing.value}


def _own(uow: UnitOfWork, view: SavedView) -> None:
    actor = uow.actor
    mine = (view.owner_user_id is not None and view.owner_user_id == actor.user_id) or (
        view.owner_partner_id is not None and view.owner_partner_id == actor.partner_id
    )
    if not mine and not (actor.is_admin and view.sharing is Sharing.EVERYONE):
        raise PermissionDenied("only the owner of a view (or an admin, once it is shared) changes it")


async def _only_own_default(uow: UnitOfWork, view: SavedView) -> None:
    """The caller's other views of the list stop being its default."""
    for other in await uow.find(SavedView, list=view.list.value, owner_default=True):
        if (
            other.id != view.id
            and other.owner_user_id == view.owner_user_id
            and other.owner_partner_id == view.owner_partner_id
        ):
            await uow.update(apply(other, {"owner_default": False}))


async def create_saved_view(cmd: CreateSavedView, uow: UnitOfWork) -> SavedView:
    """Save a filter and order of a root list as a named view."""
    view = SavedView(
        name=cmd.name,
        list=cmd.list,
        criteria=cmd.criteria,
        order_field=cmd.order_field,
        order_descending=cmd.order_descending,
        sharing=cmd.sharing,
        owner_default=cmd.my_default,
        owner_user_id=uow.actor.user_id,
        owner_partner_id=uow.actor.partner_id,
    )
    await check_criteria(uow, view.list, view.criteria)
    view = await uow.add(view)
    if view.owner_default:
        await _only_own_default(uow, view)
    uow.record(SavedViewChanged(entity_id=view.id, data=_data(view, "CREATED")))
    await uow.commit()
    return view


async def update_saved_view(cmd: UpdateSavedView, uow: UnitOfWork) -> SavedView:
    """Rename a view, change its filter, order or sharing."""
    view = await uow.get(SavedView, cmd.id)
    expect_version(view, cmd.version)
    _own(uow, view)
    values = changes(cmd, "name", "criteria", "order_field", "order_descending", "sharing")
    if "order_descending" in values and values["order_descending"] is None:
        raise ValidationError("orderDescending", "is true or false")
    changed = apply(view, values)
    if "criteria" in values:
        await check_criteria(uow, changed.list, changed.criteria)
    updated = await uow.update(changed)
    fields = sorted(n for n in values if getattr(updated, n) != getattr(view, n))
    uow.record(SavedViewChanged(entity_id=updated.id, data=_data(updated, "UPDATED", fields)))
    await uow.commit()
    return updated


async def set_default_view(cmd: SetDefaultView, uow: UnitOfWork) -> SavedView:
    """Make a view a role's default (admins; a shared view, one per role and list) or your own default for its list,
    which comes before your role's."""
    view = await uow.get(SavedView, cmd.id)
    values: dict[str, Any] = {}
    if cmd.roles is not None:
        if not uow.actor.is_admin:
            raise PermissionDenied("only an admin sets a role's default view")
        values["default_for_roles"] = [Role(r).value for r in cmd.roles]
    if cmd.my_default is not None:
        mine = view.owner_user_id == uow.actor.user_id and view.owner_partner_id == uow.actor.partner_id
        if not mine:
            raise ValidationError("myDefault", "copy a shared view to make it your own default")
        values["owner_default"] = cmd.my_default
    if not values:
        raise ValidationError("roles", "give roles, myDefault or both")
    updated = await uow.update(apply(view, values))
    for role in updated.default_for_roles:
        for other in await uow.find(SavedView, list=updated.list.value):
            if other.id != updated.id and role in other.default_for_roles:
                await uow.update(apply(other, {"default_for_roles": [r for r in other.default_for_roles if r != role]}))
    if updated.owner_default:
        await _only_own_default(uow, updated)
    uow.record(SavedViewChanged(entity_id=updated.id, data=_data(updated, "DEFAULT", sorted(values))))
    await uow.commit()
    return updated


async def delete_saved_view(cmd: SavedViewRef, uow: UnitOfWork) -> int:
    """Delete a saved view."""
    view = await uow.get(SavedView, cmd.id)
    expect_version(view, cmd.version)
    _own(uow, view)
    await uow.delete(view)
    uow.record(SavedViewChanged(entity_id=view.id, data=_data(view, "DELETED")))
    await uow.commit()
    return view.id
