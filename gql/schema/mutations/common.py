"""What several areas' mutations share: the errors most workflows can raise, payloads (the success
member of their result unions), and the options of an input that attaches a new row to a row of several types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.errors import Conflict, Locked, NotFound, PermissionDenied
from gql.resolvers.mutation import decode_any, node_payload, payload_type
from gql.schema.accounts import Contact
from gql.schema.opportunities import BusinessRole, Opportunity
from gql.schema.quotes import Quote, QuoteItem

WRITE = (NotFound, Conflict)  # what most workflows can meet: a row gone, or a state the change collides with
LOCKABLE = (*WRITE, Locked)  # and a sold opportunity, locked with its quotes
RESTRICTED = (*WRITE, PermissionDenied)  # and a rule of who may


def attached_to(kind: Callable[[str, int], Any]) -> dict[str, Any]:
    """The options of a mutation whose input's `attachToId` is the global id of a row of several types: the
    command's `attach_to` is `kind(type, key)`, which checks the type (an activity's Target, a task's Attachment)."""
    to = {"attach_to_id": lambda value: kind(*decode_any(value, "attachToId"))}
    return {"rename": {"attach_to_id": "attach_to"}, "convert": to}


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
