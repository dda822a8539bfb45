"""The criteria language: one tree of conditions over accounts, contacts, opportunities, leads or activities,
used by list filters, selections and status monitor scopes alike (persistence/criteria.py compiles it to SQL).

A tree is plain data (it is stored as JSON in a dynamic selection), one node per dict:
- `{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}`: groups;
- `{"field": F, "in": [...]}` / `{"field": F, "notIn": [...]}`: an enum, category or reference field is
  (is not) one of the values; "not one of" holds for a row without a value;
- `{"field": F, "min": x, "max": y}`: a number or date lies in the inclusive range (either end may be left
  out); a row without a value lies in no range. A time or date end may be relative to the time of the read:
  `{"ago": n, "unit": U}` or `{"ahead": n, "unit": U}` (U: DAYS, WEEKS, MONTHS, YEARS; months and years by
  the calendar), so "in the last 3 months" is `{"min": {"ago": 3, "unit": "MONTHS"}}`;
- `{"field": F, "is": true|false}`: a yes/no field;
- `{"has": R}` / `{"hasNot": R}`: the row has (has no) related row of the relation R that the reader may see;
  with `"where": {...}` (relations to rows of another entity, e.g. ACTIVITIES) only related rows matching
  that entity's criteria count: "not contacted in 3 months" is
  `{"hasNot": "ACTIVITIES", "where": {"field": "OCCURRED_AT", "min": {"ago": 3, "unit": "MONTHS"}}}`;
- `{"indicators": {"anyOf": [...], "allOf": [...], "noneOf": [...]}}`: status monitors whose indicator the
  row carries (any of, all of, none of);
- `{"search": "text"}`: the text search of the list;
- `{"custom": KEY, …}`: a custom field (domain/custom_fields.py) of accounts, contacts, opportunities or
  leads, with one test that says how its value is read: `in` / `notIn` (text: STRING and CHOICE fields),
  `min` / `max` (a NUMBER), `from` / `to` (a DATE, ISO or relative), `is` (a BOOLEAN), or `empty`
  (true: the row holds no value). A value of another type than the test reads matches as no value, so a
  stale or unknown key never breaks a read; `custom_keys` lists the keys a tree names, for the writes that
  check them against the definitions (`check_custom`).
The simple form, a list's `filter` argument, is ANDed with a tree where both are given.
Each leaf is true or false for every row (never unknown), so `not` is always the complement.
References (ids) are primary keys here; the API decodes and encodes global ids."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from domain import enums
from domain.errors import Ref, ValidationError
from domain.stages import StageKind

MAX_DEPTH = 8
MAX_NODES = 100
MAX_VALUES = 500


class CriteriaEntity(str, Enum):
    ACCOUNT = "ACCOUNT"
    CONTACT = "CONTACT"
    OPPORTUNITY = "OPPORTUNITY"
    LEAD = "LEAD"
    ACTIVITY = "ACTIVITY"


@dataclass(frozen=True)
class Field:
    """One field criteria can test: its column, its kind (VALUE: in/notIn; NUMBER, TIME, DATE: ranges;
    FLAG: is), the values it may take (an enum's) and the type of row it refers to (a reference)."""

    column: str
    kind: str
    values: tuple[str, ...] | None = None
    refers_to: str | None = None


def _enum(column: str, enum: type[Enum]) -> Field:
    return Field(column, "VALUE", values=tuple(e.value for e in enum))


def _ref(column: str, target: str) -> Field:
    return Field(column, "VALUE", refers_to=target)


_TEXT = "VALUE"
_CREATED = {"CREATED_AT": Field("created_at", "TIME"), "UPDATED_AT": Field("updated_at", "TIME")}

FIELDS: dict[CriteriaEntity, dict[str, Field]] = {
    CriteriaEntity.ACCOUNT: {
        "KIND": Field("kind", _TEXT),  # a key of the configurable account types
        "COUNTRY": Field("country", _TEXT),
        "INDUSTRY": Field("industry", _TEXT),
        "MANAGER": _ref("manager_id", "User"),
        "CATEGORY_GROUP": _enum("category_group", enums.CategoryGroup),
        "CATEGORY": Field("category", _TEXT),
        "PARENT": _ref("parent_id", "Account"),
        "PARTNER": _ref("partner_id", "Partner"),
        "IS_GLOBAL": Field("is_global", "FLAG"),
        "KEY_ACCOUNT": Field("key_account", "FLAG"),
        "IS_FAVOURITE": Field("is_favourite", "FLAG"),  # the reader's favourites (persistence: derived)
        **_CREATED,
    },
    CriteriaEntity.CONTACT: {
        "ACCOUNT": _ref("account_id", "Account"),
        "PARTNER": _ref("partner_id", "Partner"),
        "CONTACT_TYPE": _ref("contact_type_id", "ContactType"),
        "LEAD_STATUS": _enum("lead_status", enums.LeadStatus),  # the shown status (persistence: derived)
        **_CREATED,
    },
    CriteriaEntity.OPPORTUNITY: {
        "STAGE": Field("stage", "VALUE"),  # a stage's key: stages are rows (domain/stages.py), any key is a value
        "STAGE_KIND": _enum("stage", StageKind),  # its stage's kind (persistence: derived)
        "OWNER": _ref("owner_id", "User"),
        "ACCOUNT": _ref("account_id", "Account"),
        "PARTNER": _ref("partner_id", "Partner"),
        "CAMPAIGN": _ref("campaign_id", "Campaign"),
        "CURRENCY": Field("estimated_revenue_currency", _TEXT),
        "ESTIMATED_REVENUE": Field("estimated_revenue_amount", "NUMBER"),
        "PROBABILITY": Field("probability", "NUMBER"),
        "EXPECTED_CLOSE_DATE": Field("expected_close_date", "DATE"),
        "CLOSED_AT": Field("closed_at", "TIME"),
        "LOCKED": Field("locked", "FLAG"),
        **_CREATED,
    },
    CriteriaEntity.LEAD: {
        "STATUS": _enum("status", enums.LeadStatus),
        "COUNTRY": Field("country", _TEXT),
        "CAMPAIGN": _ref("campaign_id", "Campaign"),
        "ASSIGNED_USER": _ref("assigned_user_id", "User"),
        "ASSIGNED_PARTNER": _ref("assigned_partner_id", "Partner"),
        "PRIORITY": Field("priority", "NUMBER"),
        "COMPANY_SIZE": Field("company_size", "NUMBER"),
        "ARCHIVED": Field("archived", "FLAG"),
        **_CREATED,
    },
    CriteriaEntity.ACTIVITY: {
        "TYPE": Field("type", _TEXT),  # a key of the configurable activity types
        "OWNER": _ref("owner_id", "User"),
        "LEAD": _ref("lead_id", "Lead"),
        "OPPORTUNITY": _ref("opportunity_id", "Opportunity"),
        "ACCOUNT": _ref("account_id", "Account"),
        "CONTACT": _ref("contact_id", "Contact"),
        "PARTNER": _ref("partner_id", "Partner"),
        "DUE_AT": Field("due_at", "TIME"),
        "OCCURRED_AT": Field("occurred_at", "TIME"),
        "DONE": Field("done", "FLAG"),
        **_CREATED,
    },
}

# The relations `has` / `hasNot` can test, per entity (what each means: persistence/criteria.py).
RELATIONS: dict[CriteriaEntity, tuple[str, ...]] = {
    CriteriaEntity.ACCOUNT: (
        "OPPORTUNITIES",
        "OPEN_OPPORTUNITIES",
        "CONTACTS",
        "SUB_ACCOUNTS",
        "PARENT",
        "PARTNER",
        "ACTIVITIES",
        "TASKS",
    ),
    CriteriaEntity.CONTACT: ("ACCOUNT", "PARTNER", "TASKS", "ACTIVITIES"),
    CriteriaEntity.OPPORTUNITY: ("QUOTES", "ACTIVE_QUOTE", "CONTRACTS", "PARTNER", "CAMPAIGN", "ACTIVITIES", "TASKS"),
    CriteriaEntity.LEAD: ("ASSIGNEE", "OPPORTUNITY", "CAMPAIGN", "ACTIVITIES", "TASKS"),
    CriteriaEntity.ACTIVITY: ("LEAD", "OPPORTUNITY", "ACCOUNT", "CONTACT", "PARTNER"),
}
# Relations whose related rows `where` can narrow with the criteria of their entity.
RELATED_ENTITY: dict[str, CriteriaEntity] = {
    "OPPORTUNITIES": CriteriaEntity.OPPORTUNITY,
    "OPEN_OPPORTUNITIES": CriteriaEntity.OPPORTUNITY,
    "CONTACTS": CriteriaEntity.CONTACT,
    "ACTIVITIES": CriteriaEntity.ACTIVITY,
}
RELATIVE_UNITS = ("DAYS", "WEEKS", "MONTHS", "YEARS")
MAX_RELATIVE = 10_000
# Entities that carry status indicators (activities do not).
MONITORED = frozenset({CriteriaEntity.ACCOUNT, CriteriaEntity.CONTACT, CriteriaEntity.OPPORTUNITY, CriteriaEntity.LEAD})
_GROUPS = ("and", "or", "not")
_LEAF_KEYS = {
    "field": {"field", "in", "notIn", "min", "max", "is"},
    "has": {"has", "where"},
    "hasNot": {"hasNot", "where"},
    "indicators": {"indicators"},
    "search": {"search"},
    "custom": {"custom", "in", "notIn", "min", "max", "from", "to", "is", "empty"},
}
CUSTOM_TESTS = {
    frozenset({"in"}): "TEXT",
    frozenset({"notIn"}): "TEXT",
    frozenset({"min"}): "NUMBER",
    frozenset({"max"}): "NUMBER",
    frozenset({"min", "max"}): "NUMBER",
    frozenset({"from"}): "DATE",
    frozenset({"to"}): "DATE",
    frozenset({"from", "to"}): "DATE",
    frozenset({"is"}): "BOOLEAN",
    frozenset({"empty"}): "ANY",
}
# Which custom field types each kind of test reads.
CUSTOM_READS = {
    "TEXT": ("STRING", "CHOICE"),
    "NUMBER": ("NUMBER",),
    "DATE": ("DATE",),
    "BOOLEAN": ("BOOLEAN",),
    "ANY": ("STRING", "CHOICE", "NUMBER", "DATE", "BOOLEAN"),
}
CUSTOM_ENTITIES = frozenset(
    {CriteriaEntity.ACCOUNT, CriteriaEntity.CONTACT, CriteriaEntity.OPPORTUNITY, CriteriaEntity.LEAD}
)


def _number(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(where, f"{value!r} is not a number") from None


def _moment(value: Any, kind: str, where: str) -> str:
    """A range end as stored: ISO text (times with their offset), checked."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(where, "a time needs its UTC offset")
        return value.isoformat()
    if isinstance(value, date) and kind == "DATE":
        return value.isoformat()
    try:
        if kind == "DATE":
            return date.fromisoformat(str(value)).isoformat()
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(where, f"{value!r} is not a {'date' if kind == 'DATE' else 'time'}") from None
    if moment.tzinfo is None:
        raise ValidationError(where, "a time needs its UTC offset")
    return moment.isoformat()


def normalise(entity: CriteriaEntity | str, tree: Any, where: str = "criteria") -> dict[str, Any]:
    """The tree checked against what `entity` can be tested on, as stored (JSON-ready: numbers and times as
    text). A ValidationError names the place of the first mistake (`criteria.and[1].in`)."""
    entity = CriteriaEntity(entity)
    count = [0]
    return _node(entity, tree, where, 1, count)


def _node(entity: CriteriaEntity, node: Any, where: str, depth: int, count: list[int]) -> dict[str, Any]:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise ValidationError(where, f"criteria have at most {MAX_NODES} conditions")
    if depth > MAX_DEPTH:
        raise ValidationError(where, f"criteria nest at most {MAX_DEPTH} deep")
    if not isinstance(node, dict) or not node:
        raise ValidationError(where, "a condition is an object with one kind of test")
    keys = set(node)
    groups = keys & set(_GROUPS)
    if groups:
        if len(keys) != 1:
            raise ValidationError(where, "a group (and, or, not) stands alone in its condition")
        [group] = groups
        if group == "not":
            return {"not": _node(entity, node["not"], f"{where}.not", depth + 1, count)}
        items = node[group]
        if not isinstance(items, list) or not items:
            raise ValidationError(f"{where}.{group}", "lists at least one condition")
        return {group: [_node(entity, n, f"{where}.{group}[{i}]", depth + 1, count) for i, n in enumerate(items)]}
    kinds = [k for k, allowed in _LEAF_KEYS.items() if k in keys]
    if len(kinds) != 1 or not keys <= _LEAF_KEYS[kinds[0]]:
        raise ValidationError(
            where,
            "a condition has exactly one kind of test: field, has, hasNot, indicators, search, custom, or a group",
        )
    kind = kinds[0]
    if kind == "field":
        return _field(entity, node, where)
    if kind == "custom":
        return _custom(entity, node, where)
    if kind in ("has", "hasNot"):
        relation = node[kind]
        if relation not in RELATIONS[entity]:
            raise ValidationError(
                f"{where}.{kind}", f"{entity.value} has no relation {relation!r}; one of {', '.join(RELATIONS[entity])}"
            )
        if "where" not in node:
            return {kind: relation}
        if relation not in RELATED_ENTITY:
            raise ValidationError(
                f"{where}.where", f"{relation} cannot be narrowed; one of {', '.join(RELATED_ENTITY)} can"
            )
        inner = _node(RELATED_ENTITY[relation], node["where"], f"{where}.where", depth + 1, count)
        return {kind: relation, "where": inner}
    if kind == "indicators":
        if entity not in MONITORED:
            raise ValidationError(f"{where}.indicators", f"{entity.value} carries no status indicators")
        lists = node["indicators"]
        if not isinstance(lists, dict) or not set(lists) <= {"anyOf", "allOf", "noneOf"} or not any(lists.values()):
            raise ValidationError(f"{where}.indicators", "names monitors in anyOf, allOf or noneOf")
        return {
            "indicators": {k: sorted({_key(m, f"{where}.indicators.{k}") for m in v}) for k, v in lists.items() if v}
        }
    if not isinstance(node["search"], str):
        raise ValidationError(f"{where}.search", "is text")
    return {"search": node["search"]}


def _key(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(where, f"{value!r} is not a reference")
    return value


def _field(entity: CriteriaEntity, node: dict[str, Any], where: str) -> dict[str, Any]:
    name = node["field"]
    field = FIELDS[entity].get(name)
    if field is None:
        raise ValidationError(
            f"{where}.field", f"{entity.value} has no field {name!r}; one of {', '.join(FIELDS[entity])}"
        )
    tests = set(node) - {"field"}
    allowed = {"VALUE": {"in", "notIn"}, "FLAG": {"is"}}.get(field.kind, {"min", "max"})
    if not tests or not tests <= allowed or tests == {"in", "notIn"}:
        raise ValidationError(where, f"{name} takes {' or '.join(sorted(allowed))}")
    out: dict[str, Any] = {"field": name}
    if field.kind == "VALUE":
        [test] = tests
        values = node[test]
        if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
            raise ValidationError(f"{where}.{test}", f"lists 1 to {MAX_VALUES} values")
        if field.refers_to is not None:
            out[test] = sorted({_key(v, f"{where}.{test}") for v in values})
        else:
            texts = [v.value if isinstance(v, Enum) else v for v in values]
            if not all(isinstance(v, str) for v in texts):
                raise ValidationError(f"{where}.{test}", "lists text values")
            if field.values is not None:
                wrong = [v for v in texts if v not in field.values]
                if wrong:
                    raise ValidationError(
                        f"{where}.{test}", f"{wrong[0]!r} is not a {name}; one of {', '.join(field.values)}"
                    )
            out[test] = sorted(set(texts))
        return out
    if field.kind == "FLAG":
        if not isinstance(node["is"], bool):
            raise ValidationError(f"{where}.is", "is true or false")
        return {"field": name, "is": node["is"]}
    for end in ("min", "max"):
        value = node.get(end)
        if value is None:
            continue
        if isinstance(value, dict) and field.kind != "NUMBER":
            out[end] = _relative(value, f"{where}.{end}")
            continue
        out[end] = (
            str(_number(value, f"{where}.{end}"))
            if field.kind == "NUMBER"
            else _moment(value, field.kind, f"{where}.{end}")
        )
    if len(out) == 1:
        raise ValidationError(where, f"{name} needs min, max or both")
    return out


def _custom(entity: CriteriaEntity, node: dict[str, Any], where: str) -> dict[str, Any]:
    if entity not in CUSTOM_ENTITIES:
        raise ValidationError(f"{where}.custom", f"{entity.value} has no custom fields")
    key = node["custom"]
    if not isinstance(key, str) or not key.strip():
        raise ValidationError(f"{where}.custom", "names a custom field by its key")
    tests = frozenset(set(node) - {"custom"})
    reads = CUSTOM_TESTS.get(tests)
    if reads is None:
        raise ValidationError(
            where, "a custom field takes in or notIn, atLeast / atMost, fromDate / toDate (or relative), is, or isEmpty"
        )
    out: dict[str, Any] = {"custom": key}
    if reads == "TEXT":
        [test] = tests
        values = node[test]
        if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
            raise ValidationError(f"{where}.{test}", f"lists 1 to {MAX_VALUES} values")
        if not all(isinstance(v, str) for v in values):
            raise ValidationError(f"{where}.{test}", "lists text values")
        out[test] = sorted(set(values))
    elif reads in ("BOOLEAN", "ANY"):
        [test] = tests
        if not isinstance(node[test], bool):
            raise ValidationError(f"{where}.{test}", "is true or false")
        out[test] = node[test]
    else:
        for end in sorted(tests):
            value = node[end]
            if reads == "NUMBER":
                out[end] = str(_number(value, f"{where}.{end}"))
            elif isinstance(value, dict):
                out[end] = _relative(value, f"{where}.{end}")
            else:
                out[end] = _moment(value, "DATE", f"{where}.{end}")
    return out


def custom_keys(tree: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The custom fields a normalised tree tests, as (key, what the test reads: TEXT, NUMBER, DATE, BOOLEAN,
    ANY), outside `where` (which tests another entity) — see `custom_keys_by_entity`."""
    return [(k, r) for e, k, r in _custom_walk(tree or {}, None) if e is None]


def custom_keys_by_entity(entity: CriteriaEntity | str, tree: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """Every custom field a normalised tree tests, as (entity, key, what the test reads), `where` included."""
    return [(e or CriteriaEntity(entity).value, k, r) for e, k, r in _custom_walk(tree or {}, None)]


def _custom_walk(node: dict[str, Any], entity: str | None) -> Any:
    for group in ("and", "or"):
        for item in node.get(group, ()):
            yield from _custom_walk(item, entity)
    if "not" in node:
        yield from _custom_walk(node["not"], entity)
    if "where" in node:
        relation = node.get("has") or node.get("hasNot")
        yield from _custom_walk(node["where"], RELATED_ENTITY[relation].value)
    if "custom" in node:
        yield (entity, node["custom"], CUSTOM_TESTS[frozenset(set(node) - {"custom"})])


def check_custom(entity: CriteriaEntity | str, tree: dict[str, Any] | None, types: Any) -> None:
    """A stored tree's custom field tests against the definitions (`types`: entity → {key: type}): each key is
    a field of its entity and the test reads its type. Lists do not call this (an unknown key matches as no
    value there); writes that keep criteria do."""
    for place, key, reads in custom_keys_by_entity(entity, tree):
        known = types.get(place, {})
        if key not in known:
            raise ValidationError(
                "criteria", f"{place} has no custom field {key!r}; one of {', '.join(sorted(known)) or 'none'}"
            )
        if known[key] not in CUSTOM_READS[reads]:
            raise ValidationError("criteria", f"{key} is a {known[key]} field; that test reads {reads.lower()}")


def _relative(value: dict[str, Any], where: str) -> dict[str, Any]:
    """A relative range end, checked: `{"ago": n, "unit": U}` or `{"ahead": n, "unit": U}`."""
    directions = [k for k in ("ago", "ahead") if k in value]
    if len(directions) != 1 or set(value) != {directions[0], "unit"}:
        raise ValidationError(where, "a relative time is {ago: n, unit} or {ahead: n, unit}")
    [direction] = directions
    amount = value[direction]
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_RELATIVE:
        raise ValidationError(f"{where}.{direction}", f"is a whole number from 0 to {MAX_RELATIVE}")
    if value["unit"] not in RELATIVE_UNITS:
        raise ValidationError(f"{where}.unit", f"one of {', '.join(RELATIVE_UNITS)}")
    return {direction: amount, "unit": value["unit"]}


def resolve_relative(end: dict[str, Any], now: datetime) -> datetime:
    """The moment a relative range end stands for at `now` (months and years by the calendar: a day past the
    month's end is its last day)."""
    sign = -1 if "ago" in end else 1
    amount = sign * end.get("ago", end.get("ahead", 0))
    unit = end["unit"]
    if unit in ("DAYS", "WEEKS"):
        return now + timedelta(days=amount * (7 if unit == "WEEKS" else 1))
    months = amount * (12 if unit == "YEARS" else 1)
    index = now.year * 12 + now.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return now.replace(year=year, month=month + 1, day=min(now.day, last))


def relative(tree: dict[str, Any] | None) -> bool:
    """Whether a normalised tree has a range end relative to the time of the read (its answer moves with
    time alone)."""
    if not tree:
        return False
    if any(relative(n) for n in tree.get("and", []) + tree.get("or", [])):
        return True
    if "not" in tree:
        return relative(tree["not"])
    if "where" in tree:
        return relative(tree["where"])
    return any(isinstance(tree.get(end), dict) for end in ("min", "max", "from", "to"))


def references(tree: dict[str, Any]) -> list[tuple[str, int]]:
    """The rows a normalised tree names, as (type, key): what the API encodes as global ids."""
    return list(_walk_refs(tree, None))


def _walk_refs(node: dict[str, Any], entity: CriteriaEntity | None) -> Any:
    for group in ("and", "or"):
        for item in node.get(group, ()):
            yield from _walk_refs(item, entity)
    if "not" in node:
        yield from _walk_refs(node["not"], entity)
    if "where" in node:
        yield from _walk_refs(node["where"], entity)
    for ids in node.get("indicators", {}).values():
        for i in ids:
            yield ("StatusMonitor", i)


def with_refs(entity: CriteriaEntity | str, tree: Any) -> Any:
    """A normalised tree with every row it names as a `Ref` (history keeps rows as references, shown to each
    reader by its rules)."""
    if not isinstance(tree, dict):
        return tree
    entity = CriteriaEntity(entity)
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if key in ("and", "or"):
            out[key] = [with_refs(entity, n) for n in value]
        elif key == "not":
            out[key] = with_refs(entity, value)
        elif key == "where":
            out[key] = with_refs(RELATED_ENTITY[tree.get("has") or tree["hasNot"]], value)
        elif key == "indicators":
            out[key] = {k: [Ref("StatusMonitor", i) for i in ids] for k, ids in value.items()}
        elif key in ("in", "notIn") and "field" in tree:
            field = FIELDS[entity].get(tree["field"])
            target = field.refers_to if field is not None else None
            out[key] = [Ref(target, i) if target and isinstance(i, int) else i for i in value]
        else:
            out[key] = value
    return out


def monitors_named(tree: dict[str, Any] | None) -> set[int]:
    """The status monitors a tree's `indicators` conditions name."""
    return {i for kind, i in references(tree or {}) if kind == "StatusMonitor"}
