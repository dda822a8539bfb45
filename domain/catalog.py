from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from domain.base import Entity, required
from domain.enums import ProductCategory
from domain.errors import ValidationError
from domain.money import Money, check_currency


@dataclass(kw_only=True)
class Product(Entity):
    name: str
    code: str
    category: ProductCategory
    description: str | None = None
    active: bool = True

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.code = required(self.code, "code")
        self.category = ProductCategory(self.category)


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


@dataclass(kw_only=True)
class PriceBook(Entity):
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


@dataclass(kw_only=True)
class PriceEntry(Entity):
    price_book_id: int
    unit_id: int
    price: Money

    def __post_init__(self) -> None:
        if self.price.amount < 0:
            raise ValidationError("price", "cannot be negative")


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
