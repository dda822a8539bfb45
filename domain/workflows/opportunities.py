"""Opportunity workflows: create, edit, stage, move, copy, delete, related accounts, business roles,
partner, sell, lose, unlock, upsell."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from domain.accounts import Account, Contact
from domain.audit import business_role
from domain.catalog import Product, ProductUnit
from domain.commands import UNSET, apply, changes, expect_version, given
from domain.contracts import Contract, add_months
from domain.contracts import event_data as contract_event_data
from domain.criteria import CriteriaEntity
from domain.enums import ContractKind
from domain.errors import Conflict, ValidationError, ref
from domain.events import (
    ContractCreated,
    ContractWithdrawn,
    OpportunityChanged,
    OpportunityCreated,
    OpportunityDeleted,
    OpportunityLost,
    OpportunityStageChanged,
    OpportunityUnlocked,
    OpportunityWon,
    QuoteActivated,
    QuoteChanged,
)
from domain.leads import Campaign, Lead
from domain.money import Money
from domain.opportunities import BusinessRole, Opportunity, ensure_editable
from domain.people import Partner, User
from domain.quotes import Quote, QuoteItem, quote_total
from domain.stages import StageKind
from domain.uow import Link, UnitOfWork
from domain.workflows.custom_fields import custom_values


@dataclass(kw_only=True)
class CreateOpportunity:
    name: str
    account_id: int
    owner_id: int | None = None
    stage: str | None = None  # the first open stage when left out
    estimated_revenue: Money | None = None
    probability: int | None = None
    expected_close_date: date | None = None
    partner_id: int | None = None
    campaign_id: int | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)


async def _check_refs(
    uow: UnitOfWork,
    owner_id: int | None = None,
    partner_id: int | None = None,
    campaign_id: int | None = None,
    account_id: int | None = None,
) -> None:
    if owner_id is not None:
        await uow.get(User, owner_id)
    if partner_id is not None:
        await uow.get(Partner, partner_id)
    if campaign_id is not None:
        await uow.get(Campaign, campaign_id)
    if account_id is not None:
        await uow.get(Account, account_id)


async def create_opportunity(cmd: CreateOpportunity, uow: UnitOfWork) -> Opportunity:
    """Create an opportunity on an account."""
    stages = await uow.stages()
    if cmd.stage is None:
        stage = stages.first(StageKind.OPEN)
    else:
        stage = stages.usable(cmd.stage)
        if not stage.is_open:
            raise ValidationError("stage", "a new opportunity starts in an open stage; sell or lose it afterwards")
    owner_id = cmd.owner_id or uow.actor.user_id
    if owner_id is None:
        raise ValidationError("ownerId", "a partner creating an opportunity names its owner")
    await _check_refs(uow, owner_id, cmd.partner_id, cmd.campaign_id, cmd.account_id)
    custom = await custom_values(uow, CriteriaEntity.OPPORTUNITY, cmd.custom_fields)
    opportunity = await uow.add(
        Opportunity(
            name=cmd.name,
            account_id=cmd.account_id,
            owner_id=owner_id,
            stage=stage.key,
            estimated_revenue=cmd.estimated_revenue,
            expected_close_date=cmd.expected_close_date,
            probability=stage.probability if cmd.probability is None else cmd.probability,
            partner_id=cmd.partner_id,
            campaign_id=cmd.campaign_id,
            stage_changed_at=uow.now,
            custom_fields=custom,
        )
    )
    uow.record(
        OpportunityCreated(
            entity_id=opportunity.id,
            data={"accountId": opportunity.account_id, "ownerId": owner_id, "stage": stage.key},
        )
    )
    await uow.commit()
    return opportunity


@dataclass(kw_only=True)
class UpdateOpportunity:
    id: int
    version: int | None = None
    name: str = UNSET
    owner_id: int = UNSET
    estimated_revenue: Money | None = UNSET
    probability: int = UNSET
    expected_close_date: date | None = UNSET
    campaign_id: int | None = UNSET
    custom_fields: dict[str, Any] = UNSET  # key by key; a null value removes one


async def update_opportunity(cmd: UpdateOpportunity, uow: UnitOfWork) -> Opportunity:
    """Change an opportunity's data (not its stage: see changeOpportunityStage)."""
    opportunity = await uow.get(Opportunity, cmd.id)
    expect_version(opportunity, cmd.version)
    ensure_editable(opportunity)
    values = changes(cmd, "name", "owner_id", "estimated_revenue", "probability", "expected_close_date", "campaign_id")
    await _check_refs(uow, owner_id=values.get("owner_id"), campaign_id=values.get("campaign_id"))
    if given(cmd.custom_fields):
        values["custom_fields"] = await custom_values(
            uow, CriteriaEntity.OPPORTUNITY, cmd.custom_fields, opportunity.custom_fields
        )
    updated = await uow.update(apply(opportunity, values))
    if updated.version != opportunity.version:
        uow.record(OpportunityChanged(entity_id=updated.id, data={"fields": sorted(values)}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class ChangeStage:
    id: int
    stage: str
    version: int | None = None
    probability: int | None = None


async def change_opportunity_stage(cmd: ChangeStage, uow: UnitOfWork) -> Opportunity:
    """Move an opportunity to another open stage (or reopen a lost one); or a closed one to another stage of its
    kind (a sale from WON to WON_PAID: still sold, locked, with its revenue)."""
    opportunity = await uow.get(Opportunity, cmd.id)
    expect_version(opportunity, cmd.version)
    stages = await uow.stages()
    stage = stages.usable(cmd.stage)
    previous = opportunity.stage
    if previous == stage.key:
        raise Conflict(f"opportunity {ref(opportunity)} is already in {stage.key}")
    kind = stages.kind(previous)
    if kind is not None and kind is not StageKind.OPEN and stage.kind is kind:
        updated = await uow.update(apply(opportunity, {"stage": stage.key, "stage_changed_at": uow.now}))
        uow.record(OpportunityStageChanged(entity_id=updated.id, data={"from": previous, "to": stage.key}))
        await uow.commit()
        return updated
    ensure_editable(opportunity)
    if not stage.is_open:
        raise ValidationError(
            "stage",
            f"use markOpportunitySold or markOpportunityLost to close; {stage.key} is not an open stage (a closed "
            "opportunity may move only to another stage of its kind)",
        )
    if stages.is_won(previous):
        raise Conflict(f"opportunity {ref(opportunity)} is won; unlock it to reopen it")
    updated = await uow.update(
        apply(
            opportunity,
            {
                "stage": stage.key,
                "stage_changed_at": uow.now,
                "closed_at": None,
                "loss_reason": None,
                "probability": stage.probability if cmd.probability is None else cmd.probability,
            },
        )
    )
    uow.record(OpportunityStageChanged(entity_id=updated.id, data={"from": previous, "to": stage.key}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class MoveOpportunity:
    id: int
    account_id: int
    version: int | None = None


async def move_opportunity(cmd: MoveOpportunity, uow: UnitOfWork) -> Opportunity:
    """Move an opportunity, with its quotes and activities, to another account."""
    opportunity = await uow.get(Opportunity, cmd.id)
    expect_version(opportunity, cmd.version)
    ensure_editable(opportunity)
    await uow.get(Account, cmd.account_id)
    if cmd.account_id == opportunity.account_id:
        raise ValidationError("accountId", "the opportunity already belongs to this account")
    previous = opportunity.account_id
    updated = await uow.update(apply(opportunity, {"account_id": cmd.account_id}))
    await uow.unlink(Link.RELATED_ACCOUNT, opportunity_id=updated.id, account_id=cmd.account_id)
    uow.record(
        OpportunityChanged(
            entity_id=updated.id,
            data={"fields": ["account_id"], "fromAccountId": previous, "toAccountId": cmd.account_id},
        )
    )
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class CopyOpportunity:
    id: int
    name: str | None = None
    account_id: int | None = None


async def copy_opportunity(cmd: CopyOpportunity, uow: UnitOfWork) -> Opportunity:
    """Copy an opportunity as a new open one with the same data and copies of every quote (the active one stays
    active)."""
    source = await uow.get(Opportunity, cmd.id)
    if cmd.account_id is not None:
        await uow.get(Account, cmd.account_id)
    start = (await uow.stages()).first(StageKind.OPEN)
    copy = await uow.add(
        Opportunity(
            name=cmd.name or f"{source.name} (copy)",
            account_id=cmd.account_id or source.account_id,
            owner_id=uow.actor.user_id or source.owner_id,
            stage=start.key,
            probability=start.probability,
            estimated_revenue=source.estimated_revenue,
            expected_close_date=source.expected_close_date,
            partner_id=source.partner_id,
            campaign_id=source.campaign_id,
            stage_changed_at=uow.now,
            custom_fields=dict(source.custom_fields),  # the same data, custom fields included
        )
    )
    for quote in await uow.find(Quote, opportunity_id=source.id):
        copied = await copy_quote_into(uow, quote, copy, quote.name)
        uow.record(
            QuoteChanged(entity_id=copy.id, data={"quoteId": copied.id, "change": "created", "duplicateOf": quote.id})
        )
        if copied.is_active:
            uow.record(QuoteActivated(entity_id=copy.id, data={"quoteId": copied.id}))
    for related in await uow.links(Link.RELATED_ACCOUNT, opportunity_id=source.id):
        await uow.link(Link.RELATED_ACCOUNT, opportunity_id=copy.id, account_id=related["account_id"])
    for role in await uow.find(BusinessRole, opportunity_id=source.id):
        await uow.add(BusinessRole(opportunity_id=copy.id, contact_id=role.contact_id, role=role.role))
    uow.record(
        OpportunityCreated(
            entity_id=copy.id,
            data={
                "accountId": copy.account_id,
                "ownerId": copy.owner_id,
                "stage": copy.stage,
                "copiedFrom": source.id,
            },
        )
    )
    await uow.commit()
    return copy


async def copy_quote_into(uow: UnitOfWork, quote: Quote, into: Opportunity, name: str) -> Quote:
    """A copy of `quote` and its items on the opportunity `into` (active as `into` decides)."""
    copy = await uow.add(
        Quote(
            opportunity_id=into.id,
            name=name,
            currency=quote.currency,
            price_book_id=quote.price_book_id,
            brand=quote.brand,
            product_version=quote.product_version,
            valid_from=quote.valid_from,
            valid_until=quote.valid_until,
            is_active=into.copied_quote_is_active(quote),
        )
    )
    for item in await uow.find(QuoteItem, order_by="position", quote_id=quote.id):
        await uow.add(
            QuoteItem(
                quote_id=copy.id,
                name=item.name,
                quantity=item.quantity,
                unit_price=item.unit_price,
                currency=item.currency,
                discount_percent=item.discount_percent,
                product_id=item.product_id,
                unit_id=item.unit_id,
                unit_name=item.unit_name,
                position=item.position,
                is_rounding=item.is_rounding,
            )
        )
    return copy


@dataclass(kw_only=True)
class DeleteOpportunity:
    id: int
    version: int | None = None


async def delete_opportunity(cmd: DeleteOpportunity, uow: UnitOfWork) -> int:
    """Delete an opportunity with its quotes, items, roles and activities. A sold one (with contracts) cannot be
    deleted; leads that became it keep their data and lose the link."""
    opportunity = await uow.get(Opportunity, cmd.id)
    expect_version(opportunity, cmd.version)
    ensure_editable(opportunity)
    if await uow.count(Contract, opportunity_id=opportunity.id):
        raise Conflict(f"opportunity {ref(opportunity)} has contracts; it cannot be deleted")
    for lead in await uow.find(Lead, opportunity_id=opportunity.id):
        await uow.update(apply(lead, {"opportunity_id": None}))
    for quote in await uow.find(Quote, opportunity_id=opportunity.id):  # the database deletes them with it
        uow.audit("Quote", quote.id, "deleted", quote.name, None)
    await uow.delete(opportunity)
    uow.record(OpportunityDeleted(entity_id=opportunity.id, data={"accountId": opportunity.account_id}))
    await uow.commit()
    return opportunity.id


@dataclass(kw_only=True)
class RelatedAccount:
    opportunity_id: int
    account_id: int


async def add_related_account(cmd: RelatedAccount, uow: UnitOfWork) -> Opportunity:
    """Relate another account to an opportunity."""
    opportunity = await uow.get(Opportunity, cmd.opportunity_id)
    await uow.get(Account, cmd.account_id)
    if cmd.account_id == opportunity.account_id:
        raise ValidationError("accountId", "the opportunity's own account is not a related account")
    if not await uow.link(Link.RELATED_ACCOUNT, opportunity_id=opportunity.id, account_id=cmd.account_id):
        raise Conflict(f"account {ref('Account', cmd.account_id)} is already related to opportunity {ref(opportunity)}")
    opportunity = await uow.touch(opportunity)
    uow.audit("Opportunity", opportunity.id, "relatedAccounts", None, ref("Account", cmd.account_id))
    uow.record(OpportunityChanged(entity_id=opportunity.id, data={"fields": ["related_accounts"]}))
    await uow.commit()
    return opportunity


async def remove_related_account(cmd: RelatedAccount, uow: UnitOfWork) -> Opportunity:
    """Remove a related account from an opportunity."""
    opportunity = await uow.get(Opportunity, cmd.opportunity_id)
    await uow.get(Account, cmd.account_id)  # one the caller may not see is not named, nor unlinked
    if not await uow.unlink(Link.RELATED_ACCOUNT, opportunity_id=opportunity.id, account_id=cmd.account_id):
        raise ValidationError(
            "accountId", f"account {ref('Account', cmd.account_id)} is not related to opportunity {ref(opportunity)}"
        )
    opportunity = await uow.touch(opportunity)
    uow.audit("Opportunity", opportunity.id, "relatedAccounts", ref("Account", cmd.account_id), None)
    uow.record(OpportunityChanged(entity_id=opportunity.id, data={"fields": ["related_accounts"]}))
    await uow.commit()
    return opportunity


@dataclass(kw_only=True)
class AddBusinessRole:
    opportunity_id: int
    contact_id: int
    role: str


async def add_business_role(cmd: AddBusinessRole, uow: UnitOfWork) -> BusinessRole:
    """Give a contact a role in an opportunity."""
    opportunity = await uow.get(Opportunity, cmd.opportunity_id)
    await uow.get(Contact, cmd.contact_id)
    await uow.touch(opportunity)
    role = await uow.add(BusinessRole(opportunity_id=opportunity.id, contact_id=cmd.contact_id, role=cmd.role))
    uow.audit("Opportunity", opportunity.id, "businessRoles", None, business_role(cmd.role, cmd.contact_id))
    uow.record(OpportunityChanged(entity_id=opportunity.id, data={"fields": ["business_roles"]}))
    await uow.commit()
    return role


@dataclass(kw_only=True)
class RemoveBusinessRole:
    id: int


async def remove_business_role(cmd: RemoveBusinessRole, uow: UnitOfWork) -> int:
    """Remove a business role from its opportunity."""
    role = await uow.get(BusinessRole, cmd.id)
    await uow.touch(await uow.get(Opportunity, role.opportunity_id))
    await uow.delete(role)
    uow.audit("Opportunity", role.opportunity_id, "businessRoles", business_role(role.role, role.contact_id), None)
    uow.record(OpportunityChanged(entity_id=role.opportunity_id, data={"fields": ["business_roles"]}))
    await uow.commit()
    return role.opportunity_id


@dataclass(kw_only=True)
class AssignOpportunityPartner:
    id: int
    partner_id: int | None
    version: int | None = None


async def assign_opportunity_partner(cmd: AssignOpportunityPartner, uow: UnitOfWork) -> Opportunity:
    """Assign an opportunity to a partner, or take it away."""
    opportunity = await uow.get(Opportunity, cmd.id)
    expect_version(opportunity, cmd.version)
    if cmd.partner_id is not None:
        await uow.get(Partner, cmd.partner_id)
    updated = await uow.update(apply(opportunity, {"partner_id": cmd.partner_id}))
    uow.record(OpportunityChanged(entity_id=updated.id, data={"fields": ["partner_id"], "partnerId": cmd.partner_id}))
    await uow.commit()
    return updated


# --- closing ---


@dataclass(kw_only=True)
class MarkSold:
    id: int
    version: int | None = None


def contracts_for_sale(
    opportunity: Opportunity,
    items: list[QuoteItem],
    units: dict[int, ProductUnit],
    products: dict[int, Product],
    starts_on: date,
) -> list[Contract]:
    """One contract per sold item: TIME_BASED for a recurring unit (its period from today), ONE_TIME
    otherwise. A rounding item has no contract of its own: its amount goes to the largest items'
    contracts (an amount down is taken from the largest first, never below zero), so the contracts add
    up to the quote's total exactly."""
    sold = [i for i in items if not i.is_rounding]
    if not sold:
        raise ValidationError("activeQuote", "the active quote has no items to sell")
    values = [i.total for i in sold]
    remaining = sum((i.total for i in items if i.is_rounding), Decimal(0))
    for n in sorted(range(len(sold)), key=lambda n: (-sold[n].total, n)):
        share = remaining if remaining >= 0 else max(remaining, -values[n])
        values[n] += share
        remaining -= share
        if remaining == 0:
            break
    if remaining != 0:
        raise ValidationError("activeQuote", "the rounding item takes the quote's total below zero")
    contracts = []
    for n, item in enumerate(sold):
        unit = units.get(item.unit_id) if item.unit_id else None
        product = products.get(item.product_id) if item.product_id else None
        time_based = unit is not None and unit.recurring and unit.period_months
        value = values[n]
        contracts.append(
            Contract(
                account_id=opportunity.account_id,
                opportunity_id=opportunity.id,
                name=item.name,
                kind=ContractKind.TIME_BASED if time_based else ContractKind.ONE_TIME,
                quantity=item.quantity,
                value=Money(value, item.currency),
                starts_on=starts_on,
                ends_on=add_months(starts_on, unit.period_months) if time_based else None,
                product_id=item.product_id,
                quote_item_id=item.id,
                category=product.category if product else None,
            )
        )
    return contracts


async def mark_opportunity_sold(cmd: MarkSold, uow: UnitOfWork) -> Opportunity:
    """Sell an opportunity from its active quote: WON, actual revenue = the quote's total, locked, and one contract per
    sold item."""
    opportunity = await uow.get(Opportunity, cmd.id)
    expect_version(opportunity, cmd.version)
    stages = await uow.stages()
    if stages.is_won(opportunity.stage):
        raise Conflict(f"opportunity {ref(opportunity)} is already sold")
    if stages.is_lost(opportunity.stage):
        raise Conflict(f"opportunity {ref(opportunity)} is lost; move it back to an open stage before selling it")
    won = stages.first(StageKind.WON)
    quote = opportunity.quote_to_sell(await uow.find(Quote, opportunity_id=opportunity.id))
    items = await uow.find(QuoteItem, order_by="position", quote_id=quote.id)
    total = quote_total(items, quote.currency)
    previous = opportunity.stage
    # The version check comes first: of two concurrent sales the second fails here, before any contract.
    sold = await uow.update(
        apply(
            opportunity,
            {
                "stage": won.key,
                "actual_revenue": total,
                "closed_at": uow.now,
                "locked": True,
                "probability": 100,
                "stage_changed_at": uow.now,
                "loss_reason": None,
            },
        )
    )
    sold.check_stage(stages)
    units = {u.id: u for u in await uow.get_many(ProductUnit, {i.unit_id for i in items if i.unit_id})}
    products = {p.id: p for p in await uow.get_many(Product, {i.product_id for i in items if i.product_id})}
    contracts = await uow.add_all(contracts_for_sale(sold, items, units, products, uow.now.date()))
    uow.record(OpportunityStageChanged(entity_id=sold.id, data={"from": previous, "to": won.key}))
    uow.record(
        OpportunityWon(
            entity_id=sold.id,
            data={
                "accountId": sold.account_id,
                "ownerId": sold.owner_id,
                "quoteId": quote.id,
                "actualRevenue": {"amount": str(total.amount), "currency": total.currency},
                "contractIds": [c.id for c in contracts],
            },
        )
    )
    for contract in contracts:
        uow.record(
            ContractCreated(
                entity_id=contract.id,
                data=contract_event_data(contract),
            )
        )
    await uow.commit()
    return sold


@dataclass(kw_only=True)
class MarkLost:
    id: int
    reason: str
    version: int | None = None
    stage: str | None = None  # a LOST-kind stage; the first active one when left out


async def mark_opportunity_lost(cmd: MarkLost, uow: UnitOfWork) -> Opportunity:
    """Mark an open opportunity lost, with the reason."""
    opportunity = await uow.get(Opportunity, cmd.id)
    expect_version(opportunity, cmd.version)
    stages = await uow.stages()
    if stages.is_won(opportunity.stage):
        raise Conflict(f"opportunity {ref(opportunity)} is sold; unlock it before marking it lost")
    if stages.is_lost(opportunity.stage):
        raise Conflict(f"opportunity {ref(opportunity)} is already lost")
    lost_stage = stages.usable(cmd.stage, kind=StageKind.LOST) if cmd.stage else stages.first(StageKind.LOST)
    if not (cmd.reason or "").strip():
        raise ValidationError("reason", "say why the opportunity was lost")
    previous = opportunity.stage
    lost = await uow.update(
        apply(
            opportunity,
            {
                "stage": lost_stage.key,
                "loss_reason": cmd.reason.strip(),
                "closed_at": uow.now,
                "probability": 0,
                "stage_changed_at": uow.now,
            },
        )
    )
    lost.check_stage(stages)
    uow.record(OpportunityStageChanged(entity_id=lost.id, data={"from": previous, "to": lost_stage.key}))
    uow.record(
        OpportunityLost(
            entity_id=lost.id, data={"accountId": lost.account_id, "ownerId": lost.owner_id, "reason": lost.loss_reason}
        )
    )
    await uow.commit()
    return lost


@dataclass(kw_only=True)
class Unlock:
    id: int
    version: int | None = None


async def unlock_opportunity(cmd: Unlock, uow: UnitOfWork) -> Opportunity:
    """Reopen a sold opportunity for edits: it goes back to the last open stage (NEGOTIATION as seeded), its actual revenue is cleared and the contracts
    of the sale are withdrawn (selling it again makes new ones from the quote as it is then)."""
    opportunity = await uow.get(Opportunity, cmd.id)
    expect_version(opportunity, cmd.version)
    if not opportunity.locked:
        raise Conflict(f"opportunity {ref(opportunity)} is not locked")
    back = (await uow.stages()).last(StageKind.OPEN)
    reopened = await uow.update(
        apply(
            opportunity,
            {
                "locked": False,
                "stage": back.key,
                "actual_revenue": None,
                "closed_at": None,
                "probability": back.probability,
                "stage_changed_at": uow.now,
            },
        )
    )
    withdrawn = await uow.find(Contract, opportunity_id=opportunity.id)
    for contract in withdrawn:
        await uow.delete(contract)
        uow.record(ContractWithdrawn(entity_id=contract.id, data=contract_event_data(contract)))
    uow.record(OpportunityStageChanged(entity_id=reopened.id, data={"from": opportunity.stage, "to": back.key}))
    uow.record(OpportunityUnlocked(entity_id=reopened.id, data={"withdrawnContractIds": [c.id for c in withdrawn]}))
    await uow.commit()
    return reopened


@dataclass(kw_only=True)
class CreateUpsell:
    contract_id: int
    name: str | None = None
    owner_id: int | None = None


async def create_upsell_opportunity(cmd: CreateUpsell, uow: UnitOfWork) -> Opportunity:
    """Create an upsell opportunity from a time-based contract (a licence, a support period): a new opportunity on the
    same account, expected to close when the contract ends, valued at the contract's value."""
    contract = await uow.get(Contract, cmd.contract_id)
    if contract.kind is not ContractKind.TIME_BASED:
        raise ValidationError(
            "contractId", "an upsell starts from a time-based contract; this one is a one-time purchase"
        )
    source = await uow.get(Opportunity, contract.opportunity_id)
    owner_id = cmd.owner_id or uow.actor.user_id or source.owner_id
    await uow.get(User, owner_id)
    start = (await uow.stages()).first(StageKind.OPEN)
    upsell = await uow.add(
        Opportunity(
            name=cmd.name or f"Upsell: {contract.name}",
            account_id=contract.account_id,
            owner_id=owner_id,
            stage=start.key,
            probability=start.probability,
            estimated_revenue=contract.value,
            expected_close_date=contract.ends_on,
            partner_id=source.partner_id,
            stage_changed_at=uow.now,
        )
    )
    uow.record(
        OpportunityCreated(
            entity_id=upsell.id,
            data={
                "accountId": upsell.account_id,
                "ownerId": owner_id,
                "stage": upsell.stage,
                "upsellOfContractId": contract.id,
            },
        )
    )
    await uow.commit()
    return upsell
