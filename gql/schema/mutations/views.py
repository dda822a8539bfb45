"""Mutations of saved views: create, change, make a default (a role's, or one's own), delete."""

from __future__ import annotations

import strawberry

from domain.workflows import views as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, node_payload
from gql.schema.criteria import Criteria
from gql.schema.enums import Role
from gql.schema.inputs import acts_on, described, optional, ref, update_of
from gql.schema.mutations.common import RESTRICTED, WRITE
from gql.schema.selections import SelectionEntity, SelectionSharing
from gql.schema.views import SavedView


@strawberry.input(description="A new saved view of a root list: its filter and order.")
class CreateSavedViewInput:
    name: str = described("Its name (at most 200 characters).", update="New name.")
    list: SelectionEntity = described("The root list it is for.", update=False)  # type: ignore[valid-type]
    criteria: Criteria | None = optional("The filter (the criteria language).", update="New filter; null: none.")
    order_field: str | None = optional(
        "A value of the list's order enum (e.g. NAME, CREATED_AT); null: the list's default.", update="New order field."
    )
    order_descending: bool = optional("Descending order.", False, update="New direction.")
    sharing: SelectionSharing = optional(  # type: ignore[valid-type]
        "PRIVATE (default) or EVERYONE (every user; a partner's stay private).",
        SelectionSharing.PRIVATE,  # type: ignore[attr-defined]
        update="New sharing.",
    )
    my_default: bool = optional("Make it your own default view of the list.", False, update=False)


@acts_on("SavedView", "A view to make a default.", version=None)
class SetDefaultViewInput:
    roles: list[Role] | None = optional(  # type: ignore[valid-type]
        "Admins: the roles whose default view of the list it becomes (each role has one per list; empty: none)."
    )
    my_default: bool | None = optional("Your own default of the list (a view of your own), or no longer.")


DeleteSavedViewInput = ref("SavedView", "Identifies a view to delete, with the version you read.")
UpdateSavedViewInput = update_of(
    CreateSavedViewInput,
    "Changes to a view you own (an admin: any shared one); fields left out stay as they are.",
    order=("name", "criteria", "order_field", "order_descending", "sharing"),
)
SavedViewPayload = node_payload(SavedView)
create_saved_view = mutation(wf, CreateSavedViewInput, SavedViewPayload, WRITE)
update_saved_view = set_default_view = mutation(wf, OWN_INPUT, SavedViewPayload, RESTRICTED)
delete_saved_view = mutation(wf, DeleteSavedViewInput, Deleted("SavedView"), RESTRICTED)
