"""Catalog mutations over HTTP: price books, products, units, prices, bundles, exchange rates and the
CSV import, with their typed errors, the database state and the outbox."""

from __future__ import annotations

import itertools
from decimal import Decimal

from sqlalchemy import func, select

from gql import ids
from persistence import tables

ERRORS = "... on UserError { code message } ... on ValidationError { field } ... on NotFoundError { entityType }"
BOOK = "priceBook { id name description brands productVersions regions active isUpdate previous { id } }"
PRODUCT = "product { id name code category description active units { id name recurring periodMonths } }"
DELETED = "... on DeletedPayload { deletedId }"


def mutation(name: str, input_type: str, selection: str) -> str:
    return f"""mutation($input: {input_type}!) {{
  {name}(input: $input) {{ __typename {selection} {ERRORS} }}
}}"""


CREATE_BOOK = mutation("createPriceBook", "CreatePriceBookInput", f"... on PriceBookPayload {{ {BOOK} }}")
UPDATE_BOOK = mutation("updatePriceBook", "UpdatePriceBookInput", f"... on PriceBookPayload {{ {BOOK} }}")
DELETE_BOOK = mutation("deletePriceBook", "CatalogRefInput", DELETED)
CREATE_PRODUCT = mutation("createProduct", "CreateProductInput", f"... on ProductPayload {{ {PRODUCT} }}")
UPDATE_PRODUCT = mutation("updateProduct", "UpdateProductInput", f"... on ProductPayload {{ {PRODUCT} }}")
DELETE_PRODUCT = mutation("deleteProduct", "CatalogRefInput", DELETED)
ADD_UNIT = mutation(
    "addProductUnit",
    "AddProductUnitInput",
    "... on ProductUnitPayload { unit { id name recurring periodMonths } product { id } }",
)
UPDATE_UNIT = mutation(
    "updateProductUnit",
    "UpdateProductUnitInput",
    "... on ProductUnitPayload { unit { id name recurring periodMonths } }",
)
REMOVE_UNIT = mutation(
    "removeProductUnit", "CatalogRefInput", "... on RemoveProductUnitPayload { deletedId product { units { id } } }"
)
SET_PRICE = mutation(
    "setPrice", "SetPriceInput", "... on PriceEntryPayload { priceEntry { id price { amount currency } unit { id } } }"
)
REMOVE_PRICE = mutation("removePrice", "RemovePriceInput", DELETED)
BUNDLE = "... on BundlePayload { bundle { id name code active components { weight unit { id } } } }"
CREATE_BUNDLE = mutation("createBundle", "CreateBundleInput", BUNDLE)
UPDATE_BUNDLE = mutation("updateBundle", "UpdateBundleInput", BUNDLE)
DELETE_BUNDLE = mutation("deleteBundle", "CatalogRefInput", DELETED)
SET_RATE = mutation(
    "setExchangeRate", "SetExchangeRateInput", "... on ExchangeRatePayload { exchangeRate { currency rate } }"
)
IMPORT = mutation(
    "importProducts",
    "ImportProductsInput",
    "... on ImportProductsPayload { productsCreated "
    "productsUpdated unitsCreated unitsUpdated pricesSet products { code name units { name } } }",
)

_codes = itertools.count(1)


async def scalar(engine, stmt):
    async with engine.connect() as conn:
        return (await conn.execute(stmt)).scalar()


async def count(engine, table, *where) -> int:
    return await scalar(engine, select(func.count()).select_from(table).where(*where))


async def catalog_events(engine) -> list[dict]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(tables.outbox_events.c.data)
            .where(tables.outbox_events.c.type == "CatalogChanged")
            .order_by(tables.outbox_events.c.id)
        )
        return [r.data for r in rows]


def pk(global_id: str) -> int:
    return ids.decode(global_id)[1]


async def new_book(api, **extra) -> dict:
    data = await api.data(CREATE_BOOK, {"input": {"name": f"Book {next(_codes)}", **extra}})
    assert data["createPriceBook"]["__typename"] == "PriceBookPayload", data
    return data["createPriceBook"]["priceBook"]


async def new_product(api, **extra) -> dict:
    data = await api.data(
        CREATE_PRODUCT, {"input": {"name": "Widget", "code": f"WID-{next(_codes)}", "category": "HARDWARE", **extra}}
    )
    assert data["createProduct"]["__typename"] == "ProductPayload", data
    return data["createProduct"]["product"]


async def new_unit(api, product: dict, **extra) -> dict:
    data = await api.data(ADD_UNIT, {"input": {"productId": product["id"], "name": f"unit {next(_codes)}", **extra}})
    assert data["addProductUnit"]["__typename"] == "ProductUnitPayload", data
    return data["addProductUnit"]["unit"]


async def used_product_and_book(writable) -> tuple[int, int]:
    """A seeded product on a quote item and a seeded price book that quotes use."""
    product = await scalar(writable.engine, select(func.min(tables.quote_items.c.product_id)))
    book = await scalar(writable.engine, select(func.min(tables.quotes.c.price_book_id)))
    return product, book


# --- price books ---


async def test_create_price_book_stores_it_and_announces_it(api, writable):
    book = await new_book(
        api, description="Nordics", brands=["Acme", "Acme"], regions=["NO", "SE"], productVersions=["2026.1"]
    )
    assert (book["brands"], book["regions"], book["productVersions"]) == (["Acme"], ["NO", "SE"], ["2026.1"])
    assert await count(writable.engine, tables.price_books, tables.price_books.c.id == pk(book["id"])) == 1
    assert (await catalog_events(writable.engine))[-1] == {
        "what": "PriceBook",
        "change": "created",
        "id": pk(book["id"]),
        "name": book["name"],
    }


async def test_create_price_book_with_bad_input_names_the_field_and_writes_nothing(api, writable):
    before = await count(writable.engine, tables.price_books)
    blank = (await api.data(CREATE_BOOK, {"input": {"name": " "}}))["createPriceBook"]
    assert blank["__typename"] == "ValidationError" and blank["field"] == "name"
    orphan = (await api.data(CREATE_BOOK, {"input": {"name": "2027", "isUpdate": True}}))["createPriceBook"]
    assert orphan["field"] == "previousId"
    missing = await api.data(
        CREATE_BOOK, {"input": {"name": "2027", "isUpdate": True, "previousId": ids.encode("PriceBook", 99_999)}}
    )
    assert missing["createPriceBook"]["__typename"] == "NotFoundError"
    assert await count(writable.engine, tables.price_books) == before


async def test_update_price_book_makes_it_an_update_and_a_stale_version_conflicts(api, writable):
    first, second = await new_book(api), await new_book(api)
    updated = (
        await api.data(
            UPDATE_BOOK,
            {"input": {"id": second["id"], "version": 1, "isUpdate": True, "previousId": first["id"], "active": False}},
        )
    )["updatePriceBook"]
    assert updated["priceBook"]["isUpdate"] and updated["priceBook"]["previous"] == {"id": first["id"]}
    assert updated["priceBook"]["active"] is False and updated["priceBook"]["name"] == second["name"]
    stale = await api.data(UPDATE_BOOK, {"input": {"id": second["id"], "version": 1, "name": "X"}})
    assert stale["updatePriceBook"]["__typename"] == "ConflictError"
    cycle = await api.data(UPDATE_BOOK, {"input": {"id": first["id"], "isUpdate": True, "previousId": second["id"]}})
    assert cycle["updatePriceBook"]["field"] == "previousId"
    assert (
        await scalar(
            writable.engine, select(tables.price_books.c.previous_id).where(tables.price_books.c.id == pk(first["id"]))
        )
        is None
    )


async def test_delete_price_book_refuses_one_that_quotes_use_and_deletes_an_unused_one(api, writable):
    _, used = await used_product_and_book(writable)
    refused = (await api.data(DELETE_BOOK, {"input": {"id": ids.encode("PriceBook", used)}}))["deletePriceBook"]
    assert refused["__typename"] == "ConflictError" and "quote" in refused["message"]
    assert await count(writable.engine, tables.price_books, tables.price_books.c.id == used) == 1
    book = await new_book(api)
    product = await new_product(api)
    unit = await new_unit(api, product)
    await api.data(
        SET_PRICE,
        {"input": {"priceBookId": book["id"], "unitId": unit["id"], "price": {"amount": "10", "currency": "EUR"}}},
    )
    deleted = (await api.data(DELETE_BOOK, {"input": {"id": book["id"]}}))["deletePriceBook"]
    assert deleted == {"__typename": "DeletedPayload", "deletedId": book["id"]}
    assert (
        await count(writable.engine, tables.price_entries, tables.price_entries.c.price_book_id == pk(book["id"])) == 0
    )
    again = (await api.data(DELETE_BOOK, {"input": {"id": book["id"]}}))["deletePriceBook"]
    assert again["__typename"] == "NotFoundError"


# --- products and units ---


async def test_create_product_stores_it_and_a_duplicate_code_is_refused(api, writable):
    product = await new_product(api, description="A gadget")
    assert product["category"] == "HARDWARE" and product["units"] == []
    duplicate = (
        await api.data(CREATE_PRODUCT, {"input": {"name": "Other", "code": product["code"], "category": "SOFTWARE"}})
    )["createProduct"]
    assert duplicate["__typename"] == "ValidationError" and duplicate["field"] == "code"
    assert await count(writable.engine, tables.products, tables.products.c.code == product["code"]) == 1
    assert (await catalog_events(writable.engine))[-1]["what"] == "Product"


async def test_update_product_changes_what_was_sent(api, writable):
    product = await new_product(api)
    updated = (
        await api.data(
            UPDATE_PRODUCT,
            {
                "input": {
                    "id": product["id"],
                    "version": 1,
                    "name": "Widget Pro",
                    "category": "SOFTWARE",
                    "active": False,
                }
            },
        )
    )["updateProduct"]
    assert updated["product"]["name"] == "Widget Pro" and updated["product"]["category"] == "SOFTWARE"
    assert updated["product"]["code"] == product["code"]
    assert (
        await scalar(writable.engine, select(tables.products.c.active).where(tables.products.c.id == pk(product["id"])))
        is False
    )
    cleared = (await api.data(UPDATE_PRODUCT, {"input": {"id": product["id"], "active": None}}))["updateProduct"]
    assert cleared["__typename"] == "ValidationError" and cleared["field"] == "active"
    wrong = await api.data(UPDATE_PRODUCT, {"input": {"id": ids.encode("Product", 99_999), "name": "X"}})
    assert wrong["updateProduct"]["__typename"] == "NotFoundError"


async def test_delete_product_refuses_a_quoted_product_and_deletes_an_unused_one_with_its_units(api, writable):
    used, _ = await used_product_and_book(writable)
    refused = (await api.data(DELETE_PRODUCT, {"input": {"id": ids.encode("Product", used)}}))["deleteProduct"]
    assert refused["__typename"] == "ConflictError" and "deactivate" in refused["message"]
    product = await new_product(api)
    await new_unit(api, product)
    deleted = (await api.data(DELETE_PRODUCT, {"input": {"id": product["id"]}}))["deleteProduct"]
    assert deleted["deletedId"] == product["id"]
    assert (
        await count(writable.engine, tables.product_units, tables.product_units.c.product_id == pk(product["id"])) == 0
    )
    assert await count(writable.engine, tables.products, tables.products.c.id == used) == 1


async def test_units_are_added_changed_and_removed(api, writable):
    product = await new_product(api)
    no_period = await api.data(ADD_UNIT, {"input": {"productId": product["id"], "name": "year", "recurring": True}})
    assert no_period["addProductUnit"]["field"] == "periodMonths"
    unit = await new_unit(api, product, recurring=True, periodMonths=12)
    assert (unit["recurring"], unit["periodMonths"]) == (True, 12)
    twice = await api.data(ADD_UNIT, {"input": {"productId": product["id"], "name": unit["name"]}})
    assert twice["addProductUnit"]["field"] == "name"
    one_time = await api.data(UPDATE_UNIT, {"input": {"id": unit["id"], "version": 1, "recurring": False}})
    assert one_time["updateProductUnit"]["unit"] == {**unit, "recurring": False, "periodMonths": None}
    removed = (await api.data(REMOVE_UNIT, {"input": {"id": unit["id"]}}))["removeProductUnit"]
    assert removed == {"__typename": "RemoveProductUnitPayload", "deletedId": unit["id"], "product": {"units": []}}
    assert await count(writable.engine, tables.product_units, tables.product_units.c.id == pk(unit["id"])) == 0


async def test_a_unit_on_quote_items_is_not_removed(api, writable):
    unit = await scalar(writable.engine, select(func.min(tables.quote_items.c.unit_id)))
    refused = (await api.data(REMOVE_UNIT, {"input": {"id": ids.encode("ProductUnit", unit)}}))["removeProductUnit"]
    assert refused["__typename"] == "ConflictError"
    assert await count(writable.engine, tables.product_units, tables.product_units.c.id == unit) == 1


# --- prices ---


async def test_set_price_upserts_one_entry_per_book_unit_and_currency_and_remove_price_deletes_it(api, writable):
    book, product = await new_book(api), await new_product(api)
    unit = await new_unit(api, product)
    where = (tables.price_entries.c.price_book_id == pk(book["id"]), tables.price_entries.c.unit_id == pk(unit["id"]))
    first = (
        await api.data(
            SET_PRICE,
            {
                "input": {
                    "priceBookId": book["id"],
                    "unitId": unit["id"],
                    "price": {"amount": "19.999", "currency": "EUR"},
                }
            },
        )
    )["setPrice"]
    assert Decimal(first["priceEntry"]["price"]["amount"]) == Decimal("20.00")
    second = (
        await api.data(
            SET_PRICE,
            {"input": {"priceBookId": book["id"], "unitId": unit["id"], "price": {"amount": "25", "currency": "EUR"}}},
        )
    )["setPrice"]
    assert second["priceEntry"]["id"] == first["priceEntry"]["id"]
    await api.data(
        SET_PRICE,
        {"input": {"priceBookId": book["id"], "unitId": unit["id"], "price": {"amount": "250", "currency": "NOK"}}},
    )
    assert await count(writable.engine, tables.price_entries, *where) == 2
    negative = (
        await api.data(
            SET_PRICE,
            {"input": {"priceBookId": book["id"], "unitId": unit["id"], "price": {"amount": "-1", "currency": "EUR"}}},
        )
    )["setPrice"]
    assert negative["field"] == "price"
    removed = (
        await api.data(REMOVE_PRICE, {"input": {"priceBookId": book["id"], "unitId": unit["id"], "currency": "NOK"}})
    )["removePrice"]
    assert removed["deletedId"] == ids.encode("PriceEntry", pk(removed["deletedId"]))
    assert await count(writable.engine, tables.price_entries, *where) == 1
    missing = (
        await api.data(REMOVE_PRICE, {"input": {"priceBookId": book["id"], "unitId": unit["id"], "currency": "NOK"}})
    )["removePrice"]
    assert missing["__typename"] == "NotFoundError"
    assert [e["change"] for e in await catalog_events(writable.engine) if e["what"] == "PriceEntry"][-3:] == [
        "changed",
        "created",
        "deleted",
    ]


# --- bundles ---


async def test_bundles_need_weights_summing_to_100_and_their_components_can_be_replaced(api, writable):
    book, product = await new_book(api), await new_product(api)
    a, b = await new_unit(api, product), await new_unit(api, product)
    parts = [{"unitId": a["id"], "weight": "70"}, {"unitId": b["id"], "weight": "20"}]
    short = (
        await api.data(
            CREATE_BUNDLE, {"input": {"priceBookId": book["id"], "name": "Pack", "code": "PACK", "components": parts}}
        )
    )["createBundle"]
    assert short["__typename"] == "ValidationError" and short["field"] == "components" and "90" in short["message"]
    assert await count(writable.engine, tables.bundles, tables.bundles.c.price_book_id == pk(book["id"])) == 0
    parts[1]["weight"] = "30"
    created = (
        await api.data(
            CREATE_BUNDLE, {"input": {"priceBookId": book["id"], "name": "Pack", "code": "PACK", "components": parts}}
        )
    )["createBundle"]["bundle"]
    assert [(c["unit"]["id"], c["weight"]) for c in created["components"]] == [
        (a["id"], "70.0000"),
        (b["id"], "30.0000"),
    ]
    updated = (
        await api.data(
            UPDATE_BUNDLE,
            {"input": {"id": created["id"], "version": 1, "components": [{"unitId": b["id"], "weight": "100"}]}},
        )
    )["updateBundle"]["bundle"]
    assert [c["unit"]["id"] for c in updated["components"]] == [b["id"]]
    assert (
        await count(
            writable.engine, tables.bundle_components, tables.bundle_components.c.bundle_id == pk(created["id"])
        )
        == 1
    )
    in_bundle = (await api.data(REMOVE_UNIT, {"input": {"id": b["id"]}}))["removeProductUnit"]
    assert in_bundle["__typename"] == "ConflictError"
    deleted = (await api.data(DELETE_BUNDLE, {"input": {"id": created["id"], "version": 1}}))["deleteBundle"]
    assert deleted["__typename"] == "ConflictError"
    deleted = (await api.data(DELETE_BUNDLE, {"input": {"id": created["id"], "version": 2}}))["deleteBundle"]
    assert deleted["deletedId"] == created["id"]
    assert (
        await count(
            writable.engine, tables.bundle_components, tables.bundle_components.c.bundle_id == pk(created["id"])
        )
        == 0
    )


# --- exchange rates ---


async def test_set_exchange_rate_stores_the_rate_and_eur_cannot_change(api, writable):
    set_ = (await api.data(SET_RATE, {"input": {"currency": "USD", "rate": "0.9123"}}))["setExchangeRate"]
    assert set_["exchangeRate"]["currency"] == "USD" and set_["exchangeRate"]["rate"].startswith("0.9123")
    stored = await scalar(
        writable.engine, select(tables.exchange_rates.c.rate).where(tables.exchange_rates.c.currency == "USD")
    )
    assert str(stored).startswith("0.9123")
    assert (await catalog_events(writable.engine))[-1]["what"] == "ExchangeRate"
    base = (await api.data(SET_RATE, {"input": {"currency": "EUR", "rate": "2"}}))["setExchangeRate"]
    assert base["__typename"] == "ValidationError" and base["field"] == "currency"
    zero = (await api.data(SET_RATE, {"input": {"currency": "USD", "rate": "0"}}))["setExchangeRate"]
    assert zero["field"] == "rate"
    assert (
        await scalar(
            writable.engine, select(tables.exchange_rates.c.rate).where(tables.exchange_rates.c.currency == "EUR")
        )
        == 1
    )
    assert await count(writable.engine, tables.exchange_rates, tables.exchange_rates.c.currency == "USD") == 1


# --- CSV import ---

HEADER = "code,name,category,description,unit,recurring,periodMonths,priceBook,currency,price\n"


async def test_import_products_upserts_by_code_and_counts_what_it_wrote(api, writable):
    book = await new_book(api)
    text = HEADER + (
        f"IMP-1,Imported one,SOFTWARE,,licence/month,true,1,{book['name']},EUR,10\n"
        f"IMP-1,Imported one,SOFTWARE,,licence/month,true,1,{book['name']},SEK,110\n"
        f"IMP-2,Imported two,HARDWARE,A box,piece,false,,{book['name']},EUR,99.5\n"
    )
    first = (await api.data(IMPORT, {"input": {"csv": text}}))["importProducts"]
    assert (first["productsCreated"], first["productsUpdated"], first["unitsCreated"], first["pricesSet"]) == (
        2,
        0,
        2,
        3,
    )
    assert [p["code"] for p in first["products"]] == ["IMP-1", "IMP-2"]
    assert (
        await count(writable.engine, tables.price_entries, tables.price_entries.c.price_book_id == pk(book["id"])) == 3
    )
    second = (await api.data(IMPORT, {"input": {"csv": text.replace("Imported two", "Imported 2")}}))["importProducts"]
    assert (second["productsCreated"], second["productsUpdated"], second["pricesSet"]) == (0, 1, 0)
    assert await count(writable.engine, tables.products, tables.products.c.code.in_(["IMP-1", "IMP-2"])) == 2
    assert (await catalog_events(writable.engine))[-1]["productsUpdated"] == 1


async def test_import_products_with_a_bad_row_names_line_and_column_and_writes_nothing(api, writable):
    products, events = await count(writable.engine, tables.products), await count(writable.engine, tables.outbox_events)
    text = HEADER + "BAD-1,Good row,SOFTWARE,,,,,,,\nBAD-2,Bad row,SOFTWARE,,piece,,,,EUR,abc\n"
    bad = (await api.data(IMPORT, {"input": {"csv": text}}))["importProducts"]
    assert bad["__typename"] == "ValidationError" and bad["field"] == "csv"
    assert bad["message"].startswith("csv: line 3, column priceBook:"), bad["message"]
    assert await count(writable.engine, tables.products) == products
    assert await count(writable.engine, tables.outbox_events) == events
