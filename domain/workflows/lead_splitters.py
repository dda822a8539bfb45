"""Lead splitter workflows: create, change (name, on or off, shares), delete. A splitter hands the
leads of the rules that target it to its sellers by weight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.commands import UNSET, apply, changes, expect_version, fits, given
from domain.errors import Conflict, ValidationError, ref
from domain.events import DomainEvent
from domain.people import Partner, User
from domain.routing import LeadRoutingRule, LeadSplitter, LeadSplitterShare, check_credit_shares, check_shares
from domain.uow import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class LeadSplitterChanged(DomainEvent):
    """A lead splitter or its shares were created, changed or deleted (data: change, fields)."""

    entity_type: ClassVar[str] = "LeadSplitter"


@dataclass(kw_only=True)
class ShareSpec:
    weight: int
    user_id: int | None = None
    partner_id: int | None = None


async def _shares(uow: UnitOfWork, splitter_id: int, specs: list[ShareSpec]) -> list[LeadSplitterShare]:
    shares = [
        LeadSplitterShare(splitter_id=splitter_id, weight=s.weight, user_id=s.user_id, partner_id=s.partner_id)
        for s in specs
    ]
    check_shares(shares)
    for share in shares:
        if share.user_id is not None:
            await uow.get(User, share.user_id)
        else:
            await uow.get(Partner, share.partner_id)  # type: ignore[arg-type]
    return shares


@dataclass(kw_only=True)
class CreateSplitter:
    name: str
    shares: list[ShareSpec]
    active: bool = True
    mode: str = "QUOTA"


async def create_lead_splitter(cmd: CreateSplitter, uow: UnitOfWork) -> LeadSplitter:
    """Create a lead splitter: QUOTA hands each lead to one seller, sellers taking leads by weight (50/30/20);
    SHARE shares each lead's credit among all its users, the weights being percentages adding up to 100 (33/33/34),
    and gives the lead to the largest share's user."""
    uow.actor.ensure_staff("manage lead splitters")
    fits(cmd.name, "name")
    mode = LeadSplitter(name=cmd.name, mode=cmd.mode or "QUOTA").mode
    shares = await _shares(uow, 0, cmd.shares)
    if mode == "SHARE":
        check_credit_shares(shares)
    if await uow.count(LeadSplitter, name=cmd.name.strip()):
        raise Conflict(f"a lead splitter named {cmd.name.strip()!r} exists already")
    splitter = await uow.add(LeadSplitter(name=cmd.name, active=cmd.active, mode=mode))
    for share in shares:
        share.splitter_id = splitter.id
        await uow.add(share)
    uow.record(
        LeadSplitterChanged(entity_id=splitter.id, data={"change": "created", "weights": [s.weight for s in shares]})
    )
    await uow.commit()
    return splitter


@dataclass(kw_only=True)
class UpdateSplitter:
    id: int
    version: int | None = None
    name: str = UNSET
    active: bool = UNSET
    shares: list[ShareSpec] = UNSET
    mode: str = UNSET


async def update_lead_splitter(cmd: UpdateSplitter, uow: UnitOfWork) -> LeadSplitter:
    """Rename a lead splitter, switch it on or off, change its mode (QUOTA or SHARE), or replace its shares. New
    shares start a new count: every seller starts from zero, so the new weights hold from the next lead on."""
    uow.actor.ensure_staff("manage lead splitters")
    # Wait for ingestions counting on this splitter to finish rather than fail on their counts.
    await uow.lock(LeadSplitter, cmd.id)
    splitter = await uow.get(LeadSplitter, cmd.id)
    expect_version(splitter, cmd.version)
    values = changes(cmd, "name", "active", "mode")
    if "active" in values and values["active"] is None:
        raise ValidationError("active", "cannot be null")
    if "mode" in values:
        if values["mode"] is None:
            raise ValidationError("mode", "cannot be null")
        values["mode"] = LeadSplitter(name=splitter.name, mode=values["mode"]).mode
    fits(values.get("name"), "name")
    if values.get("name") is not None and values["name"].strip() != splitter.name:
        if await uow.count(LeadSplitter, name=values["name"].strip()):
            raise Conflict(f"a lead splitter named {values['name'].strip()!r} exists already")
    if cmd.shares is None:
        raise ValidationError("shares", "cannot be null; a splitter always has shares")
    shares = await _shares(uow, splitter.id, cmd.shares) if given(cmd.shares) else None
    if values.get("mode", splitter.mode) == "SHARE" and ("mode" in values or shares is not None):
        check_credit_shares(
            shares if shares is not None else await uow.find(LeadSplitterShare, splitter_id=splitter.id)
        )
    updated = await uow.update(apply(splitter, values))
    if shares is not None:
        if updated.version == splitter.version:
            updated = await uow.touch(updated)
        for old in await uow.find(LeadSplitterShare, splitter_id=splitter.id):
            await uow.delete(old)
        for share in shares:
            await uow.add(share)
    fields = sorted(values) + (["shares"] if shares is not None else [])
    uow.record(LeadSplitterChanged(entity_id=updated.id, data={"change": "updated", "fields": fields}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class SplitterRef:
    id: int
    version: int | None = None


async def delete_lead_splitter(cmd: SplitterRef, uow: UnitOfWork) -> int:
    """Delete a lead splitter that no routing rule uses (retarget or delete those rules first)."""
    uow.actor.ensure_staff("manage lead splitters")
    # Wait for ingestions counting on this splitter to finish rather than fail on their counts.
    await uow.lock(LeadSplitter, cmd.id)
    splitter = await uow.get(LeadSplitter, cmd.id)
    expect_version(splitter, cmd.version)
    users = await uow.find(LeadRoutingRule, splitter_id=splitter.id)
    if users:
        names = ", ".join(repr(r.name) for r in users)
        raise Conflict(
            f"lead splitter {ref(splitter)} is used by routing rule(s) {names}; retarget or delete them first"
        )
    for share in await uow.find(LeadSplitterShare, splitter_id=splitter.id):
        await uow.delete(share)
    await uow.delete(splitter)
    uow.record(LeadSplitterChanged(entity_id=splitter.id, data={"change": "deleted"}))
    await uow.commit()
    return splitter.id
