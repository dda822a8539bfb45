"""Selections (after SuperOffice): a named set of accounts, contacts, opportunities, leads or activities.
A dynamic selection stores criteria (domain/criteria.py) and its members are whatever matches them when
read; a static one holds explicit members. Either belongs to a user or a partner and is shared PRIVATE (its
owner only), TEAM (the owner's team) or EVERYONE (every user); a partner's selections stay private. Whoever
reads a selection sees only the members they may see themselves."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from domain.base import Entity, required
from domain.criteria import CriteriaEntity, normalise
from domain.errors import ValidationError

NAME_MAX = 200
MAX_MEMBERS_PER_CHANGE = 1000


class SelectionKind(str, Enum):
    DYNAMIC = "DYNAMIC"
    STATIC = "STATIC"


class Sharing(str, Enum):
    PRIVATE = "PRIVATE"
    TEAM = "TEAM"
    EVERYONE = "EVERYONE"


@dataclass(kw_only=True)
class Selection(Entity):
    name: str
    entity_type: CriteriaEntity
    kind: SelectionKind
    sharing: Sharing = Sharing.PRIVATE
    criteria: dict[str, Any] | None = None
    description: str | None = None
    owner_user_id: int | None = None
    owner_partner_id: int | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        if len(self.name) > NAME_MAX:
            raise ValidationError("name", f"is longer than {NAME_MAX} characters")
        self.entity_type = CriteriaEntity(self.entity_type)
        self.kind = SelectionKind(self.kind)
        self.sharing = Sharing(self.sharing)
        if isinstance(self.description, str) and not self.description.strip():
            self.description = None
        if self.kind is SelectionKind.DYNAMIC:
            if self.criteria is None:
                raise ValidationError("criteria", "a dynamic selection needs its criteria")
            self.criteria = normalise(self.entity_type, self.criteria)
        elif self.criteria is not None:
            raise ValidationError("criteria", "a static selection holds members, not criteria")
        if self.owner_partner_id is not None and self.sharing is not Sharing.PRIVATE:
            raise ValidationError("sharing", "a partner's selections are private")

    def owned_by(self, user_id: int | None, partner_id: int | None) -> bool:
        if self.owner_partner_id is not None:
            return self.owner_partner_id == partner_id
        return self.owner_user_id is not None and self.owner_user_id == user_id


class SelectionRows(Protocol):
    """What selection workflows read and write of member rows, as the caller sees them (persistence/
    selections.py): rows matching criteria, which of some ids the caller may see, and the member rows."""

    async def matching(self, entity: CriteriaEntity, criteria: dict[str, Any] | None) -> list[int]: ...
    async def visible(self, entity: CriteriaEntity, ids: list[int]) -> set[int]: ...
    async def members(self, selection_id: int) -> set[int]: ...
    async def add(self, selection_id: int, ids: list[int]) -> None: ...
    async def remove(self, selection_id: int, ids: list[int]) -> None: ...
