"""Mutations of quotes and their items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from domain.workflows import quotes as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, decode_optional, mutation
from gql.schema.inputs import acts_on, described, gid, keep, optional, ref, update_of
from gql.schema.mutations.common import LOCKABLE, QuoteItemPayload, QuotePayload

VERSION = "The quote's version you read; the change fails with a ConflictError if it moved on since."


@strawberry.input(description="A new quote for an opportunity, from a price book or without one.")
class CreateQuoteInput:
    opportunity_id: strawberry.ID = gid("Opportunity", "The opportunity.", update=False)
    name: str = described("The quote's name.", update="New name.")
    currency: str = described("ISO 4217 currency of every price in the quote.", update=False)
    price_book_id: strawberry.ID | None = gid(
        "PriceBook", "The price book its prices come from; none for a manual quote.", None, update=False
    )
    brand: str | None = optional("The brand (one of the price book's brands).", update="New brand.")
    product_version: str | None = optional("The product version quoted.", update="New product version.")
    valid_from: dt.date | None = optional("First day the offer is valid.", update="New start.")
    valid_until: dt.date | None = optional("Last day the offer is valid.", update="New end.")


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
    quantity: Decimal = optional("How many units (positive).", Decimal(1))
    unit_price: Decimal | None = optional(
        "Price of one unit, for manual items (or a product on a quote without price book), or of one bundle."
    )
    currency: str | None = optional("Currency of unitPrice when it differs from the quote's (converted).")
    discount_percent: Decimal = optional("Discount in percent (0–100).", Decimal(0))

    def to_domain(self, where: str) -> wf.NewItem:
        """The line at `where` (`items[2]`): a bad id is reported on its own field of that line."""
        return wf.NewItem(
            unit_id=decode_optional(self.unit_id, "ProductUnit", f"{where}.unitId"),
            bundle_id=decode_optional(self.bundle_id, "Bundle", f"{where}.bundleId"),
            name=self.name,
            quantity=self.quantity,
            unit_price=self.unit_price,
            currency=self.currency,
            discount_percent=self.discount_percent,
        )


@acts_on("Quote", "Add lines to a quote.", key="quote_id", version=VERSION)
class AddQuoteItemsInput:
    items: list[QuoteItemInput] = described("The lines, in order.")


@acts_on("QuoteItem", "Change a quote line; fields left out stay.", version=VERSION)
class UpdateQuoteItemInput:
    quantity: Decimal | None = keep("New quantity.")
    discount_percent: Decimal | None = keep("New discount (%).")
    unit_price: Decimal | None = keep("New unit price (manual items only).")
    name: str | None = keep("New text.")
    position: int | None = keep("New place in the quote.")


@acts_on("Quote", "Round a quote's total to a given amount with a rounding item.", key="quote_id", version=VERSION)
class AddRoundingItemInput:
    total: Decimal = described('The total the quote should have, e.g. "10000.00".')


@acts_on("Quote", "Copy a quote with its items (the copy is not active).", what="The quote to copy.", version=None)
class DuplicateQuoteInput:
    name: str | None = optional("The copy's name (default '<name> (copy)').")


@acts_on("Quote", "Change a quote's currency.", version=VERSION)
class ChangeQuoteCurrencyInput:
    currency: str = described("The new ISO 4217 currency.")


UpdateQuoteInput = update_of(
    CreateQuoteInput, "Changes to a quote's data; fields left out stay, null clears.", version=VERSION
)
RemoveQuoteItemInput = ref("QuoteItem", "Remove a quote line.", version=VERSION)
QuoteRefInput = ref("Quote", "Identifies a quote, with the version you read.", version=VERSION)
create_quote = update_quote = add_quote_items = mutation(wf, OWN_INPUT, QuotePayload, LOCKABLE)
update_quote_item = mutation(wf, UpdateQuoteItemInput, QuoteItemPayload, LOCKABLE)
remove_quote_item = add_rounding_item = mutation(wf, OWN_INPUT, QuotePayload, LOCKABLE)
make_quote_active = mutation(wf, QuoteRefInput, QuotePayload, LOCKABLE)
duplicate_quote = mutation(wf, DuplicateQuoteInput, QuotePayload, LOCKABLE)
delete_quote = mutation(wf, QuoteRefInput, Deleted("Quote"), LOCKABLE)
change_quote_currency = mutation(wf, ChangeQuoteCurrencyInput, QuotePayload, LOCKABLE)
