"""Mutations of partners (resellers, consultancies) and of the consultants who work at them."""

from __future__ import annotations

import strawberry

from domain.errors import PermissionDenied
from domain.workflows import people as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, node_payload, payload_type
from gql.schema.attachments import PartnerComment
from gql.schema.inputs import described, gid, optional, ref, update_of
from gql.schema.mutations.common import WRITE, ContactPayload
from gql.schema.people import Partner


@strawberry.input(description="A new partner (a reseller or consultancy).")
class CreatePartnerInput:
    name: str = described("The partner's name.", update="New name.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    country: str | None = optional("Country, ISO 3166 alpha-2.")


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


UpdatePartnerInput = update_of(CreatePartnerInput)
DeletePartnerInput = ref(
    "Partner", "Identifies a partner to delete (only one that no longer holds accounts, leads or opportunities)."
)
PartnerPayload = node_payload(Partner, partner="The partner.")
create_partner = update_partner = mutation(wf, OWN_INPUT, PartnerPayload, WRITE)
delete_partner = mutation(wf, DeletePartnerInput, Deleted("Partner"), WRITE)
create_consultant = mutation(wf, CreateConsultantInput, ContactPayload, WRITE)


@strawberry.input(description="A comment on a partner.")
class AddPartnerCommentInput:
    partner_id: strawberry.ID = gid("Partner", "The partner.")
    body: str = described("The comment's text (at most 10,000 characters).")


DeletePartnerCommentInput = ref(
    "PartnerComment", "Identifies a comment on a partner to delete (your own, or any as an admin).", version=None
)
PartnerCommentPayload = payload_type(
    "The comment that was written.",
    comment=(PartnerComment, "The comment."),
    partner=(Partner, "The partner it is on."),
)
add_partner_comment = mutation(wf, AddPartnerCommentInput, PartnerCommentPayload, (*WRITE, PermissionDenied))
delete_partner_comment = mutation(wf, DeletePartnerCommentInput, Deleted("PartnerComment"), (*WRITE, PermissionDenied))
