"""The unit of work a workflow runs in: one transaction over the sales graph. Defined here as a
Protocol so workflows never import persistence; persistence/uow.py implements it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, TypeVar

from domain.base import Entity
from domain.criteria import CriteriaEntity
from domain.custom_fields import CustomFieldDefinition
from domain.enums import Role
from domain.errors import Conflict, NotFound, PermissionDenied, raises
from domain.events import DomainEvent
from domain.identity import Identity, Known
from domain.people import User
from domain.stages import StageCatalog

E = TypeVar("E", bound=Entity)


class Link(str, Enum):
    """Many-to-many relations, named by what they mean."""

    ACCOUNT_LINK = "account_link"  # (account_id, linked_account_id)
    ACCOUNT_GROUP_MEMBER = "account_group_member"  # (group_id, account_id)
    FAVOURITE = "favourite"  # (user_id, account_id)
    RELATED_ACCOUNT = "related_account"  # (opportunity_id, account_id)
    BUNDLE_COMPONENT = "bundle_component"  # (bundle_id, unit_id, weight)
    PRICE_BOOK_ACCOUNT = "price_book_account"  # (price_book_id, account_id)


@dataclass(frozen=True)
class Actor:
    """Who makes the change: a user (with a role) or a partner (recorded in the history)."""

    user_id: int | None = None
    partner_id: int | None = None
    role: Role | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def ensure_staff(self, what: str) -> None:
        """PermissionDenied for a partner: `what` (e.g. "manage campaigns") is the company's own business."""
        if self.partner_id is not None:
            raise PermissionDenied(f"partners cannot {what}; ask your contact at the company")


class UnitOfWork(Protocol):
    """One atomic change: everything a workflow writes is committed together or not at all.

    `get` raises NotFound, for a row the caller may not read exactly as for a missing one: every id a
    command names is read through it, so no command reaches a row its caller cannot see, and no answer
    tells such a row from a missing one. `get(..., as_system=True)` reads a row whoever may see it, for a
    workflow that needs it on the caller's behalf (the splitter routing a partner's lead, the ancestors a
    cycle check walks); what it finds is never named to the caller. `find`, `count` and `links` are the
    workflow's own bookkeeping and see every row (cascades, uniqueness checks, defaults). `update` raises Conflict when the row moved since it was read (its
    version changed) and writes the history of audited entities; `touch` bumps an aggregate's
    version when only its parts changed (a quote's items); `record` queues an event for the outbox
    of this same transaction. Nothing is visible to others before `commit`.
    `lock` serialises writers of one row for the rest of the transaction (a counter that concurrent
    requests move, such as a lead splitter): call it before reading what you will change, so the
    read sees the last committed state and no version check can fail; a missing row locks nothing.
    `may_see` tells whether another user may read a row, by the same rules (whom a task may be given to).
    `preload` reads many rows in one statement so that the `get`s of them that follow cost none, `get_many`
    is `get` of each in one statement, `add_all` inserts many rows of one kind in one statement, and a list
    as a `find` value matches any of its values.
    `known` finds the earliest lead, contact and account an identity matches (domain/identity.py), as
    the system: whom an incoming lead is recognised as.
    `stages` is the opportunity stage catalogue (domain/stages.py) as committed; after a workflow changed a
    stage in this transaction, `stages(fresh=True)` reads it again here."""

    actor: Actor
    now: datetime

    @raises(NotFound)
    async def get(self, kind: type[E], id: int, *, as_system: bool = False) -> E: ...
    @raises(NotFound)
    async def get_many(self, kind: type[E], ids: Iterable[int]) -> list[E]: ...
    async def preload(self, kind: type[E], ids: Iterable[int]) -> list[E]: ...
    async def find(self, kind: type[E], /, order_by: str | None = None, **where: Any) -> list[E]: ...
    async def count(self, kind: type[E], /, **where: Any) -> int: ...
    @raises(Conflict)
    async def add(self, entity: E) -> E: ...
    @raises(Conflict)
    async def add_all(self, entities: list[E]) -> list[E]: ...
    @raises(Conflict)
    async def update(self, entity: E) -> E: ...
    @raises(Conflict)
    async def touch(self, entity: E) -> E: ...
    async def lock(self, kind: type[Entity], id: int) -> None: ...
    async def may_see(self, user: User, kind: type[Entity], id: int) -> bool: ...
    @raises(Conflict)
    async def delete(self, entity: Entity) -> None: ...
    async def links(self, link: Link, **where: Any) -> list[dict[str, Any]]: ...
    @raises(Conflict)
    async def link(self, link: Link, **values: Any) -> bool: ...
    async def unlink(self, link: Link, **where: Any) -> int: ...
    def audit(self, entity_type: str, entity_id: int, field: str, old: Any, new: Any) -> None: ...
    def record(self, event: DomainEvent) -> None: ...
    async def exchange_rates(self) -> dict[str, Any]: ...
    async def stages(self, fresh: bool = False) -> StageCatalog: ...
    async def custom_fields(self, entity: CriteriaEntity) -> list[CustomFieldDefinition]: ...
    async def known(self, identity: Identity, exclude_lead: int | None = None) -> list[Known]: ...
    @raises(Conflict)
    async def commit(self) -> None: ...
