from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.lists import ListName
from gql.schema import enums
from gql.schema.attachments import attachments_field
from gql.schema.base import Money, Node, money, needs
from gql.schema.fields import linked, to_many, to_one
from gql.schema.history import history_field
from gql.schema.settings import list_value_field
from persistence import tables


@strawberry.type(description="Something the company sells.")
class Product(Node):
    graphql_type = "Product"
    name: str = strawberry.field(description="The product's name.")
    code: str = strawberry.field(description="The product code (unique).")
    description: str | None = strawberry.field(description="A description for quotes.")
    active: bool = strawberry.field(description="False when it can no longer be quoted.")
    category: enums.ProductCategory = strawberry.field(description="What kind of product it is.")
    category_value = list_value_field(
        ListName.CONTRACT_CATEGORY, "category", "Its category as a value of the contract categories (label)."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    units = to_many("gql.schema.catalog:ProductUnit", tables.product_units, "product_id", "The units it is sold in.")


@strawberry.type(description="How a product is sold: once (piece, project) or recurring with a period in months.")
class ProductUnit(Node):
    graphql_type = "ProductUnit"
    name: str = strawberry.field(description="The unit's name, e.g. licence/month.")
    recurring: bool = strawberry.field(description="True when it is sold for a period (becomes a TIME_BASED contract).")
    period_months: int | None = strawberry.field(description="The period of a recurring unit, in months.")
    product = to_one("gql.schema.catalog:Product", tables.products, "product_id", "The product.")
    prices = to_many(
        "gql.schema.catalog:PriceEntry",
        tables.price_entries,
        "unit_id",
        "The unit's prices in every price book and currency.",
    )


@strawberry.type(
    description="A list of prices per product unit and currency, for brands, versions and regions; for every customer, "
    "or for the agreements of its linked accounts."
)
class PriceBook(Node):
    graphql_type = "PriceBook"
    name: str = strawberry.field(description="The price book's name.")
    description: str | None = strawberry.field(description="A description.")
    active: bool = strawberry.field(description="False when it can no longer be used for new quotes.")
    is_update: bool = strawberry.field(description="True when it is a new version of an earlier price book.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    created_at: datetime = strawberry.field(description="When it was created.")
    previous = to_one("gql.schema.catalog:PriceBook", tables.price_books, "previous_id", "The book this one updates.")
    bundles = to_many("gql.schema.catalog:Bundle", tables.bundles, "price_book_id", "Bundles priced in this book.")
    attachments = attachments_field("price_book_id", "price book")
    accounts = linked(
        "gql.schema.accounts:Account",
        tables.price_book_accounts,
        "price_book_id",
        "account_id",
        tables.accounts,
        "The accounts this book is for (an agreement with them), those you may see; empty for a book for every "
        "customer. Only quotes for these accounts may be priced from it.",
    )
    history = history_field("PriceBook")

    @strawberry.field(description="Brands the book applies to.")
    def brands(self) -> list[str]:
        return list(self.__dict__["brands"] or [])

    @strawberry.field(description="Product versions the book applies to.")
    def product_versions(self) -> list[str]:
        return list(self.__dict__["product_versions"] or [])

    @strawberry.field(
        description="The regions the book is limited to: ISO country codes or named groups (EU, EEA, NORDICS, DACH, "
        "BENELUX); a quote for an account outside them cannot be priced from it. Empty: everywhere."
    )
    def regions(self) -> list[str]:
        return list(self.__dict__["regions"] or [])

    @strawberry.field(description="The book's prices, optionally in one currency only.")
    async def entries(
        self,
        info: Info,
        currency: Annotated[str | None, strawberry.argument(description="Only prices in this currency.")] = None,
    ) -> list[PriceEntry]:
        rows = await info.context.children(tables.price_entries, "price_book_id").load(self.pk)
        return PriceEntry.from_rows(r for r in rows if currency is None or r.price_currency == currency)


@strawberry.type(description="The price of one product unit in one currency, in one price book.")
class PriceEntry(Node):
    graphql_type = "PriceEntry"
    price_book = to_one("gql.schema.catalog:PriceBook", tables.price_books, "price_book_id", "The price book.")
    unit = to_one("gql.schema.catalog:ProductUnit", tables.product_units, "unit_id", "The product unit priced.")

    @strawberry.field(description="The brand of the book this price is for; null: for any brand.")
    @needs("brand")
    def brand(self) -> str | None:
        return self.__dict__["brand"] or None

    @strawberry.field(description="The product version of the book this price is for; null: for any version.")
    @needs("product_version")
    def product_version(self) -> str | None:
        return self.__dict__["product_version"] or None

    @strawberry.field(description="The price of one unit.")
    @needs("price_amount", "price_currency")
    def price(self) -> Money:
        return money(self.__dict__["price_amount"], self.__dict__["price_currency"])  # type: ignore[return-value]


@strawberry.type(description="A product unit inside a bundle with its share of the bundle's price.")
class BundleComponent:
    weight: Decimal = strawberry.field(
        description="Its share of the bundle price, in percent (all weights sum to 100)."
    )
    unit_id: strawberry.Private[int]

    @strawberry.field(description="The product unit.")
    async def unit(self, info: Info) -> ProductUnit | None:
        return ProductUnit.from_row(await info.context.by_id(tables.product_units).load(self.unit_id))


@strawberry.type(description="Products sold together for one price, split between them by weight.")
class Bundle(Node):
    graphql_type = "Bundle"
    name: str = strawberry.field(description="The bundle's name.")
    code: str = strawberry.field(description="The bundle's code.")
    description: str | None = strawberry.field(description="A description for quotes.")
    active: bool = strawberry.field(description="False when it can no longer be quoted.")
    price_book = to_one("gql.schema.catalog:PriceBook", tables.price_books, "price_book_id", "The price book it is in.")

    @strawberry.field(description="The products in the bundle with their weights.")
    async def components(self, info: Info) -> list[BundleComponent]:
        rows = await info.context.children(tables.bundle_components, "bundle_id").load(self.pk)
        return [BundleComponent(weight=r.weight, unit_id=r.unit_id) for r in rows]


@strawberry.type(description="How many euros (the base currency) one unit of a currency is worth.")
class ExchangeRate:
    currency: str = strawberry.field(description="ISO 4217 code.")
    rate: Decimal = strawberry.field(description="Euros per one unit of the currency.")
    updated_at: datetime = strawberry.field(description="When the rate was last set.")
