"""An in-memory UnitOfWork for domain unit tests (no database): the same contract as the SQL one —
versions checked on update, history for audited entities, events kept until commit."""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.audit import AUDITED
from domain.base import Entity
from domain.custom_fields import CustomFieldDefinition
from domain.errors import NotFound, StaleVersion
from domain.events import DomainEvent
from domain.lists import ATTRIBUTES, DEFAULTS, ListValue
from domain.stages import DEFAULT_CATALOG, OpportunityStage, StageCatalog
from domain.uow import Actor, Link

LINK_KEYS = {
    Link.ACCOUNT_LINK: ("account_id", "linked_account_id"),
    Link.ACCOUNT_GROUP_MEMBER: ("group_id", "account_id"),
    Link.FAVOURITE: ("user_id", "account_id"),
    Link.RELATED_ACCOUNT: ("opportunity_id", "account_id"),
    Link.BUNDLE_COMPONENT: ("bundle_id", "unit_id"),
    Link.PRICE_BOOK_ACCOUNT: ("price_book_id", "account_id"),
}


class MemoryStore:
    """What the committed state is: entities by class and id, links, rates, history and events."""

    def __init__(self) -> None:
        self.rows: dict[type, dict[int, Entity]] = {}
        self.links: dict[Link, list[dict[str, Any]]] = {link: [] for link in Link}
        self.rates: dict[str, Decimal] = {"EUR": Decimal(1)}
        self.history: list[dict[str, Any]] = []
        self.events: list[DomainEvent] = []
        self.ids = itertools.count(1)
        # The rows a user may not see, by user id: (entity name, key). The memory unit of work has no read
        # rules of its own; what another user may see (`may_see`) is set here by a test.
        self.hidden_from: dict[int, set[tuple[str, int]]] = {}
        # The configurable lists hold today's values, as a migrated or seeded database does (ids apart).
        values = self.rows.setdefault(ListValue, {})
        for list_name, found in DEFAULTS.items():
            for position, (key, label, flag) in enumerate(found):
                attribute = ATTRIBUTES[list_name]
                value = ListValue(
                    list_name=list_name,
                    key=key,
                    label=label,
                    position=position,
                    **({attribute: flag} if attribute else {}),
                )
                value.id = 1_000_000 + len(values)
                values[value.id] = value

    def all(self, kind: type) -> list[Any]:
        return sorted(self.rows.get(kind, {}).values(), key=lambda e: e.id)

    def uow(self, actor: Actor | None = None, now: datetime | None = None) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, actor or Actor(user_id=1), now or datetime(2026, 6, 15, tzinfo=UTC))


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore, actor: Actor, now: datetime) -> None:
        self.store, self.actor, self.now = store, actor, now
        self.rows = copy.deepcopy(store.rows)
        self.link_rows = copy.deepcopy(store.links)
        self.history: list[dict[str, Any]] = []
        self.events: list[DomainEvent] = []
        self.committed = False

    def _table(self, kind: type) -> dict[int, Entity]:
        return self.rows.setdefault(kind, {})

    async def get(self, kind: type, id: int, *, as_system: bool = False) -> Any:
        # No read rules here (the domain tests run as one caller who sees everything).
        found = self._table(kind).get(id)
        if found is None:
            raise NotFound(kind.__name__, id)
        return copy.deepcopy(found)

    async def get_many(self, kind: type, ids: Iterable[int]) -> list[Any]:
        return [await self.get(kind, i) for i in ids]

    async def preload(self, kind: type, ids: Iterable[int]) -> list[Any]:
        return [copy.deepcopy(self._table(kind)[i]) for i in ids if i in self._table(kind)]

    async def find(self, kind: type, /, order_by: str | None = None, **where: Any) -> list[Any]:
        def matches(value: Any, wanted: Any) -> bool:
            return value in wanted if isinstance(wanted, list | tuple | set | frozenset) else value == wanted

        found = [
            copy.deepcopy(e)
            for e in self._table(kind).values()
            if all(matches(getattr(e, k), v) for k, v in where.items())
        ]
        return sorted(found, key=lambda e: (getattr(e, order_by) if order_by else e.id, e.id))

    async def count(self, kind: type, /, **where: Any) -> int:
        return len(await self.find(kind, **where))

    async def add(self, entity: Any) -> Any:
        entity.id = next(self.store.ids)
        entity.created_at = entity.updated_at = self.now
        entity.version = 1
        self._table(type(entity))[entity.id] = copy.deepcopy(entity)
        if type(entity).__name__ in AUDITED:
            self.audit(type(entity).__name__, entity.id, "created", None, getattr(entity, "name", entity.id))
        return entity

    async def add_all(self, entities: list[Any]) -> list[Any]:
        return [await self.add(entity) for entity in entities]

    async def update(self, entity: Any) -> Any:
        current = self._table(type(entity)).get(entity.id)
        if current is None or current.version != entity.version:
            raise StaleVersion(type(entity).__name__, entity.id)
        changed = [
            f.name
            for f in dataclasses.fields(entity)
            if f.name not in ("version", "updated_at", "created_at")
            and getattr(entity, f.name) != getattr(current, f.name)
        ]
        if not changed:
            return entity
        if type(entity).__name__ in AUDITED:
            for name in changed:
                self.audit(type(entity).__name__, entity.id, name, getattr(current, name), getattr(entity, name))
        entity.version += 1
        entity.updated_at = self.now
        self._table(type(entity))[entity.id] = copy.deepcopy(entity)
        return entity

    async def touch(self, entity: Any) -> Any:
        current = self._table(type(entity))[entity.id]
        if current.version != entity.version:
            raise StaleVersion(type(entity).__name__, entity.id)
        entity.version += 1
        current.version = entity.version
        return entity

    async def lock(self, kind: type, id: int) -> None:
        """A no-op: one memory unit of work runs at a time."""

    async def known(self, identity: Any, exclude_lead: int | None = None) -> list[Any]:
        """The earliest lead, contact and account sharing a key with `identity` (as persistence/identities.py)."""
        from domain.accounts import Account, Contact
        from domain.identity import Known, MatchKey, company_key, email_key, phone_key
        from domain.leads import Lead

        def reasons(email: Any, phone: Any, company: Any) -> tuple[MatchKey, ...]:
            pairs = (
                (MatchKey.EMAIL, identity.email, email_key(email)),
                (MatchKey.PHONE, identity.phone, phone_key(phone)),
                (MatchKey.COMPANY, identity.company, company_key(company)),
            )
            return tuple(key for key, wanted, have in pairs if wanted and wanted == have)

        found = []
        for kind, rows, fields in (
            ("Lead", self._table(Lead), lambda r: (r.email, r.phone, r.company)),
            ("Contact", self._table(Contact), lambda r: (r.email, r.phone, None)),
            ("Account", self._table(Account), lambda r: (r.email, r.phone, r.name)),
        ):
            for key in sorted(rows):
                row = rows[key]
                if kind == "Lead" and (row.merged_into_id is not None or row.anonymized or key == exclude_lead):
                    continue
                if why := reasons(*fields(row)):
                    found.append(Known(kind, key, why))
                    break
        return found

    async def may_see(self, user: Any, kind: type, id: int) -> bool:
        return (kind.__name__, id) not in self.store.hidden_from.get(user.id, set())

    async def delete(self, entity: Any) -> None:
        if self._table(type(entity)).pop(entity.id, None) is None:
            raise StaleVersion(type(entity).__name__, entity.id)
        if type(entity).__name__ in AUDITED:
            self.audit(type(entity).__name__, entity.id, "deleted", getattr(entity, "name", entity.id), None)

    async def links(self, link: Link, **where: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in self.link_rows[link] if all(r.get(k) == v for k, v in where.items())]

    async def link(self, link: Link, **values: Any) -> bool:
        keys = LINK_KEYS[link]
        if any(all(r[k] == values[k] for k in keys) for r in self.link_rows[link]):
            return False
        self.link_rows[link].append(dict(values))
        return True

    async def unlink(self, link: Link, **where: Any) -> int:
        before = len(self.link_rows[link])
        self.link_rows[link] = [r for r in self.link_rows[link] if not all(r.get(k) == v for k, v in where.items())]
        return before - len(self.link_rows[link])

    def audit(self, entity_type: str, entity_id: int, field: str, old: Any, new: Any) -> None:
        self.history.append(
            {"entity_type": entity_type, "entity_id": entity_id, "field": field, "old": old, "new": new}
        )

    def record(self, event: DomainEvent) -> None:
        self.events.append(event)

    async def exchange_rates(self) -> dict[str, Any]:
        return dict(self.store.rates)

    async def stages(self, fresh: bool = False) -> StageCatalog:
        """The stages a test stored, or the seeded six when it stored none."""
        stored = list(self._table(OpportunityStage).values())
        return StageCatalog(stored) if stored else DEFAULT_CATALOG

    async def custom_fields(self, entity: Any) -> list[Any]:
        """The custom field definitions a test stored for the entity, in their order."""
        found = [d for d in self._table(CustomFieldDefinition).values() if d.entity_type == entity.value]
        return sorted(found, key=lambda d: (d.position, d.id or 0))

    async def commit(self) -> None:
        self.store.rows, self.store.links = self.rows, self.link_rows
        self.store.history += self.history
        self.store.events += self.events
        self.committed = True
