from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from domain.lists import ListName
from domain.money import Money as DomainMoney
from domain.opportunities import weighted
from gql.schema import enums
from gql.schema import relations as rel
from gql.schema.attachments import attachments_field
from gql.schema.base import Money, Node, money, needs
from gql.schema.custom_fields import custom_fields_field
from gql.schema.fields import linked, node_class, to_many, to_one
from gql.schema.history import history_field
from gql.schema.indicators import indicators_field
from gql.schema.people import CreditShare, credit_shares_of
from gql.schema.quotes import QUOTES_ORDER, Quote
from gql.schema.settings import OpportunityStage, list_value_field, stage_catalog, stage_object
from gql.schema.tasks import task_connection
from persistence import tables

ACTIVE_QUOTE = tables.quotes.c.is_active.is_(True)


@strawberry.type(description="A possible sale to an account, from first contact to won or lost.")
class Opportunity(Node):
    graphql_type = "Opportunity"
    name: str = strawberry.field(description="What is being sold, in a few words.")
    stage: enums.Stage = strawberry.field(description="The sales stage.")
    probability: int = strawberry.field(description="The chance of winning, in percent.")
    expected_close_date: date | None = strawberry.field(description="When the deal is expected to close.")
    locked: bool = strawberry.field(description="True after it was sold: quotes and items can no longer change.")
    closed_at: datetime | None = strawberry.field(description="When it was won or lost.")
    loss_reason: str | None = strawberry.field(description="Why it was lost.")
    stage_changed_at: datetime | None = strawberry.field(description="When its stage last changed.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    history = history_field("Opportunity")
    custom_fields = custom_fields_field("OPPORTUNITY")
    attachments = attachments_field("opportunity_id", "opportunity")

    @strawberry.field(description="The revenue expected from the deal.")
    @needs("estimated_revenue_amount", "estimated_revenue_currency")
    def estimated_revenue(self) -> Money | None:
        return money(self.__dict__["estimated_revenue_amount"], self.__dict__["estimated_revenue_currency"])

    @strawberry.field(description="Estimated revenue × probability, rounded to the currency's minor unit.")
    @needs("estimated_revenue_amount", "estimated_revenue_currency", "probability")
    def weighted_revenue(self) -> Money | None:
        amount, currency = self.__dict__["estimated_revenue_amount"], self.__dict__["estimated_revenue_currency"]
        if amount is None:
            return None
        result = weighted(DomainMoney(amount, currency), self.__dict__["probability"])
        return money(result.amount, result.currency)

    @strawberry.field(description="The revenue actually won: the active quote's total when it was sold.")
    @needs("actual_revenue_amount", "actual_revenue_currency")
    def actual_revenue(self) -> Money | None:
        return money(self.__dict__["actual_revenue_amount"], self.__dict__["actual_revenue_currency"])

    @strawberry.field(
        description="Who shares the credit for this opportunity, by percentage (adding up to 100), in user order; empty "
        "when nobody does (its owner has the whole credit). Set with "
        "setOpportunityCreditShares."
    )
    @needs("credit_shares")
    def credit_shares(self) -> list[CreditShare]:
        return credit_shares_of(self.__dict__["credit_shares"])

    @strawberry.field(description="True while the opportunity is in an open stage (one of OPEN kind).")
    @needs("stage")
    async def is_open(self, info: Info) -> bool:
        return (await stage_catalog(info)).is_open(self.__dict__["stage"])

    @strawberry.field(
        description="Its stage as a row of `settings.stages`: name, kind, order, default probability, active (null "
        "for a key that names no stage)."
    )
    @needs("stage")
    async def stage_details(self, info: Info) -> OpportunityStage | None:
        found = (await stage_catalog(info)).get(self.__dict__["stage"])
        return None if found is None else stage_object(found)

    @strawberry.field(description="The quote that counts (at most one per opportunity).")
    @needs("id")
    async def active_quote(self, info: Info) -> Quote | None:
        rows = await info.context.children(tables.quotes, "opportunity_id", where=ACTIVE_QUOTE, tag="active").load(
            self.pk
        )
        return node_class("gql.schema.quotes:Quote").from_row(rows[0]) if rows else None

    account = to_one("gql.schema.accounts:Account", tables.accounts, "account_id", "The account the deal is with.")
    owner = to_one("gql.schema.people:User", tables.users, "owner_id", "The user responsible for the deal.")
    partner = to_one("gql.schema.people:Partner", tables.partners, "partner_id", "The partner working on the deal.")
    campaign = to_one("gql.schema.leads:Campaign", tables.campaigns, "campaign_id", "The campaign the deal came from.")
    quotes = to_many(
        "gql.schema.quotes:Quote", tables.quotes, "opportunity_id", "All quotes, oldest first.", order_by=QUOTES_ORDER
    )
    contracts = to_many(
        "gql.schema.contracts:Contract", tables.contracts, "opportunity_id", "The contracts created when it was sold."
    )
    documents = to_many(
        "gql.schema.documents:QuoteDocument",
        tables.quote_documents,
        "opportunity_id",
        "Documents generated from its quotes, oldest first.",
    )
    related_accounts = linked(
        "gql.schema.accounts:Account",
        tables.opportunity_related_accounts,
        "opportunity_id",
        "account_id",
        tables.accounts,
        "Other accounts involved in the deal.",
    )
    business_roles = to_many(
        "gql.schema.opportunities:BusinessRole",
        tables.business_roles,
        "opportunity_id",
        "Contacts and the roles they play in the deal.",
    )
    activities = rel.activities("opportunity_id", "this opportunity")
    conversations = rel.conversations("opportunity_id", "about this opportunity")
    tasks = task_connection("opportunity_id", "Tasks attached to this opportunity.")
    status_indicators = indicators_field("OPPORTUNITY")


@strawberry.type(description="The role a contact plays in an opportunity (decision maker, champion …).")
class BusinessRole(Node):
    graphql_type = "BusinessRole"
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    role: str = strawberry.field(description="The role, in the seller's words.")
    contact = to_one("gql.schema.accounts:Contact", tables.contacts, "contact_id", "Who plays the role.")
    opportunity = to_one(
        "gql.schema.opportunities:Opportunity", tables.opportunities, "opportunity_id", "In which deal."
    )


@strawberry.type(description="A call, e-mail, meeting, task … attached to one lead, opportunity, account or partner.")
class SalesActivity(Node):
    graphql_type = "SalesActivity"
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    type: enums.ActivityType = strawberry.field(description="What kind of activity.")
    type_value = list_value_field(ListName.ACTIVITY_TYPE, "type", "Its type as a value of the activity types (label).")
    subject: str = strawberry.field(description="A short subject.")
    notes: str | None = strawberry.field(description="Notes.")
    due_at: datetime | None = strawberry.field(description="When it is due.")
    occurred_at: datetime | None = strawberry.field(description="When it happened.")
    done: bool = strawberry.field(description="True when done.")
    duration_minutes: int | None = strawberry.field(description="How long it took or will take, in minutes.")
    created_at: datetime = strawberry.field(description="When it was created.")
    owner = to_one("gql.schema.people:User", tables.users, "owner_id", "Who does it.")
    lead = to_one("gql.schema.leads:Lead", tables.leads, "lead_id", "The lead it is about.")
    opportunity = to_one(
        "gql.schema.opportunities:Opportunity", tables.opportunities, "opportunity_id", "The opportunity it is about."
    )
    account = to_one("gql.schema.accounts:Account", tables.accounts, "account_id", "The account it is about.")
    partner = to_one("gql.schema.people:Partner", tables.partners, "partner_id", "The partner it is about.")
    contact = to_one("gql.schema.accounts:Contact", tables.contacts, "contact_id", "The contact (person) it is about.")
