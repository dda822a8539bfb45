"""Payloads shared by several mutations (the success member of their result unions)."""

from __future__ import annotations

import strawberry

from gql.resolvers.mutation import DeletedPayload  # noqa: F401 - re-exported while mutations move
from gql.schema.opportunities import BusinessRole, Opportunity
from gql.schema.quotes import Quote, QuoteItem


@strawberry.type(description="The opportunity as it is after the change.")
class OpportunityPayload:
    opportunity: Opportunity = strawberry.field(description="The opportunity, with its new version.")


@strawberry.type(description="The quote as it is after the change.")
class QuotePayload:
    quote: Quote = strawberry.field(description="The quote, with its new version.")


@strawberry.type(description="A quote item as it is after the change, with its quote.")
class QuoteItemPayload:
    item: QuoteItem = strawberry.field(description="The item.")
    quote: Quote = strawberry.field(description="The quote it belongs to (its totals changed).")


@strawberry.type(description="The business role that was added.")
class BusinessRolePayload:
    business_role: BusinessRole = strawberry.field(description="The new role.")
    opportunity: Opportunity = strawberry.field(description="The opportunity it belongs to.")
