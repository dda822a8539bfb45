"""Mutations of the lead processor's configuration: routing rules and lead splitters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from domain.errors import ValidationError
from domain.routing import Condition, LeadField
from domain.workflows import lead_routing_rules as rules
from domain.workflows import lead_splitters as splitters
from gql.resolvers.mutation import Deleted, decode_id, gid, mutation
from gql.schema.inputs import described, keep, optional
from gql.schema.mutations.leads import ERRORS, VERSION
from gql.schema.routing import LeadRoutingField, LeadRoutingRule, LeadSplitter


def _optional_id(value: strawberry.ID | None, node_type: str, field: str) -> int | None:
    return None if value is None else decode_id(value, node_type, field)


def each(field: str) -> Callable[[list[Any]], list[Any]]:
    """A list of nested inputs in domain terms, each item's errors naming its place (`conditions[2]`)."""
    return lambda items: [item.to_domain(f"{field}[{n}]") for n, item in enumerate(items)]


@strawberry.type(description="The routing rule as it is after the change.")
class LeadRoutingRulePayload:
    rule: LeadRoutingRule = described("The rule, with its new version.")


@strawberry.type(description="The lead splitter as it is after the change.")
class LeadSplitterPayload:
    splitter: LeadSplitter = described("The splitter, with its new version.")


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

    def to_domain(self) -> rules.Target:
        return rules.Target(
            user_id=_optional_id(self.user_id, "User", "target.userId"),
            partner_id=_optional_id(self.partner_id, "Partner", "target.partnerId"),
            splitter_id=_optional_id(self.splitter_id, "LeadSplitter", "target.splitterId"),
        )


@strawberry.input(description="A new routing rule for the lead processor.")
class CreateLeadRoutingRuleInput:
    name: str = described("What the rule is for.")
    target: LeadRoutingTargetInput = described("Where matching leads go.")
    conditions: list[LeadRoutingConditionInput] = strawberry.field(
        default_factory=list, description="All must hold; none: every lead matches."
    )
    position: int | None = optional("Rules are tried by ascending position (default: after the last rule).")
    priority: int | None = optional("Priority to give matching leads.")
    active: bool = strawberry.field(default=True, description="False to create it switched off.")


@strawberry.input(description="Changes to a routing rule; fields left out stay as they are.")
class UpdateLeadRoutingRuleInput:
    id: strawberry.ID = gid("LeadRoutingRule", description="The rule.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    target: LeadRoutingTargetInput | None = keep("New target.")
    conditions: list[LeadRoutingConditionInput] | None = keep("New conditions (replace the old ones).")
    position: int | None = keep("New position.")
    priority: int | None = keep("New priority (null: none).")
    active: bool | None = keep("Switch it on or off.")


@strawberry.input(description="Identifies a routing rule, with the version you read.")
class LeadRoutingRuleRefInput:
    id: strawberry.ID = gid("LeadRoutingRule", description="The rule.")
    version: int | None = optional(VERSION)


@strawberry.input(description="One seller's share of a splitter: a user or a partner, and a weight.")
class LeadSplitterShareInput:
    weight: int = described("A positive weight; the share is weight ÷ the sum of weights.")
    user_id: strawberry.ID | None = optional("The user.")
    partner_id: strawberry.ID | None = optional("The partner.")

    def to_domain(self, where: str) -> splitters.ShareSpec:
        return splitters.ShareSpec(
            weight=self.weight,
            user_id=_optional_id(self.user_id, "User", f"{where}.userId"),
            partner_id=_optional_id(self.partner_id, "Partner", f"{where}.partnerId"),
        )


@strawberry.input(description="A new lead splitter.")
class CreateLeadSplitterInput:
    name: str = described("A unique name.")
    shares: list[LeadSplitterShareInput] = described("The sellers and their weights.")
    active: bool = strawberry.field(default=True, description="False to create it switched off.")


@strawberry.input(description="Changes to a lead splitter; fields left out stay as they are.")
class UpdateLeadSplitterInput:
    id: strawberry.ID = gid("LeadSplitter", description="The splitter.")
    version: int | None = optional(VERSION)
    name: str | None = keep("New name.")
    active: bool | None = keep("Switch it on or off.")
    shares: list[LeadSplitterShareInput] | None = keep(
        "New shares; they replace the old ones and start counting from zero."
    )


@strawberry.input(description="Identifies a lead splitter, with the version you read.")
class LeadSplitterRefInput:
    id: strawberry.ID = gid("LeadSplitter", description="The splitter.")
    version: int | None = optional(VERSION)


@strawberry.type
class LeadRoutingMutations:
    @mutation(
        rules.create_lead_routing_rule,
        CreateLeadRoutingRuleInput,
        LeadRoutingRulePayload,
        convert={"conditions": each("conditions")},
        errors=ERRORS,
    )
    def create_lead_routing_rule(self) -> None:
        """Add a routing rule to the lead processor."""

    @mutation(
        rules.update_lead_routing_rule,
        UpdateLeadRoutingRuleInput,
        LeadRoutingRulePayload,
        convert={"conditions": each("conditions")},
        errors=ERRORS,
    )
    def update_lead_routing_rule(self) -> None:
        """Change a routing rule: its conditions, target, position, priority or switch."""

    @mutation(rules.delete_lead_routing_rule, LeadRoutingRuleRefInput, Deleted("LeadRoutingRule"), errors=ERRORS)
    def delete_lead_routing_rule(self) -> None:
        """Delete a routing rule."""

    @mutation(
        splitters.create_lead_splitter,
        CreateLeadSplitterInput,
        LeadSplitterPayload,
        convert={"shares": each("shares")},
        errors=ERRORS,
    )
    def create_lead_splitter(self) -> None:
        """Create a lead splitter that shares leads between sellers by weight."""

    @mutation(
        splitters.update_lead_splitter,
        UpdateLeadSplitterInput,
        LeadSplitterPayload,
        convert={"shares": each("shares")},
        errors=ERRORS,
    )
    def update_lead_splitter(self) -> None:
        """Rename a lead splitter, switch it on or off, or replace its shares."""

    @mutation(splitters.delete_lead_splitter, LeadSplitterRefInput, Deleted("LeadSplitter"), errors=ERRORS)
    def delete_lead_splitter(self) -> None:
        """Delete a lead splitter that no routing rule uses."""
