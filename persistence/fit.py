"""Check that values fit their columns before they are written: a string longer than its column, a
number with more decimals or digits than its column keeps, or an integer beyond 32 bits is a
ValidationError naming the field, on every backend (PostgreSQL would refuse it with an error the
client cannot act on; SQLite would store it as it is, or rounded)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Numeric, String, Table

from domain.commands import camel
from domain.errors import ValidationError

INT32 = 2**31 - 1


def field_name(column: str) -> str:
    """The API's name for a column: `estimated_revenue_amount` → `estimatedRevenue`."""
    for suffix in ("_amount", "_currency"):
        if column.endswith(suffix):
            column = column[: -len(suffix)]
    return camel(column)


def check_fits(table: Table, row: dict[str, Any]) -> None:
    for name, value in row.items():
        if value is None or name not in table.c:
            continue
        column_type = table.c[name].type
        if isinstance(column_type, String) and column_type.length and isinstance(value, str):
            if len(value) > column_type.length:
                raise ValidationError(field_name(name), f"is longer than {column_type.length} characters")
        elif isinstance(column_type, Numeric) and isinstance(value, Decimal):
            _check_decimal(name, value, column_type.precision, column_type.scale)
        elif isinstance(column_type, Integer) and isinstance(value, int) and not isinstance(value, bool):
            if name != "id" and abs(value) > INT32:
                raise ValidationError(field_name(name), f"{value} is out of range")


def _check_decimal(name: str, value: Decimal, precision: int | None, scale: int | None) -> None:
    if not value.is_finite():
        raise ValidationError(field_name(name), f"{value} is not a finite number")
    if precision is None or scale is None:
        return
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > scale:
        raise ValidationError(field_name(name), f"{value} has more than {scale} decimals")
    if abs(value) >= Decimal(10) ** (precision - scale):
        raise ValidationError(
            field_name(name), f"{value} is too large (at most {precision - scale} digits before the decimal point)"
        )
