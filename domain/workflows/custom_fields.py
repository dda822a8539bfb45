"""Custom field definitions (settings, admins only): create, change and delete the fields accounts, contacts,
opportunities and leads carry, and the check every write of those entities makes of its values
(`custom_values`). A definition's key, entity type and type never change (the values are stored under the
key, in that type); a definition some row holds a value of cannot be deleted, it can be deactivated (then
no row takes a new value of it, and the values held stay readable)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from domain.commands import UNSET, apply, changes, expect_version
from domain.criteria import CriteriaEntity, check_custom, custom_keys_by_entity
from domain.custom_fields import (
    CustomFieldDefinition,
    CustomFieldType,
    check_new_key,
    check_values,
    from_text,
)
from domain.errors import Conflict, PermissionDenied, ref
from domain.events import DomainEvent
from domain.uow import UnitOfWork

PLURAL = {
    CriteriaEntity.ACCOUNT: "accounts",
    CriteriaEntity.CONTACT: "contacts",
    CriteriaEntity.OPPORTUNITY: "opportunities",
    CriteriaEntity.LEAD: "leads",
}


class CustomFieldUse(Protocol):
    """How many rows of an entity hold a value of a custom field (persistence/custom_fields.py), counted as the
    system (a definition is the company's, whoever can see the rows)."""

    async def holding(self, entity: CriteriaEntity, key: str, values: list[Any] | None = None) -> int: ...


Use = Callable[[UnitOfWork], CustomFieldUse]


@dataclass(frozen=True, kw_only=True)
class CustomFieldChanged(DomainEvent):
    """A custom field definition was created, changed or deleted. data: change (CREATED, UPDATED, DELETED),
    entityType, key, fields."""

    entity_type: ClassVar[str] = "CustomFieldDefinition"


def _admins_only(uow: UnitOfWork) -> None:
    if not uow.actor.is_admin:
        raise PermissionDenied("only admins define custom fields")


async def definitions_of(uow: UnitOfWork, entity: CriteriaEntity) -> list[CustomFieldDefinition]:
    """The entity's definitions in their order, as the unit of work knows them (this process's copy, or as this
    transaction sees them once it changed one)."""
    return await uow.custom_fields(entity)


async def custom_values(
    uow: UnitOfWork,
    entity: CriteriaEntity,
    values: Mapping[str, Any] | None,
    before: Mapping[str, Any] | None = None,
    *,
    text: Mapping[str, str] | None = None,
    where: str = "customFields",
) -> dict[str, Any]:
    """The custom field values a row of `entity` holds after a write (`domain.custom_fields.check_values`),
    checked against the entity's definitions: `values` change the row's key by key (null removes one);
    `text` (the older `customAttributes` input, every value text) replaces them all, each read in its field's
    type. A change that gives neither keeps what the row held without reading the definitions; a new row
    (`before` None) is always checked (mandatory fields)."""
    if not values and text is None and before is not None:
        return dict(before)
    definitions = await definitions_of(uow, entity)
    changed: dict[str, Any] = {}
    if text is not None:
        changed = {key: None for key in before or {}}
        changed.update(from_text(definitions, text))
    changed.update(values or {})
    return check_values(definitions, changed, before, where=where)


async def check_criteria(uow: UnitOfWork, entity: CriteriaEntity | str, tree: dict[str, Any] | None) -> None:
    """Criteria a selection or a view keeps test only custom fields that exist, each with a test its type
    takes (`domain.criteria.check_custom`); nothing is read for criteria without custom fields."""
    if not custom_keys_by_entity(entity, tree):
        return
    types: dict[str, dict[str, str]] = {}
    for definition in await uow.find(CustomFieldDefinition):
        types.setdefault(definition.entity_type.value, {})[definition.key] = definition.type.value
    check_custom(entity, tree, types)


def _event(definition: CustomFieldDefinition, change: str, fields: list[str] | None = None) -> CustomFieldChanged:
    data: dict[str, Any] = {"change": change, "entityType": definition.entity_type.value, "key": definition.key}
    if fields is not None:
        data["fields"] = fields
    return CustomFieldChanged(entity_id=definition.id or 0, data=data)


@dataclass(kw_only=True)
class CreateCustomField:
    entity_type: CriteriaEntity
    key: str
    label: str
    type: CustomFieldType
    options: list[str] = field(default_factory=list)
    mandatory: bool = False
    active: bool = True
    position: int | None = None


async def create_custom_field(cmd: CreateCustomField, uow: UnitOfWork) -> CustomFieldDefinition:
    """Define a custom field of accounts, contacts, opportunities or leads (admins). Its key (UPPER_SNAKE) is
    unique among the entity's fields and never changes; a mandatory field is required by every later write of a
    row of that entity that is created or changes its custom fields."""
    _admins_only(uow)
    check_new_key(cmd.key)
    existing = await uow.find(CustomFieldDefinition, order_by="position", entity_type=cmd.entity_type)
    position = cmd.position if cmd.position is not None else max((d.position for d in existing), default=-1) + 1
    definition = CustomFieldDefinition(
        entity_type=cmd.entity_type,
        key=cmd.key,
        label=cmd.label,
        type=cmd.type,
        options=list(cmd.options),
        mandatory=cmd.mandatory,
        active=cmd.active,
        position=position,
    )
    same = [d for d in existing if d.key.casefold() == definition.key.casefold()]
    if same:
        raise Conflict(f"{PLURAL[definition.entity_type]} have a custom field {same[0].key!r} already ({ref(same[0])})")
    definition = await uow.add(definition)
    uow.record(_event(definition, "CREATED"))
    await uow.commit()
    return definition


@dataclass(kw_only=True)
class UpdateCustomField:
    id: int
    version: int | None = None
    label: str = UNSET
    options: list[str] = UNSET
    mandatory: bool = UNSET
    active: bool = UNSET
    position: int = UNSET


async def update_custom_field(cmd: UpdateCustomField, uow: UnitOfWork, use: Use) -> CustomFieldDefinition:
    """Change a custom field's label, options, mandatory switch, order, or deactivate it (admins). A
    deactivated field takes no new values; the values rows hold stay. An option some row holds cannot be
    removed (the error says how many rows hold it)."""
    _admins_only(uow)
    definition = await uow.get(CustomFieldDefinition, cmd.id)
    expect_version(definition, cmd.version)
    values = changes(cmd, "label", "options", "mandatory", "active", "position")
    changed = apply(definition, values)
    removed = sorted(set(definition.options) - set(changed.options))
    if removed:
        held = await use(uow).holding(definition.entity_type, definition.key, list(removed))
        if held:
            raise Conflict(
                f"{held} {PLURAL[definition.entity_type]} hold {', '.join(map(repr, removed))} in "
                f"{definition.key}: change their values first, or keep the option"
            )
    updated = await uow.update(changed)
    uow.record(_event(updated, "UPDATED", sorted(values)))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class DeleteCustomField:
    id: int
    version: int | None = None


async def delete_custom_field(cmd: DeleteCustomField, uow: UnitOfWork, use: Use) -> int:
    """Delete a custom field no row holds a value of (admins); one in use is refused with how many rows hold
    a value: deactivate it instead (`updateCustomField(input: {active: false})`)."""
    _admins_only(uow)
    definition = await uow.get(CustomFieldDefinition, cmd.id)
    expect_version(definition, cmd.version)
    held = await use(uow).holding(definition.entity_type, definition.key)
    if held:
        raise Conflict(
            f"{held} {PLURAL[definition.entity_type]} hold a value of {definition.key}: it cannot be deleted; "
            "deactivate it instead (active: false), or clear those values first"
        )
    await uow.delete(definition)
    uow.record(_event(definition, "DELETED"))
    await uow.commit()
    return definition.id or 0
