"""What several areas' mutations share: payloads (the success member of their result unions) and the
descriptions of input fields that recur."""

from __future__ import annotations

import strawberry

from gql.schema.accounts import Contact
from gql.schema.opportunities import BusinessRole, Opportunity
from gql.schema.quotes import Quote, QuoteItem

VERSION = "The version you read; the change fails with a ConflictError if the object moved on since."
KEEP = "Left out: unchanged; null clears."


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


@strawberry.type(description="The contact as it is after the change.")
class ContactPayload:
    contact: Contact = strawberry.field(description="The contact, with its new version.")
