"""The lead processor's configuration as read: routing rules and lead splitters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from domain import routing
from gql import ids
from gql.schema import enums
from gql.schema.base import Node, described_enum
from gql.schema.fields import to_one
from gql.schema.people import Partner, User
from persistence import tables

LeadRoutingField = described_enum(
    routing.LeadField,
    "LeadRoutingField",
    "The lead field a routing condition tests.",
    {
        "COUNTRY": "The lead's country (ISO 3166 alpha-2); `values` lists the countries.",
        "UTM_SOURCE": "The UTM source (where the lead came from, e.g. linkedin); `values` lists them, any case.",
        "UTM_MEDIUM": "The UTM medium (e.g. cpc, email); `values` lists them, any case.",
        "UTM_CAMPAIGN": "The UTM campaign tag; `values` lists them, any case.",
        "CAMPAIGN": "The lead's campaign; `values` lists campaign ids.",
        "COMPANY_SIZE": "The number of employees; `min` and/or `max` bound it (inclusive).",
    },
)


@strawberry.type(description="One test on a lead's field; a lead without the field never matches.")
class LeadRoutingCondition:
    field: LeadRoutingField = strawberry.field(description="The field tested.")  # type: ignore[valid-type]
    values: list[str] = strawberry.field(
        description="The values that match (campaign ids for CAMPAIGN; empty for COMPANY_SIZE)."
    )
    min: int | None = strawberry.field(description="COMPANY_SIZE: the smallest size that matches.")
    max: int | None = strawberry.field(description="COMPANY_SIZE: the largest size that matches.")


def condition_of(data: dict[str, Any]) -> LeadRoutingCondition:
    field = routing.LeadField(data["field"])
    values = data.get("values") or []
    if field is routing.LeadField.CAMPAIGN:
        values = [ids.encode("Campaign", v) for v in values]
    return LeadRoutingCondition(
        field=LeadRoutingField[field.value],
        values=[str(v) for v in values],  # type: ignore[index]
        min=data.get("min"),
        max=data.get("max"),
    )


@strawberry.type(
    description="A rule of the lead processor: when every condition holds (no conditions: always), "
    "an incoming lead goes to the rule's user, partner or splitter and gets its priority. "
    "Rules are tried by position; the first that matches wins."
)
class LeadRoutingRule(Node):
    graphql_type = "LeadRoutingRule"
    name: str = strawberry.field(description="What the rule is for, in a few words.")
    position: int = strawberry.field(description="Rules are tried in ascending position (ties by creation).")
    active: bool = strawberry.field(description="False when the rule is switched off (it never matches).")
    priority: int | None = strawberry.field(
        description="The priority given to the leads it routes (null: keep the lead's own)."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    user = to_one("gql.schema.people:User", tables.users, "user_id", "The user it sends leads to.")
    partner = to_one("gql.schema.people:Partner", tables.partners, "partner_id", "The partner it sends leads to.")
    splitter = to_one(
        "gql.schema.routing:LeadSplitter",
        tables.lead_splitters,
        "splitter_id",
        "The splitter that shares its leads between sellers.",
    )

    @strawberry.field(description="The conditions, all of which must hold.")
    def conditions(self) -> list[LeadRoutingCondition]:
        return [condition_of(c) for c in self.__dict__["conditions"] or []]


@strawberry.type(description="One seller's part of a lead splitter.")
class LeadSplitterShare:
    weight: int = strawberry.field(description="The seller's weight; its share is weight ÷ the sum of weights.")
    assigned: int = strawberry.field(description="Leads given to this seller since the shares were last set.")
    percent: Decimal = strawberry.field(description="The share it should get, in percent.")
    realised_percent: Decimal | None = strawberry.field(
        description="The share it got so far, in percent (null before the first lead)."
    )
    user_id: strawberry.Private[int | None]
    partner_id: strawberry.Private[int | None]

    @strawberry.field(description="The user, when the share goes to a user.")
    async def user(self, info: Info) -> User | None:
        if self.user_id is None:
            return None
        return User.from_row(await info.context.by_id(tables.users).load(self.user_id))

    @strawberry.field(description="The partner, when the share goes to a partner.")
    async def partner(self, info: Info) -> Partner | None:
        if self.partner_id is None:
            return None
        return Partner.from_row(await info.context.by_id(tables.partners).load(self.partner_id))


def _percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


@strawberry.type(
    description="Shares leads between several sellers by weight (e.g. 50/30/20), deterministically "
    "(the quota method): every seller's count stays within one lead of its exact share, so "
    "realised shares converge to the weights."
)
class LeadSplitter(Node):
    graphql_type = "LeadSplitter"
    name: str = strawberry.field(description="The splitter's name (unique).")
    active: bool = strawberry.field(description="False when switched off: rules that use it do not match.")
    mode: enums.LeadSplitterMode = strawberry.field(  # type: ignore[valid-type]
        description="QUOTA: each lead to one seller by weight; SHARE: each lead's credit shared by percentage."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it or its shares last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")

    @strawberry.field(description="The sellers and their weights, in the order they were given.")
    async def shares(self, info: Info) -> list[LeadSplitterShare]:
        rows = await info.context.children(
            tables.lead_splitter_shares, "splitter_id", (tables.lead_splitter_shares.c.id,)
        ).load(self.pk)
        weights = sum(r.weight for r in rows)
        assigned = sum(r.assigned for r in rows)
        return [
            LeadSplitterShare(
                weight=r.weight,
                assigned=r.assigned,
                percent=_percent(r.weight, weights),
                realised_percent=_percent(r.assigned, assigned),
                user_id=r.user_id,
                partner_id=r.partner_id,
            )
            for r in rows
        ]
