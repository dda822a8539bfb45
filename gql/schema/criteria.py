"""The criteria language as GraphQL: the recursive `Criteria` input (lists, selections, monitor scopes) and
its conversion to the domain's plain tree (global ids decoded) and back (global ids encoded)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from domain import criteria as dc
from domain.errors import ValidationError
from gql import ids
from gql.errors import ClientError
from gql.schema.base import described_enum

_FIELD_TEXT = {
    "KIND": "Accounts: person, organization or login.",
    "COUNTRY": "Accounts, leads: country code (ISO 3166 alpha-2).",
    "INDUSTRY": "Accounts: industry.",
    "MANAGER": "Accounts: the managing user (global ids).",
    "CATEGORY_GROUP": "Accounts: PROSPECT, CUSTOMER or OTHER.",
    "CATEGORY": "Accounts: category (e.g. A, B, C).",
    "PARENT": "Accounts: the parent account (global ids).",
    "PARTNER": "Accounts, contacts, opportunities, activities: the partner (global ids).",
    "IS_GLOBAL": "Accounts: global account (`is`).",
    "IS_FAVOURITE": "Accounts: one of the reader's favourites (`is`; a partner has none).",
    "KEY_ACCOUNT": "Accounts: key account (`is`).",
    "CREATED_AT": "Every entity: when it was created (`from` / `to`).",
    "UPDATED_AT": "Every entity: when it last changed (`from` / `to`).",
    "ACCOUNT": "Contacts, opportunities, activities: the account (global ids).",
    "CONTACT": "Activities: the contact (person) it is attached to (global ids).",
    "CONTACT_TYPE": "Contacts: the contact type (global ids).",
    "LEAD_STATUS": "Contacts: the lead status as shown (OPEN, CONTACTING, QUALIFIED, DISQUALIFIED, REWORK); a "
    "contact that shows none (not a prospect in a category with lead status switched on) is in no `in` list and "
    "in every `notIn` list.",
    "STAGE": "Opportunities: stage, by key (`settings { stages }`).",
    "STAGE_KIND": "Opportunities: the kind of its stage (OPEN, WON, LOST): follows the stages an admin adds, so "
    "`in: [WON]` is every WON-kind stage.",
    "OWNER": "Opportunities, activities: the owning user (global ids).",
    "CAMPAIGN": "Opportunities, leads: the campaign (global ids).",
    "CURRENCY": "Opportunities: currency of the estimated revenue.",
    "ESTIMATED_REVENUE": "Opportunities: estimated revenue amount, in its own currency (`atLeast` / `atMost`).",
    "PROBABILITY": "Opportunities: probability in percent (`atLeast` / `atMost`).",
    "EXPECTED_CLOSE_DATE": "Opportunities: expected close date (`fromDate` / `toDate`).",
    "CLOSED_AT": "Opportunities: when won or lost (`from` / `to`).",
    "LOCKED": "Opportunities: locked after the sale (`is`).",
    "STATUS": "Leads: status.",
    "ASSIGNED_USER": "Leads: the assigned user (global ids).",
    "ASSIGNED_PARTNER": "Leads: the assigned partner (global ids).",
    "PRIORITY": "Leads: priority (`atLeast` / `atMost`).",
    "COMPANY_SIZE": "Leads: company size (`atLeast` / `atMost`).",
    "ARCHIVED": "Leads: archived (`is`).",
    "TYPE": "Activities: activity type.",
    "LEAD": "Activities: the lead (global ids).",
    "OPPORTUNITY": "Activities: the opportunity (global ids).",
    "DUE_AT": "Activities: due time (`from` / `to`).",
    "OCCURRED_AT": "Activities: when it happened (`from` / `to`).",
    "DONE": "Activities: done (`is`).",
}
_RELATION_TEXT = {
    "OPPORTUNITIES": "Accounts: opportunities (narrow with `where`: opportunity criteria).",
    "OPEN_OPPORTUNITIES": "Accounts: opportunities in an open stage (narrow with `where`).",
    "CONTACTS": "Accounts: contacts (narrow with `where`: contact criteria).",
    "SUB_ACCOUNTS": "Accounts: sub-accounts.",
    "PARENT": "Accounts: a parent account.",
    "PARTNER": "Accounts, contacts, opportunities, activities: a partner.",
    "ACTIVITIES": "Accounts: activities on its timeline (its own, its opportunities' and its contacts'); contacts, "
    "opportunities, leads: sales activities attached to it. Narrow with `where` (activity criteria).",
    "TASKS": "Accounts, contacts, opportunities, leads: tasks attached to it.",
    "ACCOUNT": "Contacts, activities: an account.",
    "CONTACT": "Activities: a contact.",
    "QUOTES": "Opportunities: quotes.",
    "ACTIVE_QUOTE": "Opportunities: an active quote.",
    "CONTRACTS": "Opportunities: contracts.",
    "CAMPAIGN": "Opportunities, leads: a campaign.",
    "ASSIGNEE": "Leads: an assigned user or partner.",
    "OPPORTUNITY": "Leads, activities: an opportunity.",
    "LEAD": "Activities: a lead.",
}
_names = list(dict.fromkeys(name for fields in dc.FIELDS.values() for name in fields))
CriterionField = described_enum(
    Enum("CriterionFieldName", {n: n for n in _names}),
    "CriterionField",
    "A field criteria can test; which entity has it, and which test it takes, is said per value. "
    "Enum, category and reference fields take `in` / `notIn`; numbers `atLeast` / `atMost`; times `from` / `to`; "
    "dates `fromDate` / `toDate`; yes/no fields `is`.",
    _FIELD_TEXT,
)
_relations = list(dict.fromkeys(name for names in dc.RELATIONS.values() for name in names))
CriterionRelation = described_enum(
    Enum("CriterionRelationName", {n: n for n in _relations}),
    "CriterionRelation",
    "Related rows `has` / `hasNot` test (only those the reader may see count); which entity has which relation "
    "is said per value.",
    _RELATION_TEXT,
)


def _f(description: str, name: str | None = None) -> Any:
    return strawberry.field(default=None, description=description, name=name)


RelativeUnit = described_enum(
    Enum("RelativeUnitName", {n: n for n in dc.RELATIVE_UNITS}),
    "RelativeUnit",
    "The unit of a time relative to now.",
    {
        "DAYS": "Days of 24 hours.",
        "WEEKS": "Weeks of 7 days.",
        "MONTHS": "Calendar months (the same day of the month, or its last day).",
        "YEARS": "Calendar years.",
    },
)


@strawberry.input(
    description="A time relative to when the list is read: `ago` (in the past) or `ahead` (in the future), one of "
    "them, in `unit`s. E.g. `{ago: 3, unit: MONTHS}`."
)
class RelativeTime:
    ago: int | None = strawberry.field(default=None, description="This many units before now.")
    ahead: int | None = strawberry.field(default=None, description="This many units after now.")
    unit: RelativeUnit = strawberry.field(description="The unit.")  # type: ignore[valid-type]


@strawberry.input(description="Status monitors whose indicators a row carries (all given lists must hold).")
class IndicatorCriterion:
    any_of: list[strawberry.ID] | None = _f("Carries the indicator of at least one of these monitors.")
    all_of: list[strawberry.ID] | None = _f("Carries the indicators of all these monitors.")
    none_of: list[strawberry.ID] | None = _f("Carries the indicator of none of these monitors.")


@strawberry.input(
    description="A condition of the criteria language: a group (`and`, `or`, `not`) or exactly one test "
    "(`field` with its values or range, `customField` with its values, range, `is` or `isEmpty`, `has` / `hasNot` "
    "with an optional `where`, `indicators` or `search`). "
    "Examples: customers in category A not contacted in 3 months (accounts): `{and: [{field: CATEGORY_GROUP, "
    'in: ["CUSTOMER"]}, {field: CATEGORY, in: ["A"]}, {hasNot: ACTIVITIES, where: {field: OCCURRED_AT, '
    "fromRelative: {ago: 3, unit: MONTHS}}}]}`; contacts whose lead status is one of Open, Working (contacts): "
    '`{field: LEAD_STATUS, in: ["OPEN", "CONTACTING"]}`; accounts whose custom field TIER is GOLD: '
    '`{customField: "TIER", in: ["GOLD"]}`.'
)
class Criteria:
    and_: list[Criteria] | None = _f("All of these hold.", name="and")
    or_: list[Criteria] | None = _f("At least one of these holds.", name="or")
    not_: Criteria | None = _f("This does not hold.", name="not")
    field: CriterionField | None = _f("The field tested by `in`, `notIn`, a range or `is`.")  # type: ignore[valid-type]
    in_: list[str] | None = _f(
        "The field is one of these values (enum values, text, or global ids for a reference field).", name="in"
    )
    not_in: list[str] | None = _f("The field is not one of these values (true where it has no value).")
    at_least: Decimal | None = _f("A number field is at least this.")
    at_most: Decimal | None = _f("A number field is at most this.")
    from_: datetime | None = _f("A time field is at or after this time.", name="from")
    to: datetime | None = _f("A time field is at or before this time.")
    from_date: date | None = _f("A date field is on or after this date.")
    to_date: date | None = _f("A date field is on or before this date.")
    from_relative: RelativeTime | None = _f(
        "A time or date field is at or after this time relative to the read (e.g. `{ago: 3, unit: MONTHS}`)."
    )
    to_relative: RelativeTime | None = _f("A time or date field is at or before this time relative to the read.")
    is_: bool | None = _f("A yes/no field has this value.", name="is")
    has: CriterionRelation | None = _f("Has at least one related row of this relation.")  # type: ignore[valid-type]
    has_not: CriterionRelation | None = _f("Has no related row of this relation.")  # type: ignore[valid-type]
    where: Criteria | None = _f(
        "With `has` / `hasNot`: only related rows matching these criteria (of the related entity) count."
    )
    indicators: IndicatorCriterion | None = _f("Carries (or not) the indicators of status monitors.")
    search: str | None = _f("The list's text search.")
    custom_field: str | None = _f(
        "A custom field (its key; accounts, contacts, opportunities, leads) tested by `in` / `notIn` (STRING, "
        "CHOICE), `atLeast` / `atMost` (NUMBER), `fromDate` / `toDate` or relative (DATE), `is` (BOOLEAN) or "
        "`isEmpty` (any). A value of another type than the test reads counts as no value."
    )
    is_empty: bool | None = _f("With `customField`: true when the row holds no value of it, false when it does.")

    def to_domain(self, where: str) -> dict[str, Any]:
        """As a mutation's input field: the plain tree (the selection's entity type checks it)."""
        return plain_tree(self, where)


def _decode(value: str, expected: str, where: str) -> int:
    try:
        return ids.decode_as(str(value), expected)
    except GraphQLError as error:
        raise ValidationError(where, error.message) from None


# A field name means the same kind of field (and refers to the same type) for every entity that has it.
_BY_NAME: dict[str, dc.Field] = {name: f for fields in dc.FIELDS.values() for name, f in fields.items()}
assert all(
    _BY_NAME[n].kind == f.kind and _BY_NAME[n].refers_to == f.refers_to
    for fs in dc.FIELDS.values()
    for n, f in fs.items()
)


def to_tree(entity: dc.CriteriaEntity | str, node: Criteria, where: str = "criteria") -> dict[str, Any]:
    """The domain's normalised tree of an input (global ids decoded); a ValidationError names the place."""
    return dc.normalise(entity, plain_tree(node, where), where)


def plain_tree(node: Criteria, where: str) -> dict[str, Any]:
    """An input as the domain's tree, global ids decoded, not yet checked against an entity (that is
    `domain.criteria.normalise`, which a selection's entity type runs)."""
    if node.and_ is not None:
        return {"and": [plain_tree(n, f"{where}.and[{i}]") for i, n in enumerate(node.and_)]}
    if node.or_ is not None:
        return {"or": [plain_tree(n, f"{where}.or[{i}]") for i, n in enumerate(node.or_)]}
    if node.not_ is not None:
        return {"not": plain_tree(node.not_, f"{where}.not")}
    if node.custom_field is not None:
        return _custom_tree(node, where)
    if node.is_empty is not None:
        raise ValidationError(f"{where}.isEmpty", "goes with customField")
    out: dict[str, Any] = {}
    if node.field is not None:
        name = node.field.value
        out["field"] = name
        field = _BY_NAME.get(name)
        for key, values in (("in", node.in_), ("notIn", node.not_in)):
            if values is not None:
                if field is not None and field.refers_to is not None:
                    values = [_decode(v, field.refers_to, f"{where}.{key}") for v in values]
                out[key] = values
        for key, value in (
            ("min", node.at_least),
            ("max", node.at_most),
            ("min", node.from_),
            ("max", node.to),
            ("min", node.from_date),
            ("max", node.to_date),
            ("min", _relative_in(node.from_relative)),
            ("max", _relative_in(node.to_relative)),
        ):
            if value is not None:
                if key in out:
                    raise ValidationError(where, f"give one lower and one upper end for {name}")
                out[key] = value
        if field is not None and field.kind in ("NUMBER", "TIME", "DATE"):
            relative = (node.from_relative, node.to_relative)
            expected = {"NUMBER": (node.at_least, node.at_most), "TIME": (node.from_, node.to, *relative)}.get(
                field.kind, (node.from_date, node.to_date, *relative)
            )
            if ("min" in out or "max" in out) and all(v is None for v in expected):
                ends = {
                    "NUMBER": "atLeast / atMost",
                    "TIME": "from / to (or fromRelative / toRelative)",
                    "DATE": "fromDate / toDate (or fromRelative / toRelative)",
                }[field.kind]
                raise ValidationError(where, f"{name} takes {ends}")
        if node.is_ is not None:
            out["is"] = node.is_
    elif any(
        v is not None
        for v in (
            node.in_,
            node.not_in,
            node.at_least,
            node.at_most,
            node.from_,
            node.to,
            node.from_date,
            node.to_date,
            node.from_relative,
            node.to_relative,
            node.is_,
        )
    ):
        raise ValidationError(f"{where}.field", "name the field the values or range are for")
    if node.has is not None:
        out["has"] = node.has.value
    if node.has_not is not None:
        out["hasNot"] = node.has_not.value
    if node.where is not None:
        out["where"] = plain_tree(node.where, f"{where}.where")
    if node.indicators is not None:
        lists = {
            key: [_decode(v, "StatusMonitor", f"{where}.indicators.{key}") for v in values]
            for key, values in (
                ("anyOf", node.indicators.any_of),
                ("allOf", node.indicators.all_of),
                ("noneOf", node.indicators.none_of),
            )
            if values
        }
        out["indicators"] = lists
    if node.search is not None:
        out["search"] = node.search
    return out


def _custom_tree(node: Criteria, where: str) -> dict[str, Any]:
    """A `customField` condition as the domain's `{"custom": key, …}` node."""
    if node.field is not None or any(
        v is not None for v in (node.has, node.has_not, node.where, node.indicators, node.search, node.from_, node.to)
    ):
        raise ValidationError(
            where, "customField takes in, notIn, atLeast, atMost, fromDate, toDate (or relative), is or isEmpty"
        )
    out: dict[str, Any] = {"custom": node.custom_field}
    for key, value in (
        ("in", node.in_),
        ("notIn", node.not_in),
        ("min", node.at_least),
        ("max", node.at_most),
        ("from", node.from_date),
        ("to", node.to_date),
        ("from", _relative_in(node.from_relative)),
        ("to", _relative_in(node.to_relative)),
        ("is", node.is_),
        ("empty", node.is_empty),
    ):
        if value is not None:
            if key in out:
                raise ValidationError(where, f"give one lower and one upper end for {node.custom_field}")
            out[key] = value
    return out


_CUSTOM_OUT = {"in": "in", "notIn": "notIn", "min": "atLeast", "max": "atMost", "is": "is", "empty": "isEmpty"}


def _custom_out(tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"customField": tree["custom"]}
    for key, value in tree.items():
        if key in _CUSTOM_OUT:
            out[_CUSTOM_OUT[key]] = value
        elif key in ("from", "to"):
            relative = isinstance(value, dict)
            out[f"{key}{'Relative' if relative else 'Date'}"] = value
    return out


def _relative_in(value: RelativeTime | None) -> dict[str, Any] | None:
    if value is None:
        return None
    out: dict[str, Any] = {"unit": value.unit.value}
    if value.ago is not None:
        out["ago"] = value.ago
    if value.ahead is not None:
        out["ahead"] = value.ahead
    return out


def list_tree(entity: dc.CriteriaEntity | str, node: Criteria | None) -> dict[str, Any] | None:
    """A list's `criteria` argument as a tree, or a VALIDATION error (nothing read)."""
    if node is None:
        return None
    try:
        return to_tree(entity, node)
    except ValidationError as error:
        raise ClientError(error.message, code="VALIDATION", field=error.field) from None


def tree_out(entity: dc.CriteriaEntity | str, tree: dict[str, Any] | None) -> Any:
    """A stored tree as the API shows it: the input's shape, with global ids."""
    if tree is None:
        return None
    entity = dc.CriteriaEntity(entity)
    if "and" in tree or "or" in tree:
        [group] = [g for g in ("and", "or") if g in tree]
        return {group: [tree_out(entity, n) for n in tree[group]]}
    if "not" in tree:
        return {"not": tree_out(entity, tree["not"])}
    if "custom" in tree:
        return _custom_out(tree)
    out = dict(tree)
    if "where" in tree:
        relation = tree.get("has") or tree["hasNot"]
        out["where"] = tree_out(dc.RELATED_ENTITY[relation], tree["where"])
    if "field" in tree:
        field = dc.FIELDS[entity][tree["field"]]
        for key in ("in", "notIn"):
            if key in tree and field.refers_to is not None:
                out[key] = [ids.encode(field.refers_to, v) for v in tree[key]]
        names = {"NUMBER": ("atLeast", "atMost"), "TIME": ("from", "to"), "DATE": ("fromDate", "toDate")}
        if field.kind in names:
            low, high = names[field.kind]
            out = {"field": tree["field"]}
            for end, name, relative in (("min", low, "fromRelative"), ("max", high, "toRelative")):
                if end in tree:
                    out[relative if isinstance(tree[end], dict) else name] = tree[end]
    if "indicators" in tree:
        out["indicators"] = {k: [ids.encode("StatusMonitor", v) for v in vs] for k, vs in tree["indicators"].items()}
    return out
