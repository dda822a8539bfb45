from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.base import Entity, check_email, required
from domain.enums import CampaignStatus, LeadStatus
from domain.errors import ValidationError
from domain.money import Money


@dataclass(kw_only=True)
class Campaign(Entity):
    name: str
    status: CampaignStatus = CampaignStatus.ACTIVE
    costs: Money | None = None
    starts_on: date | None = None
    ends_on: date | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.status = CampaignStatus(self.status)
        if self.costs is not None and self.costs.amount < 0:
            raise ValidationError("costs", "cannot be negative")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError("endsOn", "ends before it starts")


@dataclass(kw_only=True)
class Lead(Entity):
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    company_size: int | None = None
    campaign_id: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    priority: int = 0
    assigned_user_id: int | None = None
    assigned_partner_id: int | None = None
    status: LeadStatus = LeadStatus.OPEN
    disqualification_reason: str | None = None
    archived: bool = False
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    anonymized: bool = False

    def __post_init__(self) -> None:
        self.status = LeadStatus(self.status)
        self.email = check_email(self.email)
        if not self.anonymized and not any((self.last_name, self.company, self.email)):
            raise ValidationError("lastName", "a lead needs a name, a company or an e-mail")
        if self.assigned_user_id is not None and self.assigned_partner_id is not None:
            raise ValidationError("assignee", "a lead is assigned to a user or a partner, not both")
        if self.status is LeadStatus.DISQUALIFIED:
            required(self.disqualification_reason, "reason")
        if self.company_size is not None and self.company_size < 0:
            raise ValidationError("companySize", "cannot be negative")


def cost_per_lead(costs: Money | None, leads: int) -> Money | None:
    if costs is None or leads == 0:
        return None
    return Money(costs.amount / Decimal(leads), costs.currency).rounded()


def return_on_investment(costs: Money | None, won: Money | None) -> Decimal | None:
    """(won - costs) / costs in percent; None when there were no costs."""
    if costs is None or costs.amount == 0:
        return None
    won_amount = won.amount if won is not None else Decimal(0)
    return ((won_amount - costs.amount) / costs.amount * 100).quantize(Decimal("0.01"))
