"""Batch reads: each function answers many keys with one SQL statement, in the order of the keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import SelectBase
from sqlalchemy.sql.visitors import replacement_traverse

from persistence import stages
from persistence.fastread import fetch
from persistence.pages import PageRows, Window
from persistence.visibility import EVENT_TABLES, Viewer, kept_columns

_statements: dict[Hashable, Select] = {}
KEYS = bindparam("keys", expanding=True)
EVERYTHING = Viewer.everything()


def _visible(table: Table, viewer: Viewer) -> tuple[ColumnElement, Any]:
    """The viewer's condition on `table` (true when it sees everything) and the viewer's role (part of a
    cached statement's key: conditions differ per role, not per caller)."""
    rule = viewer.rule(table)
    # The role is in the key even when this table has no rule for it: the caller's other conditions
    # (a `has…` filter) may carry the rules of other tables.
    return (true() if rule is None else rule), viewer.role


def one_of_keys(column: ColumnElement, dialect: str) -> ColumnElement:
    """`column` is one of the batch's keys, the `:keys` parameter (a list). On PostgreSQL
    `= ANY(:keys)`: one array parameter, so one statement text (parsed and planned once per connection)
    serves any number of keys, where `IN (…)` has a parameter per key and a text per count. On SQLite
    an expanding `IN` list."""
    if dialect == "postgresql":
        return column == any_(bindparam("keys", type_=ARRAY(column.type)))
    return column.in_(KEYS)


def statement(key: Hashable | None, build: Callable[[], Select]) -> Select:
    """The statement for `key`, built once per process: SQLAlchemy then reuses its compiled form
    instead of rebuilding and hashing a new expression tree on every request. The keys of a batch
    are the `:keys` parameter (`one_of_keys`); the key names the dialect when the statement does."""
    if key is None:
        return build()
    found = _statements.get(key)
    if found is None:
        if len(_statements) > 5_000:
            _statements.clear()
        found = _statements[key] = build()
    return found


def projection(table: Table, columns: Sequence[str] | None, *always: str) -> list[ColumnElement]:
    """The columns to select: all of them, or the named ones plus those the batch itself needs."""
    if columns is None:
        return [table]  # type: ignore[list-item]
    names = dict.fromkeys([*always, *columns])
    return [table.c[name] for name in names]


async def rows_by_ids(
    conn: AsyncConnection,
    table: Table,
    ids: Sequence[Any],
    key: str = "id",
    columns: tuple[str, ...] | None = None,
    viewer: Viewer = EVERYTHING,
) -> list[Row | None]:
    column = table.c[key]
    visible, role = _visible(table, viewer)
    dialect = conn.dialect.name
    stmt = statement(
        ("ids", table.name, key, columns, role, dialect),
        lambda: select(*projection(table, columns, key)).where(one_of_keys(column, dialect), visible),
    )
    rows = await fetch(conn, stmt, {"keys": list(set(ids)), **viewer.params}, cached=True)
    found = {getattr(row, key): row for row in rows}
    return [found.get(i) for i in ids]


async def rows_by_fk(
    conn: AsyncConnection,
    table: Table,
    fk: str,
    keys: Sequence[Any],
    order_by: Sequence[ColumnElement] = (),
    where: ColumnElement | None = None,
    cache_key: Hashable | None = None,
    columns: tuple[str, ...] | None = None,
    viewer: Viewer = EVERYTHING,
) -> list[list[Row]]:
    """All children of each parent, for relations that stay small (a quote's items)."""
    column = table.c[fk]
    visible, role = _visible(table, viewer)
    dialect = conn.dialect.name
    cache_key = (cache_key, columns, role, dialect) if cache_key is not None else None
    stmt = statement(
        cache_key,
        lambda: (
            select(*projection(table, columns, "id", fk))
            .where(one_of_keys(column, dialect), where if where is not None else true(), visible)
            .order_by(column, *order_by, *([table.c.id] if "id" in table.c else []))
        ),
    )
    grouped: dict[Any, list[Row]] = defaultdict(list)
    for row in await fetch(conn, stmt, {"keys": list(set(keys)), **viewer.params}, cached=cache_key is not None):
        grouped[getattr(row, fk)].append(row)
    return [grouped.get(k, []) for k in keys]


async def rows_through(
    conn: AsyncConnection,
    link: Table,
    left: str,
    right: str,
    target: Table,
    keys: Sequence[Any],
    order_by: Sequence[ColumnElement] = (),
    columns: tuple[str, ...] | None = None,
    viewer: Viewer = EVERYTHING,
) -> list[list[Row]]:
    """Many-to-many: the `target` rows linked to each key through the `link` table."""
    owner = link.c[left].label("_owner")
    visible, role = _visible(target, viewer)
    dialect = conn.dialect.name
    stmt = statement(
        ("link", link.name, left, right, target.name, columns, role, dialect),
        lambda: (
            select(*projection(target, columns, "id"), owner)
            .join(link, link.c[right] == target.c.id)
            .where(one_of_keys(link.c[left], dialect), visible)
            .order_by(owner, *order_by, target.c.id)
        ),
    )
    grouped: dict[Any, list[Row]] = defaultdict(list)
    for row in await fetch(conn, stmt, {"keys": list(set(keys)), **viewer.params}, cached=True):
        grouped[row._owner].append(row)
    return [grouped.get(k, []) for k in keys]


@dataclass(frozen=True)
class DerivedKey:
    """A parent key that is no column of the child table: `expression` (on the child's row) gives the parent's
    key, and `matches(one_of_keys)` is a condition that keeps the rows of the batch's parents, built with
    `one_of_keys(column)` (a column is one of the batch's keys) on indexed columns. Named `name` in the rows."""

    name: str
    expression: ColumnElement = field(compare=False, hash=False)
    matches: Callable[[ColumnElement], ColumnElement] = field(compare=False, hash=False)


async def pages_by_fk(
    conn: AsyncConnection,
    table: Table,
    fk: str | DerivedKey,
    keys: Sequence[Any],
    window: Window,
    order_by: Sequence[ColumnElement],
    where: Sequence[ColumnElement] = (),
    cache_key: Hashable | None = None,
    columns: tuple[str, ...] | None = None,
    viewer: Viewer = EVERYTHING,
) -> list[PageRows]:
    """One page per parent in one statement: ROW_NUMBER() and COUNT() partitioned by the parent."""
    visible, role = _visible(table, viewer)
    dialect = conn.dialect.name
    cache_key = (cache_key, columns, role, dialect) if cache_key is not None else None
    if isinstance(fk, DerivedKey):
        name, column = fk.name, fk.expression
        of_keys = fk.matches(lambda key_column: one_of_keys(key_column, dialect))
        picked = [*projection(table, columns, "id"), column.label(name)]
    else:
        name, column = fk, table.c[fk]
        of_keys = one_of_keys(column, dialect)
        picked = projection(table, columns, "id", fk)

    def build() -> Select:
        inner = (
            select(
                *picked,
                func.row_number().over(partition_by=column, order_by=[*order_by, table.c.id]).label("_rn"),
                func.count().over(partition_by=column).label("_total"),
            )
            .where(of_keys, *where, visible)
            .subquery("page")
        )
        return select(inner).where(window.sql(inner.c._rn, inner.c._total)).order_by(inner.c[name], inner.c._rn)

    grouped: dict[Any, list[Row]] = defaultdict(list)
    parameters = {"keys": list(set(keys)), **viewer.params}
    for row in await fetch(conn, statement(cache_key, build), parameters, cached=cache_key is not None):
        grouped[getattr(row, name)].append(row)
    pages = []
    for k in keys:
        rows = grouped.get(k, [])
        total = rows[0]._total if rows else 0
        low, high = window.bounds(total)
        pages.append(
            PageRows(
                rows=[r for r in rows if low < r._rn <= high],
                start=low,
                total=total,
                has_next=high < total,
                has_previous=low > 0,
            )
        )
    return pages


async def all_rows(
    conn: AsyncConnection,
    table: Table,
    order_by: Sequence[str],
    viewer: Viewer = EVERYTHING,
    where: Sequence[ColumnElement] = (),
    limit: int | None = None,
    columns: Sequence[str] | None = None,
) -> list[Row]:
    """The rows of `table` the viewer may see (and `where` takes), ordered by the named columns (`-name`:
    descending): a short list a root field returns whole, or its first `limit` rows."""
    visible, _ = _visible(table, viewer)
    order = [table.c[n[1:]].desc() if n.startswith("-") else table.c[n] for n in order_by]
    stmt = select(*projection(table, columns, "id")).where(*where, visible).order_by(*order).limit(limit)
    return list(await conn.execute(stmt, viewer.params))


async def entity_visible(conn: AsyncConnection, entity_type: str, entity_id: int, viewer: Viewer) -> bool:
    """Whether the viewer may see the entity an event is about, as its row is now (`Viewer.told_of`
    says which events need this)."""
    [row] = await rows_by_ids(conn, EVENT_TABLES[entity_type], [entity_id], columns=("id",), viewer=viewer)
    return row is not None


async def kept_row_visible(conn: AsyncConnection, entity_type: str, kept: dict[str, Any], viewer: Viewer) -> bool:
    """Whether the viewer could see a row, deleted since, as it was (`kept`: what an event kept of it,
    `visibility.KEPT_ROW`): the table's rule, with the row's own columns taken from `kept` and every
    other table (the account of a deleted opportunity, the viewer's team) as it is now."""
    table = EVENT_TABLES[entity_type]
    rule = viewer.rule(table)
    if rule is None:
        return True
    row = select(
        *(literal(kept.get(name), type_=table.c[name].type).label(name) for name in kept_columns(table))
    ).subquery("kept")

    def as_kept(element: Any, **_: Any) -> Any:
        if isinstance(element, SelectBase):
            return element  # a subquery reads its own tables, never the kept row
        if isinstance(element, Column) and element.table is table:
            return row.c[element.name]
        return None

    stmt = select(literal(1)).select_from(row).where(replacement_traverse(rule, {}, as_kept))
    return (await conn.execute(stmt, viewer.params)).first() is not None


async def count_rows(
    conn: AsyncConnection, table: Table, where: Sequence[ColumnElement], viewer: Viewer = EVERYTHING
) -> int:
    visible, _ = _visible(table, viewer)
    stmt = select(func.count()).select_from(table).where(and_(true(), *where), visible)
    return (await conn.execute(stmt, viewer.params)).scalar_one()


async def root_page(
    conn: AsyncConnection,
    table: Table,
    where: Sequence[ColumnElement],
    order_by: Sequence[ColumnElement],
    window: Window,
    need_total: bool,
    viewer: Viewer = EVERYTHING,
) -> PageRows:
    """A page of a root list with LIMIT/OFFSET; COUNT runs only when asked for or needed by `last`."""
    total = None
    if need_total or window.last is not None:
        total = await count_rows(conn, table, where, viewer)
    visible, _ = _visible(table, viewer)
    params = viewer.params
    stmt = select(table).where(and_(true(), *where), visible).order_by(*order_by, table.c.id)
    if total is not None:
        low, high = window.bounds(total)
        rows = list(await conn.execute(stmt.offset(low).limit(high - low), params)) if high > low else []
        return PageRows(rows=rows, start=low, total=total, has_next=high < total, has_previous=low > 0)
    low = window.low
    stop = window.before
    if window.first is not None:
        stop = min(stop, low + window.first) if stop is not None else low + window.first
    if stop is not None and stop <= low:
        # An empty page (`first: 0`, or `before` at or ahead of `after`): whether rows follow it is
        # a one-row look past `after`.
        ahead = await conn.execute(stmt.with_only_columns(table.c.id).offset(low).limit(1), params)
        return PageRows(rows=[], start=low, total=None, has_next=ahead.first() is not None, has_previous=low > 0)
    limit = None if stop is None else stop - low + 1  # one more row tells whether a next page exists
    rows = list(await conn.execute(stmt.offset(low).limit(limit), params))
    has_next = limit is not None and len(rows) == limit
    if has_next:
        rows = rows[:-1]
    return PageRows(rows=rows, start=low, total=None, has_next=has_next, has_previous=low > 0)


async def exchange_rates(conn: AsyncConnection) -> dict[str, Any]:
    """Euros per unit of each currency."""
    from persistence.tables import exchange_rates as rates

    return {row.currency: row.rate for row in await conn.execute(select(rates.c.currency, rates.c.rate))}


async def campaign_figures(conn: AsyncConnection, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Per campaign: lead counts by status, opportunity count, and won revenue per currency."""
    from persistence.tables import leads, opportunities

    keys = list(set(ids))
    figures: dict[int, dict[str, Any]] = {i: {"leads": {}, "opportunities": 0, "won": {}, "won_count": 0} for i in keys}
    lead_counts = (
        select(leads.c.campaign_id, leads.c.status, func.count())
        .where(leads.c.campaign_id.in_(keys))
        .group_by(leads.c.campaign_id, leads.c.status)
    )
    for campaign_id, status, count in await conn.execute(lead_counts):
        figures[campaign_id]["leads"][status] = count
    opps = opportunities.c
    deals = (
        select(
            opps.campaign_id,
            stages.kind_of(opps.stage),
            opps.actual_revenue_currency,
            func.count(),
            func.sum(opps.actual_revenue_amount),
        )
        .where(opps.campaign_id.in_(keys))
        .group_by(opps.campaign_id, opps.stage, opps.actual_revenue_currency)
    )
    for campaign_id, kind, currency, count, amount in await conn.execute(deals):
        entry = figures[campaign_id]
        entry["opportunities"] += count
        if kind == "WON":  # every WON-kind stage
            entry["won_count"] += count
            entry["won"][currency] = entry["won"].get(currency, 0) + (amount or 0)
    return [figures[i] for i in ids]


async def top_per_group(
    conn: AsyncConnection,
    table: Table,
    column: str,
    groups: Sequence[Any],
    where: Sequence[ColumnElement],
    order_by: Sequence[ColumnElement],
    limit: int,
    viewer: Viewer = EVERYTHING,
) -> list[tuple[int, list[Row]]]:
    """For each group value: how many rows match, and the first `limit` of them, in two statements.
    Each group's rows come from its own ORDER BY … LIMIT, so an index on (column, order) serves it,
    where a window over the whole table would sort everything."""
    key = table.c[column]
    visible, _ = _visible(table, viewer)
    where = [*where, visible]
    counts = dict(
        (
            await conn.execute(
                select(key, func.count()).where(key.in_(list(groups)), *where).group_by(key), viewer.params
            )
        ).all()
    )
    rows: dict[Any, list[Row]] = defaultdict(list)
    if limit > 0 and counts:
        parts = [
            select(select(table).where(key == g, *where).order_by(*order_by, table.c.id).limit(limit).subquery())
            for g in groups
            if counts.get(g)
        ]
        for row in await conn.execute(union_all(*parts) if len(parts) > 1 else parts[0], viewer.params):
            rows[getattr(row, column)].append(row)
    return [(counts.get(g, 0), rows.get(g, [])) for g in groups]


async def position_and_set_up(conn: AsyncConnection) -> tuple[int | None, datetime | None]:
    """The newest event position and when the company was set up, in one statement. The company was set
    up when its first user was made (the admin of the install, or of the seed's history): users are never
    deleted, so the day cannot move, and it needs no row of its own to keep right (docs/decisions.md)."""
    from persistence.tables import outbox_events, users

    first_user = select(func.min(users.c.created_at)).scalar_subquery()
    row = (await conn.execute(select(func.max(outbox_events.c.position), first_user))).one()
    return row[0], row[1]
