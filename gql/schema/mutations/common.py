"""What several areas' mutations share: the errors most workflows can raise, and payloads (the success
member of their result unions)."""

from __future__ import annotations

from domain.errors import Conflict, Locked, NotFound, PermissionDenied
from gql.resolvers.mutation import node_payload, payload_type
from gql.schema.accounts import Contact
from gql.schema.opportunities import BusinessRole, Opportunity
from gql.schema.quotes import Quote, QuoteItem

WRITE = (NotFound, Conflict)  # what most workflows can meet: a row gone, or a state the change collides with
LOCKABLE = (*WRITE, Locked)  # and a sold opportunity, locked with its quotes
RESTRICTED = (*WRITE, PermissionDenied)  # and a rule of who may
OpportunityPayload = node_payload(Opportunity)
QuotePayload = node_payload(Quote)
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
ContactPayload = node_payload(Contact)
