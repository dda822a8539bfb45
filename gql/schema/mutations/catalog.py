"""Mutations of the catalog: price books, products, units, prices, bundles, exchange rates and the CSV
product import."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.workflows import catalog as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, decode_id, mutation, node_payload, payload_type
from gql.schema import enums
from gql.schema.catalog import Bundle, ExchangeRate, PriceBook, PriceEntry, Product, ProductUnit
from gql.schema.inputs import MoneyInput, acts_on, described, gid, optional, ref, update_of
from gql.schema.mutations.common import WRITE
from persistence.catalog import SqlExchangeRates

PriceBookPayload = node_payload(PriceBook)
ProductPayload = node_payload(Product)
ProductUnitPayload = payload_type(
    "The product unit as it is after the change, with its product.",
    unit=(ProductUnit, "The unit."),
    product=(Product, "The product it belongs to."),
)
RemoveProductUnitPayload = payload_type(
    "What removing a unit left: the product without it.",
    deleted_id=(strawberry.ID, "The global id of the unit that no longer exists."),
    product=(Product, "The product, now without the unit."),
)
PriceEntryPayload = payload_type(
    "The price as it is after the change.", price_entry=(PriceEntry, "The price of the unit in the book and currency.")
)
BundlePayload = node_payload(Bundle)
ExchangeRatePayload = node_payload(ExchangeRate, exchange_rate="The rate now in use.")


@strawberry.type(description="What a CSV product import wrote.")
class ImportProductsPayload:
    products_created: int = described("Products that did not exist before (by code).")
    products_updated: int = described("Existing products whose name, category or description changed.")
    units_created: int = described("Units added to products.")
    units_updated: int = described("Existing units whose recurrence or period changed.")
    prices_set: int = described("Prices created or changed.")
    products: list[Product] = described("Every product named in the file, as it is now.")


@strawberry.input(description="A new price book.")
class CreatePriceBookInput:
    name: str = described("The price book's name.", update="New name.")
    description: str | None = optional("A description.", update="New description.")
    brands: list[str] = optional("Brands it applies to.", [], update="New brands (all of them).")
    product_versions: list[str] = optional(
        "Product versions it applies to.", [], update="New product versions (all of them)."
    )
    regions: list[str] = optional("Regions it applies to.", [], update="New regions (all of them).")
    active: bool = optional("False to keep it from new quotes.", True, update="Active or not.")
    is_update: bool = optional(
        "True when it is a new version of `previousId`.",
        False,
        update="Whether it updates an earlier book (false clears previousId).",
    )
    previous_id: strawberry.ID | None = gid(
        "PriceBook", "The price book it updates.", None, update="The book it updates."
    )
    account_ids: list[strawberry.ID] = gid(
        "Account",
        "The accounts it is for (an agreement with them); none: every customer. Change them later with "
        "linkPriceBookAccount and unlinkPriceBookAccount.",
        [],
        update=False,
    )


@strawberry.input(description="A price book and an account it is (or is no longer) for.")
class PriceBookAccountInput:
    price_book_id: strawberry.ID = gid("PriceBook", "The price book.")
    account_id: strawberry.ID = gid("Account", "The account.")


@strawberry.input(description="A new product.")
class CreateProductInput:
    name: str = described("The product's name.", update="New name.")
    code: str = described("The product code, unique among products.", update="New code (unique).")
    category: enums.ProductCategory = described("What kind of product it is.", update="New category.")
    description: str | None = optional("A description for quotes.", update="New description.")
    active: bool = optional("False to keep it from new quotes.", True, update="Active or not.")


@strawberry.input(description="A new unit a product is sold in.")
class AddProductUnitInput:
    product_id: strawberry.ID = gid("Product", "The product.", update=False)
    name: str = described("The unit's name, e.g. piece or licence/month (unique per product).", update="New name.")
    recurring: bool = optional(
        "True when sold for a period (a TIME_BASED contract).",
        False,
        update="Recurring or one-time (one-time drops the period).",
    )
    period_months: int | None = optional("The period of a recurring unit, in months.", update="New period in months.")


@strawberry.input(
    description="The price of a product unit in a price book and currency, for any brand and product version or for one "
    "of the book's (replaces any such price). A quote takes the price for its brand and version, else for its brand, "
    "else for its version, else the one for any."
)
class SetPriceInput:
    price_book_id: strawberry.ID = gid("PriceBook", "The price book.")
    unit_id: strawberry.ID = gid("ProductUnit", "The product unit.")
    price: MoneyInput = described("The price of one unit; its currency picks the entry.")
    brand: str | None = optional("One of the book's brands this price is for; null: any brand.")
    product_version: str | None = optional("One of the book's product versions this price is for; null: any version.")


@strawberry.input(
    description="Take a unit's price in one currency (and brand and product version) out of a price book."
)
class RemovePriceInput:
    price_book_id: strawberry.ID = gid("PriceBook", "The price book.")
    unit_id: strawberry.ID = gid("ProductUnit", "The product unit.")
    currency: str = described("The currency of the price to remove (ISO 4217).")
    brand: str | None = optional("The brand of the price to remove; null: the price for any brand.")
    product_version: str | None = optional(
        "The product version of the price to remove; null: the price for any version."
    )


@strawberry.input(description="A product unit in a bundle with its share of the bundle's price.")
class BundleComponentInput:
    unit_id: strawberry.ID = described("The product unit.")
    weight: Decimal = described("Its share in percent; the weights of a bundle sum to exactly 100.")

    def to_domain(self, where: str) -> wf.ComponentInput:
        # A bad unit id is reported on the list, as the workflow reports every other fault of a component.
        return wf.ComponentInput(unit_id=decode_id(self.unit_id, "ProductUnit", "components"), weight=self.weight)


@strawberry.input(description="A new bundle in a price book.")
class CreateBundleInput:
    price_book_id: strawberry.ID = gid("PriceBook", "The price book it is sold from.")
    name: str = described("The bundle's name.", update="New name.")
    code: str = described("Its code, unique within the price book.", update="New code.")
    components: list[BundleComponentInput] = described(
        "Its units and weights (summing to 100).", update="All components anew, weights summing to 100."
    )
    description: str | None = optional("A description for quotes.", update="New description.")
    active: bool = optional("False to keep it from new quotes.", True, update="Active or not.")


@acts_on("Bundle", "A bundle to copy, and where to.", version=None)
class CopyBundleInput:
    price_book_id: strawberry.ID | None = gid(
        "PriceBook", "The price book the copy goes into; null: the bundle's own.", None
    )
    code: str | None = optional("The copy's code (required in the same book); null: the bundle's code.")
    name: str | None = optional("The copy's name; null: the bundle's name.")


@acts_on("Bundle", "A bundle to move to another price book, with the version you read.")
class MoveBundleInput:
    price_book_id: strawberry.ID = gid("PriceBook", "The price book it moves to (its code must be free there).")


@acts_on("Product", "A product to copy with its units and prices.", version=None)
class CopyProductInput:
    code: str = described("The copy's code, unique among products.")
    name: str | None = optional("The copy's name; null: the product's name.")
    from_price_book_id: strawberry.ID | None = gid(
        "PriceBook", "Copy only the prices in this price book; null: every price, each in its own book.", None
    )
    to_price_book_id: strawberry.ID | None = gid(
        "PriceBook", "The price book the copied prices go into (with fromPriceBookId); null: the same book.", None
    )


@strawberry.input(description="How many euros one unit of a currency is worth.")
class SetExchangeRateInput:
    currency: str = described("ISO 4217 code (not EUR, the base currency, which is always 1).")
    rate: Decimal = described('Euros per one unit of the currency, e.g. "0.0865" for NOK.')


@strawberry.input(description="Products, units and prices as CSV text.")
class ImportProductsInput:
    csv: str = described(
        "CSV with a header row naming its columns: code, name, category (required), description, unit, recurring "
        "(true/false), periodMonths, priceBook (a price book's name), currency, price. One row per product, unit "
        "or price; products are matched by code, units by name. Every row is checked before anything is written."
    )


UpdatePriceBookInput = update_of(CreatePriceBookInput)
CatalogRefInput = ref(None, "Identifies a catalog object to delete, with the version you read.", what="The object.")
UpdateProductInput = update_of(CreateProductInput)
UpdateProductUnitInput = update_of(
    AddProductUnitInput, "Changes to a product unit; fields left out stay as they are.", what="The unit."
)
UpdateBundleInput = update_of(
    CreateBundleInput,
    "Changes to a bundle; new components replace all the old ones.",
    order=("name", "code", "description", "active", "components"),
)
create_price_book = update_price_book = mutation(wf, OWN_INPUT, PriceBookPayload, WRITE)
link_price_book_account = unlink_price_book_account = mutation(wf, PriceBookAccountInput, PriceBookPayload, WRITE)
delete_price_book = mutation(wf, CatalogRefInput, Deleted("PriceBook"), WRITE, ids={"id": "PriceBook"})
create_product = update_product = mutation(wf, OWN_INPUT, ProductPayload, WRITE)
delete_product = mutation(wf, CatalogRefInput, Deleted("Product"), WRITE, ids={"id": "Product"})
copy_product = mutation(wf, CopyProductInput, ProductPayload, WRITE)
add_product_unit = update_product_unit = mutation(wf, OWN_INPUT, ProductUnitPayload, WRITE)
remove_product_unit = mutation(
    wf, CatalogRefInput, Deleted("ProductUnit", RemoveProductUnitPayload), WRITE, ids={"id": "ProductUnit"}
)
set_price = mutation(wf, SetPriceInput, PriceEntryPayload, WRITE)
remove_price = mutation(wf, RemovePriceInput, Deleted("PriceEntry"), WRITE)
create_bundle = update_bundle = copy_bundle = move_bundle = mutation(wf, OWN_INPUT, BundlePayload, WRITE)
delete_bundle = mutation(wf, CatalogRefInput, Deleted("Bundle"), WRITE, ids={"id": "Bundle"})
set_exchange_rate = mutation(
    wf, SetExchangeRateInput, ExchangeRatePayload, WRITE, ports=lambda context: (SqlExchangeRates(),)
)
import_products = mutation(wf, ImportProductsInput, ImportProductsPayload, WRITE)
