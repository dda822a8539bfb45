"""Mutations of the configurable lists (admins, `settings:write`): the opportunity stages."""

from __future__ import annotations

import strawberry

from domain.workflows import stages as wf
from gql.resolvers.mutation import OWN_INPUT, Deleted, mutation, node_payload, payload_type
from gql.schema import enums
from gql.schema.inputs import changes, described, optional, ref
from gql.schema.mutations.common import RESTRICTED
from gql.schema.settings import OpportunityStage, StageKind

VERSION = "The version you read; the change fails with a ConflictError if the stage moved on since."


@strawberry.input(description="A new opportunity stage.")
class CreateOpportunityStageInput:
    key: str = described(
        "Its key, what opportunities will hold: UPPER_SNAKE letters and digits, at most 32, unique (e.g. WON_PAID).",
        update=False,
    )
    name: str = described("Its name, for people (at most 100 characters).", update="New name.")
    kind: StageKind = optional(  # type: ignore[valid-type]
        "OPEN (default), WON or LOST: what every rule takes a deal in it for.",
        StageKind.OPEN,  # type: ignore[attr-defined]
        update="New kind; refused while opportunities are in the stage.",
    )
    probability: int | None = optional(
        "The default probability (percent) of a deal entering it: required for an OPEN stage; WON 100, LOST 0.",
        update="New default probability (an OPEN stage's; WON stays 100, LOST 0).",
    )
    position: int | None = optional(
        "Its place in the order, from 1 (the stages from there move down one); default: last.", update=False
    )
    active: bool = optional(
        "False to create it deactivated.",
        True,
        update="False deactivates it (refused on new writes, still shown where held); true activates it again.",
    )


@changes(
    CreateOpportunityStageInput,
    "OpportunityStage",
    "Changes to an opportunity stage; fields left out stay as they are.",
    order=("name", "kind", "probability", "active"),
    version=VERSION,
)
class UpdateOpportunityStageInput: ...


DeleteOpportunityStageInput = ref(
    "OpportunityStage", "Identifies an opportunity stage to delete, with the version you read.", version=VERSION
)


@strawberry.input(description="The opportunity stages in their new order.")
class ReorderOpportunityStagesInput:
    keys: list[enums.Stage] = described(  # type: ignore[valid-type]
        "Every stage's key once, first to last (`settings { stages { key } }` lists them)."
    )


OpportunityStagePayload = node_payload(OpportunityStage)
OpportunityStagesPayload = payload_type(
    "The opportunity stages in their new order.",
    stages=(list[OpportunityStage], "Every stage, first to last, with their new versions."),
)
create_opportunity_stage = update_opportunity_stage = mutation(wf, OWN_INPUT, OpportunityStagePayload, RESTRICTED)
reorder_opportunity_stages = mutation(wf, ReorderOpportunityStagesInput, OpportunityStagesPayload, RESTRICTED)
delete_opportunity_stage = mutation(wf, DeleteOpportunityStageInput, Deleted("OpportunityStage"), RESTRICTED)
