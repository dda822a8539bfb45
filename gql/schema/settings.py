"""The configurable lists (issue 17, item 5) under `Query.settings`: readable by every signed-in caller, changed
by admins through their mutations (gql/schema/mutations/settings.py). Here: the opportunity stages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain import stages as ds
from gql.schema.base import Node, described_enum
from gql.schema.history import history_field
from persistence import stages

StageKind = described_enum(
    ds.StageKind,
    "StageKind",
    "What an opportunity stage means for every rule that asks whether a deal is open or closed.",
    {
        "OPEN": "Open: the deal is being worked on; it counts in the pipeline, the forecast and the board's columns.",
        "WON": "Closed and won: it counts as won on the scoreboard and in the reports.",
        "LOST": "Closed and lost.",
    },
)


@strawberry.type(
    description="An opportunity stage: a step of the sales process (OPEN kind) or a way to close (WON, LOST kind). "
    "`Opportunity.stage` holds its key."
)
class OpportunityStage(Node):
    graphql_type = "OpportunityStage"
    key: str = strawberry.field(description="What `Opportunity.stage` and every `Stage` argument hold (UPPER_SNAKE).")
    name: str = strawberry.field(description="The stage's name, for people.")
    position: int = strawberry.field(description="Its place in the order of the process, from 1.")
    probability: int = strawberry.field(
        description="The default probability (percent) of a deal entering it; WON kind 100, LOST kind 0."
    )
    active: bool = strawberry.field(
        description="False once deactivated: refused for new opportunities and moves, still shown where it is held."
    )
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    created_at: datetime = strawberry.field(description="When it was created (the seeded ones: by the migration).")
    history = history_field("OpportunityStage")

    @strawberry.field(description="OPEN, WON or LOST: what the stage means for every rule.")
    def kind(self) -> StageKind:  # type: ignore[valid-type]
        return StageKind(self.__dict__["kind"])  # type: ignore[call-arg]


def stage_object(stage: ds.OpportunityStage) -> OpportunityStage:
    obj = OpportunityStage.__new__(OpportunityStage)
    obj.__dict__ = {
        "id": stage.id,
        "key": stage.key,
        "name": stage.name,
        "position": stage.position,
        "probability": stage.probability,
        "kind": stage.kind.value,
        "active": stage.active,
        "version": stage.version,
        "created_at": stage.created_at,
    }
    return obj


async def stage_catalog(info: Info) -> ds.StageCatalog:
    """The process's copy of the stage catalogue (no statement once read: persistence/stages.py)."""
    return await stages.catalog(info.context.engine)


@strawberry.type(description="The configurable lists every signed-in caller reads; admins change them.")
class Settings:
    @strawberry.field(description="The opportunity stages in the order of the process.")
    async def stages(
        self,
        info: Info,
        include_inactive: Annotated[
            bool, strawberry.argument(description="False leaves out the deactivated stages.")
        ] = True,
    ) -> list[OpportunityStage]:
        catalog = await stage_catalog(info)
        return [stage_object(s) for s in catalog if include_inactive or s.active]


async def resolve_settings() -> Settings:
    return Settings()
