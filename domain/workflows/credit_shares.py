"""Credit shares by hand: share a lead or an opportunity among co-workers by percentage (the guide's
sharing splitter does it for the leads it routes: domain/workflows/lead_processor.py). The scoreboard
counts each user's percentage of a shared deal (persistence/aggregates.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain import credit
from domain.base import Entity
from domain.commands import apply, expect_version
from domain.enums import LeadStatus
from domain.errors import Conflict, ValidationError, ref
from domain.events import LeadChanged, OpportunityChanged
from domain.leads import Lead
from domain.opportunities import Opportunity, ensure_editable
from domain.people import User
from domain.uow import UnitOfWork


@dataclass(kw_only=True)
class ShareSpec:
    user_id: int
    percent: int


@dataclass(kw_only=True)
class SetCreditShares:
    id: int
    version: int | None = None
    shares: list[ShareSpec] = field(default_factory=list)


def _may_share(uow: UnitOfWork) -> None:
    """Credit is the company's own reckoning of who sold what: staff set it, partners may not."""
    uow.actor.ensure_staff("share the credit for a lead or an opportunity")


async def _checked(uow: UnitOfWork, kind: type[Entity], row_id: int, specs: list[ShareSpec]) -> str | None:
    """The canonical shares (None: no shares), each user existing and allowed to see the row."""
    if not specs:
        return None
    shares = credit.check([credit.Share(s.user_id, s.percent) for s in specs])
    noun = "lead" if kind is Lead else "opportunity"
    for share in shares:
        user = await uow.get(User, share.user_id)
        if not await uow.may_see(user, kind, row_id):
            raise ValidationError(
                "shares", f"{user.name} may not see this {noun}; share it only with users who may see it"
            )
    return credit.encode(shares)


async def set_lead_credit_shares(cmd: SetCreditShares, uow: UnitOfWork) -> Lead:
    """Share the credit for a lead among co-workers by percentage (whole percentages adding up to 100, each user
    once, every one of them allowed to see the lead); an empty list stops sharing it. The opportunity the lead
    is qualified into takes its shares. Staff only."""
    _may_share(uow)
    lead = await uow.get(Lead, cmd.id)
    expect_version(lead, cmd.version)
    lead.ensure_workable()
    if lead.status is LeadStatus.QUALIFIED:
        raise Conflict(f"lead {ref(lead)} is qualified; share the credit for its opportunity instead")
    shares = await _checked(uow, Lead, lead.id, cmd.shares)
    updated = await uow.update(apply(lead, {"credit_shares": shares}))
    if updated.version != lead.version:
        uow.record(
            LeadChanged(entity_id=updated.id, data={"fields": ["credit_shares"], "status": updated.status.value})
        )
    await uow.commit()
    return updated


async def set_opportunity_credit_shares(cmd: SetCreditShares, uow: UnitOfWork) -> Opportunity:
    """Share the credit for an opportunity among co-workers by percentage (whole percentages adding up to 100, each
    user once, every one of them allowed to see the opportunity); an empty list gives its owner the whole credit
    again. The scoreboard counts each user's percentage of the deal and of its revenue. Whoever may change the
    opportunity (staff; not while it is sold and locked)."""
    _may_share(uow)
    opportunity = await uow.get(Opportunity, cmd.id)
    expect_version(opportunity, cmd.version)
    ensure_editable(opportunity)
    shares = await _checked(uow, Opportunity, opportunity.id, cmd.shares)
    updated = await uow.update(apply(opportunity, {"credit_shares": shares}))
    if updated.version != opportunity.version:
        uow.record(OpportunityChanged(entity_id=updated.id, data={"fields": ["credit_shares"]}))
    await uow.commit()
    return updated
