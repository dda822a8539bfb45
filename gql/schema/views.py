"""Saved views as read: the SavedView node, the `savedViews` list and the caller's default view per list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.criteria import CriteriaEntity
from gql.schema.base import Node, needs
from gql.schema.criteria import tree_out
from gql.schema.enums import Role
from gql.schema.fields import connection, to_one
from gql.schema.filters import SEARCH, _f, order_input
from gql.schema.history import history_field
from gql.schema.selections import SelectionEntity, SelectionSharing
from persistence import filters as spec
from persistence import reads, tables


@strawberry.type(
    description="A named filter (criteria) and order for one root list: private to its owner or shared with every "
    "user; an admin makes a shared one a role's default, and each user may pick an own default, which comes first."
)
class SavedView(Node):
    graphql_type = "SavedView"
    history = history_field("SavedView")
    name: str = strawberry.field(description="Its name.")
    list: SelectionEntity = strawberry.field(description="The root list it is for.")  # type: ignore[valid-type]
    order_field: str | None = strawberry.field(
        description="The list's order field (a value of that list's order enum, e.g. NAME); null: its default."
    )
    order_descending: bool = strawberry.field(description="Whether the order is descending.")
    sharing: SelectionSharing = strawberry.field(description="PRIVATE or EVERYONE.")  # type: ignore[valid-type]
    default_for_roles: list[Role] = strawberry.field(  # type: ignore[valid-type]
        description="The roles whose default view of the list it is."
    )
    owner_default: bool = strawberry.field(description="Whether it is its owner's own default for the list.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to change it safely.")
    owner = to_one("gql.schema.people:User", tables.users, "owner_user_id", "The user who owns it (null: a partner).")

    @strawberry.field(
        description="The filter, in the shape of the `Criteria` input (pass it as the list's `criteria`); null: none."
    )
    @needs("criteria", "list")
    def criteria(self) -> JSON | None:
        return tree_out(self.__dict__["list"], self.__dict__["criteria"])


async def default_view(info: Info, list_: Any) -> SavedView | None:
    """The caller's own default view of the list, else its role's (among the views it may read)."""
    context = info.context
    entity = CriteriaEntity(list_.value)
    v = tables.saved_views
    async with context.reads.connect() as conn:
        rows = await reads.all_rows(conn, v, ["id"], context.viewer, where=[v.c.list == entity.value])
    principal = context.principal
    own = [
        r
        for r in rows
        if r.owner_default and r.owner_user_id == principal.user_id and r.owner_partner_id == principal.partner_id
    ]
    role = principal.role.value if principal.role is not None and principal.partner_id is None else None
    chosen = (
        own[0] if own else next((r for r in rows if role is not None and role in (r.default_for_roles or [])), None)
    )
    return SavedView.from_row(chosen) if chosen is not None else None


SavedViewOrder = order_input(
    "SavedView", {"NAME": "By name.", "CREATED_AT": "When it was created.", "UPDATED_AT": "When it last changed."}
)


@strawberry.input(description="Which saved views to list. All given conditions must hold.")
class SavedViewFilter:
    search: str | None = _f(SEARCH)
    list: SelectionEntity | None = _f("Only views of this list.")  # type: ignore[valid-type]
    sharing: SelectionSharing | None = _f("Only private or only shared views.")  # type: ignore[valid-type]


def saved_views_connection(description: str) -> Any:
    return connection(
        "gql.schema.views:SavedView",
        spec.SAVED_VIEWS,
        default_order="NAME",
        filter_type=SavedViewFilter,
        order_type=SavedViewOrder,
        description=description,
    )
