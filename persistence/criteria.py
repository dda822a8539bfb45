"""The criteria language (domain/criteria.py) compiled to one SQL condition on the entity's table, as a
viewer sees the rows it tests: a reference to a hidden row matches as a missing one would, a relation
counts only the related rows the viewer may see. The list, count or membership read that uses it adds the
table's own visibility rule to the same statement, so nothing is ever filtered in Python."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from math import ceil, floor
from typing import Any

from sqlalchemy import ColumnElement, Integer, Table, and_, exists, false, not_, or_, select, true

from domain.criteria import FIELDS, RELATED_ENTITY, CriteriaEntity, resolve_relative
from domain.errors import ValidationError
from persistence import custom_fields, filters, stages, tables
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


def _children(child: Table, fk: str, parent: Table, *fixed: ColumnElement) -> Callable[..., ColumnElement]:
    """The parent has a child the viewer may see (and `where` takes): a relation `where` can narrow."""

    def clause(viewer: Viewer, where: ColumnElement | None = None) -> ColumnElement:
        rule = viewer.rule(child)
        extra = [x for x in (rule, where) if x is not None]
        return exists(select(child.c.id).where(child.c[fk] == parent.c.id, *fixed, *extra))

    return clause


def _timeline(viewer: Viewer, where: ColumnElement | None = None) -> ColumnElement:
    """The account has an activity on its timeline the viewer may see: its own, one of its opportunities' or
    one of its contacts' (`persistence.filters.ACCOUNT_TIMELINE`). Joined through aliases, so the activities'
    visibility rule (subqueries on opportunities and contacts) stays apart from the join."""
    deal, person = o.alias("timeline_deal"), c.alias("timeline_person")
    rule = viewer.rule(act)
    extra = [x for x in (rule, where) if x is not None]
    return exists(
        select(act.c.id)
        .select_from(
            act.outerjoin(deal, deal.c.id == act.c.opportunity_id).outerjoin(person, person.c.id == act.c.contact_id)
        )
        .where(or_(act.c.account_id == a.c.id, deal.c.account_id == a.c.id, person.c.account_id == a.c.id), *extra)
    )


RELATIONS: dict[CriteriaEntity, Mapping[str, Relation]] = {
    CriteriaEntity.ACCOUNT: {
        **filters.ACCOUNTS.has,
        "opportunities": _children(o, "account_id", a),
        "open_opportunities": _children(o, "account_id", a, filters.open_stage(o.c.stage)),
        "contacts": _children(c, "account_id", a),
        "activities": _timeline,
        "tasks": filters._exists(t, "account_id", a),
    },
    CriteriaEntity.CONTACT: {
        "account": filters._refers(c.c.account_id),
        "partner": filters._refers(c.c.partner_id),
        "tasks": filters._exists(t, "contact_id", c),
        "activities": _children(act, "contact_id", c),
    },
    CriteriaEntity.OPPORTUNITY: {
        **filters.OPPORTUNITIES.has,
        "campaign": filters._refers(o.c.campaign_id),
        "activities": _children(act, "opportunity_id", o),
        "tasks": filters._exists(t, "opportunity_id", o),
    },
    CriteriaEntity.LEAD: {
        **filters.LEADS.has,
        "campaign": filters._refers(lead.c.campaign_id),
        "activities": _children(act, "lead_id", lead),
        "tasks": filters._exists(t, "lead_id", lead),
    },
    CriteriaEntity.ACTIVITY: {
        "lead": filters._refers(act.c.lead_id),
        "opportunity": filters._refers(act.c.opportunity_id),
        "account": filters._refers(act.c.account_id),
        "contact": filters._refers(act.c.contact_id),
        "partner": filters._refers(act.c.partner_id),
    },
}


def compile_criteria(
    entity: CriteriaEntity | str, tree: Mapping[str, Any] | None, viewer: Viewer, now: datetime | None = None
) -> ColumnElement:
    """One condition on the entity's table for a normalised tree (`domain.criteria.normalise`), as
    `viewer` sees the rows it tests; true for no tree. Range ends relative to the time of the read are taken
    at `now` (default: the viewer's clock, else the system's)."""
    entity = CriteriaEntity(entity)
    if not tree:
        return true()
    return _node(entity, tree, viewer, now or viewer.now or datetime.now(UTC))


def _node(entity: CriteriaEntity, node: Mapping[str, Any], viewer: Viewer, now: datetime) -> ColumnElement:
    if "and" in node:
        return and_(*(_node(entity, n, viewer, now) for n in node["and"]))
    if "or" in node:
        return or_(*(_node(entity, n, viewer, now) for n in node["or"]))
    if "not" in node:
        return not_(_node(entity, node["not"], viewer, now))
    if "field" in node:
        return _field(entity, node, viewer, now)
    if "has" in node or "hasNot" in node:
        relation = node.get("has") or node["hasNot"]
        build = RELATIONS[entity][relation.lower()]
        if "where" in node:
            inner = _node(RELATED_ENTITY[relation], node["where"], viewer, now)
            found = build(viewer, inner)  # type: ignore[call-arg]
        else:
            found = build(viewer)
        return found if "has" in node else not_(found)
    if "indicators" in node:
        return _indicators(entity, node["indicators"])
    if "search" in node:
        return _search(entity, node["search"])
    if "custom" in node:
        return custom_fields.condition(entity, node, now)
    raise ValueError(f"not a normalised condition: {node!r}")


def _field(entity: CriteriaEntity, node: Mapping[str, Any], viewer: Viewer, now: datetime) -> ColumnElement:
    field = FIELDS[entity][node["field"]]
    derived = DERIVED.get((entity, node["field"]))
    if derived is not None:
        return derived(node)
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
        elif isinstance(value, Mapping):
            moment = resolve_relative(value, now)
            value = moment.date() if field.kind == "DATE" else moment
        elif field.kind == "DATE":
            value = date.fromisoformat(value)
        else:
            value = datetime.fromisoformat(value)
        parts.append(compare(value))
    return and_(*parts)


def _shown_lead_status(node: Mapping[str, Any]) -> ColumnElement:
    """A contact's lead status as shown (`Contact.leadStatus`): a hidden stored value is no value, so `in`
    never matches it and `notIn` always does."""
    matches = filters.shown_lead_status_in(node.get("in", node.get("notIn")))
    return matches if "in" in node else not_(matches)


def _stage_kind(node: Mapping[str, Any]) -> ColumnElement:
    """An opportunity's stage is (is not) of these kinds, asked of the stage table in the same statement."""
    matches = tables.opportunities.c.stage.in_(stages.keys_of(*node.get("in", node.get("notIn"))))
    return matches if "in" in node else not_(matches)


# Fields that are no column of the entity's table, each compiled from its node.
DERIVED: dict[tuple[CriteriaEntity, str], Callable[[Mapping[str, Any]], ColumnElement]] = {
    (CriteriaEntity.CONTACT, "LEAD_STATUS"): _shown_lead_status,
    (CriteriaEntity.ACCOUNT, "IS_FAVOURITE"): lambda node: filters._favourite(node["is"]),
    (CriteriaEntity.OPPORTUNITY, "STAGE_KIND"): _stage_kind,
}


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
