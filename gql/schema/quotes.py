from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from domain.money import Money as DomainMoney
from gql.schema.base import Money, Node, money, needs
from gql.schema.fields import to_many, to_one
from gql.schema.history import history_field
from persistence import tables

QUOTES_ORDER = (tables.quotes.c.created_at,)
ITEMS_ORDER = (tables.quote_items.c.position,)


@strawberry.type(description="A priced offer for an opportunity, in one currency.")
class Quote(Node):
    graphql_type = "Quote"
    name: str = strawberry.field(description="The quote's name.")
    currency: str = strawberry.field(description="ISO 4217 currency of every price in it.")
    brand: str | None = strawberry.field(description="The brand quoted (from the price book).")
    product_version: str | None = strawberry.field(description="The product version quoted.")
    valid_from: date | None = strawberry.field(description="First day the offer is valid.")
    valid_until: date | None = strawberry.field(description="Last day the offer is valid.")
    is_active: bool = strawberry.field(description="True for the opportunity's active quote (at most one).")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    history = history_field("Quote")
    opportunity = to_one(
        "gql.schema.opportunities:Opportunity", tables.opportunities, "opportunity_id", "The opportunity it is for."
    )
    price_book = to_one(
        "gql.schema.catalog:PriceBook",
        tables.price_books,
        "price_book_id",
        "The price book its prices come from (none for a manual quote).",
    )
    items = to_many(
        "gql.schema.quotes:QuoteItem",
        tables.quote_items,
        "quote_id",
        "The lines of the quote, in order.",
        order_by=ITEMS_ORDER,
    )
    documents = to_many(
        "gql.schema.documents:QuoteDocument",
        tables.quote_documents,
        "quote_id",
        "The documents generated from this quote, oldest first.",
        order_by=(tables.quote_documents.c.id,),
    )

    @strawberry.field(description="The sum of the item totals, rounded half-up to the currency's minor unit.")
    @needs("id", "currency")
    async def total(self, info: Info) -> Money:
        rows = await info.context.children(tables.quote_items, "quote_id", ITEMS_ORDER).load(self.pk)
        currency = self.__dict__["currency"]
        result = DomainMoney(sum((r.total for r in rows), Decimal(0)), currency).rounded()
        return money(result.amount, currency)  # type: ignore[return-value]


@strawberry.type(description="A line of a quote: a product from the price book, a manual item or a rounding item.")
class QuoteItem(Node):
    graphql_type = "QuoteItem"
    name: str = strawberry.field(description="What is sold.")
    position: int = strawberry.field(description="Its place in the quote, from 0.")
    unit_name: str | None = strawberry.field(description="The unit it is sold in (piece, licence/month …).")
    quantity: Decimal = strawberry.field(description="How many units.")
    discount_percent: Decimal = strawberry.field(description="Discount in percent (0 to 100).")
    is_rounding: bool = strawberry.field(description="True for the item that rounds the quote's total.")
    quote = to_one("gql.schema.quotes:Quote", tables.quotes, "quote_id", "The quote it belongs to.")
    product = to_one(
        "gql.schema.catalog:Product", tables.products, "product_id", "The product (none for manual items)."
    )
    unit = to_one("gql.schema.catalog:ProductUnit", tables.product_units, "unit_id", "The product unit sold.")

    @strawberry.field(description="The price of one unit before discount, in the quote's currency.")
    @needs("unit_price", "currency")
    def unit_price(self) -> Money:
        return money(self.__dict__["unit_price"], self.__dict__["currency"])  # type: ignore[return-value]

    @strawberry.field(description="Quantity × unit price − discount, rounded to the currency's minor unit.")
    @needs("total", "currency")
    def total(self) -> Money:
        return money(self.__dict__["total"], self.__dict__["currency"])  # type: ignore[return-value]
