"""Mutations of quotes and their items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.workflows import quotes as wf
from gql import ids
from gql.resolvers.mutate import node, opt_pk, pk, run
from gql.schema.errors import UserError, result
from gql.schema.inputs import opt
from gql.schema.mutations.common import DeletedPayload, QuoteItemPayload, QuotePayload
from gql.schema.quotes import Quote, QuoteItem
from persistence import tables as t

VERSION = "The quote's version you read; the change fails with a ConflictError if it moved on since."
INPUT = "What to do; see the input type."


async def quote_payload(info: Info, outcome):  # noqa: ANN001, ANN201
    if isinstance(outcome, UserError):
        return outcome
    return QuotePayload(quote=await node(info, Quote, t.quotes, outcome.id))


@strawberry.input(description="A new quote for an opportunity, from a price book or without one.")
class CreateQuoteInput:
    opportunity_id: strawberry.ID = strawberry.field(description="The opportunity.")
    name: str = strawberry.field(description="The quote's name.")
    currency: str = strawberry.field(description="ISO 4217 currency of every price in the quote.")
    price_book_id: strawberry.ID | None = strawberry.field(
        default=None, description="The price book its prices come from; none for a manual quote."
    )
    brand: str | None = strawberry.field(default=None, description="The brand (one of the price book's brands).")
    product_version: str | None = strawberry.field(default=None, description="The product version quoted.")
    valid_from: dt.date | None = strawberry.field(default=None, description="First day the offer is valid.")
    valid_until: dt.date | None = strawberry.field(default=None, description="Last day the offer is valid.")


@strawberry.input(description="Changes to a quote's data; fields left out stay, null clears.")
class UpdateQuoteInput:
    id: strawberry.ID = strawberry.field(description="The quote.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    brand: str | None = strawberry.field(default=strawberry.UNSET, description="New brand.")
    product_version: str | None = strawberry.field(default=strawberry.UNSET, description="New product version.")
    valid_from: dt.date | None = strawberry.field(default=strawberry.UNSET, description="New start.")
    valid_until: dt.date | None = strawberry.field(default=strawberry.UNSET, description="New end.")


@strawberry.input(
    description="One line to add: a price-book product unit (`unitId`), a bundle (`bundleId`), or a "
    "manual item (`name` and `unitPrice`, in any currency)."
)
class QuoteItemInput:
    unit_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A product unit; its price comes from the quote's price book unless unitPrice is given.",
    )
    bundle_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A bundle of the quote's price book: one line per component, each at its book "
        "price, or, with unitPrice, the bundle's price split over them by their weights.",
    )
    name: str | None = strawberry.field(default=None, description="The line's text (default: the product's name).")
    quantity: Decimal = strawberry.field(default=Decimal(1), description="How many units (positive).")
    unit_price: Decimal | None = strawberry.field(
        default=None,
        description="Price of one unit, for manual items (or a product on a quote without price "
        "book), or of one bundle.",
    )
    currency: str | None = strawberry.field(
        default=None, description="Currency of unitPrice when it differs from the quote's (converted)."
    )
    discount_percent: Decimal = strawberry.field(default=Decimal(0), description="Discount in percent (0–100).")


@strawberry.input(description="Add lines to a quote.")
class AddQuoteItemsInput:
    quote_id: strawberry.ID = strawberry.field(description="The quote.")
    items: list[QuoteItemInput] = strawberry.field(description="The lines, in order.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Change a quote line; fields left out stay.")
class UpdateQuoteItemInput:
    id: strawberry.ID = strawberry.field(description="The quote item.")
    quantity: Decimal | None = strawberry.field(default=strawberry.UNSET, description="New quantity.")
    discount_percent: Decimal | None = strawberry.field(default=strawberry.UNSET, description="New discount (%).")
    unit_price: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="New unit price (manual items only)."
    )
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New text.")
    position: int | None = strawberry.field(default=strawberry.UNSET, description="New place in the quote.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Remove a quote line.")
class RemoveQuoteItemInput:
    id: strawberry.ID = strawberry.field(description="The quote item.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Round a quote's total to a given amount with a rounding item.")
class AddRoundingItemInput:
    quote_id: strawberry.ID = strawberry.field(description="The quote.")
    total: Decimal = strawberry.field(description='The total the quote should have, e.g. "10000.00".')
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Identifies a quote, with the version you read.")
class QuoteRefInput:
    id: strawberry.ID = strawberry.field(description="The quote.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="Copy a quote with its items (the copy is not active).")
class DuplicateQuoteInput:
    id: strawberry.ID = strawberry.field(description="The quote to copy.")
    name: str | None = strawberry.field(default=None, description="The copy's name (default '<name> (copy)').")


@strawberry.input(description="Change a quote's currency.")
class ChangeQuoteCurrencyInput:
    id: strawberry.ID = strawberry.field(description="The quote.")
    currency: str = strawberry.field(description="The new ISO 4217 currency.")
    version: int | None = strawberry.field(default=None, description=VERSION)


CreateQuoteResult = result("CreateQuoteResult", QuotePayload)
UpdateQuoteResult = result("UpdateQuoteResult", QuotePayload)
AddQuoteItemsResult = result("AddQuoteItemsResult", QuotePayload)
UpdateQuoteItemResult = result("UpdateQuoteItemResult", QuoteItemPayload)
RemoveQuoteItemResult = result("RemoveQuoteItemResult", QuotePayload)
AddRoundingItemResult = result("AddRoundingItemResult", QuotePayload)
MakeQuoteActiveResult = result("MakeQuoteActiveResult", QuotePayload)
DuplicateQuoteResult = result("DuplicateQuoteResult", QuotePayload)
DeleteQuoteResult = result("DeleteQuoteResult", DeletedPayload)
ChangeQuoteCurrencyResult = result("ChangeQuoteCurrencyResult", QuotePayload)


def _quote(value: strawberry.ID, field: str = "id") -> int:
    return pk(value, "Quote", field)


def _item(new: QuoteItemInput, n: int) -> wf.NewItem:
    return wf.NewItem(
        unit_id=opt_pk(new.unit_id, "ProductUnit", f"items[{n}].unitId"),
        bundle_id=opt_pk(new.bundle_id, "Bundle", f"items[{n}].bundleId"),
        name=new.name,
        quantity=new.quantity,
        unit_price=new.unit_price,
        currency=new.currency,
        discount_percent=new.discount_percent,
    )


@strawberry.type
class QuoteMutations:
    @strawberry.mutation(description="Create a quote for an opportunity (its first quote becomes the active one).")
    async def create_quote(
        self,
        info: Info,
        input: Annotated[CreateQuoteInput, strawberry.argument(description=INPUT)],
    ) -> CreateQuoteResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.create_quote(
                wf.CreateQuote(
                    opportunity_id=pk(input.opportunity_id, "Opportunity", "opportunityId"),
                    name=input.name,
                    currency=input.currency,
                    price_book_id=opt_pk(input.price_book_id, "PriceBook", "priceBookId"),
                    brand=input.brand,
                    product_version=input.product_version,
                    valid_from=input.valid_from,
                    valid_until=input.valid_until,
                ),
                uow,
            )

        return await quote_payload(info, await run(info, work))

    @strawberry.mutation(description="Change a quote's name, brand, product version or validity.")
    async def update_quote(
        self,
        info: Info,
        input: Annotated[UpdateQuoteInput, strawberry.argument(description=INPUT)],
    ) -> UpdateQuoteResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_quote(
                wf.UpdateQuote(
                    id=_quote(input.id),
                    version=input.version,
                    name=opt(input.name),
                    brand=opt(input.brand),
                    product_version=opt(input.product_version),
                    valid_from=opt(input.valid_from),
                    valid_until=opt(input.valid_until),
                ),
                uow,
            )

        return await quote_payload(info, await run(info, work))

    @strawberry.mutation(
        description="Add lines to a quote: price-book products (priced in the quote's currency), "
        "bundles, or manual items (converted from their currency)."
    )
    async def add_quote_items(
        self,
        info: Info,
        input: Annotated[AddQuoteItemsInput, strawberry.argument(description=INPUT)],
    ) -> AddQuoteItemsResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.add_quote_items(
                wf.AddItems(
                    quote_id=_quote(input.quote_id, "quoteId"),
                    version=input.version,
                    items=[_item(new, n) for n, new in enumerate(input.items)],
                ),
                uow,
            )

        return await quote_payload(info, await run(info, work))

    @strawberry.mutation(description="Change a quote line's quantity, discount, text, position or manual price.")
    async def update_quote_item(
        self,
        info: Info,
        input: Annotated[UpdateQuoteItemInput, strawberry.argument(description=INPUT)],
    ) -> UpdateQuoteItemResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.update_quote_item(
                wf.UpdateItem(
                    id=pk(input.id, "QuoteItem", "id"),
                    quantity=opt(input.quantity),
                    discount_percent=opt(input.discount_percent),
                    unit_price=opt(input.unit_price),
                    name=opt(input.name),
                    position=opt(input.position),
                    version=input.version,
                ),
                uow,
            )

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return QuoteItemPayload(
            item=await node(info, QuoteItem, t.quote_items, outcome.id),
            quote=await node(info, Quote, t.quotes, outcome.quote_id),
        )

    @strawberry.mutation(description="Remove a line from a quote.")
    async def remove_quote_item(
        self,
        info: Info,
        input: Annotated[RemoveQuoteItemInput, strawberry.argument(description=INPUT)],
    ) -> RemoveQuoteItemResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.remove_quote_item(
                wf.RemoveItem(id=pk(input.id, "QuoteItem", "id"), version=input.version), uow
            )

        return await quote_payload(info, await run(info, work))

    @strawberry.mutation(
        description="Round the quote's total to an amount with one rounding item (replacing any earlier one)."
    )
    async def add_rounding_item(
        self,
        info: Info,
        input: Annotated[AddRoundingItemInput, strawberry.argument(description=INPUT)],
    ) -> AddRoundingItemResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.add_rounding_item(
                wf.AddRounding(quote_id=_quote(input.quote_id, "quoteId"), total=input.total, version=input.version),
                uow,
            )

        return await quote_payload(info, await run(info, work))

    @strawberry.mutation(description="Make a quote the opportunity's active quote (the one that is sold).")
    async def make_quote_active(
        self,
        info: Info,
        input: Annotated[QuoteRefInput, strawberry.argument(description=INPUT)],
    ) -> MakeQuoteActiveResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.make_quote_active(wf.QuoteRef(id=_quote(input.id), version=input.version), uow)

        return await quote_payload(info, await run(info, work))

    @strawberry.mutation(description="Copy a quote with its items; the copy is not active.")
    async def duplicate_quote(
        self,
        info: Info,
        input: Annotated[DuplicateQuoteInput, strawberry.argument(description=INPUT)],
    ) -> DuplicateQuoteResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.duplicate_quote(wf.DuplicateQuote(id=_quote(input.id), name=input.name), uow)

        return await quote_payload(info, await run(info, work))

    @strawberry.mutation(description="Delete a quote that is not the active one.")
    async def delete_quote(
        self,
        info: Info,
        input: Annotated[QuoteRefInput, strawberry.argument(description=INPUT)],
    ) -> DeleteQuoteResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.delete_quote(wf.QuoteRef(id=_quote(input.id), version=input.version), uow)

        outcome = await run(info, work)
        if isinstance(outcome, UserError):
            return outcome
        return DeletedPayload(deleted_id=strawberry.ID(ids.encode("Quote", outcome.id)))

    @strawberry.mutation(
        description="Change a quote's currency: price-book items take the book's price in the new "
        "currency (every one must have one), manual items are converted; discounts stay."
    )
    async def change_quote_currency(
        self,
        info: Info,
        input: Annotated[ChangeQuoteCurrencyInput, strawberry.argument(description=INPUT)],
    ) -> ChangeQuoteCurrencyResult:
        async def work(uow):  # noqa: ANN001, ANN202
            return await wf.change_quote_currency(
                wf.ChangeCurrency(id=_quote(input.id), currency=input.currency, version=input.version), uow
            )

        return await quote_payload(info, await run(info, work))
