"""Row visibility: which rows of each table a caller may see, as one SQL condition per table and role.

This is the one place the access rules of the spec become SQL; every batch read takes the caller's
`Viewer` and adds the condition of the table it reads (`reads.py`), so the rules hold for root
lists, nested fields, `node`, filters and counts alike. A row the caller may not see is reported
exactly like one that does not exist.

- ADMIN: everything, except private accounts someone else created (and what hangs off them).
- SALES_DIRECTOR: the team's data: accounts that are global or managed or created by a team member
  or carry a team member's opportunity; opportunities owned by the team or on accounts the team
  manages; leads assigned to the team or to nobody; the team's goals.
- SALES_REP: own and global data: the same with "me" for "the team".
- PARTNER: what was assigned to the partner: accounts it manages or has an opportunity on,
  opportunities assigned to it directly or through its accounts, leads assigned to it, and what
  hangs off those (contacts, quotes, items, contracts, documents, activities, tasks), plus its own
  consultants and the partner itself.
- Conversations: like activities, seen with what they are linked to (the account, contact, opportunity
  and every contact among the speakers must be visible); one linked to none of them only by its owner
  (a director: the team's; an admin: all); a partner only those linked to an account or opportunity of
  its own. Their transcripts, speakers, analyses and names follow the conversation; mentions of tracked
  terms, like the terms themselves (the company's settings), stay internal to users.
- Selections: the owner's, shared with the owner's team or every user (an admin sees every shared one); a
  partner's stay its own. Whoever reads a selection's members sees only those its own rules let it see.
- Attachments (files and their versions), for every role: seen with the account, opportunity or price book
  they are on.
- Tasks, for every role: a task is seen exactly by whoever may see the account, contact, opportunity
  or lead it is attached to (its assignee is given it only while they may; docs/decisions.md).
- Shared by everyone (the sales organisation and the catalog): users, teams, products, units, exchange
  rates, contact types, account groups, status monitors; and price books for every customer (no linked
  account) with their prices and bundles. A price book for agreements (linked accounts) is seen, with its
  prices, bundles and files, by an admin and by whoever may see one of its accounts (who may use it); which
  accounts it is for is seen account by account, as the accounts are. Campaigns,
  goals, routing rules, splitters, document templates, comments on partners and other partners stay
  internal to users.

The caller's ids are bind parameters (`:v_user`, `:v_partner`), so a statement is built and
compiled once per table and role and serves every caller of that role; so is the time of the read
(`:v_now`), for filters that depend on it ("overdue")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Column, ColumnElement, Integer, Select, Table, and_, bindparam, false, not_, or_, true
from sqlalchemy import select as _select
from sqlalchemy.sql.visitors import iterate

from persistence import tables

V_USER = bindparam("v_user", type_=Integer)
V_PARTNER = bindparam("v_partner", type_=Integer)
# When the caller reads (the request's clock): a statement that compares with it is still built once.
V_NOW = bindparam("v_now", type_=tables.UTCDateTime())

ADMIN, DIRECTOR, REP, PARTNER = "ADMIN", "SALES_DIRECTOR", "SALES_REP", "PARTNER"


@dataclass(frozen=True)
class Viewer:
    """Who reads: a role and the ids the rules compare with, and when it reads (`now`, for filters
    that depend on the time; a read without it cannot use them). `Viewer.everything()` is for the
    system's own reads (workflows, the scheduler), never for a caller."""

    role: str | None
    user_id: int | None = None
    partner_id: int | None = None
    # Not part of who reads (compare=False): what is shared per viewer, such as a live scoreboard's
    # topic, stays shared between the reads of one caller.
    now: datetime | None = field(default=None, compare=False)

    @classmethod
    def of(cls, principal: Any, now: datetime | None = None) -> Viewer:
        if principal is None:
            return NOBODY
        if principal.partner_id is not None:
            return cls(PARTNER, partner_id=principal.partner_id, now=now)
        role = principal.role.value if principal.role is not None else None
        return cls(role if role in (ADMIN, DIRECTOR, REP) else REP, user_id=principal.user_id, now=now)

    @classmethod
    def everything(cls) -> Viewer:
        return EVERYTHING

    @property
    def params(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "v_user": self.user_id if self.user_id is not None else -1,
            "v_partner": self.partner_id if self.partner_id is not None else -1,
        }
        if self.now is not None:
            found["v_now"] = self.now
        return found

    def rule(self, table: Table) -> ColumnElement | None:
        """The condition on `table`'s rows this viewer may see; None when it sees them all."""
        if self.role is None:
            return None
        return _rule(table.name, self.role)

    def told_of(self, entity_type: str) -> bool | None:
        """Whether this viewer is told of an event about an entity of `entity_type`, when the rules
        decide it without the entity's row; None when they do not: then it is told while it may see
        the row, as it is now (`reads.entity_visible`) or, once deleted, as it was when the event
        happened (`KEPT_ROW`, `reads.kept_row_visible`)."""
        table = EVENT_TABLES.get(entity_type)
        if table is None:
            # Events about what no row rule covers here (campaigns, routing, monitors, the catalog)
            # belong to the sales organisation.
            return self.role != PARTNER
        if self.rule(table) is None:
            return True
        return None


EVERYTHING = Viewer(None)
NOBODY = Viewer("NOBODY")


@cache
def _rule(table: str, role: str) -> ColumnElement | None:
    if role == "NOBODY":
        return None if table in SHARED else false()
    build = RULES.get(table)
    if build is None:
        return None if table in SHARED else (false() if role == PARTNER else None)
    return build(role)


SHARED = frozenset(
    {
        "users",
        "teams",
        "products",
        "product_units",
        "exchange_rates",
        "contact_types",
        "list_values",
        "custom_field_definitions",
        "account_groups",
        "status_monitors",
        "status_indicators",
        "opportunity_stages",
    }
)
INTERNAL = frozenset(
    {
        "campaigns",
        "lead_routing_rules",
        "lead_splitters",
        "lead_splitter_shares",
        "document_templates",
        "partner_comments",
        "idempotency_keys",
        "outbox_events",
        "tracked_terms",
        "conversation_settings",
        "lead_matching_settings",
        "conversation_scopes",
        "conversation_scope_speakers",
        "conversation_buckets",
        "conversation_bucket_items",
    }
)

# The entities whose events a subscriber is told of only while it may see the entity's row.
EVENT_TABLES: dict[str, Table] = {
    "Account": tables.accounts,
    "Contact": tables.contacts,
    "Opportunity": tables.opportunities,
    "Lead": tables.leads,
    "Quote": tables.quotes,
    "Contract": tables.contracts,
    "Conversation": tables.conversations,
    "Task": tables.tasks,
    "Attachment": tables.attachments,
    "Selection": tables.selections,
    "SavedView": tables.saved_views,
}

# The key under which an event about a row deleted in the same transaction keeps what the rules read
# of that row (`kept_columns`), so that who is told of it is decided by the same rules as any read.
KEPT_ROW = "rowAsItWas"


@cache
def kept_columns(table: Table) -> tuple[str, ...]:
    """The columns of `table` that its rules read, for any role: what a deleted row's events keep."""
    found = {"id"}
    for role in (ADMIN, DIRECTOR, REP, PARTNER):
        rule = _rule(table.name, role)
        if rule is not None:
            found |= {e.name for e in iterate(rule) if isinstance(e, Column) and e.table is table}
    return tuple(c.name for c in table.c if c.name in found)


a, o, q, u, lead = tables.accounts, tables.opportunities, tables.quotes, tables.users, tables.leads


def select(*columns: Any) -> Select:
    """A subquery that stands alone: never correlated with a table of the statement it ends up in
    (a filter's EXISTS over accounts inside a query over accounts must not tie the two together)."""
    return _select(*columns).correlate(None)


def _team() -> Any:
    """The ids of the users in the viewer's team (none when the viewer has no team)."""
    me = u.alias("me")
    return select(u.c.id).where(u.c.team_id == select(me.c.team_id).where(me.c.id == V_USER).scalar_subquery())


def _mine(column: Any, role: str) -> ColumnElement:
    return column.in_(_team()) if role == DIRECTOR else column == V_USER


def _hidden_private_accounts() -> Any:
    """Private accounts the viewer did not create: nobody else sees them, not even an admin."""
    return select(a.c.id).where(a.c.is_private == true(), or_(a.c.created_by_id.is_(None), a.c.created_by_id != V_USER))


def _accounts(role: str) -> ColumnElement:
    if role == PARTNER:
        return and_(
            a.c.is_private == false(),
            or_(a.c.partner_id == V_PARTNER, a.c.id.in_(select(o.c.account_id).where(o.c.partner_id == V_PARTNER))),
        )
    not_hidden = or_(a.c.is_private == false(), a.c.created_by_id == V_USER)
    if role == ADMIN:
        return not_hidden
    return and_(
        not_hidden,
        or_(
            a.c.is_global == true(),
            _mine(a.c.manager_id, role),
            _mine(a.c.created_by_id, role),
            a.c.id.in_(select(o.c.account_id).where(_mine(o.c.owner_id, role))),
        ),
    )


def _opportunities(role: str) -> ColumnElement:
    not_hidden = o.c.account_id.not_in(_hidden_private_accounts())
    if role == PARTNER:
        return and_(
            not_hidden,
            or_(o.c.partner_id == V_PARTNER, o.c.account_id.in_(select(a.c.id).where(a.c.partner_id == V_PARTNER))),
        )
    if role == ADMIN:
        return not_hidden
    return and_(
        not_hidden,
        or_(_mine(o.c.owner_id, role), o.c.account_id.in_(select(a.c.id).where(_mine(a.c.manager_id, role)))),
    )


def _visible_ids(table: Table, role: str) -> Any:
    condition = _rule(table.name, role)
    return select(table.c.id).where(condition if condition is not None else true())


def _through_opportunity(table: Table) -> Any:
    def build(role: str) -> ColumnElement | None:
        if role == ADMIN:
            return table.c.opportunity_id.not_in(select(o.c.id).where(o.c.account_id.in_(_hidden_private_accounts())))
        return table.c.opportunity_id.in_(_visible_ids(o, role))

    return build


def _quote_items(role: str) -> ColumnElement:
    return tables.quote_items.c.quote_id.in_(_visible_ids(q, role))


def _contacts(role: str) -> ColumnElement:
    c = tables.contacts
    consultants = c.c.partner_id == V_PARTNER if role == PARTNER else c.c.partner_id.is_not(None)
    return or_(consultants, c.c.account_id.in_(_visible_ids(a, role)))


def _leads(role: str) -> ColumnElement | None:
    if role == PARTNER:
        return lead.c.assigned_partner_id == V_PARTNER
    if role == ADMIN:
        return None
    unassigned = and_(lead.c.assigned_user_id.is_(None), lead.c.assigned_partner_id.is_(None))
    return or_(_mine(lead.c.assigned_user_id, role), unassigned)


def _activities(role: str) -> ColumnElement:
    """An activity is seen with what it is attached to: each of its links must be visible."""
    s = tables.sales_activities
    partner = s.c.partner_id == V_PARTNER if role == PARTNER else true()
    return and_(
        or_(s.c.lead_id.is_(None), s.c.lead_id.in_(_visible_ids(lead, role))),
        or_(s.c.opportunity_id.is_(None), s.c.opportunity_id.in_(_visible_ids(o, role))),
        or_(s.c.account_id.is_(None), s.c.account_id.in_(_visible_ids(a, role))),
        or_(s.c.contact_id.is_(None), s.c.contact_id.in_(_visible_ids(tables.contacts, role))),
        or_(s.c.partner_id.is_(None), partner),
        # a partner sees only activities attached to something of its own
        true()
        if role != PARTNER
        else or_(
            s.c.lead_id.is_not(None),
            s.c.opportunity_id.is_not(None),
            s.c.account_id.is_not(None),
            s.c.contact_id.is_not(None),
            s.c.partner_id.is_not(None),
        ),
    )


def _conversations(role: str) -> ColumnElement:
    """A conversation is seen with what it is linked to: each link, and each contact that speaks in it,
    must be visible; one linked to nothing is its owner's (and its owner's director's, and admins')."""
    speakers = tables.conversation_participants
    return _conversation_rule(role, tables.conversations, speakers, speakers.c.conversation_id)


def conversation_scope_rule(viewer: Viewer) -> ColumnElement | None:
    """The scopes of the conversation insights' buckets (persistence/conversation_aggregates.py) the viewer
    sees: `_conversations` itself, on the scope (its owner, links and speaking contacts)."""
    if viewer.role is None:
        return None
    if viewer.role == "NOBODY":
        return false()
    return _scope_rule(viewer.role)


@cache
def _scope_rule(role: str) -> ColumnElement:
    speakers = tables.conversation_scope_speakers
    return _conversation_rule(role, tables.conversation_scopes, speakers, speakers.c.scope_id)


def _conversation_rule(role: str, c: Table, speakers: Table, speaker_of: Column) -> ColumnElement:
    contacts = tables.contacts
    links = and_(
        or_(c.c.account_id.is_(None), c.c.account_id.in_(_visible_ids(a, role))),
        or_(c.c.opportunity_id.is_(None), c.c.opportunity_id.in_(_visible_ids(o, role))),
        or_(c.c.contact_id.is_(None), c.c.contact_id.in_(_visible_ids(contacts, role))),
        c.c.id.not_in(
            select(speaker_of).where(
                speakers.c.contact_id.is_not(None), speakers.c.contact_id.not_in(_visible_ids(contacts, role))
            )
        ),
    )
    if role == PARTNER:
        return and_(links, or_(c.c.account_id.is_not(None), c.c.opportunity_id.is_not(None)))
    if role == ADMIN:
        return links
    linked = or_(c.c.account_id.is_not(None), c.c.opportunity_id.is_not(None), c.c.contact_id.is_not(None))
    return and_(links, or_(linked, _mine(c.c.owner_id, role)))


def _of_conversation(table: Table, internal: bool = False) -> Any:
    """The rows of a conversation's transcript and analysis: seen with their conversation."""

    def build(role: str) -> ColumnElement | None:
        if internal and role == PARTNER:
            return false()
        return table.c.conversation_id.in_(_visible_ids(tables.conversations, role))

    return build


def _attached(column: Column, table: Table, role: str) -> ColumnElement:
    """`column` names a row of `table` the viewer may see (never true for NULL)."""
    rule = _rule(table.name, role)
    return column.is_not(None) if rule is None else column.in_(select(table.c.id).where(rule))


def _tasks(role: str) -> ColumnElement:
    """A task is seen with the one row it is attached to, by every role alike (a partner: tasks on its own
    accounts, contacts, opportunities and leads)."""
    t = tables.tasks
    return or_(
        _attached(t.c.account_id, a, role),
        _attached(t.c.contact_id, tables.contacts, role),
        _attached(t.c.opportunity_id, o, role),
        _attached(t.c.lead_id, lead, role),
    )


def _attachments(role: str) -> ColumnElement:
    """An attachment is seen with the one row it is on (a price book's by everyone, as the catalogue)."""
    f = tables.attachments
    return or_(
        _attached(f.c.account_id, a, role),
        _attached(f.c.opportunity_id, o, role),
        _attached(f.c.price_book_id, tables.price_books, role),
    )


def _attachment_versions(role: str) -> ColumnElement:
    return tables.attachment_versions.c.attachment_id.in_(_visible_ids(tables.attachments, role))


def _goals(role: str) -> ColumnElement | None:
    if role == PARTNER:
        return false()
    return None if role == ADMIN else _mine(tables.goals.c.user_id, role)


def _partners(role: str) -> ColumnElement | None:
    return tables.partners.c.id == V_PARTNER if role == PARTNER else None


_HISTORY_BY_ROW = [
    "PriceBook",
    "Account",
    "Opportunity",
    "Quote",
    "Task",
    "Contract",
    "Partner",
    "Selection",
    "SavedView",
    "CustomFieldDefinition",
]


def _history(role: str) -> ColumnElement:
    h = tables.audit_entries
    return or_(
        and_(h.c.entity_type == "Account", h.c.entity_id.in_(_visible_ids(a, role))),
        and_(h.c.entity_type == "Opportunity", h.c.entity_id.in_(_visible_ids(o, role))),
        and_(h.c.entity_type == "Quote", h.c.entity_id.in_(_visible_ids(q, role))),
        and_(h.c.entity_type == "Task", h.c.entity_id.in_(_visible_ids(tables.tasks, role))),
        and_(h.c.entity_type == "Contract", h.c.entity_id.in_(_visible_ids(tables.contracts, role))),
        and_(h.c.entity_type == "Partner", h.c.entity_id.in_(_visible_ids(tables.partners, role))),
        # A selection's or a view's history is read by who may read it; custom fields are everyone's settings.
        and_(h.c.entity_type == "Selection", h.c.entity_id.in_(_visible_ids(tables.selections, role))),
        and_(h.c.entity_type == "SavedView", h.c.entity_id.in_(_visible_ids(tables.saved_views, role))),
        h.c.entity_type == "CustomFieldDefinition",
        and_(
            h.c.entity_type == "PriceBook",
            h.c.entity_id.in_(_visible_ids(tables.price_books, role)) if role != PARTNER else false(),
        ),
        and_(
            not_(h.c.entity_type.in_(_HISTORY_BY_ROW)),
            true() if role != PARTNER else false(),
        ),
    )


def _tokens(role: str) -> ColumnElement | None:
    """Admins see every token; anyone else only their own."""
    k = tables.api_tokens
    if role == PARTNER:
        return k.c.partner_id == V_PARTNER
    return None if role == ADMIN else k.c.user_id == V_USER


def _selections(role: str) -> ColumnElement:
    """A selection is its owner's; shared with the owner's team (TEAM) or every user (EVERYONE). An admin
    sees every shared one; a partner only its own (always private). Its members are read apart, each with
    the reader's own rules."""
    s = tables.selections
    if role == PARTNER:
        return s.c.owner_partner_id == V_PARTNER
    mine = s.c.owner_user_id == V_USER
    if role == ADMIN:
        return or_(mine, and_(s.c.owner_user_id.is_not(None), s.c.sharing != "PRIVATE"))
    return or_(
        mine,
        and_(s.c.owner_user_id.is_not(None), s.c.sharing == "EVERYONE"),
        and_(s.c.sharing == "TEAM", s.c.owner_user_id.in_(_team())),
    )


def _saved_views(role: str) -> ColumnElement:
    """A view is its owner's, or shared with every user; a partner's stay its own."""
    v = tables.saved_views
    if role == PARTNER:
        return v.c.owner_partner_id == V_PARTNER
    return or_(v.c.owner_user_id == V_USER, and_(v.c.owner_user_id.is_not(None), v.c.sharing == "EVERYONE"))


def _selection_members(role: str) -> ColumnElement:
    return tables.selection_members.c.selection_id.in_(_visible_ids(tables.selections, role))


def _price_books(role: str) -> ColumnElement | None:
    """A book for every customer (no linked account) is everyone's; a book for agreements is seen by an admin
    (who keeps the catalog) and by whoever may see one of its accounts: who may quote from it."""
    if role == ADMIN:
        return None
    b, links = tables.price_books, tables.price_book_accounts
    return or_(
        b.c.id.not_in(select(links.c.price_book_id)),
        b.c.id.in_(select(links.c.price_book_id).where(links.c.account_id.in_(_visible_ids(a, role)))),
    )


def _of_price_book(table: Table) -> Any:
    def build(role: str) -> ColumnElement | None:
        return None if role == ADMIN else table.c.price_book_id.in_(_visible_ids(tables.price_books, role))

    return build


def _bundle_components(role: str) -> ColumnElement | None:
    if role == ADMIN:
        return None
    return tables.bundle_components.c.bundle_id.in_(_visible_ids(tables.bundles, role))


def _price_book_accounts(role: str) -> ColumnElement:
    """Which accounts a price book is for is seen account by account, with the reader's rules for accounts."""
    return tables.price_book_accounts.c.account_id.in_(_visible_ids(a, role))


def _internal(role: str) -> ColumnElement | None:
    return false() if role == PARTNER else None


RULES: dict[str, Any] = {
    "accounts": _accounts,
    "opportunities": _opportunities,
    "quotes": _through_opportunity(q),
    "contracts": _through_opportunity(tables.contracts),
    "business_roles": _through_opportunity(tables.business_roles),
    "quote_documents": _through_opportunity(tables.quote_documents),
    "quote_items": _quote_items,
    "contacts": _contacts,
    "leads": _leads,
    "sales_activities": _activities,
    "tasks": _tasks,
    "attachments": _attachments,
    "attachment_versions": _attachment_versions,
    "goals": _goals,
    "partners": _partners,
    "audit_entries": _history,
    "api_tokens": _tokens,
    "conversations": _conversations,
    "selections": _selections,
    "selection_members": _selection_members,
    "saved_views": _saved_views,
    "price_book_accounts": _price_book_accounts,
    "price_books": _price_books,
    "price_entries": _of_price_book(tables.price_entries),
    "bundles": _of_price_book(tables.bundles),
    "bundle_components": _bundle_components,
    "conversation_participants": _of_conversation(tables.conversation_participants),
    "conversation_segments": _of_conversation(tables.conversation_segments),
    "conversation_analyses": _of_conversation(tables.conversation_analyses),
    "conversation_names": _of_conversation(tables.conversation_names),
    "conversation_mentions": _of_conversation(tables.conversation_mentions, internal=True),
    **{name: _internal for name in INTERNAL},
}


# --- the scoreboard: its buckets (persistence/aggregates.py), and its deals read with their account ---


def scoreboard_bucket_slices(viewer: Viewer, table: Table | None = None) -> tuple[tuple[str, ColumnElement], ...]:
    """The buckets whose sum is what `viewer` may see of the opportunities (`_opportunities`), as
    (slice, condition on its buckets) pairs: each opportunity the viewer sees counts in exactly one
    bucket of them. The system's own board (`Viewer.everything()`) is the OWNER slice whole. `table`:
    the scoreboard's buckets, or the reports' (`report_buckets`: the same slices and attributes)."""
    return _bucket_slices(viewer.role, (table if table is not None else tables.scoreboard_buckets).name)


@cache
def _bucket_slices(role: str | None, table: str) -> tuple[tuple[str, ColumnElement], ...]:
    b = tables.metadata.tables[table].c
    if role is None:
        return (("OWNER", true()),)
    if role == "NOBODY":
        return ()
    if role == PARTNER:  # the PARTNER slice holds public accounts' deals only: a partner sees no private one
        return (("PARTNER", or_(b.partner_id == V_PARTNER, b.account_partner_id == V_PARTNER)),)
    # A private account's deals count for its creator alone (creator 0 is nobody: ids start at 1).
    not_hidden = or_(b.is_private == false(), b.creator_id == V_USER)
    if role == ADMIN:
        return (("OWNER", not_hidden),)
    # Owned by me (the team), or on an account I (the team) manage and owned by someone else: the
    # MANAGER slice holds only deals whose manager is not the owner, so the two never overlap.
    return (
        ("OWNER", and_(not_hidden, _mine(b.owner_id, role))),
        ("MANAGER", and_(not_hidden, _mine(b.manager_id, role), not_(_mine(b.owner_id, role)))),
    )


def scoreboard_deal_rule(viewer: Viewer, account: Any, owner: Any = None) -> ColumnElement | None:
    """`_opportunities` for a statement that joins each opportunity to its account (`account`, a FROM
    with the columns of `accounts`, e.g. a lateral lookup): the same rule on the joined row, where
    the deal table's rule looks the account up in a subquery over all accounts. For the few deals of
    a scoreboard's partial days. None: every row. `owner`: the credited user of a shared deal's part
    (the board counts a part as if that user owned it); the deal's owner by default."""
    role, c = viewer.role, account.c
    owner = o.c.owner_id if owner is None else owner
    if role is None:
        return None
    if role == "NOBODY":
        return false()
    if role == PARTNER:
        return and_(c.is_private == false(), or_(o.c.partner_id == V_PARTNER, c.partner_id == V_PARTNER))
    not_hidden = or_(c.is_private == false(), c.created_by_id == V_USER)
    if role == ADMIN:
        return not_hidden
    return and_(not_hidden, or_(_mine(owner, role), _mine(c.manager_id, role)))


# --- the same scoreboard rules in Python: each viewer's board cut from one read for all viewers ---


def scoreboard_cut(viewer: Viewer, team_of: Mapping[int, int | None]) -> ScoreboardCut:
    """What `viewer` may see of the rows a shared board read (`persistence.scoreboard.load_board_source`)
    holds: its buckets (`scoreboard_bucket_slices`), its edge deals (`scoreboard_deal_rule`) and the
    goals (`_goals`), decided in Python on the attributes those rows carry, so that one read serves
    every viewer of a board. `team_of` is every user's team (a director's "mine" is its team's users)."""
    return ScoreboardCut(viewer, team_of)


class ScoreboardCut:
    __slots__ = ("role", "user", "partner", "mine", "members")

    def __init__(self, viewer: Viewer, team_of: Mapping[int, int | None]) -> None:
        self.role = viewer.role
        self.user = viewer.user_id if viewer.user_id is not None else -1  # as `:v_user`
        self.partner = viewer.partner_id if viewer.partner_id is not None else -1  # as `:v_partner`
        # The users that are "mine" for a rep (itself) or a director (its team); None for other roles.
        self.members: frozenset[int] | None = None
        if self.role == DIRECTOR:
            team = team_of.get(self.user)
            self.members = frozenset(u for u, t in team_of.items() if team is not None and t == team)
        elif self.role not in (None, "NOBODY", ADMIN, PARTNER):  # any other role is "me", as in `_mine`
            self.members = frozenset({self.user})
        members = self.members or frozenset()
        self.mine: Callable[[Any], bool] = members.__contains__

    def bucket(
        self,
        slice_: str,
        owner: int,
        manager: int,
        partner: int,
        account_partner: int,
        is_private: bool,
        creator: int,
    ) -> bool:
        """`scoreboard_bucket_slices`: whether a bucket of this key counts on the viewer's board."""
        role = self.role
        if role is None:
            return slice_ == "OWNER"
        if role == "NOBODY":
            return False
        if role == PARTNER:
            return slice_ == "PARTNER" and (partner == self.partner or account_partner == self.partner)
        if is_private and creator != self.user:
            return False
        if role == ADMIN:
            return slice_ == "OWNER"
        if slice_ == "OWNER":
            return self.mine(owner)
        return slice_ == "MANAGER" and self.mine(manager) and not self.mine(owner)

    def deal(
        self,
        owner: int,
        partner: int | None,
        manager: int | None,
        account_partner: int | None,
        is_private: bool,
        creator: int | None,
    ) -> bool:
        """`scoreboard_deal_rule`: whether a closed deal (with its account's columns) counts."""
        role = self.role
        if role is None:
            return True
        if role == "NOBODY":
            return False
        if role == PARTNER:
            return not is_private and (partner == self.partner or account_partner == self.partner)
        if is_private and creator != self.user:
            return False
        return role == ADMIN or self.mine(owner) or (manager is not None and self.mine(manager))

    def goal(self, user_id: int) -> bool:
        """`_goals`: whether the viewer sees a goal of this user."""
        if self.role is None or self.role == ADMIN:
            return True
        if self.role in (PARTNER, "NOBODY"):
            return False
        return self.mine(user_id)
