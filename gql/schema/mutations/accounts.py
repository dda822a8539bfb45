"""Mutations of accounts: create, change and delete them, and their sub-account parent, links to other
accounts, favourites and managing partner."""

from __future__ import annotations

import strawberry

from domain.errors import Conflict, NotFound, PermissionDenied
from domain.workflows import accounts as wf
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema import enums
from gql.schema.accounts import Account
from gql.schema.mutations.common import KEEP, VERSION


@strawberry.input(description="A custom attribute of an account: a key and its value.")
class KeyValueInput:
    key: str = strawberry.field(description="The attribute's name.")
    value: str = strawberry.field(description="The attribute's value.")


def _attributes(values: list[KeyValueInput]) -> dict[str, str]:
    return wf.custom_attributes([(v.key, v.value) for v in values])


@strawberry.input(description="A new account. A PERSON has a first and a last name, others a name.")
class CreateAccountInput:
    kind: enums.AccountKind = strawberry.field(description="Person, organization or login.")
    name: str | None = strawberry.field(default=None, description="The name (not for a PERSON).")
    first_name: str | None = strawberry.field(default=None, description="A person's first name.")
    last_name: str | None = strawberry.field(default=None, description="A person's last name.")
    organization: str | None = strawberry.field(default=None, description="The legal name, if it differs.")
    email: str | None = strawberry.field(default=None, description="The main e-mail address.")
    phone: str | None = strawberry.field(default=None, description="The main phone number.")
    street: str | None = strawberry.field(default=None, description="Street address.")
    city: str | None = strawberry.field(default=None, description="City.")
    postal_code: str | None = strawberry.field(default=None, description="Postal code.")
    country: str | None = strawberry.field(default=None, description="Country, ISO 3166 alpha-2.")
    registration_no: str | None = strawberry.field(default=None, description="Company registration number.")
    vat_no: str | None = strawberry.field(default=None, description="VAT number.")
    custom_attributes: list[KeyValueInput] | None = strawberry.field(default=None, description="Custom attributes.")
    industry: str | None = strawberry.field(default=None, description="Industry.")
    manager_id: strawberry.ID | None = gid("User", default=None, description="The managing user.")
    key_account: bool = strawberry.field(default=False, description="True for a key account.")
    category: str | None = strawberry.field(default=None, description="The category (its contacts inherit it).")
    category_group: enums.CategoryGroup = strawberry.field(
        default=enums.CategoryGroup.PROSPECT, description="Prospect (default), customer or other."
    )
    parent_id: strawberry.ID | None = gid("Account", default=None, description="A parent, for a sub-account.")
    is_global: bool = strawberry.field(default=False, description="Visible to every user.")
    is_private: bool = strawberry.field(default=False, description="Visible only to you, its creator (not global).")
    comment: str | None = strawberry.field(default=None, description="Free text.")
    partner_id: strawberry.ID | None = gid("Partner", default=None, description="A partner that manages it.")


@strawberry.input(
    description="Changes to an account's data; fields left out stay as they are, null clears. The "
    "parent, the partner, links, groups and favourites have their own mutations."
)
class UpdateAccountInput:
    id: strawberry.ID = gid("Account", description="The account.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    kind: enums.AccountKind | None = strawberry.field(default=strawberry.UNSET, description="New kind.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name (not for a PERSON).")
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="New first name.")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="New last name.")
    organization: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    email: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    phone: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    street: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    city: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    postal_code: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    country: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    registration_no: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    vat_no: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    custom_attributes: list[KeyValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces all custom attributes; null or [] removes them."
    )
    industry: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    manager_id: strawberry.ID | None = gid("User", default=strawberry.UNSET, description="New manager.")
    key_account: bool | None = strawberry.field(default=strawberry.UNSET, description="Key account or not.")
    category: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    category_group: enums.CategoryGroup | None = strawberry.field(
        default=strawberry.UNSET,
        description="New group; moving into PROSPECT resets the contacts' lead status to "
        "OPEN, moving out hides it (the value is kept).",
    )
    is_global: bool | None = strawberry.field(default=strawberry.UNSET, description="Visible to every user.")
    is_private: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Only the account's creator may change it."
    )
    comment: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)


@strawberry.input(description="Identifies an account to delete, with the version you read.")
class DeleteAccountInput:
    id: strawberry.ID = gid("Account", description="The account.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Make an account a sub-account of another, or a top-level account (parentId null).")
class SetAccountParentInput:
    id: strawberry.ID = gid("Account", description="The account.")
    parent_id: strawberry.ID | None = gid("Account", description="The new parent, or null for none.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Two accounts to link or unlink (the link shows on both).")
class AccountLinkInput:
    account_id: strawberry.ID = gid("Account", description="One account.")
    linked_account_id: strawberry.ID = gid("Account", description="The other account.")


@strawberry.input(description="An account to add to or remove from your favourites.")
class FavouriteAccountInput:
    account_id: strawberry.ID = gid("Account", description="The account.")


@strawberry.input(description="Give an account to a partner to manage, or take it back (partnerId null).")
class AssignAccountPartnerInput:
    id: strawberry.ID = gid("Account", description="The account.")
    partner_id: strawberry.ID | None = gid("Partner", description="The partner, or null for none.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.type(description="The account as it is after the change.")
class AccountPayload:
    account: Account = strawberry.field(description="The account, with its new version.")


@strawberry.type(description="Two accounts that were linked or unlinked, as they are now.")
class LinkedAccountsPayload:
    account: Account = strawberry.field(description="The first account.")
    linked_account: Account = strawberry.field(description="The other account.")


ATTRIBUTES = {"custom_attributes": _attributes}


@strawberry.type
class AccountMutations:
    create_account = mutation(
        wf.create_account,
        CreateAccountInput,
        AccountPayload,
        convert=ATTRIBUTES,
        errors=(NotFound, Conflict, PermissionDenied),
        description="Create an account (you are its creator: only you may make it private).",
    )
    update_account = mutation(
        wf.update_account,
        UpdateAccountInput,
        AccountPayload,
        convert=ATTRIBUTES,
        errors=(NotFound, Conflict, PermissionDenied),
        description="Change an account's data. Moving it into the PROSPECT group resets its "
        "contacts' lead status to OPEN in the same change.",
    )
    delete_account = mutation(
        wf.delete_account,
        DeleteAccountInput,
        Deleted("Account"),
        errors=(NotFound, Conflict),
        description="Delete an account with its contacts, activities, links, group memberships and "
        "favourites. Refused while it has opportunities or contracts; its sub-accounts "
        "become top-level accounts.",
    )
    set_account_parent = mutation(
        wf.set_account_parent,
        SetAccountParentInput,
        AccountPayload,
        errors=(NotFound, Conflict),
        description="Make an account a sub-account of another (no cycles), or top-level again.",
    )
    link_accounts = mutation(
        wf.link_accounts,
        AccountLinkInput,
        LinkedAccountsPayload,
        errors=(NotFound, Conflict),
        description="Link two accounts (e.g. companies of one group); each then lists the other.",
    )
    unlink_accounts = mutation(
        wf.unlink_accounts,
        AccountLinkInput,
        LinkedAccountsPayload,
        errors=(NotFound, Conflict),
        description="Remove the link between two accounts.",
    )
    add_favourite_account = mutation(
        wf.add_favourite_account,
        FavouriteAccountInput,
        AccountPayload,
        errors=(NotFound, Conflict, PermissionDenied),
        description="Mark an account as one of your favourites.",
    )
    remove_favourite_account = mutation(
        wf.remove_favourite_account,
        FavouriteAccountInput,
        AccountPayload,
        errors=(NotFound, Conflict, PermissionDenied),
        description="Remove an account from your favourites.",
    )
    assign_account_partner = mutation(
        wf.assign_account_partner,
        AssignAccountPartnerInput,
        AccountPayload,
        errors=(NotFound, Conflict),
        description="Give an account to a partner to manage, or take it back.",
    )
