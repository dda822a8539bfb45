from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.base import Entity, check_email, key_of, required
from domain.commands import camel
from domain.enums import CampaignStatus, LeadStatus
from domain.errors import Conflict, ValidationError, ref
from domain.identity import company_key, email_key, phone_key
from domain.money import Money

# Which status a lead may move to from each status: the one place that says it. A qualified lead
# has become an opportunity and stays qualified; a disqualified one can only be put back for rework
# or reopened.
LEAD_TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    LeadStatus.OPEN: frozenset(
        {LeadStatus.CONTACTING, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED, LeadStatus.REWORK}
    ),
    LeadStatus.CONTACTING: frozenset(
        {LeadStatus.OPEN, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED, LeadStatus.REWORK}
    ),
    LeadStatus.REWORK: frozenset(
        {LeadStatus.OPEN, LeadStatus.CONTACTING, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED}
    ),
    LeadStatus.DISQUALIFIED: frozenset({LeadStatus.OPEN, LeadStatus.REWORK}),
    LeadStatus.QUALIFIED: frozenset(),
}

# The personal data of a lead: what anonymization wipes. Country, company size, campaign, status,
# priority and links stay, so counts and campaign figures add up afterwards.
PERSONAL_FIELDS = ("first_name", "last_name", "company", "email", "phone", "utm_source", "utm_medium", "utm_campaign")

MAX_LENGTHS = {
    "first_name": 150,
    "last_name": 150,
    "company": 300,
    "email": 320,
    "phone": 64,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
}


@dataclass(kw_only=True)
class Campaign(Entity):
    name: str
    status: str = CampaignStatus.ACTIVE.value  # a key of the campaign statuses (domain/lists.py)
    costs: Money | None = None
    starts_on: date | None = None
    ends_on: date | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.status = key_of(self.status, "status")
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
    rework_note: str | None = None  # why it was put back for a later follow-up (REWORK)
    archived: bool = False
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    anonymized: bool = False
    # When its status last changed (a qualified lead's stays: QUALIFIED is final): time to qualify.
    status_changed_at: datetime | None = None
    # What it is known by (derived from e-mail, phone and company; see domain/identity.py).
    email_key: str | None = None
    phone_key: str | None = None
    company_key: str | None = None
    # Who it was recognised as when it came in: the earliest matching lead, contact and account, and
    # the keys that matched each ({"Lead": ["EMAIL"], ...}); and the lead it was merged into.
    duplicate_of_id: int | None = None
    matched_contact_id: int | None = None
    matched_account_id: int | None = None
    match_reasons: dict[str, Any] | None = None
    merged_into_id: int | None = None
    # Who shares the credit for it, by percentage (domain/credit.py; None: nobody shares it).
    credit_shares: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)  # domain/custom_fields.py

    def __post_init__(self) -> None:
        self.status = LeadStatus(self.status)
        for name, limit in MAX_LENGTHS.items():
            value = getattr(self, name)
            if value is not None:
                value = value.strip() or None
                if value is not None and len(value) > limit:
                    raise ValidationError(camel(name), f"is longer than {limit} characters")
                setattr(self, name, value)
        self.email = check_email(self.email)
        if self.country is not None:
            self.country = self.country.strip().upper() or None
            if self.country is not None and not (
                len(self.country) == 2 and self.country.isascii() and self.country.isalpha()
            ):
                raise ValidationError("country", f"{self.country!r} is not an ISO 3166 alpha-2 code such as NO")
        if not self.anonymized and not any((self.last_name, self.company, self.email)):
            raise ValidationError("lastName", "a lead needs a name, a company or an e-mail")
        if self.assigned_user_id is not None and self.assigned_partner_id is not None:
            raise ValidationError("assignee", "a lead is assigned to a user or a partner, not both")
        if self.status is LeadStatus.DISQUALIFIED:
            required(self.disqualification_reason, "reason")
        if self.company_size is not None and self.company_size < 0:
            raise ValidationError("companySize", "cannot be negative")
        if self.anonymized and any(getattr(self, name) is not None for name in PERSONAL_FIELDS):
            raise ValidationError("anonymized", "an anonymized lead holds no personal data")
        self.email_key, self.phone_key = email_key(self.email), phone_key(self.phone)
        self.company_key = company_key(self.company)

    def can_move_to(self, status: LeadStatus) -> bool:
        return LeadStatus(status) in LEAD_TRANSITIONS[self.status]

    def ensure_can_move_to(self, status: LeadStatus) -> None:
        status = LeadStatus(status)
        if not self.can_move_to(status):
            allowed = ", ".join(sorted(s.value for s in LEAD_TRANSITIONS[self.status])) or "none"
            raise Conflict(
                f"lead {ref(self)} is {self.status.value} and cannot become {status.value} "
                f"(allowed from {self.status.value}: {allowed})"
            )

    def ensure_workable(self) -> None:
        """An archived lead is put away: unarchive it before working on it."""
        if self.archived:
            raise Conflict(f"lead {ref(self)} is archived; unarchive it first")

    @property
    def display_name(self) -> str:
        person = " ".join(p for p in (self.first_name, self.last_name) if p)
        return self.company or person or self.email or "Unnamed lead"


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
