"""The price-book rules in the domain, with no database: regions, agreements and the price a quote takes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.catalog import EU, REGION_GROUPS, PriceBook, PriceEntry, check_region, countries_of, pick_price
from domain.errors import ValidationError
from domain.money import Money


def test_a_region_is_a_country_code_or_a_named_group():
    assert [check_region(r) for r in (" no", "eu", "Nordics")] == ["NO", "EU", "NORDICS"]
    for bad in ("Narnia", "N0", "", "NOR"):
        with pytest.raises(ValidationError):
            check_region(bad)
    assert countries_of(["NO", "EU"]) == EU | {"NO"}
    assert "GB" not in REGION_GROUPS["EU"] and "NO" in REGION_GROUPS["EEA"]


def test_a_book_refuses_accounts_outside_its_agreement_and_its_regions():
    book = PriceBook(id=7, name="Nordic agreement", regions=["NORDICS"])
    assert book.refusal(1, "Fjord AS", "NO", linked=set()) is None
    assert book.refusal(1, "Fjord AS", "NO", linked={1}) is None
    assert "other accounts" in book.refusal(2, "Other AS", "NO", linked={1})
    assert "is in DE" in book.refusal(1, "Berlin GmbH", "de", linked=set())
    assert "has no country" in book.refusal(1, "Nowhere Ltd", None, linked=set())
    assert PriceBook(name="Everywhere").refusal(1, "Anyone", None, linked=set()) is None


def test_a_quote_takes_the_most_specific_price_for_its_brand_and_version():
    def entry(amount: str, brand: str = "", version: str = "", currency: str = "EUR") -> PriceEntry:
        return PriceEntry(
            price_book_id=1, unit_id=1, price=Money(Decimal(amount), currency), brand=brand, product_version=version
        )

    entries = [
        entry("100"),
        entry("90", "Acme"),
        entry("80", "Acme", "2"),
        entry("95", version="1"),
        entry("5", currency="USD"),
    ]
    picked = {
        (b, v): pick_price(entries, "EUR", b, v).price.amount
        for b in ("Acme", "Zenith", None)
        for v in ("1", "2", None)
    }
    assert picked == {
        ("Acme", "1"): 90,
        ("Acme", "2"): 80,
        ("Acme", None): 90,
        ("Zenith", "1"): 95,
        ("Zenith", "2"): 100,
        ("Zenith", None): 100,
        (None, "1"): 95,
        (None, "2"): 100,
        (None, None): 100,
    }
    assert pick_price([entry("90", "Acme")], "EUR", None, None) is None  # another brand's price never applies
    assert pick_price(entries, "NOK", "Acme", "2") is None
