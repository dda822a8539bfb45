"""Mutations of contacts (the employees of accounts) and of the contact types that classify contacts."""

from __future__ import annotations

import strawberry

from domain.workflows import accounts as wf
from gql.resolvers.mutation import Deleted, mutation, node_payload, payload_type
from gql.schema import enums
from gql.schema.accounts import CategorySetting, ContactType
from gql.schema.custom_fields import CUSTOM_FIELDS_TEXT, CUSTOM_FIELDS_UPDATE, CustomFieldValueInput, custom_input
from gql.schema.inputs import acts_on, changes, described, gid, optional
from gql.schema.mutations.common import RESTRICTED, WRITE, ContactPayload


@strawberry.input(
    description="A new employee of an account. Its lead status starts OPEN; its category is the account's."
)
class CreateContactInput:
    account_id: strawberry.ID = gid("Account", "The account the person works at.", update=False)
    first_name: str = described("First name.", update="New first name.")
    last_name: str = described("Last name.", update="New last name.")
    contact_type_id: strawberry.ID | None = gid(
        "ContactType",
        "An EMPLOYEE contact type (default: the first one).",
        None,
        update="A contact type of the same kind (employee or consultant).",
    )
    title: str | None = optional("Job title.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    skype: str | None = optional("Skype name.")
    custom_fields: list[CustomFieldValueInput] | None = optional(CUSTOM_FIELDS_TEXT, update=CUSTOM_FIELDS_UPDATE)


@changes(
    CreateContactInput,
    "Contact",
    "Changes to a contact; fields left out stay as they are, null clears.",
)
class UpdateContactInput: ...


@acts_on("Contact", "Identifies a contact, with the version you read.")
class ContactRefInput: ...


@acts_on("Contact", "Set a prospect contact's lead status.", what="The contact (an employee of a PROSPECT account).")
class SetContactLeadStatusInput:
    status: enums.LeadStatus = described("The new lead status.")


@strawberry.input(description="A new contact type, based on EMPLOYEE or CONSULTANT.")
class CreateContactTypeInput:
    name: str = described("The name shown to users (unique).")
    kind: enums.ContactKind = described("Employee (of an account) or consultant (of a partner).")


@acts_on("ContactType", "A new name for a contact type (its kind stays).")
class UpdateContactTypeInput:
    name: str = described("The new name (unique).")


@acts_on("ContactType", "Identifies a contact type to delete (only an unused one, never the last of its kind).")
class DeleteContactTypeInput: ...


@strawberry.input(description="Switch lead status on or off for an account category (admins).")
class SetCategoryLeadStatusInput:
    category: str = described("The category, as accounts carry it (e.g. Prospect).")
    lead_status: bool = described("On (true): employees of PROSPECT accounts in the category show their lead status.")


ContactTypePayload = payload_type(
    "The contact type as it is after the change.", contact_type=(ContactType, "The contact type.")
)

CUSTOM = {"custom_fields": custom_input}

create_contact = mutation(wf.create_contact, CreateContactInput, ContactPayload, WRITE, convert=CUSTOM)
update_contact = mutation(wf.update_contact, UpdateContactInput, ContactPayload, WRITE, convert=CUSTOM)
delete_contact = mutation(wf.delete_contact, ContactRefInput, Deleted("Contact"), WRITE)
anonymize_contact = mutation(wf.anonymize_contact, ContactRefInput, ContactPayload, WRITE)
set_contact_lead_status = mutation(wf.set_contact_lead_status, SetContactLeadStatusInput, ContactPayload, WRITE)
create_contact_type = mutation(wf.create_contact_type, CreateContactTypeInput, ContactTypePayload, WRITE)
update_contact_type = mutation(wf.update_contact_type, UpdateContactTypeInput, ContactTypePayload, WRITE)
delete_contact_type = mutation(wf.delete_contact_type, DeleteContactTypeInput, Deleted("ContactType"), WRITE)
set_category_lead_status = mutation(
    wf.set_category_lead_status, SetCategoryLeadStatusInput, node_payload(CategorySetting), RESTRICTED
)
