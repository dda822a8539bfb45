"""Mutations of partners (resellers, consultancies) and of the consultants who work at them."""

from __future__ import annotations

import strawberry

from domain.errors import Conflict, NotFound
from domain.workflows import people as wf
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema.inputs import described, keep, optional
from gql.schema.mutations.common import KEEP, VERSION, ContactPayload
from gql.schema.people import Partner


@strawberry.input(description="A new partner (a reseller or consultancy).")
class CreatePartnerInput:
    name: str = described("The partner's name.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    country: str | None = optional("Country, ISO 3166 alpha-2.")


@strawberry.input(description="Changes to a partner; fields left out stay as they are, null clears.")
class UpdatePartnerInput:
    id: strawberry.ID = gid("Partner", description="The partner.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    email: str | None = keep(KEEP)
    phone: str | None = keep(KEEP)
    country: str | None = keep(KEEP)


@strawberry.input(
    description="Identifies a partner to delete (only one that no longer holds accounts, leads or opportunities)."
)
class DeletePartnerInput:
    id: strawberry.ID = gid("Partner", description="The partner.")
    version: int | None = optional(VERSION)


@strawberry.input(description="A new consultant: a person working at a partner.")
class CreateConsultantInput:
    partner_id: strawberry.ID = gid("Partner", description="The partner.")
    first_name: str = described("First name.")
    last_name: str = described("Last name.")
    contact_type_id: strawberry.ID | None = gid(
        "ContactType", default=None, description="A CONSULTANT contact type (default: the first one)."
    )
    title: str | None = optional("Job title.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    skype: str | None = optional("Skype name.")


@strawberry.type(description="The partner as it is after the change.")
class PartnerPayload:
    partner: Partner = described("The partner.")


@strawberry.type
class PartnerMutations:
    @mutation(wf.create_partner, CreatePartnerInput, PartnerPayload, errors=(NotFound, Conflict))
    def create_partner(self) -> None:
        """Create a partner."""

    @mutation(wf.update_partner, UpdatePartnerInput, PartnerPayload, errors=(NotFound, Conflict))
    def update_partner(self) -> None:
        """Change a partner's data."""

    @mutation(wf.delete_partner, DeletePartnerInput, Deleted("Partner"), errors=(NotFound, Conflict))
    def delete_partner(self) -> None:
        """Delete a partner with its consultants and the activities about it; refused while it still manages accounts or
        has leads or opportunities."""

    @mutation(wf.create_consultant, CreateConsultantInput, ContactPayload, errors=(NotFound, Conflict))
    def create_consultant(self) -> None:
        """Create a consultant: a contact working at a partner."""
