from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from domain.base import Entity, key_of, required
from domain.errors import ValidationError, ref
from domain.money import Money, check_currency


@dataclass(kw_only=True)
class Product(Entity):
    name: str
    code: str
    category: str  # a key of the contract categories (domain/lists.py)
    description: str | None = None
    active: bool = True

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.code = required(self.code, "code")
        self.category = key_of(self.category, "category")


MAX_PERIOD_MONTHS = 1200


@dataclass(kw_only=True)
class ProductUnit(Entity):
    """How a product is sold: once, or recurring with a period in months."""

    product_id: int
    name: str
    recurring: bool = False
    period_months: int | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        if self.recurring and not (self.period_months and self.period_months > 0):
            raise ValidationError("periodMonths", "a recurring unit needs a period of at least one month")
        if not self.recurring and self.period_months is not None:
            raise ValidationError("periodMonths", "a one-time unit has no period")
        if self.period_months is not None and self.period_months > MAX_PERIOD_MONTHS:
            raise ValidationError(
                "periodMonths", f"at most {MAX_PERIOD_MONTHS} months (a contract has to end within a century)"
            )


# The named regions a price book may be limited to, besides single countries (ISO 3166-1 alpha-2 codes).
EU = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
REGION_GROUPS: dict[str, frozenset[str]] = {
    "EU": EU,
    "EEA": EU | {"IS", "LI", "NO"},
    "NORDICS": frozenset({"DK", "FI", "IS", "NO", "SE"}),
    "DACH": frozenset({"DE", "AT", "CH"}),
    "BENELUX": frozenset({"BE", "NL", "LU"}),
}


def check_region(value: str, field_name: str = "regions") -> str:
    """A region as a book keeps it: a country code (two letters) or a named group, upper case."""
    region = value.strip().upper()
    if region in REGION_GROUPS or (len(region) == 2 and region.isascii() and region.isalpha()):
        return region
    raise ValidationError(
        field_name,
        f"{value!r} is neither a country code (ISO 3166-1, two letters) nor one of the regions "
        f"{', '.join(REGION_GROUPS)}",
    )


def countries_of(regions: Collection[str]) -> frozenset[str]:
    """The countries a list of regions covers."""
    found: set[str] = set()
    for region in regions:
        found |= REGION_GROUPS.get(region.upper(), {region.upper()})
    return frozenset(found)


@dataclass(kw_only=True)
class PriceBook(Entity):
    """A list of prices. Limited to `regions` (none: everywhere) and, when it has linked accounts (kept
    beside it, see `refusal`), to those customers: a book for an agreement with them."""

    name: str
    description: str | None = None
    brands: list[str] = field(default_factory=list)
    product_versions: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    active: bool = True
    is_update: bool = False
    previous_id: int | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        if self.is_update and self.previous_id is None:
            raise ValidationError("previousId", "an update price book names the book it updates")

    def serves(self, country: str | None) -> bool:
        """Whether the book's regions include an account in `country` (a book without regions serves all)."""
        if not self.regions:
            return True
        return country is not None and country.strip().upper() in countries_of(self.regions)

    def refusal(self, account_id: int, account_name: str, country: str | None, linked: Collection[int]) -> str | None:
        """Why a quote for the account may not be priced from this book (None: it may). `linked`: the
        accounts the book is for (none: every customer)."""
        if not self.active:
            return f"price book {ref(self)} ({self.name}) is not active"
        if linked and account_id not in linked:
            return (
                f"price book {ref(self)} ({self.name}) is for the agreements of other accounts, "
                f"not for account {ref('Account', account_id)} ({account_name}); "
                "link the account to the book or choose another book"
            )
        if not self.serves(country):
            where = f"is in {country.strip().upper()}" if country and country.strip() else "has no country"
            return (
                f"price book {ref(self)} ({self.name}) is limited to the regions {', '.join(self.regions)}; "
                f"account {ref('Account', account_id)} ({account_name}) {where}"
            )
        return None


@dataclass(kw_only=True)
class PriceEntry(Entity):
    """A unit's price in a book and currency; for one brand and product version of the book, or (empty)
    for any. A quote takes the most specific price for its brand and version (`pick_price`)."""

    price_book_id: int
    unit_id: int
    price: Money
    brand: str = ""
    product_version: str = ""

    def __post_init__(self) -> None:
        self.brand = (self.brand or "").strip()
        self.product_version = (self.product_version or "").strip()
        if self.price.amount < 0:
            raise ValidationError("price", "cannot be negative")


def pick_price(
    entries: Collection[PriceEntry], currency: str, brand: str | None, version: str | None
) -> PriceEntry | None:
    """The price a quote in `currency` for `brand` and `version` takes from a unit's entries: for both, else
    for its brand, else for its version, else the one for any brand and version. An entry for another brand
    or version never applies."""
    brand, version = (brand or "").strip(), (version or "").strip()
    fitting = {
        (e.brand, e.product_version): e
        for e in entries
        if e.price.currency == currency and e.brand in ("", brand) and e.product_version in ("", version)
    }
    for key in ((brand, version), (brand, ""), ("", version), ("", "")):
        if key in fitting:
            return fitting[key]
    return None


@dataclass(kw_only=True)
class BundleComponent:
    unit_id: int
    weight: Decimal


@dataclass(kw_only=True)
class Bundle(Entity):
    """Products sold together; the weights split the bundle's price and sum to 100."""

    price_book_id: int
    name: str
    code: str
    components: list[BundleComponent]
    description: str | None = None
    active: bool = True

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.code = required(self.code, "code")
        if not self.components:
            raise ValidationError("components", "a bundle has at least one component")
        total = sum((Decimal(c.weight) for c in self.components), Decimal(0))
        if total != 100:
            raise ValidationError("components", f"weights sum to {total}, not 100")
        if any(Decimal(c.weight) <= 0 for c in self.components):
            raise ValidationError("components", "every weight is positive")

    def split(self, price: Money) -> list[Money]:
        """Share a bundle price by weight; the last share takes the rounding remainder."""
        shares = [Money(price.amount * Decimal(c.weight) / 100, price.currency).rounded() for c in self.components]
        remainder = price.rounded() - sum(shares[1:], shares[0])
        shares[-1] = shares[-1] + remainder
        return shares


@dataclass(kw_only=True)
class ExchangeRate:
    """Units of the base currency (EUR) per unit of `currency`."""

    currency: str
    rate: Decimal

    def __post_init__(self) -> None:
        check_currency(self.currency)
        if self.rate <= 0:
            raise ValidationError("rate", "must be positive")


BASE_CURRENCY = "EUR"
