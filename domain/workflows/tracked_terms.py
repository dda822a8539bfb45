"""Tracked terms (settings, admins only): create, change and delete the keywords and competitors whose
mentions the analysis counts. Every change moves the terms' revision in the same transaction; the
conversations analysed with an older revision are then analysed again in the background
(persistence/reanalysis.py), and `conversationAnalysis` shows how far that got."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.commands import UNSET, apply, changes, expect_version
from domain.conversations import SETTINGS_ID, ConversationSettings
from domain.enums import Language, TermKind
from domain.errors import Conflict, PermissionDenied, ref
from domain.events import TrackedTermChanged
from domain.terms import TrackedTerm
from domain.uow import UnitOfWork


def _admins_only(uow: UnitOfWork) -> None:
    if not uow.actor.is_admin:
        raise PermissionDenied("only admins change the tracked keywords and competitors")


async def _next_revision(uow: UnitOfWork) -> int:
    """Move the terms' revision (concurrent changes of the terms queue here)."""
    await uow.lock(ConversationSettings, SETTINGS_ID)
    settings = await uow.get(ConversationSettings, SETTINGS_ID, as_system=True)
    return (await uow.touch(settings)).terms_revision


async def _unique(uow: UnitOfWork, term: TrackedTerm) -> None:
    for other in await uow.find(TrackedTerm, kind=term.kind.value):
        if other.id != term.id and other.name.casefold() == term.name.casefold():
            raise Conflict(f"the {term.kind.value.lower()} {term.name!r} is tracked already ({ref(other)})")


@dataclass(kw_only=True)
class CreateTrackedTerm:
    kind: TermKind
    name: str
    variants: list[str] = field(default_factory=list)
    language: Language | None = None


async def create_tracked_term(cmd: CreateTrackedTerm, uow: UnitOfWork) -> TrackedTerm:
    """Track a keyword or competitor in conversations (admins); past conversations are analysed again in the
    background."""
    _admins_only(uow)
    term = TrackedTerm(kind=cmd.kind, name=cmd.name, variants=list(cmd.variants), language=cmd.language)
    await _unique(uow, term)
    revision = await _next_revision(uow)
    term = await uow.add(term)
    uow.record(TrackedTermChanged(entity_id=term.id, data={"change": "created", "termsRevision": revision}))
    await uow.commit()
    return term


@dataclass(kw_only=True)
class UpdateTrackedTerm:
    id: int
    version: int | None = None
    kind: TermKind = UNSET
    name: str = UNSET
    variants: list[str] = UNSET
    language: Language | None = UNSET


async def update_tracked_term(cmd: UpdateTrackedTerm, uow: UnitOfWork) -> TrackedTerm:
    """Change a tracked term (admins); past conversations are analysed again in the background."""
    _admins_only(uow)
    term = await uow.get(TrackedTerm, cmd.id)
    expect_version(term, cmd.version)
    changed = apply(term, changes(cmd, "kind", "name", "variants", "language"))
    await _unique(uow, changed)
    revision = await _next_revision(uow)
    updated = await uow.update(changed)
    uow.record(TrackedTermChanged(entity_id=updated.id, data={"change": "changed", "termsRevision": revision}))
    await uow.commit()
    return updated


@dataclass(kw_only=True)
class DeleteTrackedTerm:
    id: int
    version: int | None = None


async def delete_tracked_term(cmd: DeleteTrackedTerm, uow: UnitOfWork) -> TrackedTerm:
    """Stop tracking a term (admins): its mentions go with it, and past conversations are analysed again in the
    background."""
    _admins_only(uow)
    term = await uow.get(TrackedTerm, cmd.id)
    expect_version(term, cmd.version)
    revision = await _next_revision(uow)
    await uow.delete(term)
    uow.record(TrackedTermChanged(entity_id=term.id, data={"change": "deleted", "termsRevision": revision}))
    await uow.commit()
    return term
