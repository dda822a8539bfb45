"""Selections in SQL: which rows are a selection's members, as one condition on the member table for a
reader (a dynamic selection's criteria compiled with the reader's visibility; a static one's member rows),
and the workflows' port over the unit of work's connection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy import and_ as sql_and

from domain.criteria import CriteriaEntity
from domain.selections import SelectionKind
from domain.uow import UnitOfWork
from persistence import tables
from persistence.criteria import TABLES, compile_criteria
from persistence.visibility import Viewer


def members_condition(selection: Mapping[str, Any], viewer: Viewer) -> ColumnElement:
    """The rows of the selection's entity table that are its members, as `viewer` judges its criteria (the
    read adds the table's own visibility rule for `viewer`)."""
    entity = CriteriaEntity(selection["entity_type"])
    table = TABLES[entity]
    if selection["kind"] == SelectionKind.DYNAMIC.value:
        return compile_criteria(entity, selection["criteria"], viewer)
    m = tables.selection_members
    return table.c.id.in_(select(m.c.entity_id).where(m.c.selection_id == selection["id"]).correlate(None))


class SqlSelectionRows:
    """`domain.selections.SelectionRows` on the unit of work's connection, as its caller sees the rows."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow: Any = uow

    async def matching(self, entity: CriteriaEntity, criteria: dict[str, Any] | None) -> list[int]:
        table = TABLES[entity]
        viewer: Viewer = self.uow.viewer
        rule = viewer.rule(table)
        condition = compile_criteria(entity, criteria, viewer, self.uow.now)
        stmt = select(table.c.id).where(condition, *([rule] if rule is not None else [])).order_by(table.c.id)
        return [r.id for r in await self.uow.execute(stmt, viewer.params)]

    async def visible(self, entity: CriteriaEntity, ids: list[int]) -> set[int]:
        if not ids:
            return set()
        table = TABLES[entity]
        viewer: Viewer = self.uow.viewer
        rule = viewer.rule(table)
        stmt = select(table.c.id).where(table.c.id.in_(ids), *([rule] if rule is not None else []))
        return {r.id for r in await self.uow.execute(stmt, viewer.params)}

    async def members(self, selection_id: int) -> set[int]:
        m = tables.selection_members
        return {
            r.entity_id for r in await self.uow.execute(select(m.c.entity_id).where(m.c.selection_id == selection_id))
        }

    async def add(self, selection_id: int, ids: list[int]) -> None:
        now = self.uow.now
        await self.uow.execute(
            insert(tables.selection_members),
            [{"selection_id": selection_id, "entity_id": i, "added_at": now} for i in ids],
        )

    async def remove(self, selection_id: int, ids: list[int]) -> None:
        m = tables.selection_members
        await self.uow.execute(delete(m).where(sql_and(m.c.selection_id == selection_id, m.c.entity_id.in_(ids))))


def selection_rows(uow: UnitOfWork) -> SqlSelectionRows:
    return SqlSelectionRows(uow)
