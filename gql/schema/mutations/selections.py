"""Mutations of selections: create (dynamic, static, or saved from the results of criteria), change, copy,
convert to static, delete, and add / remove / clear a static selection's members."""

from __future__ import annotations

import strawberry

from domain.workflows import selections as wf
from gql.resolvers.mutation import Deleted, decode_any, mutation, node_payload
from gql.schema.criteria import Criteria
from gql.schema.inputs import acts_on, described, optional, ref, update_of
from gql.schema.mutations.common import RESTRICTED, WRITE
from gql.schema.selections import Selection, SelectionEntity, SelectionSharing
from persistence.selections import selection_rows


def _rows(_context: object) -> tuple[object, ...]:
    return (selection_rows,)


@strawberry.input(
    description="A new selection: with `criteria` a dynamic one (or, with `static: true`, a static one of the rows "
    'they match now: "save these results as a selection"); with `memberIds` (or neither) a static one.'
)
class CreateSelectionInput:
    name: str = described("Its name (at most 200 characters).", update="New name.")
    entity_type: SelectionEntity = described("What its members are.", update=False)  # type: ignore[valid-type]
    criteria: Criteria | None = optional(
        "Its criteria (the criteria language, checked against the entity type).",
        update="New criteria (dynamic selections only).",
    )
    member_ids: list[strawberry.ID] | None = optional(
        "The global ids of a static selection's members (rows you may see, of the entity type).", update=False
    )
    static: bool = optional(
        "With criteria: save the rows they match now, as you see them, as a static selection.", False, update=False
    )
    sharing: SelectionSharing = optional(  # type: ignore[valid-type]
        "Who may read it (default PRIVATE; a partner's are always private).",
        SelectionSharing.PRIVATE,  # type: ignore[attr-defined]
        update="New sharing.",
    )
    description: str | None = optional("What it is for.", update="New description (null clears it).")


@acts_on("Selection", "A selection to copy (any you may read); the copy is yours and private.", version=None)
class CopySelectionInput:
    name: str | None = optional('The copy\'s name (default: "Copy of" and the name).')


@acts_on("Selection", "A static selection and the rows to add or remove.", version=None)
class ChangeSelectionMembersInput:
    member_ids: list[strawberry.ID] = described("The global ids of the rows (of the selection's entity type).")


SelectionPayload = node_payload(Selection)


def _members(values: list[strawberry.ID]) -> list[tuple[str, int]]:
    """Each member as (type, key): the workflow checks the type is the selection's."""
    return [decode_any(value, f"memberIds[{n}]") for n, value in enumerate(values)]


MEMBER_IDS = {"member_ids": _members}
UpdateSelectionInput = update_of(
    CreateSelectionInput,
    "Changes to a selection you own (an admin: any shared one); fields left out stay as they are.",
    order=("name", "description", "sharing", "criteria"),
)
DeleteSelectionInput = ref("Selection", "Identifies a selection to delete, with the version you read.")
ConvertSelectionToStaticInput = ref(
    "Selection", "Identifies a dynamic selection to make static, with the version you read."
)
ClearSelectionInput = ref("Selection", "Identifies a static selection to empty, with the version you read.")
create_selection = mutation(wf, CreateSelectionInput, SelectionPayload, WRITE, ports=_rows, convert=MEMBER_IDS)
update_selection = mutation(wf, UpdateSelectionInput, SelectionPayload, RESTRICTED)
copy_selection = mutation(wf, CopySelectionInput, SelectionPayload, WRITE, ports=_rows)
convert_selection_to_static = mutation(wf, ConvertSelectionToStaticInput, SelectionPayload, RESTRICTED, ports=_rows)
delete_selection = mutation(wf, DeleteSelectionInput, Deleted("Selection"), RESTRICTED)
add_selection_members = remove_selection_members = mutation(
    wf, ChangeSelectionMembersInput, SelectionPayload, RESTRICTED, ports=_rows, convert=MEMBER_IDS
)
clear_selection = mutation(wf, ClearSelectionInput, SelectionPayload, RESTRICTED, ports=_rows)
