"""Configurable list workflows (issue 17, item 5): admins create, change, deactivate and delete the values of
the activity types, account types, campaign statuses, contract categories and contact categories
(domain/lists.py); every other workflow checks the keys it is given with `require_key`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.accounts import Account
from domain.activities import SalesActivity
from domain.catalog import Product
from domain.commands import UNSET, apply, changes, expect_version
from domain.contracts import Contract
from domain.enums import Role
from domain.errors import Conflict, PermissionDenied, ValidationError
from domain.events import DomainEvent
from domain.leads import Campaign
from domain.lists import ListName, ListValue, account_names, check_key
from domain.monitors import StatusMonitor
from domain.uow import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class ListValueEvent(DomainEvent):
    entity_type: ClassVar[str] = "ListValue"


@dataclass(frozen=True, kw_only=True)
class ListValueChanged(ListValueEvent):
    """A value of a configurable list was created, changed or deleted (data: change, list, key)."""


def _admin(uow: UnitOfWork) -> None:
    if uow.actor.role is not Role.ADMIN:
        raise PermissionDenied("only an admin may change the configurable lists")


async def list_values(uow: UnitOfWork, list_name: ListName) -> list[ListValue]:
    return await uow.find(ListValue, order_by="position", list_name=ListName(list_name).value)


async def find_value(uow: UnitOfWork, list_name: ListName, key: str) -> ListValue | None:
    found = await uow.find(ListValue, list_name=ListName(list_name).value, key=key)
    return found[0] if found else None


async def require_key(
    uow: UnitOfWork, list_name: ListName, key: str, field: str, current: str | None = None
) -> ListValue:
    """The value `key` names in the list: refused (a ValidationError on `field` naming the key and the list) when
    the list has no such key, or when it is inactive, unless it is the value the row has now (`current`: an
    inactive value stays on the rows that have it)."""
    list_name = ListName(list_name)
    if key is None:
        raise ValidationError(field, "is required")
    key = str(getattr(key, "value", key))
    found = await find_value(uow, list_name, key)
    if found is None:
        raise ValidationError(field, f"{key!r} is not a key of the {list_name.words} list")
    if not found.active and key != current:
        raise ValidationError(field, f"{key!r} is inactive in the {list_name.words} list; it is not used on new writes")
    return found


async def account_name_values(uow: UnitOfWork, values: dict, current: Account | None = None) -> dict:
    """`values` (an account's fields to write) with its kind checked against the account types and, for a type
    named like a person, its name made from first and last name (as PERSON accounts always were)."""
    kind = values.get("kind", current.kind if current else None)
    if current is not None and not {"kind", "name", "first_name", "last_name"} & values.keys():
        return values
    account_type = await require_key(uow, ListName.ACCOUNT_TYPE, kind, "kind", current.kind if current else None)
    if not account_type.person_name:
        return values

    def merged(name: str) -> str | None:
        return values[name] if name in values else getattr(current, name, None)

    name = account_names(True, None, merged("first_name"), merged("last_name"))
    return {**values, "name": name}


# --- who uses a value ---


async def _monitors_naming(uow: UnitOfWork, list_name: ListName, key: str) -> int:
    count = 0
    for monitor in await uow.find(StatusMonitor):
        if list_name is ListName.ACTIVITY_TYPE and key in monitor.rule.activity_types:
            count += 1
        elif list_name is ListName.CONTACT_CATEGORY and monitor.scope and key in monitor.scope.categories:
            count += 1
    return count


async def users_of(uow: UnitOfWork, value: ListValue) -> list[tuple[str, int]]:
    """What uses a value, as (what, how many), for the ones that do: the rows that store its key, and the status
    monitors that name it."""
    key = value.key
    counts: list[tuple[str, int]]
    match value.list_name:
        case ListName.ACTIVITY_TYPE:
            counts = [("activities", await uow.count(SalesActivity, type=key))]
        case ListName.ACCOUNT_TYPE:
            counts = [("accounts", await uow.count(Account, kind=key))]
        case ListName.CAMPAIGN_STATUS:
            counts = [("campaigns", await uow.count(Campaign, status=key))]
        case ListName.CONTRACT_CATEGORY:
            counts = [
                ("products", await uow.count(Product, category=key)),
                ("contracts", await uow.count(Contract, category=key)),
            ]
        case ListName.CONTACT_CATEGORY:
            counts = [("accounts", await uow.count(Account, category=key))]
    counts.append(("status monitors", await _monitors_naming(uow, value.list_name, key)))
    return [(what, n) for what, n in counts if n]


# --- the workflows ---


@dataclass(kw_only=True)
class CreateListValue:
    list_name: ListName
    key: str
    label: str
    position: int | None = None
    active: bool = True
    person_name: bool | None = None
    archived: bool | None = None
    lead_status: bool | None = None


async def create_list_value(cmd: CreateListValue, uow: UnitOfWork) -> ListValue:
    """Add a value to a configurable list (admins). The key (UPPER_SNAKE) is what rows store and never changes;
    the value goes last unless a position is given. Only the list's own attribute may be given: personName
    (account types), archived (campaign statuses), leadStatus (contact categories)."""
    _admin(uow)
    list_name = ListName(cmd.list_name)
    key = check_key(list_name, cmd.key)
    if await find_value(uow, list_name, key) is not None:
        raise Conflict(f"the {list_name.words} list already has the key {key!r}")
    existing = await list_values(uow, list_name)
    position = cmd.position if cmd.position is not None else (max((v.position for v in existing), default=-1) + 1)
    created = await uow.add(
        ListValue(
            list_name=list_name,
            key=key,
            label=cmd.label,
            position=position,
            active=cmd.active,
            person_name=cmd.person_name,
            archived=cmd.archived,
            lead_status=cmd.lead_status,
        )
    )
    uow.record(ListValueChanged(entity_id=created.id, data={"change": "created", "list": list_name.value, "key": key}))
    await uow.commit()
    return created


@dataclass(kw_only=True)
class UpdateListValue:
    id: int
    version: int | None = None
    label: str = UNSET
    position: int = UNSET
    active: bool = UNSET
    person_name: bool = UNSET
    archived: bool = UNSET
    lead_status: bool = UNSET


async def update_list_value(cmd: UpdateListValue, uow: UnitOfWork) -> ListValue:
    """Change a list value's label, position, active flag or its list's own attribute (admins); its key stays.
    A deactivated value is refused on new writes and stays on the rows that have it. Switching a contact
    category's leadStatus keeps every contact's stored status (shown again as it was)."""
    _admin(uow)
    current = await uow.get(ListValue, cmd.id)
    expect_version(current, cmd.version)
    values = changes(cmd, "label", "position", "active", "person_name", "archived", "lead_status")
    updated = await uow.update(apply(current, values))
    if updated.version != current.version:
        uow.record(
            ListValueChanged(
                entity_id=updated.id,
                data={
                    "change": "updated",
                    "list": updated.list_name.value,
                    "key": updated.key,
                    "fields": sorted(values),
                },
            )
        )
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class DeleteListValue:
    id: int
    version: int | None = None


async def delete_list_value(cmd: DeleteListValue, uow: UnitOfWork) -> int:
    """Delete a list value no row and no status monitor uses (admins); one in use is refused with what uses it
    and how many: deactivate it instead (`updateListValue(input: {active: false})`)."""
    _admin(uow)
    current = await uow.get(ListValue, cmd.id)
    expect_version(current, cmd.version)
    used = await users_of(uow, current)
    if used:
        what = " and ".join(f"{n} {name}" for name, n in used)
        raise Conflict(
            f"{current.key!r} of the {current.list_name.words} list is used by {what}; it cannot be deleted, "
            "deactivate it instead (active: false)"
        )
    await uow.delete(current)
    uow.record(
        ListValueChanged(
            entity_id=current.id, data={"change": "deleted", "list": current.list_name.value, "key": current.key}
        )
    )
    await uow.commit()
    return current.id
