"""Mutations of leads: by hand (create, edit, assign, archive, qualify, disqualify, rework, anonymize) and
through the lead processor (ingestLead)."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.errors import Conflict, NotFound, PermissionDenied
from domain.workflows import ingestion, lead_identity, lead_processor, leads
from gql.resolvers.mutation import OWN_INPUT, mutation, node_payload, payload_type
from gql.schema import enums
from gql.schema.accounts import Account, Contact
from gql.schema.custom_fields import CUSTOM_FIELDS_TEXT, CUSTOM_FIELDS_UPDATE, CustomFieldValueInput, custom_input
from gql.schema.inputs import VERSION, MoneyInput, acts_on, changes, gid, keep, optional, ref
from gql.schema.leads import Lead, LeadMatchingSettings
from gql.schema.mutations.common import RESTRICTED, WRITE
from gql.schema.opportunities import Opportunity
from gql.schema.routing import LeadRoutingRule
from persistence.idempotency import SqlIdempotencyStore

LeadPayload = node_payload(Lead)
QualifyLeadPayload = payload_type(
    "A qualified lead and what it became.",
    lead=(Lead, "The lead, now QUALIFIED and linked to what it became."),
    opportunity=(Opportunity, "The opportunity created from the lead."),
    account=(Account, "The account it is sold to (new when createAccount was asked)."),
    contact=(Contact | None, "The contact created from the lead, if one was asked."),
)
IngestLeadPayload = payload_type(
    "A lead stored and routed by the lead processor.",
    lead=(Lead, "The lead as it is now (shown to you even when it was routed to someone else)."),
    routing_rule=(
        LeadRoutingRule | None,
        "The rule that routed it (null when no rule matched, the rule was deleted since, or you may not read "
        "routing rules).",
    ),
    replayed=(
        bool,
        "True when the idempotency key was used before: this is the first request's lead and nothing new was created.",
    ),
)


@strawberry.input(description="What a lead says of a person and where it came from, by hand or from a marketing tool.")
class LeadFields:
    first_name: str | None = optional("First name.")
    last_name: str | None = optional("Last name.")
    company: str | None = optional("Company name.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    country: str | None = optional("Country, ISO 3166 alpha-2.")
    company_size: int | None = optional("Number of employees.")
    campaign_id: strawberry.ID | None = gid("Campaign", "The campaign it came from.", None, update="The campaign.")
    utm_source: str | None = optional("UTM source.")
    utm_medium: str | None = optional("UTM medium.")
    utm_campaign: str | None = optional("UTM campaign.")


@strawberry.input(description="A new lead, entered by hand.")
class CreateLeadInput(LeadFields):
    country: str | None = optional("Country, ISO 3166 alpha-2 (e.g. NO).", update="Country, ISO 3166 alpha-2.")
    priority: int | None = optional("Higher is more urgent (default 0).", update="Higher is more urgent.")
    assigned_user_id: strawberry.ID | None = gid(
        "User", "The user to work on it (default: you, unless a partner is named).", None, update=False
    )
    assigned_partner_id: strawberry.ID | None = gid("Partner", "A partner to work on it.", None, update=False)
    custom_fields: list[CustomFieldValueInput] | None = optional(CUSTOM_FIELDS_TEXT, update=CUSTOM_FIELDS_UPDATE)


@changes(
    CreateLeadInput,
    "Lead",
    "Changes to a lead; fields left out stay as they are, null clears.",
    unchanged=None,
)
class UpdateLeadInput:
    status: enums.LeadStatus | None = keep(  # type: ignore[valid-type]
        "OPEN or CONTACTING; the other statuses have their own mutations (qualifyLead, disqualifyLead, reworkLead)."
    )


@acts_on("Lead", "Give a lead to a user or a partner (neither: nobody).")
class AssignLeadInput:
    user_id: strawberry.ID | None = gid("User", "The user.", None)
    partner_id: strawberry.ID | None = gid("Partner", "The partner.", None)


@acts_on("Lead", "Note that a lead belongs to an existing account.")
class AddLeadToAccountInput:
    account_id: strawberry.ID = gid("Account", "The account.")


@strawberry.input(description="Qualify a lead into an opportunity on an existing or a new account.")
class QualifyLeadInput:
    id: strawberry.ID = gid("Lead", "The lead.")
    version: int | None = optional(VERSION)
    account_id: strawberry.ID | None = gid(
        "Account", "The account to sell to (default: the account the lead was added to).", None
    )
    create_account: bool = optional("Create a prospect account from the lead (its company, else the person).", False)
    create_contact: bool = optional("Create a contact from the lead's person.", False)
    opportunity_name: str | None = optional("The opportunity's name (default: the lead's company or name).")
    owner_id: strawberry.ID | None = gid("User", "The opportunity's owner (default: the lead's user, else you).", None)
    stage: enums.Stage | None = optional(  # type: ignore[valid-type]
        "The active open stage the opportunity starts in (default: the first active open stage, PROSPECTING as seeded)."
    )
    estimated_revenue: MoneyInput | None = optional("Expected revenue.")
    expected_close_date: dt.date | None = optional("Expected close date.")


@acts_on("Lead", "Take a lead out of the funnel: DISQUALIFIED with a reason, or REWORK (not now).")
class DisqualifyLeadInput:
    reason: str | None = optional("Why (required for DISQUALIFIED).")
    status: enums.LeadStatus = optional(  # type: ignore[valid-type]
        "DISQUALIFIED (default) or REWORK.", enums.LeadStatus.DISQUALIFIED
    )


@acts_on("Lead", "Put a lead back for a later follow-up.")
class ReworkLeadInput:
    note: str | None = optional("When or why to follow up.")


@strawberry.input(description="A lead for the lead processor, as a marketing tool sends it.")
class IngestLeadInput(LeadFields):
    priority: int | None = optional("Priority, unless a routing rule sets one.")
    custom_fields: list[CustomFieldValueInput] | None = optional(CUSTOM_FIELDS_TEXT)
    idempotency_key: str | None = optional(
        "A key unique to this lead: sending it again returns the first result and creates "
        "nothing (the same key as POST /ingest/leads' Idempotency-Key header)."
    )


LeadRefInput = ref("Lead", "Identifies a lead to change, with the version you read.")
CUSTOM = {"custom_fields": custom_input}
create_lead = update_lead = mutation(leads, OWN_INPUT, LeadPayload, RESTRICTED, convert=CUSTOM)
assign_lead = mutation(leads, OWN_INPUT, LeadPayload, RESTRICTED)
archive_lead = unarchive_lead = mutation(leads, LeadRefInput, LeadPayload, RESTRICTED)
add_lead_to_account = mutation(leads, AddLeadToAccountInput, LeadPayload, RESTRICTED)
qualify_lead = mutation(leads, QualifyLeadInput, QualifyLeadPayload, RESTRICTED)
disqualify_lead = rework_lead = mutation(leads, OWN_INPUT, LeadPayload, RESTRICTED)
anonymize_lead = mutation(leads, LeadRefInput, LeadPayload, RESTRICTED)
ingest_lead = mutation(
    ingestion,
    IngestLeadInput,
    IngestLeadPayload,
    WRITE,
    ports=lambda context: (SqlIdempotencyStore(),),
    convert=CUSTOM,
)


@strawberry.input(description="Two leads to merge into one.")
class MergeLeadsInput:
    target_id: strawberry.ID = gid("Lead", "The lead that stays (it takes the other's values where it has none).")
    source_id: strawberry.ID = gid(
        "Lead", "The lead merged into it: its tasks and activities move over; it is archived, linked to the target."
    )
    target_version: int | None = optional("The target's version you read. " + VERSION)
    source_version: int | None = optional("The source's version you read. " + VERSION)


@strawberry.input(description="How incoming leads are matched; fields left out stay as they are.")
class UpdateLeadMatchingInput:
    enabled: bool | None = optional("Matching on (true) or off (false).")
    by_email: bool | None = optional("Match by e-mail address.")
    by_phone: bool | None = optional("Match by phone number.")
    by_company: bool | None = optional("Match by company name.")
    version: int | None = optional(VERSION)


merge_leads = mutation(lead_identity, MergeLeadsInput, LeadPayload, (NotFound, Conflict))
update_lead_matching = mutation(
    lead_identity, UpdateLeadMatchingInput, node_payload(LeadMatchingSettings), (NotFound, Conflict, PermissionDenied)
)


@strawberry.input(
    description="Which leads to route again: `leadIds`, or the leads matching the other fields (all given must "
    "hold). Left empty: the unprocessed leads (open, contacting or reworked, not archived, assigned to nobody)."
)
class RouteLeadsInput:
    lead_ids: list[strawberry.ID] | None = gid(
        "Lead", "These leads (at most 1,000); the other fields are ignored.", None
    )
    unassigned_only: bool = optional("Only leads assigned to nobody (the unprocessed ones).", True)
    status: enums.LeadStatus | None = optional("Only leads in this status (OPEN, CONTACTING or REWORK).")
    campaign_id: strawberry.ID | None = gid("Campaign", "Only leads from this campaign.", None)
    country: str | None = optional("Only leads from this country (ISO 3166 alpha-2).")


RouteLeadsPayload = payload_type(
    "What routing the leads again did.",
    leads=(list[Lead], "The leads a rule matched, with their new assignee and priority."),
    unmatched=(int, "How many of the selected leads no rule matched (left as they were)."),
)
route_leads = mutation(lead_processor, RouteLeadsInput, RouteLeadsPayload, (NotFound, Conflict, PermissionDenied))
