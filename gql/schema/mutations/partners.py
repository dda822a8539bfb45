"""Mutations of partners (resellers, consultancies) and of the consultants who work at them."""

from __future__ import annotations

import strawberry

from domain.errors import PermissionDenied
from domain.workflows import people as wf
from gql.resolvers.mutation import Deleted, mutation, payload_type
from gql.schema.attachments import PartnerComment
from gql.schema.inputs import acts_on, changes, described, gid, optional
from gql.schema.mutations.common import WRITE, ContactPayload
from gql.schema.people import Partner


@strawberry.input(description="A new partner (a reseller or consultancy).")
class CreatePartnerInput:
    name: str = described("The partner's name.", update="New name.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    country: str | None = optional("Country, ISO 3166 alpha-2.")


@changes(CreatePartnerInput, "Partner", "Changes to a partner; fields left out stay as they are, null clears.")
class UpdatePartnerInput: ...


@acts_on("Partner", "Identifies a partner to delete (only one that no longer holds accounts, leads or opportunities).")
class DeletePartnerInput: ...


@strawberry.input(description="A new consultant: a person working at a partner.")
class CreateConsultantInput:
    partner_id: strawberry.ID = gid("Partner", "The partner.")
    first_name: str = described("First name.")
    last_name: str = described("Last name.")
    contact_type_id: strawberry.ID | None = gid(
        "ContactType", "A CONSULTANT contact type (default: the first one).", None
    )
    title: str | None = optional("Job title.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    skype: str | None = optional("Skype name.")


PartnerPayload = payload_type("The partner as it is after the change.", partner=(Partner, "The partner."))
create_partner = mutation(wf.create_partner, CreatePartnerInput, PartnerPayload, WRITE)
update_partner = mutation(wf.update_partner, UpdatePartnerInput, PartnerPayload, WRITE)
delete_partner = mutation(wf.delete_partner, DeletePartnerInput, Deleted("Partner"), WRITE)
create_consultant = mutation(wf.create_consultant, CreateConsultantInput, ContactPayload, WRITE)


@strawberry.input(description="A comment on a partner.")
class AddPartnerCommentInput:
    partner_id: strawberry.ID = gid("Partner", "The partner.")
    body: str = described("The comment's text (at most 10,000 characters).")


@acts_on("PartnerComment", "Identifies a comment on a partner to delete (your own, or any as an admin).", version=None)
class DeletePartnerCommentInput: ...


PartnerCommentPayload = payload_type(
    "The comment that was written.",
    "PartnerCommentPayload",
    comment=(PartnerComment, "The comment."),
    partner=(Partner, "The partner it is on."),
)
add_partner_comment = mutation(
    wf.add_partner_comment, AddPartnerCommentInput, PartnerCommentPayload, (*WRITE, PermissionDenied)
)
delete_partner_comment = mutation(
    wf.delete_partner_comment, DeletePartnerCommentInput, Deleted("PartnerComment"), (*WRITE, PermissionDenied)
)
