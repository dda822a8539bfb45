"""Mutations of the custom field definitions (settings, admins only): create, change (label, options, mandatory,
active, position) and delete."""

from __future__ import annotations

import strawberry

from domain.errors import Conflict, NotFound, PermissionDenied
from domain.workflows import custom_fields as wf
from gql.resolvers.mutation import Deleted, mutation, node_payload
from gql.schema.custom_fields import CustomFieldDefinition, CustomFieldEntity, CustomFieldType
from gql.schema.inputs import changes, described, optional, ref
from persistence.custom_fields import custom_field_use

ERRORS = (NotFound, Conflict, PermissionDenied)


def _use(_context: object) -> tuple[object, ...]:
    return (custom_field_use,)


@strawberry.input(description="A new custom field of accounts, contacts, opportunities or leads.")
class CreateCustomFieldInput:
    entity_type: CustomFieldEntity = described("The entity whose rows carry it.", update=False)  # type: ignore[valid-type]
    key: str = described(
        "Its key: UPPER_SNAKE (A-Z, 0-9, _), unique among the entity's fields; never changes.", update=False
    )
    label: str = described("Its name as shown.", update="New label.")
    type: CustomFieldType = described("The type of its values; never changes.", update=False)  # type: ignore[valid-type]
    options: list[str] = optional(
        "The options of a CHOICE field, in order (none for other types).",
        [],
        update="The options, replacing all (an option some row holds cannot be removed).",
    )
    mandatory: bool = optional(
        "Every new row, and every row whose custom fields are written, needs a value.",
        False,
        update="Mandatory or not.",
    )
    active: bool = optional(
        "Takes values (default true).", True, update="False deactivates it: no new values are taken, held values stay."
    )
    position: int | None = optional(
        "Its place in the order (default: after the entity's last field).", update="New place in the order."
    )


@changes(
    CreateCustomFieldInput, "CustomFieldDefinition", "Changes to a custom field; fields left out stay as they are."
)
class UpdateCustomFieldInput: ...


DeleteCustomFieldInput = ref(
    "CustomFieldDefinition", "Identifies a custom field to delete (no row may hold a value of it)."
)
CustomFieldPayload = node_payload(CustomFieldDefinition)
create_custom_field = mutation(wf, CreateCustomFieldInput, CustomFieldPayload, ERRORS)
update_custom_field = mutation(wf, UpdateCustomFieldInput, CustomFieldPayload, ERRORS, ports=_use)
delete_custom_field = mutation(wf, DeleteCustomFieldInput, Deleted("CustomFieldDefinition"), ERRORS, ports=_use)
