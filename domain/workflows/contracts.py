"""Contract workflows: a contract's status follows its dates (the scheduler ends it when its end passes
and announces it some days before), a time-based contract is renewed for a new period, a contract is
cancelled now or terminated as of a later date with a reason, and a contract is removed from its sold
opportunity where the rules allow (issue 18, item 1). Partners read contracts but change none of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.commands import apply, expect_version
from domain.contracts import NOTICE_DAYS, Contract, event_data, renewed_end
from domain.enums import ContractKind, ContractStatus, Role
from domain.errors import Conflict, PermissionDenied, ValidationError, ref
from domain.events import (
    ContractCancelled,
    ContractEvent,
    ContractExpired,
    ContractExpiring,
    ContractRemoved,
    ContractRenewed,
)
from domain.opportunities import Opportunity
from domain.uow import UnitOfWork


def _record(uow: UnitOfWork, event: type[ContractEvent], contract: Contract, **extra: Any) -> None:
    uow.record(event(entity_id=contract.id, data=event_data(contract, **extra)))


def _staff(uow: UnitOfWork, what: str) -> None:
    uow.actor.ensure_staff(what)


@dataclass(kw_only=True)
class RenewContract:
    id: int
    version: int | None = None
    months: int | None = None
    ends_on: date | None = None


async def renew_contract(cmd: RenewContract, uow: UnitOfWork) -> Contract:
    """Renew a time-based contract for a new period: it ends `months` later, on `endsOn`, or (neither given) as
    long again as its current period; an expired one is ACTIVE again. A cancelled contract, a one-time purchase
    or a new end that has passed already is refused. Users only (a partner gets a PermissionDeniedError). For a
    renewal as a new sale, see createUpsellOpportunity."""
    _staff(uow, "renew contracts")
    contract = await uow.get(Contract, cmd.id)
    expect_version(contract, cmd.version)
    contract.ensure_time_based("renewed")
    contract.ensure_not_cancelled("renewed")
    ends_on = renewed_end(contract, cmd.months, cmd.ends_on)
    if ends_on < uow.now.date():
        raise ValidationError("endsOn", f"the renewed period would have ended already ({ends_on.isoformat()})")
    renewed = await uow.update(apply(contract, {"ends_on": ends_on, "status": ContractStatus.ACTIVE}))
    _record(
        uow,
        ContractRenewed,
        renewed,
        previousEndsOn=contract.ends_on.isoformat() if contract.ends_on else None,
        previousStatus=contract.status.value,
    )
    await uow.commit()
    return renewed


@dataclass(kw_only=True)
class CancelContract:
    id: int
    reason: str
    version: int | None = None
    effective_on: date | None = None


async def cancel_contract(cmd: CancelContract, uow: UnitOfWork) -> Contract:
    """Cancel a contract with a reason: now (CANCELLED), or terminate a time-based one as of a later date (it
    ends the day before and becomes CANCELLED then, with no request). Users only."""
    _staff(uow, "cancel contracts")
    contract = await uow.get(Contract, cmd.id)
    expect_version(contract, cmd.version)
    reason = (cmd.reason or "").strip()
    if not reason:
        raise ValidationError("reason", "say why the contract is cancelled")
    contract.ensure_not_cancelled("cancelled again")
    if contract.status is not ContractStatus.ACTIVE:
        raise Conflict(f"contract {ref(contract)} has expired; there is nothing left to cancel")
    today = uow.now.date()
    effective = cmd.effective_on or today
    if effective < contract.starts_on:
        raise ValidationError("effectiveOn", f"the contract starts on {contract.starts_on.isoformat()}")
    values: dict[str, Any] = {"cancelled_on": effective, "cancel_reason": reason}
    if effective <= today:
        values["status"] = ContractStatus.CANCELLED
    else:
        if contract.kind is not ContractKind.TIME_BASED:
            raise ValidationError("effectiveOn", "a one-time purchase is cancelled today or earlier, not later")
        if contract.ends_on is not None and effective > contract.ends_on:
            raise ValidationError(
                "effectiveOn", f"the contract ends on {contract.ends_on.isoformat()} anyway; nothing to terminate"
            )
        values["ends_on"] = effective - timedelta(days=1)
        if values["ends_on"] <= contract.starts_on:
            raise ValidationError("effectiveOn", "a terminated contract keeps at least one day of service")
    cancelled = await uow.update(apply(contract, values))
    _record(uow, ContractCancelled, cancelled, effectiveOn=effective.isoformat(), reason=reason)
    await uow.commit()
    return cancelled


@dataclass(kw_only=True)
class RemoveContract:
    id: int
    version: int | None = None
    reason: str | None = None


async def remove_contract(cmd: RemoveContract, uow: UnitOfWork) -> Contract:
    """Remove an active contract from its sold opportunity (an item not delivered after all); the opportunity
    stays won. The opportunity's owner, a sales director or an admin may; an ended contract stays as the
    record."""
    _staff(uow, "remove contracts")
    contract = await uow.get(Contract, cmd.id)
    expect_version(contract, cmd.version)
    opportunity = await uow.get(Opportunity, contract.opportunity_id, as_system=True)
    actor = uow.actor
    if actor.role not in (Role.ADMIN, Role.SALES_DIRECTOR) and actor.user_id != opportunity.owner_id:
        raise PermissionDenied(
            f"only the opportunity's owner, a sales director or an admin may remove contract {ref(contract)}"
        )
    if contract.status is not ContractStatus.ACTIVE or contract.cancelled_on is not None:
        raise Conflict(
            f"contract {ref(contract)} is {contract.status.value.lower()}; an ended contract stays as the record"
        )
    await uow.delete(contract)
    _record(uow, ContractRemoved, contract, reason=(cmd.reason or "").strip() or None)
    await uow.commit()
    return contract


# --- by the scheduler, with no request ---


def end(uow: UnitOfWork, contract: Contract) -> Contract:
    """The values of a contract whose end has passed: EXPIRED, or CANCELLED when it was terminated early."""
    status = ContractStatus.CANCELLED if contract.cancelled_on is not None else ContractStatus.EXPIRED
    return apply(contract, {"status": status})


async def end_contract(uow: UnitOfWork, contract: Contract) -> Contract:
    """Its end has passed: EXPIRED (CANCELLED when terminated early), with a ContractExpired event."""
    if not contract.is_over(uow.now):
        raise Conflict(f"contract {ref(contract)} has not ended")
    ended = await uow.update(end(uow, contract))
    _record(uow, ContractExpired, ended)
    return ended


async def announce_expiry(uow: UnitOfWork, contract: Contract, days: int = NOTICE_DAYS) -> Contract:
    """Its end is within `days`: a ContractExpiring event, once per end date (a renewal moves the end, and
    the new end is announced in its time)."""
    noticed = await uow.update(apply(contract, {"expiry_noticed_for": contract.ends_on}))
    assert contract.ends_at is not None
    left = (contract.ends_at - uow.now).total_seconds() / 86400
    _record(uow, ContractExpiring, noticed, daysLeft=max(0, int(left + 0.999999)), noticeDays=days)
    return noticed
