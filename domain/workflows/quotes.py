"""Quote workflows: create (from a price book or manual), items, rounding, active quote, duplicate,
delete, change currency. A sold (locked) opportunity's quotes never change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.accounts import Account
from domain.catalog import Bundle, PriceBook, PriceEntry, Product, ProductUnit, pick_price
from domain.commands import UNSET, apply, changes, expect_version
from domain.errors import ValidationError
from domain.events import QuoteActivated, QuoteChanged
from domain.money import Money, check_currency
from domain.opportunities import Opportunity, ensure_editable
from domain.quotes import Quote, QuoteItem, quote_total
from domain.uow import Link, UnitOfWork
from domain.workflows.opportunities import copy_quote_into

MAX_ROUNDING_SHARE = Decimal("0.05")


async def _editable_quote(uow: UnitOfWork, quote_id: int, version: int | None = None) -> tuple[Quote, Opportunity]:
    quote = await uow.get(Quote, quote_id)
    expect_version(quote, version)
    opportunity = await uow.get(Opportunity, quote.opportunity_id)
    ensure_editable(opportunity)
    # Quotes are part of the opportunity: any change bumps its version, so a sale (or another quote
    # change) that read the opportunity before this one conflicts instead of selling a stale quote.
    return quote, await uow.touch(opportunity)


def _changed(uow: UnitOfWork, quote: Quote, what: str, **data: object) -> None:
    uow.record(QuoteChanged(entity_id=quote.opportunity_id, data={"quoteId": quote.id, "change": what, **data}))


def _summary(item: QuoteItem) -> str:
    return f"{item.name}: {item.quantity} × {item.unit_price} {item.currency} −{item.discount_percent}% = {item.total}"


async def ensure_usable(uow: UnitOfWork, book: PriceBook, opportunity: Opportunity, field_name: str) -> None:
    """A quote for the opportunity's account may be priced from the book: the account is one the book is for (when
    it is for some), and in one of its regions (when it has some)."""
    # The account of an opportunity the caller may change is one it may see.
    account = await uow.get(Account, opportunity.account_id, as_system=True)
    linked = {link["account_id"] for link in await uow.links(Link.PRICE_BOOK_ACCOUNT, price_book_id=book.id)}
    reason = book.refusal(account.id, account.name or "", account.country, linked)
    if reason is not None:
        raise ValidationError(field_name, reason)


def _check_offer(book: PriceBook, brand: str | None, version: str | None) -> None:
    if brand and book.brands and brand not in book.brands:
        raise ValidationError("brand", f"price book {book.name!r} offers the brands {', '.join(book.brands)}")
    if version and book.product_versions and version not in book.product_versions:
        raise ValidationError(
            "productVersion", f"price book {book.name!r} offers the versions {', '.join(book.product_versions)}"
        )


@dataclass(kw_only=True)
class CreateQuote:
    opportunity_id: int
    name: str
    currency: str
    price_book_id: int | None = None
    brand: str | None = None
    product_version: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


async def create_quote(cmd: CreateQuote, uow: UnitOfWork) -> Quote:
    """Create a quote for an opportunity (its first quote becomes the active one); from a price book only one the
    opportunity's account may use (`Account.usablePriceBooks`)."""
    opportunity = await uow.get(Opportunity, cmd.opportunity_id)
    ensure_editable(opportunity)
    opportunity = await uow.touch(opportunity)
    check_currency(cmd.currency)
    if cmd.price_book_id is not None:
        book = await uow.get(PriceBook, cmd.price_book_id)
        if not book.active:
            raise ValidationError("priceBookId", f"price book {book.name!r} is not active")
        _check_offer(book, cmd.brand, cmd.product_version)
        await ensure_usable(uow, book, opportunity, "priceBookId")
    existing = await uow.find(Quote, opportunity_id=opportunity.id)
    quote = await uow.add(
        Quote(
            opportunity_id=opportunity.id,
            name=cmd.name,
            currency=cmd.currency,
            price_book_id=cmd.price_book_id,
            brand=cmd.brand,
            product_version=cmd.product_version,
            valid_from=cmd.valid_from,
            valid_until=cmd.valid_until,
            is_active=opportunity.first_quote_is_active(existing),
        )
    )
    _changed(uow, quote, "created")
    if quote.is_active:
        uow.record(QuoteActivated(entity_id=opportunity.id, data={"quoteId": quote.id}))
    await uow.commit()
    return quote


@dataclass(kw_only=True)
class UpdateQuote:
    id: int
    version: int | None = None
    name: str = UNSET
    brand: str | None = UNSET
    product_version: str | None = UNSET
    valid_from: date | None = UNSET
    valid_until: date | None = UNSET


async def update_quote(cmd: UpdateQuote, uow: UnitOfWork) -> Quote:
    """Change a quote's name, brand, product version or validity. A new brand or product version reprices its
    price-book items (each must have a price for it, or nothing changes and the error names them)."""
    quote, opportunity = await _editable_quote(uow, cmd.id, cmd.version)
    values = changes(cmd, "name", "brand", "product_version", "valid_from", "valid_until")
    updated = apply(quote, values)
    if quote.price_book_id is not None and (updated.brand, updated.product_version) != (
        quote.brand,
        quote.product_version,
    ):
        book = await uow.get(PriceBook, quote.price_book_id)
        _check_offer(book, updated.brand, updated.product_version)
        items = await uow.find(QuoteItem, order_by="position", quote_id=quote.id)
        if any(i.unit_id is not None for i in items):
            await ensure_usable(uow, book, opportunity, "id")
            field_name = "brand" if "brand" in values else "productVersion"
            prices = await _book_prices(uow, updated, items, updated.currency, field_name)
            for item in items:
                if item.id in prices and prices[item.id] != item.unit_price:
                    await uow.update(apply(item, {"unit_price": prices[item.id]}))
    updated = await uow.update(updated)
    if updated.version != quote.version:
        _changed(uow, updated, "updated", fields=sorted(values))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class NewItem:
    """A price-book line (unit_id; its price comes from the quote's price book in the quote's
    currency), a product line priced by hand (unit_id and unit_price), or a manual line (name and
    unit_price, in any currency: converted with the exchange rates)."""

    unit_id: int | None = None
    bundle_id: int | None = None
    name: str | None = None
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    currency: str | None = None
    discount_percent: Decimal = Decimal(0)


@dataclass(kw_only=True)
class AddItems:
    quote_id: int
    items: list[NewItem] = field(default_factory=list)
    version: int | None = None


async def _price(uow: UnitOfWork, quote: Quote, unit_id: int, currency: str) -> Decimal | None:
    return (await _prices(uow, quote, [unit_id], currency)).get(unit_id)


async def _prices(
    uow: UnitOfWork, quote: Quote, unit_ids: list[int], currency: str | None = None
) -> dict[int, Decimal | None]:
    """The price of each unit in the quote's book and currency (or `currency`), for its brand and product version
    (None: it has none), in one statement."""
    if quote.price_book_id is None or not unit_ids:
        return {}
    entries: dict[int, list[PriceEntry]] = {i: [] for i in unit_ids}
    for entry in await uow.find(PriceEntry, price_book_id=quote.price_book_id, unit_id=list(entries)):
        entries[entry.unit_id].append(entry)
    found: dict[int, Decimal | None] = {}
    for unit_id, options in entries.items():
        picked = pick_price(options, currency or quote.currency, quote.brand, quote.product_version)
        found[unit_id] = None if picked is None else picked.price.amount
    return found


async def _book_prices(
    uow: UnitOfWork, quote: Quote, items: list[QuoteItem], currency: str, field_name: str
) -> dict[int, Decimal]:
    """The book's price of each price-book item of the quote in `currency`, for the quote's brand and product
    version: every one must have one, or a ValidationError on `field_name` names those that do not."""
    from_book = [i for i in items if i.unit_id is not None and quote.price_book_id is not None]
    found = await _prices(uow, quote, [i.unit_id for i in from_book], currency)  # type: ignore[misc]
    missing = [i.name for i in from_book if found.get(i.unit_id) is None]  # type: ignore[arg-type]
    if missing:
        named = [
            f"{what} {value}" for what, value in (("brand", quote.brand), ("version", quote.product_version)) if value
        ]
        suffix = f" ({', '.join(named)})" if named else ""
        raise ValidationError(field_name, f"the price book has no {currency} price{suffix} for: {', '.join(missing)}")
    return {i.id: found[i.unit_id] for i in from_book}  # type: ignore[index,misc]


async def _lines(
    uow: UnitOfWork, quote: Quote, new: NewItem, n: int, rates: dict, prices: dict[int, Decimal | None] | None = None
) -> list[QuoteItem]:
    """The quote items for one requested line (a bundle gives one line per component); `prices` are those
    `_prices` read beforehand."""
    where = f"items[{n}]"
    if new.quantity is None or new.quantity <= 0:
        raise ValidationError(f"{where}.quantity", "must be positive")
    if new.bundle_id is not None:
        if quote.price_book_id is None:
            raise ValidationError(f"{where}.bundleId", "bundles are sold from a price book; this quote has none")
        bundle = await uow.get(Bundle, new.bundle_id)
        if bundle.price_book_id != quote.price_book_id or not bundle.active:
            raise ValidationError(
                f"{where}.bundleId", f"bundle {bundle.name!r} is not offered by this quote's price book"
            )
        if new.unit_price is None:  # each component at its own price in the book
            lines = []
            for part in bundle.components:
                lines += await _lines(
                    uow,
                    quote,
                    NewItem(unit_id=part.unit_id, quantity=new.quantity, discount_percent=new.discount_percent),
                    n,
                    rates,
                )
            return lines
        # A price for the whole bundle: its weights split it over the components.
        price = Money(new.unit_price, new.currency or quote.currency).convert(quote.currency, rates).rounded()
        lines = []
        for part, share in zip(bundle.components, bundle.split(price)):
            lines += await _lines(
                uow,
                quote,
                NewItem(
                    unit_id=part.unit_id,
                    quantity=new.quantity,
                    unit_price=share.amount,
                    discount_percent=new.discount_percent,
                ),
                n,
                rates,
            )
        return lines
    if new.unit_id is not None:
        unit = await uow.get(ProductUnit, new.unit_id)
        product = await uow.get(Product, unit.product_id)
        if not product.active:
            raise ValidationError(f"{where}.unitId", f"product {product.name!r} is not active")
        price = new.unit_price
        if price is None:
            if quote.price_book_id is None:
                raise ValidationError(f"{where}.unitPrice", "a quote without a price book needs a unit price")
            if prices is not None and unit.id in prices:
                price = prices[unit.id]
            else:
                price = await _price(uow, quote, unit.id, quote.currency)
            if price is None:
                raise ValidationError(
                    f"{where}.unitId",
                    f"{product.name} ({unit.name}) has no price in {quote.currency} in this quote's price book",
                )
        elif new.currency and new.currency != quote.currency:
            price = Money(price, new.currency).convert(quote.currency, rates).rounded().amount
        return [
            QuoteItem(
                quote_id=quote.id,
                name=new.name or product.name,
                quantity=new.quantity,
                unit_price=price,
                currency=quote.currency,
                discount_percent=new.discount_percent,
                product_id=product.id,
                unit_id=unit.id,
                unit_name=unit.name,
            )
        ]
    if not (new.name or "").strip():
        raise ValidationError(f"{where}.name", "a manual item needs a name (or give a unitId)")
    if new.unit_price is None:
        raise ValidationError(f"{where}.unitPrice", "a manual item needs a unit price")
    currency = new.currency or quote.currency
    check_currency(currency, f"{where}.currency")
    price = Money(new.unit_price, currency).convert(quote.currency, rates).rounded().amount
    return [
        QuoteItem(
            quote_id=quote.id,
            name=new.name,
            quantity=new.quantity,
            unit_price=price,
            currency=quote.currency,
            discount_percent=new.discount_percent,
        )
    ]


async def add_quote_items(cmd: AddItems, uow: UnitOfWork) -> Quote:
    """Add lines to a quote: price-book products (priced in the quote's currency, brand and product version), bundles,
    or manual items (converted from their currency). Pricing from the book needs the account to be one it may use."""
    quote, opportunity = await _editable_quote(uow, cmd.quote_id, cmd.version)
    if not cmd.items:
        raise ValidationError("items", "give at least one item")
    if quote.price_book_id is not None and any(
        i.bundle_id is not None or (i.unit_id is not None and i.unit_price is None) for i in cmd.items
    ):  # priced from the book: only while the account may use it
        await ensure_usable(uow, await uow.get(PriceBook, quote.price_book_id), opportunity, "quoteId")
    rates = await uow.exchange_rates()
    # The units, their products and prices in three statements, whatever the number of lines.
    units = await uow.preload(ProductUnit, [i.unit_id for i in cmd.items if i.unit_id is not None])
    await uow.preload(Product, [u.product_id for u in units])
    prices = await _prices(uow, quote, [u.id for u in units])
    lines: list[QuoteItem] = []
    for n, new in enumerate(cmd.items):
        lines += await _lines(uow, quote, new, n, rates, prices)
    existing = await uow.find(QuoteItem, order_by="position", quote_id=quote.id)
    rounding = [i for i in existing if i.is_rounding]
    position = max((i.position for i in existing if not i.is_rounding), default=-1) + 1
    for line in lines:
        line.position = position
        position += 1
    for line in await uow.add_all(lines):
        uow.audit("Quote", quote.id, "items", None, _summary(line))
    for item in rounding:  # the rounding item stays last
        await uow.update(apply(item, {"position": position}))
    quote = await uow.touch(quote)
    _changed(uow, quote, "itemsAdded", count=len(lines))
    await uow.commit()
    return quote


@dataclass(kw_only=True)
class UpdateItem:
    id: int
    version: int | None = None  # the quote's
    quantity: Decimal = UNSET
    discount_percent: Decimal = UNSET
    unit_price: Decimal = UNSET
    name: str = UNSET
    position: int = UNSET


async def update_quote_item(cmd: UpdateItem, uow: UnitOfWork) -> QuoteItem:
    """Change a quote line's quantity, discount, text, position or manual price."""
    item = await uow.get(QuoteItem, cmd.id)
    quote, _ = await _editable_quote(uow, item.quote_id, cmd.version)
    if item.is_rounding:
        raise ValidationError("id", "the rounding item is changed with addRoundingItem")
    values = changes(cmd, "quantity", "discount_percent", "unit_price", "name", "position")
    if "unit_price" in values and item.product_id is not None and quote.price_book_id is not None:
        raise ValidationError(
            "unitPrice", "the price of a price-book item comes from the price book; give a discount instead"
        )
    updated = await uow.update(apply(item, values))
    uow.audit("Quote", quote.id, "items", _summary(item), _summary(updated))
    quote = await uow.touch(quote)
    _changed(uow, quote, "itemUpdated", itemId=item.id)
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class RemoveItem:
    id: int
    version: int | None = None  # the quote's


async def remove_quote_item(cmd: RemoveItem, uow: UnitOfWork) -> Quote:
    """Remove a line from a quote."""
    item = await uow.get(QuoteItem, cmd.id)
    quote, _ = await _editable_quote(uow, item.quote_id, cmd.version)
    await uow.delete(item)
    uow.audit("Quote", quote.id, "items", _summary(item), None)
    quote = await uow.touch(quote)
    _changed(uow, quote, "itemRemoved", itemId=item.id)
    await uow.commit()
    return quote


@dataclass(kw_only=True)
class AddRounding:
    quote_id: int
    total: Decimal
    version: int | None = None


async def add_rounding_item(cmd: AddRounding, uow: UnitOfWork) -> Quote:
    """Round the quote's total to an amount with one rounding item (replacing any earlier one)."""
    quote, _ = await _editable_quote(uow, cmd.quote_id, cmd.version)
    items = await uow.find(QuoteItem, order_by="position", quote_id=quote.id)
    lines = [i for i in items if not i.is_rounding]
    if not lines:
        raise ValidationError("quoteId", "a quote without items has nothing to round")
    target = Money(cmd.total, quote.currency)
    if target.rounded().amount != target.amount:
        raise ValidationError("total", f"{cmd.total} has more decimals than {quote.currency} allows")
    if target.amount < 0:
        raise ValidationError("total", "a quote's total cannot be negative")
    items_total = quote_total(lines, quote.currency).amount
    difference = target.amount - items_total
    allowed = max(items_total * MAX_ROUNDING_SHARE, Decimal(1))
    if abs(difference) > allowed:
        raise ValidationError(
            "total",
            f"rounding may change the total by at most {allowed:.2f} {quote.currency} "
            f"(5%); change the items or give a discount instead",
        )
    for old in (i for i in items if i.is_rounding):
        await uow.delete(old)
        uow.audit("Quote", quote.id, "items", _summary(old), None)
    if difference != 0:
        rounding = await uow.add(
            QuoteItem(
                quote_id=quote.id,
                name="Rounding",
                quantity=Decimal(1),
                unit_price=difference,
                currency=quote.currency,
                position=max(i.position for i in lines) + 1,
                is_rounding=True,
            )
        )
        uow.audit("Quote", quote.id, "items", None, _summary(rounding))
    quote = await uow.touch(quote)
    _changed(uow, quote, "rounded", total=str(target.amount))
    await uow.commit()
    return quote


@dataclass(kw_only=True)
class QuoteRef:
    id: int
    version: int | None = None


async def make_quote_active(cmd: QuoteRef, uow: UnitOfWork) -> Quote:
    """Make a quote the opportunity's active quote (the one that is sold)."""
    quote, opportunity = await _editable_quote(uow, cmd.id, cmd.version)
    *deactivated, activated = opportunity.activate_quote(quote, await uow.find(Quote, opportunity_id=opportunity.id))
    for other in deactivated:  # first: the database holds one active quote per opportunity at any moment
        await uow.update(other)
    active = await uow.update(activated)
    uow.record(QuoteActivated(entity_id=opportunity.id, data={"quoteId": active.id}))
    await uow.commit()
    return active


@dataclass(kw_only=True)
class DuplicateQuote:
    id: int
    name: str | None = None


async def duplicate_quote(cmd: DuplicateQuote, uow: UnitOfWork) -> Quote:
    """Copy a quote with its items; the copy is not active."""
    quote, opportunity = await _editable_quote(uow, cmd.id)
    copy = await copy_quote_into(uow, quote, opportunity, cmd.name or f"{quote.name} (copy)")
    _changed(uow, copy, "created", duplicateOf=quote.id)
    await uow.commit()
    return copy


async def delete_quote(cmd: QuoteRef, uow: UnitOfWork) -> Quote:
    """Delete a quote that is not the active one."""
    quote, opportunity = await _editable_quote(uow, cmd.id, cmd.version)
    opportunity.ensure_quote_deletable(quote)
    await uow.delete(quote)
    _changed(uow, quote, "deleted")
    await uow.commit()
    return quote


@dataclass(kw_only=True)
class ChangeCurrency:
    id: int
    currency: str
    version: int | None = None


async def change_quote_currency(cmd: ChangeCurrency, uow: UnitOfWork) -> Quote:
    """Change a quote's currency: price-book items take the book's price in the new currency (every one must have one,
    or nothing changes and the error names them); manual and rounding items are converted with the exchange rates.
    Discounts are kept."""
    quote, opportunity = await _editable_quote(uow, cmd.id, cmd.version)
    check_currency(cmd.currency)
    if cmd.currency == quote.currency:
        raise ValidationError("currency", f"the quote is already in {cmd.currency}")
    items = await uow.find(QuoteItem, order_by="position", quote_id=quote.id)
    rates = await uow.exchange_rates()
    if quote.price_book_id is not None and any(i.unit_id is not None for i in items):
        await ensure_usable(uow, await uow.get(PriceBook, quote.price_book_id), opportunity, "id")
    prices: dict[int, Decimal] = await _book_prices(uow, quote, items, cmd.currency, "currency")
    for item in items:
        if item.id not in prices:
            try:
                prices[item.id] = Money(item.unit_price, item.currency).convert(cmd.currency, rates).rounded().amount
            except ValidationError:
                raise ValidationError(
                    "currency", f"there is no exchange rate for {cmd.currency} or {item.currency}; set one first"
                ) from None
    for item in items:
        await uow.update(apply(item, {"unit_price": prices[item.id], "currency": cmd.currency}))
    changed = await uow.update(apply(quote, {"currency": cmd.currency}))
    _changed(uow, changed, "currency", **{"from": quote.currency, "to": cmd.currency})
    await uow.commit()
    return changed
