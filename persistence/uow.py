"""The SQL unit of work: one connection, one transaction; optimistic concurrency on every entity,
history for accounts, opportunities, quotes and tasks, and domain events into the outbox, all committed
together."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from opentelemetry import trace as otel_trace
from sqlalchemy import Integer, Table, and_, bindparam, delete, func, insert, select, text, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.accounts import Account
from domain.activities import SalesActivity
from domain.audit import AUDITED
from domain.base import Entity, utcnow
from domain.catalog import Bundle, BundleComponent
from domain.commands import camel
from domain.contracts import Contract
from domain.conversations import Conversation
from domain.criteria import CriteriaEntity, with_refs
from domain.custom_fields import CustomFieldDefinition
from domain.errors import Conflict, NotFound, Ref, StaleVersion, ref
from domain.events import DomainEvent
from domain.identity import Identity, Known
from domain.opportunities import Opportunity
from domain.people import User
from domain.selections import Selection
from domain.stages import StageCatalog
from domain.uow import Actor, Link
from domain.views import SavedView
from persistence import (
    aggregates,
    conversation_aggregates,
    custom_fields,
    identities,
    indicators,
    reads,
    stages,
    tables,
)
from persistence.fit import check_fits
from persistence.locks import EVENT_NUMBERING_LOCK
from persistence.mapping import LINKS, from_row, plain, referenced, table_of
from persistence.rows import to_row
from persistence.visibility import EVENT_TABLES, KEPT_ROW, Viewer, kept_columns

E = TypeVar("E", bound=Entity)

# The rows a conversation links to, by the column that names them: deleting one moves its conversations
# to another scope of the insights' buckets (the link is set to NULL).
_CONVERSATION_LINKS = {"Account": "account_id", "Contact": "contact_id", "Opportunity": "opportunity_id"}

# SQLite has one writer at a time; a deferred transaction that reads and then writes fails with
# "database is locked" when another one wrote meanwhile. Within a process, write transactions
# queue on this lock instead (PostgreSQL needs none: row versions decide).
_sqlite_write_locks: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()

# EVENT_NUMBERING_LOCK (persistence/locks.py) is the PostgreSQL advisory lock under which events get their
# public ids (outbox positions), one after the other, deployment-wide: held from numbering a transaction's
# events to its commit. (Its value is the one the dispatcher numbered under before events were numbered at
# commit, so an older process during an upgrade still takes turns with this one.)


# The rows whose sales activities the database deletes with them (ON DELETE CASCADE), by the column of
# sales_activities that names them: those activities leave the activity buckets.
CASCADED_ACTIVITIES = {
    "Opportunity": "opportunity_id",
    "Lead": "lead_id",
    "Account": "account_id",
    "Contact": "contact_id",
    "Partner": "partner_id",
}


class SqlUnitOfWork:
    """`async with SqlUnitOfWork(engine, actor) as uow: ...; await uow.commit()`; leaving the block
    without commit rolls everything back."""

    def __init__(
        self,
        engine: AsyncEngine,
        actor: Actor | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.actor = actor or Actor()
        # The caller as the visibility rules see it (everything for the system's own work).
        self.viewer = (
            Viewer.of(self.actor)
            if self.actor.user_id is not None or self.actor.partner_id is not None
            else Viewer.everything()
        )
        self.now = clock()
        self.on_commit = on_commit
        self.conn: AsyncConnection | None = None
        self.events: list[DomainEvent] = []
        self.history: list[dict[str, Any]] = []
        # What the visibility rules read of each row deleted here, for the events about it.
        self._kept: dict[tuple[str, int], dict[str, Any]] = {}
        self.committed = False
        self._seen: dict[tuple[type, int], Entity] = {}
        # Rows `preload` read with the caller's rules, until this transaction writes them: a `get` of one
        # costs no statement.
        self._preloaded: dict[tuple[type, int], Any] = {}
        self._written: set[tuple[str, int]] = set()
        self._lock: asyncio.Lock | None = None
        # The scoreboard's buckets, moved in this transaction with the opportunities and accounts.
        self.deals = aggregates.DealTracker(self._stage_kinds)
        # The conversation insights' buckets, moved with the conversations' analyses and links.
        self.talks = conversation_aggregates.ConversationTracker()

    async def __aenter__(self) -> SqlUnitOfWork:
        if self.engine.dialect.name == "sqlite":
            self._lock = _sqlite_write_locks.setdefault(self.engine, asyncio.Lock())
            await self._lock.acquire()
        try:
            self.conn = await self.engine.connect()
            await self.conn.begin()
        except BaseException:
            self._release()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.conn is not None:
                if not self.committed:
                    await self.conn.rollback()
                await self.conn.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None and self._lock.locked():
            self._lock.release()
        self._lock = None

    @property
    def c(self) -> AsyncConnection:
        if self.conn is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self.conn

    # --- entities ---

    async def get(self, kind: type[E], id: int, *, as_system: bool = False) -> E:
        """The entity with this id, if the caller may read it: a row hidden from the caller is reported
        exactly like one that does not exist (NotFound), on every table, internal ones included (a partner
        naming a campaign or a template gets the NotFound a missing id gets). So every id a command names,
        read through here, is checked with the caller's rules.

        `as_system=True` reads the row whatever the caller may see. It is for a row a workflow needs on the
        caller's behalf and never shows it (the splitter that routes a partner's lead, the ancestors a
        cycle check walks, the contact a GDPR erasure wipes): what it finds must not reach the caller, in
        an error message or an answer, and a NotFound from it names a row the caller may not know of."""
        row = self._preloaded.get((kind, id))
        if row is None:
            table = table_of(kind)
            stmt = select(table).where(table.c.id == id)
            rule = None if as_system else self.viewer.rule(table)
            if rule is not None:
                stmt = stmt.where(rule)
            row = (await self.c.execute(stmt, self.viewer.params)).first()
            if row is None:
                raise NotFound(kind.__name__, id)
        return await self._entity(kind, row)

    async def preload(self, kind: type[E], ids: Iterable[int]) -> list[E]:
        """Read the rows of `kind` with these ids that the caller may see, in one statement, so that the
        `get`s of them that follow cost none (until this transaction writes them). Rows the caller may not
        see, or that do not exist, are left out: a later `get` reports them as it always does."""
        wanted = list(dict.fromkeys(i for i in ids if (kind, i) not in self._preloaded))
        if wanted:
            table = table_of(kind)
            stmt = select(table).where(table.c.id.in_(wanted))
            rule = self.viewer.rule(table)
            if rule is not None:
                stmt = stmt.where(rule)
            for row in await self.c.execute(stmt, self.viewer.params):
                self._preloaded[(kind, row.id)] = row
        return [await self._entity(kind, self._preloaded[(kind, i)]) for i in ids if (kind, i) in self._preloaded]

    async def get_many(self, kind: type[E], ids: Iterable[int]) -> list[E]:
        """`get` of each id, in order, in one statement: the first id the caller may not read is the
        NotFound, as it would be reading them one by one."""
        ids = list(ids)
        await self.preload(kind, ids)
        return [await self.get(kind, i) for i in ids]

    async def find(self, kind: type[E], /, order_by: str | None = None, **where: Any) -> list[E]:
        """Every row matching `where`, whoever may see it: the workflow's own bookkeeping (what a delete
        cascades to, a uniqueness check, the routing rules), never the check of an id the caller names
        (that is `get`)."""
        table = table_of(kind)
        stmt = select(table).where(and_(true(), *_matches(table, where)))
        stmt = stmt.order_by(table.c[order_by] if order_by else table.c.id, table.c.id)
        return [await self._entity(kind, row) for row in await self.c.execute(stmt)]

    async def count(self, kind: type[E], /, **where: Any) -> int:
        table = table_of(kind)
        stmt = select(func.count()).select_from(table).where(and_(true(), *_matches(table, where)))
        return (await self.c.execute(stmt)).scalar_one()

    async def _entity(self, kind: type[E], row: Any) -> E:
        extra = {}
        if kind is Bundle:
            parts = await self.c.execute(
                select(tables.bundle_components)
                .where(tables.bundle_components.c.bundle_id == row.id)
                .order_by(tables.bundle_components.c.unit_id)
            )
            extra["components"] = [BundleComponent(unit_id=p.unit_id, weight=p.weight) for p in parts]
        entity = from_row(kind, row, **extra)
        self._seen[(kind, entity.id)] = copy.deepcopy(entity)
        return entity  # type: ignore[return-value]

    async def add(self, entity: E) -> E:
        table = table_of(type(entity))
        entity.created_at = entity.updated_at = self.now
        entity.version = 1
        row = to_row(entity)
        check_fits(table, row)
        if isinstance(entity, Contract):  # a won deal's contracts are counted per product
            await self.deals.before_change(self.c, entity.opportunity_id)
        try:
            result = await self.c.execute(insert(table).values(**row).returning(table.c.id))
        except IntegrityError as error:
            raise _conflict(type(entity).__name__, error) from None
        entity.id = result.scalar_one()
        await self._added(entity, table)
        return entity

    async def add_all(self, entities: list[E]) -> list[E]:
        """`add` of each entity (all of one kind), inserted in one statement."""
        if len(entities) < 2:
            return [await self.add(entity) for entity in entities]
        kind = type(entities[0])
        if any(type(entity) is not kind for entity in entities):
            raise TypeError("add_all takes entities of one kind")
        table = table_of(kind)
        rows = []
        for entity in entities:
            entity.created_at = entity.updated_at = self.now
            entity.version = 1
            rows.append(to_row(entity))
            check_fits(table, rows[-1])
        sqlite = self.engine.dialect.name == "sqlite"
        # SQLAlchemy keeps the keys in the rows' order by sending one row per statement on SQLite. There a
        # row's key is the largest so far plus one, so the rows of one INSERT get rising keys in their order:
        # sorting the keys gives each row its own, and the rows go in one statement.
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=not sqlite)
        try:
            result = await self.c.execute(stmt, rows)
        except IntegrityError as error:
            raise _conflict(kind.__name__, error) from None
        keys = result.scalars().all()
        for entity, key in zip(entities, sorted(keys) if sqlite else keys, strict=True):
            entity.id = key
            await self._added(entity, table)
        return entities

    async def _added(self, entity: Entity, table: Table) -> None:
        if isinstance(entity, Opportunity):
            self.deals.added(entity.id)
        if isinstance(entity, Conversation):
            self.talks.added(entity.id)
        if isinstance(entity, SalesActivity):
            self.deals.activity(None, entity)
        if isinstance(entity, Bundle):
            await self._write_components(entity)
        self._seen[(type(entity), entity.id)] = copy.deepcopy(entity)
        self._written.add((table.name, entity.id))
        if type(entity).__name__ in AUDITED:
            self.audit(type(entity).__name__, entity.id, "created", None, _label(entity))

    async def update(self, entity: E) -> E:
        """Write what changed since the entity was read; Conflict when someone else changed it first."""
        kind = type(entity)
        before = self._seen.get((kind, entity.id))
        if before is None:
            raise RuntimeError(f"update a {kind.__name__} read through this unit of work")
        changed = [
            f.name
            for f in dataclasses.fields(entity)
            if f.name not in ("version", "updated_at", "created_at")
            and getattr(entity, f.name) != getattr(before, f.name)
        ]
        if not changed:
            return entity
        if entity.version != before.version:
            raise StaleVersion(kind.__name__, entity.id, before.version, entity.version)
        self._preloaded.pop((kind, entity.id), None)
        table = table_of(kind)
        row = {k: v for k, v in to_row(entity).items() if k not in ("id", "created_at", "version")}
        row["updated_at"] = self.now
        check_fits(table, row)
        stmt = (
            update(table)
            .where(table.c.id == entity.id, table.c.version == before.version)
            .values(**row, version=table.c.version + 1)
        )
        if kind is Opportunity and aggregates.DEAL_FIELDS.intersection(changed):
            await self.deals.before_change(self.c, entity.id)
        if kind is Contract:
            await self.deals.before_change(self.c, before.opportunity_id)
            await self.deals.before_change(self.c, entity.opportunity_id)
        try:
            result = await self.c.execute(stmt)
        except IntegrityError as error:
            raise _conflict(kind.__name__, error) from None
        if result.rowcount != 1:
            raise StaleVersion(kind.__name__, entity.id)
        if kind is Account and aggregates.ACCOUNT_FIELDS.intersection(changed):
            await self.deals.account_changed(self.c, entity.id, aggregates.AccountSide.of(before))
        if kind is SalesActivity:
            self.deals.activity(before, entity)
        if isinstance(entity, Bundle) and entity.components != before.components:
            await self.c.execute(
                delete(tables.bundle_components).where(tables.bundle_components.c.bundle_id == entity.id)
            )
            await self._write_components(entity)
        entity.version = before.version + 1
        entity.updated_at = self.now
        self._written.add((table.name, entity.id))
        if kind.__name__ in AUDITED:
            for name in changed:
                old, new = getattr(before, name), getattr(entity, name)
                if name == "criteria" and isinstance(entity, (Selection, SavedView)):
                    about = entity.entity_type if isinstance(entity, Selection) else entity.list
                    old, new = with_refs(about, old), with_refs(about, new)
                # A foreign key is kept as the row it names, never as a bare key (domain/audit.py).
                self.audit(
                    kind.__name__, entity.id, camel(name), referenced(table, name, old), referenced(table, name, new)
                )
        self._seen[(kind, entity.id)] = copy.deepcopy(entity)
        return entity

    async def touch(self, entity: E) -> E:
        """Bump the version of an aggregate whose parts changed (a quote's items), so concurrent
        edits of the same aggregate conflict."""
        kind = type(entity)
        before = self._seen.get((kind, entity.id))
        version = before.version if before else entity.version
        self._preloaded.pop((kind, entity.id), None)
        table = table_of(kind)
        result = await self.c.execute(
            update(table)
            .where(table.c.id == entity.id, table.c.version == version)
            .values(version=table.c.version + 1, updated_at=self.now)
        )
        if result.rowcount != 1:
            raise StaleVersion(kind.__name__, entity.id)
        entity.version = version + 1
        entity.updated_at = self.now
        self._seen[(kind, entity.id)] = copy.deepcopy(entity)
        self._written.add((table.name, entity.id))
        return entity

    async def lock(self, kind: type[Entity], id: int) -> None:
        """Lock the row of `kind` with `id` until the end of the transaction, before reading it, so
        concurrent transactions that change it queue instead of failing the version check: `SELECT id
        FROM <table> WHERE id = :id FOR UPDATE` on PostgreSQL (the default READ COMMITTED isolation
        lets the statements after the lock see what the previous holder committed). On SQLite this is
        a no-op: the write transactions of a process are already serialised by this unit of work's
        lock (see `_sqlite_write_locks`), and SQLite has no row locks. A missing row locks nothing
        (`get` then says NotFound)."""
        self._preloaded.pop((kind, id), None)  # what the holder commits is read after the lock
        if self.engine.dialect.name == "sqlite":
            return
        table = table_of(kind)
        await self.c.execute(select(table.c.id).where(table.c.id == id).with_for_update())

    async def known(self, identity: Identity, exclude_lead: int | None = None) -> list[Known]:
        """The earliest lead, contact and account `identity` matches, whoever may see them (persistence/identity.py)."""
        return await identities.known(self.c, identity, exclude_lead)

    async def may_see(self, user: User, kind: type[Entity], id: int) -> bool:
        """Whether `user` may read the row of `kind` with `id` by the visibility rules (not the caller's:
        whom a task on that row may be given to)."""
        viewer = Viewer.of(Actor(user_id=user.id, role=user.role))
        table = table_of(kind)
        rule = viewer.rule(table)
        stmt = select(table.c.id).where(table.c.id == id, *([rule] if rule is not None else []))
        return (await self.c.execute(stmt, viewer.params)).first() is not None

    async def delete(self, entity: Entity) -> None:
        kind = type(entity)
        table = table_of(kind)
        before = self._seen.get((kind, entity.id))
        version = before.version if before else entity.version
        if kind is Opportunity:
            await self.deals.before_change(self.c, entity.id)
        if kind is Conversation:
            await self.talks.before_change(self.c, [entity.id])
        elif kind.__name__ in _CONVERSATION_LINKS:
            await self.talks.linked_to(self.c, _CONVERSATION_LINKS[kind.__name__], entity.id)
        elif kind.__name__ == "TrackedTerm":
            await conversation_aggregates.term_deleted(self.c, entity.id)
        if kind is Contract:
            await self.deals.before_change(self.c, entity.opportunity_id)
        if kind is SalesActivity:
            self.deals.activity(before or entity, None)
        elif kind.__name__ in CASCADED_ACTIVITIES:  # the database deletes their activities with them
            await self.deals.activities_going(self.c, CASCADED_ACTIVITIES[kind.__name__], entity.id)
        try:
            result = await self.c.execute(delete(table).where(table.c.id == entity.id, table.c.version == version))
        except IntegrityError as error:
            raise Conflict(
                f"{kind.__name__} {ref(entity)} is still in use ({_constraint(error)}); remove what refers to it first"
            ) from None
        if result.rowcount != 1:
            raise StaleVersion(kind.__name__, entity.id)
        self._seen.pop((kind, entity.id), None)
        self._preloaded.pop((kind, entity.id), None)
        self._written.discard((table.name, entity.id))
        if kind.__name__ in EVENT_TABLES:
            row = to_row(entity)
            self._kept[(kind.__name__, entity.id)] = {c: plain(row.get(c)) for c in kept_columns(table)}
        if kind.__name__ in AUDITED:
            self.audit(kind.__name__, entity.id, "deleted", _label(entity), None)

    async def _write_components(self, bundle: Bundle) -> None:
        if bundle.components:
            await self.c.execute(
                insert(tables.bundle_components),
                [{"bundle_id": bundle.id, "unit_id": c.unit_id, "weight": c.weight} for c in bundle.components],
            )

    # --- what the caller wrote ---

    def own(self, table: Table, id: int) -> None:
        """Count a row as written by this unit of work although it wrote nothing now: an idempotent replay
        answers with the rows the same caller's first request wrote."""
        self._written.add((table.name, id))

    @property
    def written(self) -> frozenset[tuple[str, int]]:
        """The rows this unit of work added, updated or touched (and still exist), as (table name, key),
        once it committed: the rows a mutation's answer shows its caller even where the read rules would
        not (the row a mutation wrote stays visible to its writer); everything else an answer carries is
        read with the caller's rules."""
        if not self.committed:
            raise RuntimeError("what a unit of work wrote is known once it committed")
        return frozenset(self._written)

    # --- many-to-many links ---

    async def links(self, link: Link, **where: Any) -> list[dict[str, Any]]:
        table = LINKS[link]
        rows = await self.c.execute(select(table).where(and_(true(), *(table.c[k] == v for k, v in where.items()))))
        return [dict(r._mapping) for r in rows]

    async def link(self, link: Link, **values: Any) -> bool:
        """Add a link; False when it was already there."""
        table = LINKS[link]
        keys = {c.name: values[c.name] for c in table.primary_key.columns}
        exists = (
            await self.c.execute(
                select(func.count()).select_from(table).where(*(table.c[k] == v for k, v in keys.items()))
            )
        ).scalar_one()
        if exists:
            return False
        check_fits(table, values)
        try:
            await self.c.execute(insert(table).values(**values))
        except IntegrityError as error:
            raise _conflict(link.value, error) from None
        return True

    async def unlink(self, link: Link, **where: Any) -> int:
        table = LINKS[link]
        result = await self.c.execute(delete(table).where(*(table.c[k] == v for k, v in where.items())))
        return result.rowcount

    # --- history, events, reference data ---

    def audit(self, entity_type: str, entity_id: int, field: str, old: Any, new: Any) -> None:
        self.history.append(
            {
                "entity_type": entity_type,
                "entity_id": entity_id,
                "field": field,
                "old_value": plain(old),
                "new_value": plain(new),
                "at": self.now,
                "actor_user_id": self.actor.user_id,
                "actor_partner_id": self.actor.partner_id,
            }
        )

    def record(self, event: DomainEvent) -> None:
        self.events.append(event)

    def _event_data(self, event: DomainEvent) -> Any:
        """The event's data; for a row this transaction deleted, with what the visibility rules read of
        it (`KEPT_ROW`), so subscribers are told of its deletion by the same rules as of its changes."""
        data = plain(event.data)
        kept = self._kept.get((event.entity_type, event.entity_id))
        return data if kept is None else {**data, KEPT_ROW: kept}

    async def exchange_rates(self) -> dict[str, Any]:
        return await reads.exchange_rates(self.c)

    async def stages(self, fresh: bool = False) -> StageCatalog:
        """The stage catalogue: this process's copy (no statement once read), or with `fresh` as this
        transaction sees it now (after a stage change in it)."""
        if fresh:
            return await stages.read(self.c)
        return await stages.catalog(self.engine, self.c)

    async def custom_fields(self, entity: CriteriaEntity) -> list[CustomFieldDefinition]:
        """The entity's custom field definitions: this process's copy (no statement once read), or as this
        transaction sees them once it changed one."""
        if any(e.entity_type == custom_fields.ENTITY_TYPE for e in self.events):
            return await self.find(CustomFieldDefinition, order_by="position", entity_type=entity.value)
        return await custom_fields.definitions(self.engine, self.c, entity)

    async def _stage_kinds(self) -> aggregates.Kinds:
        return (await self.stages()).kinds()

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run a statement in this transaction (for persistence-side helpers, not for workflows)."""
        return await self.c.execute(statement, parameters)

    async def commit(self) -> None:
        """Move the scoreboard's buckets by what changed, write the history, bring the status indicators in
        line with the changes (their events join the others), write the outbox, then commit everything at once.

        On PostgreSQL the events' numbering lock is taken first (by the history's statement, or its own), and
        the indicators are tracked with the monitors this process last read: the statement that writes the
        events returns the monitors' fingerprint as of after the lock, and if a monitor changed meanwhile the
        indicators are tracked again with the monitors read afresh before the commit (`indicators.MonitorCache`)."""
        await self.deals.flush(self.c)
        await self.talks.flush(self.c)
        postgresql = self.engine.dialect.name == "postgresql"
        numbering_lock = bool(self.events) and postgresql
        if self.history:
            await self._write_history(numbering_lock)
            numbering_lock = False
        if numbering_lock:
            await self.c.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_NUMBERING_LOCK})
        recorded = list(self.events)
        cache = indicators.monitor_cache(self.engine) if postgresql else None
        tracked = await indicators.track(self.c, self.events, self.now, cache)
        if self.events:
            fingerprint = await self._write_events(self.events, tracked.relied_on is not None)
            if cache is not None and tracked.relied_on is not None and fingerprint != tracked.relied_on:
                cache.forget()  # a monitor changed before this transaction took the lock: judge by it as it is now
                again = list(recorded)
                await indicators.track(self.c, again, self.now, cache)
                made = again[len(recorded) :]
                if made:
                    self.events.extend(made)
                    await self._write_events(made, False)
        try:
            await self.c.commit()
        except IntegrityError as error:
            raise _conflict("change", error) from None
        self.committed = True
        if any(e.entity_type == stages.ENTITY_TYPE for e in self.events):
            stages.forget()  # this process's copy; the others' go when the event reaches them
        if any(e.entity_type == custom_fields.ENTITY_TYPE for e in self.events):
            custom_fields.forget()
        if self.events and self.on_commit is not None:
            self.on_commit()

    async def _write_history(self, numbering_lock: bool) -> None:
        """Write the history; with `numbering_lock` (PostgreSQL, events to number next) the same statement
        takes the events' numbering lock, one round trip fewer. The lock's call sits in a subquery every row
        is selected from: PostgreSQL keeps a volatile function in a subquery's output even where nothing
        reads it, so every execution takes the lock (again, which is harmless) before inserting."""
        audit = tables.audit_entries
        if not numbering_lock:
            await self.c.execute(insert(audit), self.history)
            return
        columns = list(self.history[0])
        locked = select(func.pg_advisory_xact_lock(EVENT_NUMBERING_LOCK).label("locked")).subquery("numbering_lock")
        rows = select(*(bindparam(c, type_=audit.c[c].type) for c in columns)).select_from(locked)
        await self.c.execute(insert(audit).from_select(columns, rows), self.history)

    async def _write_events(self, events: list[DomainEvent], fingerprint: bool) -> str | None:
        """Write the events with their public ids, numbered here, in the transaction that makes the
        change, so that a read which sees the change also sees its event's id (`latestEventId` never
        lags a commit). Ids follow one another with no holes, in commit order: on PostgreSQL the
        numbering lock, taken just before and released by the commit, makes the next numbering
        transaction wait, and its next statement then sees this one's rows (READ COMMITTED reads as of
        each statement's start); on SQLite this unit of work already holds the only writer lock. The
        caller has taken the lock on PostgreSQL. With `fingerprint`, returns the monitors' fingerprint
        as this statement sees it (`indicators.monitors_fingerprint`)."""
        outbox = tables.outbox_events
        rows = [
            {
                "n": n,
                "type": e.type,
                "entity_type": e.entity_type,
                "entity_id": e.entity_id,
                "data": self._event_data(e),
                "actor_user_id": self.actor.user_id,
                "actor_partner_id": self.actor.partner_id,
                "created_at": self.now,
            }
            for n, e in enumerate(events, start=1)
        ]
        traceparent = current_traceparent()
        if traceparent is not None:  # traces on: the events carry the committing operation's trace
            for row in rows:
                row["traceparent"] = traceparent
        if len(rows) <= EVENTS_IN_ONE_STATEMENT:
            # One statement numbers and writes them: the subquery of every row reads the snapshot taken when
            # the statement starts (after the lock on PostgreSQL), so the events follow the last one. RETURNING
            # makes SQLAlchemy send the rows as one multi-row INSERT, not one execution per row (each of
            # which would see the rows before it and skip positions).
            last = select(func.coalesce(func.max(outbox.c.position), 0)).scalar_subquery()
            stmt = insert(outbox).values(position=last + bindparam("n", type_=Integer))
            if not fingerprint:
                await self.c.execute(stmt.returning(outbox.c.id), rows)
                return None
            result = await self.c.execute(stmt.returning(indicators.monitors_fingerprint()), rows)
            return result.scalars().first()
        # More rows than one INSERT carries: number them from the last position read first.
        last = (await self.c.execute(select(func.coalesce(func.max(outbox.c.position), 0)))).scalar_one()
        await self.c.execute(insert(outbox), [{**row, "position": last + row.pop("n")} for row in rows])
        if not fingerprint:
            return None
        return (await self.c.execute(select(indicators.monitors_fingerprint()))).scalar_one()


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span (None when traces are off: no span is current then)."""
    context = otel_trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


# At most this many events are numbered and written by one multi-row INSERT (SQLAlchemy splits a longer list
# into INSERTs of 1,000 rows, and the second would see the first's rows when numbering).
EVENTS_IN_ONE_STATEMENT = 500


def _label(entity: Entity) -> Any:
    return getattr(entity, "name", None) or getattr(entity, "title", None) or Ref(type(entity).__name__, entity.id)


def _constraint(error: IntegrityError) -> str:
    text = str(error.orig)
    return text.splitlines()[0][:200]


def _conflict(what: str, error: IntegrityError) -> Conflict:
    text = str(error.orig).lower()
    if "unique" in text or "duplicate" in text:
        return Conflict(f"this {what} would duplicate an existing one ({_constraint(error)})")
    if "foreign key" in text:
        return Conflict(
            f"this {what} refers to something that does not exist or is still in use ({_constraint(error)})"
        )
    return Conflict(f"this {what} breaks a rule of the database ({_constraint(error)})")


def _matches(table: Table, where: dict[str, Any]) -> list[Any]:
    """`find`'s conditions: a column equal to a value, or one of a list of values."""
    return [
        table.c[k].in_(v) if isinstance(v, list | tuple | set | frozenset) else table.c[k] == v
        for k, v in where.items()
    ]
