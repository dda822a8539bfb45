from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.base import Entity
from domain.enums import ContractKind, ContractStatus, ProductCategory
from domain.errors import ValidationError
from domain.money import Money


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    days_in_month = [
        31,
        29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return date(year, month, min(start.day, days_in_month))


@dataclass(kw_only=True)
class Contract(Entity):
    """One sold quote item: a purchase (ONE_TIME) or a period of service (TIME_BASED)."""

    account_id: int
    opportunity_id: int
    name: str
    kind: ContractKind
    quantity: Decimal
    value: Money
    starts_on: date
    ends_on: date | None = None
    product_id: int | None = None
    quote_item_id: int | None = None
    category: ProductCategory | None = None
    status: ContractStatus = ContractStatus.ACTIVE

    def __post_init__(self) -> None:
        self.kind = ContractKind(self.kind)
        self.status = ContractStatus(self.status)
        if self.kind is ContractKind.TIME_BASED and self.ends_on is None:
            raise ValidationError("endsOn", "a time-based contract has an end")
        if self.kind is ContractKind.ONE_TIME and self.ends_on is not None:
            raise ValidationError("endsOn", "a one-time contract has no end")
        if self.ends_on is not None and self.ends_on <= self.starts_on:
            raise ValidationError("endsOn", "ends before it starts")
