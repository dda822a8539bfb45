"""The sales rules of opportunities and quotes, on the in-memory unit of work (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.accounts import Account
from domain.catalog import PriceBook, PriceEntry, Product, ProductUnit
from domain.contracts import Contract
from domain.enums import AccountKind, ContractKind, ProductCategory, Role, Stage
from domain.errors import Conflict, Locked, ValidationError
from domain.money import Money
from domain.opportunities import Opportunity
from domain.people import User
from domain.quotes import Quote, QuoteItem
from domain.workflows import opportunities as ow
from domain.workflows import quotes as qw
from tests.support.memory_uow import MemoryStore


def put(store: MemoryStore, entity):
    entity.id = next(store.ids)
    store.rows.setdefault(type(entity), {})[entity.id] = entity
    return entity


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.rates.update({"USD": Decimal("0.9"), "SEK": Decimal("0.09")})
    put(s, User(name="Rep", email="rep@example.com", role=Role.SALES_REP))  # id 1: the actor
    return s


def sales_setup(store: MemoryStore) -> dict:
    account = put(store, Account(kind=AccountKind.ORGANIZATION, name="Fjord AS"))
    product = put(store, Product(name="Fleet licence", code="FL", category=ProductCategory.SOFTWARE))
    yearly = put(store, ProductUnit(product_id=product.id, name="licence/year", recurring=True, period_months=12))
    once = put(store, ProductUnit(product_id=product.id, name="setup"))
    book = put(store, PriceBook(name="Price list 2026"))
    put(store, PriceEntry(price_book_id=book.id, unit_id=yearly.id, price=Money(Decimal("1200"), "EUR")))
    put(store, PriceEntry(price_book_id=book.id, unit_id=once.id, price=Money(Decimal("500"), "EUR")))
    put(store, PriceEntry(price_book_id=book.id, unit_id=yearly.id, price=Money(Decimal("13000"), "SEK")))
    return {"account": account, "yearly": yearly, "once": once, "book": book}


async def opportunity_with_quote(store: MemoryStore, s: dict) -> tuple[Opportunity, Quote]:
    opportunity = await ow.create_opportunity(
        ow.CreateOpportunity(name="Fleet", account_id=s["account"].id), store.uow()
    )
    quote = await qw.create_quote(
        qw.CreateQuote(opportunity_id=opportunity.id, name="Q1", currency="EUR", price_book_id=s["book"].id),
        store.uow(),
    )
    await qw.add_quote_items(
        qw.AddItems(
            quote_id=quote.id,
            items=[
                qw.NewItem(unit_id=s["yearly"].id, quantity=Decimal(2), discount_percent=Decimal(10)),
                qw.NewItem(unit_id=s["once"].id),
                qw.NewItem(name="Training", unit_price=Decimal(100), currency="USD"),
            ],
        ),
        store.uow(),
    )
    return opportunity, quote


async def test_a_new_opportunity_gets_its_stages_usual_probability_and_an_event(store):
    s = sales_setup(store)
    made = await ow.create_opportunity(
        ow.CreateOpportunity(name="X", account_id=s["account"].id, stage=Stage.PROPOSAL), store.uow()
    )
    assert made.probability == 50 and made.owner_id == 1
    assert [e.type for e in store.events] == ["OpportunityCreated"]


async def test_an_opportunity_cannot_start_closed(store):
    s = sales_setup(store)
    with pytest.raises(ValidationError) as error:
        await ow.create_opportunity(
            ow.CreateOpportunity(name="X", account_id=s["account"].id, stage=Stage.WON), store.uow()
        )
    assert error.value.field == "stage" and store.all(Opportunity) == []


async def test_price_book_items_take_the_books_price_and_manual_items_are_converted(store):
    s = sales_setup(store)
    _, quote = await opportunity_with_quote(store, s)
    items = store.all(QuoteItem)
    assert [i.unit_price for i in items] == [Decimal(1200), Decimal(500), Decimal("90.00")]
    assert items[0].total == Decimal("2160.00")


async def test_a_unit_without_a_price_in_the_quotes_currency_is_refused(store):
    s = sales_setup(store)
    opportunity = await ow.create_opportunity(ow.CreateOpportunity(name="X", account_id=s["account"].id), store.uow())
    quote = await qw.create_quote(
        qw.CreateQuote(opportunity_id=opportunity.id, name="Q", currency="SEK", price_book_id=s["book"].id), store.uow()
    )
    with pytest.raises(ValidationError) as error:
        await qw.add_quote_items(qw.AddItems(quote_id=quote.id, items=[qw.NewItem(unit_id=s["once"].id)]), store.uow())
    assert error.value.field == "items[0].unitId" and "SEK" in error.value.message


async def test_changing_currency_takes_book_prices_converts_manual_items_and_keeps_discounts(store):
    s = sales_setup(store)
    _, quote = await opportunity_with_quote(store, s)
    with pytest.raises(ValidationError) as error:  # the setup unit has no SEK price
        await qw.change_quote_currency(qw.ChangeCurrency(id=quote.id, currency="SEK"), store.uow())
    assert "Fleet licence" in error.value.message and all(i.currency == "EUR" for i in store.all(QuoteItem))
    await qw.remove_quote_item(qw.RemoveItem(id=store.all(QuoteItem)[1].id), store.uow())
    changed = await qw.change_quote_currency(qw.ChangeCurrency(id=quote.id, currency="SEK"), store.uow())
    items = store.all(QuoteItem)
    assert changed.currency == "SEK" and [i.unit_price for i in items] == [Decimal(13000), Decimal("1000.00")]
    assert items[0].discount_percent == Decimal(10)


async def test_the_rounding_item_makes_the_total_exact_and_is_replaced_not_added(store):
    s = sales_setup(store)
    _, quote = await opportunity_with_quote(store, s)
    await qw.add_rounding_item(qw.AddRounding(quote_id=quote.id, total=Decimal("2700")), store.uow())
    await qw.add_rounding_item(qw.AddRounding(quote_id=quote.id, total=Decimal("2760")), store.uow())
    items = store.all(QuoteItem)
    assert sum(i.total for i in items) == Decimal("2760") and sum(i.is_rounding for i in items) == 1
    assert items[-1].is_rounding and items[-1].unit_price == Decimal("10.00")


async def test_only_one_quote_is_active_and_the_active_one_cannot_be_deleted(store):
    s = sales_setup(store)
    _, quote = await opportunity_with_quote(store, s)
    copy = await qw.duplicate_quote(qw.DuplicateQuote(id=quote.id), store.uow())
    assert not copy.is_active
    with pytest.raises(Conflict):
        await qw.delete_quote(qw.QuoteRef(id=quote.id), store.uow())
    await qw.make_quote_active(qw.QuoteRef(id=copy.id), store.uow())
    assert [q.is_active for q in store.all(Quote)] == [False, True]


async def test_selling_locks_records_revenue_and_makes_one_contract_per_item(store):
    s = sales_setup(store)
    opportunity, quote = await opportunity_with_quote(store, s)
    await qw.add_rounding_item(qw.AddRounding(quote_id=quote.id, total=Decimal("2700")), store.uow())
    sold = await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id), store.uow(now=None))
    assert sold.stage == Stage.WON and sold.locked and sold.actual_revenue == Money(Decimal("2700.00"), "EUR")
    contracts = store.all(Contract)
    assert [c.kind for c in contracts] == [ContractKind.TIME_BASED, ContractKind.ONE_TIME, ContractKind.ONE_TIME]
    assert contracts[0].ends_on == date(2027, 6, 15) and contracts[1].ends_on is None
    assert sum(c.value.amount for c in contracts) == Decimal("2700.00")
    assert contracts[0].value.amount == Decimal("2160.00") + Decimal("2700") - Decimal("2750.00")
    with pytest.raises(Locked):
        await qw.add_quote_items(
            qw.AddItems(quote_id=quote.id, items=[qw.NewItem(name="X", unit_price=Decimal(1))]), store.uow()
        )
    with pytest.raises(Conflict):
        await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id), store.uow())


async def test_selling_needs_an_active_quote_with_items(store):
    s = sales_setup(store)
    opportunity = await ow.create_opportunity(ow.CreateOpportunity(name="X", account_id=s["account"].id), store.uow())
    with pytest.raises(ValidationError):
        await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id), store.uow())
    await qw.create_quote(qw.CreateQuote(opportunity_id=opportunity.id, name="Empty", currency="EUR"), store.uow())
    with pytest.raises(ValidationError):
        await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id), store.uow())
    assert store.all(Contract) == []


async def test_a_stale_version_is_a_conflict(store):
    s = sales_setup(store)
    opportunity, _ = await opportunity_with_quote(store, s)
    read = store.all(Opportunity)[0].version
    await ow.update_opportunity(ow.UpdateOpportunity(id=opportunity.id, name="Renamed", version=read), store.uow())
    with pytest.raises(Conflict):
        await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id, version=read), store.uow())


async def test_a_quote_change_moves_the_opportunitys_version_so_a_sale_of_what_was_read_conflicts(store):
    s = sales_setup(store)
    opportunity, quote = await opportunity_with_quote(store, s)
    read = store.all(Opportunity)[0].version
    await qw.add_quote_items(
        qw.AddItems(quote_id=quote.id, items=[qw.NewItem(name="Extra", unit_price=Decimal(9))]), store.uow()
    )
    with pytest.raises(Conflict):
        await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id, version=read), store.uow())
    assert store.all(Contract) == []


async def test_lost_needs_a_reason_and_won_cannot_be_lost(store):
    s = sales_setup(store)
    opportunity, _ = await opportunity_with_quote(store, s)
    with pytest.raises(ValidationError):
        await ow.mark_opportunity_lost(ow.MarkLost(id=opportunity.id, reason=" "), store.uow())
    await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id), store.uow())
    with pytest.raises(Conflict):
        await ow.mark_opportunity_lost(ow.MarkLost(id=opportunity.id, reason="Late"), store.uow())


async def test_unlock_reopens_and_withdraws_the_sales_contracts(store):
    s = sales_setup(store)
    opportunity, _ = await opportunity_with_quote(store, s)
    await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id), store.uow())
    reopened = await ow.unlock_opportunity(ow.Unlock(id=opportunity.id), store.uow())
    assert reopened.stage == Stage.NEGOTIATION and not reopened.locked and reopened.actual_revenue is None
    assert store.all(Contract) == []
    with pytest.raises(Conflict):
        await ow.unlock_opportunity(ow.Unlock(id=opportunity.id), store.uow())


async def test_an_upsell_starts_from_a_time_based_contract_and_closes_when_it_ends(store):
    s = sales_setup(store)
    opportunity, _ = await opportunity_with_quote(store, s)
    await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id), store.uow())
    licence, setup = store.all(Contract)[:2]
    upsell = await ow.create_upsell_opportunity(ow.CreateUpsell(contract_id=licence.id), store.uow())
    assert upsell.expected_close_date == licence.ends_on and upsell.estimated_revenue == licence.value
    assert upsell.account_id == s["account"].id and upsell.stage == Stage.PROSPECTING
    with pytest.raises(ValidationError):
        await ow.create_upsell_opportunity(ow.CreateUpsell(contract_id=setup.id), store.uow())


async def test_a_sold_opportunity_cannot_be_deleted_or_moved(store):
    s = sales_setup(store)
    opportunity, _ = await opportunity_with_quote(store, s)
    await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id), store.uow())
    with pytest.raises(Locked):
        await ow.delete_opportunity(ow.DeleteOpportunity(id=opportunity.id), store.uow())
    with pytest.raises(Locked):
        await ow.move_opportunity(ow.MoveOpportunity(id=opportunity.id, account_id=s["account"].id), store.uow())


async def test_a_bundle_price_is_split_over_its_components_by_their_weights(store):
    from domain.catalog import Bundle, BundleComponent

    s = sales_setup(store)
    bundle = put(
        store,
        Bundle(
            price_book_id=s["book"].id,
            name="Fleet pack",
            code="FP",
            components=[
                BundleComponent(unit_id=s["yearly"].id, weight=Decimal(70)),
                BundleComponent(unit_id=s["once"].id, weight=Decimal(30)),
            ],
        ),
    )
    opportunity = await ow.create_opportunity(ow.CreateOpportunity(name="X", account_id=s["account"].id), store.uow())
    quote = await qw.create_quote(
        qw.CreateQuote(opportunity_id=opportunity.id, name="Q", currency="EUR", price_book_id=s["book"].id), store.uow()
    )
    await qw.add_quote_items(
        qw.AddItems(
            quote_id=quote.id,
            items=[qw.NewItem(bundle_id=bundle.id, unit_price=Decimal("999.99"), quantity=Decimal(2))],
        ),
        store.uow(),
    )
    lines = store.all(QuoteItem)
    assert [line.unit_price for line in lines] == [Decimal("699.99"), Decimal("300.00")]
    assert sum(line.total for line in lines) == Decimal("1999.98")
    await qw.add_quote_items(qw.AddItems(quote_id=quote.id, items=[qw.NewItem(bundle_id=bundle.id)]), store.uow())
    assert [line.unit_price for line in store.all(QuoteItem)[2:]] == [Decimal(1200), Decimal(500)]


async def test_unlocking_announces_each_withdrawn_contract_and_deleting_records_the_quotes_end(store):
    s = sales_setup(store)
    opportunity, quote = await opportunity_with_quote(store, s)
    await ow.mark_opportunity_sold(ow.MarkSold(id=opportunity.id), store.uow())
    contracts = [c.id for c in store.all(Contract)]
    await ow.unlock_opportunity(ow.Unlock(id=opportunity.id), store.uow())
    assert [e.entity_id for e in store.events if e.type == "ContractWithdrawn"] == contracts
    await ow.delete_opportunity(ow.DeleteOpportunity(id=opportunity.id), store.uow())
    assert {
        "entity_type": "Quote",
        "entity_id": quote.id,
        "field": "deleted",
        "old": "Q1",
        "new": None,
    } in store.history
