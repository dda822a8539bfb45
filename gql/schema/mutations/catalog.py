"""Mutations of the catalog: price books, products, units, prices, bundles, exchange rates and the CSV
product import."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from domain.errors import Conflict, NotFound
from domain.workflows import catalog as wf
from gql.resolvers.mutation import Deleted, Written, decode_id, gid, mutation, payload_node
from gql.schema import enums
from gql.schema.catalog import Bundle, ExchangeRate, PriceBook, PriceEntry, Product, ProductUnit
from gql.schema.inputs import MoneyInput, described, keep, optional
from persistence.catalog import SqlExchangeRates

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."
ERRORS = (NotFound, Conflict)  # every catalog workflow reads rows that may be gone, and commits


# --- payloads ---


@strawberry.type(description="The price book as it is after the change.")
class PriceBookPayload:
    price_book: PriceBook = described("The price book, with its new version.")


@strawberry.type(description="The product as it is after the change.")
class ProductPayload:
    product: Product = described("The product, with its new version.")


@strawberry.type(description="The product unit as it is after the change, with its product.")
class ProductUnitPayload:
    unit: ProductUnit = described("The unit.")
    product: Product = described("The product it belongs to.")


@strawberry.type(description="What removing a unit left: the product without it.")
class RemoveProductUnitPayload:
    deleted_id: strawberry.ID = described("The global id of the unit that no longer exists.")
    product: Product = described("The product, now without the unit.")


@strawberry.type(description="The price as it is after the change.")
class PriceEntryPayload:
    price_entry: PriceEntry = described("The price of the unit in the book and currency.")


@strawberry.type(description="The bundle as it is after the change.")
class BundlePayload:
    bundle: Bundle = described("The bundle, with its new version.")


@strawberry.type(description="The exchange rate as it is after the change.")
class ExchangeRatePayload:
    exchange_rate: ExchangeRate = described("The rate now in use.")


@strawberry.type(description="What a CSV product import wrote.")
class ImportProductsPayload:
    products_created: int = described("Products that did not exist before (by code).")
    products_updated: int = described("Existing products whose name, category or description changed.")
    units_created: int = described("Units added to products.")
    units_updated: int = described("Existing units whose recurrence or period changed.")
    prices_set: int = described("Prices created or changed.")
    products: list[Product] = described("Every product named in the file, as it is now.")


class UnitRemoved(Deleted):
    """The removed unit's id and its product as it is now (a deleted id beside a node: no convention fills it)."""

    def __init__(self) -> None:
        super().__init__("ProductUnit")
        self.type = RemoveProductUnitPayload

    async def build(self, info: Info, outcome: Any, written: Written) -> RemoveProductUnitPayload:
        gone = await super().build(info, outcome, written)
        product = await payload_node(info, Product, outcome.product_id, written)
        return RemoveProductUnitPayload(deleted_id=gone.deleted_id, product=product)


# --- inputs ---


@strawberry.input(description="A new price book.")
class CreatePriceBookInput:
    name: str = described("The price book's name.")
    description: str | None = optional("A description.")
    brands: list[str] = strawberry.field(default_factory=list, description="Brands it applies to.")
    product_versions: list[str] = strawberry.field(default_factory=list, description="Product versions it applies to.")
    regions: list[str] = strawberry.field(default_factory=list, description="Regions it applies to.")
    active: bool = strawberry.field(default=True, description="False to keep it from new quotes.")
    is_update: bool = strawberry.field(default=False, description="True when it is a new version of `previousId`.")
    previous_id: strawberry.ID | None = gid("PriceBook", default=None, description="The price book it updates.")


@strawberry.input(description="Changes to a price book; fields left out stay as they are, null clears.")
class UpdatePriceBookInput:
    id: strawberry.ID = gid("PriceBook", description="The price book.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    description: str | None = keep("New description.")
    brands: list[str] | None = keep("New brands (all of them).")
    product_versions: list[str] | None = keep("New product versions (all of them).")
    regions: list[str] | None = keep("New regions (all of them).")
    active: bool | None = keep("Active or not.")
    is_update: bool | None = keep("Whether it updates an earlier book (false clears previousId).")
    previous_id: strawberry.ID | None = gid("PriceBook", default=strawberry.UNSET, description="The book it updates.")


@strawberry.input(description="Identifies a catalog object to delete, with the version you read.")
class CatalogRefInput:
    id: strawberry.ID = described("The object.")
    version: int | None = optional(VERSION)


@strawberry.input(description="A new product.")
class CreateProductInput:
    name: str = described("The product's name.")
    code: str = described("The product code, unique among products.")
    category: enums.ProductCategory = described("What kind of product it is.")
    description: str | None = optional("A description for quotes.")
    active: bool = strawberry.field(default=True, description="False to keep it from new quotes.")


@strawberry.input(description="Changes to a product; fields left out stay as they are, null clears.")
class UpdateProductInput:
    id: strawberry.ID = gid("Product", description="The product.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    code: str | None = keep("New code (unique).")
    category: enums.ProductCategory | None = keep("New category.")
    description: str | None = keep("New description.")
    active: bool | None = keep("Active or not.")


@strawberry.input(description="A new unit a product is sold in.")
class AddProductUnitInput:
    product_id: strawberry.ID = gid("Product", description="The product.")
    name: str = described("The unit's name, e.g. piece or licence/month (unique per product).")
    recurring: bool = strawberry.field(
        default=False, description="True when sold for a period (a TIME_BASED contract)."
    )
    period_months: int | None = optional("The period of a recurring unit, in months.")


@strawberry.input(description="Changes to a product unit; fields left out stay as they are.")
class UpdateProductUnitInput:
    id: strawberry.ID = gid("ProductUnit", description="The unit.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    recurring: bool | None = keep("Recurring or one-time (one-time drops the period).")
    period_months: int | None = keep("New period in months.")


@strawberry.input(description="The price of a product unit in a price book and currency (replaces any such price).")
class SetPriceInput:
    price_book_id: strawberry.ID = gid("PriceBook", description="The price book.")
    unit_id: strawberry.ID = gid("ProductUnit", description="The product unit.")
    price: MoneyInput = described("The price of one unit; its currency picks the entry.")


@strawberry.input(description="Take a unit's price in one currency out of a price book.")
class RemovePriceInput:
    price_book_id: strawberry.ID = gid("PriceBook", description="The price book.")
    unit_id: strawberry.ID = gid("ProductUnit", description="The product unit.")
    currency: str = described("The currency of the price to remove (ISO 4217).")


@strawberry.input(description="A product unit in a bundle with its share of the bundle's price.")
class BundleComponentInput:
    unit_id: strawberry.ID = described("The product unit.")
    weight: Decimal = described("Its share in percent; the weights of a bundle sum to exactly 100.")

    def to_domain(self) -> wf.ComponentInput:
        # A bad unit id is reported on the list, as the workflow reports every other fault of a component.
        return wf.ComponentInput(unit_id=decode_id(self.unit_id, "ProductUnit", "components"), weight=self.weight)


@strawberry.input(description="A new bundle in a price book.")
class CreateBundleInput:
    price_book_id: strawberry.ID = gid("PriceBook", description="The price book it is sold from.")
    name: str = described("The bundle's name.")
    code: str = described("Its code, unique within the price book.")
    components: list[BundleComponentInput] = described("Its units and weights (summing to 100).")
    active: bool = strawberry.field(default=True, description="False to keep it from new quotes.")


@strawberry.input(description="Changes to a bundle; new components replace all the old ones.")
class UpdateBundleInput:
    id: strawberry.ID = gid("Bundle", description="The bundle.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    code: str | None = keep("New code.")
    active: bool | None = keep("Active or not.")
    components: list[BundleComponentInput] | None = keep("All components anew, weights summing to 100.")


@strawberry.input(description="How many euros one unit of a currency is worth.")
class SetExchangeRateInput:
    currency: str = described("ISO 4217 code (not EUR, the base currency, which is always 1).")
    rate: Decimal = strawberry.field(description='Euros per one unit of the currency, e.g. "0.0865" for NOK.')


@strawberry.input(description="Products, units and prices as CSV text.")
class ImportProductsInput:
    csv: str = strawberry.field(
        description=(
            "CSV with a header row naming its columns: code, name, category (required), description, unit, recurring "
            "(true/false), periodMonths, priceBook (a price book's name), currency, price. One row per product, unit "
            "or price; products are matched by code, units by name. Every row is checked before anything is written."
        )
    )


@strawberry.type
class CatalogMutations:
    @mutation(wf.create_price_book, CreatePriceBookInput, PriceBookPayload, errors=ERRORS)
    def create_price_book(self) -> None:
        """Create a price book (optionally as an update of an earlier one)."""

    @mutation(wf.update_price_book, UpdatePriceBookInput, PriceBookPayload, errors=ERRORS)
    def update_price_book(self) -> None:
        """Change a price book's data."""

    @mutation(wf.delete_price_book, CatalogRefInput, Deleted("PriceBook"), ids={"id": "PriceBook"}, errors=ERRORS)
    def delete_price_book(self) -> None:
        """Delete a price book with its prices and bundles (not while quotes use it)."""

    @mutation(wf.create_product, CreateProductInput, ProductPayload, errors=ERRORS)
    def create_product(self) -> None:
        """Create a product (add its units with addProductUnit)."""

    @mutation(wf.update_product, UpdateProductInput, ProductPayload, errors=ERRORS)
    def update_product(self) -> None:
        """Change a product's data."""

    @mutation(wf.delete_product, CatalogRefInput, Deleted("Product"), ids={"id": "Product"}, errors=ERRORS)
    def delete_product(self) -> None:
        """Delete a product with its units and prices (not while quotes, contracts or bundles use it; deactivate it
        instead)."""

    @mutation(wf.add_product_unit, AddProductUnitInput, ProductUnitPayload, errors=ERRORS)
    def add_product_unit(self) -> None:
        """Add a unit a product is sold in: one-time, or recurring with a period."""

    @mutation(wf.update_product_unit, UpdateProductUnitInput, ProductUnitPayload, errors=ERRORS)
    def update_product_unit(self) -> None:
        """Change a product unit."""

    @mutation(wf.remove_product_unit, CatalogRefInput, UnitRemoved(), ids={"id": "ProductUnit"}, errors=ERRORS)
    def remove_product_unit(self) -> None:
        """Remove a product unit with its prices (not while quote items or bundles use it)."""

    @mutation(wf.set_price, SetPriceInput, PriceEntryPayload, errors=ERRORS)
    def set_price(self) -> None:
        """Set the price of a product unit in a price book and currency (creates or replaces it)."""

    @mutation(wf.remove_price, RemovePriceInput, Deleted("PriceEntry"), errors=ERRORS)
    def remove_price(self) -> None:
        """Remove a unit's price in one currency from a price book."""

    @mutation(wf.create_bundle, CreateBundleInput, BundlePayload, errors=ERRORS)
    def create_bundle(self) -> None:
        """Create a bundle of product units whose weights (summing to 100) split its price."""

    @mutation(wf.update_bundle, UpdateBundleInput, BundlePayload, errors=ERRORS)
    def update_bundle(self) -> None:
        """Change a bundle (new components replace the old ones)."""

    @mutation(wf.delete_bundle, CatalogRefInput, Deleted("Bundle"), ids={"id": "Bundle"}, errors=ERRORS)
    def delete_bundle(self) -> None:
        """Delete a bundle."""

    @mutation(
        wf.set_exchange_rate,
        SetExchangeRateInput,
        ExchangeRatePayload,
        ports=lambda context: (SqlExchangeRates(),),
        errors=ERRORS,
    )
    def set_exchange_rate(self) -> None:
        """Set the exchange rate of a currency to EUR (the base, always 1)."""

    @mutation(wf.import_products, ImportProductsInput, ImportProductsPayload, errors=ERRORS)
    def import_products(self) -> None:
        """Import products, units and prices from CSV: every row is checked first (a ValidationError names the line and
        column of the first bad one, and nothing is written), then products are created or updated by code."""
