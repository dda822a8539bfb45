"""Mutations of leads: by hand (create, edit, assign, archive, qualify, disqualify, rework, anonymize) and
through the lead processor (ingestLead)."""

from __future__ import annotations

import datetime as dt

import strawberry

from domain.errors import Conflict, NotFound, PermissionDenied
from domain.workflows import ingestion, leads
from gql.resolvers.mutation import gid, mutation
from gql.schema import enums
from gql.schema.accounts import Account, Contact
from gql.schema.inputs import MoneyInput, described, keep, optional
from gql.schema.leads import Lead
from gql.schema.opportunities import Opportunity
from gql.schema.routing import LeadRoutingRule
from persistence.idempotency import SqlIdempotencyStore

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."
ERRORS = (NotFound, Conflict, PermissionDenied)


@strawberry.type(description="The lead as it is after the change.")
class LeadPayload:
    lead: Lead = described("The lead, with its new version.")


@strawberry.type(description="A qualified lead and what it became.")
class QualifyLeadPayload:
    lead: Lead = described("The lead, now QUALIFIED and linked to what it became.")
    opportunity: Opportunity = described("The opportunity created from the lead.")
    account: Account = described("The account it is sold to (new when createAccount was asked).")
    contact: Contact | None = described("The contact created from the lead, if one was asked.")


@strawberry.type(description="A lead stored and routed by the lead processor.")
class IngestLeadPayload:
    lead: Lead = described("The lead as it is now (shown to you even when it was routed to someone else).")
    routing_rule: LeadRoutingRule | None = described(
        "The rule that routed it (null when no rule matched, the rule was deleted since, or you may not read "
        "routing rules)."
    )
    replayed: bool = described(
        "True when the idempotency key was used before: this is the first request's lead and nothing new was created."
    )


@strawberry.input(description="A new lead, entered by hand.")
class CreateLeadInput:
    first_name: str | None = optional("First name.")
    last_name: str | None = optional("Last name.")
    company: str | None = optional("Company name.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    country: str | None = optional("Country, ISO 3166 alpha-2 (e.g. NO).")
    company_size: int | None = optional("Number of employees.")
    campaign_id: strawberry.ID | None = gid("Campaign", default=None, description="The campaign it came from.")
    utm_source: str | None = optional("UTM source.")
    utm_medium: str | None = optional("UTM medium.")
    utm_campaign: str | None = optional("UTM campaign.")
    priority: int | None = optional("Higher is more urgent (default 0).")
    assigned_user_id: strawberry.ID | None = gid(
        "User", default=None, description="The user to work on it (default: you, unless a partner is named)."
    )
    assigned_partner_id: strawberry.ID | None = gid("Partner", default=None, description="A partner to work on it.")


@strawberry.input(description="Changes to a lead; fields left out stay as they are, null clears.")
class UpdateLeadInput:
    id: strawberry.ID = gid("Lead", description="The lead.")
    version: int | None = optional(VERSION)
    first_name: str | None = keep("First name.")
    last_name: str | None = keep("Last name.")
    company: str | None = keep("Company name.")
    email: str | None = keep("E-mail address.")
    phone: str | None = keep("Phone number.")
    country: str | None = keep("Country, ISO 3166 alpha-2.")
    company_size: int | None = keep("Number of employees.")
    campaign_id: strawberry.ID | None = gid("Campaign", default=strawberry.UNSET, description="The campaign.")
    utm_source: str | None = keep("UTM source.")
    utm_medium: str | None = keep("UTM medium.")
    utm_campaign: str | None = keep("UTM campaign.")
    priority: int | None = keep("Higher is more urgent.")
    status: enums.LeadStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET,
        description="OPEN or CONTACTING; the other statuses have their own mutations "
        "(qualifyLead, disqualifyLead, reworkLead).",
    )


@strawberry.input(description="Give a lead to a user or a partner (neither: nobody).")
class AssignLeadInput:
    id: strawberry.ID = gid("Lead", description="The lead.")
    user_id: strawberry.ID | None = gid("User", default=None, description="The user.")
    partner_id: strawberry.ID | None = gid("Partner", default=None, description="The partner.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Identifies a lead to change, with the version you read.")
class LeadRefInput:
    id: strawberry.ID = gid("Lead", description="The lead.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Note that a lead belongs to an existing account.")
class AddLeadToAccountInput:
    id: strawberry.ID = gid("Lead", description="The lead.")
    account_id: strawberry.ID = gid("Account", description="The account.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Qualify a lead into an opportunity on an existing or a new account.")
class QualifyLeadInput:
    id: strawberry.ID = gid("Lead", description="The lead.")
    version: int | None = optional(VERSION)
    account_id: strawberry.ID | None = gid(
        "Account", default=None, description="The account to sell to (default: the account the lead was added to)."
    )
    create_account: bool = strawberry.field(
        default=False, description="Create a prospect account from the lead (its company, else the person)."
    )
    create_contact: bool = strawberry.field(default=False, description="Create a contact from the lead's person.")
    opportunity_name: str | None = optional("The opportunity's name (default: the lead's company or name).")
    owner_id: strawberry.ID | None = gid(
        "User", default=None, description="The opportunity's owner (default: the lead's user, else you)."
    )
    stage: enums.Stage = strawberry.field(
        default=enums.Stage.PROSPECTING,  # type: ignore[valid-type]
        description="The open stage the opportunity starts in.",
    )
    estimated_revenue: MoneyInput | None = optional("Expected revenue.")
    expected_close_date: dt.date | None = optional("Expected close date.")


@strawberry.input(description="Take a lead out of the funnel: DISQUALIFIED with a reason, or REWORK (not now).")
class DisqualifyLeadInput:
    id: strawberry.ID = gid("Lead", description="The lead.")
    reason: str | None = optional("Why (required for DISQUALIFIED).")
    status: enums.LeadStatus = strawberry.field(
        default=enums.LeadStatus.DISQUALIFIED,  # type: ignore[valid-type]
        description="DISQUALIFIED (default) or REWORK.",
    )
    version: int | None = optional(VERSION)


@strawberry.input(description="Put a lead back for a later follow-up.")
class ReworkLeadInput:
    id: strawberry.ID = gid("Lead", description="The lead.")
    note: str | None = optional("When or why to follow up.")
    version: int | None = optional(VERSION)


@strawberry.input(description="A lead for the lead processor, as a marketing tool sends it.")
class IngestLeadInput:
    first_name: str | None = optional("First name.")
    last_name: str | None = optional("Last name.")
    company: str | None = optional("Company name.")
    email: str | None = optional("E-mail address.")
    phone: str | None = optional("Phone number.")
    country: str | None = optional("Country, ISO 3166 alpha-2.")
    company_size: int | None = optional("Number of employees.")
    campaign_id: strawberry.ID | None = gid("Campaign", default=None, description="The campaign it came from.")
    utm_source: str | None = optional("UTM source.")
    utm_medium: str | None = optional("UTM medium.")
    utm_campaign: str | None = optional("UTM campaign.")
    priority: int | None = optional("Priority, unless a routing rule sets one.")
    idempotency_key: str | None = optional(
        "A key unique to this lead: sending it again returns the first result and creates "
        "nothing (the same key as POST /ingest/leads' Idempotency-Key header)."
    )


@strawberry.type
class LeadMutations:
    @mutation(leads.create_lead, CreateLeadInput, LeadPayload, errors=ERRORS)
    def create_lead(self) -> None:
        """Create a lead by hand."""

    @mutation(leads.update_lead, UpdateLeadInput, LeadPayload, errors=ERRORS)
    def update_lead(self) -> None:
        """Change a lead's data, priority or working status (OPEN, CONTACTING)."""

    @mutation(leads.assign_lead, AssignLeadInput, LeadPayload, errors=ERRORS)
    def assign_lead(self) -> None:
        """Give a lead to a user or a partner, or to nobody."""

    @mutation(leads.archive_lead, LeadRefInput, LeadPayload, errors=ERRORS)
    def archive_lead(self) -> None:
        """Archive a lead (hidden from the lead board, kept for statistics)."""

    @mutation(leads.unarchive_lead, LeadRefInput, LeadPayload, errors=ERRORS)
    def unarchive_lead(self) -> None:
        """Bring an archived lead back."""

    @mutation(leads.add_lead_to_account, AddLeadToAccountInput, LeadPayload, errors=ERRORS)
    def add_lead_to_account(self) -> None:
        """Note that a lead belongs to an existing account."""

    @mutation(leads.qualify_lead, QualifyLeadInput, QualifyLeadPayload, errors=ERRORS)
    def qualify_lead(self) -> None:
        """Qualify a lead: create its opportunity (and, where asked, an account and a contact) in one transaction; the
        lead becomes QUALIFIED and links to them."""

    @mutation(leads.disqualify_lead, DisqualifyLeadInput, LeadPayload, errors=ERRORS)
    def disqualify_lead(self) -> None:
        """Disqualify a lead with a reason (or put it back as REWORK)."""

    @mutation(leads.rework_lead, ReworkLeadInput, LeadPayload, errors=ERRORS)
    def rework_lead(self) -> None:
        """Put a lead back for a later follow-up (REWORK)."""

    @mutation(leads.anonymize_lead, LeadRefInput, LeadPayload, errors=ERRORS)
    def anonymize_lead(self) -> None:
        """GDPR: wipe a lead's personal data (names, company, e-mail, phone, UTM data) for good. Its status, campaign
        and counts stay, so statistics still add up."""

    @mutation(
        ingestion.ingest_lead,
        IngestLeadInput,
        IngestLeadPayload,
        errors=(NotFound, Conflict),
        ports=lambda context: (SqlIdempotencyStore(),),
    )
    def ingest_lead(self) -> None:
        """Send a lead through the lead processor (as POST /ingest/leads does): store it, route it by the routing rules
        to a user, a partner or a splitter's next seller, and set its priority. Idempotent with an idempotencyKey."""
