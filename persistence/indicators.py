"""Status indicators kept equal to what the monitors' rules say, incrementally.

- `track(conn, events, now)`: called by the unit of work at commit. From the events the transaction
  recorded it works out which entities can be affected, re-evaluates only those (the facts of all of
  them loaded in a few batched statements), writes the indicators that appear or go and each pair's
  next due time, and appends a StatusIndicatorSet / StatusIndicatorCleared event per change to
  `events`, so they reach the outbox in the same transaction. A transaction that records no event
  about accounts, contacts, opportunities, activities, tasks or monitors costs nothing; one that does costs
  one cheap SELECT of the active monitors when none of them can be affected (SQLite), or nothing
  (PostgreSQL: the monitors this process last read, checked at commit; `MonitorCache`).
- `reevaluate(conn, monitors, scope, now)`: the re-evaluation of chosen pairs, which the
  scheduler (persistence/scheduler.py) runs for the pairs whose due time has come.
- `evaluate_all(conn, now)`: the full re-evaluation from scratch (which pairs should carry an
  indicator), without writing; the consistency tests compare it with what is stored.

The rules themselves (what counts, when a rule holds, when it falls due) are in domain/indicators.py.
Writers of indicators queue on one lock (PostgreSQL: an advisory transaction lock; SQLite: the unit
of work's write lock), so a scheduler run and a mutation never write the same pair concurrently."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.events import DomainEvent
from domain.indicators import (
    ActivityFact,
    ContractFact,
    Facts,
    OpportunityFact,
    TaskFact,
    evaluate,
    indicator_cleared,
    indicator_set,
)
from domain.monitors import MonitoredEntity, Rule, RuleKind
from domain.stages import StageKind
from persistence import reads, stages, tables
from persistence.locks import EVENT_NUMBERING_LOCK, INDICATORS_LOCK
from persistence.selections import members_condition
from persistence.visibility import Viewer

ACCOUNT, CONTACT, OPPORTUNITY, LEAD = (
    MonitoredEntity.ACCOUNT.value,
    MonitoredEntity.CONTACT.value,
    MonitoredEntity.OPPORTUNITY.value,
    MonitoredEntity.LEAD.value,
)

_ACTIVITY_RULES = {
    RuleKind.NO_ACTIVITY,
    RuleKind.TOO_MANY_ACTIVITIES,
    RuleKind.MANY_MEETINGS_NO_SALE,
    RuleKind.NO_FUTURE_ACTIVITY,
    RuleKind.ACTIVITY_MISSING_IN_STAGE,
}
_WIN_RULES = {RuleKind.NO_WON_OPPORTUNITY, RuleKind.MANY_MEETINGS_NO_SALE}
_DEAL_RULES = {RuleKind.NO_OPEN_OR_WON_SALE, RuleKind.DELAYED_SALE}  # read every open deal too

Pair = tuple[int, str, int]  # (monitor id, entity type as stored, entity id)


@dataclass(frozen=True)
class Monitor:
    id: int
    entity_type: str | None  # None: deleted (its type no longer matters)
    rule: Rule | None
    active: bool
    scope: dict[str, Any] | None = None  # MonitorScope.to_dict(): which rows it judges (None: every row)

    @classmethod
    def of(cls, row: Any) -> Monitor:
        return cls(row.id, row.entity_type, Rule.from_dict(row.rule), bool(row.active), row.scope or None)


# --- scopes: the rows a scoped monitor judges ---

_ENTITY_TABLES = {
    ACCOUNT: tables.accounts,
    CONTACT: tables.contacts,
    OPPORTUNITY: tables.opportunities,
    LEAD: tables.leads,
}
# Events about rows a scope's criteria or categories can read: a scoped monitor's scope is compared with what
# it was after any transaction that records one of them.
_SCOPE_EVENTS = {"Account", "Contact", "Opportunity", "Lead", "SalesActivity", "Task", "Contract", "Quote", "Selection"}


async def _scope_condition(conn: AsyncConnection, monitor: Monitor) -> Any:
    """The rows of the monitor's table in its scope, as the system sees them (every row, not a reader's)."""
    scope = monitor.scope or {}
    table = _ENTITY_TABLES[monitor.entity_type]
    if scope.get("selection") is not None:
        s = tables.selections
        row = (
            await conn.execute(
                select(s.c.id, s.c.entity_type, s.c.kind, s.c.criteria).where(s.c.id == scope["selection"])
            )
        ).first()
        if row is None or row.entity_type != monitor.entity_type:
            return false()  # its selection is gone: it judges nothing
        return members_condition(row._mapping, Viewer.everything())
    categories = list(scope.get("categories") or ())
    a = tables.accounts
    if monitor.entity_type == ACCOUNT:
        return a.c.category.in_(categories)
    return table.c.account_id.in_(select(a.c.id).where(a.c.category.in_(categories)))


async def scope_members(conn: AsyncConnection, monitor: Monitor, ids: set[int] | None) -> set[int] | None:
    """Which of `ids` (None: of all rows) lie in the monitor's scope; None for an unscoped monitor (all)."""
    if not monitor.scope:
        return None
    if ids is not None and not ids:
        return set()
    table = _ENTITY_TABLES[monitor.entity_type]
    condition = await _scope_condition(conn, monitor)
    return {r.id for r in await conn.execute(select(table.c.id).where(condition, _ids_clause(table.c.id, ids)))}


async def _scope_moves(conn: AsyncConnection, monitor: Monitor) -> set[int]:
    """The rows that entered or left the monitor's scope since the last look (which is stored again)."""
    t = tables.monitor_scope_members
    now_in = await scope_members(conn, monitor, None) or set()
    stored = {r.entity_id for r in await conn.execute(select(t.c.entity_id).where(t.c.monitor_id == monitor.id))}
    entered, left = now_in - stored, stored - now_in
    if left:
        await conn.execute(delete(t).where(t.c.monitor_id == monitor.id, t.c.entity_id.in_(sorted(left))))
    if entered:
        await conn.execute(insert(t), [{"monitor_id": monitor.id, "entity_id": i} for i in sorted(entered)])
    return entered | left


async def _reset_scope(conn: AsyncConnection, monitor: Monitor) -> None:
    """A monitor created, changed or deleted: its stored scope starts again from what it is now."""
    t = tables.monitor_scope_members
    await conn.execute(delete(t).where(t.c.monitor_id == monitor.id))
    if monitor.active and monitor.scope and monitor.entity_type is not None:
        members = await scope_members(conn, monitor, None) or set()
        if members:
            await conn.execute(insert(t), [{"monitor_id": monitor.id, "entity_id": i} for i in sorted(members)])


# --- facts ---


def _ids_clause(column: Any, ids: set[int] | None) -> Any:
    return literal(True) if ids is None else column.in_(sorted(ids))


async def _account_level(
    conn: AsyncConnection, account_ids: set[int] | None, rules: set[RuleKind], account_activities: bool
) -> tuple[dict[int, list[ActivityFact]], dict[int, list[OpportunityFact]]]:
    """The activities (on the account, on its opportunities and on its contacts; when `account_activities`)
    and won or open opportunities per account."""
    activities: dict[int, list[ActivityFact]] = defaultdict(list)
    wins: dict[int, list[OpportunityFact]] = defaultdict(list)
    if account_ids is not None and not account_ids:
        return activities, wins
    if account_activities:
        a, o, c = tables.sales_activities, tables.opportunities, tables.contacts
        owner = func.coalesce(a.c.account_id, o.c.account_id, c.c.account_id)
        where = (
            or_(a.c.account_id.is_not(None), a.c.opportunity_id.is_not(None), c.c.account_id.is_not(None))
            if account_ids is None
            else or_(
                a.c.account_id.in_(sorted(account_ids)),
                o.c.account_id.in_(sorted(account_ids)),
                c.c.account_id.in_(sorted(account_ids)),
            )
        )
        rows = await conn.execute(
            select(owner.label("owner"), a.c.type, a.c.done, a.c.occurred_at, a.c.due_at, a.c.created_at)
            .select_from(a.outerjoin(o, o.c.id == a.c.opportunity_id).outerjoin(c, c.c.id == a.c.contact_id))
            .where(where)
        )
        for r in rows:
            activities[r.owner].append(ActivityFact.of(r.type, r.done, r.occurred_at, r.due_at, r.created_at))
    if rules & _DEAL_RULES:
        o = tables.opportunities
        won_or_open = or_(
            and_(o.c.stage.in_(stages.keys_of(StageKind.WON)), o.c.closed_at.is_not(None)),
            o.c.stage.in_(stages.keys_of(StageKind.OPEN)),
        )
        rows = await conn.execute(
            select(
                o.c.account_id,
                o.c.stage,
                stages.kind_of(o.c.stage).label("kind"),
                o.c.closed_at,
                o.c.expected_close_date,
                o.c.created_at,
            ).where(won_or_open, _ids_clause(o.c.account_id, account_ids))
        )
        for r in rows:
            wins[r.account_id].append(
                OpportunityFact(
                    stage=r.stage,
                    kind=r.kind or StageKind.LOST,
                    since=r.closed_at or r.created_at,
                    closed_at=r.closed_at,
                    expected_close_date=r.expected_close_date,
                )
            )
    elif rules & _WIN_RULES:
        o = tables.opportunities
        rows = await conn.execute(
            select(o.c.account_id, o.c.closed_at, o.c.created_at).where(
                o.c.stage.in_(stages.keys_of(StageKind.WON)),
                o.c.closed_at.is_not(None),
                _ids_clause(o.c.account_id, account_ids),
            )
        )
        for r in rows:
            wins[r.account_id].append(
                OpportunityFact(stage="", kind=StageKind.WON, since=r.closed_at, closed_at=r.closed_at)
            )
    return activities, wins


async def _contact_activities(
    conn: AsyncConnection, wanted: dict[str, set[int] | None], rules: dict[str, set[RuleKind]], found: Any
) -> dict[int, list[ActivityFact]]:
    """A person's own activities (attached to the contact), per contact found (all when all were wanted),
    when a contact rule reads activities; none otherwise."""
    if not rules.get(CONTACT, set()) & _ACTIVITY_RULES or not found:
        return {}
    a = tables.sales_activities
    where = a.c.contact_id.is_not(None) if wanted.get(CONTACT) is None else a.c.contact_id.in_(sorted(found))
    result: dict[int, list[ActivityFact]] = defaultdict(list)
    for r in await conn.execute(
        select(a.c.contact_id, a.c.type, a.c.done, a.c.occurred_at, a.c.due_at, a.c.created_at).where(where)
    ):
        result[r.contact_id].append(ActivityFact.of(r.type, r.done, r.occurred_at, r.due_at, r.created_at))
    return result


async def _overdue_candidates(conn: AsyncConnection, kind: str, ids: set[int] | None) -> dict[int, list[TaskFact]]:
    """The open tasks with a due time that count for each entity of `kind` (TASK_OVERDUE reads no
    others): an opportunity's, a contact's or a lead's own; an account's, its opportunities' and its
    contacts' (a consultant, without an account, counts for no account)."""
    t = tables.tasks
    if kind == ACCOUNT:
        o, c = tables.opportunities, tables.contacts
        owner = func.coalesce(t.c.account_id, o.c.account_id, c.c.account_id)
        source = t.outerjoin(o, o.c.id == t.c.opportunity_id).outerjoin(c, c.c.id == t.c.contact_id)
        keys = sorted(ids) if ids is not None else None
        where = (
            t.c.lead_id.is_(None)
            if keys is None
            else or_(t.c.account_id.in_(keys), o.c.account_id.in_(keys), c.c.account_id.in_(keys))
        )
    else:
        owner = t.c[{CONTACT: "contact_id", OPPORTUNITY: "opportunity_id", LEAD: "lead_id"}[kind]]
        source = t
        where = owner.is_not(None) if ids is None else owner.in_(sorted(ids))
    found: dict[int, list[TaskFact]] = defaultdict(list)
    rows = await conn.execute(
        select(owner.label("owner"), t.c.due_at, t.c.done)
        .select_from(source)
        .where(where, t.c.done.is_(False), t.c.due_at.is_not(None))
    )
    for r in rows:
        if r.owner is not None:
            found[r.owner].append(TaskFact(due_at=r.due_at, done=bool(r.done)))
    return found


async def _tasks_for(
    conn: AsyncConnection, kind: str, wanted: dict[str, set[int] | None], rules: dict[str, set[RuleKind]], found: Any
) -> dict[int, list[TaskFact]]:
    """The task facts of the entities of `kind` found (all of them when all were wanted), when a rule of
    that kind reads tasks; none otherwise."""
    if RuleKind.TASK_OVERDUE not in rules.get(kind, set()) or not found:
        return {}
    return await _overdue_candidates(conn, kind, None if wanted.get(kind) is None else set(found))


async def _contracts_for(
    conn: AsyncConnection, kind: str, wanted: dict[str, set[int] | None], rules: dict[str, set[RuleKind]], found: Any
) -> dict[int, list[ContractFact]]:
    """The active contracts with an end of the accounts or opportunities found (all when all were wanted),
    when a rule of that kind reads contracts (CONTRACT_EXPIRING); none otherwise."""
    if RuleKind.CONTRACT_EXPIRING not in rules.get(kind, set()) or not found:
        return {}
    c = tables.contracts
    owner = c.c.account_id if kind == ACCOUNT else c.c.opportunity_id
    ids = None if wanted.get(kind) is None else set(found)
    rows = await conn.execute(
        select(owner.label("owner"), c.c.ends_on).where(
            c.c.status == "ACTIVE", c.c.ends_on.is_not(None), _ids_clause(owner, ids)
        )
    )
    result: dict[int, list[ContractFact]] = defaultdict(list)
    for r in rows:
        result[r.owner].append(ContractFact(ends_on=r.ends_on))
    return result


async def load_facts(
    conn: AsyncConnection,
    wanted: dict[str, set[int] | None],
    rules: dict[str, set[RuleKind]],
    contacts: dict[int, tuple[int, datetime]] | None = None,
) -> dict[str, dict[int, Facts]]:
    """Facts of the entities wanted per type (None: all of that type), loading only what the rules
    of that type need. Entities that do not exist (any more) are left out. `contacts`: the contacts'
    (account id, created at) when the caller has read them already."""
    facts: dict[str, dict[int, Facts]] = {}
    account_rows: dict[int, datetime] = {}
    contact_rows: dict[int, tuple[int, datetime]] = {}
    if ACCOUNT in wanted:
        ids = wanted[ACCOUNT]
        if ids is None or ids:
            account_rows = {
                r.id: r.created_at
                for r in await conn.execute(
                    select(tables.accounts.c.id, tables.accounts.c.created_at).where(
                        _ids_clause(tables.accounts.c.id, ids)
                    )
                )
            }
    if CONTACT in wanted:
        ids = wanted[CONTACT]
        if contacts is not None and ids is not None:
            contact_rows = {i: contacts[i] for i in ids if i in contacts}
        elif ids is None or ids:
            c = tables.contacts
            contact_rows = {
                r.id: (r.account_id, r.created_at)
                for r in await conn.execute(
                    select(c.c.id, c.c.account_id, c.c.created_at).where(
                        c.c.account_id.is_not(None), _ids_clause(c.c.id, ids)
                    )
                )
            }
    if account_rows or contact_rows:
        level: set[int] | None = set(account_rows) | {a for a, _ in contact_rows.values()}
        if all(kind not in wanted or wanted[kind] is None for kind in (ACCOUNT, CONTACT)):
            level = None  # every account's: no need to list the ids
        activities, wins = await _account_level(
            conn,
            level,
            rules.get(ACCOUNT, set()) | rules.get(CONTACT, set()),
            bool(account_rows) and bool(rules.get(ACCOUNT, set()) & _ACTIVITY_RULES),
        )
        own = await _contact_activities(conn, wanted, rules, contact_rows)
        account_tasks = await _tasks_for(conn, ACCOUNT, wanted, rules, account_rows)
        contact_tasks = await _tasks_for(conn, CONTACT, wanted, rules, contact_rows)
        account_contracts = await _contracts_for(conn, ACCOUNT, wanted, rules, account_rows)
        facts[ACCOUNT] = {
            i: Facts(
                created_at=created,
                activities=tuple(activities.get(i, ())),
                opportunities=tuple(wins.get(i, ())),
                tasks=tuple(account_tasks.get(i, ())),
                contracts=tuple(account_contracts.get(i, ())),
            )
            for i, created in account_rows.items()
        }
        facts[CONTACT] = {
            i: Facts(
                created_at=created,
                activities=tuple(own.get(i, ())),
                opportunities=tuple(wins.get(account, ())),
                tasks=tuple(contact_tasks.get(i, ())),
            )
            for i, (account, created) in contact_rows.items()
        }
    if OPPORTUNITY in wanted:
        ids = wanted[OPPORTUNITY]
        facts[OPPORTUNITY] = {}
        if ids is None or ids:
            o, a = tables.opportunities, tables.sales_activities
            rows = list(
                await conn.execute(
                    select(
                        o.c.id,
                        o.c.stage,
                        stages.kind_of(o.c.stage).label("kind"),
                        o.c.closed_at,
                        o.c.expected_close_date,
                        o.c.stage_changed_at,
                        o.c.created_at,
                    ).where(_ids_clause(o.c.id, ids))
                )
            )
            activities: dict[int, list[ActivityFact]] = defaultdict(list)
            if rows and rules.get(OPPORTUNITY, set()) & _ACTIVITY_RULES:
                where = a.c.opportunity_id.is_not(None) if ids is None else a.c.opportunity_id.in_([r.id for r in rows])
                for r in await conn.execute(
                    select(a.c.opportunity_id, a.c.type, a.c.done, a.c.occurred_at, a.c.due_at, a.c.created_at).where(
                        where
                    )
                ):
                    activities[r.opportunity_id].append(
                        ActivityFact.of(r.type, r.done, r.occurred_at, r.due_at, r.created_at)
                    )
            tasks = await _tasks_for(conn, OPPORTUNITY, wanted, rules, [r.id for r in rows])
            sold = await _contracts_for(conn, OPPORTUNITY, wanted, rules, [r.id for r in rows])
            for r in rows:
                me = OpportunityFact(
                    stage=r.stage,
                    kind=r.kind or StageKind.LOST,  # a stage not in the catalogue (written by hand): not open
                    since=r.stage_changed_at or r.created_at,
                    closed_at=r.closed_at,
                    expected_close_date=r.expected_close_date,
                )
                facts[OPPORTUNITY][r.id] = Facts(
                    created_at=r.created_at,
                    activities=tuple(activities.get(r.id, ())),
                    opportunity=me,
                    tasks=tuple(tasks.get(r.id, ())),
                    contracts=tuple(sold.get(r.id, ())),
                )
    if LEAD in wanted:
        ids = wanted[LEAD]
        facts[LEAD] = {}
        if ids is None or ids:
            leads = tables.leads
            lead_rows = {
                r.id: r.created_at
                for r in await conn.execute(select(leads.c.id, leads.c.created_at).where(_ids_clause(leads.c.id, ids)))
            }
            tasks = await _tasks_for(conn, LEAD, wanted, rules, lead_rows)
            facts[LEAD] = {
                i: Facts(created_at=created, tasks=tuple(tasks.get(i, ()))) for i, created in lead_rows.items()
            }
    return facts


# --- re-evaluation of chosen (monitor, entity) pairs ---


def _scope_clause(table: Any, monitors: dict[int, Monitor], scope: dict[int, set[int] | None]) -> Any:
    """Rows of `table` (indicators or due times) of the pairs in scope; monitors with the same entity
    set share one condition."""
    groups: dict[tuple[str | None, frozenset[int] | None], list[int]] = defaultdict(list)
    for monitor_id, ids in scope.items():
        if ids is None:
            groups[(None, None)].append(monitor_id)
        elif ids:
            groups[(monitors[monitor_id].entity_type, frozenset(ids))].append(monitor_id)
    clauses = []
    for (entity_type, ids), monitor_ids in groups.items():
        clause = table.c.monitor_id.in_(sorted(monitor_ids))
        if ids is not None:
            clause = and_(clause, table.c.entity_type == entity_type, table.c.entity_id.in_(sorted(ids)))
        clauses.append(clause)
    return or_(*clauses) if clauses else None


async def reevaluate(
    conn: AsyncConnection,
    monitors: dict[int, Monitor],
    scope: dict[int, set[int] | None],
    now: datetime,
    contacts: dict[int, tuple[int, datetime]] | None = None,
) -> list[DomainEvent]:
    """Bring the pairs in `scope` (per monitor: the entity ids, or None for every entity and every
    indicator of the monitor) in line with the rules at `now`: indicators inserted and deleted, due
    times written; returns the indicator events."""
    where_stored = _scope_clause(tables.status_indicators, monitors, scope)
    if where_stored is None:
        return []
    live = {m: ids for m, ids in scope.items() if monitors[m].active and monitors[m].entity_type is not None}
    wanted: dict[str, set[int] | None] = {}
    rules: dict[str, set[RuleKind]] = defaultdict(set)
    for monitor_id, ids in live.items():
        monitor = monitors[monitor_id]
        kind = monitor.entity_type
        rules[kind].add(monitor.rule.kind)
        if ids is None or wanted.get(kind, set()) is None:
            wanted[kind] = None
        else:
            wanted[kind] = wanted.get(kind, set()) | ids
    facts = await load_facts(conn, wanted, rules, contacts) if wanted else {}

    expected: dict[Pair, datetime | None] = {}
    due: dict[Pair, datetime] = {}
    for monitor_id, ids in live.items():
        monitor = monitors[monitor_id]
        of_type = facts.get(monitor.entity_type, {})
        in_scope = await scope_members(conn, monitor, ids)
        for entity_id in of_type if ids is None else ids:
            entity = of_type.get(entity_id)
            if entity is None or (in_scope is not None and entity_id not in in_scope):
                continue
            verdict = evaluate(monitor.rule, entity, now)
            pair = (monitor_id, monitor.entity_type, entity_id)
            if verdict.holds:
                expected[pair] = None
            if verdict.due_at is not None:
                due[pair] = verdict.due_at

    s, d = tables.status_indicators, tables.indicator_due_times
    stored: dict[Pair, tuple[int, datetime]] = {}
    stored_due: dict[Pair, datetime] = {}
    # The indicators and the due times in scope, in one statement.
    both = union_all(
        select(
            s.c.monitor_id,
            s.c.entity_type,
            s.c.entity_id,
            s.c.id.label("row_id"),
            s.c.set_at.label("at"),
            literal(True).label("is_indicator"),
        ).where(where_stored),
        select(
            d.c.monitor_id,
            d.c.entity_type,
            d.c.entity_id,
            cast(null(), Integer).label("row_id"),
            d.c.due_at.label("at"),
            literal(False).label("is_indicator"),
        ).where(_scope_clause(d, monitors, scope)),
    )
    for r in await conn.execute(both):
        pair = (r.monitor_id, r.entity_type, r.entity_id)
        if r.is_indicator:
            stored[pair] = (r.row_id, r.at)
        else:
            stored_due[pair] = r.at

    events: list[DomainEvent] = []
    gone = sorted(set(stored) - set(expected), key=lambda p: (p[1], p[2], p[0]))
    if gone:
        await conn.execute(delete(s).where(s.c.id.in_([stored[p][0] for p in gone])))
        events += [indicator_cleared(p[1], p[2], p[0], stored[p][1], now) for p in gone]
    new = sorted(set(expected) - set(stored), key=lambda p: (p[1], p[2], p[0]))
    if new:
        await conn.execute(
            insert(s), [{"monitor_id": m, "entity_type": k, "entity_id": i, "set_at": now} for m, k, i in new]
        )
        events += [indicator_set(p[1], p[2], p[0], now) for p in new]
    moved = [p for p, at in stored_due.items() if due.get(p) != at]
    if moved:
        await conn.execute(delete(d).where(tuple_(d.c.monitor_id, d.c.entity_type, d.c.entity_id).in_(moved)))
    fresh = [p for p, at in due.items() if stored_due.get(p) != at]
    if fresh:
        await conn.execute(
            insert(d),
            [{"monitor_id": m, "entity_type": k, "entity_id": i, "due_at": due[(m, k, i)]} for m, k, i in fresh],
        )
    return events


# --- incremental: from a transaction's events ---


@dataclass
class _Affected:
    accounts: set[int]
    contacts: set[int]
    opportunities: set[int]
    via_opportunities: set[int]  # opportunities whose account (and its contacts) is affected too
    monitors: set[int]
    leads: set[int] = field(default_factory=set)
    via_contacts: set[int] = field(default_factory=set)  # contacts whose account is affected too (their tasks)

    def __bool__(self) -> bool:
        return bool(self.accounts or self.contacts or self.opportunities or self.monitors or self.leads)


_OPPORTUNITY_FACTS = {
    "OpportunityCreated",
    "OpportunityChanged",
    "OpportunityStageChanged",
    "OpportunityWon",
    "OpportunityLost",
    "OpportunityUnlocked",
    "OpportunityDeleted",
}
_ACTIVITY_FACTS = {"ActivityLogged", "ActivityChanged", "ActivityDeleted"}
_TASK_FACTS = {"TaskCreated", "TaskChanged", "TaskCompleted", "TaskReopened", "TaskDeleted"}
# What moves a contract's end or status (ContractExpiring only records that a notice was given).
_CONTRACT_FACTS = {
    "ContractCreated",
    "ContractWithdrawn",
    "ContractRenewed",
    "ContractCancelled",
    "ContractExpired",
    "ContractRemoved",
}
_JUDGING = {"rule", "entity_type", "active", "scope"}  # the fields of a monitor that decide what it marks


def affected_by(events: Iterable[DomainEvent]) -> _Affected:
    """What the events can change a rule's answer for (deleted entities included: their indicators go)."""
    found = _Affected(set(), set(), set(), set(), set())
    for event in events:
        kind, data = event.type, event.data
        if kind in _ACTIVITY_FACTS:
            if data.get("accountId") is not None:
                found.accounts.add(data["accountId"])
            if data.get("opportunityId") is not None:
                found.opportunities.add(data["opportunityId"])
                found.via_opportunities.add(data["opportunityId"])
            if data.get("contactId") is not None:  # the person's own, and its account's
                found.contacts.add(data["contactId"])
                found.via_contacts.add(data["contactId"])
        elif kind in _TASK_FACTS:
            if kind == "TaskChanged" and "due_at" not in (data.get("fields") or ()):
                continue  # its title, notes, priority or assignee: no rule reads those
            if data.get("accountId") is not None:
                found.accounts.add(data["accountId"])
            if data.get("opportunityId") is not None:
                found.opportunities.add(data["opportunityId"])
                found.via_opportunities.add(data["opportunityId"])
            if data.get("contactId") is not None:
                found.contacts.add(data["contactId"])
                found.via_contacts.add(data["contactId"])
            if data.get("leadId") is not None:
                found.leads.add(data["leadId"])
        elif kind in _CONTRACT_FACTS:
            if data.get("accountId") is not None:
                found.accounts.add(data["accountId"])
            if data.get("opportunityId") is not None:
                found.opportunities.add(data["opportunityId"])
        elif kind in _OPPORTUNITY_FACTS:
            found.opportunities.add(event.entity_id)
            found.via_opportunities.add(event.entity_id)
            for key in ("accountId", "fromAccountId", "toAccountId"):
                if data.get(key) is not None:
                    found.accounts.add(data[key])
        elif kind in ("AccountCreated", "AccountDeleted"):
            found.accounts.add(event.entity_id)
        elif kind in ("ContactCreated", "ContactDeleted"):
            found.contacts.add(event.entity_id)
            if kind == "ContactDeleted" and data.get("accountId") is not None:
                found.accounts.add(data["accountId"])  # its tasks went with it, and they counted for the account
        elif kind == "StatusMonitorChanged":
            if data.get("change") == "UPDATED" and not _JUDGING & set(data.get("fields") or ()):
                continue  # only its name, description, icon, colour or priority: no indicator changes
            found.monitors.add(event.entity_id)
    return found


async def load_monitors(conn: AsyncConnection, also: set[int]) -> dict[int, Monitor]:
    m = tables.status_monitors
    where = m.c.active.is_(True) if not also else or_(m.c.active.is_(True), m.c.id.in_(sorted(also)))
    found = {
        r.id: Monitor.of(r)
        for r in await conn.execute(select(m.c.id, m.c.entity_type, m.c.rule, m.c.active, m.c.scope).where(where))
    }
    for monitor_id in also - set(found):
        found[monitor_id] = Monitor(monitor_id, None, None, False)  # deleted in this transaction
    return found


def monitors_fingerprint() -> Any:
    """What changes whenever a monitor is created, changed or deleted: their number, the highest id and the sum
    of their versions (ids are never reused on PostgreSQL and every change raises a version), as text."""
    m = tables.status_monitors
    return select(
        func.concat(func.count(), ":", func.coalesce(func.max(m.c.id), 0), ":", func.coalesce(func.sum(m.c.version), 0))
    ).scalar_subquery()


@dataclass(frozen=True)
class _Seen:
    fingerprint: str
    active: dict[int, Monitor]


class MonitorCache:
    """The monitors one process last read, with their fingerprint (PostgreSQL). A unit of work tracks indicators
    with them once it holds the events' numbering lock, and the statement that writes its events returns the
    fingerprint as it is then: a monitor changed by a transaction that committed before this one took the lock
    shows as a different fingerprint, and the unit of work tracks again with the monitors read afresh; no monitor
    change can commit after that until this transaction does (it would need the lock to write its events)."""

    def __init__(self) -> None:
        self.seen: _Seen | None = None

    async def get(self, conn: AsyncConnection) -> _Seen:
        seen = self.seen
        if seen is None:
            m = tables.status_monitors
            rows = list(
                await conn.execute(select(m.c.id, m.c.entity_type, m.c.rule, m.c.active, m.c.scope, m.c.version))
            )
            versions = sum(r.version for r in rows)
            fingerprint = f"{len(rows)}:{max((r.id for r in rows), default=0)}:{versions}"
            seen = self.seen = _Seen(fingerprint, {r.id: Monitor.of(r) for r in rows if r.active})
        return seen

    def forget(self) -> None:
        self.seen = None


_caches: weakref.WeakKeyDictionary[Any, MonitorCache] = weakref.WeakKeyDictionary()


def monitor_cache(engine: Any) -> MonitorCache:
    """The process's monitors for this engine (one per database)."""
    key = engine.sync_engine
    cache = _caches.get(key)
    if cache is None:
        cache = _caches[key] = MonitorCache()
    return cache


async def lock(conn: AsyncConnection) -> None:
    """Serialise the writers of indicators across processes (PostgreSQL; on SQLite the unit of work's
    write lock already does). No foreign key points from indicators or due times to a monitor, so a
    writer holding this lock never waits for a monitor row, which a transaction deleting or changing
    that monitor holds while it waits for this lock. The events' numbering lock is taken first (a
    unit of work already holds it when it tracks indicators): every transaction takes the two in
    that order, so none waits for another that waits for it."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:numbering), pg_advisory_xact_lock(:indicators)"),
            {"numbering": EVENT_NUMBERING_LOCK, "indicators": INDICATORS_LOCK},
        )


def _scoped(monitors: dict[int, Monitor], changed: set[int]) -> list[Monitor]:
    """The active scoped monitors that did not change in this transaction."""
    return [m for m in monitors.values() if m.active and m.scope and m.id not in changed]


def _by_type(monitors: dict[int, Monitor], changed: set[int]) -> dict[str, list[int]]:
    """The active monitors that did not change in this transaction, per entity type they judge."""
    found: dict[str, list[int]] = defaultdict(list)
    for monitor in monitors.values():
        if monitor.active and monitor.id not in changed:
            found[monitor.entity_type].append(monitor.id)
    return found


@dataclass
class Tracked:
    """What `track` did: the indicator events it added, and the fingerprint of the cached monitors it relied on
    (None when it read them in the transaction, or needed none): the unit of work checks it at commit."""

    events: list[DomainEvent]
    relied_on: str | None = None


async def track(
    conn: AsyncConnection, events: list[DomainEvent], now: datetime, cache: MonitorCache | None = None
) -> Tracked:
    """Re-evaluate what the recorded `events` can affect and append the indicator events to `events`
    (called by the unit of work at commit, before it writes the outbox).

    The writers of indicators take turns (`lock`). On PostgreSQL the unit of work holds the events'
    numbering lock already, and passes `cache`: the monitors this process last read are used, unless
    this transaction changes monitors (then they are read here), and the unit of work checks their
    fingerprint when it writes the events (`MonitorCache`)."""
    found = affected_by(events)
    rows_changed = any(e.entity_type in _SCOPE_EVENTS for e in events)
    if not found and not rows_changed:
        return Tracked([])
    touched = set()
    if found.accounts or found.via_opportunities:
        touched |= {ACCOUNT, CONTACT}
    if found.contacts:
        touched.add(CONTACT)
    if found.opportunities:
        touched.add(OPPORTUNITY)
    if found.via_contacts:
        touched.add(ACCOUNT)
    if found.leads:
        touched.add(LEAD)
    relied_on = None
    if cache is not None and not found.monitors:
        seen = await cache.get(conn)
        monitors, relied_on = dict(seen.active), seen.fingerprint
    else:
        if cache is not None:
            cache.forget()  # this transaction changes monitors: what the process read is stale once it commits
        monitors = await load_monitors(conn, found.monitors)
    if (
        not found.monitors
        and not touched & set(_by_type(monitors, found.monitors))
        and not (rows_changed and _scoped(monitors, found.monitors))
    ):
        return Tracked([], relied_on)  # no monitor can be affected
    if conn.dialect.name != "sqlite":
        await lock(conn)
        if cache is None:  # without the numbering lock held, a monitor may have changed before this lock
            monitors = await load_monitors(conn, found.monitors)
    by_type = _by_type(monitors, found.monitors)
    accounts = set(found.accounts)
    if (by_type.get(ACCOUNT) or by_type.get(CONTACT)) and found.via_opportunities:
        o = tables.opportunities
        accounts |= {
            r.account_id
            for r in await conn.execute(select(o.c.account_id).where(o.c.id.in_(sorted(found.via_opportunities))))
        }
    contacts = set(found.contacts)
    known: dict[int, tuple[int, datetime]] | None = None
    if by_type.get(CONTACT) and (accounts or contacts):
        c = tables.contacts
        known = {
            r.id: (r.account_id, r.created_at)
            for r in await conn.execute(
                select(c.c.id, c.c.account_id, c.c.created_at).where(
                    c.c.account_id.is_not(None), or_(c.c.account_id.in_(sorted(accounts)), c.c.id.in_(sorted(contacts)))
                )
            )
        }
        contacts |= set(known)
    if by_type.get(ACCOUNT) and found.via_contacts:
        c = tables.contacts
        accounts |= {
            r.account_id
            for r in await conn.execute(
                select(c.c.account_id).where(c.c.id.in_(sorted(found.via_contacts)), c.c.account_id.is_not(None))
            )
        }
    entities = {
        ACCOUNT: accounts,
        CONTACT: contacts,
        OPPORTUNITY: set(found.opportunities),
        LEAD: set(found.leads),
    }
    scope: dict[int, set[int] | None] = {m: None for m in found.monitors}
    for kind, monitor_ids in by_type.items():
        for monitor_id in monitor_ids:
            if entities[kind]:
                scope[monitor_id] = set(entities[kind])
    for monitor_id in found.monitors:
        await _reset_scope(conn, monitors[monitor_id])
    if rows_changed:
        for monitor in _scoped(monitors, found.monitors):
            moved = await _scope_moves(conn, monitor)
            if moved:
                scope[monitor.id] = scope.get(monitor.id, set()) | moved  # type: ignore[operator]
    if not scope:
        return Tracked([], relied_on)
    made = await reevaluate(conn, monitors, scope, now, known)
    events.extend(made)
    return Tracked(made, relied_on)


# --- from scratch ---


async def evaluate_all(conn: AsyncConnection, now: datetime) -> set[Pair]:
    """Which (monitor id, entity type, entity id) should carry an indicator at `now`, evaluated from
    scratch over every entity for every active monitor. Writes nothing."""
    monitors = await load_monitors(conn, set())
    wanted: dict[str, set[int] | None] = {m.entity_type: None for m in monitors.values()}
    rules: dict[str, set[RuleKind]] = defaultdict(set)
    for m in monitors.values():
        rules[m.entity_type].add(m.rule.kind)
    facts = await load_facts(conn, wanted, rules) if wanted else {}
    found = set()
    for m in monitors.values():
        in_scope = await scope_members(conn, m, None)
        for entity_id, entity in facts.get(m.entity_type, {}).items():
            if (in_scope is None or entity_id in in_scope) and evaluate(m.rule, entity, now).holds:
                found.add((m.id, m.entity_type, entity_id))
    return found


async def stored_indicators(conn: AsyncConnection) -> set[Pair]:
    s = tables.status_indicators
    return {
        (r.monitor_id, r.entity_type, r.entity_id)
        for r in await conn.execute(select(s.c.monitor_id, s.c.entity_type, s.c.entity_id))
    }


# --- reads ---


async def indicators_of(conn: AsyncConnection, entity_type: str, ids: Iterable[int]) -> list[list[Any]]:
    """The indicators of each entity (in the order of `ids`) with their monitor's name, description,
    icon, colour and priority, highest priority first, then by name; one statement for all."""
    keys = list(ids)
    dialect = conn.dialect.name
    s, m = tables.status_indicators, tables.status_monitors
    stmt = reads.statement(
        ("indicators", dialect),
        lambda: (
            select(
                s.c.entity_id, s.c.monitor_id, s.c.set_at, m.c.name, m.c.description, m.c.icon, m.c.colour, m.c.priority
            )
            .join(m, m.c.id == s.c.monitor_id)
            .where(
                s.c.entity_type == bindparam("entity_type"),
                reads.one_of_keys(s.c.entity_id, dialect),
                m.c.active.is_(True),
            )
            .order_by(s.c.entity_id, m.c.priority.desc(), m.c.name, m.c.id)
        ),
    )
    rows = await conn.execute(stmt, {"entity_type": entity_type, "keys": sorted(set(keys))})
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.entity_id].append(row)
    return [grouped.get(k, []) for k in keys]
