from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from aiodataloader import DataLoader
from strawberry.types import Info

from domain import identity
from domain.catalog import BASE_CURRENCY
from domain.leads import cost_per_lead, return_on_investment
from domain.lists import ListName
from domain.money import Money as DomainMoney
from gql.schema import enums
from gql.schema import relations as rel
from gql.schema.base import Money, Node, described_enum, money, needs
from gql.schema.custom_fields import custom_fields_field
from gql.schema.fields import to_one
from gql.schema.indicators import indicators_field
from gql.schema.people import CreditShare, credit_shares_of
from gql.schema.settings import list_value_field
from gql.schema.tasks import task_connection
from persistence import reads, tables
from persistence.db import ConnectionSource

if TYPE_CHECKING:
    from gql.schema.accounts import Account, Contact


MatchKey = described_enum(
    identity.MatchKey,
    "LeadMatchKey",
    "What an incoming lead was recognised by.",
    {
        "EMAIL": "The same e-mail address (case ignored).",
        "PHONE": "The same phone number (its digits; 00 read as +).",
        "COMPANY": "The same company name (case, punctuation and a trailing legal form such as AS or GmbH ignored).",
    },
)


@strawberry.type(
    description="A known lead, contact or account an incoming lead was recognised as when it came in, and why. "
    "Exactly one of `lead`, `contact` and `account` is set."
)
class LeadMatch:
    reasons: list[MatchKey] = strawberry.field(description="The keys that matched.")  # type: ignore[valid-type]
    lead: Lead | None = strawberry.field(description="The earlier lead it matched (it is flagged a duplicate).")
    contact: Annotated[Contact, strawberry.lazy("gql.schema.accounts")] | None = strawberry.field(
        description="The contact it matched."
    )
    account: Annotated[Account, strawberry.lazy("gql.schema.accounts")] | None = strawberry.field(
        description="The account it matched."
    )


@strawberry.type(description="A person or company that may become a customer, e.g. from a campaign.")
class Lead(Node):
    graphql_type = "Lead"
    custom_fields = custom_fields_field("LEAD")
    first_name: str | None = strawberry.field(description="First name.")
    last_name: str | None = strawberry.field(description="Last name.")
    company: str | None = strawberry.field(description="Company name.")
    email: str | None = strawberry.field(description="E-mail address.")
    phone: str | None = strawberry.field(description="Phone number.")
    country: str | None = strawberry.field(description="Country, ISO 3166 alpha-2.")
    company_size: int | None = strawberry.field(description="Number of employees.")
    utm_source: str | None = strawberry.field(description="UTM source of the sign-up.")
    utm_medium: str | None = strawberry.field(description="UTM medium of the sign-up.")
    utm_campaign: str | None = strawberry.field(description="UTM campaign of the sign-up.")
    priority: int = strawberry.field(description="Higher is more urgent.")
    status: enums.LeadStatus = strawberry.field(description="Where the lead stands.")
    disqualification_reason: str | None = strawberry.field(description="Why it was disqualified.")
    rework_note: str | None = strawberry.field(description="Why it was put back for a later follow-up (REWORK).")
    archived: bool = strawberry.field(description="True when archived (hidden from the lead board).")
    anonymized: bool = strawberry.field(description="True when personal data was wiped (GDPR).")
    created_at: datetime = strawberry.field(description="When it arrived.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    campaign = to_one("gql.schema.leads:Campaign", tables.campaigns, "campaign_id", "The campaign it came from.")
    assigned_user = to_one("gql.schema.people:User", tables.users, "assigned_user_id", "The user working on it.")
    assigned_partner = to_one(
        "gql.schema.people:Partner", tables.partners, "assigned_partner_id", "The partner working on it."
    )
    account = to_one("gql.schema.accounts:Account", tables.accounts, "account_id", "The account it was added to.")
    contact = to_one("gql.schema.accounts:Contact", tables.contacts, "contact_id", "The contact created from it.")
    opportunity = to_one(
        "gql.schema.opportunities:Opportunity",
        tables.opportunities,
        "opportunity_id",
        "The opportunity it was qualified into.",
    )
    activities = rel.activities("lead_id", "this lead")
    tasks = task_connection("lead_id", "Tasks attached to this lead.")
    status_indicators = indicators_field("LEAD")
    status_changed_at: datetime | None = strawberry.field(
        description="When its status last changed (for a qualified lead: when it was qualified)."
    )
    duplicate_of = to_one(
        "gql.schema.leads:Lead",
        tables.leads,
        "duplicate_of_id",
        "The earlier lead this one was recognised as when it came in (null when none, or one you may not see): "
        "a possible duplicate, to merge (mergeLeads) or keep.",
    )
    merged_into = to_one(
        "gql.schema.leads:Lead", tables.leads, "merged_into_id", "The lead this one was merged into (it is archived)."
    )

    @strawberry.field(
        description="Who shares the credit for this lead, by percentage (adding up to 100), in user order; empty "
        "when nobody does. Set with setLeadCreditShares or by a sharing lead splitter; qualifying the lead carries "
        "them to its opportunity."
    )
    @needs("credit_shares")
    def credit_shares(self) -> list[CreditShare]:
        return credit_shares_of(self.__dict__["credit_shares"])

    @strawberry.field(
        description="Whom it was recognised as when it came in: the earliest known lead, contact and account "
        "sharing its e-mail, phone or company name, with the keys that matched (only those you may see)."
    )
    @needs("match_reasons", "duplicate_of_id", "matched_contact_id", "matched_account_id")
    async def matches(self, info: Info) -> list[LeadMatch]:
        from gql.schema.accounts import Account, Contact

        reasons = self.__dict__.get("match_reasons") or {}
        found = []
        for kind, column, table, node in (
            ("Lead", "duplicate_of_id", tables.leads, Lead),
            ("Contact", "matched_contact_id", tables.contacts, Contact),
            ("Account", "matched_account_id", tables.accounts, Account),
        ):
            key = self.__dict__.get(column)
            if key is None:
                continue
            row = node.from_row(await info.context.by_id(table).load(key))
            if row is None:
                continue  # a row the caller may not see: as if there were no match
            found.append(
                LeadMatch(
                    reasons=[MatchKey(r) for r in reasons.get(kind, [])],  # type: ignore[call-arg]
                    lead=row if kind == "Lead" else None,
                    contact=row if kind == "Contact" else None,
                    account=row if kind == "Account" else None,
                )
            )
        return found


@strawberry.type(description="What a campaign brought in; anonymized leads still count.")
class CampaignFigures:
    leads: int = strawberry.field(description="All leads from the campaign.")
    open_leads: int = strawberry.field(description="Leads still OPEN, CONTACTING or REWORK.")
    qualified_leads: int = strawberry.field(description="Leads qualified into opportunities.")
    disqualified_leads: int = strawberry.field(description="Leads disqualified.")
    opportunities: int = strawberry.field(description="Opportunities from the campaign.")
    won_opportunities: int = strawberry.field(description="Opportunities from the campaign that were won.")
    won_revenue: Money = strawberry.field(
        description="Actual revenue won, converted to the campaign's cost currency (EUR when it has no costs)."
    )
    cost_per_lead: Money | None = strawberry.field(description="Costs ÷ leads (null without costs or leads).")
    roi_percent: Decimal | None = strawberry.field(description="(Won revenue − costs) ÷ costs, in percent.")


class CampaignFiguresLoader(DataLoader):
    def __init__(self, source: ConnectionSource) -> None:
        super().__init__()
        self.source = source

    async def batch_load_fn(self, keys: list[int]) -> list[dict[str, Any]]:
        async with self.source.connect() as conn:
            figures = await reads.campaign_figures(conn, keys)
            rates = await reads.exchange_rates(conn)
        for entry in figures:
            entry["rates"] = rates
        return figures


@strawberry.type(description="A marketing campaign that brings in leads; its costs give cost per lead and ROI.")
class Campaign(Node):
    graphql_type = "Campaign"
    name: str = strawberry.field(description="The campaign's name.")
    status: enums.CampaignStatus = strawberry.field(description="Its status (ACTIVE or ARCHIVED built in).")
    status_value = list_value_field(
        ListName.CAMPAIGN_STATUS, "status", "Its status as a value of the campaign statuses (label, archived)."
    )
    starts_on: date | None = strawberry.field(description="First day.")
    ends_on: date | None = strawberry.field(description="Last day.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    leads = rel.leads("campaign_id", "Leads from this campaign.")
    opportunities = rel.opportunities("campaign_id", "Opportunities from this campaign.")

    @strawberry.field(description="What the campaign cost.")
    def costs(self) -> Money | None:
        return money(self.__dict__["costs_amount"], self.__dict__["costs_currency"])

    @strawberry.field(description="Lead counts, opportunities, won revenue, cost per lead and ROI.")
    async def figures(self, info: Info) -> CampaignFigures:
        ctx = info.context
        data = await ctx.loader("campaign-figures", lambda: CampaignFiguresLoader(ctx.reads)).load(self.pk)
        by_status: dict[str, int] = data["leads"]
        costs = (
            DomainMoney(self.__dict__["costs_amount"], self.__dict__["costs_currency"])
            if self.__dict__["costs_amount"] is not None
            else None
        )
        currency = costs.currency if costs else BASE_CURRENCY
        won = DomainMoney.zero(currency)
        for cur, amount in sorted(data["won"].items()):
            won = won + DomainMoney(Decimal(amount), cur).convert(currency, data["rates"])
        won = won.rounded()
        total_leads = sum(by_status.values())
        cpl = cost_per_lead(costs, total_leads)
        return CampaignFigures(
            leads=total_leads,
            open_leads=sum(by_status.get(s, 0) for s in ("OPEN", "CONTACTING", "REWORK")),
            qualified_leads=by_status.get("QUALIFIED", 0),
            disqualified_leads=by_status.get("DISQUALIFIED", 0),
            opportunities=data["opportunities"],
            won_opportunities=data["won_count"],
            won_revenue=money(won.amount, won.currency),  # type: ignore[arg-type]
            cost_per_lead=money(cpl.amount, cpl.currency) if cpl else None,
            roi_percent=return_on_investment(costs, won),
        )


@strawberry.type(description="One column of the lead board: the leads in one status.")
class LeadColumn:
    status: enums.LeadStatus = strawberry.field(description="The status of the leads in this column.")
    total_count: int = strawberry.field(description="How many leads are in this status (with the filter).")
    leads: list[Lead] = strawberry.field(
        description="The highest-priority leads of this column, newest first among equals (at most `limit`)."
    )


@strawberry.type(
    description="How incoming leads (ingestLead, POST /ingest/leads, createLead) are recognised as known leads, "
    "contacts and accounts: on or off, and by which keys. One for the deployment; admins change it "
    "(updateLeadMatching)."
)
class LeadMatchingSettings(Node):
    graphql_type = "LeadMatchingSettings"
    enabled: bool = strawberry.field(description="False: incoming leads are stored with no match looked for.")
    by_email: bool = strawberry.field(description="Match by e-mail address.")
    by_phone: bool = strawberry.field(description="Match by phone number.")
    by_company: bool = strawberry.field(description="Match by company name (with accounts' names too).")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")


@strawberry.enum(description="What lead statistics are split by.")
class LeadStatisticsDimension(Enum):
    SOURCE = strawberry.enum_value("SOURCE", description="The UTM source the lead came with (null: none).")
    CAMPAIGN = strawberry.enum_value(
        "CAMPAIGN", description="The campaign it came from (partners read no campaigns: theirs are not split)."
    )


@strawberry.type(description="What the leads created in a period became: one group of a source and a campaign.")
class LeadStatisticsRow:
    source: str | None = strawberry.field(description="The UTM source (split by SOURCE; null otherwise or none).")
    campaign_pk: strawberry.Private[int | None]
    created: int = strawberry.field(description="Leads created in the period (merged-away duplicates left out).")
    qualified: int = strawberry.field(description="Of those, how many are qualified now.")
    disqualified: int = strawberry.field(description="Of those, how many are disqualified now.")
    conversion_rate: Decimal | None = strawberry.field(
        description="qualified ÷ created, in percent with two decimals (null when none were created)."
    )
    average_seconds_to_qualify: Decimal | None = strawberry.field(
        description="The average time from creation to qualification of the qualified ones, in seconds with two "
        "decimals (each instant taken to the whole second; null when none were qualified)."
    )

    @strawberry.field(description="The campaign (split by CAMPAIGN; null otherwise, none, or for a partner).")
    async def campaign(self, info: Info) -> Campaign | None:
        if self.campaign_pk is None:
            return None
        return Campaign.from_row(await info.context.by_id(tables.campaigns).load(self.campaign_pk))


def statistics_row(found: dict[str, Any]) -> LeadStatisticsRow:
    created, qualified = found["created"], found["qualified"] or 0
    timed = found["qualify_count"] or 0
    hundredth = Decimal("0.01")
    return LeadStatisticsRow(
        source=found["source"],
        campaign_pk=found["campaign_id"],
        created=created,
        qualified=qualified,
        disqualified=found["disqualified"] or 0,
        conversion_rate=(Decimal(qualified) * 100 / created).quantize(hundredth) if created else None,
        average_seconds_to_qualify=(Decimal(found["qualify_seconds"] or 0) / timed).quantize(hundredth)
        if timed
        else None,
    )
