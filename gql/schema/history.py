"""The change history of accounts, opportunities and quotes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import ColumnElement
from strawberry.scalars import JSON

from domain.money import in_minor_units
from gql.schema import filters as f
from gql.schema.base import Node, needs
from gql.schema.fields import connection, to_one
from persistence import filters as spec
from persistence import tables as t


def shown(value: Any) -> Any:
    """An amount in the currency's minor units, as everywhere else (entries written before amounts were
    stored that way keep the column's 4 decimals)."""
    if isinstance(value, dict) and value.keys() == {"amount", "currency"} and isinstance(value["currency"], str):
        try:
            return {**value, "amount": str(in_minor_units(Decimal(str(value["amount"])), value["currency"]))}
        except ArithmeticError:
            return value
    return value


@strawberry.type(
    description="One changed field of an account, opportunity or quote: who changed it, when, from "
    "what to what. Written in the same transaction as the change."
)
class AuditEntry(Node):
    graphql_type = "AuditEntry"
    entity_type: str = strawberry.field(description="Account, Opportunity or Quote.")
    field: str = strawberry.field(
        description="The field that changed, as named in the API (`created` and `deleted` "
        "mark the beginning and the end; `items` a quote line)."
    )

    @strawberry.field(description="The value before (null when there was none).")
    @needs("old_value")
    def old_value(self) -> JSON | None:
        return shown(self.__dict__["old_value"])

    @strawberry.field(description="The value after (null when it was removed).")
    @needs("new_value")
    def new_value(self) -> JSON | None:
        return shown(self.__dict__["new_value"])

    at: datetime = strawberry.field(description="When the change was committed.")
    actor = to_one("gql.schema.people:User", t.users, "actor_user_id", "The user who made the change.")
    actor_partner = to_one(
        "gql.schema.people:Partner",
        t.partners,
        "actor_partner_id",
        "The partner who made the change (through a partner token).",
    )


def history_field(entity_type: str) -> Any:
    where: ColumnElement = t.audit_entries.c.entity_type == entity_type
    return connection(
        "gql.schema.history:AuditEntry",
        spec.HISTORY,
        fk="entity_id",
        where=where,
        tag=entity_type,
        default_order="AT",
        filter_type=f.HistoryFilter,
        order_type=f.HistoryOrder,
        description=f"The change history of this {entity_type.lower()}, oldest first (`last: 10` for the newest).",
    )
