"""Contracts as read, and the events `contractEvents` sends (created, renewed, cancelled, expiring,
expired, removed, withdrawn)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from domain.lists import ListName
from gql import ids
from gql.schema import enums
from gql.schema.base import Money, Node, money, needs
from gql.schema.events import LoggedEvent
from gql.schema.fields import to_one
from gql.schema.history import history_field
from gql.schema.people import Partner, User
from gql.schema.settings import list_value_field
from gql.subscriptions.hub import Event
from persistence import tables


@strawberry.type(description="What a customer bought: one per sold quote item, a purchase or a period of service.")
class Contract(Node):
    graphql_type = "Contract"
    name: str = strawberry.field(description="What was sold (the item's name).")
    kind: enums.ContractKind = strawberry.field(description="A one-time purchase or a time-based service.")
    category: enums.ProductCategory | None = strawberry.field(description="The product's category.")
    category_value = list_value_field(
        ListName.CONTRACT_CATEGORY, "category", "Its category as a value of the contract categories (label)."
    )
    quantity: Decimal = strawberry.field(description="How many units were sold.")
    starts_on: date = strawberry.field(description="When it starts.")
    ends_on: date | None = strawberry.field(description="When it ends (time-based contracts only).")
    status: enums.ContractStatus = strawberry.field(
        description="Active, expired or cancelled: follows its dates (the scheduler ends it when its end has passed)."
    )
    cancelled_on: date | None = strawberry.field(
        description="The first day without the service when it was cancelled or terminated (null otherwise)."
    )
    cancel_reason: str | None = strawberry.field(description="Why it was cancelled or terminated.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to change it safely.")
    history = history_field("Contract")
    account = to_one("gql.schema.accounts:Account", tables.accounts, "account_id", "The customer.")
    opportunity = to_one(
        "gql.schema.opportunities:Opportunity",
        tables.opportunities,
        "opportunity_id",
        "The sold opportunity it came from.",
    )
    product = to_one(
        "gql.schema.catalog:Product", tables.products, "product_id", "The product (none for manual items)."
    )
    quote_item = to_one("gql.schema.quotes:QuoteItem", tables.quote_items, "quote_item_id", "The sold quote item.")

    @strawberry.field(description="The contract's value (the sold item's total).")
    @needs("value_amount", "value_currency")
    def value(self) -> Money:
        return money(self.__dict__["value_amount"], self.__dict__["value_currency"])  # type: ignore[return-value]


# --- events ---


@strawberry.enum(description="What happened to a contract.")
class ContractEventKind(Enum):
    CREATED = strawberry.enum_value("ContractCreated", description="It was created: an opportunity was sold.")
    RENEWED = strawberry.enum_value(
        "ContractRenewed", description="A time-based contract got a new period (`previousEndsOn`, `endsOn`)."
    )
    CANCELLED = strawberry.enum_value(
        "ContractCancelled",
        description="It was cancelled now or terminated as of a later date (`effectiveOn`, `reason`).",
    )
    EXPIRING = strawberry.enum_value(
        "ContractExpiring",
        description="It ends within the notice period (SALESGRAPH_CONTRACT_NOTICE_DAYS, default 30): `daysLeft`. "
        "Sent once per end date, by the server with no request.",
    )
    EXPIRED = strawberry.enum_value(
        "ContractExpired",
        description="Its end passed and the server ended it with no request: `status` is EXPIRED, or CANCELLED "
        "for one terminated early.",
    )
    REMOVED = strawberry.enum_value(
        "ContractRemoved", description="It was removed from its sold opportunity (`contract` is null)."
    )
    WITHDRAWN = strawberry.enum_value(
        "ContractWithdrawn", description="Its sale was undone (the opportunity unlocked); `contract` is null."
    )


CONTRACT_EVENT_TYPES = frozenset(kind.value for kind in ContractEventKind)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


@strawberry.type(description="Something that happened to a contract, as it happened.")
class ContractEvent(LoggedEvent):
    @strawberry.field(description="What happened.")
    def kind(self) -> ContractEventKind:
        return ContractEventKind(self.event["type"])

    @strawberry.field(description="The contract's id (also when it no longer exists).")
    def contract_id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Contract", self.event["entityId"]))

    @strawberry.field(description="The contract as it is now; null when it no longer exists.")
    async def contract(self, info: Info) -> Contract | None:
        return Contract.from_row(await info.context.by_id(tables.contracts).load(self.event["entityId"]))

    @strawberry.field(description="Its status right after the event.")
    def status(self) -> enums.ContractStatus | None:  # type: ignore[valid-type]
        value = self.event["data"].get("status")
        return enums.ContractStatus(value) if value else None  # type: ignore[call-arg]

    @strawberry.field(description="Its end right after the event (null for a one-time purchase).")
    def ends_on(self) -> date | None:
        return _day(self.event["data"].get("endsOn"))

    @strawberry.field(description="RENEWED: the end before the renewal.")
    def previous_ends_on(self) -> date | None:
        return _day(self.event["data"].get("previousEndsOn"))

    @strawberry.field(description="CANCELLED: the first day without the service.")
    def effective_on(self) -> date | None:
        return _day(self.event["data"].get("effectiveOn"))

    @strawberry.field(description="CANCELLED, REMOVED: why.")
    def reason(self) -> str | None:
        return self.event["data"].get("reason")

    @strawberry.field(description="EXPIRING: whole days left until its end (rounded up).")
    def days_left(self) -> int | None:
        return self.event["data"].get("daysLeft")

    @strawberry.field(description="The user who made the change (null for the server's own or a partner's).")
    async def actor_user(self, info: Info) -> User | None:
        user_id = self.event.get("actorUserId")
        return User.from_row(await info.context.by_id(tables.users).load(user_id)) if user_id else None

    @strawberry.field(description="The partner who made the change, when a partner did.")
    async def actor_partner(self, info: Info) -> Partner | None:
        partner_id = self.event.get("actorPartnerId")
        return Partner.from_row(await info.context.by_id(tables.partners).load(partner_id)) if partner_id else None


def contract_events_filter(
    wanted: set[int] | None, accounts: set[int] | None, opportunities: set[int] | None, kinds: set[str] | None
) -> Any:
    """Which contract events a `contractEvents` subscription takes: of these contracts, accounts or
    opportunities, of these kinds (all that are given must hold)."""

    def accepts(event: Event) -> bool:
        if event["type"] not in CONTRACT_EVENT_TYPES or (kinds is not None and event["type"] not in kinds):
            return False
        data = event.get("data") or {}
        if wanted is not None and event["entityId"] not in wanted:
            return False
        if accounts is not None and data.get("accountId") not in accounts:
            return False
        return opportunities is None or data.get("opportunityId") in opportunities

    return accepts
