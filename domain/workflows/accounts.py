"""Account workflows: accounts (create, edit, delete), sub-accounts, links, groups, favourites, the
managing partner; contacts (employees) with their lead status; contact types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from domain.accounts import Account, AccountGroup, Contact, ContactType, shows_lead_status
from domain.activities import SalesActivity
from domain.audit import business_role
from domain.commands import UNSET, apply, changes, expect_version, given
from domain.contracts import Contract
from domain.criteria import CriteriaEntity
from domain.enums import CategoryGroup, ContactKind, LeadStatus
from domain.errors import Conflict, PermissionDenied, ValidationError, ref
from domain.events import (
    AccountChanged,
    AccountCreated,
    AccountDeleted,
    ActivityDeleted,
    ContactChanged,
    ContactCreated,
    ContactDeleted,
    DomainEvent,
)
from domain.leads import Lead
from domain.lists import ListName
from domain.opportunities import BusinessRole, Opportunity
from domain.people import Partner, User
from domain.uow import Link, UnitOfWork
from domain.workflows.custom_fields import custom_values
from domain.workflows.lists import account_name_values, find_value, require_key
from domain.workflows.privacy import wipe_person_of_contact


@dataclass(frozen=True, kw_only=True)
class AccountGroupEvent(DomainEvent):
    entity_type: ClassVar[str] = "AccountGroup"


@dataclass(frozen=True, kw_only=True)
class AccountGroupChanged(AccountGroupEvent):
    """An account group was created, renamed or deleted (data: change, name)."""


@dataclass(frozen=True, kw_only=True)
class ContactTypeEvent(DomainEvent):
    entity_type: ClassVar[str] = "ContactType"


@dataclass(frozen=True, kw_only=True)
class ContactTypeChanged(ContactTypeEvent):
    """A contact type was created, renamed or deleted (data: change, name, kind)."""


ACCOUNT_FIELDS = (
    "kind",
    "name",
    "first_name",
    "last_name",
    "organization",
    "email",
    "phone",
    "street",
    "city",
    "postal_code",
    "country",
    "registration_no",
    "vat_no",
    "industry",
    "manager_id",
    "key_account",
    "category",
    "category_group",
    "is_global",
    "is_private",
    "comment",
)


def custom_attributes(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Custom attributes from key/value pairs: every key named, and each once."""
    keys = [(key or "").strip() for key, _ in pairs]
    if any(not key for key in keys):
        raise ValidationError("customAttributes", "a custom attribute needs a key")
    if len(set(keys)) != len(keys):
        raise ValidationError("customAttributes", "each key may appear once")
    return {key: value for key, (_, value) in zip(keys, pairs)}


# --- accounts ---


@dataclass(kw_only=True)
class CreateAccount:
    kind: str
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    registration_no: str | None = None
    vat_no: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    custom_attributes: dict[str, str] | None = None  # the older input: text values, replacing all
    industry: str | None = None
    manager_id: int | None = None
    key_account: bool = False
    category: str | None = None
    category_group: CategoryGroup = CategoryGroup.PROSPECT
    parent_id: int | None = None
    is_global: bool = False
    is_private: bool = False
    comment: str | None = None
    partner_id: int | None = None


def _check_privacy(
    is_private: bool, is_global: bool, creator_id: int | None, actor: int | None, global_field: str
) -> None:
    if is_private and actor is None:
        raise PermissionDenied("only a user can own a private account; a partner cannot make one private")
    if is_private and creator_id != actor:
        raise PermissionDenied("only the user who created the account may make it private or public")
    if is_private and is_global:
        raise ValidationError(global_field, "a private account cannot also be global")


async def create_account(cmd: CreateAccount, uow: UnitOfWork) -> Account:
    """Create an account (you are its creator: only you may make it private)."""
    creator = uow.actor.user_id
    _check_privacy(cmd.is_private, cmd.is_global, creator, creator, "isGlobal")
    fields = await account_name_values(uow, {name: getattr(cmd, name) for name in ACCOUNT_FIELDS})
    if cmd.category is not None:
        await require_key(uow, ListName.CONTACT_CATEGORY, cmd.category, "category")
    custom = await custom_values(uow, CriteriaEntity.ACCOUNT, cmd.custom_fields, text=cmd.custom_attributes)
    account = Account(
        **fields,
        custom_fields=custom,
        created_by_id=creator,
        parent_id=cmd.parent_id,
        partner_id=cmd.partner_id,
    )
    if cmd.manager_id is not None:
        await uow.get(User, cmd.manager_id)
    if cmd.partner_id is not None:
        await uow.get(Partner, cmd.partner_id)
    if cmd.parent_id is not None:
        await uow.get(Account, cmd.parent_id)
    account = await uow.add(account)
    uow.record(
        AccountCreated(
            entity_id=account.id,
            data={
                "name": account.name,
                "kind": account.kind,
                "categoryGroup": account.category_group.value,
                "managerId": account.manager_id,
                "parentId": account.parent_id,
                "partnerId": account.partner_id,
            },
        )
    )
    await uow.commit()
    return account


@dataclass(kw_only=True)
class UpdateAccount:
    id: int
    version: int | None = None
    kind: str = UNSET
    name: str | None = UNSET
    first_name: str | None = UNSET
    last_name: str | None = UNSET
    organization: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    street: str | None = UNSET
    city: str | None = UNSET
    postal_code: str | None = UNSET
    country: str | None = UNSET
    registration_no: str | None = UNSET
    vat_no: str | None = UNSET
    custom_fields: dict[str, Any] = UNSET  # key by key; a null value removes one
    custom_attributes: dict[str, str] | None = UNSET  # the older input: replaces all; None, like {}, removes all
    industry: str | None = UNSET
    manager_id: int | None = UNSET
    key_account: bool = UNSET
    category: str | None = UNSET
    category_group: CategoryGroup = UNSET
    is_global: bool = UNSET
    is_private: bool = UNSET
    comment: str | None = UNSET


async def lead_status_on(uow: UnitOfWork, account: Account) -> bool:
    """Whether the account's contacts show their lead status (`domain.accounts.shows_lead_status`)."""
    if account.category_group is not CategoryGroup.PROSPECT:
        return False
    if account.category is None:
        return True
    found = await find_value(uow, ListName.CONTACT_CATEGORY, account.category)
    return shows_lead_status(account.category_group, found is None or bool(found.lead_status))


async def reset_lead_status_on_entering_prospect(uow: UnitOfWork, before: Account, after: Account) -> list[int]:
    """An account whose contacts come to show their lead status (it becomes a prospect, or moves to a category
    with lead status switched on) shows it starting from OPEN; the other way only hides the stored value.
    Returns the contacts that were reset."""
    if (before.category_group, before.category) == (after.category_group, after.category):
        return []
    if await lead_status_on(uow, before) or not await lead_status_on(uow, after):
        return []
    reset = []
    for contact in await uow.find(Contact, account_id=after.id):
        if contact.lead_status is not LeadStatus.OPEN and not contact.anonymized:
            await uow.update(apply(contact, {"lead_status": LeadStatus.OPEN}))
            uow.record(
                ContactChanged(
                    entity_id=contact.id,
                    data={
                        "fields": ["lead_status"],
                        "leadStatus": LeadStatus.OPEN.value,
                        "reason": "account became a prospect",
                    },
                )
            )
            reset.append(contact.id)
    return reset


async def update_account(cmd: UpdateAccount, uow: UnitOfWork) -> Account:
    """Change an account's data. Moving it into the PROSPECT group resets its contacts' lead status to OPEN in the same
    change."""
    account = await uow.get(Account, cmd.id)
    expect_version(account, cmd.version)
    values = changes(cmd, *ACCOUNT_FIELDS)
    if given(cmd.custom_fields) or given(cmd.custom_attributes):
        text = (cmd.custom_attributes or {}) if given(cmd.custom_attributes) else None
        custom = cmd.custom_fields if given(cmd.custom_fields) else None
        values["custom_fields"] = await custom_values(
            uow, CriteriaEntity.ACCOUNT, custom, account.custom_fields, text=text
        )
    if (
        "is_private" in values
        and values["is_private"] != account.is_private
        and uow.actor.user_id != account.created_by_id
    ):
        raise PermissionDenied("only the user who created the account may make it private or public")
    is_private = values.get("is_private", account.is_private)
    is_global = values.get("is_global", account.is_global)
    if is_private and is_global:
        raise ValidationError(
            "isGlobal" if "is_global" in values else "isPrivate", "a private account cannot also be global"
        )
    if values.get("manager_id") is not None:
        await uow.get(User, values["manager_id"])
    values = await account_name_values(uow, values, account)
    if values.get("category") is not None:
        await require_key(uow, ListName.CONTACT_CATEGORY, values["category"], "category", account.category)
    updated = await uow.update(apply(account, values))
    reset = await reset_lead_status_on_entering_prospect(uow, account, updated)
    data: dict[str, Any] = {"fields": sorted(values)}
    if reset:
        data["contactsReset"] = reset
    uow.record(AccountChanged(entity_id=updated.id, data=data))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class DeleteAccount:
    id: int
    version: int | None = None


async def delete_account(cmd: DeleteAccount, uow: UnitOfWork) -> int:
    """Delete an account with what only it owns: its contacts, activities, links, group memberships and favourites.
    Refused while it has opportunities or contracts (they are the sales history: move or delete them first). Its
    sub-accounts become top-level accounts; leads that were added to it keep their data and lose the link."""
    account = await uow.get(Account, cmd.id)
    expect_version(account, cmd.version)
    opportunities = [o.id for o in await uow.find(Opportunity, account_id=account.id)]
    contracts = [c.id for c in await uow.find(Contract, account_id=account.id)]
    if opportunities or contracts:
        # Which ones is not said: some may be rows the caller may not see.
        held = [what for what, found in (("opportunities", opportunities), ("contracts", contracts)) if found]
        raise Conflict(
            f"account {ref(account)} still has {' and '.join(held)}; move or delete them before deleting the account"
        )
    books = await uow.links(Link.PRICE_BOOK_ACCOUNT, account_id=account.id)
    if books:
        # A book left with no account would be for every customer: its agreement is ended on purpose, not by this.
        raise Conflict(
            f"account {ref(account)} has price books for its agreements "
            f"({', '.join(str(ref('PriceBook', b['price_book_id'])) for b in books)}); "
            "unlink it from them (unlinkPriceBookAccount) before deleting the account"
        )
    detached = []
    for child in await uow.find(Account, parent_id=account.id):
        await uow.update(apply(child, {"parent_id": None}))
        uow.record(AccountChanged(entity_id=child.id, data={"fields": ["parent_id"], "reason": "parent deleted"}))
        detached.append(child.id)
    contacts = await uow.find(Contact, account_id=account.id)
    for contact in contacts:
        await release_contact(uow, contact)
    for lead in await uow.find(Lead, account_id=account.id):
        await uow.update(apply(lead, {"account_id": None}))
    for activity in await uow.find(SalesActivity, account_id=account.id):
        await uow.delete(activity)
        uow.record(
            ActivityDeleted(
                entity_id=activity.id,
                data={"type": activity.type, "accountId": account.id, "reason": "account deleted"},
            )
        )
    for related in await uow.links(Link.RELATED_ACCOUNT, account_id=account.id):
        uow.audit("Opportunity", related["opportunity_id"], "relatedAccounts", ref(account), None)
    await uow.unlink(Link.ACCOUNT_LINK, account_id=account.id)
    await uow.unlink(Link.ACCOUNT_LINK, linked_account_id=account.id)
    await uow.unlink(Link.ACCOUNT_GROUP_MEMBER, account_id=account.id)
    await uow.unlink(Link.FAVOURITE, account_id=account.id)
    await uow.unlink(Link.RELATED_ACCOUNT, account_id=account.id)
    for contact in contacts:
        await uow.delete(contact)
        uow.record(ContactDeleted(entity_id=contact.id, data={"accountId": account.id}))
    await uow.delete(account)
    uow.record(
        AccountDeleted(
            entity_id=account.id,
            data={"name": account.name, "contactIds": [c.id for c in contacts], "detachedSubAccountIds": detached},
        )
    )
    await uow.commit()
    return account.id


async def release_contact(uow: UnitOfWork, contact: Contact) -> None:
    """Before a contact goes: leads that became it lose the link, its business roles go."""
    for lead in await uow.find(Lead, contact_id=contact.id):
        await uow.update(apply(lead, {"contact_id": None}))
    for role in await uow.find(BusinessRole, contact_id=contact.id):
        await uow.delete(role)
        uow.audit("Opportunity", role.opportunity_id, "businessRoles", business_role(role.role, role.contact_id), None)


@dataclass(kw_only=True)
class SetAccountParent:
    id: int
    parent_id: int | None
    version: int | None = None


async def set_account_parent(cmd: SetAccountParent, uow: UnitOfWork) -> Account:
    """Make an account a sub-account of another (no cycles), or top-level again."""
    account = await uow.get(Account, cmd.id)
    expect_version(account, cmd.version)
    if cmd.parent_id is not None:
        if cmd.parent_id == account.id:
            raise ValidationError("parentId", "an account cannot be its own parent")
        ancestor = await uow.get(Account, cmd.parent_id)
        seen = {ancestor.id}
        while ancestor.parent_id is not None:
            if ancestor.parent_id == account.id:
                raise ValidationError(
                    "parentId",
                    f"account {ref('Account', cmd.parent_id)} is below account {ref(account)}; making it the parent would make a cycle",
                )
            # As the system: the chain above a parent the caller may see can pass through accounts it
            # may not; they are walked, never named (the message names only the two accounts given).
            ancestor = await uow.get(Account, ancestor.parent_id, as_system=True)
            if ancestor.id in seen:
                break
            seen.add(ancestor.id)
    if cmd.parent_id == account.parent_id:
        raise Conflict(f"account {ref(account)} already has this parent")
    updated = await uow.update(apply(account, {"parent_id": cmd.parent_id}))
    uow.record(
        AccountChanged(
            entity_id=updated.id,
            data={"fields": ["parent_id"], "parentId": cmd.parent_id, "previousParentId": account.parent_id},
        )
    )
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class AccountLink:
    account_id: int
    linked_account_id: int


async def link_accounts(cmd: AccountLink, uow: UnitOfWork) -> tuple[Account, Account]:
    """Link two accounts (e.g. companies of one group); each then lists the other."""
    if cmd.account_id == cmd.linked_account_id:
        raise ValidationError("linkedAccountId", "an account cannot be linked to itself")
    account = await uow.get(Account, cmd.account_id)
    other = await uow.get(Account, cmd.linked_account_id)
    if await uow.links(Link.ACCOUNT_LINK, account_id=account.id, linked_account_id=other.id) or await uow.links(
        Link.ACCOUNT_LINK, account_id=other.id, linked_account_id=account.id
    ):
        raise Conflict(f"accounts {ref(account)} and {ref(other)} are already linked")
    await uow.link(Link.ACCOUNT_LINK, account_id=account.id, linked_account_id=other.id)
    await uow.link(Link.ACCOUNT_LINK, account_id=other.id, linked_account_id=account.id)
    for one, two in ((account, other), (other, account)):
        uow.audit("Account", one.id, "linkedAccounts", None, ref(two))
        uow.record(AccountChanged(entity_id=one.id, data={"fields": ["linked_accounts"], "linked": two.id}))
    await uow.commit()
    return account, other


async def unlink_accounts(cmd: AccountLink, uow: UnitOfWork) -> tuple[Account, Account]:
    """Remove the link between two accounts."""
    account = await uow.get(Account, cmd.account_id)
    other = await uow.get(Account, cmd.linked_account_id)
    removed = await uow.unlink(Link.ACCOUNT_LINK, account_id=account.id, linked_account_id=other.id)
    removed += await uow.unlink(Link.ACCOUNT_LINK, account_id=other.id, linked_account_id=account.id)
    if not removed:
        raise ValidationError("linkedAccountId", f"accounts {ref(account)} and {ref(other)} are not linked")
    for one, two in ((account, other), (other, account)):
        uow.audit("Account", one.id, "linkedAccounts", ref(two), None)
        uow.record(AccountChanged(entity_id=one.id, data={"fields": ["linked_accounts"], "unlinked": two.id}))
    await uow.commit()
    return account, other


# --- groups ---


@dataclass(kw_only=True)
class CreateAccountGroup:
    name: str


async def _unique_group_name(uow: UnitOfWork, name: str, own_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", "is required")
    if any(g.id != own_id for g in await uow.find(AccountGroup, name=name)):
        raise Conflict(f"an account group named {name!r} already exists")
    return name


async def create_account_group(cmd: CreateAccountGroup, uow: UnitOfWork) -> AccountGroup:
    """Create an account group."""
    group = await uow.add(AccountGroup(name=await _unique_group_name(uow, cmd.name)))
    uow.record(AccountGroupChanged(entity_id=group.id, data={"change": "created", "name": group.name}))
    await uow.commit()
    return group


@dataclass(kw_only=True)
class RenameAccountGroup:
    id: int
    name: str
    version: int | None = None


async def rename_account_group(cmd: RenameAccountGroup, uow: UnitOfWork) -> AccountGroup:
    """Rename an account group."""
    group = await uow.get(AccountGroup, cmd.id)
    expect_version(group, cmd.version)
    name = await _unique_group_name(uow, cmd.name, group.id)
    renamed = await uow.update(apply(group, {"name": name}))
    uow.record(AccountGroupChanged(entity_id=group.id, data={"change": "renamed", "name": name, "from": group.name}))
    await uow.commit()
    return renamed


@dataclass(kw_only=True)
class DeleteAccountGroup:
    id: int
    version: int | None = None


async def delete_account_group(cmd: DeleteAccountGroup, uow: UnitOfWork) -> int:
    """Delete an account group; its accounts stay and only leave the group (their history records it)."""
    group = await uow.get(AccountGroup, cmd.id)
    expect_version(group, cmd.version)
    members = [m["account_id"] for m in await uow.links(Link.ACCOUNT_GROUP_MEMBER, group_id=group.id)]
    await uow.unlink(Link.ACCOUNT_GROUP_MEMBER, group_id=group.id)
    for account_id in members:
        uow.audit("Account", account_id, "groups", group.name, None)
        uow.record(AccountChanged(entity_id=account_id, data={"fields": ["groups"], "leftGroupId": group.id}))
    await uow.delete(group)
    uow.record(
        AccountGroupChanged(entity_id=group.id, data={"change": "deleted", "name": group.name, "accountIds": members})
    )
    await uow.commit()
    return group.id


@dataclass(kw_only=True)
class GroupMembership:
    group_id: int
    account_id: int


async def add_account_to_group(cmd: GroupMembership, uow: UnitOfWork) -> tuple[AccountGroup, Account]:
    """Add an account to a group."""
    group = await uow.get(AccountGroup, cmd.group_id)
    account = await uow.get(Account, cmd.account_id)
    if not await uow.link(Link.ACCOUNT_GROUP_MEMBER, group_id=group.id, account_id=account.id):
        raise Conflict(f"account {ref(account)} is already in group {group.name!r}")
    uow.audit("Account", account.id, "groups", None, group.name)
    uow.record(AccountChanged(entity_id=account.id, data={"fields": ["groups"], "joinedGroupId": group.id}))
    await uow.commit()
    return group, account


async def remove_account_from_group(cmd: GroupMembership, uow: UnitOfWork) -> tuple[AccountGroup, Account]:
    """Remove an account from a group."""
    group = await uow.get(AccountGroup, cmd.group_id)
    account = await uow.get(Account, cmd.account_id)
    if not await uow.unlink(Link.ACCOUNT_GROUP_MEMBER, group_id=group.id, account_id=account.id):
        raise ValidationError("accountId", f"account {ref(account)} is not in group {group.name!r}")
    uow.audit("Account", account.id, "groups", group.name, None)
    uow.record(AccountChanged(entity_id=account.id, data={"fields": ["groups"], "leftGroupId": group.id}))
    await uow.commit()
    return group, account


# --- favourites ---


@dataclass(kw_only=True)
class Favourite:
    account_id: int


def _calling_user(uow: UnitOfWork) -> int:
    if uow.actor.user_id is None:
        raise PermissionDenied("favourites belong to users; a partner has none")
    return uow.actor.user_id


async def add_favourite_account(cmd: Favourite, uow: UnitOfWork) -> Account:
    """Mark an account as one of your favourites."""
    user_id = _calling_user(uow)
    account = await uow.get(Account, cmd.account_id)
    if not await uow.link(Link.FAVOURITE, user_id=user_id, account_id=account.id):
        raise Conflict(f"account {ref(account)} is already one of your favourites")
    uow.audit("Account", account.id, "favouriteOf", None, ref("User", user_id))
    uow.record(AccountChanged(entity_id=account.id, data={"fields": ["favourites"], "favouriteOf": user_id}))
    await uow.commit()
    return account


async def remove_favourite_account(cmd: Favourite, uow: UnitOfWork) -> Account:
    """Remove an account from your favourites."""
    user_id = _calling_user(uow)
    account = await uow.get(Account, cmd.account_id)
    if not await uow.unlink(Link.FAVOURITE, user_id=user_id, account_id=account.id):
        raise ValidationError("accountId", f"account {ref(account)} is not one of your favourites")
    uow.audit("Account", account.id, "favouriteOf", ref("User", user_id), None)
    uow.record(AccountChanged(entity_id=account.id, data={"fields": ["favourites"], "noLongerFavouriteOf": user_id}))
    await uow.commit()
    return account


# --- managing partner ---


@dataclass(kw_only=True)
class AssignAccountPartner:
    id: int
    partner_id: int | None
    version: int | None = None


async def assign_account_partner(cmd: AssignAccountPartner, uow: UnitOfWork) -> Account:
    """Give an account to a partner to manage, or take it back."""
    account = await uow.get(Account, cmd.id)
    expect_version(account, cmd.version)
    if cmd.partner_id is not None:
        await uow.get(Partner, cmd.partner_id)
    if cmd.partner_id == account.partner_id:
        whom = "this partner" if cmd.partner_id else "no partner"
        raise Conflict(f"account {ref(account)} is already managed by {whom}")
    updated = await uow.update(apply(account, {"partner_id": cmd.partner_id}))
    uow.record(
        AccountChanged(
            entity_id=updated.id,
            data={"fields": ["partner_id"], "partnerId": cmd.partner_id, "previousPartnerId": account.partner_id},
        )
    )
    await uow.commit()
    return updated


# --- contact types ---


@dataclass(kw_only=True)
class CreateContactType:
    name: str
    kind: ContactKind


async def _unique_type_name(uow: UnitOfWork, name: str, own_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", "is required")
    if any(t.id != own_id for t in await uow.find(ContactType, name=name)):
        raise Conflict(f"a contact type named {name!r} already exists")
    return name


async def create_contact_type(cmd: CreateContactType, uow: UnitOfWork) -> ContactType:
    """Create a contact type based on EMPLOYEE or CONSULTANT."""
    kind = ContactKind(cmd.kind)
    created = await uow.add(ContactType(name=await _unique_type_name(uow, cmd.name), kind=kind))
    uow.record(
        ContactTypeChanged(entity_id=created.id, data={"change": "created", "name": created.name, "kind": kind.value})
    )
    await uow.commit()
    return created


@dataclass(kw_only=True)
class UpdateContactType:
    id: int
    name: str
    version: int | None = None


async def update_contact_type(cmd: UpdateContactType, uow: UnitOfWork) -> ContactType:
    """Rename a contact type; its kind stays (contacts of it are employees or consultants for good)."""
    current = await uow.get(ContactType, cmd.id)
    expect_version(current, cmd.version)
    name = await _unique_type_name(uow, cmd.name, current.id)
    renamed = await uow.update(apply(current, {"name": name}))
    uow.record(
        ContactTypeChanged(
            entity_id=current.id,
            data={"change": "renamed", "name": name, "from": current.name, "kind": current.kind.value},
        )
    )
    await uow.commit()
    return renamed


@dataclass(kw_only=True)
class DeleteContactType:
    id: int
    version: int | None = None


async def delete_contact_type(cmd: DeleteContactType, uow: UnitOfWork) -> int:
    """Delete an unused contact type; the last type of a kind stays, so employees and consultants can always be
    created."""
    current = await uow.get(ContactType, cmd.id)
    expect_version(current, cmd.version)
    used = await uow.count(Contact, contact_type_id=current.id)
    if used:
        raise Conflict(f"contact type {current.name!r} is used by {used} contact(s); give them another type first")
    if len(await _types_of_kind(uow, current.kind)) <= 1:
        raise Conflict(f"contact type {current.name!r} is the last {current.kind.value} type; it cannot be deleted")
    await uow.delete(current)
    uow.record(
        ContactTypeChanged(
            entity_id=current.id, data={"change": "deleted", "name": current.name, "kind": current.kind.value}
        )
    )
    await uow.commit()
    return current.id


async def _types_of_kind(uow: UnitOfWork, kind: ContactKind) -> list[ContactType]:
    # Not find(kind=...): the unit of work's first parameter is itself called `kind`.
    return [t for t in await uow.find(ContactType) if t.kind is kind]


async def contact_type_of_kind(uow: UnitOfWork, type_id: int | None, kind: ContactKind) -> ContactType:
    """The contact type to use: the given one, which must be of `kind`, or the first type of `kind`."""
    if type_id is None:
        types = await _types_of_kind(uow, kind)
        if not types:
            raise ValidationError("contactTypeId", f"there is no {kind.value} contact type; create one first")
        return types[0]
    chosen = await uow.get(ContactType, type_id)
    if chosen.kind is not kind:
        raise ValidationError(
            "contactTypeId",
            f"contact type {chosen.name!r} is for a {chosen.kind.value.lower()}, not a {kind.value.lower()}",
        )
    return chosen


# --- contacts ---


@dataclass(kw_only=True)
class CreateContact:
    """An employee of an account (consultants of partners: see people.create_consultant). A contact has
    no category of its own: it shows its account's."""

    account_id: int
    first_name: str
    last_name: str
    contact_type_id: int | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    skype: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)


async def create_contact(cmd: CreateContact, uow: UnitOfWork) -> Contact:
    """Create an employee of an account (consultants: createConsultant)."""
    account = await uow.get(Account, cmd.account_id)
    contact_type = await contact_type_of_kind(uow, cmd.contact_type_id, ContactKind.EMPLOYEE)
    custom = await custom_values(uow, CriteriaEntity.CONTACT, cmd.custom_fields)
    contact = await uow.add(
        Contact(
            account_id=account.id,
            first_name=cmd.first_name,
            last_name=cmd.last_name,
            contact_type_id=contact_type.id,
            title=cmd.title,
            email=cmd.email,
            phone=cmd.phone,
            skype=cmd.skype,
            lead_status=LeadStatus.OPEN,
            custom_fields=custom,
        )
    )
    uow.record(ContactCreated(entity_id=contact.id, data={"accountId": account.id, "contactTypeId": contact_type.id}))
    await uow.commit()
    return contact


@dataclass(kw_only=True)
class UpdateContact:
    id: int
    version: int | None = None
    first_name: str = UNSET
    last_name: str = UNSET
    contact_type_id: int = UNSET
    title: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    skype: str | None = UNSET
    custom_fields: dict[str, Any] = UNSET  # key by key; a null value removes one


def _ensure_not_anonymized(contact: Contact) -> None:
    if contact.anonymized:
        raise Conflict(f"contact {ref(contact)} was anonymized; its personal data cannot be set again")


async def update_contact(cmd: UpdateContact, uow: UnitOfWork) -> Contact:
    """Change a contact's data (not of an anonymized one)."""
    contact = await uow.get(Contact, cmd.id)
    expect_version(contact, cmd.version)
    _ensure_not_anonymized(contact)
    values = changes(cmd, "first_name", "last_name", "contact_type_id", "title", "email", "phone", "skype")
    if given(cmd.contact_type_id):
        kind = ContactKind.EMPLOYEE if contact.account_id is not None else ContactKind.CONSULTANT
        await contact_type_of_kind(uow, cmd.contact_type_id, kind)
    if given(cmd.custom_fields):
        values["custom_fields"] = await custom_values(
            uow, CriteriaEntity.CONTACT, cmd.custom_fields, contact.custom_fields
        )
    updated = await uow.update(apply(contact, values))
    uow.record(ContactChanged(entity_id=updated.id, data={"fields": sorted(values)}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class ContactRef:
    id: int
    version: int | None = None


async def delete_contact(cmd: ContactRef, uow: UnitOfWork) -> int:
    """Delete a contact with its business roles; leads that became it lose the link."""
    contact = await uow.get(Contact, cmd.id)
    expect_version(contact, cmd.version)
    await release_contact(uow, contact)
    await uow.delete(contact)
    uow.record(
        ContactDeleted(entity_id=contact.id, data={"accountId": contact.account_id, "partnerId": contact.partner_id})
    )
    await uow.commit()
    return contact.id


# A person's names are required (domain.accounts.Contact), so an erased contact keeps placeholders.


async def anonymize_contact(cmd: ContactRef, uow: UnitOfWork) -> Contact:
    """Wipe a contact's personal data for good (GDPR); the contact stays, anonymized, so statistics still add up.
    Irreversible."""
    contact = await uow.get(Contact, cmd.id)
    expect_version(contact, cmd.version)
    _ensure_not_anonymized(contact)
    updated = await wipe_person_of_contact(uow, contact)  # and the leads that became this contact
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class SetContactLeadStatus:
    id: int
    status: LeadStatus
    version: int | None = None


async def set_contact_lead_status(cmd: SetContactLeadStatus, uow: UnitOfWork) -> Contact:
    """Set the lead status of an employee of a PROSPECT account whose category has lead status switched on."""
    contact = await uow.get(Contact, cmd.id)
    expect_version(contact, cmd.version)
    _ensure_not_anonymized(contact)
    if contact.account_id is None:
        raise Conflict(f"contact {ref(contact)} is a partner's consultant; consultants have no lead status")
    # As the system, and not named: the rule is about the contact's account, whoever may see it.
    account = await uow.get(Account, contact.account_id, as_system=True)
    if account.category_group is not CategoryGroup.PROSPECT:
        raise Conflict(
            f"the account of contact {ref(contact)} is a {account.category_group.value}, not a PROSPECT: its "
            "contacts show no lead status"
        )
    if not await lead_status_on(uow, account):
        raise Conflict(
            f"the category of the account of contact {ref(contact)} has lead status switched off: its contacts "
            "show no lead status"
        )
    status = LeadStatus(cmd.status)
    previous = contact.lead_status
    updated = await uow.update(apply(contact, {"lead_status": status}))
    uow.record(
        ContactChanged(
            entity_id=updated.id, data={"fields": ["lead_status"], "from": previous.value, "to": status.value}
        )
    )
    await uow.commit()
    return updated
