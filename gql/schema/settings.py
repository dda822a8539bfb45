"""`Query.settings`: what admins configure, readable by every signed-in caller (issue 17, item 5): the opportunity
stages (domain/stages.py, changed through gql/schema/mutations/settings.py), the configurable lists
(domain/lists.py: activity types, account types, campaign statuses, contract categories and contact categories,
each a list of `ListValue` rows in their order) and the custom field definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from domain import stages as ds
from domain.lists import ListName as DomainListName
from gql.schema.base import Node, described_enum, needs
from gql.schema.custom_fields import CustomFieldDefinition, CustomFieldEntity
from gql.schema.history import history_field
from persistence import reads, stages, tables

ListName = described_enum(
    DomainListName,
    "ListName",
    "A configurable list (its values: `settings`; admins edit them with createListValue, updateListValue and "
    "deleteListValue).",
    {
        "ACTIVITY_TYPE": "The types of sales activities (`SalesActivity.type`, scalar ActivityType).",
        "ACCOUNT_TYPE": "The types of accounts (`Account.kind`, scalar AccountKind); each says whether its "
        "accounts are named by first and last name (`personName`).",
        "CAMPAIGN_STATUS": "The statuses of campaigns (`Campaign.status`, scalar CampaignStatus); each says "
        "whether a campaign in it is archived (`archived`).",
        "CONTRACT_CATEGORY": "The categories of products and of the contracts they are sold in "
        "(`Product.category`, `Contract.category`, scalar ProductCategory).",
        "CONTACT_CATEGORY": "The categories of accounts (`Account.category`, SuperOffice's contact category); each "
        "says whether the contacts of prospect accounts in it show their lead status (`leadStatus`).",
    },
)


@strawberry.type(
    description="One value of a configurable list: its key (what rows store, fixed), label, order, whether it is "
    "active (an inactive value is refused on new writes and still shown on the rows that have it) and the "
    "attribute its list has of its own (null on the other lists' values)."
)
class ListValue(Node):
    graphql_type = "ListValue"
    list_name: ListName = strawberry.field(description="The list it belongs to.")  # type: ignore[valid-type]
    key: str = strawberry.field(
        description="What rows store and the API reads and writes (e.g. `MEETING`); never changes."
    )
    label: str = strawberry.field(description="The name shown to users.")
    position: int = strawberry.field(description="Its place in the list (lists are read in this order).")
    active: bool = strawberry.field(description="False: refused on new writes, still shown on existing rows.")
    person_name: bool | None = strawberry.field(
        description="Account types: the account is named by first and last name (as PERSON); null elsewhere."
    )
    archived: bool | None = strawberry.field(
        description="Campaign statuses: a campaign in it is archived, out of use; null elsewhere."
    )
    lead_status: bool | None = strawberry.field(
        description="Contact categories: the contacts of PROSPECT accounts in it show their lead status (SuperOffice's "
        '"activate lead status"); null elsewhere.'
    )
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    created_at: datetime = strawberry.field(description="When it was created.")
    history = history_field("ListValue")


async def _values(info: Info, list_name: DomainListName) -> list[ListValue]:
    # One loader for every list: the lists asked for in one request are read in one statement.
    lv = tables.list_values
    loader = info.context.children(lv, "list_name", order_by=(lv.c.position, lv.c.key), tag="settings")
    return ListValue.from_rows(await loader.load(list_name.value))


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


@strawberry.type(description="What admins configure; readable by every signed-in caller.")
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

    @strawberry.field(description="The activity types, in their order (inactive ones included).")
    async def activity_types(self, info: Info) -> list[ListValue]:
        return await _values(info, DomainListName.ACTIVITY_TYPE)

    @strawberry.field(description="The account types, in their order (inactive ones included).")
    async def account_types(self, info: Info) -> list[ListValue]:
        return await _values(info, DomainListName.ACCOUNT_TYPE)

    @strawberry.field(description="The campaign statuses, in their order (inactive ones included).")
    async def campaign_statuses(self, info: Info) -> list[ListValue]:
        return await _values(info, DomainListName.CAMPAIGN_STATUS)

    @strawberry.field(description="The contract (product) categories, in their order (inactive ones included).")
    async def contract_categories(self, info: Info) -> list[ListValue]:
        return await _values(info, DomainListName.CONTRACT_CATEGORY)

    @strawberry.field(
        description="The contact (account) categories, in their order (inactive ones included); an account without "
        "a category shows its contacts' lead status as one whose category has it on."
    )
    async def contact_categories(self, info: Info) -> list[ListValue]:
        return await _values(info, DomainListName.CONTACT_CATEGORY)

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


def list_value_field(list_name: DomainListName, column: str, description: str) -> Any:
    """A field of a row giving the list value its `column` stores (label, order, attributes), null when it
    stores none (or a key the list has no row for); every row of a page in one statement."""
    lv = tables.list_values

    @strawberry.field(description=description)
    @needs(column)
    async def value(self: Any, info: Info) -> ListValue | None:
        key = self.__dict__[column]
        if key is None:
            return None
        loader = info.context.children(lv, "key", where=lv.c.list_name == list_name.value, tag=list_name.value)
        found = await loader.load(key)
        return ListValue.from_row(found[0]) if found else None

    return value
