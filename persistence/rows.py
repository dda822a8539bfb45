"""Turn domain entities into table rows (Money fields become `<name>_amount`, `<name>_currency`)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from domain.money import Money

_NOT_COLUMNS = {"components"}


def to_row(entity: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for f in dataclasses.fields(entity):
        if f.name in _NOT_COLUMNS:
            continue
        value = getattr(entity, f.name)
        if isinstance(value, Money) or (value is None and _is_money(f)):
            row[f"{f.name}_amount"] = value.amount if value is not None else None
            row[f"{f.name}_currency"] = value.currency if value is not None else None
        elif isinstance(value, Enum):
            row[f.name] = value.value
        elif hasattr(value, "to_dict"):
            row[f.name] = value.to_dict()
        else:
            row[f.name] = value
    if row.get("id") is None:
        row.pop("id", None)
    return row


def _is_money(f: dataclasses.Field) -> bool:
    return "Money" in str(f.type)
