"""Mutations of contacts (the employees of accounts) and of the contact types that classify contacts."""

from __future__ import annotations

import strawberry

from domain.workflows import accounts as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, node_payload
from gql.schema import enums
from gql.schema.accounts import ContactType
from gql.schema.custom_fields import CUSTOM_FIELDS_TEXT, CUSTOM_FIELDS_UPDATE, CustomFieldValueInput, custom_input
from gql.schema.inputs import acts_on, described, gid, optional, ref, update_of
from gql.schema.mutations.common import WRITE, ContactPayload


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


UpdateContactInput = update_of(CreateContactInput)
ContactRefInput = ref("Contact", "Identifies a contact, with the version you read.")
CUSTOM = {"custom_fields": custom_input}
create_contact = update_contact = mutation(wf, OWN_INPUT, ContactPayload, WRITE, convert=CUSTOM)
delete_contact = mutation(wf, ContactRefInput, Deleted("Contact"), WRITE)
anonymize_contact = mutation(wf, ContactRefInput, ContactPayload, WRITE)
set_contact_lead_status = mutation(wf, SetContactLeadStatusInput, ContactPayload, WRITE)
DeleteContactTypeInput = ref(
    "ContactType", "Identifies a contact type to delete (only an unused one, never the last of its kind)."
)
ContactTypePayload = node_payload(ContactType, contact_type="The contact type.")
create_contact_type = update_contact_type = mutation(wf, OWN_INPUT, ContactTypePayload, WRITE)
delete_contact_type = mutation(wf, DeleteContactTypeInput, Deleted("ContactType"), WRITE)
