"""Selections as read: the Selection node, its members (a connection over the member rows the reader may
see), and the filter and order of the `selections` list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Union

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain import criteria as dc
from domain import selections as ds
from domain.scopes import Scope
from gql.resolvers.connections import root_connection
from gql.schema.accounts import Account, Contact
from gql.schema.base import Connection, Node, described_enum, needs
from gql.schema.criteria import Criteria, tree_out
from gql.schema.fields import PAGE_ARGS, node_class, to_one
from gql.schema.filters import SEARCH, _f, order_input
from gql.schema.history import history_field
from gql.schema.leads import Lead
from gql.schema.opportunities import Opportunity, SalesActivity
from gql.scopes import refused
from persistence import filters as spec
from persistence import tables
from persistence.criteria import SPECS
from persistence.selections import members_condition

SelectionEntity = described_enum(
    dc.CriteriaEntity,
    "SelectionEntity",
    "What a selection (or a criteria tree) is about.",
    {
        "ACCOUNT": "Accounts.",
        "CONTACT": "Contacts.",
        "OPPORTUNITY": "Opportunities.",
        "LEAD": "Leads.",
        "ACTIVITY": "Sales activities.",
    },
)
SelectionKind = described_enum(
    ds.SelectionKind,
    "SelectionKind",
    "How a selection holds its members.",
    {
        "DYNAMIC": "Its criteria: the members are the rows matching them when read.",
        "STATIC": "Explicit members, added and removed by hand (or saved from the results of criteria).",
    },
)
SelectionSharing = described_enum(
    ds.Sharing,
    "SelectionSharing",
    "Who may read a selection (each reader sees only the members it may see itself).",
    {
        "PRIVATE": "Its owner only (a partner's selections are always private).",
        "TEAM": "Its owner and the owner's team (and admins).",
        "EVERYONE": "Every user.",
    },
)

MEMBER_TYPES = {
    dc.CriteriaEntity.ACCOUNT: "gql.schema.accounts:Account",
    dc.CriteriaEntity.CONTACT: "gql.schema.accounts:Contact",
    dc.CriteriaEntity.OPPORTUNITY: "gql.schema.opportunities:Opportunity",
    dc.CriteriaEntity.LEAD: "gql.schema.leads:Lead",
    dc.CriteriaEntity.ACTIVITY: "gql.schema.opportunities:SalesActivity",
}
SelectionMember = Annotated[
    Union[Account, Contact, Opportunity, Lead, SalesActivity],  # noqa: UP007
    strawberry.union("SelectionMember", description="A member of a selection: a row of its entity type."),
]

MemberOrderField = strawberry.enum(
    Enum(
        "SelectionMemberOrderField",
        {
            "NAME": strawberry.enum_value(
                "NAME", description="By name (contacts and leads: last name; activities: subject)."
            ),
            "CREATED_AT": strawberry.enum_value("CREATED_AT", description="When it was created."),
            "UPDATED_AT": strawberry.enum_value("UPDATED_AT", description="When it last changed."),
        },
    ),
    description="What a selection's members can be ordered by.",
)
# Reading members is reading rows of their type: the token needs that type's read scope too.
MEMBER_SCOPES = {
    dc.CriteriaEntity.ACCOUNT: Scope.ACCOUNTS_READ,
    dc.CriteriaEntity.CONTACT: Scope.CONTACTS_READ,
    dc.CriteriaEntity.OPPORTUNITY: Scope.OPPORTUNITIES_READ,
    dc.CriteriaEntity.LEAD: Scope.LEADS_READ,
    dc.CriteriaEntity.ACTIVITY: Scope.ACTIVITIES_READ,
}
_NAME_ORDER = {
    dc.CriteriaEntity.ACCOUNT: "NAME",
    dc.CriteriaEntity.CONTACT: "LAST_NAME",
    dc.CriteriaEntity.OPPORTUNITY: "NAME",
    dc.CriteriaEntity.LEAD: "LAST_NAME",
    dc.CriteriaEntity.ACTIVITY: "SUBJECT",
}


@strawberry.input(description="How to order a selection's members (ties by id).")
class SelectionMemberOrder:
    field: MemberOrderField = strawberry.field(description="What to order by.")  # type: ignore[valid-type]
    descending: bool = strawberry.field(default=False, description="Largest (or latest, or Z) first.")


@dataclass
class _Order:
    field: str
    direction: str


@strawberry.type(
    description="A named set of accounts, contacts, opportunities, leads or activities: dynamic (its criteria) "
    "or static (explicit members), owned by a user or a partner and shared PRIVATE, TEAM or EVERYONE. Whoever "
    "reads it sees only the members it may see."
)
class Selection(Node):
    graphql_type = "Selection"
    history = history_field("Selection")
    name: str = strawberry.field(description="Its name.")
    description: str | None = strawberry.field(description="What it is for.")
    entity_type: SelectionEntity = strawberry.field(description="What its members are.")  # type: ignore[valid-type]
    kind: SelectionKind = strawberry.field(description="Dynamic (criteria) or static (members).")  # type: ignore[valid-type]
    sharing: SelectionSharing = strawberry.field(description="Who may read it.")  # type: ignore[valid-type]
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it (or its member list) last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to change it safely.")
    owner = to_one("gql.schema.people:User", tables.users, "owner_user_id", "The user who owns it (null: a partner).")
    owner_partner = to_one(
        "gql.schema.people:Partner", tables.partners, "owner_partner_id", "The partner who owns it, if a partner does."
    )

    @strawberry.field(
        description="A dynamic selection's criteria, in the shape of the `Criteria` input (global ids); null for a "
        "static one."
    )
    @needs("criteria", "entity_type")
    def criteria(self) -> JSON | None:
        return tree_out(self.__dict__["entity_type"], self.__dict__["criteria"])

    @strawberry.field(
        description="Its members you may see, a page at a time (a dynamic selection's are computed now), "
        "narrowed by `criteria` when given."
    )
    @needs("id", "entity_type", "kind", "criteria")
    async def members(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=PAGE_ARGS[0][2])] = None,
        after: Annotated[str | None, strawberry.argument(description=PAGE_ARGS[1][2])] = None,
        last: Annotated[int | None, strawberry.argument(description=PAGE_ARGS[2][2])] = None,
        before: Annotated[str | None, strawberry.argument(description=PAGE_ARGS[3][2])] = None,
        criteria: Annotated[
            Criteria | None, strawberry.argument(description="Only members matching these criteria as well.")
        ] = None,
        order_by: Annotated[
            SelectionMemberOrder | None, strawberry.argument(description="The order (default: by name, ties by id).")
        ] = None,
    ) -> Connection[SelectionMember]:
        row = self.__dict__
        entity = dc.CriteriaEntity(row["entity_type"])
        if MEMBER_SCOPES[entity].value not in info.context.principal.scopes:
            raise refused(info.context.principal, "Selection.members", MEMBER_SCOPES[entity].value)
        field = "NAME" if order_by is None else order_by.field.value
        order = _Order(
            _NAME_ORDER[entity] if field == "NAME" else field,
            "DESC" if order_by is not None and order_by.descending else "ASC",
        )
        return await root_connection(
            info,
            node_class(MEMBER_TYPES[entity]),
            SPECS[entity],
            filter=None,
            order_by=order,
            default_order=_NAME_ORDER[entity],
            first=first,
            after=after,
            last=last,
            before=before,
            where=[members_condition(row, info.context.viewer)],
            criteria=criteria,
            criteria_entity=entity.value,
        )


SelectionOrder = order_input(
    "Selection", {"NAME": "By name.", "CREATED_AT": "When it was created.", "UPDATED_AT": "When it last changed."}
)


@strawberry.input(description="Which selections to list. All given conditions must hold.")
class SelectionFilter:
    search: str | None = _f(SEARCH)
    entity_type: SelectionEntity | None = _f("Only selections of this entity type.")  # type: ignore[valid-type]
    kind: SelectionKind | None = _f("Only dynamic or only static selections.")  # type: ignore[valid-type]
    sharing: SelectionSharing | None = _f("Only selections shared this way.")  # type: ignore[valid-type]
    owner_user_id: strawberry.ID | None = _f("Only selections owned by this user.", name="ownerId")


def selections_connection(description: str) -> Any:
    from gql.schema.fields import connection

    return connection(
        "gql.schema.selections:Selection",
        spec.SELECTIONS,
        default_order="NAME",
        filter_type=SelectionFilter,
        order_type=SelectionOrder,
        description=description,
    )
