"""Custom field values in SQL: each of accounts, contacts, opportunities and leads keeps them in one JSON
column (`custom_fields`, `{key: value}`), read by key on SQLite (`json_type` / `json_extract`) and PostgreSQL
(`json_typeof` / `->>`). A value is read only when its JSON type is the one the test reads (a number for
a range, a string for `in`), so a condition never casts a value of another type and never fails."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, func, literal, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from domain.criteria import CriteriaEntity, resolve_relative
from domain.custom_fields import CustomFieldDefinition
from domain.uow import UnitOfWork
from persistence import tables
from persistence.mapping import from_row

TABLES = {
    CriteriaEntity.ACCOUNT: tables.accounts,
    CriteriaEntity.CONTACT: tables.contacts,
    CriteriaEntity.OPPORTUNITY: tables.opportunities,
    CriteriaEntity.LEAD: tables.leads,
}


def _path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


class json_kind(FunctionElement):
    """The JSON type of the value at a key, the same words on both databases: string, number, boolean,
    null (JSON null), or SQL NULL where the key is absent. Arguments: the column, the key, its SQLite path."""

    type = String()
    name = "json_kind"
    inherit_cache = True


@compiles(json_kind, "sqlite")
def _json_kind_sqlite(element: json_kind, compiler: Any, **kw: Any) -> str:
    column, _key, path = list(element.clauses)
    found = f"json_type({compiler.process(column, **kw)}, {compiler.process(path, **kw)})"
    return (
        f"CASE {found} WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' WHEN 'text' THEN 'string' "
        f"WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' WHEN 'null' THEN 'null' END"
    )


@compiles(json_kind, "postgresql")
def _json_kind_postgresql(element: json_kind, compiler: Any, **kw: Any) -> str:
    column, key, _path = list(element.clauses)
    return f"json_typeof({compiler.process(column, **kw)} -> {compiler.process(key, **kw)})"


def _kind(column: ColumnElement, key: str) -> ColumnElement:
    return json_kind(column, literal(key, String()), literal(_path(key), String()))


def _text(column: ColumnElement, key: str) -> ColumnElement:
    return case((_kind(column, key) == "string", column[key].as_string()))


def _number(column: ColumnElement, key: str) -> ColumnElement:
    return case((_kind(column, key) == "number", column[key].as_float()))


def _boolean(column: ColumnElement, key: str) -> ColumnElement:
    return case((_kind(column, key) == "boolean", column[key].as_boolean()))


def condition(entity: CriteriaEntity, node: Mapping[str, Any], now: datetime) -> ColumnElement:
    """One normalised `{"custom": key, …}` condition on the entity's table (domain/criteria.py)."""
    column = TABLES[entity].c.custom_fields
    key = node["custom"]
    if "empty" in node:
        kind = _kind(column, key)
        empty = or_(kind.is_(None), kind == "null")
        return empty if node["empty"] else not_(empty)
    if "is" in node:
        value = _boolean(column, key)
        return and_(value.is_not(None), value == bool(node["is"]))
    if "in" in node or "notIn" in node:
        text = _text(column, key)
        matches = and_(text.is_not(None), text.in_(list(node.get("in", node.get("notIn")))))
        return matches if "in" in node else not_(matches)
    if "min" in node or "max" in node:
        number = _number(column, key)
        parts = [number.is_not(None)]
        if node.get("min") is not None:
            parts.append(number >= float(node["min"]))
        if node.get("max") is not None:
            parts.append(number <= float(node["max"]))
        return and_(*parts)
    text = _text(column, key)  # a DATE is its ISO text, which orders as the dates do
    parts = [text.is_not(None)]
    for end, compare in (("from", text.__ge__), ("to", text.__le__)):
        value = node.get(end)
        if value is None:
            continue
        day = resolve_relative(value, now).date() if isinstance(value, Mapping) else date.fromisoformat(value)
        parts.append(compare(day.isoformat()))
    return and_(*parts) if parts else true()


class SqlCustomFieldUse:
    """`domain.workflows.custom_fields.CustomFieldUse` on the unit of work's connection: rows counted as the
    system, whoever asks (only admins change definitions)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow: Any = uow

    async def holding(self, entity: CriteriaEntity, key: str, values: list[Any] | None = None) -> int:
        table = TABLES[CriteriaEntity(entity)]
        column = table.c.custom_fields
        if values is None:
            kind = _kind(column, key)
            held: ColumnElement = and_(kind.is_not(None), kind != "null")
        else:
            text = _text(column, key)
            held = and_(text.is_not(None), text.in_(values))
        result = await self.uow.execute(select(func.count()).select_from(table).where(held))
        return int(result.scalar_one())


def custom_field_use(uow: UnitOfWork) -> SqlCustomFieldUse:
    return SqlCustomFieldUse(uow)


# --- this process's copy of the definitions (like the stage catalogue's: persistence/stages.py) ---

ENTITY_TYPE = "CustomFieldDefinition"
_copies: weakref.WeakKeyDictionary[Any, dict[str, list[CustomFieldDefinition]]] = weakref.WeakKeyDictionary()
_generation = 0


async def definitions(
    engine: AsyncEngine, conn: AsyncConnection, entity: CriteriaEntity
) -> list[CustomFieldDefinition]:
    """The entity's definitions in their order, from this process's copy of every entity's (read through `conn`,
    in one statement, when the process has none). A committed change clears the copy of the process that made it
    (`SqlUnitOfWork.commit`) and every other process's when its outbox event arrives (gql/app.py): until then a
    write in another process is checked against the definitions as they were."""
    key = engine.sync_engine
    found = _copies.get(key)
    if found is None:
        generation = _generation
        d = tables.custom_field_definitions
        found = defaultdict(list)
        for row in await conn.execute(select(d).order_by(d.c.position, d.c.id)):
            definition = from_row(CustomFieldDefinition, row)
            found[getattr(definition.entity_type, "value", definition.entity_type)].append(definition)
        if generation == _generation:
            _copies[key] = found
    return list(found.get(entity.value, ()))


def forget() -> None:
    """Clear every copy: a definition changed (in this process, or in another one as the outbox tells)."""
    global _generation
    _generation += 1
    _copies.clear()
