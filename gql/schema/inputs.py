"""Input pieces that many mutations share, and their conversion to domain values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from domain.money import Money


@strawberry.input(description='An amount in a currency, e.g. `{amount: "1250.00", currency: "EUR"}`.')
class MoneyInput:
    amount: Decimal = strawberry.field(description="The amount as a decimal string (never a float).")
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. EUR.")

    def to_domain(self) -> Money:
        return Money(self.amount, self.currency)


def described(description: str) -> Any:
    """A field every input must give."""
    return strawberry.field(description=description)


def optional(description: str) -> Any:
    """A field an input may leave out: null."""
    return strawberry.field(default=None, description=description)


def keep(description: str) -> Any:
    """A field of a change that may be left out: left out keeps the value, null clears it."""
    return strawberry.field(default=strawberry.UNSET, description=description)
