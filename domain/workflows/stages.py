"""Opportunity stage workflows (admins): create, change, deactivate, reorder and delete the stages of the sales
process (domain/stages.py).

The rules that keep every other workflow able to run: there is always an active stage of each kind (a new
deal starts in the first open one, a sale and a loss move to the first WON and LOST ones); a stage that
holds opportunities keeps its kind (the scoreboard and the reports count them by it); a stage in use (by
opportunities, status monitor rules, selections or saved views) cannot be deleted, only deactivated, which
refuses it on new writes and keeps showing it on the rows that have it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from domain.commands import UNSET, apply, changes, expect_version
from domain.errors import Conflict, PermissionDenied, ValidationError, ref
from domain.events import DomainEvent
from domain.monitors import StatusMonitor
from domain.opportunities import Opportunity
from domain.selections import Selection
from domain.stages import OpportunityStage, StageKind, check_key
from domain.uow import UnitOfWork
from domain.views import SavedView


@dataclass(frozen=True, kw_only=True)
class OpportunityStageEvent(DomainEvent):
    entity_type: ClassVar[str] = "OpportunityStage"


@dataclass(frozen=True, kw_only=True)
class OpportunityStageDefined(OpportunityStageEvent):
    """An opportunity stage was created, changed, deactivated, moved in the order or deleted.
    data: change (CREATED, UPDATED, REORDERED, DELETED), key, fields (what changed)."""


@dataclass(kw_only=True)
class CreateOpportunityStage:
    key: str
    name: str
    kind: StageKind = StageKind.OPEN
    probability: int | None = None
    position: int | None = None
    active: bool = True


@dataclass(kw_only=True)
class UpdateOpportunityStage:
    id: int
    version: int | None = None
    name: str = UNSET
    kind: StageKind = UNSET
    probability: int = UNSET
    active: bool = UNSET


@dataclass(kw_only=True)
class DeleteOpportunityStage:
    id: int
    version: int | None = None


@dataclass(kw_only=True)
class ReorderOpportunityStages:
    keys: list[str]


@dataclass
class StageOrder:
    """The stages in their new order."""

    stages: list[OpportunityStage]


def _ensure_admin(uow: UnitOfWork) -> None:
    if not uow.actor.is_admin:
        raise PermissionDenied("only admins change the opportunity stages")


def _default_probability(kind: StageKind, given: int | None) -> int:
    if kind is StageKind.WON:
        return 100 if given is None else given
    if kind is StageKind.LOST:
        return 0 if given is None else given
    if given is None:
        raise ValidationError("probability", "an open stage needs its default probability (0 to 100)")
    return given


async def _ordered(uow: UnitOfWork) -> list[OpportunityStage]:
    return list(await uow.find(OpportunityStage, order_by="position"))


def _renumbered(stages: list[OpportunityStage]) -> list[tuple[OpportunityStage, int]]:
    """The stages whose position changes when `stages` (in their new order) are numbered 1, 2, 3 …"""
    return [(s, n) for n, s in enumerate(stages, start=1) if s.position != n]


def _keep_one_active(stages: list[OpportunityStage], leaving: OpportunityStage, kind: StageKind) -> None:
    """Conflict when `leaving` is the last active stage of `kind` (it is being deactivated, deleted or given
    another kind)."""
    others = [s for s in stages if s.kind is kind and s.active and s.id != leaving.id]
    if not others:
        raise Conflict(
            f"opportunity stage {leaving.key} is the last active {kind.value}-kind stage; the sales process needs one "
            f"(create or activate another {kind.value}-kind stage first)"
        )


async def uses_of(uow: UnitOfWork, key: str) -> dict[str, int]:
    """What uses the stage `key`, by what (only what uses it): opportunities in it, status monitors whose rule
    names it, selections and saved views whose criteria name it."""
    found = {
        "opportunities": await uow.count(Opportunity, stage=key),
        "status monitors": sum(1 for m in await uow.find(StatusMonitor) if m.rule.stage == key),
        "selections": sum(1 for s in await uow.find(Selection) if _names_stage(s.criteria, key)),
        "saved views": sum(1 for v in await uow.find(SavedView) if _names_stage(v.criteria, key)),
    }
    return {what: n for what, n in found.items() if n}


def _names_stage(criteria: Any, key: str) -> bool:
    """Whether a criteria tree (domain/criteria.py) tests the STAGE field against `key`."""
    if isinstance(criteria, dict):
        if criteria.get("field") == "STAGE" and any(key in (criteria.get(t) or ()) for t in ("in", "notIn")):
            return True
        return any(_names_stage(v, key) for v in criteria.values() if isinstance(v, dict | list))
    if isinstance(criteria, list):
        return any(_names_stage(v, key) for v in criteria)
    return False


def _record(uow: UnitOfWork, stage: OpportunityStage, change: str, fields: list[str] | None = None) -> None:
    data: dict[str, Any] = {"change": change, "key": stage.key}
    if fields is not None:
        data["fields"] = fields
    uow.record(OpportunityStageDefined(entity_id=stage.id, data=data))  # type: ignore[arg-type]


async def create_opportunity_stage(cmd: CreateOpportunityStage, uow: UnitOfWork) -> OpportunityStage:
    """Add an opportunity stage (admins): a new key (UPPER_SNAKE, unique), its name, kind (OPEN, WON or LOST) and
    default probability (WON: 100, LOST: 0), at a place in the order (default: the end)."""
    _ensure_admin(uow)
    key = check_key(cmd.key)
    kind = StageKind(cmd.kind)
    stages = await _ordered(uow)
    if any(s.key == key for s in stages):
        raise Conflict(f"there is an opportunity stage with the key {key} already")
    if cmd.position is not None and not 1 <= cmd.position <= len(stages) + 1:
        raise ValidationError("position", f"is a place from 1 to {len(stages) + 1}")
    place = len(stages) if cmd.position is None else cmd.position - 1
    stage = OpportunityStage(
        key=key,
        name=cmd.name,
        kind=kind,
        probability=_default_probability(kind, cmd.probability),
        position=place + 1,
        active=cmd.active,
    )
    for moved, position in _renumbered([*stages[:place], stage, *stages[place:]]):
        if moved is not stage:
            await uow.update(apply(moved, {"position": position}))
    stage = await uow.add(stage)
    _record(uow, stage, "CREATED")
    await uow.commit()
    return stage


async def update_opportunity_stage(cmd: UpdateOpportunityStage, uow: UnitOfWork) -> OpportunityStage:
    """Change an opportunity stage (admins): its name, default probability, kind (only while no opportunity is in
    it) or `active` (false deactivates it: refused on new writes, still shown on the opportunities in it)."""
    _ensure_admin(uow)
    stage = await uow.get(OpportunityStage, cmd.id)
    expect_version(stage, cmd.version)
    values = changes(cmd, "name", "kind", "probability", "active")
    if "active" in values and values["active"] is None:
        raise ValidationError("active", "is true or false")
    if "kind" in values:
        if values["kind"] is None:
            raise ValidationError("kind", "is required")
        values["kind"] = StageKind(values["kind"])
        if values["kind"] is not stage.kind:
            held = await uow.count(Opportunity, stage=stage.key)
            if held:
                raise Conflict(
                    f"opportunity stage {stage.key} holds {held} opportunities; its kind stays "
                    f"{stage.kind.value} while it does (create a stage of the other kind instead)"
                )
            if "probability" not in values and values["kind"] is not StageKind.OPEN:
                values["probability"] = _default_probability(values["kind"], None)
    updated = apply(stage, values)
    leaves_kind = updated.kind is not stage.kind or (stage.active and not updated.active)
    if leaves_kind and stage.active:
        _keep_one_active(await _ordered(uow), stage, stage.kind)
    fields = sorted(name for name in values if getattr(updated, name) != getattr(stage, name))
    updated = await uow.update(updated)
    if fields:
        _record(uow, updated, "UPDATED", fields)
    await uow.commit()
    return updated


async def reorder_opportunity_stages(cmd: ReorderOpportunityStages, uow: UnitOfWork) -> StageOrder:
    """Put the opportunity stages in a new order (admins): `keys` lists every stage's key once, first to last
    (the board's columns and the funnel follow it)."""
    _ensure_admin(uow)
    stages = await _ordered(uow)
    by_key = {s.key: s for s in stages}
    wanted = [str(getattr(k, "value", k)) for k in cmd.keys]
    unknown = [k for k in wanted if k not in by_key]
    if unknown:
        raise ValidationError("keys", f"{unknown[0]} is not an opportunity stage; one of {', '.join(by_key)}")
    if len(set(wanted)) != len(wanted) or set(wanted) != set(by_key):
        raise ValidationError("keys", f"list every opportunity stage once: {', '.join(by_key)}")
    ordered = [by_key[k] for k in wanted]
    moved = []
    for stage, position in _renumbered(ordered):
        moved.append(await uow.update(apply(stage, {"position": position})))
    for stage in moved:
        _record(uow, stage, "REORDERED", ["position"])
    await uow.commit()
    found = {s.id: s for s in moved}
    return StageOrder([found.get(s.id, s) for s in ordered])


async def delete_opportunity_stage(cmd: DeleteOpportunityStage, uow: UnitOfWork) -> int:
    """Delete an opportunity stage nothing uses (admins). A stage in use (by opportunities, status monitors,
    selections or saved views) is refused with what uses it and how many: deactivate it instead."""
    _ensure_admin(uow)
    stage = await uow.get(OpportunityStage, cmd.id)
    expect_version(stage, cmd.version)
    uses = await uses_of(uow, stage.key)
    if uses:
        counted = ", ".join(f"{n} {what}" for what, n in uses.items())
        raise Conflict(
            f"opportunity stage {stage.key} ({ref(stage)}) is in use by {counted}; it cannot be deleted, "
            f"deactivate it instead (updateOpportunityStage with active: false)"
        )
    stages = await _ordered(uow)
    if stage.active:
        _keep_one_active(stages, stage, stage.kind)
    await uow.delete(stage)
    for moved, position in _renumbered([s for s in stages if s.id != stage.id]):
        await uow.update(apply(moved, {"position": position}))
    _record(uow, stage, "DELETED")
    await uow.commit()
    return stage.id
