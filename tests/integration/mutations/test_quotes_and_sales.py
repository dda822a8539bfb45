"""Quotes, items and the sale: from a price book to contracts, with locks, unlock and upsell."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import and_, func, select

from gql import ids
from persistence import tables
from tests.conftest import statements
from tests.integration.mutations.test_opportunities import ERRORS, count, new_opportunity

QUOTE = "quote { id name currency isActive version total { amount currency } items { id name quantity discountPercent isRounding unitPrice { amount currency } total { amount } } }"


def doc(name: str, input_type: str, payload: str = "QuotePayload", body: str = QUOTE) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
        f"... on {payload} {{ {body} }} {ERRORS} }} }}"
    )


CREATE_QUOTE = doc("createQuote", "CreateQuoteInput")
ADD_ITEMS = doc("addQuoteItems", "AddQuoteItemsInput")
UPDATE_ITEM = doc(
    "updateQuoteItem", "UpdateQuoteItemInput", "QuoteItemPayload", "item { id total { amount } } " + QUOTE
)
REMOVE_ITEM = doc("removeQuoteItem", "RemoveQuoteItemInput")
ROUND = doc("addRoundingItem", "AddRoundingItemInput")
ACTIVATE = doc("makeQuoteActive", "QuoteRefInput")
DUPLICATE = doc("duplicateQuote", "DuplicateQuoteInput")
DELETE_QUOTE = doc("deleteQuote", "QuoteRefInput", "DeletedPayload", "deletedId")
CURRENCY = doc("changeQuoteCurrency", "ChangeQuoteCurrencyInput")
SALE = (
    "opportunity { id stage locked version actualRevenue { amount currency } "
    "contracts { id kind startsOn endsOn value { amount currency } } }"
)
SELL = doc("markOpportunitySold", "OpportunityRefInput", "OpportunityPayload", SALE)
UNLOCK = doc("unlockOpportunity", "OpportunityRefInput", "OpportunityPayload", SALE)
UPSELL = doc(
    "createUpsellOpportunity",
    "CreateUpsellOpportunityInput",
    "OpportunityPayload",
    "opportunity { id name stage expectedCloseDate estimatedRevenue { amount currency } account { id } }",
)


async def catalog(writable) -> dict:
    """A price book with EUR prices for a one-time unit and a recurring one, from the seeded data."""
    e, u = tables.price_entries, tables.product_units
    async with writable.engine.connect() as conn:

        def priced(recurring: bool):
            return (
                select(e.c.price_book_id, e.c.unit_id, e.c.price_amount)
                .join(u, u.c.id == e.c.unit_id)
                .where(
                    e.c.price_currency == "EUR",
                    u.c.recurring.is_(recurring),
                    u.c.period_months.is_not(None) if recurring else True,
                )
                .order_by(e.c.price_book_id, e.c.unit_id)
            )

        once = (await conn.execute(priced(False))).first()
        book = once.price_book_id
        monthly = (await conn.execute(priced(True).where(e.c.price_book_id == book))).first()
    return {
        "book": ids.encode("PriceBook", book),
        "once": ids.encode("ProductUnit", once.unit_id),
        "once_price": once.price_amount,
        "monthly": ids.encode("ProductUnit", monthly.unit_id),
        "monthly_price": monthly.price_amount,
    }


async def quote_with_items(api, writable) -> tuple[dict, dict, dict]:
    opportunity = await new_opportunity(api, writable)
    c = await catalog(writable)
    quote = (
        await api.data(
            CREATE_QUOTE,
            {
                "input": {
                    "opportunityId": opportunity["id"],
                    "name": "Offer A",
                    "currency": "EUR",
                    "priceBookId": c["book"],
                }
            },
        )
    )["createQuote"]
    assert quote["__typename"] == "QuotePayload", quote
    added = (
        await api.data(
            ADD_ITEMS,
            {
                "input": {
                    "quoteId": quote["quote"]["id"],
                    "items": [
                        {"unitId": c["once"], "quantity": "3", "discountPercent": "10"},
                        {"unitId": c["monthly"], "quantity": "2"},
                        {"name": "Installation", "unitPrice": "1000", "currency": "EUR"},
                    ],
                }
            },
        )
    )["addQuoteItems"]
    assert added["__typename"] == "QuotePayload", added
    return opportunity, added["quote"], c


def items(quote: dict) -> list[dict]:
    return quote["items"]


async def test_the_first_quote_is_active_and_price_book_items_take_the_books_price(api, writable):
    opportunity, quote, c = await quote_with_items(api, writable)
    assert quote["isActive"] is True and quote["version"] == 2
    lines = items(quote)
    assert Decimal(lines[0]["unitPrice"]["amount"]) == c["once_price"]
    assert Decimal(lines[0]["total"]["amount"]) == (3 * c["once_price"] * Decimal("0.9")).quantize(Decimal("0.01"))
    assert Decimal(quote["total"]["amount"]) == sum(Decimal(i["total"]["amount"]) for i in lines)
    second = (
        await api.data(
            CREATE_QUOTE, {"input": {"opportunityId": opportunity["id"], "name": "Offer B", "currency": "USD"}}
        )
    )["createQuote"]
    assert second["quote"]["isActive"] is False


async def test_manual_items_in_another_currency_are_converted_with_the_exchange_rates(api, writable):
    opportunity = await new_opportunity(api, writable)
    quote = (
        await api.data(
            CREATE_QUOTE, {"input": {"opportunityId": opportunity["id"], "name": "Manual", "currency": "EUR"}}
        )
    )["createQuote"]["quote"]
    async with writable.engine.connect() as conn:
        rates = {r.currency: r.rate for r in await conn.execute(select(tables.exchange_rates))}
    added = (
        await api.data(
            ADD_ITEMS,
            {
                "input": {
                    "quoteId": quote["id"],
                    "items": [{"name": "Consulting day", "unitPrice": "1000", "currency": "USD", "quantity": "2"}],
                }
            },
        )
    )["addQuoteItems"]
    line = items(added["quote"])[0]
    expected = (Decimal(1000) * rates["USD"] / rates["EUR"]).quantize(Decimal("0.01"))
    assert Decimal(line["unitPrice"]["amount"]) == expected and line["unitPrice"]["currency"] == "EUR"


async def test_item_errors_name_the_line_and_change_nothing(api, writable):
    opportunity, quote, c = await quote_with_items(api, writable)
    before = await count(writable.engine, tables.quote_items)
    bad = (
        await api.data(
            ADD_ITEMS, {"input": {"quoteId": quote["id"], "items": [{"unitId": c["once"]}, {"name": "No price"}]}}
        )
    )["addQuoteItems"]
    assert bad["__typename"] == "ValidationError" and bad["field"] == "items[1].unitPrice"
    negative = (
        await api.data(
            ADD_ITEMS, {"input": {"quoteId": quote["id"], "items": [{"name": "X", "unitPrice": "5", "quantity": "-1"}]}}
        )
    )["addQuoteItems"]
    assert negative["field"] == "items[0].quantity"
    assert await count(writable.engine, tables.quote_items) == before


def near(total: str, offset: str) -> str:
    """A round total just above or below `total` (within the 5% that rounding may move it)."""
    return str(Decimal(total).quantize(Decimal(10)) + Decimal(offset))


async def test_rounding_item_makes_the_total_exact_and_stays_last(api, writable):
    _, quote, _ = await quote_with_items(api, writable)
    target = near(quote["total"]["amount"], "3")
    rounded = (await api.data(ROUND, {"input": {"quoteId": quote["id"], "total": target}}))["addRoundingItem"]
    assert Decimal(rounded["quote"]["total"]["amount"]) == Decimal(target)
    assert items(rounded["quote"])[-1]["isRounding"] is True
    second = near(quote["total"]["amount"], "-7")
    again = (await api.data(ROUND, {"input": {"quoteId": quote["id"], "total": second}}))["addRoundingItem"]
    assert Decimal(again["quote"]["total"]["amount"]) == Decimal(second)
    assert sum(1 for i in items(again["quote"]) if i["isRounding"]) == 1


async def test_rounding_is_refused_below_zero_or_beyond_five_percent(api, writable):
    _, quote, _ = await quote_with_items(api, writable)
    total = Decimal(quote["total"]["amount"])
    for wrong in ("-1.00", str((total * Decimal("1.2")).quantize(Decimal("0.01"))), "0.00"):
        refused = (await api.data(ROUND, {"input": {"quoteId": quote["id"], "total": wrong}}))["addRoundingItem"]
        assert refused["__typename"] == "ValidationError" and refused["field"] == "total", wrong
    assert not any(i["isRounding"] for i in items(quote))


async def test_active_quote_switches_and_cannot_be_deleted(api, writable):
    opportunity, quote, _ = await quote_with_items(api, writable)
    copy = (await api.data(DUPLICATE, {"input": {"id": quote["id"]}}))["duplicateQuote"]["quote"]
    assert copy["isActive"] is False and len(items(copy)) == len(items(quote))
    refused = (await api.data(DELETE_QUOTE, {"input": {"id": quote["id"]}}))["deleteQuote"]
    assert refused["__typename"] == "ConflictError"
    activated = (await api.data(ACTIVATE, {"input": {"id": copy["id"]}}))["makeQuoteActive"]
    assert activated["quote"]["isActive"] is True
    deleted = (await api.data(DELETE_QUOTE, {"input": {"id": quote["id"]}}))["deleteQuote"]
    assert deleted["__typename"] == "DeletedPayload"
    pk = ids.decode(opportunity["id"])[1]
    assert (
        await count(writable.engine, tables.quotes, tables.quotes.c.opportunity_id == pk, tables.quotes.c.is_active)
        == 1
    )


SET_PRICE = """mutation($input: SetPriceInput!) { setPrice(input: $input) { __typename } }"""


async def test_changing_currency_takes_the_books_prices_converts_manual_items_and_keeps_discounts(api, writable):
    _, quote, c = await quote_with_items(api, writable)
    for unit, price in ((c["once"], "5000"), (c["monthly"], "900")):
        await api.data(
            SET_PRICE,
            {"input": {"priceBookId": c["book"], "unitId": unit, "price": {"amount": price, "currency": "NOK"}}},
        )
    changed = (await api.data(CURRENCY, {"input": {"id": quote["id"], "currency": "NOK"}}))["changeQuoteCurrency"]
    assert changed["__typename"] == "QuotePayload", changed
    lines = items(changed["quote"])
    assert changed["quote"]["currency"] == "NOK" and all(i["unitPrice"]["currency"] == "NOK" for i in lines)
    assert [Decimal(i["unitPrice"]["amount"]) for i in lines[:2]] == [Decimal(5000), Decimal(900)]
    assert [i["discountPercent"] for i in lines] == [i["discountPercent"] for i in items(quote)]
    async with writable.engine.connect() as conn:
        from sqlalchemy import select

        rates = {r.currency: r.rate for r in await conn.execute(select(tables.exchange_rates))}
    manual = (Decimal(1000) * rates["EUR"] / rates["NOK"]).quantize(Decimal("0.01"))
    assert Decimal(lines[2]["unitPrice"]["amount"]) == manual


async def test_a_missing_price_in_the_new_currency_names_the_item_and_changes_nothing(api, writable):
    _, quote, c = await quote_with_items(api, writable)
    await api.data(
        SET_PRICE,
        {"input": {"priceBookId": c["book"], "unitId": c["once"], "price": {"amount": "60", "currency": "CHF"}}},
    )
    refused = (await api.data(CURRENCY, {"input": {"id": quote["id"], "currency": "CHF"}}))["changeQuoteCurrency"]
    assert refused["__typename"] == "ValidationError" and refused["field"] == "currency"
    monthly_name = items(quote)[1]["name"]
    assert "no CHF price" in refused["message"] and monthly_name in refused["message"]
    assert await count(writable.engine, tables.quote_items, tables.quote_items.c.currency == "CHF") == 0


async def test_selling_locks_the_opportunity_and_makes_one_contract_per_item_adding_up_to_the_total(api, writable):
    opportunity, quote, c = await quote_with_items(api, writable)
    target = near(quote["total"]["amount"], "-1")
    await api.data(ROUND, {"input": {"quoteId": quote["id"], "total": target}})
    sold = (await api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]
    assert sold["__typename"] == "OpportunityPayload", sold
    o = sold["opportunity"]
    assert o["stage"] == "WON" and o["locked"] is True
    assert Decimal(o["actualRevenue"]["amount"]) == Decimal(target) and o["actualRevenue"]["currency"] == "EUR"
    contracts = o["contracts"]
    assert len(contracts) == 3
    assert sum(Decimal(k["value"]["amount"]) for k in contracts) == Decimal(target)
    kinds = sorted(k["kind"] for k in contracts)
    assert kinds == ["ONE_TIME", "ONE_TIME", "TIME_BASED"]
    time_based = next(k for k in contracts if k["kind"] == "TIME_BASED")
    assert time_based["endsOn"] > time_based["startsOn"]

    locked_edit = (
        await api.data(ADD_ITEMS, {"input": {"quoteId": quote["id"], "items": [{"name": "Extra", "unitPrice": "1"}]}})
    )["addQuoteItems"]
    assert locked_edit["__typename"] == "LockedError"
    twice = (await api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]
    assert twice["__typename"] == "ConflictError"

    upsell = (await api.data(UPSELL, {"input": {"contractId": time_based["id"]}}))["createUpsellOpportunity"]
    assert upsell["opportunity"]["stage"] == "PROSPECTING"
    assert upsell["opportunity"]["expectedCloseDate"] == time_based["endsOn"]
    assert (
        upsell["opportunity"]["account"]["id"]
        == (
            await api.data(
                "query($id: ID!) { node(id: $id) { ... on Opportunity { account { id } } } }", {"id": opportunity["id"]}
            )
        )["node"]["account"]["id"]
    )
    one_time = next(k for k in contracts if k["kind"] == "ONE_TIME")
    refused = (await api.data(UPSELL, {"input": {"contractId": one_time["id"]}}))["createUpsellOpportunity"]
    assert refused["__typename"] == "ValidationError" and refused["field"] == "contractId"


async def test_unlock_reopens_for_edits_and_selling_again_makes_contracts_of_the_new_quote(api, writable):
    opportunity, quote, _ = await quote_with_items(api, writable)
    await api.data(SELL, {"input": {"id": opportunity["id"]}})
    reopened = (await api.data(UNLOCK, {"input": {"id": opportunity["id"]}}))["unlockOpportunity"]["opportunity"]
    assert reopened["locked"] is False and reopened["stage"] == "NEGOTIATION" and reopened["contracts"] == []
    first_item = items(quote)[0]["id"]
    await api.data(REMOVE_ITEM, {"input": {"id": first_item}})
    again = (await api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]["opportunity"]
    assert len(again["contracts"]) == len(items(quote)) - 1


async def test_selling_needs_an_active_quote_with_items(api, writable):
    opportunity = await new_opportunity(api, writable)
    none = (await api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]
    assert none["__typename"] == "ValidationError" and none["field"] == "activeQuote"
    await api.data(CREATE_QUOTE, {"input": {"opportunityId": opportunity["id"], "name": "Empty", "currency": "EUR"}})
    empty = (await api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]
    assert empty["__typename"] == "ValidationError"


async def test_concurrent_sales_of_one_opportunity_make_exactly_one_set_of_contracts(api, writable):
    """Ten clients sell the same opportunity at once: one wins, the others get a ConflictError."""
    opportunity, quote, _ = await quote_with_items(api, writable)
    read = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Opportunity { version } } }", {"id": opportunity["id"]}
    )
    version = read["node"]["version"]
    outcomes = await asyncio.gather(
        *(api.data(SELL, {"input": {"id": opportunity["id"], "version": version}}) for _ in range(10))
    )
    kinds = sorted(o["markOpportunitySold"]["__typename"] for o in outcomes)
    assert kinds == ["ConflictError"] * 9 + ["OpportunityPayload"]
    pk = ids.decode(opportunity["id"])[1]
    assert await count(writable.engine, tables.contracts, tables.contracts.c.opportunity_id == pk) == len(items(quote))
    async with writable.engine.connect() as conn:
        won = (
            await conn.execute(
                select(func.count())
                .select_from(tables.outbox_events)
                .where(and_(tables.outbox_events.c.type == "OpportunityWon", tables.outbox_events.c.entity_id == pk))
            )
        ).scalar_one()
    assert won == 1


async def test_a_quotes_history_records_its_item_changes(api, writable):
    _, quote, _ = await quote_with_items(api, writable)
    first = items(quote)[0]
    await api.data(UPDATE_ITEM, {"input": {"id": first["id"], "quantity": "7"}})
    await api.data(REMOVE_ITEM, {"input": {"id": items(quote)[1]["id"]}})
    history = await api.data(
        'query($id: ID!) { node(id: $id) { ... on Quote { history(filter: {field: "items"}) '
        "{ edges { node { oldValue newValue } } } } } }",
        {"id": quote["id"]},
    )
    changes = [(e["node"]["oldValue"], e["node"]["newValue"]) for e in history["node"]["history"]["edges"]]
    assert len(changes) == 5  # three lines added, one changed, one removed
    assert changes[3][0].startswith(first["name"]) and " 7 × " in changes[3][1]
    assert changes[4][1] is None


UPDATE_QUOTE = doc("updateQuote", "UpdateQuoteInput", "QuotePayload", "quote { id name validFrom validUntil version }")


async def test_update_quote_changes_what_is_sent_and_checks_the_validity_period(api, writable):
    _, quote, _ = await quote_with_items(api, writable)
    changed = await api.data(
        UPDATE_QUOTE,
        {"input": {"id": quote["id"], "name": "Offer A, final", "validFrom": "2026-07-01", "validUntil": "2026-07-31"}},
    )
    assert changed["updateQuote"]["quote"]["name"] == "Offer A, final"
    assert changed["updateQuote"]["quote"]["validUntil"] == "2026-07-31"
    backwards = await api.data(UPDATE_QUOTE, {"input": {"id": quote["id"], "validUntil": "2026-06-01"}})
    assert (
        backwards["updateQuote"]["__typename"] == "ValidationError"
        and backwards["updateQuote"]["field"] == "validUntil"
    )
    stale = await api.data(UPDATE_QUOTE, {"input": {"id": quote["id"], "version": quote["version"], "name": "Old"}})
    assert stale["updateQuote"]["__typename"] == "ConflictError"


async def test_concurrent_sales_through_two_server_processes_make_one_set_of_contracts(pg_api, pg_writable, tmp_path):
    """The same race with the requests spread over two uvicorn worker processes (PostgreSQL decides;
    several server processes need PostgreSQL)."""
    import httpx

    from tests.support.server import start_server

    api, writable = pg_api, pg_writable
    opportunity, quote, _ = await quote_with_items(api, writable)
    server = start_server(writable.url, tmp_path, workers=2)
    try:
        limits = httpx.Limits(max_connections=20, max_keepalive_connections=0)  # new connections reach both workers
        async with httpx.AsyncClient(
            base_url=server.url, limits=limits, timeout=30, headers={"Authorization": f"Bearer {writable.admin_token}"}
        ) as http:
            responses = await asyncio.gather(
                *(
                    http.post("/graphql", json={"query": SELL, "variables": {"input": {"id": opportunity["id"]}}})
                    for _ in range(20)
                )
            )
    finally:
        server.stop()
    kinds = sorted(r.json()["data"]["markOpportunitySold"]["__typename"] for r in responses)
    assert kinds == ["ConflictError"] * 19 + ["OpportunityPayload"]
    pk = ids.decode(opportunity["id"])[1]
    assert await count(writable.engine, tables.contracts, tables.contracts.c.opportunity_id == pk) == len(items(quote))


async def sale_is_consistent(writable, opportunity_id: str) -> bool:
    """Whether a won opportunity's contracts and actual revenue equal its active quote's total now."""
    from sqlalchemy import select

    o, q, i, c = tables.opportunities, tables.quotes, tables.quote_items, tables.contracts
    pk = ids.decode(opportunity_id)[1]
    async with writable.engine.connect() as conn:
        row = (await conn.execute(select(o.c.stage, o.c.actual_revenue_amount).where(o.c.id == pk))).one()
        quote_total = (
            await conn.execute(
                select(func.coalesce(func.sum(i.c.total), 0))
                .join(q, q.c.id == i.c.quote_id)
                .where(q.c.opportunity_id == pk, q.c.is_active)
            )
        ).scalar_one()
        contracts = (
            await conn.execute(select(func.coalesce(func.sum(c.c.value_amount), 0)).where(c.c.opportunity_id == pk))
        ).scalar_one()
    if row.stage != "WON":
        return contracts == 0
    return Decimal(contracts) == Decimal(quote_total) == Decimal(row.actual_revenue_amount)


async def test_a_sale_racing_a_quote_edit_never_sells_a_quote_other_than_the_active_one(api, writable):
    for _ in range(8):
        opportunity, quote, _ = await quote_with_items(api, writable)
        other = (
            await api.data(
                CREATE_QUOTE, {"input": {"opportunityId": opportunity["id"], "name": "Other", "currency": "EUR"}}
            )
        )["createQuote"]["quote"]
        await api.data(ADD_ITEMS, {"input": {"quoteId": other["id"], "items": [{"name": "Big", "unitPrice": "99999"}]}})
        sale, edit, switch = await asyncio.gather(
            api.data(SELL, {"input": {"id": opportunity["id"]}}),
            api.data(ADD_ITEMS, {"input": {"quoteId": quote["id"], "items": [{"name": "Late", "unitPrice": "50"}]}}),
            api.data(ACTIVATE, {"input": {"id": other["id"]}}),
        )
        assert await sale_is_consistent(writable, opportunity["id"]), (sale, edit, switch)


async def test_item_edits_with_a_stale_quote_version_are_conflicts(api, writable):
    _, quote, _ = await quote_with_items(api, writable)
    first, second = items(quote)[0]["id"], items(quote)[1]["id"]
    fresh = await api.data(UPDATE_ITEM, {"input": {"id": first, "quantity": "4", "version": quote["version"]}})
    assert fresh["updateQuoteItem"]["__typename"] == "QuoteItemPayload"
    stale = await api.data(UPDATE_ITEM, {"input": {"id": first, "quantity": "5", "version": quote["version"]}})
    assert stale["updateQuoteItem"]["__typename"] == "ConflictError"
    gone = await api.data(REMOVE_ITEM, {"input": {"id": second, "version": quote["version"]}})
    assert gone["removeQuoteItem"]["__typename"] == "ConflictError"
    assert await count(writable.engine, tables.quote_items, tables.quote_items.c.id == ids.decode(second)[1]) == 1


async def priced_units(writable, book: str, how_many: int) -> list[tuple[str, Decimal]]:
    """`how_many` units with an EUR price in the book, and those prices."""
    e = tables.price_entries
    async with writable.engine.connect() as conn:
        rows = await conn.execute(
            select(e.c.unit_id, e.c.price_amount)
            .where(e.c.price_book_id == ids.decode_as(book, "PriceBook"), e.c.price_currency == "EUR")
            .order_by(e.c.unit_id)
            .limit(how_many)
        )
        found = [(ids.encode("ProductUnit", r.unit_id), r.price_amount) for r in rows]
    assert len(found) == how_many, found
    return found


async def test_more_lines_cost_no_more_statements_to_add_or_to_sell(api, writable):
    """Adding five price-book lines costs the statements one line costs, and so does selling a quote of
    five lines: the units, their products and prices are read, and the items and contracts written, in one
    statement each. Each line still gets its own price, and each contract its own line."""
    c = await catalog(writable)
    units = await priced_units(writable, c["book"], 5)
    cost: dict[int, tuple[int, int]] = {}
    for lines in (1, 5):
        opportunity = await new_opportunity(api, writable)
        quote = (
            await api.data(
                CREATE_QUOTE,
                {
                    "input": {
                        "opportunityId": opportunity["id"],
                        "name": "Q",
                        "currency": "EUR",
                        "priceBookId": c["book"],
                    }
                },
            )
        )["createQuote"]["quote"]
        wanted = units[:lines]
        added = await api.post(
            ADD_ITEMS,
            {
                "input": {
                    "quoteId": quote["id"],
                    "items": [{"unitId": u, "quantity": str(n + 1)} for n, (u, _) in enumerate(wanted)],
                }
            },
        )
        got = added.json()["data"]["addQuoteItems"]["quote"]["items"]
        assert [(Decimal(i["unitPrice"]["amount"]), Decimal(i["quantity"])) for i in got] == [
            (price, Decimal(n + 1)) for n, (_, price) in enumerate(wanted)
        ]
        sold = await api.post(SELL, {"input": {"id": opportunity["id"]}})
        contracts = sold.json()["data"]["markOpportunitySold"]["opportunity"]["contracts"]
        async with writable.engine.connect() as conn:
            pairs = await conn.execute(
                select(tables.contracts.c.quote_item_id, tables.contracts.c.quantity).where(
                    tables.contracts.c.opportunity_id == ids.decode_as(opportunity["id"], "Opportunity")
                )
            )
            by_item = {r.quote_item_id: r.quantity for r in pairs}
        assert len(contracts) == lines
        assert {ids.encode("QuoteItem", k): v for k, v in by_item.items()} == {
            i["id"]: Decimal(i["quantity"]) for i in got
        }
        cost[lines] = (statements(added), statements(sold))
    assert cost[5] == cost[1], cost
