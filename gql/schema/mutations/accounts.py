"""Mutations of accounts: create, change and delete them, and their sub-account parent, links to other
accounts, favourites and managing partner."""

from __future__ import annotations

import strawberry

from domain.workflows import accounts as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, node_payload, payload_type
from gql.schema import enums
from gql.schema.accounts import Account
from gql.schema.custom_fields import CUSTOM_FIELDS_TEXT, CUSTOM_FIELDS_UPDATE, CustomFieldValueInput, custom_input
from gql.schema.inputs import acts_on, described, gid, optional, ref, update_of
from gql.schema.mutations.common import RESTRICTED, WRITE


@strawberry.input(description="A custom attribute of an account: a key and its value.")
class KeyValueInput:
    key: str = described("The attribute's name.")
    value: str = described("The attribute's value.")


def _attributes(values: list[KeyValueInput]) -> dict[str, str]:
    return wf.custom_attributes([(v.key, v.value) for v in values])


@strawberry.input(description="A new account. A PERSON has a first and a last name, others a name.")
class CreateAccountInput:
    kind: enums.AccountKind = described("Person, organization or login.", update="New kind.")
    name: str | None = optional("The name (not for a PERSON).", update="New name (not for a PERSON).")
    first_name: str | None = optional("A person's first name.", update="New first name.")
    last_name: str | None = optional("A person's last name.", update="New last name.")
    organization: str | None = optional("The legal name, if it differs.")
    email: str | None = optional("The main e-mail address.")
    phone: str | None = optional("The main phone number.")
    street: str | None = optional("Street address.")
    city: str | None = optional("City.")
    postal_code: str | None = optional("Postal code.")
    country: str | None = optional("Country, ISO 3166 alpha-2.")
    registration_no: str | None = optional("Company registration number.")
    vat_no: str | None = optional("VAT number.")
    custom_fields: list[CustomFieldValueInput] | None = optional(CUSTOM_FIELDS_TEXT, update=CUSTOM_FIELDS_UPDATE)
    custom_attributes: list[KeyValueInput] | None = optional(
        "The custom field values as text, each read in its field's type (deprecated: use `customFields`).",
        update="Replaces all custom field values, each given as text; null or [] removes them (deprecated: use "
        "`customFields`).",
    )
    industry: str | None = optional("Industry.")
    manager_id: strawberry.ID | None = gid("User", "The managing user.", None, update="New manager.")
    key_account: bool = optional("True for a key account.", False, update="Key account or not.")
    category: str | None = optional("The category (its contacts inherit it).")
    category_group: enums.CategoryGroup = optional(
        "Prospect (default), customer or other.",
        enums.CategoryGroup.PROSPECT,
        update="New group; moving into PROSPECT resets the contacts' lead status to OPEN, moving out hides it (the "
        "value is kept).",
    )
    parent_id: strawberry.ID | None = gid("Account", "A parent, for a sub-account.", None, update=False)
    is_global: bool = optional("Visible to every user.", False, update="Visible to every user.")
    is_private: bool = optional(
        "Visible only to you, its creator (not global).", False, update="Only the account's creator may change it."
    )
    comment: str | None = optional("Free text.")
    partner_id: strawberry.ID | None = gid("Partner", "A partner that manages it.", None, update=False)


@acts_on("Account", "Make an account a sub-account of another, or a top-level account (parentId null).")
class SetAccountParentInput:
    parent_id: strawberry.ID | None = gid("Account", "The new parent, or null for none.")


@strawberry.input(description="Two accounts to link or unlink (the link shows on both).")
class AccountLinkInput:
    account_id: strawberry.ID = gid("Account", "One account.")
    linked_account_id: strawberry.ID = gid("Account", "The other account.")


@strawberry.input(description="An account to add to or remove from your favourites.")
class FavouriteAccountInput:
    account_id: strawberry.ID = gid("Account", "The account.")


@acts_on("Account", "Give an account to a partner to manage, or take it back (partnerId null).")
class AssignAccountPartnerInput:
    partner_id: strawberry.ID | None = gid("Partner", "The partner, or null for none.")


AccountPayload = node_payload(Account)
LinkedAccountsPayload = payload_type(
    "Two accounts that were linked or unlinked, as they are now.",
    account=(Account, "The first account."),
    linked_account=(Account, "The other account."),
)
ATTRIBUTES = {"custom_attributes": _attributes, "custom_fields": custom_input}
UpdateAccountInput = update_of(
    CreateAccountInput,
    "Changes to an account's data; fields left out stay as they are, null clears. The parent, the partner, links, "
    "groups and favourites have their own mutations.",
)
DeleteAccountInput = ref("Account", "Identifies an account to delete, with the version you read.")
create_account = update_account = mutation(wf, OWN_INPUT, AccountPayload, RESTRICTED, convert=ATTRIBUTES)
delete_account = mutation(wf, DeleteAccountInput, Deleted("Account"), WRITE)
set_account_parent = mutation(wf, SetAccountParentInput, AccountPayload, WRITE)
link_accounts = unlink_accounts = mutation(wf, AccountLinkInput, LinkedAccountsPayload, WRITE)
add_favourite_account = remove_favourite_account = mutation(wf, FavouriteAccountInput, AccountPayload, RESTRICTED)
assign_account_partner = mutation(wf, AssignAccountPartnerInput, AccountPayload, WRITE)
