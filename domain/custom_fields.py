"""Custom fields (issue 17, item 5): fields an admin defines per entity (accounts, contacts, opportunities,
leads), each with a key, a label, a type (STRING, NUMBER, DATE, BOOLEAN, CHOICE with its options), whether it
is mandatory, whether it is active and its place in the order. A row keeps its values as one JSON object
`{key: value}` (text, a number, an ISO date, true/false, or one of the options); `check_values` is the one
rule every write of those entities goes through. The criteria language tests them with `{"custom": key, …}`
(domain/criteria.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from domain.base import Entity, required
from domain.criteria import CriteriaEntity
from domain.errors import ValidationError

# New keys: UPPER_SNAKE (the compatibility rule of configurable lists). Keys of the account custom attributes
# that existed before definitions (migration 0019) are kept as they were: a key never changes, so values
# never move.
KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,62}$")
KEY_MAX = 100
LABEL_MAX = 200
OPTION_MAX = 100
MAX_OPTIONS = 200
TEXT_MAX = 2000
# A number is kept as a JSON number; beyond 15 significant digits a double would not give it back.
NUMBER_DIGITS = 15
NUMBER_LIMIT = Decimal(10) ** 15
CUSTOM_ENTITIES = (CriteriaEntity.ACCOUNT, CriteriaEntity.CONTACT, CriteriaEntity.OPPORTUNITY, CriteriaEntity.LEAD)
FIELD = "customFields"


class CustomFieldType(str, Enum):
    STRING = "STRING"
    NUMBER = "NUMBER"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"
    CHOICE = "CHOICE"


@dataclass(kw_only=True)
class CustomFieldDefinition(Entity):
    entity_type: CriteriaEntity
    key: str
    label: str
    type: CustomFieldType
    options: list[str] = field(default_factory=list)
    mandatory: bool = False
    active: bool = True
    position: int = 0

    def __post_init__(self) -> None:
        self.entity_type = CriteriaEntity(self.entity_type)
        if self.entity_type not in CUSTOM_ENTITIES:
            raise ValidationError("entityType", f"{self.entity_type.value} has no custom fields")
        self.key = required(self.key, "key")
        if len(self.key) > KEY_MAX:
            raise ValidationError("key", f"is longer than {KEY_MAX} characters")
        self.label = required(self.label, "label")
        if len(self.label) > LABEL_MAX:
            raise ValidationError("label", f"is longer than {LABEL_MAX} characters")
        self.type = CustomFieldType(self.type)
        if not 0 <= self.position <= 1_000_000:
            raise ValidationError("position", "is from 0 to 1,000,000")
        options = [(o or "").strip() for o in self.options]
        if self.type is CustomFieldType.CHOICE:
            if not options or len(options) > MAX_OPTIONS:
                raise ValidationError("options", f"a CHOICE field lists 1 to {MAX_OPTIONS} options")
            if any(not o for o in options):
                raise ValidationError("options", "an option is not blank")
            if any(len(o) > OPTION_MAX for o in options):
                raise ValidationError("options", f"an option is at most {OPTION_MAX} characters")
            if len(set(options)) != len(options):
                raise ValidationError("options", "each option is listed once")
        elif options:
            raise ValidationError("options", "only a CHOICE field has options")
        self.options = options


def check_new_key(key: str) -> None:
    """A key an admin gives a new definition: UPPER_SNAKE, at most 63 characters."""
    if not KEY.match(key or ""):
        raise ValidationError("key", f"{key!r} is not a key: UPPER_SNAKE (A-Z, 0-9, _), starting with a letter")


def _value(definition: CustomFieldDefinition, value: Any, where: str) -> Any:
    """One value as stored (JSON), checked against its definition's type."""
    kind = definition.type
    if kind in (CustomFieldType.STRING, CustomFieldType.CHOICE):
        if not isinstance(value, str):
            raise ValidationError(where, f"{definition.key} is {kind.value.lower()} text, not {value!r}")
        if kind is CustomFieldType.CHOICE and value not in definition.options:
            raise ValidationError(
                where, f"{value!r} is not an option of {definition.key}; one of {', '.join(definition.options)}"
            )
        if len(value) > TEXT_MAX:
            raise ValidationError(where, f"{definition.key} is at most {TEXT_MAX} characters")
        return value
    if kind is CustomFieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValidationError(where, f"{definition.key} is true or false, not {value!r}")
        return value
    if kind is CustomFieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
            raise ValidationError(where, f"{definition.key} is a number, not {value!r}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(where, f"{definition.key} is a number, not {value!r}") from None
        if (
            not number.is_finite()
            or abs(number) >= NUMBER_LIMIT
            or len(number.normalize().as_tuple().digits) > NUMBER_DIGITS
            or Decimal(repr(float(number))) != number  # a JSON number (a double) gives it back as it is
        ):
            raise ValidationError(
                where, f"{definition.key} is a number below 10^15 of at most {NUMBER_DIGITS} significant digits"
            )
        return int(number) if number == number.to_integral_value() else float(number)
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValidationError(where, f"{definition.key} is a date (YYYY-MM-DD), not {value!r}") from None


def empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_values(
    definitions: Iterable[CustomFieldDefinition],
    values: Mapping[str, Any],
    before: Mapping[str, Any] | None = None,
    *,
    where: str = FIELD,
) -> dict[str, Any]:
    """The custom field values a row will hold after a write, as stored: `values` replaces `before`
    key by key (a null or blank value removes it). A ValidationError names the field (`customFields.TIER`)
    for an unknown key, a value of the wrong type, an option not in the list, a changed value of an inactive
    field, or an active mandatory field left without a value. Values a row already held of an inactive field
    stay as they are."""
    defined = {d.key: d for d in definitions}
    before = dict(before or {})
    out = dict(before)
    for key, value in values.items():
        definition = defined.get(key)
        place = f"{where}.{key}"
        if empty(value):
            out.pop(key, None)
            continue
        if definition is None:
            known = ", ".join(sorted(k for k, d in defined.items() if d.active)) or "none is defined"
            raise ValidationError(place, f"there is no custom field {key!r} here; known: {known}")
        stored = _value(definition, value, place)
        if not definition.active and before.get(key) != stored:
            raise ValidationError(place, f"{key} is deactivated: its values are kept, no new one is taken")
        out[key] = stored
    for definition in sorted(defined.values(), key=lambda d: (d.position, d.key)):
        if definition.mandatory and definition.active and empty(out.get(definition.key)):
            raise ValidationError(f"{where}.{definition.key}", f"{definition.label} ({definition.key}) is mandatory")
    return out


def from_text(definitions: Iterable[CustomFieldDefinition], pairs: Mapping[str, str]) -> dict[str, Any]:
    """Values given as text (CSV imports, the older `customAttributes` input) in their fields' types: a number,
    a date, true/false (also yes/no, 1/0) as written; anything else as it is."""
    defined = {d.key: d for d in definitions}
    out: dict[str, Any] = {}
    for key, text in pairs.items():
        definition = defined.get(key)
        if definition is not None and definition.type is CustomFieldType.BOOLEAN and isinstance(text, str):
            lowered = text.strip().lower()
            flags = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
            out[key] = flags.get(lowered, text) if lowered else None
        else:
            out[key] = text
    return out


def as_text(value: Any) -> str:
    """A stored value as text (the older `customAttributes` key/value list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
