"""Mutations of accounts: create, change and delete them, and their sub-account parent, links to other
accounts, favourites and managing partner."""

from __future__ import annotations

import strawberry

from domain.errors import Conflict, NotFound, PermissionDenied
from domain.workflows import accounts as wf
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema import enums
from gql.schema.accounts import Account
from gql.schema.inputs import described, keep, optional
from gql.schema.mutations.common import KEEP, VERSION


@strawberry.input(description="A custom attribute of an account: a key and its value.")
class KeyValueInput:
    key: str = described("The attribute's name.")
    value: str = described("The attribute's value.")


def _attributes(values: list[KeyValueInput]) -> dict[str, str]:
    return wf.custom_attributes([(v.key, v.value) for v in values])


@strawberry.input(description="A new account. A PERSON has a first and a last name, others a name.")
class CreateAccountInput:
    kind: enums.AccountKind = described("Person, organization or login.")
    name: str | None = optional("The name (not for a PERSON).")
    first_name: str | None = optional("A person's first name.")
    last_name: str | None = optional("A person's last name.")
    organization: str | None = optional("The legal name, if it differs.")
    email: str | None = optional("The main e-mail address.")
    phone: str | None = optional("The main phone number.")
    street: str | None = optional("Street address.")
    city: str | None = optional("City.")
    postal_code: str | None = optional("Postal code.")
    country: str | None = optional("Country, ISO 3166 alpha-2.")
    registration_no: str | None = optional("Company registration number.")
    vat_no: str | None = optional("VAT number.")
    custom_attributes: list[KeyValueInput] | None = optional("Custom attributes.")
    industry: str | None = optional("Industry.")
    manager_id: strawberry.ID | None = gid("User", default=None, description="The managing user.")
    key_account: bool = strawberry.field(default=False, description="True for a key account.")
    category: str | None = optional("The category (its contacts inherit it).")
    category_group: enums.CategoryGroup = strawberry.field(
        default=enums.CategoryGroup.PROSPECT, description="Prospect (default), customer or other."
    )
    parent_id: strawberry.ID | None = gid("Account", default=None, description="A parent, for a sub-account.")
    is_global: bool = strawberry.field(default=False, description="Visible to every user.")
    is_private: bool = strawberry.field(default=False, description="Visible only to you, its creator (not global).")
    comment: str | None = optional("Free text.")
    partner_id: strawberry.ID | None = gid("Partner", default=None, description="A partner that manages it.")


@strawberry.input(
    description="Changes to an account's data; fields left out stay as they are, null clears. The "
    "parent, the partner, links, groups and favourites have their own mutations."
)
class UpdateAccountInput:
    id: strawberry.ID = gid("Account", description="The account.")
    version: int | None = optional(VERSION)
    kind: enums.AccountKind | None = keep("New kind.")
    name: str | None = keep("New name (not for a PERSON).")
    first_name: str | None = keep("New first name.")
    last_name: str | None = keep("New last name.")
    organization: str | None = keep(KEEP)
    email: str | None = keep(KEEP)
    phone: str | None = keep(KEEP)
    street: str | None = keep(KEEP)
    city: str | None = keep(KEEP)
    postal_code: str | None = keep(KEEP)
    country: str | None = keep(KEEP)
    registration_no: str | None = keep(KEEP)
    vat_no: str | None = keep(KEEP)
    custom_attributes: list[KeyValueInput] | None = keep("Replaces all custom attributes; null or [] removes them.")
    industry: str | None = keep(KEEP)
    manager_id: strawberry.ID | None = gid("User", default=strawberry.UNSET, description="New manager.")
    key_account: bool | None = keep("Key account or not.")
    category: str | None = keep(KEEP)
    category_group: enums.CategoryGroup | None = keep(
        "New group; moving into PROSPECT resets the contacts' lead status to "
        "OPEN, moving out hides it (the value is kept)."
    )
    is_global: bool | None = keep("Visible to every user.")
    is_private: bool | None = keep("Only the account's creator may change it.")
    comment: str | None = keep(KEEP)


@strawberry.input(description="Identifies an account to delete, with the version you read.")
class DeleteAccountInput:
    id: strawberry.ID = gid("Account", description="The account.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Make an account a sub-account of another, or a top-level account (parentId null).")
class SetAccountParentInput:
    id: strawberry.ID = gid("Account", description="The account.")
    parent_id: strawberry.ID | None = gid("Account", description="The new parent, or null for none.")
    version: int | None = optional(VERSION)


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
    version: int | None = optional(VERSION)


@strawberry.type(description="The account as it is after the change.")
class AccountPayload:
    account: Account = described("The account, with its new version.")


@strawberry.type(description="Two accounts that were linked or unlinked, as they are now.")
class LinkedAccountsPayload:
    account: Account = described("The first account.")
    linked_account: Account = described("The other account.")


ATTRIBUTES = {"custom_attributes": _attributes}


@strawberry.type
class AccountMutations:
    @mutation(
        wf.create_account,
        CreateAccountInput,
        AccountPayload,
        convert=ATTRIBUTES,
        errors=(NotFound, Conflict, PermissionDenied),
    )
    def create_account(self) -> None:
        """Create an account (you are its creator: only you may make it private)."""

    @mutation(
        wf.update_account,
        UpdateAccountInput,
        AccountPayload,
        convert=ATTRIBUTES,
        errors=(NotFound, Conflict, PermissionDenied),
    )
    def update_account(self) -> None:
        """Change an account's data. Moving it into the PROSPECT group resets its contacts' lead status to OPEN in the
        same change."""

    @mutation(wf.delete_account, DeleteAccountInput, Deleted("Account"), errors=(NotFound, Conflict))
    def delete_account(self) -> None:
        """Delete an account with its contacts, activities, links, group memberships and favourites. Refused while it
        has opportunities or contracts; its sub-accounts become top-level accounts."""

    @mutation(wf.set_account_parent, SetAccountParentInput, AccountPayload, errors=(NotFound, Conflict))
    def set_account_parent(self) -> None:
        """Make an account a sub-account of another (no cycles), or top-level again."""

    @mutation(wf.link_accounts, AccountLinkInput, LinkedAccountsPayload, errors=(NotFound, Conflict))
    def link_accounts(self) -> None:
        """Link two accounts (e.g. companies of one group); each then lists the other."""

    @mutation(wf.unlink_accounts, AccountLinkInput, LinkedAccountsPayload, errors=(NotFound, Conflict))
    def unlink_accounts(self) -> None:
        """Remove the link between two accounts."""

    @mutation(
        wf.add_favourite_account, FavouriteAccountInput, AccountPayload, errors=(NotFound, Conflict, PermissionDenied)
    )
    def add_favourite_account(self) -> None:
        """Mark an account as one of your favourites."""

    @mutation(
        wf.remove_favourite_account,
        FavouriteAccountInput,
        AccountPayload,
        errors=(NotFound, Conflict, PermissionDenied),
    )
    def remove_favourite_account(self) -> None:
        """Remove an account from your favourites."""

    @mutation(wf.assign_account_partner, AssignAccountPartnerInput, AccountPayload, errors=(NotFound, Conflict))
    def assign_account_partner(self) -> None:
        """Give an account to a partner to manage, or take it back."""
