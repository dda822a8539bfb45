"""Mutations of the lead processor's configuration: routing rules and lead splitters."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.errors import ValidationError
from domain.routing import Condition, LeadField
from domain.workflows import lead_routing_rules as rules
from domain.workflows import lead_splitters as splitters
from gql.resolvers.mutation import OWN_INPUT, Deleted, decode_id, decode_optional, mutation, node_payload, payload_type
from gql.schema import enums
from gql.schema.inputs import described, optional, ref, update_of
from gql.schema.mutations.common import RESTRICTED
from gql.schema.routing import LeadRoutingField, LeadRoutingRule, LeadSplitter

LeadRoutingRulePayload = payload_type(
    "The routing rule as it is after the change.", rule=(LeadRoutingRule, "The rule, with its new version.")
)
LeadSplitterPayload = node_payload(LeadSplitter, splitter="The splitter, with its new version.")


@strawberry.input(
    description="One test on a lead's field: `values` for text fields and CAMPAIGN (campaign ids), "
    "`min`/`max` for COMPANY_SIZE."
)
class LeadRoutingConditionInput:
    field: LeadRoutingField = described("The field to test.")  # type: ignore[valid-type]
    values: list[str] | None = optional("The values that match (any of them).")
    min: int | None = optional("COMPANY_SIZE: the smallest size that matches.")
    max: int | None = optional("COMPANY_SIZE: the largest size that matches.")

    def to_domain(self, where: str) -> Condition:
        field = LeadField(self.field.value)
        values: tuple[Any, ...] = tuple(self.values or ())
        if field is LeadField.CAMPAIGN:
            values = tuple(decode_id(v, "Campaign", f"{where}.values") for v in values)
        try:
            return Condition(field=field, values=values, min=self.min, max=self.max)
        except ValidationError as error:
            raise ValidationError(where, error.reason) from None


@strawberry.input(description="Where a rule sends leads: exactly one of a user, a partner or a splitter.")
class LeadRoutingTargetInput:
    user_id: strawberry.ID | None = optional("A user.")
    partner_id: strawberry.ID | None = optional("A partner.")
    splitter_id: strawberry.ID | None = optional("A lead splitter.")

    def to_domain(self, where: str) -> rules.Target:
        return rules.Target(
            user_id=decode_optional(self.user_id, "User", f"{where}.userId"),
            partner_id=decode_optional(self.partner_id, "Partner", f"{where}.partnerId"),
            splitter_id=decode_optional(self.splitter_id, "LeadSplitter", f"{where}.splitterId"),
        )


@strawberry.input(description="A new routing rule for the lead processor.")
class CreateLeadRoutingRuleInput:
    name: str = described("What the rule is for.", update="New name.")
    target: LeadRoutingTargetInput = described("Where matching leads go.", update="New target.")
    conditions: list[LeadRoutingConditionInput] = optional(
        "All must hold; none: every lead matches.", [], update="New conditions (replace the old ones)."
    )
    position: int | None = optional(
        "Rules are tried by ascending position (default: after the last rule).", update="New position."
    )
    priority: int | None = optional("Priority to give matching leads.", update="New priority (null: none).")
    active: bool = optional("False to create it switched off.", True, update="Switch it on or off.")


@strawberry.input(description="One seller's share of a splitter: a user or a partner, and a weight.")
class LeadSplitterShareInput:
    weight: int = described("A positive weight; the share is weight ÷ the sum of weights.")
    user_id: strawberry.ID | None = optional("The user.")
    partner_id: strawberry.ID | None = optional("The partner.")

    def to_domain(self, where: str) -> splitters.ShareSpec:
        return splitters.ShareSpec(
            weight=self.weight,
            user_id=decode_optional(self.user_id, "User", f"{where}.userId"),
            partner_id=decode_optional(self.partner_id, "Partner", f"{where}.partnerId"),
        )


@strawberry.input(description="A new lead splitter.")
class CreateLeadSplitterInput:
    name: str = described("A unique name.", update="New name.")
    shares: list[LeadSplitterShareInput] = described(
        "The sellers and their weights.", update="New shares; they replace the old ones and start counting from zero."
    )
    active: bool = optional("False to create it switched off.", True, update="Switch it on or off.")
    mode: enums.LeadSplitterMode = optional(  # type: ignore[valid-type]
        "QUOTA (default): each lead to one seller by weight; SHARE: each lead shared among all the users, the "
        "weights being percentages adding up to 100.",
        enums.LeadSplitterMode.QUOTA,
        update="QUOTA or SHARE.",
    )


UpdateLeadSplitterInput = update_of(
    CreateLeadSplitterInput,
    "Changes to a lead splitter; fields left out stay as they are.",
    what="The splitter.",
    order=("name", "active", "mode", "shares"),
)
LeadSplitterRefInput = ref(
    "LeadSplitter", "Identifies a lead splitter, with the version you read.", what="The splitter."
)
UpdateLeadRoutingRuleInput = update_of(
    CreateLeadRoutingRuleInput, "Changes to a routing rule; fields left out stay as they are.", what="The rule."
)
LeadRoutingRuleRefInput = ref(
    "LeadRoutingRule", "Identifies a routing rule, with the version you read.", what="The rule."
)
create_lead_routing_rule = update_lead_routing_rule = mutation(rules, OWN_INPUT, LeadRoutingRulePayload, RESTRICTED)
delete_lead_routing_rule = mutation(rules, LeadRoutingRuleRefInput, Deleted("LeadRoutingRule"), RESTRICTED)
create_lead_splitter = update_lead_splitter = mutation(splitters, OWN_INPUT, LeadSplitterPayload, RESTRICTED)
delete_lead_splitter = mutation(splitters, LeadSplitterRefInput, Deleted("LeadSplitter"), RESTRICTED)
