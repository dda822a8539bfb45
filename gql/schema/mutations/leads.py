"""Mutations of leads, campaigns and the lead processor (ingestion, routing rules, splitters)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain import errors as d
from domain.routing import Condition, LeadField
from domain.workflows import ingestion
from domain.workflows import leads as wf
from gql import ids
from gql.resolvers.mutate import node, opt_pk, pk, run
from gql.resolvers.mutation import gid, mutation
from gql.schema import enums as e
from gql.schema.accounts import Account, Contact
from gql.schema.errors import UserError, result
from gql.schema.inputs import MoneyInput, maybe, opt, to_money
from gql.schema.leads import Campaign, Lead
from gql.schema.mutations.common import DeletedPayload
from gql.schema.opportunities import Opportunity
from gql.schema.routing import LeadRoutingField, LeadRoutingRule, LeadSplitter
from persistence import tables as t
from persistence.idempotency import SqlIdempotencyStore

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."
INPUT = "What to do; see the input type."


# --- payloads ---


@strawberry.type(description="The lead as it is after the change.")
class LeadPayload:
    lead: Lead = strawberry.field(description="The lead, with its new version.")


@strawberry.type(description="A qualified lead and what it became.")
class QualifyLeadPayload:
    lead: Lead = strawberry.field(description="The lead, now QUALIFIED and linked to what it became.")
    opportunity: Opportunity = strawberry.field(description="The opportunity created from the lead.")
    account: Account = strawberry.field(description="The account it is sold to (new when createAccount was asked).")
    contact: Contact | None = strawberry.field(description="The contact created from the lead, if one was asked.")


@strawberry.type(description="A lead stored and routed by the lead processor.")
class IngestLeadPayload:
    lead: Lead = strawberry.field(description="The lead as it is now.")
    routing_rule: LeadRoutingRule | None = strawberry.field(
        description="The rule that routed it (null when no rule matched or the rule was deleted since)."
    )
    replayed: bool = strawberry.field(
        description="True when the idempotency key was used before: this is the first "
        "request's lead and nothing new was created."
    )


@strawberry.type(description="The campaign as it is after the change.")
class CampaignPayload:
    campaign: Campaign = strawberry.field(description="The campaign, with its new version.")


@strawberry.type(description="The routing rule as it is after the change.")
class LeadRoutingRulePayload:
    rule: LeadRoutingRule = strawberry.field(description="The rule, with its new version.")


@strawberry.type(description="The lead splitter as it is after the change.")
class LeadSplitterPayload:
    splitter: LeadSplitter = strawberry.field(description="The splitter, with its new version.")


# --- inputs ---


@strawberry.input(description="A new lead, entered by hand.")
class CreateLeadInput:
    first_name: str | None = strawberry.field(default=None, description="First name.")
    last_name: str | None = strawberry.field(default=None, description="Last name.")
    company: str | None = strawberry.field(default=None, description="Company name.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    country: str | None = strawberry.field(default=None, description="Country, ISO 3166 alpha-2 (e.g. NO).")
    company_size: int | None = strawberry.field(default=None, description="Number of employees.")
    campaign_id: strawberry.ID | None = strawberry.field(default=None, description="The campaign it came from.")
    utm_source: str | None = strawberry.field(default=None, description="UTM source.")
    utm_medium: str | None = strawberry.field(default=None, description="UTM medium.")
    utm_campaign: str | None = strawberry.field(default=None, description="UTM campaign.")
    priority: int | None = strawberry.field(default=None, description="Higher is more urgent (default 0).")
    assigned_user_id: strawberry.ID | None = strawberry.field(
        default=None, description="The user to work on it (default: you, unless a partner is named)."
    )
    assigned_partner_id: strawberry.ID | None = strawberry.field(default=None, description="A partner to work on it.")


@strawberry.input(description="Changes to a lead; fields left out stay as they are, null clears.")
class UpdateLeadInput:
    id: strawberry.ID = strawberry.field(description="The lead.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="First name.")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="Last name.")
    company: str | None = strawberry.field(default=strawberry.UNSET, description="Company name.")
    email: str | None = strawberry.field(default=strawberry.UNSET, description="E-mail address.")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Phone number.")
    country: str | None = strawberry.field(default=strawberry.UNSET, description="Country, ISO 3166 alpha-2.")
    company_size: int | None = strawberry.field(default=strawberry.UNSET, description="Number of employees.")
    campaign_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="The campaign.")
    utm_source: str | None = strawberry.field(default=strawberry.UNSET, description="UTM source.")
    utm_medium: str | None = strawberry.field(default=strawberry.UNSET, description="UTM medium.")
    utm_campaign: str | None = strawberry.field(default=strawberry.UNSET, description="UTM campaign.")
    priority: int | None = strawberry.field(default=strawberry.UNSET, description="Higher is more urgent.")
    status: e.LeadStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET,
        description="OPEN or CONTACTING; the other statuses have their own mutations "
        "(qualifyLead, disqualifyLead, reworkLead).",
    )


@strawberry.input(description="Give a lead to a user or a partner (neither: nobody).")
class AssignLeadInput:
    id: strawberry.ID = strawberry.field(description="The lead.")
    user_id: strawberry.ID | None = strawberry.field(default=None, description="The user.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="The partner.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Identifies a lead to change, with the version you read.")
class LeadRefInput:
    id: strawberry.ID = strawberry.field(description="The lead.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Note that a lead belongs to an existing account.")
class AddLeadToAccountInput:
    id: strawberry.ID = strawberry.field(description="The lead.")
    account_id: strawberry.ID = strawberry.field(description="The account.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Qualify a lead into an opportunity on an existing or a new account.")
class QualifyLeadInput:
    id: strawberry.ID = strawberry.field(description="The lead.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="The account to sell to (default: the account the lead was added to)."
    )
    create_account: bool = strawberry.field(
        default=False, description="Create a prospect account from the lead (its company, else the person)."
    )
    create_contact: bool = strawberry.field(default=False, description="Create a contact from the lead's person.")
    opportunity_name: str | None = strawberry.field(
        default=None, description="The opportunity's name (default: the lead's company or name)."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The opportunity's owner (default: the lead's user, else you)."
    )
    stage: e.Stage = strawberry.field(
        default=e.Stage.PROSPECTING,  # type: ignore[valid-type]
        description="The open stage the opportunity starts in.",
    )
    estimated_revenue: MoneyInput | None = strawberry.field(default=None, description="Expected revenue.")
    expected_close_date: dt.date | None = strawberry.field(default=None, description="Expected close date.")


@strawberry.input(description="Take a lead out of the funnel: DISQUALIFIED with a reason, or REWORK (not now).")
class DisqualifyLeadInput:
    id: strawberry.ID = strawberry.field(description="The lead.")
    reason: str | None = strawberry.field(default=None, description="Why (required for DISQUALIFIED).")
    status: e.LeadStatus = strawberry.field(
        default=e.LeadStatus.DISQUALIFIED,  # type: ignore[valid-type]
        description="DISQUALIFIED (default) or REWORK.",
    )
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Put a lead back for a later follow-up.")
class ReworkLeadInput:
    id: strawberry.ID = strawberry.field(description="The lead.")
    note: str | None = strawberry.field(default=None, description="When or why to follow up.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="A lead for the lead processor, as a marketing tool sends it.")
class IngestLeadInput:
    first_name: str | None = strawberry.field(default=None, description="First name.")
    last_name: str | None = strawberry.field(default=None, description="Last name.")
    company: str | None = strawberry.field(default=None, description="Company name.")
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Phone number.")
    country: str | None = strawberry.field(default=None, description="Country, ISO 3166 alpha-2.")
    company_size: int | None = strawberry.field(default=None, description="Number of employees.")
    campaign_id: strawberry.ID | None = gid("Campaign", default=None, description="The campaign it came from.")
    utm_source: str | None = strawberry.field(default=None, description="UTM source.")
    utm_medium: str | None = strawberry.field(default=None, description="UTM medium.")
    utm_campaign: str | None = strawberry.field(default=None, description="UTM campaign.")
    priority: int | None = strawberry.field(default=None, description="Priority, unless a routing rule sets one.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A key unique to this lead: sending it again returns the first result and creates "
        "nothing (the same key as POST /ingest/leads' Idempotency-Key header).",
    )


@strawberry.input(description="A new marketing campaign.")
class CreateCampaignInput:
    name: str = strawberry.field(description="The campaign's name.")
    costs: MoneyInput | None = strawberry.field(default=None, description="What it costs.")
    starts_on: dt.date | None = strawberry.field(default=None, description="First day of its period.")
    ends_on: dt.date | None = strawberry.field(default=None, description="Last day of its period.")


@strawberry.input(description="Changes to a campaign; fields left out stay as they are, null clears.")
class UpdateCampaignInput:
    id: strawberry.ID = strawberry.field(description="The campaign.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    costs: MoneyInput | None = strawberry.field(default=strawberry.UNSET, description="New costs.")
    starts_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="New first day.")
    ends_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="New last day.")


@strawberry.input(description="Identifies a campaign to change, with the version you read.")
class CampaignRefInput:
    id: strawberry.ID = strawberry.field(description="The campaign.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(
    description="One test on a lead's field: `values` for text fields and CAMPAIGN (campaign ids), "
    "`min`/`max` for COMPANY_SIZE."
)
class LeadRoutingConditionInput:
    field: LeadRoutingField = strawberry.field(description="The field to test.")  # type: ignore[valid-type]
    values: list[str] | None = strawberry.field(default=None, description="The values that match (any of them).")
    min: int | None = strawberry.field(default=None, description="COMPANY_SIZE: the smallest size that matches.")
    max: int | None = strawberry.field(default=None, description="COMPANY_SIZE: the largest size that matches.")


@strawberry.input(description="Where a rule sends leads: exactly one of a user, a partner or a splitter.")
class LeadRoutingTargetInput:
    user_id: strawberry.ID | None = strawberry.field(default=None, description="A user.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="A partner.")
    splitter_id: strawberry.ID | None = strawberry.field(default=None, description="A lead splitter.")


@strawberry.input(description="A new routing rule for the lead processor.")
class CreateLeadRoutingRuleInput:
    name: str = strawberry.field(description="What the rule is for.")
    target: LeadRoutingTargetInput = strawberry.field(description="Where matching leads go.")
    conditions: list[LeadRoutingConditionInput] = strawberry.field(
        default_factory=list, description="All must hold; none: every lead matches."
    )
    position: int | None = strawberry.field(
        default=None, description="Rules are tried by ascending position (default: after the last rule)."
    )
    priority: int | None = strawberry.field(default=None, description="Priority to give matching leads.")
    active: bool = strawberry.field(default=True, description="False to create it switched off.")


@strawberry.input(description="Changes to a routing rule; fields left out stay as they are.")
class UpdateLeadRoutingRuleInput:
    id: strawberry.ID = strawberry.field(description="The rule.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    target: LeadRoutingTargetInput | None = strawberry.field(default=strawberry.UNSET, description="New target.")
    conditions: list[LeadRoutingConditionInput] | None = strawberry.field(
        default=strawberry.UNSET, description="New conditions (replace the old ones)."
    )
    position: int | None = strawberry.field(default=strawberry.UNSET, description="New position.")
    priority: int | None = strawberry.field(default=strawberry.UNSET, description="New priority (null: none).")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Switch it on or off.")


@strawberry.input(description="Identifies a routing rule, with the version you read.")
class LeadRoutingRuleRefInput:
    id: strawberry.ID = strawberry.field(description="The rule.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="One seller's share of a splitter: a user or a partner, and a weight.")
class LeadSplitterShareInput:
    weight: int = strawberry.field(description="A positive weight; the share is weight ÷ the sum of weights.")
    user_id: strawberry.ID | None = strawberry.field(default=None, description="The user.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="The partner.")


@strawberry.input(description="A new lead splitter.")
class CreateLeadSplitterInput:
    name: str = strawberry.field(description="A unique name.")
    shares: list[LeadSplitterShareInput] = strawberry.field(description="The sellers and their weights.")
    active: bool = strawberry.field(default=True, description="False to create it switched off.")


@strawberry.input(description="Changes to a lead splitter; fields left out stay as they are.")
class UpdateLeadSplitterInput:
    id: strawberry.ID = strawberry.field(description="The splitter.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Switch it on or off.")
    shares: list[LeadSplitterShareInput] | None = strawberry.field(
        default=strawberry.UNSET, description="New shares; they replace the old ones and start counting from zero."
    )


@strawberry.input(description="Identifies a lead splitter, with the version you read.")
class LeadSplitterRefInput:
    id: strawberry.ID = strawberry.field(description="The splitter.")
    version: int | None = strawberry.field(default=None, description=VERSION)


CreateLeadResult = result("CreateLeadResult", LeadPayload)
UpdateLeadResult = result("UpdateLeadResult", LeadPayload)
AssignLeadResult = result("AssignLeadResult", LeadPayload)
ArchiveLeadResult = result("ArchiveLeadResult", LeadPayload)
UnarchiveLeadResult = result("UnarchiveLeadResult", LeadPayload)
AddLeadToAccountResult = result("AddLeadToAccountResult", LeadPayload)
QualifyLeadResult = result("QualifyLeadResult", QualifyLeadPayload)
DisqualifyLeadResult = result("DisqualifyLeadResult", LeadPayload)
ReworkLeadResult = result("ReworkLeadResult", LeadPayload)
AnonymizeLeadResult = result("AnonymizeLeadResult", LeadPayload)
CreateCampaignResult = result("CreateCampaignResult", CampaignPayload)
UpdateCampaignResult = result("UpdateCampaignResult", CampaignPayload)
ArchiveCampaignResult = result("ArchiveCampaignResult", CampaignPayload)
UnarchiveCampaignResult = result("UnarchiveCampaignResult", CampaignPayload)
CreateLeadRoutingRuleResult = result("CreateLeadRoutingRuleResult", LeadRoutingRulePayload)
UpdateLeadRoutingRuleResult = result("UpdateLeadRoutingRuleResult", LeadRoutingRulePayload)
DeleteLeadRoutingRuleResult = result("DeleteLeadRoutingRuleResult", DeletedPayload)
CreateLeadSplitterResult = result("CreateLeadSplitterResult", LeadSplitterPayload)
UpdateLeadSplitterResult = result("UpdateLeadSplitterResult", LeadSplitterPayload)
DeleteLeadSplitterResult = result("DeleteLeadSplitterResult", DeletedPayload)


# --- conversions ---


def _lead(value: strawberry.ID, field: str = "id") -> int:
    return pk(value, "Lead", field)


async def lead_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return LeadPayload(lead=await node(info, Lead, t.leads, outcome.id))


async def campaign_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return CampaignPayload(campaign=await node(info, Campaign, t.campaigns, outcome.id))


async def rule_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return LeadRoutingRulePayload(rule=await node(info, LeadRoutingRule, t.lead_routing_rules, outcome.id))


async def splitter_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return LeadSplitterPayload(splitter=await node(info, LeadSplitter, t.lead_splitters, outcome.id))


def deleted(type_name: str, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return DeletedPayload(deleted_id=strawberry.ID(ids.encode(type_name, outcome)))


def condition(value: LeadRoutingConditionInput, index: int) -> Condition:
    field = LeadField(value.field.value)
    values: tuple = tuple(value.values or ())
    if field is LeadField.CAMPAIGN:
        values = tuple(pk(v, "Campaign", f"conditions[{index}].values") for v in values)
    try:
        return Condition(field=field, values=values, min=value.min, max=value.max)
    except d.ValidationError as error:
        raise d.ValidationError(f"conditions[{index}]", error.reason) from None


def conditions(values: list[LeadRoutingConditionInput]) -> list[Condition]:
    return [condition(v, n) for n, v in enumerate(values)]


def target(value: LeadRoutingTargetInput) -> wf.Target:
    return wf.Target(
        user_id=opt_pk(value.user_id, "User", "target.userId"),
        partner_id=opt_pk(value.partner_id, "Partner", "target.partnerId"),
        splitter_id=opt_pk(value.splitter_id, "LeadSplitter", "target.splitterId"),
    )


def shares(values: list[LeadSplitterShareInput]) -> list[wf.ShareSpec]:
    return [
        wf.ShareSpec(
            weight=s.weight,
            user_id=opt_pk(s.user_id, "User", f"shares[{n}].userId"),
            partner_id=opt_pk(s.partner_id, "Partner", f"shares[{n}].partnerId"),
        )
        for n, s in enumerate(values)
    ]


def _not_null(value, field: str):  # noqa: ANN001, ANN202
    if value is None:
        raise d.ValidationError(field, "cannot be null")
    return value


@strawberry.type
class LeadMutations:
    @strawberry.mutation(description="Create a lead by hand.")
    async def create_lead(
        self,
        info: Info,
        input: Annotated[CreateLeadInput, strawberry.argument(description=INPUT)],
    ) -> CreateLeadResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_lead(
                wf.CreateLead(
                    first_name=input.first_name,
                    last_name=input.last_name,
                    company=input.company,
                    email=input.email,
                    phone=input.phone,
                    country=input.country,
                    company_size=input.company_size,
                    campaign_id=opt_pk(input.campaign_id, "Campaign", "campaignId"),
                    utm_source=input.utm_source,
                    utm_medium=input.utm_medium,
                    utm_campaign=input.utm_campaign,
                    priority=input.priority,
                    assigned_user_id=opt_pk(input.assigned_user_id, "User", "assignedUserId"),
                    assigned_partner_id=opt_pk(input.assigned_partner_id, "Partner", "assignedPartnerId"),
                ),
                uow,
            )

        return await lead_payload(info, await run(info, work))

    @strawberry.mutation(description="Change a lead's data, priority or working status (OPEN, CONTACTING).")
    async def update_lead(
        self,
        info: Info,
        input: Annotated[UpdateLeadInput, strawberry.argument(description=INPUT)],
    ) -> UpdateLeadResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_lead(
                wf.UpdateLead(
                    id=_lead(input.id),
                    version=input.version,
                    first_name=opt(input.first_name),
                    last_name=opt(input.last_name),
                    company=opt(input.company),
                    email=opt(input.email),
                    phone=opt(input.phone),
                    country=opt(input.country),
                    company_size=opt(input.company_size),
                    campaign_id=maybe(input.campaign_id, lambda v: pk(v, "Campaign", "campaignId")),
                    utm_source=opt(input.utm_source),
                    utm_medium=opt(input.utm_medium),
                    utm_campaign=opt(input.utm_campaign),
                    priority=opt(input.priority),
                    status=maybe(input.status, lambda v: _not_null(v, "status").value),
                ),
                uow,
            )

        return await lead_payload(info, await run(info, work))

    @strawberry.mutation(description="Give a lead to a user or a partner, or to nobody.")
    async def assign_lead(
        self,
        info: Info,
        input: Annotated[AssignLeadInput, strawberry.argument(description=INPUT)],
    ) -> AssignLeadResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.assign_lead(
                wf.AssignLead(
                    id=_lead(input.id),
                    user_id=opt_pk(input.user_id, "User", "userId"),
                    partner_id=opt_pk(input.partner_id, "Partner", "partnerId"),
                    version=input.version,
                ),
                uow,
            )

        return await lead_payload(info, await run(info, work))

    @strawberry.mutation(description="Archive a lead (hidden from the lead board, kept for statistics).")
    async def archive_lead(
        self,
        info: Info,
        input: Annotated[LeadRefInput, strawberry.argument(description=INPUT)],
    ) -> ArchiveLeadResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.archive_lead(wf.LeadRef(id=_lead(input.id), version=input.version), uow)

        return await lead_payload(info, await run(info, work))

    @strawberry.mutation(description="Bring an archived lead back.")
    async def unarchive_lead(
        self,
        info: Info,
        input: Annotated[LeadRefInput, strawberry.argument(description=INPUT)],
    ) -> UnarchiveLeadResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.unarchive_lead(wf.LeadRef(id=_lead(input.id), version=input.version), uow)

        return await lead_payload(info, await run(info, work))

    @strawberry.mutation(description="Note that a lead belongs to an existing account.")
    async def add_lead_to_account(
        self,
        info: Info,
        input: Annotated[AddLeadToAccountInput, strawberry.argument(description=INPUT)],
    ) -> AddLeadToAccountResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.add_lead_to_account(
                wf.AddLeadToAccount(
                    id=_lead(input.id), account_id=pk(input.account_id, "Account", "accountId"), version=input.version
                ),
                uow,
            )

        return await lead_payload(info, await run(info, work))

    @strawberry.mutation(
        description="Qualify a lead: create its opportunity (and, where asked, an account and a "
        "contact) in one transaction; the lead becomes QUALIFIED and links to them."
    )
    async def qualify_lead(
        self,
        info: Info,
        input: Annotated[QualifyLeadInput, strawberry.argument(description=INPUT)],
    ) -> QualifyLeadResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.qualify_lead(
                wf.QualifyLead(
                    id=_lead(input.id),
                    version=input.version,
                    account_id=opt_pk(input.account_id, "Account", "accountId"),
                    create_account=input.create_account,
                    create_contact=input.create_contact,
                    opportunity_name=input.opportunity_name,
                    owner_id=opt_pk(input.owner_id, "User", "ownerId"),
                    stage=input.stage.value,
                    estimated_revenue=to_money(input.estimated_revenue),
                    expected_close_date=input.expected_close_date,
                ),
                uow,
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return QualifyLeadPayload(
            lead=await node(info, Lead, t.leads, outcome.lead.id),
            opportunity=await node(info, Opportunity, t.opportunities, outcome.opportunity.id),
            account=await node(info, Account, t.accounts, outcome.account.id),
            contact=await node(info, Contact, t.contacts, outcome.contact.id if outcome.contact else None),
        )

    @strawberry.mutation(description="Disqualify a lead with a reason (or put it back as REWORK).")
    async def disqualify_lead(
        self,
        info: Info,
        input: Annotated[DisqualifyLeadInput, strawberry.argument(description=INPUT)],
    ) -> DisqualifyLeadResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.disqualify_lead(
                wf.DisqualifyLead(
                    id=_lead(input.id), reason=input.reason, status=input.status.value, version=input.version
                ),
                uow,
            )

        return await lead_payload(info, await run(info, work))

    @strawberry.mutation(description="Put a lead back for a later follow-up (REWORK).")
    async def rework_lead(
        self,
        info: Info,
        input: Annotated[ReworkLeadInput, strawberry.argument(description=INPUT)],
    ) -> ReworkLeadResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.rework_lead(wf.ReworkLead(id=_lead(input.id), note=input.note, version=input.version), uow)

        return await lead_payload(info, await run(info, work))

    @strawberry.mutation(
        description="GDPR: wipe a lead's personal data (names, company, e-mail, phone, UTM data) for "
        "good. Its status, campaign and counts stay, so statistics still add up."
    )
    async def anonymize_lead(
        self,
        info: Info,
        input: Annotated[LeadRefInput, strawberry.argument(description=INPUT)],
    ) -> AnonymizeLeadResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.anonymize_lead(wf.LeadRef(id=_lead(input.id), version=input.version), uow)

        return await lead_payload(info, await run(info, work))

    ingest_lead = mutation(
        ingestion.ingest_lead,
        IngestLeadInput,
        IngestLeadPayload,
        errors=(d.NotFound, d.Conflict),
        ports=lambda context: (SqlIdempotencyStore(),),
        description="Send a lead through the lead processor (as POST /ingest/leads does): store it, "
        "route it by the routing rules to a user, a partner or a splitter's next seller, "
        "and set its priority. Idempotent with an idempotencyKey.",
    )

    # --- campaigns ---

    @strawberry.mutation(description="Create a marketing campaign.")
    async def create_campaign(
        self,
        info: Info,
        input: Annotated[CreateCampaignInput, strawberry.argument(description=INPUT)],
    ) -> CreateCampaignResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_campaign(
                wf.CreateCampaign(
                    name=input.name, costs=to_money(input.costs), starts_on=input.starts_on, ends_on=input.ends_on
                ),
                uow,
            )

        return await campaign_payload(info, await run(info, work))

    @strawberry.mutation(description="Change a campaign's name, costs or period.")
    async def update_campaign(
        self,
        info: Info,
        input: Annotated[UpdateCampaignInput, strawberry.argument(description=INPUT)],
    ) -> UpdateCampaignResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_campaign(
                wf.UpdateCampaign(
                    id=pk(input.id, "Campaign", "id"),
                    version=input.version,
                    name=opt(input.name),
                    costs=to_money(input.costs),
                    starts_on=opt(input.starts_on),
                    ends_on=opt(input.ends_on),
                ),
                uow,
            )

        return await campaign_payload(info, await run(info, work))

    @strawberry.mutation(description="Archive a campaign: kept with its leads and figures, no longer in use.")
    async def archive_campaign(
        self,
        info: Info,
        input: Annotated[CampaignRefInput, strawberry.argument(description=INPUT)],
    ) -> ArchiveCampaignResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.archive_campaign(
                wf.CampaignRef(id=pk(input.id, "Campaign", "id"), version=input.version), uow
            )

        return await campaign_payload(info, await run(info, work))

    @strawberry.mutation(description="Put an archived campaign back in use.")
    async def unarchive_campaign(
        self,
        info: Info,
        input: Annotated[CampaignRefInput, strawberry.argument(description=INPUT)],
    ) -> UnarchiveCampaignResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.unarchive_campaign(
                wf.CampaignRef(id=pk(input.id, "Campaign", "id"), version=input.version), uow
            )

        return await campaign_payload(info, await run(info, work))

    # --- routing rules ---

    @strawberry.mutation(description="Add a routing rule to the lead processor.")
    async def create_lead_routing_rule(
        self,
        info: Info,
        input: Annotated[CreateLeadRoutingRuleInput, strawberry.argument(description=INPUT)],
    ) -> CreateLeadRoutingRuleResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_lead_routing_rule(
                wf.CreateRoutingRule(
                    name=input.name,
                    target=target(input.target),
                    conditions=conditions(input.conditions),
                    position=input.position,
                    priority=input.priority,
                    active=input.active,
                ),
                uow,
            )

        return await rule_payload(info, await run(info, work))

    @strawberry.mutation(description="Change a routing rule: its conditions, target, position, priority or switch.")
    async def update_lead_routing_rule(
        self,
        info: Info,
        input: Annotated[UpdateLeadRoutingRuleInput, strawberry.argument(description=INPUT)],
    ) -> UpdateLeadRoutingRuleResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_lead_routing_rule(
                wf.UpdateRoutingRule(
                    id=pk(input.id, "LeadRoutingRule", "id"),
                    version=input.version,
                    name=opt(input.name),
                    target=maybe(input.target, target),
                    conditions=maybe(input.conditions, conditions),
                    position=opt(input.position),
                    priority=opt(input.priority),
                    active=opt(input.active),
                ),
                uow,
            )

        return await rule_payload(info, await run(info, work))

    @strawberry.mutation(description="Delete a routing rule.")
    async def delete_lead_routing_rule(
        self,
        info: Info,
        input: Annotated[LeadRoutingRuleRefInput, strawberry.argument(description=INPUT)],
    ) -> DeleteLeadRoutingRuleResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_lead_routing_rule(
                wf.RoutingRuleRef(id=pk(input.id, "LeadRoutingRule", "id"), version=input.version), uow
            )

        return deleted("LeadRoutingRule", await run(info, work))

    # --- splitters ---

    @strawberry.mutation(description="Create a lead splitter that shares leads between sellers by weight.")
    async def create_lead_splitter(
        self,
        info: Info,
        input: Annotated[CreateLeadSplitterInput, strawberry.argument(description=INPUT)],
    ) -> CreateLeadSplitterResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_lead_splitter(
                wf.CreateSplitter(name=input.name, shares=shares(input.shares), active=input.active), uow
            )

        return await splitter_payload(info, await run(info, work))

    @strawberry.mutation(description="Rename a lead splitter, switch it on or off, or replace its shares.")
    async def update_lead_splitter(
        self,
        info: Info,
        input: Annotated[UpdateLeadSplitterInput, strawberry.argument(description=INPUT)],
    ) -> UpdateLeadSplitterResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_lead_splitter(
                wf.UpdateSplitter(
                    id=pk(input.id, "LeadSplitter", "id"),
                    version=input.version,
                    name=opt(input.name),
                    active=opt(input.active),
                    shares=maybe(input.shares, shares),
                ),
                uow,
            )

        return await splitter_payload(info, await run(info, work))

    @strawberry.mutation(description="Delete a lead splitter that no routing rule uses.")
    async def delete_lead_splitter(
        self,
        info: Info,
        input: Annotated[LeadSplitterRefInput, strawberry.argument(description=INPUT)],
    ) -> DeleteLeadSplitterResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_lead_splitter(
                wf.SplitterRef(id=pk(input.id, "LeadSplitter", "id"), version=input.version), uow
            )

        return deleted("LeadSplitter", await run(info, work))
