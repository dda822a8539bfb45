from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.base import Entity, key_of, required
from domain.errors import ValidationError
from domain.money import Money


@dataclass(kw_only=True)
class SalesActivity(Entity):
    """A call, meeting, task …, attached to exactly one lead, opportunity, account, contact (a person's own) or
    partner."""

    type: str  # a key of the activity types (domain/lists.py)
    subject: str
    owner_id: int
    notes: str | None = None
    due_at: datetime | None = None
    occurred_at: datetime | None = None
    done: bool = False
    duration_minutes: int | None = None
    lead_id: int | None = None
    opportunity_id: int | None = None
    account_id: int | None = None
    partner_id: int | None = None
    contact_id: int | None = None

    def __post_init__(self) -> None:
        self.type = key_of(self.type, "type")
        self.subject = required(self.subject, "subject")
        targets = [self.lead_id, self.opportunity_id, self.account_id, self.partner_id, self.contact_id]
        if sum(t is not None for t in targets) != 1:
            raise ValidationError(
                "target", "an activity is attached to exactly one lead, opportunity, account, contact or partner"
            )
        if self.duration_minutes is not None and self.duration_minutes < 0:
            raise ValidationError("durationMinutes", "cannot be negative")
        if self.done and self.occurred_at is None:
            raise ValidationError("occurredAt", "a done activity records when it happened")


@dataclass(kw_only=True)
class Goal(Entity):
    user_id: int
    period_start: date
    period_end: date
    target_revenue: Money
    target_deals: int = 0

    def __post_init__(self) -> None:
        if self.period_end < self.period_start:
            raise ValidationError("periodEnd", "ends before it starts")
        if self.target_revenue.amount < 0 or self.target_deals < 0:
            raise ValidationError("targetRevenue", "targets cannot be negative")
