"""What several areas' mutations share: the errors most workflows can raise, and payloads (the success
member of their result unions)."""

from __future__ import annotations

from domain.errors import Conflict, Locked, NotFound, PermissionDenied
from gql.resolvers.mutation import payload_type
from gql.schema.accounts import Contact
from gql.schema.opportunities import BusinessRole, Opportunity
from gql.schema.quotes import Quote, QuoteItem

WRITE = (NotFound, Conflict)  # what most workflows can meet: a row gone, or a state the change collides with
LOCKABLE = (*WRITE, Locked)  # and a sold opportunity, locked with its quotes
RESTRICTED = (*WRITE, PermissionDenied)  # and a rule of who may

OpportunityPayload = payload_type(
    "The opportunity as it is after the change.", opportunity=(Opportunity, "The opportunity, with its new version.")
)
QuotePayload = payload_type("The quote as it is after the change.", quote=(Quote, "The quote, with its new version."))
QuoteItemPayload = payload_type(
    "A quote item as it is after the change, with its quote.",
    "QuoteItemPayload",
    item=(QuoteItem, "The item."),
    quote=(Quote, "The quote it belongs to (its totals changed)."),
)
BusinessRolePayload = payload_type(
    "The business role that was added.",
    "BusinessRolePayload",
    business_role=(BusinessRole, "The new role."),
    opportunity=(Opportunity, "The opportunity it belongs to."),
)
ContactPayload = payload_type(
    "The contact as it is after the change.", contact=(Contact, "The contact, with its new version.")
)
