"""Mutations of partners (resellers, consultancies) and of the consultants who work at them."""

from __future__ import annotations

import strawberry

from domain.errors import Conflict, NotFound
from domain.workflows import people as wf
from gql.resolvers.mutation import Deleted, gid, mutation
from gql.schema.mutations.common import KEEP, VERSION, ContactPayload
from gql.schema.people import Partner


@strawberry.input(description="A new partner (a reseller or consultancy).")
class CreatePartnerInput:
    name: str = strawberry.field(description="The partner's name.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    country: str | None = strawberry.field(default=None, description="Country, ISO 3166 alpha-2.")


@strawberry.input(description="Changes to a partner; fields left out stay as they are, null clears.")
class UpdatePartnerInput:
    id: strawberry.ID = gid("Partner", description="The partner.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    email: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    phone: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)
    country: str | None = strawberry.field(default=strawberry.UNSET, description=KEEP)


@strawberry.input(
    description="Identifies a partner to delete (only one that no longer holds accounts, leads or opportunities)."
)
class DeletePartnerInput:
    id: strawberry.ID = gid("Partner", description="The partner.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="A new consultant: a person working at a partner.")
class CreateConsultantInput:
    partner_id: strawberry.ID = gid("Partner", description="The partner.")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    contact_type_id: strawberry.ID | None = gid(
        "ContactType", default=None, description="A CONSULTANT contact type (default: the first one)."
    )
    title: str | None = strawberry.field(default=None, description="Job title.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    skype: str | None = strawberry.field(default=None, description="Skype name.")


@strawberry.type(description="The partner as it is after the change.")
class PartnerPayload:
    partner: Partner = strawberry.field(description="The partner.")


@strawberry.type
class PartnerMutations:
    create_partner = mutation(
        wf.create_partner,
        CreatePartnerInput,
        PartnerPayload,
        errors=(NotFound, Conflict),
        description="Create a partner.",
    )
    update_partner = mutation(
        wf.update_partner,
        UpdatePartnerInput,
        PartnerPayload,
        errors=(NotFound, Conflict),
        description="Change a partner's data.",
    )
    delete_partner = mutation(
        wf.delete_partner,
        DeletePartnerInput,
        Deleted("Partner"),
        errors=(NotFound, Conflict),
        description="Delete a partner with its consultants and the activities about it; refused "
        "while it still manages accounts or has leads or opportunities.",
    )
    create_consultant = mutation(
        wf.create_consultant,
        CreateConsultantInput,
        ContactPayload,
        errors=(NotFound, Conflict),
        description="Create a consultant: a contact working at a partner.",
    )
