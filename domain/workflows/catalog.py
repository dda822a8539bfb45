"""Catalog workflows: price books, products and their units, prices per currency, bundles, exchange
rates and the CSV product import."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from domain.accounts import Account
from domain.catalog import (
    BASE_CURRENCY,
    Bundle,
    BundleComponent,
    ExchangeRate,
    PriceBook,
    PriceEntry,
    Product,
    ProductUnit,
    check_region,
)
from domain.commands import UNSET, apply, changes, expect_version
from domain.contracts import Contract
from domain.enums import ProductCategory
from domain.errors import Conflict, NotFound, ValidationError, ref
from domain.events import CatalogChanged
from domain.lists import ListName
from domain.money import Money, check_currency, to_decimal
from domain.quotes import Quote, QuoteItem
from domain.uow import Link, UnitOfWork
from domain.workflows.lists import list_values, require_key

# What the columns hold (a longer value would fail in the database instead of as a ValidationError).
LENGTHS: dict[type, dict[str, tuple[str, int]]] = {
    PriceBook: {"name": ("name", 200)},
    Product: {"name": ("name", 200), "code": ("code", 64)},
    ProductUnit: {"name": ("name", 64)},
    Bundle: {"name": ("name", 200), "code": ("code", 64)},
    PriceEntry: {"brand": ("brand", 100), "product_version": ("productVersion", 100)},
}
MAX_PRICE = Decimal(10) ** 15
MAX_RATE = Decimal(10) ** 9


def fits(entity: Any) -> Any:
    """The entity, when its texts fit their columns."""
    for name, (label, most) in LENGTHS.get(type(entity), {}).items():
        value = getattr(entity, name)
        if value is not None and len(value) > most:
            raise ValidationError(label, f"is at most {most} characters long")
    return entity


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _price_in_range(price: Money, field_name: str = "price") -> Money:
    if abs(price.amount) >= MAX_PRICE:
        raise ValidationError(field_name, f"must be below {MAX_PRICE:,}")
    return price


def _changed(what: str, change: str, entity_id: int, **data: Any) -> CatalogChanged:
    return CatalogChanged(entity_id=entity_id, data={"what": what, "change": change, "id": entity_id, **data})


# --- price books ---


@dataclass(kw_only=True)
class CreatePriceBook:
    name: str
    description: str | None = None
    brands: list[str] = field(default_factory=list)
    product_versions: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    active: bool = True
    is_update: bool = False
    previous_id: int | None = None
    account_ids: list[int] = field(default_factory=list)


def _clean_list(values: list[str] | None, name: str) -> list[str]:
    cleaned: list[str] = []
    for value in values or []:
        text = (value or "").strip()
        if not text:
            raise ValidationError(name, "holds an empty value")
        if name == "regions":
            text = check_region(text)
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def _book_changed(uow: UnitOfWork, book: PriceBook, field_name: str, old: Any, new: Any) -> None:
    """A change to what a book holds (its accounts, prices, bundles) in the book's history and events."""
    uow.audit("PriceBook", book.id, field_name, old, new)
    uow.record(_changed("PriceBook", "changed", book.id, fields=[field_name]))


async def _check_previous(uow: UnitOfWork, book_id: int | None, previous_id: int | None) -> None:
    """The book an update book replaces must exist, and following `previous` never comes back to this book."""
    seen = {book_id}
    current = previous_id
    while current is not None:
        if current in seen:
            raise ValidationError("previousId", "a price book cannot (indirectly) update itself")
        seen.add(current)
        try:
            current = (await uow.get(PriceBook, current)).previous_id
        except NotFound:
            raise NotFound("PriceBook", current) from None


async def create_price_book(cmd: CreatePriceBook, uow: UnitOfWork) -> PriceBook:
    """Create a price book (optionally as an update of an earlier one)."""
    book = PriceBook(
        name=cmd.name,
        description=cmd.description,
        brands=_clean_list(cmd.brands, "brands"),
        product_versions=_clean_list(cmd.product_versions, "productVersions"),
        regions=_clean_list(cmd.regions, "regions"),
        active=cmd.active,
        is_update=cmd.is_update,
        previous_id=cmd.previous_id,
    )
    fits(book)
    await _check_previous(uow, None, cmd.previous_id)
    accounts = await uow.get_many(Account, dict.fromkeys(cmd.account_ids or []))
    book = await uow.add(book)
    for account in accounts:
        await uow.link(Link.PRICE_BOOK_ACCOUNT, price_book_id=book.id, account_id=account.id)
        uow.audit("PriceBook", book.id, "accounts", None, ref(account))
    uow.record(_changed("PriceBook", "created", book.id, name=book.name))
    await uow.commit()
    return book


@dataclass(kw_only=True)
class UpdatePriceBook:
    id: int
    version: int | None = None
    name: str = UNSET
    description: str | None = UNSET
    # null from the API means none, as an empty list does.
    brands: list[str] | None = UNSET
    product_versions: list[str] | None = UNSET
    regions: list[str] | None = UNSET
    active: bool = UNSET
    is_update: bool = UNSET
    previous_id: int | None = UNSET


async def update_price_book(cmd: UpdatePriceBook, uow: UnitOfWork) -> PriceBook:
    """Change a price book's data."""
    book = await uow.get(PriceBook, cmd.id)
    expect_version(book, cmd.version)
    values = changes(
        cmd, "name", "description", "brands", "product_versions", "regions", "active", "is_update", "previous_id"
    )
    for name, label in (("brands", "brands"), ("product_versions", "productVersions"), ("regions", "regions")):
        if name in values:
            values[name] = _clean_list(values[name], label)
    await _keep_priced(uow, book, values)
    if values.get("is_update") is False and "previous_id" not in values:
        values["previous_id"] = None
    updated = fits(apply(book, values))
    if "previous_id" in values:
        await _check_previous(uow, book.id, updated.previous_id)
    updated = await uow.update(updated)
    uow.record(_changed("PriceBook", "changed", updated.id, fields=sorted(values)))
    await uow.commit()
    return updated


async def _keep_priced(uow: UnitOfWork, book: PriceBook, values: dict[str, Any]) -> None:
    """A brand or product version with prices stays in the book until its prices are removed."""
    if "brands" not in values and "product_versions" not in values:
        return
    entries = await uow.find(PriceEntry, price_book_id=book.id)
    for name, label in (("brand", "brands"), ("product_version", "productVersions")):
        if f"{name}s" not in values:
            continue
        kept = set(values[f"{name}s"])
        priced = sorted({getattr(e, name) for e in entries if getattr(e, name) and getattr(e, name) not in kept})
        if priced:
            raise ValidationError(
                label,
                f"price book {ref(book)} has prices for {', '.join(priced)}; remove those prices (removePrice) "
                "before taking them out of the book",
            )


@dataclass(kw_only=True)
class PriceBookAccount:
    price_book_id: int
    account_id: int


async def link_price_book_account(cmd: PriceBookAccount, uow: UnitOfWork) -> PriceBook:
    """Make a price book one for an agreement with an account: once a book has linked accounts, only quotes for those
    accounts may be priced from it (a book without any is for every customer)."""
    book = await uow.get(PriceBook, cmd.price_book_id)
    account = await uow.get(Account, cmd.account_id)
    if not await uow.link(Link.PRICE_BOOK_ACCOUNT, price_book_id=book.id, account_id=account.id):
        raise ValidationError("accountId", f"account {ref(account)} is already linked to price book {ref(book)}")
    _book_changed(uow, book, "accounts", None, ref(account))
    book = await uow.touch(book)
    await uow.commit()
    return book


async def unlink_price_book_account(cmd: PriceBookAccount, uow: UnitOfWork) -> PriceBook:
    """Take an account off a price book's agreement (a book left without accounts is for every customer again)."""
    book = await uow.get(PriceBook, cmd.price_book_id)
    account = await uow.get(Account, cmd.account_id)
    if not await uow.unlink(Link.PRICE_BOOK_ACCOUNT, price_book_id=book.id, account_id=account.id):
        raise ValidationError("accountId", f"account {ref(account)} is not linked to price book {ref(book)}")
    _book_changed(uow, book, "accounts", ref(account), None)
    book = await uow.touch(book)
    await uow.commit()
    return book


@dataclass(kw_only=True)
class DeletePriceBook:
    id: int
    version: int | None = None


async def delete_price_book(cmd: DeletePriceBook, uow: UnitOfWork) -> int:
    """Delete a price book with its prices and bundles; not while quotes are priced from it or another book is an update
    of it."""
    book = await uow.get(PriceBook, cmd.id)
    expect_version(book, cmd.version)
    quotes = await uow.count(Quote, price_book_id=book.id)
    if quotes:
        raise Conflict(f"price book {ref(book)} is used by {quotes} quote(s); deactivate it instead (active: false)")
    updates = await uow.find(PriceBook, previous_id=book.id)
    if updates:
        raise Conflict(
            f"price book {ref(book)} is updated by price book(s) {', '.join(str(ref(b)) for b in updates)}; "
            "delete those or point them elsewhere first"
        )
    await uow.unlink(Link.PRICE_BOOK_ACCOUNT, price_book_id=book.id)
    for bundle in await uow.find(Bundle, price_book_id=book.id):
        await uow.delete(bundle)
    for entry in await uow.find(PriceEntry, price_book_id=book.id):
        await uow.delete(entry)
    await uow.delete(book)
    uow.record(_changed("PriceBook", "deleted", book.id, name=book.name))
    await uow.commit()
    return book.id


# --- products and units ---


async def _unique_code(uow: UnitOfWork, code: str, product_id: int | None = None) -> None:
    for other in await uow.find(Product, code=code.strip()):
        if other.id != product_id:
            raise ValidationError("code", f"product {ref(other)} ({other.name}) already has the code {code.strip()!r}")


@dataclass(kw_only=True)
class CreateProduct:
    name: str
    code: str
    category: str
    description: str | None = None
    active: bool = True


async def create_product(cmd: CreateProduct, uow: UnitOfWork) -> Product:
    """Create a product (add its units with addProductUnit); its category is a key of the contract categories."""
    await require_key(uow, ListName.CONTRACT_CATEGORY, cmd.category, "category")
    product = Product(
        name=cmd.name, code=cmd.code, category=cmd.category, description=cmd.description, active=cmd.active
    )
    fits(product)
    await _unique_code(uow, product.code)
    product = await uow.add(product)
    uow.record(_changed("Product", "created", product.id, code=product.code))
    await uow.commit()
    return product


@dataclass(kw_only=True)
class UpdateProduct:
    id: int
    version: int | None = None
    name: str = UNSET
    code: str = UNSET
    category: str = UNSET
    description: str | None = UNSET
    active: bool = UNSET


async def update_product(cmd: UpdateProduct, uow: UnitOfWork) -> Product:
    """Change a product's data."""
    product = await uow.get(Product, cmd.id)
    expect_version(product, cmd.version)
    values = changes(cmd, "name", "code", "category", "description", "active")
    if "category" in values:
        await require_key(uow, ListName.CONTRACT_CATEGORY, values["category"], "category", product.category)
    updated = fits(apply(product, values))
    if "code" in values:
        await _unique_code(uow, updated.code, product.id)
    updated = await uow.update(updated)
    uow.record(_changed("Product", "changed", updated.id, fields=sorted(values)))
    await uow.commit()
    return updated


async def _ensure_unit_unused(uow: UnitOfWork, unit: ProductUnit) -> None:
    items = await uow.count(QuoteItem, unit_id=unit.id)
    if items:
        raise Conflict(f"unit {ref(unit)} ({unit.name}) is on {items} quote item(s); deactivate the product instead")
    bundles = [b.id for b in await uow.find(Bundle) if any(c.unit_id == unit.id for c in b.components)]
    if bundles:
        raise Conflict(
            f"unit {ref(unit)} ({unit.name}) is part of bundle(s) {', '.join(str(ref('Bundle', b)) for b in bundles)}; "
            "take it out of them first"
        )


@dataclass(kw_only=True)
class DeleteProduct:
    id: int
    version: int | None = None


async def delete_product(cmd: DeleteProduct, uow: UnitOfWork) -> int:
    """Delete a product with its units and prices (not while quotes, contracts or bundles use it; deactivate it
    instead)."""
    product = await uow.get(Product, cmd.id)
    expect_version(product, cmd.version)
    items = await uow.count(QuoteItem, product_id=product.id)
    if items:
        raise Conflict(f"product {ref(product)} is on {items} quote item(s); deactivate it instead (active: false)")
    contracts = await uow.count(Contract, product_id=product.id)
    if contracts:
        raise Conflict(f"product {ref(product)} is in {contracts} contract(s); deactivate it instead (active: false)")
    for unit in await uow.find(ProductUnit, product_id=product.id):
        await _ensure_unit_unused(uow, unit)
        for entry in await uow.find(PriceEntry, unit_id=unit.id):
            await uow.delete(entry)
        await uow.delete(unit)
    await uow.delete(product)
    uow.record(_changed("Product", "deleted", product.id, code=product.code))
    await uow.commit()
    return product.id


@dataclass(kw_only=True)
class CopyProduct:
    id: int
    code: str
    name: str | None = None
    from_price_book_id: int | None = None
    to_price_book_id: int | None = None


async def copy_product(cmd: CopyProduct, uow: UnitOfWork) -> Product:
    """Copy a product under a new code, with its units and their prices: every price in its own book, or only those
    of `fromPriceBookId`, into that book or into `toPriceBookId`."""
    product = await uow.get(Product, cmd.id)
    if cmd.to_price_book_id is not None and cmd.from_price_book_id is None:
        raise ValidationError("fromPriceBookId", "name the price book whose prices go into toPriceBookId")
    source = await uow.get(PriceBook, cmd.from_price_book_id) if cmd.from_price_book_id is not None else None
    target = await uow.get(PriceBook, cmd.to_price_book_id) if cmd.to_price_book_id is not None else source
    copy = fits(
        Product(
            name=cmd.name if cmd.name is not None else product.name,
            code=cmd.code,
            category=product.category,
            description=product.description,
            active=product.active,
        )
    )
    await _unique_code(uow, copy.code)
    units = await uow.find(ProductUnit, product_id=product.id)
    where: dict[str, Any] = {"unit_id": [u.id for u in units]}
    if source is not None:
        where["price_book_id"] = source.id
    entries = await uow.find(PriceEntry, **where) if units else []
    if target is not None:
        for entry in entries:
            _offered(target, entry.brand, entry.product_version)
    copy = await uow.add(copy)
    new_units = await uow.add_all(
        [
            ProductUnit(product_id=copy.id, name=u.name, recurring=u.recurring, period_months=u.period_months)
            for u in units
        ]
    )
    unit_of = {old.id: new for old, new in zip(units, new_units, strict=True)}
    prices = [
        PriceEntry(
            price_book_id=target.id if target is not None else e.price_book_id,
            unit_id=unit_of[e.unit_id].id,
            price=e.price,
            brand=e.brand,
            product_version=e.product_version,
        )
        for e in entries
    ]
    new_unit = {u.id: u for u in new_units}
    for entry in await uow.add_all(prices):
        uow.audit("PriceBook", entry.price_book_id, "prices", None, _price_label(new_unit[entry.unit_id], entry))
    books = sorted({p.price_book_id for p in prices})
    uow.record(_changed("Product", "created", copy.id, code=copy.code, copyOf=product.id, priceBookIds=books))
    await uow.commit()
    return copy


async def _unique_unit_name(uow: UnitOfWork, product_id: int, name: str, unit_id: int | None = None) -> None:
    for other in await uow.find(ProductUnit, product_id=product_id, name=name):
        if other.id != unit_id:
            raise ValidationError("name", f"the product already has a unit named {name!r}")


@dataclass(kw_only=True)
class AddProductUnit:
    product_id: int
    name: str
    recurring: bool = False
    period_months: int | None = None


async def add_product_unit(cmd: AddProductUnit, uow: UnitOfWork) -> ProductUnit:
    """Add a unit a product is sold in: one-time, or recurring with a period."""
    product = await uow.get(Product, cmd.product_id)
    unit = fits(
        ProductUnit(product_id=product.id, name=cmd.name, recurring=cmd.recurring, period_months=cmd.period_months)
    )
    await _unique_unit_name(uow, product.id, unit.name)
    unit = await uow.add(unit)
    uow.record(_changed("ProductUnit", "created", unit.id, productId=product.id))
    await uow.commit()
    return unit


@dataclass(kw_only=True)
class UpdateProductUnit:
    id: int
    version: int | None = None
    name: str = UNSET
    recurring: bool = UNSET
    period_months: int | None = UNSET


async def update_product_unit(cmd: UpdateProductUnit, uow: UnitOfWork) -> ProductUnit:
    """Change a product unit; a unit that stops recurring loses its period unless a new one is given."""
    unit = await uow.get(ProductUnit, cmd.id)
    expect_version(unit, cmd.version)
    values = changes(cmd, "name", "recurring", "period_months")
    if values.get("recurring") is False and "period_months" not in values:
        values["period_months"] = None
    updated = fits(apply(unit, values))
    if "name" in values:
        await _unique_unit_name(uow, unit.product_id, updated.name, unit.id)
    updated = await uow.update(updated)
    uow.record(_changed("ProductUnit", "changed", updated.id, productId=updated.product_id, fields=sorted(values)))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class RemoveProductUnit:
    id: int
    version: int | None = None


async def remove_product_unit(cmd: RemoveProductUnit, uow: UnitOfWork) -> ProductUnit:
    """Remove a product unit with its prices (not while quote items or bundles use it)."""
    unit = await uow.get(ProductUnit, cmd.id)
    expect_version(unit, cmd.version)
    await _ensure_unit_unused(uow, unit)
    for entry in await uow.find(PriceEntry, unit_id=unit.id):
        await uow.delete(entry)
    await uow.delete(unit)
    uow.record(_changed("ProductUnit", "deleted", unit.id, productId=unit.product_id))
    await uow.commit()
    return unit


# --- prices ---


async def _price_of(
    uow: UnitOfWork, book_id: int, unit_id: int, currency: str, brand: str = "", version: str = ""
) -> PriceEntry | None:
    found = [
        e
        for e in await uow.find(PriceEntry, price_book_id=book_id, unit_id=unit_id)
        if (e.price.currency, e.brand, e.product_version) == (currency, brand, version)
    ]
    return found[0] if found else None


def _offered(book: PriceBook, brand: str | None, version: str | None) -> tuple[str, str]:
    """A price's brand and product version ('' for any): each one the book offers."""
    brand, version = (brand or "").strip(), (version or "").strip()
    if brand and brand not in book.brands:
        offered = ", ".join(book.brands) or "none"
        raise ValidationError("brand", f"price book {ref(book)} offers the brands {offered}, not {brand!r}")
    if version and version not in book.product_versions:
        offered = ", ".join(book.product_versions) or "none"
        raise ValidationError(
            "productVersion", f"price book {ref(book)} offers the product versions {offered}, not {version!r}"
        )
    return brand, version


def _price_label(unit: ProductUnit, entry: PriceEntry) -> dict[str, Any]:
    """A price as the book's history keeps it."""
    return {
        "unit": ref(unit),
        "price": entry.price,
        "brand": entry.brand or None,
        "productVersion": entry.product_version or None,
    }


@dataclass(kw_only=True)
class SetPrice:
    price_book_id: int
    unit_id: int
    price: Money
    brand: str | None = None
    product_version: str | None = None


async def set_price(cmd: SetPrice, uow: UnitOfWork) -> PriceEntry:
    """Set the price of a product unit in a price book and currency, optionally for one of the book's brands and
    product versions (creates or replaces it)."""
    book = await uow.get(PriceBook, cmd.price_book_id)
    unit = await uow.get(ProductUnit, cmd.unit_id)
    price = _price_in_range(cmd.price.rounded())
    brand, version = _offered(book, cmd.brand, cmd.product_version)
    existing = await _price_of(uow, book.id, unit.id, price.currency, brand, version)
    if existing is None:
        entry = fits(
            PriceEntry(price_book_id=book.id, unit_id=unit.id, price=price, brand=brand, product_version=version)
        )
        entry = await uow.add(entry)
        change = "created"
    else:
        entry = await uow.update(apply(existing, {"price": price}))
        change = "changed"
    if existing is None or existing.price != entry.price:
        uow.audit(
            "PriceBook",
            book.id,
            "prices",
            _price_label(unit, existing) if existing else None,
            _price_label(unit, entry),
        )
    uow.record(
        _changed(
            "PriceEntry",
            change,
            entry.id,
            priceBookId=book.id,
            unitId=unit.id,
            price={"amount": str(price.amount), "currency": price.currency},
            brand=brand or None,
            productVersion=version or None,
        )
    )
    await uow.commit()
    return entry


@dataclass(kw_only=True)
class RemovePrice:
    price_book_id: int
    unit_id: int
    currency: str
    brand: str | None = None
    product_version: str | None = None


async def remove_price(cmd: RemovePrice, uow: UnitOfWork) -> PriceEntry:
    """Remove a unit's price in one currency (and brand and product version, when given) from a price book."""
    book = await uow.get(PriceBook, cmd.price_book_id)
    unit = await uow.get(ProductUnit, cmd.unit_id)
    check_currency(cmd.currency)
    brand, version = (cmd.brand or "").strip(), (cmd.product_version or "").strip()
    entry = await _price_of(uow, book.id, unit.id, cmd.currency, brand, version)
    if entry is None:
        extra = "".join(f", {what} {value!r}" for what, value in (("brand", brand), ("version", version)) if value)
        raise NotFound("PriceEntry", f"{unit.name} in {cmd.currency}{extra} in price book {ref(book)}")
    await uow.delete(entry)
    uow.audit("PriceBook", book.id, "prices", _price_label(unit, entry), None)
    uow.record(
        _changed(
            "PriceEntry",
            "deleted",
            entry.id,
            priceBookId=book.id,
            unitId=unit.id,
            currency=cmd.currency,
            brand=brand or None,
            productVersion=version or None,
        )
    )
    await uow.commit()
    return entry


# --- bundles ---


@dataclass(kw_only=True)
class ComponentInput:
    unit_id: int
    weight: Decimal


async def _components(uow: UnitOfWork, parts: list[ComponentInput]) -> list[BundleComponent]:
    seen: set[int] = set()
    for part in parts:
        if part.unit_id in seen:
            raise ValidationError(
                "components", f"unit {ref('ProductUnit', part.unit_id)} is in the bundle twice; give it one weight"
            )
        seen.add(part.unit_id)
    for part in parts:
        await uow.get(ProductUnit, part.unit_id)
        if _decimals(to_decimal(part.weight, "components")) > 4:
            raise ValidationError("components", f"a weight has at most 4 decimals, not {part.weight}")
    return [BundleComponent(unit_id=p.unit_id, weight=to_decimal(p.weight, "components")) for p in parts]


async def _unique_bundle_code(uow: UnitOfWork, book_id: int, code: str, bundle_id: int | None = None) -> None:
    for other in await uow.find(Bundle, price_book_id=book_id, code=code):
        if other.id != bundle_id:
            raise ValidationError("code", f"bundle {ref(other)} in this price book already has the code {code!r}")


def _bundle_label(bundle: Bundle) -> str:
    return f"{bundle.code} {bundle.name}"


@dataclass(kw_only=True)
class CreateBundle:
    price_book_id: int
    name: str
    code: str
    components: list[ComponentInput]
    description: str | None = None
    active: bool = True


async def create_bundle(cmd: CreateBundle, uow: UnitOfWork) -> Bundle:
    """Create a bundle of product units whose weights (summing to 100) split its price."""
    book = await uow.get(PriceBook, cmd.price_book_id)
    bundle = Bundle(
        price_book_id=book.id,
        name=cmd.name,
        code=cmd.code,
        description=cmd.description,
        active=cmd.active,
        components=await _components(uow, cmd.components),
    )
    fits(bundle)
    await _unique_bundle_code(uow, book.id, bundle.code)
    bundle = await uow.add(bundle)
    uow.audit("PriceBook", book.id, "bundles", None, _bundle_label(bundle))
    uow.record(_changed("Bundle", "created", bundle.id, priceBookId=book.id))
    await uow.commit()
    return bundle


@dataclass(kw_only=True)
class CopyBundle:
    id: int
    price_book_id: int | None = None
    code: str | None = None
    name: str | None = None


async def copy_bundle(cmd: CopyBundle, uow: UnitOfWork) -> Bundle:
    """Copy a bundle, with its description and components, into the same price book (under a new code) or another
    one (its code kept unless a new one is given)."""
    bundle = await uow.get(Bundle, cmd.id)
    book = await uow.get(PriceBook, cmd.price_book_id if cmd.price_book_id is not None else bundle.price_book_id)
    code = cmd.code if cmd.code is not None else bundle.code
    if book.id == bundle.price_book_id and code.strip() == bundle.code:
        raise ValidationError("code", "a copy in the same price book needs a code of its own")
    copy = Bundle(
        price_book_id=book.id,
        name=cmd.name if cmd.name is not None else bundle.name,
        code=code,
        description=bundle.description,
        active=bundle.active,
        components=[BundleComponent(unit_id=c.unit_id, weight=c.weight) for c in bundle.components],
    )
    fits(copy)
    await _unique_bundle_code(uow, book.id, copy.code)
    copy = await uow.add(copy)
    uow.audit("PriceBook", book.id, "bundles", None, _bundle_label(copy))
    uow.record(_changed("Bundle", "created", copy.id, priceBookId=book.id, copyOf=bundle.id))
    await uow.commit()
    return copy


@dataclass(kw_only=True)
class MoveBundle:
    id: int
    price_book_id: int
    version: int | None = None


async def move_bundle(cmd: MoveBundle, uow: UnitOfWork) -> Bundle:
    """Move a bundle to another price book (its code must be free there). Quotes keep the lines it gave them."""
    bundle = await uow.get(Bundle, cmd.id)
    expect_version(bundle, cmd.version)
    source = await uow.get(PriceBook, bundle.price_book_id)
    target = await uow.get(PriceBook, cmd.price_book_id)
    if target.id == source.id:
        raise ValidationError("priceBookId", f"bundle {ref(bundle)} is already in price book {ref(target)}")
    await _unique_bundle_code(uow, target.id, bundle.code)
    moved = await uow.update(apply(bundle, {"price_book_id": target.id}))
    uow.audit("PriceBook", source.id, "bundles", _bundle_label(bundle), None)
    uow.audit("PriceBook", target.id, "bundles", None, _bundle_label(moved))
    uow.record(_changed("Bundle", "moved", moved.id, priceBookId=target.id, fromPriceBookId=source.id))
    await uow.commit()
    return moved


@dataclass(kw_only=True)
class UpdateBundle:
    id: int
    version: int | None = None
    name: str = UNSET
    code: str = UNSET
    description: str | None = UNSET
    active: bool = UNSET
    components: list[ComponentInput] = UNSET


async def update_bundle(cmd: UpdateBundle, uow: UnitOfWork) -> Bundle:
    """Change a bundle (new components replace the old ones)."""
    bundle = await uow.get(Bundle, cmd.id)
    expect_version(bundle, cmd.version)
    values = changes(cmd, "name", "code", "description", "active", "components")
    if "components" in values:
        values["components"] = await _components(uow, values["components"] or [])
    updated = fits(apply(bundle, values))
    if "code" in values:
        await _unique_bundle_code(uow, bundle.price_book_id, updated.code, bundle.id)
    updated = await uow.update(updated)
    uow.record(_changed("Bundle", "changed", updated.id, priceBookId=updated.price_book_id, fields=sorted(values)))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class DeleteBundle:
    id: int
    version: int | None = None


async def delete_bundle(cmd: DeleteBundle, uow: UnitOfWork) -> int:
    """Delete a bundle."""
    bundle = await uow.get(Bundle, cmd.id)
    expect_version(bundle, cmd.version)
    await uow.delete(bundle)
    uow.audit("PriceBook", bundle.price_book_id, "bundles", _bundle_label(bundle), None)
    uow.record(_changed("Bundle", "deleted", bundle.id, priceBookId=bundle.price_book_id))
    await uow.commit()
    return bundle.id


# --- exchange rates ---


class ExchangeRateBook(Protocol):
    """Where the global exchange rates are kept, written in the transaction of the unit of work it is
    given. A rate is reference data keyed by its currency (no id, no version), so it is written through
    this port rather than as an entity."""

    async def write(self, uow: UnitOfWork, rate: ExchangeRate, at: datetime) -> None: ...


@dataclass(kw_only=True)
class SetExchangeRate:
    currency: str
    rate: Decimal


@dataclass(frozen=True)
class RateInForce:
    """A rate as it is now kept: to 10 decimals (the stored scale), with the time it was set."""

    currency: str
    rate: Decimal
    updated_at: datetime


async def set_exchange_rate(cmd: SetExchangeRate, uow: UnitOfWork, rates: ExchangeRateBook) -> RateInForce:
    """Set the exchange rate of a currency to EUR (the base, always 1)."""
    currency = check_currency((cmd.currency or "").strip().upper() if isinstance(cmd.currency, str) else cmd.currency)
    if currency == BASE_CURRENCY:
        raise ValidationError("currency", f"{BASE_CURRENCY} is the base currency; its rate is always 1")
    rate = ExchangeRate(currency=currency, rate=to_decimal(cmd.rate, "rate"))
    if rate.rate >= MAX_RATE or _decimals(rate.rate) > 10:
        raise ValidationError("rate", f"must be below {MAX_RATE:,} with at most 10 decimals")
    previous = (await uow.exchange_rates()).get(currency)
    await rates.write(uow, rate, uow.now)
    uow.record(
        CatalogChanged(
            entity_id=0,
            data={
                "what": "ExchangeRate",
                "change": "created" if previous is None else "changed",
                "currency": currency,
                "rate": str(rate.rate),
                "previousRate": None if previous is None else str(previous),
            },
        )
    )
    await uow.commit()
    return RateInForce(rate.currency, rate.rate.quantize(Decimal(1).scaleb(-10)), uow.now)


# --- CSV import ---

IMPORT_COLUMNS = (
    "code",
    "name",
    "category",
    "description",
    "unit",
    "recurring",
    "periodMonths",
    "priceBook",
    "currency",
    "price",
)
REQUIRED_COLUMNS = ("code", "name", "category")
MAX_IMPORT_ROWS = 10_000
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0", ""}


class ImportRowError(ValidationError):
    """A bad cell of an imported CSV: the `csv` input, with the line and column in the message."""

    def __init__(self, line: int, column: str, message: str) -> None:
        super().__init__("csv", f"line {line}, column {column}: {message}")
        self.line, self.column = line, column


@dataclass(kw_only=True)
class ImportProducts:
    csv: str


@dataclass(kw_only=True)
class ImportRow:
    line: int
    product: Product
    unit: ProductUnit | None
    price_book_id: int | None
    price: Money | None


@dataclass(kw_only=True)
class ImportResult:
    products_created: int = 0
    products_updated: int = 0
    units_created: int = 0
    units_updated: int = 0
    prices_set: int = 0
    product_ids: list[int] = field(default_factory=list)


def _cell(raw: dict[str, str | None], name: str) -> str:
    return (raw.get(name) or "").strip()


def _boolean(value: str, line: int, column: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImportRowError(line, column, f"{value!r} is not true or false")


def _in_column(line: int, column: str, build: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a domain constructor for one cell, turning its ValidationError into one naming the line and column."""
    try:
        return build(*args, **kwargs)
    except ImportRowError:
        raise
    except ValidationError as error:
        raise ImportRowError(line, column, error.reason) from None


_FIELD_COLUMN = {
    "name": "name",
    "code": "code",
    "periodMonths": "periodMonths",
    "price": "price",
    "currency": "currency",
    "amount": "price",
    "category": "category",
}


def parse_import(
    text: str, books_by_name: dict[str, list[int]], categories: tuple[str, ...] = tuple(ProductCategory.__members__)
) -> list[ImportRow]:
    """Every row of the CSV checked before anything is written: the first bad one raises an
    ImportRowError with its line (the header is line 1) and column. `categories`: the active keys of the
    contract categories."""
    if not (text or "").strip():
        raise ValidationError("csv", "is empty; send a header row and at least one product row")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), skipinitialspace=True, strict=True)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as error:
        raise ImportRowError(1, "code", f"the header row cannot be read as CSV: {error}") from None
    reader.fieldnames = header
    unknown = [h for h in header if h not in IMPORT_COLUMNS]
    if unknown:
        raise ImportRowError(1, unknown[0], f"unknown column; the columns are {', '.join(IMPORT_COLUMNS)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportRowError(1, missing[0], "is required in the header row")
    rows: list[ImportRow] = []
    products: dict[str, tuple[int, Product]] = {}
    keys: dict[tuple[str, str, int | None, str | None], int] = {}
    units: dict[tuple[str, str], tuple[int, bool, int | None]] = {}
    for raw in _records(reader):
        line = reader.line_num
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ImportRowError(line, "code", f"an import holds at most {MAX_IMPORT_ROWS} rows; split the file")
        if None in raw:
            raise ImportRowError(line, header[-1], f"the row has more cells than the header's {len(header)}")
        if not any((v or "").strip() for v in raw.values()):
            continue
        code = _cell(raw, "code")
        category = _cell(raw, "category").upper().replace(" ", "_")
        if category not in categories:
            raise ImportRowError(line, "category", f"{_cell(raw, 'category')!r} is not one of {', '.join(categories)}")
        product = _product(line, raw, code, category)
        if code in products:
            first_line, first = products[code]
            if (first.name, first.category, first.description) != (product.name, product.category, product.description):
                raise ImportRowError(
                    line,
                    "name",
                    f"product {code!r} is described differently on line {first_line}; "
                    "repeat the same name, category and description",
                )
        else:
            products[code] = (line, product)
        unit_name = _cell(raw, "unit")
        unit = None
        if unit_name:
            recurring = _boolean(_cell(raw, "recurring"), line, "recurring")
            months_text = _cell(raw, "periodMonths")
            months = None
            if months_text:
                if not months_text.isdigit():
                    raise ImportRowError(line, "periodMonths", f"{months_text!r} is not a whole number of months")
                months = int(months_text)
            unit = _in_column(
                line,
                "periodMonths",
                ProductUnit,
                product_id=0,
                name=unit_name,
                recurring=recurring,
                period_months=months,
            )
            _in_column(line, "unit", fits, unit)
            described = units.setdefault((code, unit.name), (line, unit.recurring, unit.period_months))
            if described[1:] != (unit.recurring, unit.period_months):
                raise ImportRowError(
                    line,
                    "recurring",
                    f"unit {unit.name!r} of {code!r} is described differently on "
                    f"line {described[0]}; repeat the same recurrence and period",
                )
        elif _cell(raw, "recurring") or _cell(raw, "periodMonths"):
            raise ImportRowError(line, "unit", "name the unit that is recurring")
        book_name, currency, price_text = _cell(raw, "priceBook"), _cell(raw, "currency"), _cell(raw, "price")
        book_id = price = None
        if book_name or currency or price_text:
            if unit is None:
                raise ImportRowError(line, "unit", "a price is for a unit; name it")
            for column, value in (("priceBook", book_name), ("currency", currency), ("price", price_text)):
                if not value:
                    raise ImportRowError(line, column, "a price needs a price book, a currency and an amount")
            found = books_by_name.get(book_name, [])
            if not found:
                raise ImportRowError(line, "priceBook", f"there is no price book named {book_name!r}")
            if len(found) > 1:
                raise ImportRowError(
                    line,
                    "priceBook",
                    f"{len(found)} price books are named {book_name!r}; rename one so the import can tell them apart",
                )
            book_id = found[0]
            amount = _in_column(line, "price", to_decimal, price_text, "price")
            check = _in_column(line, "currency", check_currency, currency.upper())
            money = _in_column(line, "price", lambda amount, currency: Money(amount, currency).rounded(), amount, check)
            entry = _in_column(line, "price", PriceEntry, price_book_id=book_id, unit_id=0, price=money)
            price = _in_column(line, "price", _price_in_range, entry.price)
        key = (code, unit.name if unit else "", book_id, price.currency if price else None)
        if key in keys and (unit is not None):
            raise ImportRowError(
                line,
                "unit" if price is None else "currency",
                f"repeats line {keys[key]} (same product, unit, price book and currency)",
            )
        keys[key] = line
        rows.append(ImportRow(line=line, product=product, unit=unit, price_book_id=book_id, price=price))
    if not rows:
        raise ValidationError("csv", "has a header but no product rows")
    return rows


def _records(reader: csv.DictReader) -> Any:
    while True:
        before = reader.line_num
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportRowError(before + 1, "code", f"the row cannot be read as CSV: {error}") from None
        yield raw


def _product(line: int, raw: dict[str, str | None], code: str, category: str) -> Product:
    try:
        return fits(
            Product(
                name=_cell(raw, "name"),
                code=code,
                category=category,
                description=_cell(raw, "description") or None,
            )
        )
    except ValidationError as error:
        raise ImportRowError(line, _FIELD_COLUMN.get(error.field, error.field), error.reason) from None


async def import_products(cmd: ImportProducts, uow: UnitOfWork) -> ImportResult:
    """Import products, units and prices from CSV: every row is checked first (a ValidationError names the line and
    column of the first bad one, and nothing is written), then products are created or updated by code."""
    books: dict[str, list[int]] = {}
    for book in await uow.find(PriceBook):
        books.setdefault(book.name, []).append(book.id)
    categories = tuple(v.key for v in await list_values(uow, ListName.CONTRACT_CATEGORY) if v.active)
    rows = parse_import(cmd.csv, books, categories)
    result = ImportResult()
    saved: dict[str, Product] = {}
    units: dict[tuple[int, str], ProductUnit] = {}
    for row in rows:
        product = saved.get(row.product.code)
        if product is None:
            product = await _upsert_product(uow, row.product, result)
            saved[product.code] = product
        if row.unit is None:
            continue
        key = (product.id, row.unit.name)
        unit = units.get(key)
        if unit is None:
            unit = units[key] = await _upsert_unit(uow, product, row.unit, result)
        if row.price is not None and row.price_book_id is not None:
            existing = await _price_of(uow, row.price_book_id, unit.id, row.price.currency)
            if existing is None:
                await uow.add(PriceEntry(price_book_id=row.price_book_id, unit_id=unit.id, price=row.price))
                result.prices_set += 1
            elif existing.price != row.price:
                await uow.update(apply(existing, {"price": row.price}))
                result.prices_set += 1
    result.product_ids = [p.id for p in saved.values()]
    uow.record(
        CatalogChanged(
            entity_id=0,
            data={
                "what": "ProductImport",
                "change": "imported",
                "rows": len(rows),
                "productsCreated": result.products_created,
                "productsUpdated": result.products_updated,
                "unitsCreated": result.units_created,
                "unitsUpdated": result.units_updated,
                "pricesSet": result.prices_set,
                "productIds": result.product_ids,
            },
        )
    )
    await uow.commit()
    return result


async def _upsert_product(uow: UnitOfWork, given: Product, result: ImportResult) -> Product:
    found = await uow.find(Product, code=given.code)
    if not found:
        result.products_created += 1
        return await uow.add(given)
    current = found[0]
    values = {"name": given.name, "category": given.category, "description": given.description}
    if all(getattr(current, k) == v for k, v in values.items()):
        return current
    result.products_updated += 1
    return await uow.update(apply(current, values))


async def _upsert_unit(uow: UnitOfWork, product: Product, given: ProductUnit, result: ImportResult) -> ProductUnit:
    found = await uow.find(ProductUnit, product_id=product.id, name=given.name)
    if not found:
        result.units_created += 1
        return await uow.add(
            ProductUnit(
                product_id=product.id, name=given.name, recurring=given.recurring, period_months=given.period_months
            )
        )
    current = found[0]
    values = {"recurring": given.recurring, "period_months": given.period_months}
    if all(getattr(current, k) == v for k, v in values.items()):
        return current
    result.units_updated += 1
    return await uow.update(apply(current, values))
