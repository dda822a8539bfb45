"""Custom fields as read: the definitions (settings, `Query.settings.customFields`) and the values on accounts,
contacts, opportunities and leads (`customFields`), each with its definition's key, label and type."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain import custom_fields as dcf
from domain.errors import ValidationError
from gql.schema.base import Node, described_enum, needs
from gql.schema.history import history_field
from persistence import tables

CustomFieldType = described_enum(
    dcf.CustomFieldType,
    "CustomFieldType",
    "The type of a custom field's values.",
    {
        "STRING": "Text.",
        "NUMBER": "A number (at most 15 significant digits).",
        "DATE": "A calendar date (YYYY-MM-DD).",
        "BOOLEAN": "Yes or no (true / false).",
        "CHOICE": "One of the field's options.",
    },
)
CustomFieldEntity = described_enum(
    Enum("CustomFieldEntityName", {e.value: e.value for e in dcf.CUSTOM_ENTITIES}),
    "CustomFieldEntity",
    "The entities that carry custom fields.",
    {"ACCOUNT": "Accounts.", "CONTACT": "Contacts.", "OPPORTUNITY": "Opportunities.", "LEAD": "Leads."},
)


@strawberry.type(
    description="A custom field an admin defined for accounts, contacts, opportunities or leads: every write of "
    "those rows checks their values against it (type, options, mandatory)."
)
class CustomFieldDefinition(Node):
    graphql_type = "CustomFieldDefinition"
    entity_type: CustomFieldEntity = strawberry.field(description="The entity whose rows carry it.")  # type: ignore[valid-type]
    key: str = strawberry.field(
        description="Its key, unique among the entity's fields, never changed: the `key` of its values and of "
        "`Criteria.customField`."
    )
    label: str = strawberry.field(description="Its name as shown.")
    type: CustomFieldType = strawberry.field(description="The type of its values.")  # type: ignore[valid-type]
    options: list[str] = strawberry.field(description="The values a CHOICE field takes, in order; empty otherwise.")
    mandatory: bool = strawberry.field(
        description="Every row written with its custom fields (and every new row) "
        "has a value of it, while it is active."
    )
    active: bool = strawberry.field(
        description="False when deactivated: no row takes a new value of it; the values rows hold stay readable."
    )
    position: int = strawberry.field(description="Its place in the order of the entity's fields (ascending).")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to change it safely.")
    history = history_field("CustomFieldDefinition")


@strawberry.type(description="The value a row holds of one custom field, with the field's key, label and type.")
class CustomFieldValue:
    key: str = strawberry.field(description="The field's key.")
    label: str = strawberry.field(description="The field's label (its key when the field is no longer defined).")
    type: CustomFieldType | None = strawberry.field(  # type: ignore[valid-type]
        description="The field's type (null when the field is no longer defined)."
    )
    active: bool = strawberry.field(description="False when the field is deactivated (the value is kept).")
    value: JSON = strawberry.field(
        description="The value as JSON: text for STRING and CHOICE, a number for NUMBER, YYYY-MM-DD text for DATE, "
        "true/false for BOOLEAN. The typed fields below give the same value in its own type."
    )
    text: str | None = strawberry.field(description="The value of a STRING or CHOICE field.")
    number: Decimal | None = strawberry.field(description="The value of a NUMBER field.")
    date: date | None = strawberry.field(description="The value of a DATE field.")
    boolean: bool | None = strawberry.field(description="The value of a BOOLEAN field.")
    definition: CustomFieldDefinition | None = strawberry.field(
        description="The field's definition (null when the field is no longer defined)."
    )


def _typed(kind: str | None, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"text": None, "number": None, "date": None, "boolean": None}
    if kind in ("STRING", "CHOICE") and isinstance(value, str):
        out["text"] = value
    elif kind == "NUMBER" and isinstance(value, (int, float)) and not isinstance(value, bool):
        out["number"] = Decimal(str(value))
    elif kind == "DATE" and isinstance(value, str):
        try:
            out["date"] = date.fromisoformat(value)
        except ValueError:
            pass
    elif kind == "BOOLEAN" and isinstance(value, bool):
        out["boolean"] = value
    return out


async def definitions(info: Info, entity: str) -> list[Any]:
    """The entity's definitions (rows), by position: one statement per request for every entity asked."""
    loader = info.context.children(
        tables.custom_field_definitions,
        "entity_type",
        order_by=(tables.custom_field_definitions.c.position, tables.custom_field_definitions.c.key),
    )
    return await loader.load(entity)


async def values_of(info: Info, entity: str, stored: dict[str, Any] | None) -> list[CustomFieldValue]:
    """A row's custom field values in the order of their definitions (values of keys no longer defined last,
    by key)."""
    stored = stored or {}
    if not stored:
        return []
    defined = {row.key: row for row in await definitions(info, entity)}
    order = [k for k in defined if k in stored] + sorted(k for k in stored if k not in defined)
    out = []
    for key in order:
        row = defined.get(key)
        kind = row.type if row is not None else None
        out.append(
            CustomFieldValue(
                key=key,
                label=row.label if row is not None else key,
                type=dcf.CustomFieldType(kind) if kind else None,  # type: ignore[arg-type]
                active=bool(row.active) if row is not None else False,
                value=stored[key],
                definition=CustomFieldDefinition.from_row(row),
                **_typed(kind, stored[key]),
            )
        )
    return out


def as_text_pairs(stored: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, dcf.as_text(stored[k])) for k in sorted(stored)]


def custom_fields_field(entity: str) -> Any:
    """`customFields` of an entity type."""

    @strawberry.field(
        description="The custom field values this row holds, in the order of the fields' definitions (a field "
        "without a value is left out)."
    )
    @needs("custom_fields")
    async def custom_fields(self: Any, info: Info) -> list[CustomFieldValue]:
        return await values_of(info, entity, self.__dict__["custom_fields"])

    return custom_fields


@strawberry.input(
    description="One custom field's value in a write: the field's key and its value (text for STRING and CHOICE, "
    "a number for NUMBER, YYYY-MM-DD for DATE, true/false for BOOLEAN; null removes the value)."
)
class CustomFieldValueInput:
    key: str = strawberry.field(description="The field's key (`CustomFieldDefinition.key`).")
    value: JSON | None = strawberry.field(default=None, description="The value; null removes it.")


CUSTOM_FIELDS_TEXT = (
    "Custom field values (`settings.customFields` lists the fields): each checked against its field's type and "
    "options; mandatory fields need a value."
)
CUSTOM_FIELDS_UPDATE = "Custom field values to set, key by key (a null value removes one); fields left out stay."


def custom_input(values: list[CustomFieldValueInput]) -> dict[str, Any]:
    """The values of a write's `customFields` input as the workflows take them (each key once)."""
    out: dict[str, Any] = {}
    for item in values:
        if item.key in out:
            raise ValidationError(f"customFields.{item.key}", "each key may appear once")
        out[item.key] = item.value
    return out
