"""Catalog rules with the in-memory unit of work: price books, products, units, prices, bundles,
exchange rates and the CSV import."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from domain.catalog import Bundle, BundleComponent, ExchangeRate, PriceBook, PriceEntry, Product, ProductUnit
from domain.contracts import Contract
from domain.enums import ContractKind, ProductCategory
from domain.errors import Conflict, NotFound, ValidationError
from domain.money import Money
from domain.quotes import Quote, QuoteItem
from domain.workflows import catalog as wf
from tests.support.memory_uow import MemoryStore


class MemoryRates:
    """The exchange-rate port over the memory store."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def write(self, uow, rate: ExchangeRate, at: datetime) -> None:
        self.store.rates[rate.currency] = rate.rate


def put(store: MemoryStore, entity):
    entity.id = next(store.ids)
    store.rows.setdefault(type(entity), {})[entity.id] = entity
    return entity


def catalog(store: MemoryStore) -> dict:
    book = put(store, PriceBook(name="Price list 2026"))
    product = put(store, Product(name="CRM Cloud", code="CRM-CLOUD", category=ProductCategory.SOFTWARE))
    unit = put(store, ProductUnit(product_id=product.id, name="licence/month", recurring=True, period_months=12))
    other = put(store, ProductUnit(product_id=product.id, name="setup"))
    return {"book": book, "product": product, "unit": unit, "other": other}


def kinds(store: MemoryStore) -> list[tuple[str, str]]:
    return [(e.data["what"], e.data["change"]) for e in store.events]


# --- price books ---


async def test_a_price_book_is_created_with_clean_lists_and_announced():
    store = MemoryStore()
    book = await wf.create_price_book(
        wf.CreatePriceBook(name=" Nordics ", brands=["Acme", " Acme", "Beta"], regions=["NO"]), store.uow()
    )
    assert store.all(PriceBook)[0].name == "Nordics" and book.brands == ["Acme", "Beta"]
    assert kinds(store) == [("PriceBook", "created")]


async def test_an_update_book_names_an_existing_book_it_updates():
    store = MemoryStore()
    with pytest.raises(ValidationError) as no_previous:
        await wf.create_price_book(wf.CreatePriceBook(name="2027", is_update=True), store.uow())
    assert no_previous.value.field == "previousId"
    with pytest.raises(NotFound):
        await wf.create_price_book(wf.CreatePriceBook(name="2027", is_update=True, previous_id=99), store.uow())
    assert store.all(PriceBook) == [] and store.events == []


async def test_a_price_book_cannot_update_itself_through_a_chain():
    store = MemoryStore()
    first = put(store, PriceBook(name="2025"))
    second = put(store, PriceBook(name="2026", is_update=True, previous_id=first.id))
    with pytest.raises(ValidationError) as cycle:
        await wf.update_price_book(wf.UpdatePriceBook(id=first.id, is_update=True, previous_id=second.id), store.uow())
    assert cycle.value.field == "previousId"


async def test_updating_a_price_book_checks_the_version_and_keeps_what_was_not_sent():
    store = MemoryStore()
    book = put(store, PriceBook(name="2026", description="List prices", regions=["NO"]))
    updated = await wf.update_price_book(
        wf.UpdatePriceBook(id=book.id, version=1, active=False, regions=["SE", "DK"]), store.uow()
    )
    assert (updated.active, updated.regions, updated.description, updated.version) == (
        False,
        ["SE", "DK"],
        "List prices",
        2,
    )
    with pytest.raises(Conflict):
        await wf.update_price_book(wf.UpdatePriceBook(id=book.id, version=1, name="Stale"), store.uow())


async def test_a_price_book_used_by_quotes_or_updated_by_another_is_not_deleted():
    store = MemoryStore()
    parts = catalog(store)
    put(store, Quote(opportunity_id=1, name="Q", currency="EUR", price_book_id=parts["book"].id))
    with pytest.raises(Conflict, match="quote"):
        await wf.delete_price_book(wf.DeletePriceBook(id=parts["book"].id), store.uow())
    old = put(store, PriceBook(name="2025"))
    put(store, PriceBook(name="2026", is_update=True, previous_id=old.id))
    with pytest.raises(Conflict, match="updated by"):
        await wf.delete_price_book(wf.DeletePriceBook(id=old.id), store.uow())


async def test_deleting_a_price_book_takes_its_prices_and_bundles_with_it():
    store = MemoryStore()
    parts = catalog(store)
    put(store, PriceEntry(price_book_id=parts["book"].id, unit_id=parts["unit"].id, price=Money(Decimal(10), "EUR")))
    put(
        store,
        Bundle(
            price_book_id=parts["book"].id,
            name="B",
            code="B",
            components=[BundleComponent(unit_id=parts["unit"].id, weight=Decimal(100))],
        ),
    )
    await wf.delete_price_book(wf.DeletePriceBook(id=parts["book"].id), store.uow())
    assert store.all(PriceBook) == [] and store.all(PriceEntry) == [] and store.all(Bundle) == []
    assert kinds(store) == [("PriceBook", "deleted")]


# --- products and units ---


async def test_a_product_code_is_unique():
    store = MemoryStore()
    catalog(store)
    with pytest.raises(ValidationError) as duplicate:
        await wf.create_product(
            wf.CreateProduct(name="Other", code=" CRM-CLOUD", category=ProductCategory.SOFTWARE), store.uow()
        )
    assert duplicate.value.field == "code"
    created = await wf.create_product(
        wf.CreateProduct(name="Training day", code="TRN-DAY", category=ProductCategory.TRAINING), store.uow()
    )
    assert created.id and kinds(store) == [("Product", "created")]


async def test_updating_a_product_to_another_products_code_is_refused_but_its_own_code_is_fine():
    store = MemoryStore()
    parts = catalog(store)
    other = put(store, Product(name="Phone", code="HW-PHONE", category=ProductCategory.HARDWARE))
    with pytest.raises(ValidationError):
        await wf.update_product(wf.UpdateProduct(id=other.id, code="CRM-CLOUD"), store.uow())
    same = await wf.update_product(
        wf.UpdateProduct(id=parts["product"].id, code="CRM-CLOUD", active=False), store.uow()
    )
    assert same.active is False


async def test_a_product_on_quote_items_or_contracts_is_not_deleted():
    store = MemoryStore()
    parts = catalog(store)
    item = put(
        store,
        QuoteItem(
            quote_id=1,
            name="CRM",
            quantity=Decimal(1),
            unit_price=Decimal(5),
            currency="EUR",
            product_id=parts["product"].id,
            unit_id=parts["unit"].id,
        ),
    )
    with pytest.raises(Conflict, match="quote item"):
        await wf.delete_product(wf.DeleteProduct(id=parts["product"].id), store.uow())
    del store.rows[QuoteItem][item.id]
    put(
        store,
        Contract(
            account_id=1,
            opportunity_id=1,
            name="CRM",
            kind=ContractKind.ONE_TIME,
            quantity=Decimal(1),
            value=Money(Decimal(5), "EUR"),
            starts_on=datetime(2026, 1, 1).date(),
            product_id=parts["product"].id,
        ),
    )
    with pytest.raises(Conflict, match="contract"):
        await wf.delete_product(wf.DeleteProduct(id=parts["product"].id), store.uow())


async def test_deleting_a_product_removes_its_units_and_their_prices():
    store = MemoryStore()
    parts = catalog(store)
    put(store, PriceEntry(price_book_id=parts["book"].id, unit_id=parts["unit"].id, price=Money(Decimal(10), "EUR")))
    await wf.delete_product(wf.DeleteProduct(id=parts["product"].id), store.uow())
    assert store.all(Product) == [] and store.all(ProductUnit) == [] and store.all(PriceEntry) == []


async def test_a_unit_is_one_time_or_recurring_with_a_period_and_its_name_is_unique_per_product():
    store = MemoryStore()
    parts = catalog(store)
    with pytest.raises(ValidationError) as no_period:
        await wf.add_product_unit(
            wf.AddProductUnit(product_id=parts["product"].id, name="year", recurring=True), store.uow()
        )
    assert no_period.value.field == "periodMonths"
    with pytest.raises(ValidationError) as twice:
        await wf.add_product_unit(wf.AddProductUnit(product_id=parts["product"].id, name="setup"), store.uow())
    assert twice.value.field == "name"
    unit = await wf.add_product_unit(
        wf.AddProductUnit(product_id=parts["product"].id, name="licence/year", recurring=True, period_months=12),
        store.uow(),
    )
    assert unit.period_months == 12 and kinds(store) == [("ProductUnit", "created")]


async def test_a_unit_that_stops_recurring_drops_its_period():
    store = MemoryStore()
    parts = catalog(store)
    one_time = await wf.update_product_unit(wf.UpdateProductUnit(id=parts["unit"].id, recurring=False), store.uow())
    assert (one_time.recurring, one_time.period_months) == (False, None)


async def test_a_unit_on_quote_items_or_in_a_bundle_is_not_removed():
    store = MemoryStore()
    parts = catalog(store)
    put(
        store,
        Bundle(
            price_book_id=parts["book"].id,
            name="B",
            code="B",
            components=[BundleComponent(unit_id=parts["unit"].id, weight=Decimal(100))],
        ),
    )
    with pytest.raises(Conflict, match="bundle"):
        await wf.remove_product_unit(wf.RemoveProductUnit(id=parts["unit"].id), store.uow())
    put(
        store,
        QuoteItem(
            quote_id=1,
            name="Setup",
            quantity=Decimal(1),
            unit_price=Decimal(5),
            currency="EUR",
            product_id=parts["product"].id,
            unit_id=parts["other"].id,
        ),
    )
    with pytest.raises(Conflict, match="quote item"):
        await wf.remove_product_unit(wf.RemoveProductUnit(id=parts["other"].id), store.uow())
    assert len(store.all(ProductUnit)) == 2


# --- prices ---


async def test_set_price_creates_one_entry_per_currency_and_replaces_it_the_second_time():
    store = MemoryStore()
    parts = catalog(store)
    book, unit = parts["book"].id, parts["unit"].id
    first = await wf.set_price(
        wf.SetPrice(price_book_id=book, unit_id=unit, price=Money(Decimal("99.999"), "EUR")), store.uow()
    )
    assert first.price == Money(Decimal("100.00"), "EUR")
    await wf.set_price(wf.SetPrice(price_book_id=book, unit_id=unit, price=Money(Decimal(900), "NOK")), store.uow())
    again = await wf.set_price(
        wf.SetPrice(price_book_id=book, unit_id=unit, price=Money(Decimal(95), "EUR")), store.uow()
    )
    assert again.id == first.id and again.version == 2
    assert sorted((e.price.currency, e.price.amount) for e in store.all(PriceEntry)) == [("EUR", 95), ("NOK", 900)]
    assert kinds(store) == [("PriceEntry", "created"), ("PriceEntry", "created"), ("PriceEntry", "changed")]


async def test_a_negative_price_is_refused():
    store = MemoryStore()
    parts = catalog(store)
    with pytest.raises(ValidationError) as negative:
        await wf.set_price(
            wf.SetPrice(price_book_id=parts["book"].id, unit_id=parts["unit"].id, price=Money(Decimal(-1), "EUR")),
            store.uow(),
        )
    assert negative.value.field == "price" and store.all(PriceEntry) == []


async def test_removing_a_price_that_is_not_there_is_not_found():
    store = MemoryStore()
    parts = catalog(store)
    put(store, PriceEntry(price_book_id=parts["book"].id, unit_id=parts["unit"].id, price=Money(Decimal(10), "EUR")))
    with pytest.raises(NotFound):
        await wf.remove_price(
            wf.RemovePrice(price_book_id=parts["book"].id, unit_id=parts["unit"].id, currency="SEK"), store.uow()
        )
    await wf.remove_price(
        wf.RemovePrice(price_book_id=parts["book"].id, unit_id=parts["unit"].id, currency="EUR"), store.uow()
    )
    assert store.all(PriceEntry) == []


# --- bundles ---


async def test_bundle_weights_sum_to_exactly_100():
    store = MemoryStore()
    parts = catalog(store)
    components = [
        wf.ComponentInput(unit_id=parts["unit"].id, weight=Decimal("60")),
        wf.ComponentInput(unit_id=parts["other"].id, weight=Decimal("39.99")),
    ]
    with pytest.raises(ValidationError, match="99.99") as short:
        await wf.create_bundle(
            wf.CreateBundle(price_book_id=parts["book"].id, name="B", code="B", components=components), store.uow()
        )
    assert short.value.field == "components"
    components[1].weight = Decimal("40")
    bundle = await wf.create_bundle(
        wf.CreateBundle(price_book_id=parts["book"].id, name="B", code="B", components=components), store.uow()
    )
    assert [c.weight for c in store.all(Bundle)[0].components] == [60, 40] and bundle.id


async def test_a_bundle_names_each_unit_once_and_only_existing_units():
    store = MemoryStore()
    parts = catalog(store)
    twice = [wf.ComponentInput(unit_id=parts["unit"].id, weight=Decimal(50))] * 2
    with pytest.raises(ValidationError, match="twice"):
        await wf.create_bundle(
            wf.CreateBundle(price_book_id=parts["book"].id, name="B", code="B", components=twice), store.uow()
        )
    with pytest.raises(NotFound):
        await wf.create_bundle(
            wf.CreateBundle(
                price_book_id=parts["book"].id,
                name="B",
                code="B",
                components=[wf.ComponentInput(unit_id=999, weight=Decimal(100))],
            ),
            store.uow(),
        )


async def test_bundle_codes_are_unique_within_a_price_book():
    store = MemoryStore()
    parts = catalog(store)
    one = [wf.ComponentInput(unit_id=parts["unit"].id, weight=Decimal(100))]
    await wf.create_bundle(
        wf.CreateBundle(price_book_id=parts["book"].id, name="B", code="B", components=one), store.uow()
    )
    with pytest.raises(ValidationError) as duplicate:
        await wf.create_bundle(
            wf.CreateBundle(price_book_id=parts["book"].id, name="C", code="B", components=one), store.uow()
        )
    assert duplicate.value.field == "code"


async def test_updating_a_bundles_components_replaces_them_and_keeps_the_sum_rule():
    store = MemoryStore()
    parts = catalog(store)
    bundle = put(
        store,
        Bundle(
            price_book_id=parts["book"].id,
            name="B",
            code="B",
            components=[BundleComponent(unit_id=parts["unit"].id, weight=Decimal(100))],
        ),
    )
    with pytest.raises(ValidationError):
        await wf.update_bundle(
            wf.UpdateBundle(
                id=bundle.id, components=[wf.ComponentInput(unit_id=parts["other"].id, weight=Decimal(50))]
            ),
            store.uow(),
        )
    updated = await wf.update_bundle(
        wf.UpdateBundle(
            id=bundle.id,
            version=1,
            components=[
                wf.ComponentInput(unit_id=parts["unit"].id, weight=Decimal(25)),
                wf.ComponentInput(unit_id=parts["other"].id, weight=Decimal(75)),
            ],
        ),
        store.uow(),
    )
    assert [(c.unit_id, c.weight) for c in updated.components] == [(parts["unit"].id, 25), (parts["other"].id, 75)]
    await wf.delete_bundle(wf.DeleteBundle(id=bundle.id, version=2), store.uow())
    assert store.all(Bundle) == []


# --- exchange rates ---


async def test_an_exchange_rate_is_set_and_announced_with_the_previous_rate():
    store = MemoryStore()
    store.rates["USD"] = Decimal("0.9")
    await wf.set_exchange_rate(
        wf.SetExchangeRate(currency="USD", rate=Decimal("0.92")), store.uow(), MemoryRates(store)
    )
    assert store.rates["USD"] == Decimal("0.92")
    assert store.events[0].data["previousRate"] == "0.9" and store.events[0].data["rate"] == "0.92"


async def test_eur_is_the_base_and_a_rate_is_positive():
    store = MemoryStore()
    with pytest.raises(ValidationError) as base:
        await wf.set_exchange_rate(wf.SetExchangeRate(currency="EUR", rate=Decimal(2)), store.uow(), MemoryRates(store))
    assert base.value.field == "currency"
    with pytest.raises(ValidationError) as zero:
        await wf.set_exchange_rate(wf.SetExchangeRate(currency="NOK", rate=Decimal(0)), store.uow(), MemoryRates(store))
    assert zero.value.field == "rate"
    with pytest.raises(ValidationError):
        await wf.set_exchange_rate(
            wf.SetExchangeRate(currency="kroner", rate=Decimal(1)), store.uow(), MemoryRates(store)
        )
    assert store.rates == {"EUR": 1} and store.events == []


# --- CSV import ---

HEADER = "code,name,category,description,unit,recurring,periodMonths,priceBook,currency,price\n"


async def test_an_import_creates_products_units_and_prices_and_counts_them():
    store = MemoryStore()
    catalog(store)
    text = HEADER + (
        "TRN-DAY,Training day,TRAINING,On site,day,false,,Price list 2026,EUR,1200\n"
        "TRN-DAY,Training day,TRAINING,On site,day,false,,Price list 2026,NOK,13500\n"
        "SUP-GOLD,Gold support,support service,,year,true,12,Price list 2026,EUR,5000.5\n"
    )
    result = await wf.import_products(wf.ImportProducts(csv=text), store.uow())
    assert (result.products_created, result.products_updated, result.units_created, result.prices_set) == (2, 0, 2, 3)
    gold = [p for p in store.all(Product) if p.code == "SUP-GOLD"][0]
    assert gold.category == ProductCategory.SUPPORT_SERVICE.value
    unit = [u for u in store.all(ProductUnit) if u.product_id == gold.id][0]
    assert (unit.recurring, unit.period_months) == (True, 12)
    assert Money(Decimal("5000.50"), "EUR") in [e.price for e in store.all(PriceEntry)]
    assert kinds(store) == [("ProductImport", "imported")]


async def test_an_import_updates_products_by_code_and_leaves_unchanged_ones_alone():
    store = MemoryStore()
    parts = catalog(store)
    text = HEADER + (
        "CRM-CLOUD,CRM Cloud Pro,SOFTWARE,,licence/month,true,12,Price list 2026,EUR,49\n"
        "CRM-CLOUD,CRM Cloud Pro,SOFTWARE,,setup,,,,,\n"
    )
    result = await wf.import_products(wf.ImportProducts(csv=text), store.uow())
    assert (result.products_created, result.products_updated, result.units_created, result.units_updated) == (
        0,
        1,
        0,
        0,
    )
    assert store.rows[Product][parts["product"].id].name == "CRM Cloud Pro"
    again = await wf.import_products(wf.ImportProducts(csv=text), store.uow())
    assert (again.products_updated, again.prices_set) == (0, 0)


@pytest.mark.parametrize(
    ("row", "line", "column"),
    [
        ("X-1,Thing,GADGET,,,,,,,", 3, "category"),
        ("X-1,,SOFTWARE,,,,,,,", 3, "name"),
        ("X-1,Thing,SOFTWARE,,month,true,,,,", 3, "periodMonths"),
        ("X-1,Thing,SOFTWARE,,month,maybe,,,,", 3, "recurring"),
        ("X-1,Thing,SOFTWARE,,month,true,twelve,,,", 3, "periodMonths"),
        ("X-1,Thing,SOFTWARE,,piece,,,No such book,EUR,10", 3, "priceBook"),
        ("X-1,Thing,SOFTWARE,,piece,,,Price list 2026,euro,10", 3, "currency"),
        ("X-1,Thing,SOFTWARE,,piece,,,Price list 2026,EUR,ten", 3, "price"),
        ("X-1,Thing,SOFTWARE,,piece,,,Price list 2026,EUR,-5", 3, "price"),
        ("X-1,Thing,SOFTWARE,,piece,,,Price list 2026,EUR,", 3, "price"),
        ("X-1,Thing,SOFTWARE,,,,,Price list 2026,EUR,10", 3, "unit"),
        ("X-1,Other name,SOFTWARE,,,,,,,", 3, "name"),
        ("X-1,Thing,SOFTWARE,,,,,,,,extra", 3, "price"),
        ("X-1,Thing,SOFTWARE,,seat,true,12,,,", 3, "recurring"),
    ],
)
async def test_an_import_with_one_bad_row_names_its_line_and_column_and_writes_nothing(row, line, column):
    store = MemoryStore()
    catalog(store)
    before = (len(store.all(Product)), len(store.all(ProductUnit)))
    text = HEADER + "X-1,Thing,SOFTWARE,,seat,,,,,\n" + row + "\n" + "X-2,Fine,SOFTWARE,,,,,,,\n"
    with pytest.raises(ValidationError) as bad:
        await wf.import_products(wf.ImportProducts(csv=text), store.uow())
    assert bad.value.field == "csv"
    assert bad.value.reason.startswith(f"line {line}, column {column}:"), bad.value.reason
    assert (len(store.all(Product)), len(store.all(ProductUnit))) == before and store.events == []


async def test_an_import_needs_a_header_with_known_columns_and_some_rows():
    store = MemoryStore()
    with pytest.raises(ValidationError, match="line 1, column colour"):
        await wf.import_products(wf.ImportProducts(csv="code,name,category,colour\nA,B,SOFTWARE,red\n"), store.uow())
    with pytest.raises(ValidationError, match="line 1, column category"):
        await wf.import_products(wf.ImportProducts(csv="code,name\nA,B\n"), store.uow())
    with pytest.raises(ValidationError, match="no product rows"):
        await wf.import_products(wf.ImportProducts(csv=HEADER), store.uow())
    with pytest.raises(ValidationError, match="empty"):
        await wf.import_products(wf.ImportProducts(csv="  "), store.uow())


async def test_an_import_refuses_an_ambiguous_price_book_name():
    store = MemoryStore()
    catalog(store)
    put(store, PriceBook(name="Price list 2026"))
    with pytest.raises(ValidationError, match="line 2, column priceBook: 2 price books"):
        await wf.import_products(
            wf.ImportProducts(csv=HEADER + "X-1,Thing,SOFTWARE,,piece,,,Price list 2026,EUR,10\n"), store.uow()
        )


async def test_an_import_that_is_not_well_formed_csv_names_the_line():
    store = MemoryStore()
    with pytest.raises(ValidationError, match="line 2, column code: the row cannot be read as CSV"):
        await wf.import_products(wf.ImportProducts(csv=HEADER + 'X-1,"Thing"x,SOFTWARE\n'), store.uow())


# --- what the columns hold ---


async def test_texts_longer_than_their_columns_are_refused_by_field():
    store = MemoryStore()
    parts = catalog(store)
    with pytest.raises(ValidationError) as long_code:
        await wf.create_product(wf.CreateProduct(name="X", code="C" * 65, category=ProductCategory.OTHER), store.uow())
    assert long_code.value.field == "code"
    with pytest.raises(ValidationError) as long_unit:
        await wf.add_product_unit(wf.AddProductUnit(product_id=parts["product"].id, name="u" * 65), store.uow())
    assert long_unit.value.field == "name"
    with pytest.raises(ValidationError, match="line 2, column code"):
        await wf.import_products(wf.ImportProducts(csv=HEADER + "C" * 65 + ",Thing,SOFTWARE,,,,,,,\n"), store.uow())


async def test_bundle_weights_have_at_most_four_decimals_so_the_stored_sum_stays_100():
    store = MemoryStore()
    parts = catalog(store)
    thirds = [
        wf.ComponentInput(unit_id=parts["unit"].id, weight=Decimal("33.33333")),
        wf.ComponentInput(unit_id=parts["other"].id, weight=Decimal("66.66667")),
    ]
    with pytest.raises(ValidationError, match="4 decimals"):
        await wf.create_bundle(
            wf.CreateBundle(price_book_id=parts["book"].id, name="B", code="B", components=thirds), store.uow()
        )


async def test_prices_and_rates_beyond_what_is_stored_are_refused():
    store = MemoryStore()
    parts = catalog(store)
    with pytest.raises(ValidationError) as huge:
        await wf.set_price(
            wf.SetPrice(price_book_id=parts["book"].id, unit_id=parts["unit"].id, price=Money(Decimal("1e16"), "EUR")),
            store.uow(),
        )
    assert huge.value.field == "price"
    with pytest.raises(ValidationError) as rate:
        await wf.set_exchange_rate(
            wf.SetExchangeRate(currency="XAU", rate=Decimal("0.12345678901")), store.uow(), MemoryRates(store)
        )
    assert rate.value.field == "rate" and store.events == []
