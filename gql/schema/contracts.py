from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from gql.schema import enums
from gql.schema.base import Money, Node, money, needs
from gql.schema.fields import to_one
from persistence import tables


@strawberry.type(description="What a customer bought: one per sold quote item, a purchase or a period of service.")
class Contract(Node):
    graphql_type = "Contract"
    name: str = strawberry.field(description="What was sold (the item's name).")
    kind: enums.ContractKind = strawberry.field(description="A one-time purchase or a time-based service.")
    category: enums.ProductCategory | None = strawberry.field(description="The product's category.")
    quantity: Decimal = strawberry.field(description="How many units were sold.")
    starts_on: date = strawberry.field(description="When it starts.")
    ends_on: date | None = strawberry.field(description="When it ends (time-based contracts only).")
    status: enums.ContractStatus = strawberry.field(description="Active, expired or cancelled.")
    created_at: datetime = strawberry.field(description="When it was created.")
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
