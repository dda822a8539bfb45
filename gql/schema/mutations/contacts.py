"""Mutations of contacts (the employees of accounts) and of the contact types that classify contacts."""

from __future__ import annotations

import strawberry

from domain.errors import Conflict, NotFound
from domain.workflows import accounts as wf
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema import enums
from gql.schema.accounts import ContactType
from gql.schema.inputs import described, keep, optional
from gql.schema.mutations.common import KEEP, VERSION, ContactPayload


@strawberry.input(
    description="A new employee of an account. Its lead status starts OPEN; its category is the account's."
)
class CreateContactInput:
    account_id: strawberry.ID = gid("Account", description="The account the person works at.")
    first_name: str = described("First name.")
    last_name: str = described("Last name.")
    contact_type_id: strawberry.ID | None = gid(
        "ContactType", default=None, description="An EMPLOYEE contact type (default: the first one)."
    )
    title: str | None = optional("Job title.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    skype: str | None = optional("Skype name.")


@strawberry.input(description="Changes to a contact; fields left out stay as they are, null clears.")
class UpdateContactInput:
    id: strawberry.ID = gid("Contact", description="The contact.")
    version: int | None = optional(VERSION)
    first_name: str | None = keep("New first name.")
    last_name: str | None = keep("New last name.")
    contact_type_id: strawberry.ID | None = gid(
        "ContactType", default=strawberry.UNSET, description="A contact type of the same kind (employee or consultant)."
    )
    title: str | None = keep(KEEP)
    email: str | None = keep(KEEP)
    phone: str | None = keep(KEEP)
    skype: str | None = keep(KEEP)


@strawberry.input(description="Identifies a contact, with the version you read.")
class ContactRefInput:
    id: strawberry.ID = gid("Contact", description="The contact.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Set a prospect contact's lead status.")
class SetContactLeadStatusInput:
    id: strawberry.ID = gid("Contact", description="The contact (an employee of a PROSPECT account).")
    status: enums.LeadStatus = described("The new lead status.")
    version: int | None = optional(VERSION)


@strawberry.input(description="A new contact type, based on EMPLOYEE or CONSULTANT.")
class CreateContactTypeInput:
    name: str = described("The name shown to users (unique).")
    kind: enums.ContactKind = described("Employee (of an account) or consultant (of a partner).")


@strawberry.input(description="A new name for a contact type (its kind stays).")
class UpdateContactTypeInput:
    id: strawberry.ID = gid("ContactType", description="The contact type.")
    name: str = described("The new name (unique).")
    version: int | None = optional(VERSION)


@strawberry.input(description="Identifies a contact type to delete (only an unused one, never the last of its kind).")
class DeleteContactTypeInput:
    id: strawberry.ID = gid("ContactType", description="The contact type.")
    version: int | None = optional(VERSION)


@strawberry.type(description="The contact type as it is after the change.")
class ContactTypePayload:
    contact_type: ContactType = described("The contact type.")


@strawberry.type
class ContactMutations:
    @mutation(wf.create_contact, CreateContactInput, ContactPayload, errors=(NotFound, Conflict))
    def create_contact(self) -> None:
        """Create an employee of an account (consultants: createConsultant)."""

    @mutation(wf.update_contact, UpdateContactInput, ContactPayload, errors=(NotFound, Conflict))
    def update_contact(self) -> None:
        """Change a contact's data (not of an anonymized one)."""

    @mutation(wf.delete_contact, ContactRefInput, Deleted("Contact"), errors=(NotFound, Conflict))
    def delete_contact(self) -> None:
        """Delete a contact with its business roles; leads that became it lose the link."""

    @mutation(wf.anonymize_contact, ContactRefInput, ContactPayload, errors=(NotFound, Conflict))
    def anonymize_contact(self) -> None:
        """Wipe a contact's personal data for good (GDPR); the contact stays, anonymized, so statistics still add up.
        Irreversible."""

    @mutation(wf.set_contact_lead_status, SetContactLeadStatusInput, ContactPayload, errors=(NotFound, Conflict))
    def set_contact_lead_status(self) -> None:
        """Set the lead status of an employee of a PROSPECT account."""

    @mutation(wf.create_contact_type, CreateContactTypeInput, ContactTypePayload, errors=(NotFound, Conflict))
    def create_contact_type(self) -> None:
        """Create a contact type based on EMPLOYEE or CONSULTANT."""

    @mutation(wf.update_contact_type, UpdateContactTypeInput, ContactTypePayload, errors=(NotFound, Conflict))
    def update_contact_type(self) -> None:
        """Rename a contact type."""

    @mutation(wf.delete_contact_type, DeleteContactTypeInput, Deleted("ContactType"), errors=(NotFound, Conflict))
    def delete_contact_type(self) -> None:
        """Delete an unused contact type (never the last one of its kind)."""
