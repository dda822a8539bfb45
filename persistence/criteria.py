"""The criteria language (domain/criteria.py) compiled to one SQL condition on the entity's table, as a
viewer sees the rows it tests: a reference to a hidden row matches as a missing one would, a relation
counts only the related rows the viewer may see. The list, count or membership read that uses it adds the
table's own visibility rule to the same statement, so nothing is ever filtered in Python."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from math import ceil, floor
from typing import Any

from sqlalchemy import ColumnElement, Integer, Table, and_, exists, false, not_, or_, select, true

from domain.criteria import FIELDS, CriteriaEntity
from domain.errors import ValidationError
from persistence import filters, tables
from persistence.visibility import Viewer

SPECS: dict[CriteriaEntity, filters.FilterSpec] = {
    CriteriaEntity.ACCOUNT: filters.ACCOUNTS,
    CriteriaEntity.CONTACT: filters.CONTACTS,
    CriteriaEntity.OPPORTUNITY: filters.OPPORTUNITIES,
    CriteriaEntity.LEAD: filters.LEADS,
    CriteriaEntity.ACTIVITY: filters.SALES_ACTIVITIES,
}
TABLES: dict[CriteriaEntity, Table] = {entity: spec.table for entity, spec in SPECS.items()}
ENTITY_OF_TABLE: dict[str, CriteriaEntity] = {table.name: entity for entity, table in TABLES.items()}

Relation = Callable[[Viewer], ColumnElement]
a, c, o, lead, act, t = (
    tables.accounts,
    tables.contacts,
    tables.opportunities,
    tables.leads,
    tables.sales_activities,
    tables.tasks,
)


def _open_opportunities(viewer: Viewer) -> ColumnElement:
    rule = viewer.rule(o)
    return exists(
        select(o.c.id).where(
            o.c.account_id == a.c.id, o.c.stage.in_(filters.OPEN_STAGES), *([rule] if rule is not None else [])
        )
    )


RELATIONS: dict[CriteriaEntity, Mapping[str, Relation]] = {
    CriteriaEntity.ACCOUNT: {
        **filters.ACCOUNTS.has,
        "open_opportunities": _open_opportunities,
        "activities": filters._exists(act, "account_id", a),
        "tasks": filters._exists(t, "account_id", a),
    },
    CriteriaEntity.CONTACT: {
        "account": filters._refers(c.c.account_id),
        "partner": filters._refers(c.c.partner_id),
        "tasks": filters._exists(t, "contact_id", c),
    },
    CriteriaEntity.OPPORTUNITY: {
        **filters.OPPORTUNITIES.has,
        "campaign": filters._refers(o.c.campaign_id),
        "activities": filters._exists(act, "opportunity_id", o),
        "tasks": filters._exists(t, "opportunity_id", o),
    },
    CriteriaEntity.LEAD: {
        **filters.LEADS.has,
        "campaign": filters._refers(lead.c.campaign_id),
        "activities": filters._exists(act, "lead_id", lead),
        "tasks": filters._exists(t, "lead_id", lead),
    },
    CriteriaEntity.ACTIVITY: {
        "lead": filters._refers(act.c.lead_id),
        "opportunity": filters._refers(act.c.opportunity_id),
        "account": filters._refers(act.c.account_id),
        "partner": filters._refers(act.c.partner_id),
    },
}


def compile_criteria(entity: CriteriaEntity | str, tree: Mapping[str, Any] | None, viewer: Viewer) -> ColumnElement:
    """One condition on the entity's table for a normalised tree (`domain.criteria.normalise`), as
    `viewer` sees the rows it tests; true for no tree."""
    entity = CriteriaEntity(entity)
    if not tree:
        return true()
    return _node(entity, tree, viewer)


def _node(entity: CriteriaEntity, node: Mapping[str, Any], viewer: Viewer) -> ColumnElement:
    if "and" in node:
        return and_(*(_node(entity, n, viewer) for n in node["and"]))
    if "or" in node:
        return or_(*(_node(entity, n, viewer) for n in node["or"]))
    if "not" in node:
        return not_(_node(entity, node["not"], viewer))
    if "field" in node:
        return _field(entity, node, viewer)
    if "has" in node or "hasNot" in node:
        found = RELATIONS[entity][(node.get("has") or node["hasNot"]).lower()](viewer)
        return found if "has" in node else not_(found)
    if "indicators" in node:
        return _indicators(entity, node["indicators"])
    if "search" in node:
        return _search(entity, node["search"])
    raise ValueError(f"not a normalised condition: {node!r}")


def _field(entity: CriteriaEntity, node: Mapping[str, Any], viewer: Viewer) -> ColumnElement:
    field = FIELDS[entity][node["field"]]
    column = TABLES[entity].c[field.column]
    if field.kind == "FLAG":
        return column == bool(node["is"])
    if field.kind == "VALUE":
        values = node.get("in", node.get("notIn"))
        matches = and_(column.is_not(None), column.in_(list(values)))
        visible = filters._visible_target(column, viewer)
        if visible is not None:
            matches = and_(matches, visible)
        return matches if "in" in node else not_(matches)
    parts = [column.is_not(None)]
    integer = isinstance(column.type, Integer)
    for end, compare in (("min", column.__ge__), ("max", column.__le__)):
        if node.get(end) is None:
            continue
        value: Any = node[end]
        if field.kind == "NUMBER":
            number = Decimal(value)
            value = (ceil(number) if end == "min" else floor(number)) if integer else number
        elif field.kind == "DATE":
            value = date.fromisoformat(value)
        else:
            value = datetime.fromisoformat(value)
        parts.append(compare(value))
    return and_(*parts)


def _indicators(entity: CriteriaEntity, lists: Mapping[str, list[int]]) -> ColumnElement:
    s = tables.status_indicators
    table = TABLES[entity]

    def carries(monitors: list[int]) -> ColumnElement:
        return exists(
            select(s.c.id).where(
                s.c.monitor_id.in_(monitors), s.c.entity_type == entity.value, s.c.entity_id == table.c.id
            )
        )

    parts = []
    if lists.get("anyOf"):
        parts.append(carries(lists["anyOf"]))
    parts += [carries([m]) for m in lists.get("allOf", ())]
    if lists.get("noneOf"):
        parts.append(not_(carries(lists["noneOf"])))
    return and_(*parts) if parts else true()


def _search(entity: CriteriaEntity, term: str) -> ColumnElement:
    term = term.strip()
    if len(term) > filters.MAX_SEARCH_LENGTH:
        raise ValidationError("search", f"a search term has at most {filters.MAX_SEARCH_LENGTH} characters")
    if not term:
        return true()
    spec = SPECS[entity]
    columns = [spec.table.c[name] for name in spec.search]
    return or_(false(), *(and_(col.is_not(None), col.icontains(term, autoescape=True)) for col in columns))
