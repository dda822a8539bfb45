from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.base import Entity, required
from domain.enums import Stage
from domain.errors import ValidationError, ref
from domain.money import Money


@dataclass(kw_only=True)
class Opportunity(Entity):
    name: str
    account_id: int
    owner_id: int
    stage: Stage = Stage.PROSPECTING
    estimated_revenue: Money | None = None
    probability: int = 10
    expected_close_date: date | None = None
    partner_id: int | None = None
    campaign_id: int | None = None
    locked: bool = False
    closed_at: datetime | None = None
    actual_revenue: Money | None = None
    loss_reason: str | None = None
    stage_changed_at: datetime | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.stage = Stage(self.stage)
        if not 0 <= self.probability <= 100:
            raise ValidationError("probability", "must be between 0 and 100")
        if self.estimated_revenue is not None and self.estimated_revenue.amount < 0:
            raise ValidationError("estimatedRevenue", "cannot be negative")
        if self.stage is Stage.WON and self.actual_revenue is None:
            raise ValidationError("actualRevenue", "a won opportunity records its actual revenue")
        if self.stage is Stage.LOST:
            required(self.loss_reason, "lossReason")
        if self.stage.is_closed and self.closed_at is None:
            raise ValidationError("closedAt", "a closed opportunity records when it closed")
        if self.stage_changed_at is None:
            self.stage_changed_at = self.created_at


@dataclass(kw_only=True)
class BusinessRole(Entity):
    opportunity_id: int
    contact_id: int
    role: str

    def __post_init__(self) -> None:
        self.role = required(self.role, "role")


def weighted(revenue: Money, probability: int) -> Money:
    return Money(revenue.amount * Decimal(probability) / 100, revenue.currency).rounded()


def ensure_editable(opportunity: Opportunity) -> None:
    """A sold opportunity is locked: its quotes, items and data stay as sold until it is unlocked."""
    from domain.errors import Locked

    if opportunity.locked:
        raise Locked(f"opportunity {ref(opportunity)} is sold and locked; unlock it before changing it or its quotes")
