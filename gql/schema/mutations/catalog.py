"""Mutations of the catalog: price books, products, units, prices, bundles, exchange rates and the CSV
product import."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from domain import errors as d
from domain.workflows import catalog as wf
from gql import ids
from gql.resolvers.mutate import node, opt_pk, pk, run
from gql.schema import enums as e
from gql.schema.catalog import Bundle, ExchangeRate, PriceBook, PriceEntry, Product, ProductUnit
from gql.schema.errors import UserError, result
from gql.schema.inputs import MoneyInput, maybe, opt, to_money
from gql.schema.mutations.common import DeletedPayload
from persistence import tables as t
from persistence.catalog import SqlExchangeRates

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."
INPUT = "What to do; see the input type."


# --- payloads ---


@strawberry.type(description="The price book as it is after the change.")
class PriceBookPayload:
    price_book: PriceBook = strawberry.field(description="The price book, with its new version.")


@strawberry.type(description="The product as it is after the change.")
class ProductPayload:
    product: Product = strawberry.field(description="The product, with its new version.")


@strawberry.type(description="The product unit as it is after the change, with its product.")
class ProductUnitPayload:
    unit: ProductUnit = strawberry.field(description="The unit.")
    product: Product = strawberry.field(description="The product it belongs to.")


@strawberry.type(description="What removing a unit left: the product without it.")
class RemoveProductUnitPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The global id of the unit that no longer exists.")
    product: Product = strawberry.field(description="The product, now without the unit.")


@strawberry.type(description="The price as it is after the change.")
class PriceEntryPayload:
    price_entry: PriceEntry = strawberry.field(description="The price of the unit in the book and currency.")


@strawberry.type(description="The bundle as it is after the change.")
class BundlePayload:
    bundle: Bundle = strawberry.field(description="The bundle, with its new version.")


@strawberry.type(description="The exchange rate as it is after the change.")
class ExchangeRatePayload:
    exchange_rate: ExchangeRate = strawberry.field(description="The rate now in use.")


@strawberry.type(description="What a CSV product import wrote.")
class ImportProductsPayload:
    products_created: int = strawberry.field(description="Products that did not exist before (by code).")
    products_updated: int = strawberry.field(
        description="Existing products whose name, category or description changed."
    )
    units_created: int = strawberry.field(description="Units added to products.")
    units_updated: int = strawberry.field(description="Existing units whose recurrence or period changed.")
    prices_set: int = strawberry.field(description="Prices created or changed.")
    products: list[Product] = strawberry.field(description="Every product named in the file, as it is now.")


# --- inputs ---


@strawberry.input(description="A new price book.")
class CreatePriceBookInput:
    name: str = strawberry.field(description="The price book's name.")
    description: str | None = strawberry.field(default=None, description="A description.")
    brands: list[str] = strawberry.field(default_factory=list, description="Brands it applies to.")
    product_versions: list[str] = strawberry.field(default_factory=list, description="Product versions it applies to.")
    regions: list[str] = strawberry.field(default_factory=list, description="Regions it applies to.")
    active: bool = strawberry.field(default=True, description="False to keep it from new quotes.")
    is_update: bool = strawberry.field(default=False, description="True when it is a new version of `previousId`.")
    previous_id: strawberry.ID | None = strawberry.field(default=None, description="The price book it updates.")


@strawberry.input(description="Changes to a price book; fields left out stay as they are, null clears.")
class UpdatePriceBookInput:
    id: strawberry.ID = strawberry.field(description="The price book.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="New description.")
    brands: list[str] | None = strawberry.field(default=strawberry.UNSET, description="New brands (all of them).")
    product_versions: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="New product versions (all of them)."
    )
    regions: list[str] | None = strawberry.field(default=strawberry.UNSET, description="New regions (all of them).")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Active or not.")
    is_update: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether it updates an earlier book (false clears previousId)."
    )
    previous_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="The book it updates.")


@strawberry.input(description="Identifies a catalog object to delete, with the version you read.")
class CatalogRefInput:
    id: strawberry.ID = strawberry.field(description="The object.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="A new product.")
class CreateProductInput:
    name: str = strawberry.field(description="The product's name.")
    code: str = strawberry.field(description="The product code, unique among products.")
    category: e.ProductCategory = strawberry.field(description="What kind of product it is.")
    description: str | None = strawberry.field(default=None, description="A description for quotes.")
    active: bool = strawberry.field(default=True, description="False to keep it from new quotes.")


@strawberry.input(description="Changes to a product; fields left out stay as they are, null clears.")
class UpdateProductInput:
    id: strawberry.ID = strawberry.field(description="The product.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    code: str | None = strawberry.field(default=strawberry.UNSET, description="New code (unique).")
    category: e.ProductCategory | None = strawberry.field(default=strawberry.UNSET, description="New category.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="New description.")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Active or not.")


@strawberry.input(description="A new unit a product is sold in.")
class AddProductUnitInput:
    product_id: strawberry.ID = strawberry.field(description="The product.")
    name: str = strawberry.field(description="The unit's name, e.g. piece or licence/month (unique per product).")
    recurring: bool = strawberry.field(
        default=False, description="True when sold for a period (a TIME_BASED contract)."
    )
    period_months: int | None = strawberry.field(default=None, description="The period of a recurring unit, in months.")


@strawberry.input(description="Changes to a product unit; fields left out stay as they are.")
class UpdateProductUnitInput:
    id: strawberry.ID = strawberry.field(description="The unit.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    recurring: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Recurring or one-time (one-time drops the period)."
    )
    period_months: int | None = strawberry.field(default=strawberry.UNSET, description="New period in months.")


@strawberry.input(description="The price of a product unit in a price book and currency (replaces any such price).")
class SetPriceInput:
    price_book_id: strawberry.ID = strawberry.field(description="The price book.")
    unit_id: strawberry.ID = strawberry.field(description="The product unit.")
    price: MoneyInput = strawberry.field(description="The price of one unit; its currency picks the entry.")


@strawberry.input(description="Take a unit's price in one currency out of a price book.")
class RemovePriceInput:
    price_book_id: strawberry.ID = strawberry.field(description="The price book.")
    unit_id: strawberry.ID = strawberry.field(description="The product unit.")
    currency: str = strawberry.field(description="The currency of the price to remove (ISO 4217).")


@strawberry.input(description="A product unit in a bundle with its share of the bundle's price.")
class BundleComponentInput:
    unit_id: strawberry.ID = strawberry.field(description="The product unit.")
    weight: Decimal = strawberry.field(description="Its share in percent; the weights of a bundle sum to exactly 100.")


@strawberry.input(description="A new bundle in a price book.")
class CreateBundleInput:
    price_book_id: strawberry.ID = strawberry.field(description="The price book it is sold from.")
    name: str = strawberry.field(description="The bundle's name.")
    code: str = strawberry.field(description="Its code, unique within the price book.")
    components: list[BundleComponentInput] = strawberry.field(description="Its units and weights (summing to 100).")
    active: bool = strawberry.field(default=True, description="False to keep it from new quotes.")


@strawberry.input(description="Changes to a bundle; new components replace all the old ones.")
class UpdateBundleInput:
    id: strawberry.ID = strawberry.field(description="The bundle.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    code: str | None = strawberry.field(default=strawberry.UNSET, description="New code.")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Active or not.")
    components: list[BundleComponentInput] | None = strawberry.field(
        default=strawberry.UNSET, description="All components anew, weights summing to 100."
    )


@strawberry.input(description="How many euros one unit of a currency is worth.")
class SetExchangeRateInput:
    currency: str = strawberry.field(description="ISO 4217 code (not EUR, the base currency, which is always 1).")
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


# --- results ---

CreatePriceBookResult = result("CreatePriceBookResult", PriceBookPayload)
UpdatePriceBookResult = result("UpdatePriceBookResult", PriceBookPayload)
DeletePriceBookResult = result("DeletePriceBookResult", DeletedPayload)
CreateProductResult = result("CreateProductResult", ProductPayload)
UpdateProductResult = result("UpdateProductResult", ProductPayload)
DeleteProductResult = result("DeleteProductResult", DeletedPayload)
AddProductUnitResult = result("AddProductUnitResult", ProductUnitPayload)
UpdateProductUnitResult = result("UpdateProductUnitResult", ProductUnitPayload)
RemoveProductUnitResult = result("RemoveProductUnitResult", RemoveProductUnitPayload)
SetPriceResult = result("SetPriceResult", PriceEntryPayload)
RemovePriceResult = result("RemovePriceResult", DeletedPayload)
CreateBundleResult = result("CreateBundleResult", BundlePayload)
UpdateBundleResult = result("UpdateBundleResult", BundlePayload)
DeleteBundleResult = result("DeleteBundleResult", DeletedPayload)
SetExchangeRateResult = result("SetExchangeRateResult", ExchangeRatePayload)
ImportProductsResult = result("ImportProductsResult", ImportProductsPayload)


def _deleted(type_name: str, outcome):  # noqa: ANN001, ANN202
    if isinstance(outcome, UserError):
        return outcome
    return DeletedPayload(deleted_id=strawberry.ID(ids.encode(type_name, outcome)))


def _flag(value, field: str):  # noqa: ANN001, ANN202
    """A boolean input may be left out, but not cleared."""
    if value is None:
        raise d.ValidationError(field, "is true or false, not null")
    return opt(value)


def _list(value):  # noqa: ANN001, ANN202
    """A list input that was sent as null means 'none' (an empty list), not 'leave it'."""
    return maybe(value, list) if value is not None else []


async def _book(info: Info, outcome):  # noqa: ANN001, ANN202
    if isinstance(outcome, UserError):
        return outcome
    return PriceBookPayload(price_book=await node(info, PriceBook, t.price_books, outcome.id))


async def _product(info: Info, outcome):  # noqa: ANN001, ANN202
    if isinstance(outcome, UserError):
        return outcome
    return ProductPayload(product=await node(info, Product, t.products, outcome.id))


async def _unit(info: Info, outcome):  # noqa: ANN001, ANN202
    if isinstance(outcome, UserError):
        return outcome
    return ProductUnitPayload(
        unit=await node(info, ProductUnit, t.product_units, outcome.id),
        product=await node(info, Product, t.products, outcome.product_id),
    )


async def _bundle(info: Info, outcome):  # noqa: ANN001, ANN202
    if isinstance(outcome, UserError):
        return outcome
    return BundlePayload(bundle=await node(info, Bundle, t.bundles, outcome.id))


def _components(parts: list[BundleComponentInput]) -> list[wf.ComponentInput]:
    return [wf.ComponentInput(unit_id=pk(p.unit_id, "ProductUnit", "components"), weight=p.weight) for p in parts]


@strawberry.type
class CatalogMutations:
    @strawberry.mutation(description="Create a price book (optionally as an update of an earlier one).")
    async def create_price_book(
        self,
        info: Info,
        input: Annotated[CreatePriceBookInput, strawberry.argument(description=INPUT)],
    ) -> CreatePriceBookResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_price_book(
                wf.CreatePriceBook(
                    name=input.name,
                    description=input.description,
                    brands=input.brands,
                    product_versions=input.product_versions,
                    regions=input.regions,
                    active=input.active,
                    is_update=input.is_update,
                    previous_id=opt_pk(input.previous_id, "PriceBook", "previousId"),
                ),
                uow,
            )

        return await _book(info, await run(info, work))

    @strawberry.mutation(description="Change a price book's data.")
    async def update_price_book(
        self,
        info: Info,
        input: Annotated[UpdatePriceBookInput, strawberry.argument(description=INPUT)],
    ) -> UpdatePriceBookResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_price_book(
                wf.UpdatePriceBook(
                    id=pk(input.id, "PriceBook", "id"),
                    version=input.version,
                    name=opt(input.name),
                    description=opt(input.description),
                    brands=_list(input.brands),
                    product_versions=_list(input.product_versions),
                    regions=_list(input.regions),
                    active=_flag(input.active, "active"),
                    is_update=_flag(input.is_update, "isUpdate"),
                    previous_id=maybe(input.previous_id, lambda v: pk(v, "PriceBook", "previousId")),
                ),
                uow,
            )

        return await _book(info, await run(info, work))

    @strawberry.mutation(description="Delete a price book with its prices and bundles (not while quotes use it).")
    async def delete_price_book(
        self,
        info: Info,
        input: Annotated[CatalogRefInput, strawberry.argument(description=INPUT)],
    ) -> DeletePriceBookResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_price_book(
                wf.DeletePriceBook(id=pk(input.id, "PriceBook", "id"), version=input.version), uow
            )

        return _deleted("PriceBook", await run(info, work))

    @strawberry.mutation(description="Create a product (add its units with addProductUnit).")
    async def create_product(
        self,
        info: Info,
        input: Annotated[CreateProductInput, strawberry.argument(description=INPUT)],
    ) -> CreateProductResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_product(
                wf.CreateProduct(
                    name=input.name,
                    code=input.code,
                    category=input.category.value,
                    description=input.description,
                    active=input.active,
                ),
                uow,
            )

        return await _product(info, await run(info, work))

    @strawberry.mutation(description="Change a product's data.")
    async def update_product(
        self,
        info: Info,
        input: Annotated[UpdateProductInput, strawberry.argument(description=INPUT)],
    ) -> UpdateProductResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_product(
                wf.UpdateProduct(
                    id=pk(input.id, "Product", "id"),
                    version=input.version,
                    name=opt(input.name),
                    code=opt(input.code),
                    category=maybe(input.category, lambda v: v.value),
                    description=opt(input.description),
                    active=_flag(input.active, "active"),
                ),
                uow,
            )

        return await _product(info, await run(info, work))

    @strawberry.mutation(
        description="Delete a product with its units and prices (not while quotes, contracts or "
        "bundles use it; deactivate it instead)."
    )
    async def delete_product(
        self,
        info: Info,
        input: Annotated[CatalogRefInput, strawberry.argument(description=INPUT)],
    ) -> DeleteProductResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_product(
                wf.DeleteProduct(id=pk(input.id, "Product", "id"), version=input.version), uow
            )

        return _deleted("Product", await run(info, work))

    @strawberry.mutation(description="Add a unit a product is sold in: one-time, or recurring with a period.")
    async def add_product_unit(
        self,
        info: Info,
        input: Annotated[AddProductUnitInput, strawberry.argument(description=INPUT)],
    ) -> AddProductUnitResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.add_product_unit(
                wf.AddProductUnit(
                    product_id=pk(input.product_id, "Product", "productId"),
                    name=input.name,
                    recurring=input.recurring,
                    period_months=input.period_months,
                ),
                uow,
            )

        return await _unit(info, await run(info, work))

    @strawberry.mutation(description="Change a product unit.")
    async def update_product_unit(
        self,
        info: Info,
        input: Annotated[UpdateProductUnitInput, strawberry.argument(description=INPUT)],
    ) -> UpdateProductUnitResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_product_unit(
                wf.UpdateProductUnit(
                    id=pk(input.id, "ProductUnit", "id"),
                    version=input.version,
                    name=opt(input.name),
                    recurring=_flag(input.recurring, "recurring"),
                    period_months=opt(input.period_months),
                ),
                uow,
            )

        return await _unit(info, await run(info, work))

    @strawberry.mutation(description="Remove a product unit with its prices (not while quote items or bundles use it).")
    async def remove_product_unit(
        self,
        info: Info,
        input: Annotated[CatalogRefInput, strawberry.argument(description=INPUT)],
    ) -> RemoveProductUnitResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.remove_product_unit(
                wf.RemoveProductUnit(id=pk(input.id, "ProductUnit", "id"), version=input.version), uow
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return RemoveProductUnitPayload(
            deleted_id=strawberry.ID(ids.encode("ProductUnit", outcome.id)),
            product=await node(info, Product, t.products, outcome.product_id),
        )

    @strawberry.mutation(
        description="Set the price of a product unit in a price book and currency (creates or replaces it)."
    )
    async def set_price(
        self,
        info: Info,
        input: Annotated[SetPriceInput, strawberry.argument(description=INPUT)],
    ) -> SetPriceResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.set_price(
                wf.SetPrice(
                    price_book_id=pk(input.price_book_id, "PriceBook", "priceBookId"),
                    unit_id=pk(input.unit_id, "ProductUnit", "unitId"),
                    price=to_money(input.price),
                ),
                uow,
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return PriceEntryPayload(price_entry=await node(info, PriceEntry, t.price_entries, outcome.id))

    @strawberry.mutation(description="Remove a unit's price in one currency from a price book.")
    async def remove_price(
        self,
        info: Info,
        input: Annotated[RemovePriceInput, strawberry.argument(description=INPUT)],
    ) -> RemovePriceResult:
        async def work(uow):  # noqa: ANN001, ANN202
            entry = await wf.remove_price(
                wf.RemovePrice(
                    price_book_id=pk(input.price_book_id, "PriceBook", "priceBookId"),
                    unit_id=pk(input.unit_id, "ProductUnit", "unitId"),
                    currency=input.currency,
                ),
                uow,
            )
            return entry.id

        return _deleted("PriceEntry", await run(info, work))

    @strawberry.mutation(description="Create a bundle of product units whose weights (summing to 100) split its price.")
    async def create_bundle(
        self,
        info: Info,
        input: Annotated[CreateBundleInput, strawberry.argument(description=INPUT)],
    ) -> CreateBundleResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_bundle(
                wf.CreateBundle(
                    price_book_id=pk(input.price_book_id, "PriceBook", "priceBookId"),
                    name=input.name,
                    code=input.code,
                    active=input.active,
                    components=_components(input.components),
                ),
                uow,
            )

        return await _bundle(info, await run(info, work))

    @strawberry.mutation(description="Change a bundle (new components replace the old ones).")
    async def update_bundle(
        self,
        info: Info,
        input: Annotated[UpdateBundleInput, strawberry.argument(description=INPUT)],
    ) -> UpdateBundleResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_bundle(
                wf.UpdateBundle(
                    id=pk(input.id, "Bundle", "id"),
                    version=input.version,
                    name=opt(input.name),
                    code=opt(input.code),
                    active=_flag(input.active, "active"),
                    components=maybe(input.components, _components),
                ),
                uow,
            )

        return await _bundle(info, await run(info, work))

    @strawberry.mutation(description="Delete a bundle.")
    async def delete_bundle(
        self,
        info: Info,
        input: Annotated[CatalogRefInput, strawberry.argument(description=INPUT)],
    ) -> DeleteBundleResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_bundle(wf.DeleteBundle(id=pk(input.id, "Bundle", "id"), version=input.version), uow)

        return _deleted("Bundle", await run(info, work))

    @strawberry.mutation(description="Set the exchange rate of a currency to EUR (the base, always 1).")
    async def set_exchange_rate(
        self,
        info: Info,
        input: Annotated[SetExchangeRateInput, strawberry.argument(description=INPUT)],
    ) -> SetExchangeRateResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.set_exchange_rate(
                wf.SetExchangeRate(currency=input.currency, rate=input.rate), uow, SqlExchangeRates(uow)
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        rates = t.exchange_rates
        async with info.context.engine.connect() as conn:
            row = (await conn.execute(select(rates).where(rates.c.currency == outcome.currency))).one()
        return ExchangeRatePayload(
            exchange_rate=ExchangeRate(currency=row.currency, rate=row.rate, updated_at=row.updated_at)
        )

    @strawberry.mutation(
        description="Import products, units and prices from CSV: every row is checked first "
        "(a ValidationError names the line and column of the first bad one, and "
        "nothing is written), then products are created or updated by code."
    )
    async def import_products(
        self,
        info: Info,
        input: Annotated[ImportProductsInput, strawberry.argument(description=INPUT)],
    ) -> ImportProductsResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.import_products(wf.ImportProducts(csv=input.csv), uow)

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        rows = await info.context.by_id(t.products).load_many(outcome.product_ids)
        return ImportProductsPayload(
            products_created=outcome.products_created,
            products_updated=outcome.products_updated,
            units_created=outcome.units_created,
            units_updated=outcome.units_updated,
            prices_set=outcome.prices_set,
            products=Product.from_rows(rows),
        )
