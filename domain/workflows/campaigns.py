"""Campaign workflows: create, change, archive, unarchive (marketing's; partners have no part in them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.commands import UNSET, apply, changes, expect_version, fits
from domain.enums import CampaignStatus
from domain.errors import Conflict, ValidationError, ref
from domain.events import CampaignChanged
from domain.leads import Campaign
from domain.lists import ListName
from domain.money import Money
from domain.uow import UnitOfWork
from domain.workflows.lists import find_value, list_values, require_key

# Campaign costs are kept with 4 decimals and 16 digits before the point.
COSTS_DECIMALS, COSTS_LIMIT = 4, Decimal(10) ** 16


def _costs(costs: Money | None) -> None:
    if costs is None:
        return
    if abs(costs.amount) >= COSTS_LIMIT:
        raise ValidationError("costs", f"is too large; at most {COSTS_LIMIT - 1:,} {costs.currency}")
    if costs.amount != costs.amount.quantize(Decimal(1).scaleb(-COSTS_DECIMALS)):
        raise ValidationError("costs", f"has more than {COSTS_DECIMALS} decimal places")


@dataclass(kw_only=True)
class CreateCampaign:
    name: str
    costs: Money | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    status: str = CampaignStatus.ACTIVE.value


async def create_campaign(cmd: CreateCampaign, uow: UnitOfWork) -> Campaign:
    """Create a marketing campaign (in the status given, ACTIVE by default: a key of the campaign statuses)."""
    uow.actor.ensure_staff("manage campaigns")
    fits(cmd.name, "name")
    _costs(cmd.costs)
    await require_key(uow, ListName.CAMPAIGN_STATUS, cmd.status, "status")
    campaign = await uow.add(
        Campaign(name=cmd.name, costs=cmd.costs, starts_on=cmd.starts_on, ends_on=cmd.ends_on, status=cmd.status)
    )
    uow.record(CampaignChanged(entity_id=campaign.id, data={"change": "created"}))
    await uow.commit()
    return campaign


@dataclass(kw_only=True)
class UpdateCampaign:
    id: int
    version: int | None = None
    name: str = UNSET
    costs: Money | None = UNSET
    starts_on: date | None = UNSET
    ends_on: date | None = UNSET
    status: str = UNSET


async def update_campaign(cmd: UpdateCampaign, uow: UnitOfWork) -> Campaign:
    """Change a campaign's name, costs, period or status (a key of the campaign statuses)."""
    uow.actor.ensure_staff("manage campaigns")
    campaign = await uow.get(Campaign, cmd.id)
    expect_version(campaign, cmd.version)
    values = changes(cmd, "name", "costs", "starts_on", "ends_on", "status")
    if "status" in values:
        await require_key(uow, ListName.CAMPAIGN_STATUS, values["status"], "status", campaign.status)
    fits(values.get("name"), "name")
    _costs(values.get("costs"))
    updated = await uow.update(apply(campaign, values))
    uow.record(CampaignChanged(entity_id=updated.id, data={"change": "updated", "fields": sorted(values)}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class CampaignRef:
    id: int
    version: int | None = None


async def _set_campaign_status(cmd: CampaignRef, uow: UnitOfWork, archived: bool) -> Campaign:
    uow.actor.ensure_staff("manage campaigns")
    campaign = await uow.get(Campaign, cmd.id)
    expect_version(campaign, cmd.version)
    current = await find_value(uow, ListName.CAMPAIGN_STATUS, campaign.status)
    if current is not None and bool(current.archived) is archived:
        raise Conflict(
            f"campaign {ref(campaign)} is already {'archived' if archived else 'in use'} ({campaign.status})"
        )
    # The built-in status of that kind (ARCHIVED, ACTIVE) when it is active, else the first active one of that kind.
    wanted = CampaignStatus.ARCHIVED.value if archived else CampaignStatus.ACTIVE.value
    kinds = [v for v in await list_values(uow, ListName.CAMPAIGN_STATUS) if v.active and bool(v.archived) is archived]
    if not kinds:
        raise Conflict(f"the campaign status list has no active {'archived' if archived else 'in-use'} status")
    status = next((v.key for v in kinds if v.key == wanted), kinds[0].key)
    updated = await uow.update(apply(campaign, {"status": status}))
    uow.record(CampaignChanged(entity_id=updated.id, data={"change": "archived" if archived else "unarchived"}))
    await uow.commit()
    return updated


async def archive_campaign(cmd: CampaignRef, uow: UnitOfWork) -> Campaign:
    """Archive a campaign: kept with its leads and figures, no longer in use (its status becomes ARCHIVED, or
    the first active campaign status marked archived)."""
    return await _set_campaign_status(cmd, uow, True)


async def unarchive_campaign(cmd: CampaignRef, uow: UnitOfWork) -> Campaign:
    """Put an archived campaign back in use (status ACTIVE, or the first active status not marked archived)."""
    return await _set_campaign_status(cmd, uow, False)
