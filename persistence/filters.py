"""What list queries can filter and order on, per table, as SQL conditions built from plain criteria."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, and_, case, exists, false, func, or_, select

from domain.errors import ValidationError
from domain.stages import StageKind
from persistence import stages, tables
from persistence.reads import DerivedKey
from persistence.visibility import V_NOW, V_USER, Viewer

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
    # `has_x`: True / False; each takes the viewer, so a row's hidden children (or hidden parent) do not count
    has: Mapping[str, Callable[[Viewer], ColumnElement]] = field(default_factory=dict)
    extra: Mapping[str, Callable[[Any], ColumnElement]] = field(default_factory=dict)
    order: Mapping[str, str | ColumnElement] = field(default_factory=dict)  # public order field -> column or expression
    nulls_last: frozenset[str] = frozenset()  # order fields whose rows without a value come last, either way
    # Criteria that hold together on one related row (e.g. a range on one contract): their keys, and the
    # condition made from the given values (absent keys are None) as the viewer sees the related rows.
    together: Mapping[tuple[str, ...], Callable[[Mapping[str, Any], Viewer], ColumnElement]] = field(
        default_factory=dict
    )


def _exists(child: Table, fk: str, parent: Table) -> Callable[[Viewer], ColumnElement]:
    """The parent has a child the viewer may see (the rule's subqueries stand alone; only `fk` correlates)."""

    def clause(viewer: Viewer) -> ColumnElement:
        rule = viewer.rule(child)
        return exists(select(child.c.id).where(child.c[fk] == parent.c.id, *([rule] if rule is not None else [])))

    return clause


def _visible_target(column: Column, viewer: Viewer) -> ColumnElement | None:
    """That the row `column` refers to is one the viewer may see; None when it sees every row of that
    table (users, the catalog). With it, a filter on a relation answers for a hidden row exactly as
    for a missing one, so a count cannot tell that a hidden partner, account or campaign exists."""
    targets = {fk.column.table for fk in column.foreign_keys}
    if not targets:
        return None
    [target] = targets
    rule = viewer.rule(target)
    if rule is None:
        return None
    # Stand-alone: a filter on accounts.parent_id must not tie the subquery's accounts to the outer row.
    return column.in_(select(target.c.id).where(rule).correlate(None))


def _refers(column: Column) -> Callable[[Viewer], ColumnElement]:
    """`has_x` of a foreign key: it refers to a row the viewer may see (a hidden one counts as none)."""

    def clause(viewer: Viewer) -> ColumnElement:
        visible = _visible_target(column, viewer)
        return column.is_not(None) if visible is None else and_(column.is_not(None), visible)

    return clause


def _equal(column: Column, value: Any, viewer: Viewer, several: bool = False) -> ColumnElement:
    matches = column.in_(list(value)) if several else column == value
    visible = _visible_target(column, viewer)
    return matches if visible is None else and_(matches, visible)


def conditions(
    spec: FilterSpec, criteria: Mapping[str, Any] | None, viewer: Viewer = EVERYTHING
) -> list[ColumnElement]:
    """SQL conditions for the criteria, as `viewer` sees the rows they test; keys with value None are ignored."""
    result: list[ColumnElement] = []
    table = spec.table
    grouped = {key for keys in spec.together for key in keys}
    for keys, clause in spec.together.items():
        values = {key: (criteria or {}).get(key) for key in keys}
        if any(v is not None for v in values.values()):
            result.append(clause(values, viewer))
    for key, value in (criteria or {}).items():
        if value is None or key in grouped:
            continue
        if key == "search":
            term = value.strip()
            if len(term) > MAX_SEARCH_LENGTH:
                raise ValidationError("search", f"a search term has at most {MAX_SEARCH_LENGTH} characters")
            if term:
                result.append(or_(*(table.c[c].icontains(term, autoescape=True) for c in spec.search)))
        elif key in spec.equals:
            result.append(_equal(table.c[key], value, viewer))
        elif key.endswith("_in") and key[:-3] in spec.equals:
            result.append(_equal(table.c[key[:-3]], value, viewer, several=True))
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
    target = spec.order[order_field]
    column = spec.table.c[target] if isinstance(target, str) else target
    ordered = column.desc() if descending else column.asc()
    # PostgreSQL and SQLite put NULL at opposite ends unless told: say it, so both list alike.
    return [ordered.nulls_last() if order_field in spec.nulls_last else ordered]


def _indicator(entity_type: str, table: Table, present: bool) -> Callable[[Any], ColumnElement]:
    """`has_indicator` / `lacks_indicator`: the row carries (or does not carry) the monitor's indicator."""

    def clause(monitor_id: Any) -> ColumnElement:
        s = tables.status_indicators
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
    sub = tables.accounts.alias("sub")
    rule = viewer.rule(tables.accounts)
    visible = [sub.c.id.in_(select(tables.accounts.c.id).where(rule).correlate(None))] if rule is not None else []
    return exists(select(sub.c.id).where(sub.c.parent_id == tables.accounts.c.id, *visible))


_COMMON_ORDER = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at"}


def _service_expiry(values: Mapping[str, Any], viewer: Viewer) -> ColumnElement:
    """Accounts with an active time-based contract (one the viewer may see) ending within the range: the
    accounts' "service expiry" (both bounds on the same contract)."""
    c = tables.contracts
    where = [c.c.account_id == tables.accounts.c.id, c.c.status == "ACTIVE", c.c.ends_on.is_not(None)]
    if values.get("service_expires_min") is not None:
        where.append(c.c.ends_on >= values["service_expires_min"])
    if values.get("service_expires_max") is not None:
        where.append(c.c.ends_on <= values["service_expires_max"])
    rule = viewer.rule(c)
    return exists(select(c.c.id).where(*where, *([rule] if rule is not None else [])))


def _favourite(wanted: Any) -> ColumnElement:
    """Marked (or not) as a favourite by the caller (`:v_user`; a partner has no favourites)."""
    f = tables.account_favourites
    mine = tables.accounts.c.id.in_(select(f.c.account_id).where(f.c.user_id == V_USER))
    return mine if wanted else ~mine


ACCOUNTS = FilterSpec(
    tables.accounts,
    search=("name", "organization", "email", "city"),
    equals=("kind", "country", "industry", "manager_id", "category_group", "category", "parent_id", "partner_id"),
    ranges=("created_at",),
    flags=("is_global", "key_account"),
    has={
        "opportunities": _exists(tables.opportunities, "account_id", tables.accounts),
        "contacts": _exists(tables.contacts, "account_id", tables.accounts),
        "sub_accounts": _has_sub_accounts,
        "parent": _refers(tables.accounts.c.parent_id),
        "partner": _refers(tables.accounts.c.partner_id),
    },
    extra={**_indicators("ACCOUNT", tables.accounts), "is_favourite": _favourite},
    order={"NAME": "name", "COUNTRY": "country", **_COMMON_ORDER},
    together={("service_expires_min", "service_expires_max"): _service_expiry},
)


def shows_lead_status() -> ColumnElement:
    """The contact shows its lead status (`domain.accounts.shows_lead_status`): an employee of a prospect
    account whose contact category has lead status switched on (an account without a category, or with a
    category the list does not hold, has it on). True or false for every contact, never unknown."""
    a, lv, c = tables.accounts, tables.list_values, tables.contacts
    switched_off = select(lv.c.key).where(lv.c.list_name == "CONTACT_CATEGORY", lv.c.lead_status == false())
    prospects = select(a.c.id).where(
        a.c.category_group == "PROSPECT", or_(a.c.category.is_(None), a.c.category.not_in(switched_off))
    )
    return and_(c.c.account_id.is_not(None), c.c.account_id.in_(prospects.correlate(None)))


def shown_lead_status_in(values: Any) -> ColumnElement:
    """The contact shows one of these lead statuses (the stored value of one that shows none never counts)."""
    return and_(tables.contacts.c.lead_status.in_(list(values)), shows_lead_status())


CONTACTS = FilterSpec(
    tables.contacts,
    search=("first_name", "last_name", "email"),
    equals=("account_id", "partner_id", "contact_type_id"),
    ranges=("created_at",),
    extra={
        **_indicators("CONTACT", tables.contacts),
        "lead_status": lambda value: shown_lead_status_in([value]),
        "lead_status_in": shown_lead_status_in,
    },
    order={"LAST_NAME": "last_name", "FIRST_NAME": "first_name", **_COMMON_ORDER},
)

LEADS = FilterSpec(
    tables.leads,
    search=("first_name", "last_name", "company", "email"),
    equals=("status", "country", "campaign_id", "assigned_user_id", "assigned_partner_id"),
    ranges=("created_at", "priority", "company_size"),
    flags=("archived",),
    has={
        "assignee": lambda viewer: or_(
            _refers(tables.leads.c.assigned_user_id)(viewer), _refers(tables.leads.c.assigned_partner_id)(viewer)
        ),
        "opportunity": _refers(tables.leads.c.opportunity_id),
        "duplicate_of": _refers(tables.leads.c.duplicate_of_id),
    },
    extra=_indicators("LEAD", tables.leads),
    order={"PRIORITY": "priority", "LAST_NAME": "last_name", "COMPANY": "company", **_COMMON_ORDER},
)


def open_stage(stage: ColumnElement) -> ColumnElement:
    """The stage in `stage` is an open one (its kind, read in the same statement: persistence/stages.py)."""
    return stage.in_(stages.keys_of(StageKind.OPEN))


def _opportunity_status(value: str) -> ColumnElement:
    """OPEN, WON, LOST: the kind of the opportunity's stage (every WON-kind stage is WON)."""
    return tables.opportunities.c.stage.in_(stages.keys_of(StageKind(value)))


OPPORTUNITIES = FilterSpec(
    tables.opportunities,
    search=("name",),
    equals=("stage", "owner_id", "account_id", "partner_id", "campaign_id", "estimated_revenue_currency"),
    ranges=("estimated_revenue_amount", "expected_close_date", "closed_at", "created_at", "probability"),
    flags=("locked",),
    has={
        "quotes": _exists(tables.quotes, "opportunity_id", tables.opportunities),
        "active_quote": lambda viewer: exists(
            select(tables.quotes.c.id).where(
                tables.quotes.c.opportunity_id == tables.opportunities.c.id,
                tables.quotes.c.is_active.is_(True),
                *[rule for rule in [viewer.rule(tables.quotes)] if rule is not None],
            )
        ),
        "contracts": _exists(tables.contracts, "opportunity_id", tables.opportunities),
        "partner": _refers(tables.opportunities.c.partner_id),
    },
    extra={"status": _opportunity_status, **_indicators("OPPORTUNITY", tables.opportunities)},
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
    tables.contracts,
    search=("name",),
    equals=("kind", "status", "account_id", "opportunity_id", "product_id", "category", "value_currency"),
    ranges=("starts_on", "ends_on", "value_amount", "created_at"),
    order={"STARTS_ON": "starts_on", "ENDS_ON": "ends_on", "VALUE": "value_amount", "NAME": "name", **_COMMON_ORDER},
)

PARTNERS = FilterSpec(
    tables.partners,
    search=("name", "email"),
    equals=("country",),
    has={"accounts": _exists(tables.accounts, "partner_id", tables.partners)},
    order={"NAME": "name", **_COMMON_ORDER},
)

CAMPAIGNS = FilterSpec(
    tables.campaigns,
    search=("name",),
    equals=("status",),
    ranges=("starts_on", "ends_on"),
    has={"leads": _exists(tables.leads, "campaign_id", tables.campaigns)},
    order={"NAME": "name", "STARTS_ON": "starts_on", **_COMMON_ORDER},
)

PRICE_BOOKS = FilterSpec(
    tables.price_books,
    search=("name", "description"),
    flags=("active", "is_update"),
    order={"NAME": "name", **_COMMON_ORDER},
)

PRODUCTS = FilterSpec(
    tables.products,
    search=("name", "code", "description"),
    equals=("category", "code"),
    flags=("active",),
    order={"NAME": "name", "CODE": "code", **_COMMON_ORDER},
)

_s = tables.sales_activities
# What an activity can be attached to, by the column that says so (the `attachedToIn` filter).
ACTIVITY_ATTACHMENTS = {
    "ACCOUNT": "account_id",
    "OPPORTUNITY": "opportunity_id",
    "CONTACT": "contact_id",
    "LEAD": "lead_id",
    "PARTNER": "partner_id",
}


def _attached_to(kinds: Any) -> ColumnElement:
    return or_(false(), *(_s.c[ACTIVITY_ATTACHMENTS[k]].is_not(None) for k in kinds))


# An account's timeline: its own activities and those of its opportunities and of its contacts, keyed by
# that account (each activity is attached to one row, so it is on at most one account's timeline).
ACCOUNT_TIMELINE = DerivedKey(
    "timeline_account_id",
    func.coalesce(
        _s.c.account_id,
        select(tables.opportunities.c.account_id)
        .where(tables.opportunities.c.id == _s.c.opportunity_id)
        .scalar_subquery(),
        select(tables.contacts.c.account_id).where(tables.contacts.c.id == _s.c.contact_id).scalar_subquery(),
    ),
    lambda one_of: or_(
        one_of(_s.c.account_id),
        _s.c.opportunity_id.in_(select(tables.opportunities.c.id).where(one_of(tables.opportunities.c.account_id))),
        _s.c.contact_id.in_(select(tables.contacts.c.id).where(one_of(tables.contacts.c.account_id))),
    ),
)

SALES_ACTIVITIES = FilterSpec(
    tables.sales_activities,
    search=("subject", "notes"),
    equals=("type", "owner_id", "lead_id", "opportunity_id", "account_id", "partner_id", "contact_id"),
    ranges=("due_at", "occurred_at", "created_at"),
    flags=("done",),
    extra={"attached_to_in": _attached_to},
    order={"DUE_AT": "due_at", "OCCURRED_AT": "occurred_at", "SUBJECT": "subject", **_COMMON_ORDER},
)

CONVERSATIONS = FilterSpec(
    tables.conversations,
    search=("title",),
    equals=("kind", "language", "owner_id", "account_id", "contact_id", "opportunity_id", "external_id"),
    ranges=("started_at", "duration_seconds"),
    order={"STARTED_AT": "started_at", "DURATION": "duration_seconds", "TITLE": "title", **_COMMON_ORDER},
)


_t = tables.tasks


def _task_mine(mine: bool) -> ColumnElement:
    """Assigned to the caller (a partner is assigned none); false: to someone else."""
    return _t.c.assignee_id == V_USER if mine else _t.c.assignee_id != V_USER


def _task_open(wanted: bool) -> ColumnElement:
    return _t.c.done == (not wanted)


def _task_overdue(wanted: bool) -> ColumnElement:
    """Open and due at or before the time of the read (`:v_now`, the request's clock)."""
    overdue = and_(_t.c.done == false(), _t.c.due_at.is_not(None), _t.c.due_at <= V_NOW)
    return overdue if wanted else ~overdue


TASK_PRIORITY_RANK = case(
    {name: rank for rank, name in enumerate(tables.TASK_PRIORITIES, start=1)}, value=_t.c.priority, else_=0
)

TASKS = FilterSpec(
    tables.tasks,
    search=("title", "notes"),
    equals=("assignee_id", "account_id", "contact_id", "opportunity_id", "lead_id", "priority"),
    ranges=("due_at", "completed_at", "created_at"),
    extra={"mine": _task_mine, "open": _task_open, "overdue": _task_overdue},
    order={
        "DUE_AT": "due_at",
        "PRIORITY": TASK_PRIORITY_RANK,
        "TITLE": "title",
        "COMPLETED_AT": "completed_at",
        **_COMMON_ORDER,
    },
    nulls_last=frozenset({"DUE_AT", "COMPLETED_AT"}),
)

USERS = FilterSpec(
    tables.users,
    search=("name", "email"),
    equals=("role", "team_id"),
    order={"NAME": "name", "EMAIL": "email", **_COMMON_ORDER},
)

HISTORY = FilterSpec(
    tables.audit_entries,
    equals=("field", "actor_user_id"),
    ranges=("at",),
    order={"AT": "at"},
)

STATUS_MONITORS = FilterSpec(
    tables.status_monitors,
    search=("name",),
    equals=("entity_type",),
    flags=("active",),
    order={"NAME": "name", "PRIORITY": "priority", "ENTITY_TYPE": "entity_type", **_COMMON_ORDER},
)

API_TOKENS = FilterSpec(
    tables.api_tokens,
    equals=("user_id", "partner_id"),
    extra={
        "revoked": lambda revoked: (
            tables.api_tokens.c.revoked_at.is_not(None) if revoked else tables.api_tokens.c.revoked_at.is_(None)
        )
    },
)

SELECTIONS = FilterSpec(
    tables.selections,
    search=("name", "description"),
    equals=("entity_type", "kind", "sharing", "owner_user_id"),
    order={"NAME": "name", **_COMMON_ORDER},
)

SAVED_VIEWS = FilterSpec(
    tables.saved_views,
    search=("name",),
    equals=("list", "sharing", "owner_user_id"),
    order={"NAME": "name", **_COMMON_ORDER},
)
