"""Mutations of accounts and the people around them: accounts, sub-accounts, links, groups, favourites,
managing partners, contacts and contact types, partners and consultants, sales activities, goals."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.errors import ValidationError
from domain.workflows import accounts as wf
from domain.workflows import activities as act
from domain.workflows import people as ppl
from gql import ids
from gql.errors import ClientError
from gql.resolvers.mutate import node, opt_pk, pk, run
from gql.schema import enums as e
from gql.schema.accounts import Account, AccountGroup, Contact, ContactType
from gql.schema.errors import UserError, result
from gql.schema.inputs import MoneyInput, maybe, opt, to_money
from gql.schema.mutations.common import DeletedPayload
from gql.schema.opportunities import SalesActivity
from gql.schema.people import Goal, Partner
from persistence import tables as t

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."
INPUT = "What to do; see the input type."
KEEP = "Left out: unchanged; null clears."


# --- payloads ---


@strawberry.type(description="The account as it is after the change.")
class AccountPayload:
    account: Account = strawberry.field(description="The account, with its new version.")


@strawberry.type(description="Two accounts that were linked or unlinked, as they are now.")
class LinkedAccountsPayload:
    account: Account = strawberry.field(description="The first account.")
    linked_account: Account = strawberry.field(description="The other account.")


@strawberry.type(description="An account group as it is after the change.")
class AccountGroupPayload:
    group: AccountGroup = strawberry.field(description="The group.")


@strawberry.type(description="An account that joined or left a group, and the group.")
class AccountGroupMembershipPayload:
    group: AccountGroup = strawberry.field(description="The group.")
    account: Account = strawberry.field(description="The account.")


@strawberry.type(description="The contact as it is after the change.")
class ContactPayload:
    contact: Contact = strawberry.field(description="The contact, with its new version.")


@strawberry.type(description="The contact type as it is after the change.")
class ContactTypePayload:
    contact_type: ContactType = strawberry.field(description="The contact type.")


@strawberry.type(description="The partner as it is after the change.")
class PartnerPayload:
    partner: Partner = strawberry.field(description="The partner.")


@strawberry.type(description="The sales activity as it is after the change.")
class SalesActivityPayload:
    activity: SalesActivity = strawberry.field(description="The activity.")


@strawberry.type(description="The goal as it is after it was set.")
class GoalPayload:
    goal: Goal = strawberry.field(description="The goal.")


# --- inputs: accounts ---


@strawberry.input(description="A custom attribute of an account: a key and its value.")
class KeyValueInput:
    key: str = strawberry.field(description="The attribute's name.")
    value: str = strawberry.field(description="The attribute's value.")


def _attributes(values: list[KeyValueInput]) -> dict[str, str]:
    return wf.custom_attributes([(v.key, v.value) for v in values])


@strawberry.input(description="A new account. A PERSON has a first and a last name, others a name.")
class CreateAccountInput:
    kind: e.AccountKind = strawberry.field(description="Person, organization or login.")
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
    manager_id: strawberry.ID | None = strawberry.field(default=None, description="The managing user.")
    key_account: bool = strawberry.field(default=False, description="True for a key account.")
    category: str | None = strawberry.field(default=None, description="The category (its contacts inherit it).")
    category_group: e.CategoryGroup = strawberry.field(
        default=e.CategoryGroup.PROSPECT, description="Prospect (default), customer or other."
    )
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="A parent, for a sub-account.")
    is_global: bool = strawberry.field(default=False, description="Visible to every user.")
    is_private: bool = strawberry.field(default=False, description="Visible only to you, its creator (not global).")
    comment: str | None = strawberry.field(default=None, description="Free text.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="A partner that manages it.")


@strawberry.input(
    description="Changes to an account's data; fields left out stay as they are, null clears. The "
    "parent, the partner, links, groups and favourites have their own mutations."
)
class UpdateAccountInput:
    id: strawberry.ID = strawberry.field(description="The account.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    kind: e.AccountKind | None = strawberry.field(default=strawberry.UNSET, description="New kind.")
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
    manager_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="New manager.")
    key_account: bool | None = strawberry.field(default=strawberry.UNSET, description="Key account or not.")
    category: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    category_group: e.CategoryGroup | None = strawberry.field(
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
    id: strawberry.ID = strawberry.field(description="The account.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Make an account a sub-account of another, or a top-level account (parentId null).")
class SetAccountParentInput:
    id: strawberry.ID = strawberry.field(description="The account.")
    parent_id: strawberry.ID | None = strawberry.field(description="The new parent, or null for none.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Two accounts to link or unlink (the link shows on both).")
class AccountLinkInput:
    account_id: strawberry.ID = strawberry.field(description="One account.")
    linked_account_id: strawberry.ID = strawberry.field(description="The other account.")


@strawberry.input(description="A new account group.")
class CreateAccountGroupInput:
    name: str = strawberry.field(description="The group's name (unique).")


@strawberry.input(description="A new name for an account group.")
class RenameAccountGroupInput:
    id: strawberry.ID = strawberry.field(description="The group.")
    name: str = strawberry.field(description="The new name (unique).")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Identifies an account group to delete (its accounts stay).")
class DeleteAccountGroupInput:
    id: strawberry.ID = strawberry.field(description="The group.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="An account and a group it joins or leaves.")
class AccountGroupMembershipInput:
    group_id: strawberry.ID = strawberry.field(description="The group.")
    account_id: strawberry.ID = strawberry.field(description="The account.")


@strawberry.input(description="An account to add to or remove from your favourites.")
class FavouriteAccountInput:
    account_id: strawberry.ID = strawberry.field(description="The account.")


@strawberry.input(description="Give an account to a partner to manage, or take it back (partnerId null).")
class AssignAccountPartnerInput:
    id: strawberry.ID = strawberry.field(description="The account.")
    partner_id: strawberry.ID | None = strawberry.field(description="The partner, or null for none.")
    version: int | None = strawberry.field(default=None, description=VERSION)


# --- inputs: contacts ---


@strawberry.input(
    description="A new employee of an account. Its lead status starts OPEN; its category is the account's."
)
class CreateContactInput:
    account_id: strawberry.ID = strawberry.field(description="The account the person works at.")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    contact_type_id: strawberry.ID | None = strawberry.field(
        default=None, description="An EMPLOYEE contact type (default: the first one)."
    )
    title: str | None = strawberry.field(default=None, description="Job title.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    skype: str | None = strawberry.field(default=None, description="Skype name.")


@strawberry.input(description="Changes to a contact; fields left out stay as they are, null clears.")
class UpdateContactInput:
    id: strawberry.ID = strawberry.field(description="The contact.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="New first name.")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="New last name.")
    contact_type_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A contact type of the same kind (employee or consultant)."
    )
    title: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    email: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    phone: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    skype: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)


@strawberry.input(description="Identifies a contact, with the version you read.")
class ContactRefInput:
    id: strawberry.ID = strawberry.field(description="The contact.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Set a prospect contact's lead status.")
class SetContactLeadStatusInput:
    id: strawberry.ID = strawberry.field(description="The contact (an employee of a PROSPECT account).")
    status: e.LeadStatus = strawberry.field(description="The new lead status.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="A new contact type, based on EMPLOYEE or CONSULTANT.")
class CreateContactTypeInput:
    name: str = strawberry.field(description="The name shown to users (unique).")
    kind: e.ContactKind = strawberry.field(description="Employee (of an account) or consultant (of a partner).")


@strawberry.input(description="A new name for a contact type (its kind stays).")
class UpdateContactTypeInput:
    id: strawberry.ID = strawberry.field(description="The contact type.")
    name: str = strawberry.field(description="The new name (unique).")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Identifies a contact type to delete (only an unused one, never the last of its kind).")
class DeleteContactTypeInput:
    id: strawberry.ID = strawberry.field(description="The contact type.")
    version: int | None = strawberry.field(default=None, description=VERSION)


# --- inputs: partners ---


@strawberry.input(description="A new partner (a reseller or consultancy).")
class CreatePartnerInput:
    name: str = strawberry.field(description="The partner's name.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    country: str | None = strawberry.field(default=None, description="Country, ISO 3166 alpha-2.")


@strawberry.input(description="Changes to a partner; fields left out stay as they are, null clears.")
class UpdatePartnerInput:
    id: strawberry.ID = strawberry.field(description="The partner.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    email: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    phone: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    country: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)


@strawberry.input(
    description="Identifies a partner to delete (only one that no longer holds accounts, leads or opportunities)."
)
class DeletePartnerInput:
    id: strawberry.ID = strawberry.field(description="The partner.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="A new consultant: a person working at a partner.")
class CreateConsultantInput:
    partner_id: strawberry.ID = strawberry.field(description="The partner.")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    contact_type_id: strawberry.ID | None = strawberry.field(
        default=None, description="A CONSULTANT contact type (default: the first one)."
    )
    title: str | None = strawberry.field(default=None, description="Job title.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    skype: str | None = strawberry.field(default=None, description="Skype name.")


# --- inputs: activities and goals ---


@strawberry.input(description="A new sales activity about one lead, opportunity, account or partner.")
class CreateSalesActivityInput:
    attach_to_id: strawberry.ID = strawberry.field(
        description="The id of the Lead, Opportunity, Account or Partner the activity is about."
    )
    type: e.ActivityType = strawberry.field(description="What kind of activity.")
    subject: str = strawberry.field(description="A short subject.")
    owner_id: strawberry.ID | None = strawberry.field(default=None, description="Who does it (default: you).")
    notes: str | None = strawberry.field(default=None, description="Notes.")
    due_at: dt.datetime | None = strawberry.field(default=None, description="When it is due.")
    occurred_at: dt.datetime | None = strawberry.field(
        default=None, description="When it happened (default for a done activity: now)."
    )
    done: bool = strawberry.field(default=False, description="True to log something that already happened.")
    duration_minutes: int | None = strawberry.field(default=None, description="Duration in minutes.")


@strawberry.input(description="Changes to a sales activity; fields left out stay as they are, null clears.")
class UpdateSalesActivityInput:
    id: strawberry.ID = strawberry.field(description="The activity.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    type: e.ActivityType | None = strawberry.field(default=strawberry.UNSET, description="New kind.")
    subject: str | None = strawberry.field(default=strawberry.UNSET, description="New subject.")
    owner_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="New owner.")
    notes: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    due_at: dt.datetime | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    occurred_at: dt.datetime | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    duration_minutes: int | None = strawberry.field(default=strawberry.UNSET, description=KEEP)


@strawberry.input(description="Mark a sales activity done.")
class CompleteSalesActivityInput:
    id: strawberry.ID = strawberry.field(description="The activity.")
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="When (default: now).")
    notes: str | None = strawberry.field(default=None, description="How it went (replaces the notes if given).")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Identifies a sales activity to delete.")
class DeleteSalesActivityInput:
    id: strawberry.ID = strawberry.field(description="The activity.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="A user's targets for a period; setting it again for the same period replaces it.")
class SetGoalInput:
    user_id: strawberry.ID = strawberry.field(description="The user.")
    period_start: dt.date = strawberry.field(description="First day of the period.")
    period_end: dt.date = strawberry.field(description="Last day of the period.")
    target_revenue: MoneyInput = strawberry.field(description="The revenue to win in the period.")
    target_deals: int = strawberry.field(default=0, description="How many deals to win in the period.")


# --- results ---

CreateAccountResult = result("CreateAccountResult", AccountPayload)
UpdateAccountResult = result("UpdateAccountResult", AccountPayload)
DeleteAccountResult = result("DeleteAccountResult", DeletedPayload)
SetAccountParentResult = result("SetAccountParentResult", AccountPayload)
LinkAccountsResult = result("LinkAccountsResult", LinkedAccountsPayload)
UnlinkAccountsResult = result("UnlinkAccountsResult", LinkedAccountsPayload)
CreateAccountGroupResult = result("CreateAccountGroupResult", AccountGroupPayload)
RenameAccountGroupResult = result("RenameAccountGroupResult", AccountGroupPayload)
DeleteAccountGroupResult = result("DeleteAccountGroupResult", DeletedPayload)
AddAccountToGroupResult = result("AddAccountToGroupResult", AccountGroupMembershipPayload)
RemoveAccountFromGroupResult = result("RemoveAccountFromGroupResult", AccountGroupMembershipPayload)
AddFavouriteAccountResult = result("AddFavouriteAccountResult", AccountPayload)
RemoveFavouriteAccountResult = result("RemoveFavouriteAccountResult", AccountPayload)
AssignAccountPartnerResult = result("AssignAccountPartnerResult", AccountPayload)
CreateContactResult = result("CreateContactResult", ContactPayload)
UpdateContactResult = result("UpdateContactResult", ContactPayload)
DeleteContactResult = result("DeleteContactResult", DeletedPayload)
AnonymizeContactResult = result("AnonymizeContactResult", ContactPayload)
SetContactLeadStatusResult = result("SetContactLeadStatusResult", ContactPayload)
CreateContactTypeResult = result("CreateContactTypeResult", ContactTypePayload)
UpdateContactTypeResult = result("UpdateContactTypeResult", ContactTypePayload)
DeleteContactTypeResult = result("DeleteContactTypeResult", DeletedPayload)
CreatePartnerResult = result("CreatePartnerResult", PartnerPayload)
UpdatePartnerResult = result("UpdatePartnerResult", PartnerPayload)
DeletePartnerResult = result("DeletePartnerResult", DeletedPayload)
CreateConsultantResult = result("CreateConsultantResult", ContactPayload)
CreateSalesActivityResult = result("CreateSalesActivityResult", SalesActivityPayload)
UpdateSalesActivityResult = result("UpdateSalesActivityResult", SalesActivityPayload)
CompleteSalesActivityResult = result("CompleteSalesActivityResult", SalesActivityPayload)
DeleteSalesActivityResult = result("DeleteSalesActivityResult", DeletedPayload)
SetGoalResult = result("SetGoalResult", GoalPayload)


# --- from outcomes to payloads ---


async def account_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return AccountPayload(account=await node(info, Account, t.accounts, outcome.id))


async def linked_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    one, other = outcome
    return LinkedAccountsPayload(
        account=await node(info, Account, t.accounts, one.id),
        linked_account=await node(info, Account, t.accounts, other.id),
    )


async def group_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return AccountGroupPayload(group=await node(info, AccountGroup, t.account_groups, outcome.id))


async def membership_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    group, account = outcome
    return AccountGroupMembershipPayload(
        group=await node(info, AccountGroup, t.account_groups, group.id),
        account=await node(info, Account, t.accounts, account.id),
    )


async def contact_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return ContactPayload(contact=await node(info, Contact, t.contacts, outcome.id))


async def contact_type_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return ContactTypePayload(contact_type=await node(info, ContactType, t.contact_types, outcome.id))


async def partner_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return PartnerPayload(partner=await node(info, Partner, t.partners, outcome.id))


async def activity_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return SalesActivityPayload(activity=await node(info, SalesActivity, t.sales_activities, outcome.id))


def deleted(type_name: str, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return DeletedPayload(deleted_id=strawberry.ID(ids.encode(type_name, outcome)))


def _account(value: strawberry.ID, field: str = "id") -> int:
    return pk(value, "Account", field)


def _contact(value: strawberry.ID) -> int:
    return pk(value, "Contact", "id")


def _target(value: strawberry.ID) -> act.Target:
    """The activity's target from one global id."""
    try:
        return act.Target(*ids.decode(str(value)))
    except ClientError as error:
        raise ValidationError("attachToId", error.message) from None


def _nullable_enum(value):  # noqa: ANN001, ANN202
    return maybe(value, lambda v: v.value)


@strawberry.type
class AccountMutations:
    # --- accounts ---

    @strawberry.mutation(description="Create an account (you are its creator: only you may make it private).")
    async def create_account(
        self,
        info: Info,
        input: Annotated[CreateAccountInput, strawberry.argument(description=INPUT)],
    ) -> CreateAccountResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_account(
                wf.CreateAccount(
                    kind=input.kind.value,
                    name=input.name,
                    first_name=input.first_name,
                    last_name=input.last_name,
                    organization=input.organization,
                    email=input.email,
                    phone=input.phone,
                    street=input.street,
                    city=input.city,
                    postal_code=input.postal_code,
                    country=input.country,
                    registration_no=input.registration_no,
                    vat_no=input.vat_no,
                    custom_attributes=_attributes(input.custom_attributes or []),
                    industry=input.industry,
                    manager_id=opt_pk(input.manager_id, "User", "managerId"),
                    key_account=input.key_account,
                    category=input.category,
                    category_group=input.category_group.value,
                    parent_id=opt_pk(input.parent_id, "Account", "parentId"),
                    is_global=input.is_global,
                    is_private=input.is_private,
                    comment=input.comment,
                    partner_id=opt_pk(input.partner_id, "Partner", "partnerId"),
                ),
                uow,
            )

        return await account_payload(info, await run(info, work))

    @strawberry.mutation(
        description="Change an account's data. Moving it into the PROSPECT group resets its "
        "contacts' lead status to OPEN in the same change."
    )
    async def update_account(
        self,
        info: Info,
        input: Annotated[UpdateAccountInput, strawberry.argument(description=INPUT)],
    ) -> UpdateAccountResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_account(
                wf.UpdateAccount(
                    id=_account(input.id),
                    version=input.version,
                    kind=_nullable_enum(input.kind),
                    name=opt(input.name),
                    first_name=opt(input.first_name),
                    last_name=opt(input.last_name),
                    organization=opt(input.organization),
                    email=opt(input.email),
                    phone=opt(input.phone),
                    street=opt(input.street),
                    city=opt(input.city),
                    postal_code=opt(input.postal_code),
                    country=opt(input.country),
                    registration_no=opt(input.registration_no),
                    vat_no=opt(input.vat_no),
                    custom_attributes=_new_attributes(input.custom_attributes),
                    industry=opt(input.industry),
                    manager_id=maybe(input.manager_id, lambda v: pk(v, "User", "managerId")),
                    key_account=_required(input.key_account, "keyAccount"),
                    category=opt(input.category),
                    category_group=_required(_nullable_enum(input.category_group), "categoryGroup"),
                    is_global=_required(input.is_global, "isGlobal"),
                    is_private=_required(input.is_private, "isPrivate"),
                    comment=opt(input.comment),
                ),
                uow,
            )

        return await account_payload(info, await run(info, work))

    @strawberry.mutation(
        description="Delete an account with its contacts, activities, links, group memberships and "
        "favourites. Refused while it has opportunities or contracts; its sub-accounts "
        "become top-level accounts."
    )
    async def delete_account(
        self,
        info: Info,
        input: Annotated[DeleteAccountInput, strawberry.argument(description=INPUT)],
    ) -> DeleteAccountResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_account(wf.DeleteAccount(id=_account(input.id), version=input.version), uow)

        return deleted("Account", await run(info, work))

    @strawberry.mutation(description="Make an account a sub-account of another (no cycles), or top-level again.")
    async def set_account_parent(
        self,
        info: Info,
        input: Annotated[SetAccountParentInput, strawberry.argument(description=INPUT)],
    ) -> SetAccountParentResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.set_account_parent(
                wf.SetAccountParent(
                    id=_account(input.id),
                    parent_id=opt_pk(input.parent_id, "Account", "parentId"),
                    version=input.version,
                ),
                uow,
            )

        return await account_payload(info, await run(info, work))

    @strawberry.mutation(description="Link two accounts (e.g. companies of one group); each then lists the other.")
    async def link_accounts(
        self,
        info: Info,
        input: Annotated[AccountLinkInput, strawberry.argument(description=INPUT)],
    ) -> LinkAccountsResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.link_accounts(
                wf.AccountLink(
                    account_id=_account(input.account_id, "accountId"),
                    linked_account_id=_account(input.linked_account_id, "linkedAccountId"),
                ),
                uow,
            )

        return await linked_payload(info, await run(info, work))

    @strawberry.mutation(description="Remove the link between two accounts.")
    async def unlink_accounts(
        self,
        info: Info,
        input: Annotated[AccountLinkInput, strawberry.argument(description=INPUT)],
    ) -> UnlinkAccountsResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.unlink_accounts(
                wf.AccountLink(
                    account_id=_account(input.account_id, "accountId"),
                    linked_account_id=_account(input.linked_account_id, "linkedAccountId"),
                ),
                uow,
            )

        return await linked_payload(info, await run(info, work))

    @strawberry.mutation(description="Create an account group.")
    async def create_account_group(
        self,
        info: Info,
        input: Annotated[CreateAccountGroupInput, strawberry.argument(description=INPUT)],
    ) -> CreateAccountGroupResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_account_group(wf.CreateAccountGroup(name=input.name), uow)

        return await group_payload(info, await run(info, work))

    @strawberry.mutation(description="Rename an account group.")
    async def rename_account_group(
        self,
        info: Info,
        input: Annotated[RenameAccountGroupInput, strawberry.argument(description=INPUT)],
    ) -> RenameAccountGroupResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.rename_account_group(
                wf.RenameAccountGroup(id=pk(input.id, "AccountGroup", "id"), name=input.name, version=input.version),
                uow,
            )

        return await group_payload(info, await run(info, work))

    @strawberry.mutation(description="Delete an account group; its accounts stay and only leave the group.")
    async def delete_account_group(
        self,
        info: Info,
        input: Annotated[DeleteAccountGroupInput, strawberry.argument(description=INPUT)],
    ) -> DeleteAccountGroupResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_account_group(
                wf.DeleteAccountGroup(id=pk(input.id, "AccountGroup", "id"), version=input.version), uow
            )

        return deleted("AccountGroup", await run(info, work))

    @strawberry.mutation(description="Add an account to a group.")
    async def add_account_to_group(
        self,
        info: Info,
        input: Annotated[AccountGroupMembershipInput, strawberry.argument(description=INPUT)],
    ) -> AddAccountToGroupResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.add_account_to_group(
                wf.GroupMembership(
                    group_id=pk(input.group_id, "AccountGroup", "groupId"),
                    account_id=_account(input.account_id, "accountId"),
                ),
                uow,
            )

        return await membership_payload(info, await run(info, work))

    @strawberry.mutation(description="Remove an account from a group.")
    async def remove_account_from_group(
        self,
        info: Info,
        input: Annotated[AccountGroupMembershipInput, strawberry.argument(description=INPUT)],
    ) -> RemoveAccountFromGroupResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.remove_account_from_group(
                wf.GroupMembership(
                    group_id=pk(input.group_id, "AccountGroup", "groupId"),
                    account_id=_account(input.account_id, "accountId"),
                ),
                uow,
            )

        return await membership_payload(info, await run(info, work))

    @strawberry.mutation(description="Mark an account as one of your favourites.")
    async def add_favourite_account(
        self,
        info: Info,
        input: Annotated[FavouriteAccountInput, strawberry.argument(description=INPUT)],
    ) -> AddFavouriteAccountResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.add_favourite_account(wf.Favourite(account_id=_account(input.account_id, "accountId")), uow)

        return await account_payload(info, await run(info, work))

    @strawberry.mutation(description="Remove an account from your favourites.")
    async def remove_favourite_account(
        self,
        info: Info,
        input: Annotated[FavouriteAccountInput, strawberry.argument(description=INPUT)],
    ) -> RemoveFavouriteAccountResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.remove_favourite_account(
                wf.Favourite(account_id=_account(input.account_id, "accountId")), uow
            )

        return await account_payload(info, await run(info, work))

    @strawberry.mutation(description="Give an account to a partner to manage, or take it back.")
    async def assign_account_partner(
        self,
        info: Info,
        input: Annotated[AssignAccountPartnerInput, strawberry.argument(description=INPUT)],
    ) -> AssignAccountPartnerResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.assign_account_partner(
                wf.AssignAccountPartner(
                    id=_account(input.id),
                    partner_id=opt_pk(input.partner_id, "Partner", "partnerId"),
                    version=input.version,
                ),
                uow,
            )

        return await account_payload(info, await run(info, work))

    # --- contacts and contact types ---

    @strawberry.mutation(description="Create an employee of an account (consultants: createConsultant).")
    async def create_contact(
        self,
        info: Info,
        input: Annotated[CreateContactInput, strawberry.argument(description=INPUT)],
    ) -> CreateContactResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_contact(
                wf.CreateContact(
                    account_id=_account(input.account_id, "accountId"),
                    first_name=input.first_name,
                    last_name=input.last_name,
                    contact_type_id=opt_pk(input.contact_type_id, "ContactType", "contactTypeId"),
                    title=input.title,
                    email=input.email,
                    phone=input.phone,
                    skype=input.skype,
                ),
                uow,
            )

        return await contact_payload(info, await run(info, work))

    @strawberry.mutation(description="Change a contact's data (not of an anonymized one).")
    async def update_contact(
        self,
        info: Info,
        input: Annotated[UpdateContactInput, strawberry.argument(description=INPUT)],
    ) -> UpdateContactResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_contact(
                wf.UpdateContact(
                    id=_contact(input.id),
                    version=input.version,
                    first_name=_required(input.first_name, "firstName"),
                    last_name=_required(input.last_name, "lastName"),
                    contact_type_id=_required(
                        maybe(input.contact_type_id, lambda v: pk(v, "ContactType", "contactTypeId")), "contactTypeId"
                    ),
                    title=opt(input.title),
                    email=opt(input.email),
                    phone=opt(input.phone),
                    skype=opt(input.skype),
                ),
                uow,
            )

        return await contact_payload(info, await run(info, work))

    @strawberry.mutation(description="Delete a contact with its business roles; leads that became it lose the link.")
    async def delete_contact(
        self,
        info: Info,
        input: Annotated[ContactRefInput, strawberry.argument(description=INPUT)],
    ) -> DeleteContactResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_contact(wf.ContactRef(id=_contact(input.id), version=input.version), uow)

        return deleted("Contact", await run(info, work))

    @strawberry.mutation(
        description="Wipe a contact's personal data for good (GDPR); the contact stays, anonymized, "
        "so statistics still add up. Irreversible."
    )
    async def anonymize_contact(
        self,
        info: Info,
        input: Annotated[ContactRefInput, strawberry.argument(description=INPUT)],
    ) -> AnonymizeContactResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.anonymize_contact(wf.ContactRef(id=_contact(input.id), version=input.version), uow)

        return await contact_payload(info, await run(info, work))

    @strawberry.mutation(description="Set the lead status of an employee of a PROSPECT account.")
    async def set_contact_lead_status(
        self,
        info: Info,
        input: Annotated[SetContactLeadStatusInput, strawberry.argument(description=INPUT)],
    ) -> SetContactLeadStatusResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.set_contact_lead_status(
                wf.SetContactLeadStatus(id=_contact(input.id), status=input.status.value, version=input.version), uow
            )

        return await contact_payload(info, await run(info, work))

    @strawberry.mutation(description="Create a contact type based on EMPLOYEE or CONSULTANT.")
    async def create_contact_type(
        self,
        info: Info,
        input: Annotated[CreateContactTypeInput, strawberry.argument(description=INPUT)],
    ) -> CreateContactTypeResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_contact_type(wf.CreateContactType(name=input.name, kind=input.kind.value), uow)

        return await contact_type_payload(info, await run(info, work))

    @strawberry.mutation(description="Rename a contact type.")
    async def update_contact_type(
        self,
        info: Info,
        input: Annotated[UpdateContactTypeInput, strawberry.argument(description=INPUT)],
    ) -> UpdateContactTypeResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_contact_type(
                wf.UpdateContactType(id=pk(input.id, "ContactType", "id"), name=input.name, version=input.version), uow
            )

        return await contact_type_payload(info, await run(info, work))

    @strawberry.mutation(description="Delete an unused contact type (never the last one of its kind).")
    async def delete_contact_type(
        self,
        info: Info,
        input: Annotated[DeleteContactTypeInput, strawberry.argument(description=INPUT)],
    ) -> DeleteContactTypeResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_contact_type(
                wf.DeleteContactType(id=pk(input.id, "ContactType", "id"), version=input.version), uow
            )

        return deleted("ContactType", await run(info, work))

    # --- partners and consultants ---

    @strawberry.mutation(description="Create a partner.")
    async def create_partner(
        self,
        info: Info,
        input: Annotated[CreatePartnerInput, strawberry.argument(description=INPUT)],
    ) -> CreatePartnerResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await ppl.create_partner(
                ppl.CreatePartner(name=input.name, email=input.email, phone=input.phone, country=input.country), uow
            )

        return await partner_payload(info, await run(info, work))

    @strawberry.mutation(description="Change a partner's data.")
    async def update_partner(
        self,
        info: Info,
        input: Annotated[UpdatePartnerInput, strawberry.argument(description=INPUT)],
    ) -> UpdatePartnerResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await ppl.update_partner(
                ppl.UpdatePartner(
                    id=pk(input.id, "Partner", "id"),
                    version=input.version,
                    name=_required(input.name, "name"),
                    email=opt(input.email),
                    phone=opt(input.phone),
                    country=opt(input.country),
                ),
                uow,
            )

        return await partner_payload(info, await run(info, work))

    @strawberry.mutation(
        description="Delete a partner with its consultants and the activities about it; refused "
        "while it still manages accounts or has leads or opportunities."
    )
    async def delete_partner(
        self,
        info: Info,
        input: Annotated[DeletePartnerInput, strawberry.argument(description=INPUT)],
    ) -> DeletePartnerResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await ppl.delete_partner(
                ppl.DeletePartner(id=pk(input.id, "Partner", "id"), version=input.version), uow
            )

        return deleted("Partner", await run(info, work))

    @strawberry.mutation(description="Create a consultant: a contact working at a partner.")
    async def create_consultant(
        self,
        info: Info,
        input: Annotated[CreateConsultantInput, strawberry.argument(description=INPUT)],
    ) -> CreateConsultantResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await ppl.create_consultant(
                ppl.CreateConsultant(
                    partner_id=pk(input.partner_id, "Partner", "partnerId"),
                    first_name=input.first_name,
                    last_name=input.last_name,
                    contact_type_id=opt_pk(input.contact_type_id, "ContactType", "contactTypeId"),
                    title=input.title,
                    email=input.email,
                    phone=input.phone,
                    skype=input.skype,
                ),
                uow,
            )

        return await contact_payload(info, await run(info, work))

    # --- sales activities ---

    @strawberry.mutation(description="Log a sales activity about a lead, an opportunity, an account or a partner.")
    async def create_sales_activity(
        self,
        info: Info,
        input: Annotated[CreateSalesActivityInput, strawberry.argument(description=INPUT)],
    ) -> CreateSalesActivityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await act.create_sales_activity(
                act.CreateSalesActivity(
                    attach_to=_target(input.attach_to_id),
                    type=input.type.value,
                    subject=input.subject,
                    owner_id=opt_pk(input.owner_id, "User", "ownerId"),
                    notes=input.notes,
                    due_at=input.due_at,
                    occurred_at=input.occurred_at,
                    done=input.done,
                    duration_minutes=input.duration_minutes,
                ),
                uow,
            )

        return await activity_payload(info, await run(info, work))

    @strawberry.mutation(description="Change a sales activity (what it is about stays).")
    async def update_sales_activity(
        self,
        info: Info,
        input: Annotated[UpdateSalesActivityInput, strawberry.argument(description=INPUT)],
    ) -> UpdateSalesActivityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await act.update_sales_activity(
                act.UpdateSalesActivity(
                    id=pk(input.id, "SalesActivity", "id"),
                    version=input.version,
                    type=_required(_nullable_enum(input.type), "type"),
                    subject=_required(input.subject, "subject"),
                    owner_id=_required(maybe(input.owner_id, lambda v: pk(v, "User", "ownerId")), "ownerId"),
                    notes=opt(input.notes),
                    due_at=opt(input.due_at),
                    occurred_at=opt(input.occurred_at),
                    duration_minutes=opt(input.duration_minutes),
                ),
                uow,
            )

        return await activity_payload(info, await run(info, work))

    @strawberry.mutation(description="Mark a sales activity done.")
    async def complete_sales_activity(
        self,
        info: Info,
        input: Annotated[CompleteSalesActivityInput, strawberry.argument(description=INPUT)],
    ) -> CompleteSalesActivityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await act.complete_sales_activity(
                act.CompleteSalesActivity(
                    id=pk(input.id, "SalesActivity", "id"),
                    occurred_at=input.occurred_at,
                    notes=input.notes,
                    version=input.version,
                ),
                uow,
            )

        return await activity_payload(info, await run(info, work))

    @strawberry.mutation(description="Delete a sales activity.")
    async def delete_sales_activity(
        self,
        info: Info,
        input: Annotated[DeleteSalesActivityInput, strawberry.argument(description=INPUT)],
    ) -> DeleteSalesActivityResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return (
                await act.delete_sales_activity(
                    act.DeleteSalesActivity(id=pk(input.id, "SalesActivity", "id"), version=input.version), uow
                )
            ).id

        return deleted("SalesActivity", await run(info, work))

    # --- goals ---

    @strawberry.mutation(description="Set a user's goal for a period (replaces the goal of exactly that period).")
    async def set_goal(
        self,
        info: Info,
        input: Annotated[SetGoalInput, strawberry.argument(description=INPUT)],
    ) -> SetGoalResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await ppl.set_goal(
                ppl.SetGoal(
                    user_id=pk(input.user_id, "User", "userId"),
                    period_start=input.period_start,
                    period_end=input.period_end,
                    target_revenue=to_money(input.target_revenue),
                    target_deals=input.target_deals,
                ),
                uow,
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return GoalPayload(goal=await node(info, Goal, t.goals, outcome.id))


def _new_attributes(value):  # noqa: ANN001, ANN202
    if value is strawberry.UNSET:
        return opt(value)
    return _attributes(value or [])


def _required(value, field: str):  # noqa: ANN001, ANN202
    """A field that may be left out but not cleared: null is a ValidationError on it."""
    if value is None:
        raise ValidationError(field, "cannot be cleared; leave it out to keep it")
    return opt(value)
