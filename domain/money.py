from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.errors import ValidationError

# ISO 4217 minor units (the standard's list of exponents, 2023): every currency not named here has
# two, so the table holds only the exceptions.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF")
        + ("XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


@functools.cache
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def in_minor_units(amount: Decimal, currency: str) -> Decimal:
    """`amount` half-up to the currency's minor unit, as amounts are shown: 81100.00 EUR, 1200 JPY, 1.250 BHD."""
    return amount.quantize(_quantum(currency), rounding=ROUND_HALF_UP)


def check_currency(currency: str, field: str = "currency") -> str:
    if not (
        isinstance(currency, str)
        and len(currency) == 3
        and currency.isascii()
        and currency.isalpha()
        and currency.isupper()
    ):
        raise ValidationError(field, f"{currency!r} is not an ISO 4217 code such as EUR")
    return currency


def to_decimal(value: object, field: str = "amount") -> Decimal:
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(field, f"{value!r} is not a decimal number") from None
    if not result.is_finite():
        raise ValidationError(field, f"{value!r} is not a finite number")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency; never a float."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)
        object.__setattr__(self, "amount", to_decimal(self.amount))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def rounded(self) -> Money:
        """Half-up to the currency's minor unit (totals are always shown this way)."""
        return Money(in_minor_units(self.amount, self.currency), self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValidationError("currency", f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * Decimal(factor), self.currency)

    def convert(self, currency: str, rates_to_base: dict[str, Decimal]) -> Money:
        """Convert through the base currency; rates give units of base per unit of currency."""
        if currency == self.currency:
            return self
        try:
            base = self.amount * rates_to_base[self.currency]
            return Money(base / rates_to_base[currency], currency)
        except KeyError as missing:
            raise ValidationError("currency", f"no exchange rate for {missing.args[0]}") from None
