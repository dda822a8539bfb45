from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from domain.base import Entity, required
from domain.errors import ValidationError
from domain.money import Money, check_currency, minor_units

MAX_QUANTITY = Decimal("999999999")  # what the columns hold, so totals stay exact
MAX_PRICE = Decimal("999999999999")
MAX_POSITION = 100_000


def line_total(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, currency: str) -> Decimal:
    gross = quantity * unit_price * (Decimal(100) - discount_percent) / Decimal(100)
    return gross.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


@dataclass(kw_only=True)
class QuoteItem(Entity):
    quote_id: int
    name: str
    quantity: Decimal
    unit_price: Decimal
    currency: str
    discount_percent: Decimal = Decimal(0)
    product_id: int | None = None
    unit_id: int | None = None
    unit_name: str | None = None
    position: int = 0
    is_rounding: bool = False
    total: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        check_currency(self.currency)
        for name, value, limit in (
            ("quantity", self.quantity, MAX_QUANTITY),
            ("unitPrice", self.unit_price, MAX_PRICE),
            ("discountPercent", self.discount_percent, Decimal(100)),
        ):
            if not Decimal(value).is_finite():
                raise ValidationError(name, f"{value} is not a finite number")
            if abs(value) > limit:
                raise ValidationError(name, f"{value} is larger than {limit}")
        if not 0 <= self.position <= MAX_POSITION:
            raise ValidationError("position", f"must be between 0 and {MAX_POSITION}")
        if self.quantity <= 0 and not self.is_rounding:
            raise ValidationError("quantity", "must be positive")
        if not (Decimal(0) <= self.discount_percent <= Decimal(100)):
            raise ValidationError("discountPercent", "must be between 0 and 100")
        if self.unit_price < 0 and not self.is_rounding:
            raise ValidationError("unitPrice", "cannot be negative")
        self.total = line_total(self.quantity, self.unit_price, self.discount_percent, self.currency)


@dataclass(kw_only=True)
class Quote(Entity):
    opportunity_id: int
    name: str
    currency: str
    price_book_id: int | None = None
    brand: str | None = None
    product_version: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    is_active: bool = False

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        check_currency(self.currency)
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError("validUntil", "ends before it starts")


def quote_total(items: list[QuoteItem], currency: str) -> Money:
    return Money(sum((i.total for i in items), Decimal(0)), currency).rounded()
