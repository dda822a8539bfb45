"""Lead routing rule workflows: create, change, delete. The lead processor tries the active rules by
position; the first that matches a lead decides where it goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from domain.commands import UNSET, apply, changes, expect_version, fits, given
from domain.errors import ValidationError
from domain.events import DomainEvent
from domain.leads import Campaign
from domain.people import Partner, User
from domain.routing import Condition, LeadField, LeadRoutingRule, LeadSplitter
from domain.uow import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class LeadRoutingRuleChanged(DomainEvent):
    """A lead routing rule was created, changed or deleted (data: change, fields)."""

    entity_type: ClassVar[str] = "LeadRoutingRule"


# Rules are ordered by position. Bounded so that "after the last rule" (the highest position + 1)
# can always be stored, and with room enough to leave gaps between rules.
MAX_POSITION = 1_000_000


def _position(value: int) -> int:
    if not 0 <= value <= MAX_POSITION:
        raise ValidationError("position", f"is from 0 to {MAX_POSITION}, not {value}")
    return value


@dataclass(kw_only=True)
class Target:
    """Where a rule sends leads: exactly one of them."""

    user_id: int | None = None
    partner_id: int | None = None
    splitter_id: int | None = None


async def _check_target(uow: UnitOfWork, target: Target) -> None:
    if sum(v is not None for v in (target.user_id, target.partner_id, target.splitter_id)) != 1:
        raise ValidationError("target", "name exactly one of userId, partnerId and splitterId")
    if target.user_id is not None:
        await uow.get(User, target.user_id)
    if target.partner_id is not None:
        await uow.get(Partner, target.partner_id)
    if target.splitter_id is not None:
        await uow.get(LeadSplitter, target.splitter_id)


async def _check_conditions(uow: UnitOfWork, conditions: list[Condition]) -> None:
    for condition in conditions:
        if condition.field is LeadField.CAMPAIGN:
            for campaign_id in condition.values:
                await uow.get(Campaign, campaign_id)


@dataclass(kw_only=True)
class CreateRoutingRule:
    name: str
    target: Target
    conditions: list[Condition] = field(default_factory=list)
    position: int | None = None
    priority: int | None = None
    active: bool = True


async def create_lead_routing_rule(cmd: CreateRoutingRule, uow: UnitOfWork) -> LeadRoutingRule:
    """Add a routing rule to the lead processor; without a position it comes after every other rule."""
    uow.actor.ensure_staff("manage lead routing")
    fits(cmd.name, "name")
    if cmd.position is not None:
        _position(cmd.position)
    await _check_target(uow, cmd.target)
    await _check_conditions(uow, cmd.conditions)
    position = cmd.position
    if position is None:
        # After the last rule; once the last position is taken, tied with it (ties go by id, so
        # still after). min() also keeps the new position in range when an older rule has a higher one.
        last = max((r.position for r in await uow.find(LeadRoutingRule)), default=0)
        position = min(last + 1, MAX_POSITION)
    rule = await uow.add(
        LeadRoutingRule(
            name=cmd.name,
            position=position,
            active=cmd.active,
            conditions=[c.to_dict() for c in cmd.conditions],
            user_id=cmd.target.user_id,
            partner_id=cmd.target.partner_id,
            splitter_id=cmd.target.splitter_id,
            priority=cmd.priority,
        )
    )
    uow.record(LeadRoutingRuleChanged(entity_id=rule.id, data={"change": "created", "position": rule.position}))
    await uow.commit()
    return rule


@dataclass(kw_only=True)
class UpdateRoutingRule:
    id: int
    version: int | None = None
    name: str = UNSET
    target: Target = UNSET
    conditions: list[Condition] = UNSET
    position: int = UNSET
    priority: int | None = UNSET
    active: bool = UNSET


async def update_lead_routing_rule(cmd: UpdateRoutingRule, uow: UnitOfWork) -> LeadRoutingRule:
    """Change a routing rule: its conditions, target, position, priority or switch."""
    uow.actor.ensure_staff("manage lead routing")
    rule = await uow.get(LeadRoutingRule, cmd.id)
    expect_version(rule, cmd.version)
    values = changes(cmd, "name", "position", "priority", "active")
    for name in ("position", "active"):
        if name in values and values[name] is None:
            raise ValidationError(name, "cannot be null")
    fits(values.get("name"), "name")
    if "position" in values:
        _position(values["position"])
    if given(cmd.target):
        if cmd.target is None:
            raise ValidationError("target", "cannot be null; a rule always has a target")
        await _check_target(uow, cmd.target)
        values.update(user_id=cmd.target.user_id, partner_id=cmd.target.partner_id, splitter_id=cmd.target.splitter_id)
    if given(cmd.conditions):
        if cmd.conditions is None:
            raise ValidationError("conditions", "cannot be null; send [] for a rule that matches every lead")
        await _check_conditions(uow, cmd.conditions)
        values["conditions"] = [c.to_dict() for c in cmd.conditions]
    updated = await uow.update(apply(rule, values))
    uow.record(LeadRoutingRuleChanged(entity_id=updated.id, data={"change": "updated", "fields": sorted(values)}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class RoutingRuleRef:
    id: int
    version: int | None = None


async def delete_lead_routing_rule(cmd: RoutingRuleRef, uow: UnitOfWork) -> int:
    """Delete a routing rule."""
    uow.actor.ensure_staff("manage lead routing")
    rule = await uow.get(LeadRoutingRule, cmd.id)
    expect_version(rule, cmd.version)
    await uow.delete(rule)
    uow.record(LeadRoutingRuleChanged(entity_id=rule.id, data={"change": "deleted"}))
    await uow.commit()
    return rule.id
