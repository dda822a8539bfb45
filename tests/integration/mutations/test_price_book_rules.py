"""Price-book rules over HTTP (issue 18, item 3): books for the agreements of linked accounts, regions, prices per
brand and product version, the book's history, and copying products and bundles and moving bundles; each with bad
input (nothing changes) and the roles that may not (reps and partners hold no catalog:write)."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select

from domain.catalog import countries_of
from gql import ids
from gql.auth import issue_token
from persistence import tables

ERRORS = "... on UserError { code message } ... on ValidationError { field } ... on NotFoundError { entityType }"
BOOK = "priceBook { id name version regions brands productVersions accounts { id } }"
BUNDLE = "bundle { id name code description active priceBook { id } components { weight unit { id } } }"
_n = itertools.count(1)


def mutation(name: str, input_type: str, selection: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename {selection} {ERRORS} }} }}"


CREATE_ACCOUNT = mutation("createAccount", "CreateAccountInput", "... on AccountPayload { account { id } }")
UPDATE_ACCOUNT = mutation("updateAccount", "UpdateAccountInput", "... on AccountPayload { account { id } }")
CREATE_OPPORTUNITY = mutation(
    "createOpportunity", "CreateOpportunityInput", "... on OpportunityPayload { opportunity { id } }"
)
CREATE_BOOK = mutation("createPriceBook", "CreatePriceBookInput", f"... on PriceBookPayload {{ {BOOK} }}")
UPDATE_BOOK = mutation("updatePriceBook", "UpdatePriceBookInput", f"... on PriceBookPayload {{ {BOOK} }}")
LINK = mutation("linkPriceBookAccount", "PriceBookAccountInput", f"... on PriceBookPayload {{ {BOOK} }}")
UNLINK = mutation("unlinkPriceBookAccount", "PriceBookAccountInput", f"... on PriceBookPayload {{ {BOOK} }}")
CREATE_PRODUCT = mutation(
    "createProduct", "CreateProductInput", "... on ProductPayload { product { id code units { id name } } }"
)
ADD_UNIT = mutation("addProductUnit", "AddProductUnitInput", "... on ProductUnitPayload { unit { id } }")
SET_PRICE = mutation(
    "setPrice",
    "SetPriceInput",
    "... on PriceEntryPayload { priceEntry { id brand productVersion price { amount currency } } }",
)
REMOVE_PRICE = mutation("removePrice", "RemovePriceInput", "... on DeletedPayload { deletedId }")
CREATE_QUOTE = mutation(
    "createQuote", "CreateQuoteInput", "... on QuotePayload { quote { id items { unitPrice { amount } } } }"
)
UPDATE_QUOTE = mutation(
    "updateQuote", "UpdateQuoteInput", "... on QuotePayload { quote { id brand items { unitPrice { amount } } } }"
)
ADD_ITEMS = mutation(
    "addQuoteItems", "AddQuoteItemsInput", "... on QuotePayload { quote { id items { unitPrice { amount } } } }"
)
CURRENCY = mutation("changeQuoteCurrency", "ChangeQuoteCurrencyInput", "... on QuotePayload { quote { id } }")
COPY_PRODUCT = mutation(
    "copyProduct",
    "CopyProductInput",
    "... on ProductPayload { product { id code name units { id name recurring periodMonths "
    "prices { brand productVersion price { amount currency } priceBook { id } } } } }",
)
CREATE_BUNDLE = mutation("createBundle", "CreateBundleInput", f"... on BundlePayload {{ {BUNDLE} }}")
UPDATE_BUNDLE = mutation("updateBundle", "UpdateBundleInput", f"... on BundlePayload {{ {BUNDLE} }}")
COPY_BUNDLE = mutation("copyBundle", "CopyBundleInput", f"... on BundlePayload {{ {BUNDLE} }}")
MOVE_BUNDLE = mutation("moveBundle", "MoveBundleInput", f"... on BundlePayload {{ {BUNDLE} }}")
USABLE = "query($id: ID!) { node(id: $id) { ... on Account { usablePriceBooks { id name } } } }"
HISTORY = """query($id: ID!) { node(id: $id) { ... on PriceBook {
  history(first: 50) { totalCount nodes { field oldValue newValue oldNode { id } newNode { id } actor { id } } } } } }"""
BOOK_ACCOUNTS = "query($id: ID!) { node(id: $id) { ... on PriceBook { accounts { id } } } }"


async def ok(api, query: str, input_: dict, name: str, token: str | None = None) -> dict:
    result = (await api.data(query, {"input": input_}, token))[name]
    assert "Error" not in result["__typename"], result
    return result


async def refused(api, query: str, input_: dict, name: str, field: str, token: str | None = None) -> dict:
    result = (await api.data(query, {"input": input_}, token))[name]
    assert result["__typename"] == "ValidationError" and result["field"] == field, result
    return result


async def count(engine, table, *where) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def rows(engine, table, *where) -> list:
    async with engine.connect() as conn:
        return list(await conn.execute(select(table).where(*where)))


def pk(global_id: str) -> int:
    return ids.decode(global_id)[1]


async def account(api, country: str | None) -> str:
    made = await ok(
        api,
        CREATE_ACCOUNT,
        {"kind": "ORGANIZATION", "name": f"Customer {next(_n)}", "country": country},
        "createAccount",
    )
    return made["account"]["id"]


async def opportunity(api, account_id: str) -> str:
    made = await ok(api, CREATE_OPPORTUNITY, {"name": f"Deal {next(_n)}", "accountId": account_id}, "createOpportunity")
    return made["opportunity"]["id"]


async def book(api, **extra) -> dict:
    return (await ok(api, CREATE_BOOK, {"name": f"Book {next(_n)}", **extra}, "createPriceBook"))["priceBook"]


async def unit(api) -> str:
    product = (
        await ok(
            api, CREATE_PRODUCT, {"name": "Gadget", "code": f"GAD-{next(_n)}", "category": "HARDWARE"}, "createProduct"
        )
    )["product"]
    return (await ok(api, ADD_UNIT, {"productId": product["id"], "name": "piece"}, "addProductUnit"))["unit"]["id"]


async def price(api, book_id: str, unit_id: str, amount: str, **extra) -> dict:
    given = {"priceBookId": book_id, "unitId": unit_id, "price": {"amount": amount, "currency": "EUR"}, **extra}
    return (await ok(api, SET_PRICE, given, "setPrice"))["priceEntry"]


async def quote(api, opportunity_id: str, book_id: str, **extra) -> dict:
    given = {"opportunityId": opportunity_id, "name": "Offer", "currency": "EUR", "priceBookId": book_id, **extra}
    return (await api.data(CREATE_QUOTE, {"input": given}))["createQuote"]


async def usable(api, account_id: str, token: str | None = None) -> list[str]:
    node = (await api.data(USABLE, {"id": account_id}, token))["node"]
    return [b["id"] for b in node["usablePriceBooks"]]


async def usable_by_rule(engine, account_id: str) -> list[str]:
    """The books a quote for the account may use, recomputed in plain Python from the rows: active, for every
    customer or linked to it, and with its country in the regions; ordered by name."""
    books = await rows(engine, tables.price_books)
    links = {(r.price_book_id, r.account_id) for r in await rows(engine, tables.price_book_accounts)}
    restricted = {b for b, _ in links}
    country = (await rows(engine, tables.accounts, tables.accounts.c.id == pk(account_id)))[0].country
    found = [
        b
        for b in books
        if b.active
        and (b.id not in restricted or (b.id, pk(account_id)) in links)
        and (not b.regions or (country or "").upper() in countries_of(b.regions))
    ]
    return [ids.encode("PriceBook", b.id) for b in sorted(found, key=lambda b: (b.name, b.id))]


async def rep_token(writable) -> str:
    rep = (await rows(writable.engine, tables.users, tables.users.c.role == "SALES_REP"))[0]
    return await issue_token(writable.engine, name="pricebook rep", user_id=rep.id)


# --- books for agreements ---


async def test_an_agreement_book_prices_quotes_only_for_its_linked_accounts(api, writable):
    mine, other = await account(api, "NO"), await account(api, "NO")
    agreement = await book(api, accountIds=[mine])
    assert agreement["accounts"] == [{"id": mine}]
    general = await book(api)
    widget = await unit(api)
    await price(api, agreement["id"], widget, "80.00")
    for who in (mine, other):
        assert await usable(api, who) == await usable_by_rule(writable.engine, who)
    assert agreement["id"] in await usable(api, mine) and agreement["id"] not in await usable(api, other)
    assert general["id"] in await usable(api, other)

    before = await count(writable.engine, tables.quotes)
    wrong = await quote(api, await opportunity(api, other), agreement["id"])
    assert wrong["__typename"] == "ValidationError" and wrong["field"] == "priceBookId", wrong
    assert agreement["id"] in wrong["message"] and other in wrong["message"] and agreement["name"] in wrong["message"]
    assert await count(writable.engine, tables.quotes) == before

    offer = await quote(api, await opportunity(api, mine), agreement["id"])
    assert offer["__typename"] == "QuotePayload", offer
    added = await ok(api, ADD_ITEMS, {"quoteId": offer["quote"]["id"], "items": [{"unitId": widget}]}, "addQuoteItems")
    assert added["quote"]["items"][0]["unitPrice"]["amount"] == "80.00"

    # The agreement ends for `mine` and begins for `other`: the quote may no longer be priced from the book.
    await ok(api, UNLINK, {"priceBookId": agreement["id"], "accountId": mine}, "unlinkPriceBookAccount")
    linked = await ok(api, LINK, {"priceBookId": agreement["id"], "accountId": other}, "linkPriceBookAccount")
    assert linked["priceBook"]["accounts"] == [{"id": other}]
    items = await count(writable.engine, tables.quote_items)
    await refused(
        api, ADD_ITEMS, {"quoteId": offer["quote"]["id"], "items": [{"unitId": widget}]}, "addQuoteItems", "quoteId"
    )
    assert await count(writable.engine, tables.quote_items) == items
    for who in (mine, other):
        assert await usable(api, who) == await usable_by_rule(writable.engine, who)

    again = await refused(
        api, LINK, {"priceBookId": agreement["id"], "accountId": other}, "linkPriceBookAccount", "accountId"
    )
    assert "already" in again["message"]
    await refused(
        api, UNLINK, {"priceBookId": agreement["id"], "accountId": mine}, "unlinkPriceBookAccount", "accountId"
    )
    missing = (
        await api.data(LINK, {"input": {"priceBookId": agreement["id"], "accountId": ids.encode("Account", 1_999_999)}})
    )["linkPriceBookAccount"]
    assert missing["__typename"] == "NotFoundError"
    assert (
        await count(
            writable.engine,
            tables.price_book_accounts,
            tables.price_book_accounts.c.price_book_id == pk(agreement["id"]),
        )
        == 1
    )


async def test_an_account_with_an_agreement_book_is_not_deleted_until_it_is_unlinked(api, writable):
    customer = await account(api, "SE")
    agreement = await book(api, accountIds=[customer])
    delete = mutation("deleteAccount", "DeleteAccountInput", "... on DeletedPayload { deletedId }")
    held = (await api.data(delete, {"input": {"id": customer}}))["deleteAccount"]
    assert held["__typename"] == "ConflictError" and agreement["id"] in held["message"], held
    assert await count(writable.engine, tables.accounts, tables.accounts.c.id == pk(customer)) == 1
    await ok(api, UNLINK, {"priceBookId": agreement["id"], "accountId": customer}, "unlinkPriceBookAccount")
    assert (await api.data(delete, {"input": {"id": customer}}))["deleteAccount"]["__typename"] == "DeletedPayload"


async def test_reps_and_partners_see_no_agreement_book_of_accounts_they_may_not_see_and_may_not_link(api, writable):
    hidden = await account(api, "NO")  # the admin's, unmanaged: neither the rep nor the partner sees it
    agreement = await book(api, accountIds=[hidden])
    rep = await rep_token(writable)
    missing_book = ids.encode("PriceBook", 1_999_999)
    for token in (rep, writable.partner_token):
        # The book is for an account they may not see: it is answered as a book that does not exist.
        assert (await api.data(BOOK_ACCOUNTS, {"id": agreement["id"]}, token))["node"] is None
        assert (await api.data(BOOK_ACCOUNTS, {"id": missing_book}, token))["node"] is None
        for query in (LINK, UNLINK):
            response = await api.post(query, {"input": {"priceBookId": agreement["id"], "accountId": hidden}}, token)
            assert response.status_code == 403, response.text
            assert response.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    assert (
        await count(
            writable.engine,
            tables.price_book_accounts,
            tables.price_book_accounts.c.price_book_id == pk(agreement["id"]),
        )
        == 1
    )
    # The partner may quote, but only from books its accounts may use.
    o, a = tables.opportunities, tables.accounts
    async with writable.engine.connect() as conn:
        deal = (
            await conn.execute(
                select(o.c.id, o.c.account_id)
                .join(a, a.c.id == o.c.account_id)
                .where(
                    o.c.partner_id == writable.summary.partner_id,
                    o.c.locked.is_(False),
                    a.c.is_private.is_(False),
                )
                .order_by(o.c.id)
            )
        ).first()
    given = {
        "opportunityId": ids.encode("Opportunity", deal.id),
        "name": "Partner offer",
        "currency": "EUR",
        "priceBookId": agreement["id"],
    }
    answer = (await api.data(CREATE_QUOTE, {"input": given}, writable.partner_token))["createQuote"]
    none = (await api.data(CREATE_QUOTE, {"input": {**given, "priceBookId": missing_book}}, writable.partner_token))[
        "createQuote"
    ]
    assert answer["__typename"] == "NotFoundError", answer
    assert str(answer).replace(agreement["id"], "?") == str(none).replace(missing_book, "?")
    assert hidden not in answer["message"]  # the account the book is for is not named to who may not see it
    assert agreement["id"] not in await usable(api, ids.encode("Account", deal.account_id), writable.partner_token)
    # Linked to an account the rep sees too, the book is the rep's to see (and to quote from for that account).
    theirs = (await api.data("{ accounts(first: 1) { nodes { id } } }", token=rep))["accounts"]["nodes"][0]["id"]
    await ok(api, LINK, {"priceBookId": agreement["id"], "accountId": theirs}, "linkPriceBookAccount")
    shown = (await api.data(BOOK_ACCOUNTS, {"id": agreement["id"]}, rep))["node"]
    assert [a["id"] for a in shown["accounts"]] == [theirs]


# --- regions ---


async def test_a_book_limited_to_regions_cannot_price_a_quote_for_an_account_outside_them(api, writable):
    norway = await book(api, regions=["no"])
    assert norway["regions"] == ["NO"]
    nordics = await book(api, regions=["NORDICS"])
    danish, norwegian, nowhere = await account(api, "DK"), await account(api, "NO"), await account(api, None)
    before = await count(writable.engine, tables.quotes)
    wrong = await quote(api, await opportunity(api, danish), norway["id"])
    assert wrong["__typename"] == "ValidationError" and wrong["field"] == "priceBookId", wrong
    assert norway["name"] in wrong["message"] and "NO" in wrong["message"] and "is in DK" in wrong["message"]
    countryless = await quote(api, await opportunity(api, nowhere), norway["id"])
    assert countryless["__typename"] == "ValidationError" and "has no country" in countryless["message"]
    assert await count(writable.engine, tables.quotes) == before
    assert (await quote(api, await opportunity(api, norwegian), norway["id"]))["__typename"] == "QuotePayload"
    assert (await quote(api, await opportunity(api, danish), nordics["id"]))["__typename"] == "QuotePayload"
    for who in (danish, norwegian, nowhere):
        assert await usable(api, who) == await usable_by_rule(writable.engine, who)

    # A quote whose account moved out of the book's regions is not repriced from it.
    offer = await quote(api, await opportunity(api, norwegian), norway["id"])
    widget = await unit(api)
    await price(api, norway["id"], widget, "10.00")
    await ok(api, ADD_ITEMS, {"quoteId": offer["quote"]["id"], "items": [{"unitId": widget}]}, "addQuoteItems")
    await ok(api, UPDATE_ACCOUNT, {"id": norwegian, "country": "US"}, "updateAccount")
    moved = await refused(api, CURRENCY, {"id": offer["quote"]["id"], "currency": "USD"}, "changeQuoteCurrency", "id")
    assert "is in US" in moved["message"]

    books = await count(writable.engine, tables.price_books)
    bad = await refused(api, CREATE_BOOK, {"name": "Nowhere", "regions": ["Narnia"]}, "createPriceBook", "regions")
    assert "Narnia" in bad["message"]
    await refused(api, UPDATE_BOOK, {"id": norway["id"], "regions": ["NO", ""]}, "updatePriceBook", "regions")
    assert await count(writable.engine, tables.price_books) == books
    assert (await rows(writable.engine, tables.price_books, tables.price_books.c.id == pk(norway["id"])))[
        0
    ].regions == ["NO"]


# --- brands and product versions ---


def expected_price(prices: dict[tuple[str, str], str], brand: str | None, version: str | None) -> str | None:
    """The rule in plain words: for the brand and version, else the brand, else the version, else any."""
    for key in ((brand or "", version or ""), (brand or "", ""), ("", version or ""), ("", "")):
        if key in prices:
            return prices[key]
    return None


async def test_a_quote_takes_the_price_of_its_brand_and_product_version(api, writable):
    catalog = await book(api, brands=["Acme", "Zenith"], productVersions=["1", "2"])
    widget = await unit(api)
    prices = {("", ""): "100.00", ("Acme", ""): "90.00", ("Acme", "2"): "80.00", ("", "1"): "95.00"}
    for (brand, version), amount in prices.items():
        entry = await price(api, catalog["id"], widget, amount, brand=brand or None, productVersion=version or None)
        assert (entry["brand"], entry["productVersion"]) == (brand or None, version or None)
    customer = await account(api, "FI")
    for brand, version in itertools.product(("Acme", "Zenith", None), ("1", "2", None)):
        offer = await quote(api, await opportunity(api, customer), catalog["id"], brand=brand, productVersion=version)
        added = await ok(
            api, ADD_ITEMS, {"quoteId": offer["quote"]["id"], "items": [{"unitId": widget}]}, "addQuoteItems"
        )
        assert added["quote"]["items"][0]["unitPrice"]["amount"] == expected_price(prices, brand, version), (
            brand,
            version,
        )

    # A new brand reprices the quote's book items.
    offer = await quote(api, await opportunity(api, customer), catalog["id"], brand="Acme", productVersion="2")
    await ok(api, ADD_ITEMS, {"quoteId": offer["quote"]["id"], "items": [{"unitId": widget}]}, "addQuoteItems")
    changed = await ok(api, UPDATE_QUOTE, {"id": offer["quote"]["id"], "brand": "Zenith"}, "updateQuote")
    assert changed["quote"]["items"][0]["unitPrice"]["amount"] == expected_price(prices, "Zenith", "2")

    # Bad input changes nothing: a brand or version the book does not offer, taking out a priced brand.
    entries = await count(writable.engine, tables.price_entries)
    given = {"priceBookId": catalog["id"], "unitId": widget, "price": {"amount": "1.00", "currency": "EUR"}}
    await refused(api, SET_PRICE, {**given, "brand": "Other"}, "setPrice", "brand")
    await refused(api, SET_PRICE, {**given, "productVersion": "9"}, "setPrice", "productVersion")
    await refused(api, UPDATE_QUOTE, {"id": offer["quote"]["id"], "brand": "Other"}, "updateQuote", "brand")
    kept = await refused(api, UPDATE_BOOK, {"id": catalog["id"], "brands": ["Zenith"]}, "updatePriceBook", "brands")
    assert "Acme" in kept["message"]
    assert await count(writable.engine, tables.price_entries) == entries
    assert (await rows(writable.engine, tables.price_books, tables.price_books.c.id == pk(catalog["id"])))[
        0
    ].brands == ["Acme", "Zenith"]

    # Removing the brand's price removes only that one.
    removed = {"priceBookId": catalog["id"], "unitId": widget, "currency": "EUR", "brand": "Acme"}
    assert (await ok(api, REMOVE_PRICE, removed, "removePrice"))["deletedId"]
    left = {
        (r.brand, r.product_version)
        for r in await rows(writable.engine, tables.price_entries, tables.price_entries.c.unit_id == pk(widget))
    }
    assert left == set(prices) - {("Acme", "")}


# --- history ---


async def test_a_price_books_history_shows_its_changes_with_the_readers_rules(api, writable):
    hidden = await account(api, "NO")
    catalog = await book(api, accountIds=[hidden], brands=["Acme"])
    await ok(api, UPDATE_BOOK, {"id": catalog["id"], "name": "Renamed book", "regions": ["EU"]}, "updatePriceBook")
    widget = await unit(api)
    await price(api, catalog["id"], widget, "10.00")
    await price(api, catalog["id"], widget, "12.00")
    await ok(
        api,
        CREATE_BUNDLE,
        {
            "priceBookId": catalog["id"],
            "name": "Kit",
            "code": "KIT",
            "components": [{"unitId": widget, "weight": "100"}],
        },
        "createBundle",
    )
    history = (await api.data(HISTORY, {"id": catalog["id"]}))["node"]["history"]
    fields = [e["field"] for e in history["nodes"]]
    assert fields == ["created", "accounts", "name", "regions", "prices", "prices", "bundles"], fields
    by_field = {e["field"]: e for e in history["nodes"]}
    assert by_field["accounts"]["newValue"] == hidden and by_field["accounts"]["newNode"] == {"id": hidden}
    assert (by_field["name"]["oldValue"], by_field["name"]["newValue"]) == (catalog["name"], "Renamed book")
    assert (
        history["nodes"][5]["oldValue"]["price"]["amount"] == "10.00"
        and history["nodes"][5]["newValue"]["price"]["amount"] == "12.00"
    )
    assert history["nodes"][5]["newValue"]["unit"] == widget
    assert all(e["actor"] == {"id": ids.encode("User", writable.summary.admin_user_id)} for e in history["nodes"])
    assert history["totalCount"] == await count(
        writable.engine,
        tables.audit_entries,
        tables.audit_entries.c.entity_type == "PriceBook",
        tables.audit_entries.c.entity_id == pk(catalog["id"]),
    )
    # A rep who sees none of its accounts sees no such book; once it is linked to an account the rep sees too,
    # the rep reads the history, but not the account it may not see; a partner reads none of it.
    rep = await rep_token(writable)
    assert (await api.data(HISTORY, {"id": catalog["id"]}, rep))["node"] is None
    theirs = (await api.data("{ accounts(first: 1) { nodes { id } } }", token=rep))["accounts"]["nodes"][0]["id"]
    await ok(api, LINK, {"priceBookId": catalog["id"], "accountId": theirs}, "linkPriceBookAccount")
    seen_by_rep = (await api.data(HISTORY, {"id": catalog["id"]}, rep))["node"]["history"]
    linked = [(e["newValue"], e["newNode"]) for e in seen_by_rep["nodes"] if e["field"] == "accounts"]
    assert linked == [(None, None), (theirs, {"id": theirs})]
    as_partner = (await api.data(HISTORY, {"id": catalog["id"]}, writable.partner_token))["node"]
    assert as_partner is None or as_partner["history"]["totalCount"] == 0


# --- copy and move ---


async def test_copy_a_product_with_its_units_and_prices_into_the_same_or_another_book(api, writable):
    first, second = await book(api, brands=["Acme"]), await book(api)
    widget = await unit(api)
    await price(api, first["id"], widget, "10.00")
    await price(api, first["id"], widget, "9.00", brand="Acme")
    await price(api, second["id"], widget, "11.00")
    source = (await rows(writable.engine, tables.product_units, tables.product_units.c.id == pk(widget)))[0]
    original = ids.encode("Product", source.product_id)

    copy = (
        await ok(api, COPY_PRODUCT, {"id": original, "code": f"COPY-{next(_n)}", "name": "Gadget II"}, "copyProduct")
    )["product"]
    assert copy["name"] == "Gadget II" and [u["name"] for u in copy["units"]] == ["piece"]
    copied = {(p["priceBook"]["id"], p["brand"], p["price"]["amount"]) for p in copy["units"][0]["prices"]}
    assert copied == {(first["id"], None, "10.00"), (first["id"], "Acme", "9.00"), (second["id"], None, "11.00")}

    into = await book(api)
    moved = (
        await ok(
            api,
            COPY_PRODUCT,
            {"id": original, "code": f"COPY-{next(_n)}", "fromPriceBookId": second["id"], "toPriceBookId": into["id"]},
            "copyProduct",
        )
    )["product"]
    assert {(p["priceBook"]["id"], p["price"]["amount"]) for p in moved["units"][0]["prices"]} == {
        (into["id"], "11.00")
    }

    products, entries = (
        await count(writable.engine, tables.products),
        await count(writable.engine, tables.price_entries),
    )
    await refused(api, COPY_PRODUCT, {"id": original, "code": copy["code"]}, "copyProduct", "code")
    await refused(
        api,
        COPY_PRODUCT,
        {"id": original, "code": "NEW-1", "toPriceBookId": into["id"]},
        "copyProduct",
        "fromPriceBookId",
    )
    # The Acme price cannot go into a book without that brand.
    await refused(
        api,
        COPY_PRODUCT,
        {"id": original, "code": "NEW-2", "fromPriceBookId": first["id"], "toPriceBookId": into["id"]},
        "copyProduct",
        "brand",
    )
    assert (await count(writable.engine, tables.products), await count(writable.engine, tables.price_entries)) == (
        products,
        entries,
    )


async def test_copy_a_bundle_move_it_to_another_book_and_describe_it(api, writable):
    first, second = await book(api), await book(api)
    a, b = await unit(api), await unit(api)
    parts = [{"unitId": a, "weight": "60"}, {"unitId": b, "weight": "40"}]
    made = (
        await ok(
            api,
            CREATE_BUNDLE,
            {
                "priceBookId": first["id"],
                "name": "Starter",
                "code": "ST",
                "description": "For new teams",
                "components": parts,
            },
            "createBundle",
        )
    )["bundle"]
    assert made["description"] == "For new teams"
    described = await ok(api, UPDATE_BUNDLE, {"id": made["id"], "description": "For small teams"}, "updateBundle")
    assert described["bundle"]["description"] == "For small teams"

    bundles = await count(writable.engine, tables.bundles)
    await refused(api, COPY_BUNDLE, {"id": made["id"]}, "copyBundle", "code")  # same book, same code
    assert await count(writable.engine, tables.bundles) == bundles
    twin = (await ok(api, COPY_BUNDLE, {"id": made["id"], "code": "ST-2", "name": "Starter plus"}, "copyBundle"))[
        "bundle"
    ]
    assert (twin["priceBook"]["id"], twin["code"], twin["name"], twin["description"]) == (
        first["id"],
        "ST-2",
        "Starter plus",
        "For small teams",
    )
    assert twin["components"] == described["bundle"]["components"]
    elsewhere = (await ok(api, COPY_BUNDLE, {"id": made["id"], "priceBookId": second["id"]}, "copyBundle"))["bundle"]
    assert (elsewhere["priceBook"]["id"], elsewhere["code"]) == (second["id"], "ST")

    # Moving: not into its own book, not where its code is taken; then into a third book.
    third = await book(api)
    await refused(api, MOVE_BUNDLE, {"id": twin["id"], "priceBookId": first["id"]}, "moveBundle", "priceBookId")
    await refused(api, MOVE_BUNDLE, {"id": made["id"], "priceBookId": second["id"]}, "moveBundle", "code")
    assert (await rows(writable.engine, tables.bundles, tables.bundles.c.id == pk(made["id"])))[0].price_book_id == pk(
        first["id"]
    )
    moved = (await ok(api, MOVE_BUNDLE, {"id": made["id"], "priceBookId": third["id"]}, "moveBundle"))["bundle"]
    assert moved["priceBook"]["id"] == third["id"] and moved["components"] == described["bundle"]["components"]
    history = (await api.data(HISTORY, {"id": first["id"]}))["node"]["history"]["nodes"]
    assert [(e["field"], e["oldValue"], e["newValue"]) for e in history if e["field"] == "bundles"][-1] == (
        "bundles",
        "ST Starter",
        None,
    )

    rep = await rep_token(writable)
    for token in (rep, writable.partner_token):
        for query, input_ in (
            (COPY_BUNDLE, {"id": made["id"], "code": "X"}),
            (MOVE_BUNDLE, {"id": made["id"], "priceBookId": first["id"]}),
            (COPY_PRODUCT, {"id": ids.encode("Product", 1), "code": "X"}),
        ):
            response = await api.post(query, {"input": input_}, token)
            assert (
                response.status_code == 403
                and response.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
            )
    assert await count(writable.engine, tables.bundles) == bundles + 2


async def test_the_books_accounts_may_use_cost_the_same_statements_for_one_account_or_twenty(api, writable):
    from tests.conftest import statements

    await book(api, accountIds=[await account(api, "NO")], regions=["NORDICS"])
    await api.post("{ __typename }")  # the token, kept from now on
    query = "query($n: Int!) { accounts(first: $n) { nodes { id usablePriceBooks { id } } } }"
    costs = {}
    for n in (1, 20):
        response = await api.post(query, {"n": n})
        nodes = response.json()["data"]["accounts"]["nodes"]
        assert len(nodes) == n
        for node in nodes:
            assert [b["id"] for b in node["usablePriceBooks"]] == await usable_by_rule(writable.engine, node["id"])
        costs[n] = statements(response)
    assert costs[1] == costs[20], costs
