"""Mutations of quotes and their items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from domain.errors import Conflict, Locked, NotFound
from domain.workflows import quotes as wf
from gql.resolvers.mutation import Deleted, decode_id, gid, mutation
from gql.schema.inputs import described, keep, optional
from gql.schema.mutations.common import QuoteItemPayload, QuotePayload

VERSION = "The quote's version you read; the change fails with a ConflictError if it moved on since."
ERRORS = (NotFound, Conflict, Locked)  # every quote workflow checks that the quote exists, is current and not sold


@strawberry.input(description="A new quote for an opportunity, from a price book or without one.")
class CreateQuoteInput:
    opportunity_id: strawberry.ID = gid("Opportunity", description="The opportunity.")
    name: str = described("The quote's name.")
    currency: str = described("ISO 4217 currency of every price in the quote.")
    price_book_id: strawberry.ID | None = gid(
        "PriceBook", default=None, description="The price book its prices come from; none for a manual quote."
    )
    brand: str | None = optional("The brand (one of the price book's brands).")
    product_version: str | None = optional("The product version quoted.")
    valid_from: dt.date | None = optional("First day the offer is valid.")
    valid_until: dt.date | None = optional("Last day the offer is valid.")


@strawberry.input(description="Changes to a quote's data; fields left out stay, null clears.")
class UpdateQuoteInput:
    id: strawberry.ID = gid("Quote", description="The quote.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    brand: str | None = keep("New brand.")
    product_version: str | None = keep("New product version.")
    valid_from: dt.date | None = keep("New start.")
    valid_until: dt.date | None = keep("New end.")


@strawberry.input(
    description="One line to add: a price-book product unit (`unitId`), a bundle (`bundleId`), or a "
    "manual item (`name` and `unitPrice`, in any currency)."
)
class QuoteItemInput:
    unit_id: strawberry.ID | None = optional(
        "A product unit; its price comes from the quote's price book unless unitPrice is given."
    )
    bundle_id: strawberry.ID | None = optional(
        "A bundle of the quote's price book: one line per component, each at its book "
        "price, or, with unitPrice, the bundle's price split over them by their weights."
    )
    name: str | None = optional("The line's text (default: the product's name).")
    quantity: Decimal = strawberry.field(default=Decimal(1), description="How many units (positive).")
    unit_price: Decimal | None = optional(
        "Price of one unit, for manual items (or a product on a quote without price book), or of one bundle."
    )
    currency: str | None = optional("Currency of unitPrice when it differs from the quote's (converted).")
    discount_percent: Decimal = strawberry.field(default=Decimal(0), description="Discount in percent (0–100).")

    def to_domain(self, n: int) -> wf.NewItem:
        """The line at `items[n]`: a bad id is reported on its own field of that line."""
        return wf.NewItem(
            unit_id=None if self.unit_id is None else decode_id(self.unit_id, "ProductUnit", f"items[{n}].unitId"),
            bundle_id=None if self.bundle_id is None else decode_id(self.bundle_id, "Bundle", f"items[{n}].bundleId"),
            name=self.name,
            quantity=self.quantity,
            unit_price=self.unit_price,
            currency=self.currency,
            discount_percent=self.discount_percent,
        )


def _lines(items: list[QuoteItemInput]) -> list[wf.NewItem]:
    return [item.to_domain(n) for n, item in enumerate(items)]


@strawberry.input(description="Add lines to a quote.")
class AddQuoteItemsInput:
    quote_id: strawberry.ID = gid("Quote", description="The quote.")
    items: list[QuoteItemInput] = described("The lines, in order.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Change a quote line; fields left out stay.")
class UpdateQuoteItemInput:
    id: strawberry.ID = gid("QuoteItem", description="The quote item.")
    quantity: Decimal | None = keep("New quantity.")
    discount_percent: Decimal | None = keep("New discount (%).")
    unit_price: Decimal | None = keep("New unit price (manual items only).")
    name: str | None = keep("New text.")
    position: int | None = keep("New place in the quote.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Remove a quote line.")
class RemoveQuoteItemInput:
    id: strawberry.ID = gid("QuoteItem", description="The quote item.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Round a quote's total to a given amount with a rounding item.")
class AddRoundingItemInput:
    quote_id: strawberry.ID = gid("Quote", description="The quote.")
    total: Decimal = strawberry.field(description='The total the quote should have, e.g. "10000.00".')
    version: int | None = optional(VERSION)


@strawberry.input(description="Identifies a quote, with the version you read.")
class QuoteRefInput:
    id: strawberry.ID = gid("Quote", description="The quote.")
    version: int | None = optional(VERSION)


@strawberry.input(description="Copy a quote with its items (the copy is not active).")
class DuplicateQuoteInput:
    id: strawberry.ID = gid("Quote", description="The quote to copy.")
    name: str | None = optional("The copy's name (default '<name> (copy)').")


@strawberry.input(description="Change a quote's currency.")
class ChangeQuoteCurrencyInput:
    id: strawberry.ID = gid("Quote", description="The quote.")
    currency: str = described("The new ISO 4217 currency.")
    version: int | None = optional(VERSION)


@strawberry.type
class QuoteMutations:
    @mutation(wf.create_quote, CreateQuoteInput, QuotePayload, errors=ERRORS)
    def create_quote(self) -> None:
        """Create a quote for an opportunity (its first quote becomes the active one)."""

    @mutation(wf.update_quote, UpdateQuoteInput, QuotePayload, errors=ERRORS)
    def update_quote(self) -> None:
        """Change a quote's name, brand, product version or validity."""

    @mutation(wf.add_quote_items, AddQuoteItemsInput, QuotePayload, convert={"items": _lines}, errors=ERRORS)
    def add_quote_items(self) -> None:
        """Add lines to a quote: price-book products (priced in the quote's currency), bundles, or manual items
        (converted from their currency)."""

    @mutation(wf.update_quote_item, UpdateQuoteItemInput, QuoteItemPayload, errors=ERRORS)
    def update_quote_item(self) -> None:
        """Change a quote line's quantity, discount, text, position or manual price."""

    @mutation(wf.remove_quote_item, RemoveQuoteItemInput, QuotePayload, errors=ERRORS)
    def remove_quote_item(self) -> None:
        """Remove a line from a quote."""

    @mutation(wf.add_rounding_item, AddRoundingItemInput, QuotePayload, errors=ERRORS)
    def add_rounding_item(self) -> None:
        """Round the quote's total to an amount with one rounding item (replacing any earlier one)."""

    @mutation(wf.make_quote_active, QuoteRefInput, QuotePayload, errors=ERRORS)
    def make_quote_active(self) -> None:
        """Make a quote the opportunity's active quote (the one that is sold)."""

    @mutation(wf.duplicate_quote, DuplicateQuoteInput, QuotePayload, errors=ERRORS)
    def duplicate_quote(self) -> None:
        """Copy a quote with its items; the copy is not active."""

    @mutation(wf.delete_quote, QuoteRefInput, Deleted("Quote"), errors=ERRORS)
    def delete_quote(self) -> None:
        """Delete a quote that is not the active one."""

    @mutation(wf.change_quote_currency, ChangeQuoteCurrencyInput, QuotePayload, errors=ERRORS)
    def change_quote_currency(self) -> None:
        """Change a quote's currency: price-book items take the book's price in the new currency (every one must have
        one), manual items are converted; discounts stay."""
