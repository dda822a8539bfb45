"""What list queries can filter and order on, per table, as SQL conditions built from plain criteria."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, exists, or_, select

from domain.errors import ValidationError
from persistence import tables as t
from persistence.visibility import Viewer

EVERYTHING = Viewer.everything()
# A search term is a few words typed by a person: longer ones are mistakes or attacks (SQLite refuses a
# LIKE pattern over 50,000 bytes as "too complex"; PostgreSQL scans with it whatever its length).
MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True)
class FilterSpec:
    table: Table
    search: tuple[str, ...] = ()
    equals: tuple[str, ...] = ()  # criteria key `x` (one value) or `x_in` (several)
    ranges: tuple[str, ...] = ()  # criteria keys `x_min`, `x_max` (inclusive)
    flags: tuple[str, ...] = ()  # booleans compared as they are
    # `has_x`: True / False; each takes the viewer, so a row's hidden children do not count
    has: Mapping[str, Callable[[Viewer], ColumnElement]] = field(default_factory=dict)
    extra: Mapping[str, Callable[[Any], ColumnElement]] = field(default_factory=dict)
    order: Mapping[str, str] = field(default_factory=dict)  # public order field -> column


def _exists(child: Table, fk: str, parent: Table) -> Callable[[Viewer], ColumnElement]:
    """The parent has a child the viewer may see (the rule's subqueries stand alone; only `fk` correlates)."""

    def clause(viewer: Viewer) -> ColumnElement:
        rule = viewer.rule(child)
        return exists(select(child.c.id).where(child.c[fk] == parent.c.id, *([rule] if rule is not None else [])))

    return clause


def conditions(
    spec: FilterSpec, criteria: Mapping[str, Any] | None, viewer: Viewer = EVERYTHING
) -> list[ColumnElement]:
    """SQL conditions for the criteria, as `viewer` sees the rows they test; keys with value None are ignored."""
    result: list[ColumnElement] = []
    table = spec.table
    for key, value in (criteria or {}).items():
        if value is None:
            continue
        if key == "search":
            term = value.strip()
            if len(term) > MAX_SEARCH_LENGTH:
                raise ValidationError("search", f"a search term has at most {MAX_SEARCH_LENGTH} characters")
            if term:
                result.append(or_(*(table.c[c].icontains(term, autoescape=True) for c in spec.search)))
        elif key in spec.equals:
            result.append(table.c[key] == value)
        elif key.endswith("_in") and key[:-3] in spec.equals:
            result.append(table.c[key[:-3]].in_(list(value)))
        elif key.endswith("_min") and key[:-4] in spec.ranges:
            result.append(table.c[key[:-4]] >= value)
        elif key.endswith("_max") and key[:-4] in spec.ranges:
            result.append(table.c[key[:-4]] <= value)
        elif key in spec.flags:
            result.append(table.c[key] == bool(value))
        elif key.startswith("has_") and key[4:] in spec.has:
            clause = spec.has[key[4:]](viewer)
            result.append(clause if value else ~clause)
        elif key in spec.extra:
            result.append(spec.extra[key](value))
        else:
            raise KeyError(f"{table.name} cannot be filtered by {key!r}")
    return result


def ordering(spec: FilterSpec, order_field: str, descending: bool) -> list[ColumnElement]:
    column = spec.table.c[spec.order[order_field]]
    return [column.desc() if descending else column.asc()]


def _indicator(entity_type: str, table: Table, present: bool) -> Callable[[Any], ColumnElement]:
    """`has_indicator` / `lacks_indicator`: the row carries (or does not carry) the monitor's indicator."""

    def clause(monitor_id: Any) -> ColumnElement:
        s = t.status_indicators
        found = exists(
            select(s.c.id).where(
                s.c.monitor_id == monitor_id, s.c.entity_type == entity_type, s.c.entity_id == table.c.id
            )
        )
        return found if present else ~found

    return clause


def _indicators(entity_type: str, table: Table) -> dict[str, Callable[[Any], ColumnElement]]:
    return {
        "has_indicator": _indicator(entity_type, table, True),
        "lacks_indicator": _indicator(entity_type, table, False),
    }


def _has_sub_accounts(viewer: Viewer) -> ColumnElement:
    sub = t.accounts.alias("sub")
    rule = viewer.rule(t.accounts)
    visible = [sub.c.id.in_(select(t.accounts.c.id).where(rule).correlate(None))] if rule is not None else []
    return exists(select(sub.c.id).where(sub.c.parent_id == t.accounts.c.id, *visible))


_COMMON_ORDER = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at"}

ACCOUNTS = FilterSpec(
    t.accounts,
    search=("name", "organization", "email", "city"),
    equals=("kind", "country", "industry", "manager_id", "category_group", "category", "parent_id", "partner_id"),
    ranges=("created_at",),
    flags=("is_global", "key_account"),
    has={
        "opportunities": _exists(t.opportunities, "account_id", t.accounts),
        "contacts": _exists(t.contacts, "account_id", t.accounts),
        "sub_accounts": _has_sub_accounts,
        "parent": lambda viewer: t.accounts.c.parent_id.is_not(None),
        "partner": lambda viewer: t.accounts.c.partner_id.is_not(None),
    },
    extra=_indicators("ACCOUNT", t.accounts),
    order={"NAME": "name", "COUNTRY": "country", **_COMMON_ORDER},
)

CONTACTS = FilterSpec(
    t.contacts,
    search=("first_name", "last_name", "email"),
    equals=("account_id", "partner_id", "contact_type_id", "lead_status"),
    ranges=("created_at",),
    extra=_indicators("CONTACT", t.contacts),
    order={"LAST_NAME": "last_name", "FIRST_NAME": "first_name", **_COMMON_ORDER},
)

LEADS = FilterSpec(
    t.leads,
    search=("first_name", "last_name", "company", "email"),
    equals=("status", "country", "campaign_id", "assigned_user_id", "assigned_partner_id"),
    ranges=("created_at", "priority", "company_size"),
    flags=("archived",),
    has={
        "assignee": lambda viewer: or_(
            t.leads.c.assigned_user_id.is_not(None), t.leads.c.assigned_partner_id.is_not(None)
        ),
        "opportunity": lambda viewer: t.leads.c.opportunity_id.is_not(None),
    },
    order={"PRIORITY": "priority", "LAST_NAME": "last_name", "COMPANY": "company", **_COMMON_ORDER},
)

OPEN_STAGES = ("PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION")


def _opportunity_status(value: str) -> ColumnElement:
    stage = t.opportunities.c.stage
    return {"OPEN": stage.in_(OPEN_STAGES), "WON": stage == "WON", "LOST": stage == "LOST"}[value]


OPPORTUNITIES = FilterSpec(
    t.opportunities,
    search=("name",),
    equals=("stage", "owner_id", "account_id", "partner_id", "campaign_id", "estimated_revenue_currency"),
    ranges=("estimated_revenue_amount", "expected_close_date", "closed_at", "created_at", "probability"),
    flags=("locked",),
    has={
        "quotes": _exists(t.quotes, "opportunity_id", t.opportunities),
        "active_quote": lambda viewer: exists(
            select(t.quotes.c.id).where(
                t.quotes.c.opportunity_id == t.opportunities.c.id, t.quotes.c.is_active.is_(True)
            )
        ),
        "contracts": _exists(t.contracts, "opportunity_id", t.opportunities),
        "partner": lambda viewer: t.opportunities.c.partner_id.is_not(None),
    },
    extra={"status": _opportunity_status, **_indicators("OPPORTUNITY", t.opportunities)},
    order={
        "NAME": "name",
        "ESTIMATED_REVENUE": "estimated_revenue_amount",
        "EXPECTED_CLOSE_DATE": "expected_close_date",
        "CLOSED_AT": "closed_at",
        "STAGE_CHANGED_AT": "stage_changed_at",
        **_COMMON_ORDER,
    },
)

CONTRACTS = FilterSpec(
    t.contracts,
    search=("name",),
    equals=("kind", "status", "account_id", "opportunity_id", "product_id", "category", "value_currency"),
    ranges=("starts_on", "ends_on", "value_amount", "created_at"),
    order={"STARTS_ON": "starts_on", "ENDS_ON": "ends_on", "VALUE": "value_amount", "NAME": "name", **_COMMON_ORDER},
)

PARTNERS = FilterSpec(
    t.partners,
    search=("name", "email"),
    equals=("country",),
    has={"accounts": _exists(t.accounts, "partner_id", t.partners)},
    order={"NAME": "name", **_COMMON_ORDER},
)

CAMPAIGNS = FilterSpec(
    t.campaigns,
    search=("name",),
    equals=("status",),
    ranges=("starts_on", "ends_on"),
    has={"leads": _exists(t.leads, "campaign_id", t.campaigns)},
    order={"NAME": "name", "STARTS_ON": "starts_on", **_COMMON_ORDER},
)

PRICE_BOOKS = FilterSpec(
    t.price_books,
    search=("name", "description"),
    flags=("active", "is_update"),
    order={"NAME": "name", **_COMMON_ORDER},
)

PRODUCTS = FilterSpec(
    t.products,
    search=("name", "code", "description"),
    equals=("category", "code"),
    flags=("active",),
    order={"NAME": "name", "CODE": "code", **_COMMON_ORDER},
)

SALES_ACTIVITIES = FilterSpec(
    t.sales_activities,
    search=("subject", "notes"),
    equals=("type", "owner_id", "lead_id", "opportunity_id", "account_id", "partner_id"),
    ranges=("due_at", "occurred_at", "created_at"),
    flags=("done",),
    order={"DUE_AT": "due_at", "OCCURRED_AT": "occurred_at", "SUBJECT": "subject", **_COMMON_ORDER},
)

USERS = FilterSpec(
    t.users,
    search=("name", "email"),
    equals=("role", "team_id"),
    order={"NAME": "name", "EMAIL": "email", **_COMMON_ORDER},
)

HISTORY = FilterSpec(
    t.audit_entries,
    equals=("field", "actor_user_id"),
    ranges=("at",),
    order={"AT": "at"},
)

STATUS_MONITORS = FilterSpec(
    t.status_monitors,
    search=("name",),
    equals=("entity_type",),
    flags=("active",),
    order={"NAME": "name", "PRIORITY": "priority", "ENTITY_TYPE": "entity_type", **_COMMON_ORDER},
)
