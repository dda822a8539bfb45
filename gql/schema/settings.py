"""`Query.settings`: what an admin configures and every signed-in caller reads (the values the lists and fields
take). Custom field definitions live here; the configurable lists join them (issue 17, item 5)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from gql.schema.custom_fields import CustomFieldDefinition, CustomFieldEntity
from persistence import reads, tables


@strawberry.type(description="The settings an admin configures, readable by every signed-in caller.")
class Settings:
    @strawberry.field(
        description="The custom field definitions, by entity and position (deactivated ones too, unless `active` "
        "says otherwise)."
    )
    async def custom_fields(
        self,
        info: Info,
        entity_type: Annotated[
            CustomFieldEntity | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only the fields of this entity."),
        ] = None,
        active: Annotated[
            bool | None, strawberry.argument(description="Only active (true) or inactive (false) ones.")
        ] = None,
    ) -> list[CustomFieldDefinition]:
        d = tables.custom_field_definitions
        where = []
        if entity_type is not None:
            where.append(d.c.entity_type == entity_type.value)
        if active is not None:
            where.append(d.c.active == active)
        async with info.context.reads.connect() as conn:
            rows = await reads.all_rows(conn, d, ("entity_type", "position", "key"), info.context.viewer, where)
        return CustomFieldDefinition.from_rows(rows)
