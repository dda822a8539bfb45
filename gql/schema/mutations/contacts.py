"""Mutations of contacts (the employees of accounts) and of the contact types that classify contacts."""

from __future__ import annotations

import strawberry

from domain.errors import Conflict, NotFound
from domain.workflows import accounts as wf
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema import enums
from gql.schema.accounts import ContactType
from gql.schema.mutations.common import KEEP, VERSION, ContactPayload


@strawberry.input(
    description="A new employee of an account. Its lead status starts OPEN; its category is the account's."
)
class CreateContactInput:
    account_id: strawberry.ID = gid("Account", description="The account the person works at.")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    contact_type_id: strawberry.ID | None = gid(
        "ContactType", default=None, description="An EMPLOYEE contact type (default: the first one)."
    )
    title: str | None = strawberry.field(default=None, description="Job title.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    skype: str | None = strawberry.field(default=None, description="Skype name.")


@strawberry.input(description="Changes to a contact; fields left out stay as they are, null clears.")
class UpdateContactInput:
    id: strawberry.ID = gid("Contact", description="The contact.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="New first name.")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="New last name.")
    contact_type_id: strawberry.ID | None = gid(
        "ContactType", default=strawberry.UNSET, description="A contact type of the same kind (employee or consultant)."
    )
    title: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    email: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    phone: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    skype: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)


@strawberry.input(description="Identifies a contact, with the version you read.")
class ContactRefInput:
    id: strawberry.ID = gid("Contact", description="The contact.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Set a prospect contact's lead status.")
class SetContactLeadStatusInput:
    id: strawberry.ID = gid("Contact", description="The contact (an employee of a PROSPECT account).")
    status: enums.LeadStatus = strawberry.field(description="The new lead status.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="A new contact type, based on EMPLOYEE or CONSULTANT.")
class CreateContactTypeInput:
    name: str = strawberry.field(description="The name shown to users (unique).")
    kind: enums.ContactKind = strawberry.field(description="Employee (of an account) or consultant (of a partner).")


@strawberry.input(description="A new name for a contact type (its kind stays).")
class UpdateContactTypeInput:
    id: strawberry.ID = gid("ContactType", description="The contact type.")
    name: str = strawberry.field(description="The new name (unique).")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Identifies a contact type to delete (only an unused one, never the last of its kind).")
class DeleteContactTypeInput:
    id: strawberry.ID = gid("ContactType", description="The contact type.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.type(description="The contact type as it is after the change.")
class ContactTypePayload:
    contact_type: ContactType = strawberry.field(description="The contact type.")


@strawberry.type
class ContactMutations:
    create_contact = mutation(
        wf.create_contact,
        CreateContactInput,
        ContactPayload,
        errors=(NotFound, Conflict),
        description="Create an employee of an account (consultants: createConsultant).",
    )
    update_contact = mutation(
        wf.update_contact,
        UpdateContactInput,
        ContactPayload,
        errors=(NotFound, Conflict),
        description="Change a contact's data (not of an anonymized one).",
    )
    delete_contact = mutation(
        wf.delete_contact,
        ContactRefInput,
        Deleted("Contact"),
        errors=(NotFound, Conflict),
        description="Delete a contact with its business roles; leads that became it lose the link.",
    )
    anonymize_contact = mutation(
        wf.anonymize_contact,
        ContactRefInput,
        ContactPayload,
        errors=(NotFound, Conflict),
        description="Wipe a contact's personal data for good (GDPR); the contact stays, anonymized, "
        "so statistics still add up. Irreversible.",
    )
    set_contact_lead_status = mutation(
        wf.set_contact_lead_status,
        SetContactLeadStatusInput,
        ContactPayload,
        errors=(NotFound, Conflict),
        description="Set the lead status of an employee of a PROSPECT account.",
    )
    create_contact_type = mutation(
        wf.create_contact_type,
        CreateContactTypeInput,
        ContactTypePayload,
        errors=(NotFound, Conflict),
        description="Create a contact type based on EMPLOYEE or CONSULTANT.",
    )
    update_contact_type = mutation(
        wf.update_contact_type,
        UpdateContactTypeInput,
        ContactTypePayload,
        errors=(NotFound, Conflict),
        description="Rename a contact type.",
    )
    delete_contact_type = mutation(
        wf.delete_contact_type,
        DeleteContactTypeInput,
        Deleted("ContactType"),
        errors=(NotFound, Conflict),
        description="Delete an unused contact type (never the last one of its kind).",
    )
