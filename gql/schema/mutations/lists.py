"""Mutations of the configurable lists (admins): three for all five lists, the list named in the input."""

from __future__ import annotations

import strawberry

from domain.workflows import lists as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, node_payload
from gql.schema.inputs import acts_on, described, keep, optional, ref
from gql.schema.mutations.common import RESTRICTED
from gql.schema.settings import ListName, ListValue


@strawberry.input(
    description="A new value of a configurable list. Give only the attribute the list has of its own: personName "
    "(account types), archived (campaign statuses), leadStatus (contact categories)."
)
class CreateListValueInput:
    list_name: ListName = described("The list.")  # type: ignore[valid-type]
    key: str = described(
        "What rows will store and the API reads and writes: UPPER_SNAKE (A-Z, 0-9, _), unique in the list, at most "
        "16 characters (32 for contract categories, 100 for contact categories); it never changes."
    )
    label: str = described("The name shown to users.")
    position: int | None = optional("Its place in the list (default: last).")
    active: bool = optional("False: created inactive.", True)
    person_name: bool | None = optional("Account types: named by first and last name (default false).")
    archived: bool | None = optional("Campaign statuses: a campaign in it is archived (default false).")
    lead_status: bool | None = optional(
        "Contact categories: contacts of prospects in it show lead status (default true)."
    )


@acts_on("ListValue", "Changes to a list value (its key and list stay); fields left out stay as they are.")
class UpdateListValueInput:
    label: str | None = keep("The new label.")
    position: int | None = keep("The new place in the list.")
    active: bool | None = keep("False deactivates it (refused on new writes, kept on existing rows); true again.")
    person_name: bool | None = keep("Account types: named by first and last name.")
    archived: bool | None = keep("Campaign statuses: a campaign in it is archived.")
    lead_status: bool | None = keep("Contact categories: contacts of prospects in it show their lead status.")


DeleteListValueInput = ref(
    "ListValue", "Identifies a list value to delete (only one nothing uses; deactivate one in use)."
)
ListValuePayload = node_payload(ListValue)
create_list_value = update_list_value = mutation(wf, OWN_INPUT, ListValuePayload, RESTRICTED)
delete_list_value = mutation(wf, DeleteListValueInput, Deleted("ListValue"), RESTRICTED)
