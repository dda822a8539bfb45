"""Token scopes: what a token may do, which scopes each role may hold, and a token's effective scopes.

A scope names an area and a verb (`accounts:read`). Read scopes open the root queries and
subscriptions of an area and its rows wherever a query selects them (below another area's root field,
`viewer`, `node`), write scopes its mutations and what their payloads show (gql/scopes.py says which
type needs which scope; which rows a caller sees is row visibility, a separate rule).

A token holds the scopes it was created with, capped by its owner's role: its effective scopes are
`stored ∩ allowed(role)`. An empty stored list means "everything the owner's role allows" (the demo
and fixture tokens, and tokens created before scopes were enforced)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from functools import lru_cache

from domain.enums import Role
from domain.errors import PermissionDenied, ValidationError


class Scope(str, Enum):
    ACCOUNTS_READ = "accounts:read"
    ACCOUNTS_WRITE = "accounts:write"
    CONTACTS_READ = "contacts:read"
    CONTACTS_WRITE = "contacts:write"
    LEADS_READ = "leads:read"
    LEADS_WRITE = "leads:write"
    LEADS_INGEST = "leads:ingest"
    OPPORTUNITIES_READ = "opportunities:read"
    OPPORTUNITIES_WRITE = "opportunities:write"
    QUOTES_WRITE = "quotes:write"
    CONTRACTS_READ = "contracts:read"
    ACTIVITIES_READ = "activities:read"
    ACTIVITIES_WRITE = "activities:write"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    CAMPAIGNS_READ = "campaigns:read"
    CAMPAIGNS_WRITE = "campaigns:write"
    PARTNERS_READ = "partners:read"
    PARTNERS_WRITE = "partners:write"
    PARTNERS_COMMENT = "partners:comment"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    MONITORS_READ = "monitors:read"
    MONITORS_WRITE = "monitors:write"
    SCOREBOARD_READ = "scoreboard:read"
    REPORTS_READ = "reports:read"
    DOCUMENTS_READ = "documents:read"
    DOCUMENTS_WRITE = "documents:write"
    TOKENS_READ = "tokens:read"
    TOKENS_WRITE = "tokens:write"
    CONVERSATIONS_READ = "conversations:read"
    CONVERSATIONS_WRITE = "conversations:write"
    TERMS_WRITE = "terms:write"
    SELECTIONS_READ = "selections:read"
    SELECTIONS_WRITE = "selections:write"
    METRICS_READ = "metrics:read"
    SETTINGS_WRITE = "settings:write"


# What each scope allows, for the schema, the README and the CLI's help.
DESCRIPTIONS: dict[Scope, str] = {
    Scope.ACCOUNTS_READ: "Read accounts and account groups.",
    Scope.ACCOUNTS_WRITE: "Create, change and delete accounts and account groups; favourites, links, "
    "sub-accounts, managing partner.",
    Scope.CONTACTS_READ: "Read contacts (employees and consultants) and contact types.",
    Scope.CONTACTS_WRITE: "Create, change, anonymise and delete contacts and consultants; contact types; a "
    "contact's lead status.",
    Scope.LEADS_READ: "Read leads, the lead board, lead statistics, routing rules, lead splitters and lead matching.",
    Scope.LEADS_WRITE: "Create, change, assign, qualify, disqualify, archive, anonymise and merge leads; routing "
    "rules and lead splitters; route leads again; lead matching (admins).",
    Scope.LEADS_INGEST: "Send leads to the lead processor: `POST /ingest/leads` and the `ingestLead` mutation.",
    Scope.OPPORTUNITIES_READ: "Read opportunities (with their quotes and the contracts they sold) wherever they appear, and subscribe "
    "to their events.",
    Scope.OPPORTUNITIES_WRITE: "Create, change, move, close, unlock and delete opportunities; business roles; "
    "renew, cancel and remove the contracts they sold.",
    Scope.QUOTES_WRITE: "Create, change, duplicate and delete quotes and their items; make a quote active.",
    Scope.CONTRACTS_READ: "Read contracts wherever they appear (an opportunity's own come with it) and subscribe to their events.",
    Scope.ACTIVITIES_READ: "Read sales activities (calls, e-mails, meetings …) and tasks; subscribe to task events.",
    Scope.ACTIVITIES_WRITE: "Create, change, complete and delete sales activities and tasks; reopen tasks.",
    Scope.CATALOG_READ: "Read products, price books and exchange rates, wherever they appear (a quote item's product, say).",
    Scope.CATALOG_WRITE: "Change the catalogue: products, units, bundles, price books, prices, exchange rates.",
    Scope.CAMPAIGNS_READ: "Read campaigns.",
    Scope.CAMPAIGNS_WRITE: "Create, change, archive and unarchive campaigns.",
    Scope.PARTNERS_READ: "Read the list of partners and the comments on them (a partner named on a row shows without it).",
    Scope.PARTNERS_WRITE: "Create, change and delete partners.",
    Scope.PARTNERS_COMMENT: "Comment on partners and delete one's comments (an admin's: anyone's). Users only.",
    Scope.USERS_READ: "Read the lists of users and sales teams, a team's members and users' goals (the people named on "
    "rows one may read, and one's own team, show without it).",
    Scope.USERS_WRITE: "Set users' and teams' sales goals; change a user's role (admins).",
    Scope.MONITORS_READ: "Read status monitor definitions and subscribe to status indicator changes.",
    Scope.MONITORS_WRITE: "Create, change and delete status monitors.",
    Scope.SCOREBOARD_READ: "Read the sales scoreboard and subscribe to its updates.",
    Scope.REPORTS_READ: "Read the sales reports (funnel, won revenue, forecast, partner results, time per channel) "
    "and subscribe to their updates.",
    Scope.DOCUMENTS_READ: "Read document templates and download generated documents and attached files "
    "(`GET /documents/<id>`).",
    Scope.DOCUMENTS_WRITE: "Generate quote documents; upload, delete and choose document templates; attach files "
    "(`POST /attachments`) and delete attachments.",
    Scope.TOKENS_READ: "List API tokens (`apiTokens`: one's own; an admin's: everyone's).",
    Scope.TOKENS_WRITE: "Create and revoke API tokens (one's own; an admin's: anyone's) and register trusted "
    "documents (admins).",
    Scope.CONVERSATIONS_READ: "Read recorded conversations (transcripts and their analysis), the tracked terms and "
    "the progress of their analysis.",
    Scope.CONVERSATIONS_WRITE: "Record conversations (`POST /ingest/conversations` and `recordConversation`) and "
    "delete them.",
    Scope.TERMS_WRITE: "Create, change and delete the tracked keywords and competitors (admins).",
    Scope.SELECTIONS_READ: "Read selections (their members also need the read scope of the members' type) and "
    "saved views.",
    Scope.SELECTIONS_WRITE: "Create, change, share, copy, convert and delete selections; add and remove members; "
    "saved views and their defaults.",
    Scope.METRICS_READ: "Read the process's Prometheus metrics (`GET /metrics`; admins): give Prometheus a token "
    "with only this scope.",
    Scope.SETTINGS_WRITE: "Change what `settings` shows (admins): the opportunity stages (create, change, "
    "deactivate, reorder, delete) and the custom field definitions.",
}

ALL: frozenset[Scope] = frozenset(Scope)
# The scopes only an admin may hold: they change what everybody works with.
ADMIN_ONLY: frozenset[Scope] = frozenset(
    {
        Scope.CATALOG_WRITE,
        Scope.PARTNERS_WRITE,
        Scope.CAMPAIGNS_WRITE,
        Scope.TERMS_WRITE,
        Scope.METRICS_READ,
        Scope.SETTINGS_WRITE,
    }
)
# A partner portal: the areas a partner is assigned data in, read and write, plus lead ingestion, the
# scoreboard and its own tokens. Never the organisation's users, teams, partners, campaigns or catalogue
# changes. (What it may see inside an area is row visibility; what it may change, the workflows' rules.)
PARTNER: frozenset[Scope] = frozenset(
    {
        Scope.ACCOUNTS_READ,
        Scope.ACCOUNTS_WRITE,
        Scope.CONTACTS_READ,
        Scope.CONTACTS_WRITE,
        Scope.LEADS_READ,
        Scope.LEADS_WRITE,
        Scope.LEADS_INGEST,
        Scope.OPPORTUNITIES_READ,
        Scope.OPPORTUNITIES_WRITE,
        Scope.QUOTES_WRITE,
        Scope.CONTRACTS_READ,
        Scope.ACTIVITIES_READ,
        Scope.ACTIVITIES_WRITE,
        Scope.CATALOG_READ,
        Scope.DOCUMENTS_READ,
        Scope.DOCUMENTS_WRITE,
        Scope.SCOREBOARD_READ,
        Scope.REPORTS_READ,
        Scope.MONITORS_READ,
        Scope.MONITORS_WRITE,
        Scope.TOKENS_READ,
        Scope.TOKENS_WRITE,
        Scope.CONVERSATIONS_READ,
        Scope.CONVERSATIONS_WRITE,
        Scope.SELECTIONS_READ,
        Scope.SELECTIONS_WRITE,
    }
)
ROLES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: ALL,
    Role.SALES_DIRECTOR: ALL - ADMIN_ONLY,
    Role.SALES_REP: ALL - ADMIN_ONLY - {Scope.USERS_WRITE},  # goals are set by directors and admins
}

assert set(DESCRIPTIONS) == set(Scope), "describe every scope"


def allowed(role: Role | None, is_partner: bool) -> frozenset[Scope]:
    """The scopes the owner of a token may hold: a partner's, or its user's role's (none without a role)."""
    if is_partner:
        return PARTNER
    return ROLES.get(role, frozenset()) if role is not None else frozenset()


def owner_kind(role: Role | None, is_partner: bool) -> str:
    return "a partner" if is_partner else f"a {role.value}" if role is not None else "a user without a role"


def parse(scopes: Iterable[str]) -> list[Scope]:
    """Scope names checked against the catalogue, in order (a ValidationError on `scopes[i]` for an unknown one)."""
    known = {s.value: s for s in Scope}
    parsed = []
    for n, name in enumerate(scopes):
        found = known.get(name.value if isinstance(name, Scope) else str(name).strip())
        if found is None:
            raise ValidationError(
                f"scopes[{n}]", f"{name!r} is not a scope; the scopes are {', '.join(s.value for s in Scope)}"
            )
        parsed.append(found)
    return parsed


def effective(stored: Iterable[str], role: Role | None, is_partner: bool) -> frozenset[str]:
    """What a token may do: its stored scopes (all when none are stored) within its owner's role.
    A stored name that is not in the catalogue (any more) allows nothing. Equal answers are one object
    (every open WebSocket keeps its caller's set: thousands of sockets, a few distinct sets)."""
    return _effective(tuple(stored), role, is_partner)


@lru_cache(maxsize=1024)
def _effective(stored: tuple[str, ...], role: Role | None, is_partner: bool) -> frozenset[str]:
    cap = allowed(role, is_partner)
    if not stored:
        return frozenset(s.value for s in cap)
    return frozenset(s.value for s in cap if s.value in stored)


def grantable(
    requested: Iterable[str], role: Role | None, is_partner: bool, caller: frozenset[str] | None = None
) -> list[str]:
    """The scopes to store for a new token, sorted and without repeats: each must be in the catalogue
    (ValidationError `scopes[i]`), within its owner's role and, when given, within the `caller` token's
    effective scopes (PermissionDenied naming the scope), so that no token makes one that can do more
    than itself. An empty request stores an empty list: everything the owner's role allows, which then
    must be within the caller's scopes too."""
    parsed = parse(requested)
    cap = allowed(role, is_partner)
    for scope in parsed:
        if scope not in cap:
            raise PermissionDenied(
                f"the scope {scope.value} is beyond what {owner_kind(role, is_partner)} may "
                "hold, so a token of theirs cannot have it"
            )
    wanted = parsed or sorted(cap, key=lambda s: s.value)
    if caller is not None:
        for scope in wanted:
            if scope.value not in caller:
                raise PermissionDenied(
                    f"the scope {scope.value} is beyond the token making this request, and a "
                    "token cannot create one that may do more than itself"
                    + ("" if parsed else "; list the scopes the new token needs")
                )
    return sorted({s.value for s in parsed})
