"""Mutations of selections: create (dynamic, static, or saved from the results of criteria), change, copy,
convert to static, delete, and add / remove / clear a static selection's members."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from domain.errors import ValidationError
from domain.workflows import selections as wf
from gql import ids as global_ids
from gql.resolvers.mutation import Deleted, mutation, node_payload
from gql.schema.criteria import Criteria
from gql.schema.inputs import acts_on, changes, described, optional
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


@changes(
    CreateSelectionInput,
    "Selection",
    "Changes to a selection you own (an admin: any shared one); fields left out stay as they are.",
    order=("name", "description", "sharing", "criteria"),
)
class UpdateSelectionInput: ...


@acts_on("Selection", "Identifies a selection to delete, with the version you read.")
class DeleteSelectionInput: ...


@acts_on("Selection", "Identifies a dynamic selection to make static, with the version you read.")
class ConvertSelectionToStaticInput: ...


@acts_on("Selection", "Identifies a static selection to empty, with the version you read.")
class ClearSelectionInput: ...


@acts_on("Selection", "A selection to copy (any you may read); the copy is yours and private.", version=None)
class CopySelectionInput:
    name: str | None = optional('The copy\'s name (default: "Copy of" and the name).')


@acts_on("Selection", "A static selection and the rows to add or remove.", version=None)
class ChangeSelectionMembersInput:
    member_ids: list[strawberry.ID] = described("The global ids of the rows (of the selection's entity type).")


SelectionPayload = node_payload(Selection)


def _members(values: list[strawberry.ID]) -> list[tuple[str, int]]:
    """Each member as (type, key): the workflow checks the type is the selection's."""
    found = []
    for n, value in enumerate(values):
        try:
            found.append(global_ids.decode(str(value)))
        except GraphQLError as error:
            raise ValidationError(f"memberIds[{n}]", error.message) from None
    return found


MEMBER_IDS = {"member_ids": _members}

create_selection = mutation(
    wf.create_selection, CreateSelectionInput, SelectionPayload, WRITE, ports=_rows, convert=MEMBER_IDS
)
update_selection = mutation(wf.update_selection, UpdateSelectionInput, SelectionPayload, RESTRICTED)
copy_selection = mutation(wf.copy_selection, CopySelectionInput, SelectionPayload, WRITE, ports=_rows)
convert_selection_to_static = mutation(
    wf.convert_selection_to_static, ConvertSelectionToStaticInput, SelectionPayload, RESTRICTED, ports=_rows
)
delete_selection = mutation(wf.delete_selection, DeleteSelectionInput, Deleted("Selection"), RESTRICTED)
add_selection_members = mutation(
    wf.add_selection_members, ChangeSelectionMembersInput, SelectionPayload, RESTRICTED, ports=_rows, convert=MEMBER_IDS
)
remove_selection_members = mutation(
    wf.remove_selection_members,
    ChangeSelectionMembersInput,
    SelectionPayload,
    RESTRICTED,
    ports=_rows,
    convert=MEMBER_IDS,
)
clear_selection = mutation(wf.clear_selection, ClearSelectionInput, SelectionPayload, RESTRICTED, ports=_rows)

TYPES = [SelectionPayload]
