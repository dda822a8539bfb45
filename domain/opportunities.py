from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from domain.base import Entity, required
from domain.commands import apply
from domain.errors import Conflict, ValidationError, ref
from domain.money import Money
from domain.quotes import Quote
from domain.stages import StageCatalog


@dataclass(kw_only=True)
class Opportunity(Entity):
    name: str
    account_id: int
    owner_id: int
    stage: str = "PROSPECTING"  # the key of a row of the stage catalogue (domain/stages.py)
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
    # Who shares the credit for it, by percentage (domain/credit.py; None: its owner has it all).
    credit_shares: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)  # domain/custom_fields.py

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.stage = self.stage.value if isinstance(self.stage, Enum) else str(self.stage)
        if not 0 <= self.probability <= 100:
            raise ValidationError("probability", "must be between 0 and 100")
        if self.estimated_revenue is not None and self.estimated_revenue.amount < 0:
            raise ValidationError("estimatedRevenue", "cannot be negative")
        if self.stage_changed_at is None:
            self.stage_changed_at = self.created_at

    def check_stage(self, stages: StageCatalog) -> None:
        """What its stage's kind asks of it: a won deal records its actual revenue, a lost one its reason, a
        closed one when it closed (the stage's kind is the catalogue's, so the entity cannot check it alone)."""
        if stages.is_won(self.stage) and self.actual_revenue is None:
            raise ValidationError("actualRevenue", "a won opportunity records its actual revenue")
        if stages.is_lost(self.stage):
            required(self.loss_reason, "lossReason")
        if stages.is_closed(self.stage) and self.closed_at is None:
            raise ValidationError("closedAt", "a closed opportunity records when it closed")

    # The active quote. An opportunity has at most one (the database's uq_quotes_one_active index
    # backs this up): the quote it is sold from, whose total becomes the actual revenue. Its first
    # quote becomes active; making another active deactivates the old one; the active one cannot be
    # deleted; a duplicate is never active; a copied opportunity keeps its active quote. The
    # workflows load the quotes and ask these methods, so the rule is written here only.

    def first_quote_is_active(self, quotes: Sequence[Quote]) -> bool:
        """Whether a new quote, added to `quotes` (this opportunity's), becomes the active one: only
        when none is active yet."""
        return active_quote(self._own(quotes)) is None

    def copied_quote_is_active(self, source: Quote) -> bool:
        """Whether a copy of `source` made into this opportunity is active: a duplicate beside its
        source never is (the opportunity has its active quote); a copy into a copied opportunity is
        when its source was, so the copy keeps the one active quote."""
        return source.is_active and source.opportunity_id != self.id

    def activate_quote(self, quote: Quote, quotes: Sequence[Quote]) -> list[Quote]:
        """The quotes to write, in this order, to make `quote` the active one: the quote that was active
        (now inactive), then `quote` (now active). Conflict when `quote` is the active one already."""
        self._own([quote])
        if quote.is_active:
            raise Conflict(f"quote {ref(quote)} is already the active quote")
        others = [apply(q, {"is_active": False}) for q in self._own(quotes) if q.is_active and q.id != quote.id]
        return [*others, apply(quote, {"is_active": True})]

    def ensure_quote_deletable(self, quote: Quote) -> None:
        """The active quote stays until another is made active."""
        self._own([quote])
        if quote.is_active:
            raise Conflict(
                f"quote {ref(quote)} is the active quote and cannot be deleted; make another quote active first"
            )

    def quote_to_sell(self, quotes: Sequence[Quote]) -> Quote:
        """The quote a sale is made from: the active one of `quotes` (this opportunity's)."""
        found = active_quote(self._own(quotes))
        if found is None:
            raise ValidationError(
                "activeQuote", "an opportunity is sold from its active quote; make a quote active first"
            )
        return found

    def _own(self, quotes: Sequence[Quote]) -> Sequence[Quote]:
        strangers = [q.id for q in quotes if q.opportunity_id != self.id]
        if strangers:
            raise ValueError(f"quotes {strangers} are not quotes of opportunity {self.id}")
        return quotes


@dataclass(kw_only=True)
class BusinessRole(Entity):
    opportunity_id: int
    contact_id: int
    role: str

    def __post_init__(self) -> None:
        self.role = required(self.role, "role")


def active_quote(quotes: Sequence[Quote]) -> Quote | None:
    return next((q for q in quotes if q.is_active), None)


def weighted(revenue: Money, probability: int) -> Money:
    return Money(revenue.amount * Decimal(probability) / 100, revenue.currency).rounded()


def ensure_editable(opportunity: Opportunity) -> None:
    """A sold opportunity is locked: its quotes, items and data stay as sold until it is unlocked."""
    from domain.errors import Locked

    if opportunity.locked:
        raise Locked(f"opportunity {ref(opportunity)} is sold and locked; unlock it before changing it or its quotes")
