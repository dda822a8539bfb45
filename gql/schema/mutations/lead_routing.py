"""Mutations of the lead processor's configuration: routing rules and lead splitters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from domain.errors import ValidationError
from domain.routing import Condition, LeadField
from domain.workflows import leads as wf
from gql.resolvers.mutation import Deleted, decode_id, gid, mutation
from gql.schema.mutations.leads import ERRORS, VERSION
from gql.schema.routing import LeadRoutingField, LeadRoutingRule, LeadSplitter


def _optional_id(value: strawberry.ID | None, node_type: str, field: str) -> int | None:
    return None if value is None else decode_id(value, node_type, field)


def each(field: str) -> Callable[[list[Any]], list[Any]]:
    """A list of nested inputs in domain terms, each item's errors naming its place (`conditions[2]`)."""
    return lambda items: [item.to_domain(f"{field}[{n}]") for n, item in enumerate(items)]


@strawberry.type(description="The routing rule as it is after the change.")
class LeadRoutingRulePayload:
    rule: LeadRoutingRule = strawberry.field(description="The rule, with its new version.")


@strawberry.type(description="The lead splitter as it is after the change.")
class LeadSplitterPayload:
    splitter: LeadSplitter = strawberry.field(description="The splitter, with its new version.")


@strawberry.input(
    description="One test on a lead's field: `values` for text fields and CAMPAIGN (campaign ids), "
    "`min`/`max` for COMPANY_SIZE."
)
class LeadRoutingConditionInput:
    field: LeadRoutingField = strawberry.field(description="The field to test.")  # type: ignore[valid-type]
    values: list[str] | None = strawberry.field(default=None, description="The values that match (any of them).")
    min: int | None = strawberry.field(default=None, description="COMPANY_SIZE: the smallest size that matches.")
    max: int | None = strawberry.field(default=None, description="COMPANY_SIZE: the largest size that matches.")

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
    user_id: strawberry.ID | None = strawberry.field(default=None, description="A user.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="A partner.")
    splitter_id: strawberry.ID | None = strawberry.field(default=None, description="A lead splitter.")

    def to_domain(self) -> wf.Target:
        return wf.Target(
            user_id=_optional_id(self.user_id, "User", "target.userId"),
            partner_id=_optional_id(self.partner_id, "Partner", "target.partnerId"),
            splitter_id=_optional_id(self.splitter_id, "LeadSplitter", "target.splitterId"),
        )


@strawberry.input(description="A new routing rule for the lead processor.")
class CreateLeadRoutingRuleInput:
    name: str = strawberry.field(description="What the rule is for.")
    target: LeadRoutingTargetInput = strawberry.field(description="Where matching leads go.")
    conditions: list[LeadRoutingConditionInput] = strawberry.field(
        default_factory=list, description="All must hold; none: every lead matches."
    )
    position: int | None = strawberry.field(
        default=None, description="Rules are tried by ascending position (default: after the last rule)."
    )
    priority: int | None = strawberry.field(default=None, description="Priority to give matching leads.")
    active: bool = strawberry.field(default=True, description="False to create it switched off.")


@strawberry.input(description="Changes to a routing rule; fields left out stay as they are.")
class UpdateLeadRoutingRuleInput:
    id: strawberry.ID = gid("LeadRoutingRule", description="The rule.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    target: LeadRoutingTargetInput | None = strawberry.field(default=strawberry.UNSET, description="New target.")
    conditions: list[LeadRoutingConditionInput] | None = strawberry.field(
        default=strawberry.UNSET, description="New conditions (replace the old ones)."
    )
    position: int | None = strawberry.field(default=strawberry.UNSET, description="New position.")
    priority: int | None = strawberry.field(default=strawberry.UNSET, description="New priority (null: none).")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Switch it on or off.")


@strawberry.input(description="Identifies a routing rule, with the version you read.")
class LeadRoutingRuleRefInput:
    id: strawberry.ID = gid("LeadRoutingRule", description="The rule.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.input(description="One seller's share of a splitter: a user or a partner, and a weight.")
class LeadSplitterShareInput:
    weight: int = strawberry.field(description="A positive weight; the share is weight ÷ the sum of weights.")
    user_id: strawberry.ID | None = strawberry.field(default=None, description="The user.")
    partner_id: strawberry.ID | None = strawberry.field(default=None, description="The partner.")

    def to_domain(self, where: str) -> wf.ShareSpec:
        return wf.ShareSpec(
            weight=self.weight,
            user_id=_optional_id(self.user_id, "User", f"{where}.userId"),
            partner_id=_optional_id(self.partner_id, "Partner", f"{where}.partnerId"),
        )


@strawberry.input(description="A new lead splitter.")
class CreateLeadSplitterInput:
    name: str = strawberry.field(description="A unique name.")
    shares: list[LeadSplitterShareInput] = strawberry.field(description="The sellers and their weights.")
    active: bool = strawberry.field(default=True, description="False to create it switched off.")


@strawberry.input(description="Changes to a lead splitter; fields left out stay as they are.")
class UpdateLeadSplitterInput:
    id: strawberry.ID = gid("LeadSplitter", description="The splitter.")
    version: int | None = strawberry.field(default=None, description=VERSION)
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Switch it on or off.")
    shares: list[LeadSplitterShareInput] | None = strawberry.field(
        default=strawberry.UNSET, description="New shares; they replace the old ones and start counting from zero."
    )


@strawberry.input(description="Identifies a lead splitter, with the version you read.")
class LeadSplitterRefInput:
    id: strawberry.ID = gid("LeadSplitter", description="The splitter.")
    version: int | None = strawberry.field(default=None, description=VERSION)


@strawberry.type
class LeadRoutingMutations:
    create_lead_routing_rule = mutation(
        wf.create_lead_routing_rule,
        CreateLeadRoutingRuleInput,
        LeadRoutingRulePayload,
        convert={"conditions": each("conditions")},
        errors=ERRORS,
        description="Add a routing rule to the lead processor.",
    )
    update_lead_routing_rule = mutation(
        wf.update_lead_routing_rule,
        UpdateLeadRoutingRuleInput,
        LeadRoutingRulePayload,
        convert={"conditions": each("conditions")},
        errors=ERRORS,
        description="Change a routing rule: its conditions, target, position, priority or switch.",
    )
    delete_lead_routing_rule = mutation(
        wf.delete_lead_routing_rule,
        LeadRoutingRuleRefInput,
        Deleted("LeadRoutingRule"),
        errors=ERRORS,
        description="Delete a routing rule.",
    )
    create_lead_splitter = mutation(
        wf.create_lead_splitter,
        CreateLeadSplitterInput,
        LeadSplitterPayload,
        convert={"shares": each("shares")},
        errors=ERRORS,
        description="Create a lead splitter that shares leads between sellers by weight.",
    )
    update_lead_splitter = mutation(
        wf.update_lead_splitter,
        UpdateLeadSplitterInput,
        LeadSplitterPayload,
        convert={"shares": each("shares")},
        errors=ERRORS,
        description="Rename a lead splitter, switch it on or off, or replace its shares.",
    )
    delete_lead_splitter = mutation(
        wf.delete_lead_splitter,
        LeadSplitterRefInput,
        Deleted("LeadSplitter"),
        errors=ERRORS,
        description="Delete a lead splitter that no routing rule uses.",
    )
