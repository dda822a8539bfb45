"""Side doors (issue 12): with ordinary activity around them (an opportunity moved to another account,
a parent account set, partners reassigned, a business role added, routing rules added), no answer
tells a caller anything about a row it may not see: not mutation payloads nor webhook answers
(class 1), history (2), error messages (3), subscription events (4, both protocols), filters (5), nor
writes that name a hidden row (6), nor generated documents. Each class has its own test, for every
role on both databases. What a caller may not learn is computed here from the rows themselves, in
plain Python (`tests/support/leaks.py`); an answer about a hidden id must be the answer about a
missing one, apart from the id."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNonNull, get_named_type
from graphql.pyutils import Undefined
from sqlalchemy import select

from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from gql.schema.schema import schema
from persistence import tables
from tests.conftest import GraphQLClient
from tests.integration.test_visibility import ROLES, Caller, World
from tests.support import leaks
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

MISSING = 1_999_999  # a key no row has
SNAPSHOT = [
    "users",
    "teams",
    "partners",
    "accounts",
    "opportunities",
    "quotes",
    "quote_items",
    "contracts",
    "contacts",
    "leads",
    "sales_activities",
    "tasks",
    "business_roles",
    "quote_documents",
    "campaigns",
    "lead_routing_rules",
    "lead_splitters",
    "document_templates",
    "goals",
    "products",
    "product_units",
    "price_books",
    "price_entries",
    "bundles",
    "account_groups",
    "contact_types",
    "status_monitors",
    "api_tokens",
    "audit_entries",
    "conversations",
    "conversation_participants",
    "tracked_terms",
    "selections",
    "selection_members",
    "saved_views",
    "attachments",
    "attachment_versions",
    "partner_comments",
    "price_book_accounts",
]
SHARED_TYPES = {
    "User": "users",
    "Team": "teams",
    "AccountGroup": "account_groups",
    "Product": "products",
    "ProductUnit": "product_units",
    "ContactType": "contact_types",
    "ListValue": "list_values",
    "StatusMonitor": "status_monitors",
    "ApiToken": "api_tokens",
}
# What an id input field names when its name does not say it plainly.
ID_FIELDS = {
    "ownerId": "User",
    "userId": "User",
    "assignedUserId": "User",
    "managerId": "User",
    "teamId": "Team",
    "groupId": "AccountGroup",
    "productId": "Product",
    "unitId": "ProductUnit",
    "priceBookId": "PriceBook",
    "previousId": "PriceBook",
    "contactTypeId": "ContactType",
    "tokenId": "ApiToken",
    "attachToId": "Opportunity",
    "assigneeId": "User",
    "hasIndicator": "StatusMonitor",
    "lacksIndicator": "StatusMonitor",
}
ENTITY_NAMES = sorted({*leaks.TABLE_OF, *SHARED_TYPES}, key=len, reverse=True)


@dataclass
class Scene:
    """The writable database after the admin activity, a caller per role, and how to read the truth."""

    engine: Any
    callers: dict[str, Caller]
    other_partner: int
    private_owner: Caller
    notes: dict[str, Any] = field(default_factory=dict, repr=False)

    async def rows(self) -> dict[str, list]:
        async with self.engine.connect() as conn:
            return {name: list(await conn.execute(select(getattr(tables, name)))) for name in SNAPSHOT}

    async def truth(self, role: str) -> tuple[dict[str, list], dict[str, set[int]], leaks.Secrets]:
        """The rows now, the keys `role` may not see per type, and its secrets."""
        rows = await self.rows()
        hidden = hidden_keys(World(rows, self.callers), self.callers[role], rows)
        return rows, hidden, leaks.secrets_for(role, rows, hidden)


def hidden_keys(world: World, c: Caller, rows: dict[str, list]) -> dict[str, set[int]]:
    """The keys of the rows `c` may not see, per type, by the spec's rules (README, "Who sees what")."""
    every = {kind: {r.id for r in rows[table]} for kind, table in leaks.TABLE_OF.items()}
    seen = {
        "Account": world.accounts(c),
        "Opportunity": world.opportunities(c),
        "Quote": world.quotes(c),
        "Contract": world.contracts(c),
        "Contact": world.contacts(c),
        "Lead": world.leads(c),
        "SalesActivity": world.activities(c),
        "Conversation": world.conversations(c),
        "Task": world.tasks(c),
    }
    seen["QuoteItem"] = {r.id for r in rows["quote_items"] if r.quote_id in seen["Quote"]}
    for kind, table in (("BusinessRole", "business_roles"), ("QuoteDocument", "quote_documents")):
        seen[kind] = {r.id for r in rows[table] if r.opportunity_id in seen["Opportunity"]}
    partner = c.role == "PARTNER"
    seen["Partner"] = {c.partner_id} if partner else every["Partner"]
    for kind in ("Campaign", "LeadRoutingRule", "LeadSplitter", "DocumentTemplate", "TrackedTerm"):
        seen[kind] = set() if partner else every[kind]
    mine = {c.user_id} if c.role == "SALES_REP" else world.team_of(c.user_id) if c.role == "SALES_DIRECTOR" else None
    seen["Goal"] = (
        set() if partner else every["Goal"] if mine is None else {g.id for g in rows["goals"] if g.user_id in mine}
    )
    seen["Selection"] = readable_selections(world, c, rows)
    # A price book for every customer is everyone's; one for agreements (linked accounts) an admin's and of
    # whoever sees one of its accounts; its prices and bundles go with it.
    books: dict[int, set[int]] = {}
    for link in rows["price_book_accounts"]:
        books.setdefault(link.price_book_id, set()).add(link.account_id)
    seen["PriceBook"] = {
        b.id for b in rows["price_books"] if c.role == "ADMIN" or b.id not in books or books[b.id] & seen["Account"]
    }
    seen["PriceEntry"] = {e.id for e in rows["price_entries"] if e.price_book_id in seen["PriceBook"]}
    seen["Bundle"] = {b.id for b in rows["bundles"] if b.price_book_id in seen["PriceBook"]}
    # A file is seen with the account, opportunity or price book it is on, its versions with it; comments on
    # partners are the users' own.
    seen["Attachment"] = {
        f.id
        for f in rows["attachments"]
        if f.account_id in seen["Account"]
        or f.opportunity_id in seen["Opportunity"]
        or f.price_book_id in seen["PriceBook"]
    }
    seen["AttachmentVersion"] = {v.id for v in rows["attachment_versions"] if v.attachment_id in seen["Attachment"]}
    seen["PartnerComment"] = set() if partner else every["PartnerComment"]
    seen["SavedView"] = {
        v.id
        for v in rows["saved_views"]
        if (v.owner_partner_id == c.partner_id if c.role == "PARTNER" else v.owner_user_id == c.user_id)
        or (c.role != "PARTNER" and v.owner_user_id is not None and v.sharing == "EVERYONE")
    }
    return {kind: every[kind] - seen[kind] for kind in every}


def readable_selections(world: World, c: Caller, rows: dict[str, list]) -> set[int]:
    """The selections `c` may read: its own; a user's shared with its team (TEAM) or with everyone
    (EVERYONE); an admin every shared one; a partner only its own."""
    found = set()
    for s in rows["selections"]:
        if c.role == "PARTNER":
            ok = s.owner_partner_id == c.partner_id
        elif s.owner_user_id == c.user_id:
            ok = True
        elif s.owner_user_id is None or s.sharing == "PRIVATE":
            ok = False
        elif c.role == "ADMIN" or s.sharing == "EVERYONE":
            ok = True
        else:
            team = next(u.team_id for u in rows["users"] if u.id == c.user_id)
            owner_team = next(u.team_id for u in rows["users"] if u.id == s.owner_user_id)
            ok = team is not None and team == owner_team
        if ok:
            found.add(s.id)
    return found


# --- talking to the API ---


async def answer(api, query: str, variables: dict | None, token: str) -> tuple[int, Any]:
    response = await api.post(query, variables, token)
    return response.status_code, response.json()


async def ok(api, query: str, variables: dict, token: str, field_name: str) -> dict:
    data = await api.data(query, variables, token)
    result = data[field_name]
    assert "Error" not in result.get("__typename", ""), result
    return result


def gid(kind: str, pk: int) -> str:
    return ids.encode(kind, pk)


MOVE = """mutation($input: MoveOpportunityInput!) { moveOpportunity(input: $input) { __typename ... on UserError { message } } }"""
PARENT = """mutation($input: SetAccountParentInput!) { setAccountParent(input: $input) { __typename ... on UserError { message } } }"""
ACCOUNT_PARTNER = """mutation($input: AssignAccountPartnerInput!) { assignAccountPartner(input: $input) {
  __typename ... on UserError { message } } }"""
OPPORTUNITY_PARTNER = """mutation($input: AssignOpportunityPartnerInput!) { assignOpportunityPartner(input: $input) {
  __typename ... on UserError { message } } }"""
ROLE = """mutation($input: AddBusinessRoleInput!) { addBusinessRole(input: $input) { __typename ... on UserError { message } } }"""
SELECTION = """mutation($input: CreateSelectionInput!) { createSelection(input: $input) {
  __typename ... on UserError { message } } }"""
VIEW = """mutation($input: CreateSavedViewInput!) { createSavedView(input: $input) {
  __typename ... on UserError { message } } }"""
RULE = """mutation($input: CreateLeadRoutingRuleInput!) { createLeadRoutingRule(input: $input) {
  __typename ... on UserError { message } } }"""
AGREEMENT = """mutation($input: CreatePriceBookInput!) { createPriceBook(input: $input) {
  __typename ... on PriceBookPayload { priceBook { id } } ... on UserError { message } } }"""


@pytest.fixture(scope="module")
async def scene(writable) -> AsyncIterator[Scene]:
    """The admin activity of the issue, done through the API before anything is probed: opportunities
    moved away from accounts the callers then no longer see, parents set to hidden accounts, partners
    reassigned, business roles naming hidden contacts, routing rules; and the same by the creator of a
    private account, so even the admin reads history pointing at a row it may not see."""
    app = create_app(writable.engine, dispatch=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        yield await acted(writable, GraphQLClient(http, writable.admin_token))


async def acted(writable, api) -> Scene:
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users)))
        partners = [p.id for p in await conn.execute(select(tables.partners.c.id).order_by(tables.partners.c.id))]
        private = next(iter(await conn.execute(select(tables.accounts).where(tables.accounts.c.is_private))))
    director = next(u for u in users if u.role == "SALES_DIRECTOR" and u.id != private.created_by_id)
    rep = next(u for u in users if u.role == "SALES_REP" and u.team_id == director.team_id)
    callers = {
        "ADMIN": Caller("ADMIN", writable.admin_token, user_id=writable.summary.admin_user_id),
        "SALES_DIRECTOR": Caller(
            "SALES_DIRECTOR", await issue_token(writable.engine, name="d", user_id=director.id), director.id
        ),
        "SALES_REP": Caller("SALES_REP", await issue_token(writable.engine, name="r", user_id=rep.id), rep.id),
        "PARTNER": Caller("PARTNER", writable.partner_token, partner_id=writable.summary.partner_id),
    }
    owner = Caller(
        "SALES_REP",
        await issue_token(writable.engine, name="owner", user_id=private.created_by_id),
        private.created_by_id,
    )
    other = next(p for p in partners if p != writable.summary.partner_id)
    scene = Scene(writable.engine, callers, other, owner)
    admin = writable.admin_token
    rows = await scene.rows()
    world = World(rows, callers)
    p1 = callers["PARTNER"]
    seen = {role: (world.accounts(c), world.opportunities(c)) for role, c in callers.items()}
    accounts = {a.id: a for a in rows["accounts"]}
    public = [a for a in rows["accounts"] if not a.is_private]

    def only_link(role: str, o: Any) -> bool:
        """Whether `o` is the only reason `role` sees its account (moving it away hides the account)."""
        c = callers[role]
        without = [x for x in rows["opportunities"] if x.id != o.id]
        return o.account_id not in World({**rows, "opportunities": without}, callers).accounts(c)

    # Moves: for each role, an opportunity it keeps seeing moves off an account it then no longer sees.
    moved: set[int] = set()
    for role in ("PARTNER", "SALES_REP", "SALES_DIRECTOR"):
        c = callers[role]
        keeps = [
            o
            for o in rows["opportunities"]
            if o.id in seen[role][1]
            and o.id not in moved
            and not o.locked
            and (o.partner_id == c.partner_id if role == "PARTNER" else o.owner_id == rep.id)
            and only_link(role, o)
        ]
        if not keeps:
            continue
        o = keeps[0]
        target = next(a for a in public if a.id != o.account_id and a.id in seen["ADMIN"][0])
        await ok(
            api,
            MOVE,
            {"input": {"id": gid("Opportunity", o.id), "accountId": gid("Account", target.id)}},
            admin,
            "moveOpportunity",
        )
        moved.add(o.id)
    # Parents: an account each role sees gets a parent it does not see.
    used: set[int] = set()
    for role in ("PARTNER", "SALES_REP", "SALES_DIRECTOR"):
        child = next(a for a in public if a.id in seen[role][0] and a.parent_id is None and a.id not in used)
        parent = next(a for a in public if a.id not in seen[role][0] and a.id not in used | {child.id})
        used |= {child.id, parent.id}
        await ok(
            api,
            PARENT,
            {"input": {"id": gid("Account", child.id), "parentId": gid("Account", parent.id)}},
            admin,
            "setAccountParent",
        )
    # Partners: an account the partner sees through its opportunity, and an opportunity it sees through
    # its account, are given to another partner (the partner keeps seeing both).
    candidates = [
        o
        for o in rows["opportunities"]
        if not o.locked
        and o.id not in moved
        and o.partner_id != p1.partner_id
        and accounts[o.account_id].partner_id != p1.partner_id
        and not accounts[o.account_id].is_private
        and o.account_id not in used
    ]
    first = candidates[0]
    second = next(o for o in candidates if o.account_id != first.account_id)
    for query, name, input_ in (
        (
            OPPORTUNITY_PARTNER,
            "assignOpportunityPartner",
            {"id": gid("Opportunity", first.id), "partnerId": gid("Partner", p1.partner_id)},
        ),
        (
            ACCOUNT_PARTNER,
            "assignAccountPartner",
            {"id": gid("Account", first.account_id), "partnerId": gid("Partner", other)},
        ),
        (
            ACCOUNT_PARTNER,
            "assignAccountPartner",
            {"id": gid("Account", second.account_id), "partnerId": gid("Partner", p1.partner_id)},
        ),
        (
            OPPORTUNITY_PARTNER,
            "assignOpportunityPartner",
            {"id": gid("Opportunity", second.id), "partnerId": gid("Partner", other)},
        ),
    ):
        await ok(api, query, {"input": input_}, admin, name)
    moved |= {first.id, second.id}
    # Business roles: an opportunity each role sees (with a quote with items) names a contact it does not see.
    with_items = {q.opportunity_id for q in rows["quotes"] if any(i.quote_id == q.id for i in rows["quote_items"])}
    for role in ("PARTNER", "SALES_REP"):
        c = callers[role]
        o = next(
            o
            for o in rows["opportunities"]
            if o.id in seen[role][1] and o.id in with_items and o.id not in moved and not o.locked
        )
        contact = next(x for x in rows["contacts"] if x.id not in world.contacts(c) and x.account_id is not None)
        await ok(
            api,
            ROLE,
            {
                "input": {
                    "opportunityId": gid("Opportunity", o.id),
                    "contactId": gid("Contact", contact.id),
                    "role": "Economic buyer",
                }
            },
            admin,
            "addBusinessRole",
        )
        scene.notes.setdefault("documents", {})[role] = o.id
    # Routing rules: leads from the side door go to the other partner, to the partner, or to a user.
    for name, target in (
        ("side-door-other", {"partnerId": gid("Partner", other)}),
        ("side-door-mine", {"partnerId": gid("Partner", p1.partner_id)}),
        ("side-door-user", {"userId": gid("User", private.created_by_id)}),
    ):
        rule = {
            "name": f"Route {name}",
            "target": target,
            "position": 0,
            "conditions": [{"field": "UTM_SOURCE", "values": [name]}],
        }
        await ok(api, RULE, {"input": rule}, admin, "createLeadRoutingRule")
    # The private account's creator: an opportunity off the private account, a parent pointing at it.
    on_private = next((o for o in rows["opportunities"] if o.account_id == private.id and not o.locked), None)
    mine = next(a for a in public if (a.created_by_id == private.created_by_id or a.is_global) and a.id not in used)
    if on_private is not None:
        await ok(
            api,
            MOVE,
            {"input": {"id": gid("Opportunity", on_private.id), "accountId": gid("Account", mine.id)}},
            owner.token,
            "moveOpportunity",
        )
    await ok(
        api,
        PARENT,
        {"input": {"id": gid("Account", mine.id), "parentId": gid("Account", private.id)}},
        owner.token,
        "setAccountParent",
    )
    scene.notes["private"] = private.id
    # A price book for the agreement of an account no role but the admin sees (its history names the account).
    now = World(await scene.rows(), callers)
    seen_by_others = set().union(*(now.accounts(callers[r]) for r in ("PARTNER", "SALES_REP", "SALES_DIRECTOR")))
    customer = next(a for a in public if a.id not in seen_by_others)
    made = await ok(
        api,
        AGREEMENT,
        {"input": {"name": "Side door agreement", "accountIds": [gid("Account", customer.id)]}},
        admin,
        "createPriceBook",
    )
    scene.notes["agreement"] = made["priceBook"]["id"]
    # ... and one for that account and an account the rep sees: the rep (and whoever sees that one) sees it.
    theirs = next(a for a in public if a.id in now.accounts(callers["SALES_REP"]) and a.id != customer.id)
    made = await ok(
        api,
        AGREEMENT,
        {
            "input": {
                "name": "Two party agreement",
                "accountIds": [gid("Account", customer.id), gid("Account", theirs.id)],
            }
        },
        admin,
        "createPriceBook",
    )
    scene.notes["shared agreement"] = made["priceBook"]["id"]
    # Selections: shared ones holding rows some readers may not see, and private ones of each kind of owner.
    everything = {"field": "CREATED_AT", "from": "2000-01-01T00:00:00Z"}
    for who, entity, extra in (
        (
            owner.token,
            "ACCOUNT",
            {"memberIds": [gid("Account", private.id), gid("Account", mine.id)], "sharing": "EVERYONE"},
        ),
        (owner.token, "OPPORTUNITY", {"criteria": everything, "sharing": "EVERYONE"}),
        (callers["SALES_REP"].token, "CONTACT", {"criteria": everything, "sharing": "TEAM"}),
        (admin, "LEAD", {"criteria": everything, "sharing": "TEAM"}),
        (admin, "ACCOUNT", {"criteria": {"has": "OPPORTUNITIES"}, "static": True}),
        (callers["PARTNER"].token, "OPPORTUNITY", {"criteria": everything}),
    ):
        await ok(
            api,
            SELECTION,
            {"input": {"name": f"Side door {entity.lower()} {len(scene.notes)}", "entityType": entity, **extra}},
            who,
            "createSelection",
        )
        scene.notes[f"selection {len(scene.notes)}"] = entity
    for who, sharing in (
        (callers["SALES_REP"].token, "PRIVATE"),
        (admin, "EVERYONE"),
        (callers["PARTNER"].token, "PRIVATE"),
    ):
        await ok(
            api,
            VIEW,
            {
                "input": {
                    "name": f"Side door view {sharing.lower()} {len(scene.notes)}",
                    "list": "ACCOUNT",
                    "sharing": sharing,
                }
            },
            who,
            "createSavedView",
        )
        scene.notes[f"view {len(scene.notes)}"] = sharing
    # Files: on an account and an opportunity each role may not see (a second version of one), on the private
    # account by its creator, on a price book (seen by all); a comment on the partner (users only).
    files: list[tuple[str, str]] = []
    for role in ("PARTNER", "SALES_REP", "SALES_DIRECTOR"):
        account = max(a.id for a in public if a.id not in seen[role][0])
        opportunity = max(o.id for o in rows["opportunities"] if o.id not in seen[role][1])
        files += [(admin, gid("Account", account)), (admin, gid("Opportunity", opportunity))]
    files += [(owner.token, gid("Account", private.id)), (admin, gid("PriceBook", rows["price_books"][0].id))]
    for n, (who, on) in enumerate(files):
        stored = await attach(api, who, {"on": on}, f"side-door-file-{n}.txt", f"Side door file body {n} for {on}")
        if n == 0:
            await attach(
                api, who, {"attachmentId": stored["attachment"]["id"]}, "side-door-v2.txt", "Side door v2 body"
            )
    comment = {"partnerId": gid("Partner", p1.partner_id), "body": "Side door remark on the partner"}
    await ok(api, COMMENT, {"input": comment}, admin, "addPartnerComment")
    return scene


COMMENT = """mutation($input: AddPartnerCommentInput!) { addPartnerComment(input: $input) {
  __typename ... on UserError { message } } }"""


async def attach(api, token: str, fields: dict[str, str], name: str, text: str) -> dict[str, Any]:
    """`POST /attachments` of a text file; the answer's attachment and version."""
    response = await api.http.post(
        "/attachments",
        data=fields,
        files={"file": (name, text.encode(), "text/plain")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    return response.json()


# --- probing every mutation with a hidden id and with a missing one ---


def entity_of(input_name: str) -> str | None:
    """The entity an input's `id` names, read from the input's name (`AssignOpportunityPartnerInput`:
    Opportunity; `UpdateQuoteItemInput`: QuoteItem): the earliest, longest entity name in it."""
    best: tuple[int, int, str] | None = None
    for name in ENTITY_NAMES:
        at = input_name.find(name)
        if at >= 0 and (best is None or (at, -len(name)) < (best[0], best[1])):
            best = (at, -len(name), name)
    return best[2] if best else None


def type_of_id(name: str, owner: str) -> str | None:
    if name == "id":
        return entity_of(owner)
    if name in ID_FIELDS:
        return ID_FIELDS[name]
    if name in ("parentId", "linkedAccountId"):
        return "Account" if "Account" in owner else None
    return leaks.REFERENCES.get(name)


def id_fields(input_type: GraphQLInputObjectType, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every id field of an input (nested inputs included), with the entity it names."""
    found = []
    for name, child in input_type.fields.items():
        inner = get_named_type(child.type)
        if isinstance(inner, GraphQLInputObjectType) and len(path) < 2:
            found += id_fields(inner, (*path, name))
        elif inner.name == "ID":
            kind = type_of_id(name, input_type.name)
            if kind is not None:
                found.append(((*path, name), kind))
    return found


SCALARS = {
    "String": "Side door",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "Decimal": "1",
    "Date": "2026-07-01",
    "DateTime": "2026-06-01T10:00:00Z",
    # Keys of the configurable lists: a built-in one, so a write gets past its key to the ids it names.
    "ActivityType": "CALL",
    "AccountKind": "ORGANIZATION",
    "CampaignStatus": "ACTIVE",
    "ProductCategory": "SOFTWARE",
    "Stage": "PROSPECTING",  # a key scalar (gql/schema/keys.py): a seeded key, as the enum's first value was
}
EXTRA = {"IngestLeadInput": {"lastName": "Probe"}, "CreateLeadInput": {"lastName": "Probe"}}  # else refused first
SPECIAL = {"currency": "EUR", "csv": "", "fileName": "probe.docx", "role": "Sponsor", "reason": "probe"}


def base_input(input_type: GraphQLInputObjectType, pick: Any) -> dict[str, Any]:
    """The required fields of an input, filled with plain valid values; ids from `pick(type)`."""
    built: dict[str, Any] = {}
    for name, child in input_type.fields.items():
        if not isinstance(child.type, GraphQLNonNull) or child.default_value is not Undefined:
            continue
        built[name] = value_of(name, child.type.of_type, input_type.name, pick)
    if input_type.name.startswith(("Create", "Record")) and "ownerId" in input_type.fields:
        built["ownerId"] = pick("User")  # a partner creating an opportunity or recording a call names its owner
    if input_type.name.startswith("Create") and "ownerId" in input_type.fields:
        built["ownerId"] = pick("User")  # a partner creating an opportunity must name its owner
    if input_type.name.startswith("Create") and "assigneeId" in input_type.fields:
        built["assigneeId"] = pick("User")  # and a partner creating a task the user who does it
    return {**EXTRA.get(input_type.name, {}), **built}


def value_of(name: str, type_: Any, owner: str, pick: Any) -> Any:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return [value_of(name, type_.of_type, owner, pick)] if name not in ("scopes", "documents") else []
    if isinstance(type_, GraphQLInputObjectType):
        return base_input(type_, pick)
    if type_.name == "ID":
        return pick(type_of_id(name, owner))
    if hasattr(type_, "values"):
        return next(iter(type_.values))
    if name == "contentBase64":
        return docx_base64("{{ quote.name }}")
    return SPECIAL.get(name, SCALARS.get(type_.name, "x"))


def docx_base64(body: str) -> str:
    from tests.integration.mutations.test_documents import docx_base64 as made

    return made(body)


def put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(target))
    at = copy
    for step in path[:-1]:
        at = at.setdefault(step, {})
        if isinstance(at, list):
            at = at[0]
    at[path[-1]] = value
    return copy


def normalised(body: Any, hidden_id: str, missing_id: str, pks: tuple[int, int]) -> str:
    text = json.dumps(body, sort_keys=True)
    for one in sorted((hidden_id, missing_id), key=len, reverse=True):  # one may begin the other
        text = text.replace(one, "<ID>")
    return re.sub(rf"\b({pks[0]}|{pks[1]})\b", "<PK>", text)


@dataclass
class Probe:
    mutation: str
    path: tuple[str, ...]
    kind: str
    hidden: tuple[int, Any]
    missing: tuple[int, Any]
    hidden_id: str
    missing_id: str

    @property
    def where(self) -> str:
        return f"{self.mutation}(input.{'.'.join(self.path)}: hidden {self.kind})"

    def differs(self) -> bool:
        pks = (ids.decode(self.hidden_id)[1], MISSING)
        return self.hidden[0] != self.missing[0] or normalised(
            self.hidden[1], self.hidden_id, self.missing_id, pks
        ) != normalised(self.missing[1], self.hidden_id, self.missing_id, pks)


async def probes_of(scene: Scene, api, role: str) -> list[Probe]:
    """Every mutation, once per id field of a type `role` may not see all of: with a hidden row's id,
    then with a missing one, the other fields valid and naming rows it sees (cached per role)."""
    cached = scene.notes.setdefault("probes", {})
    if role in cached:
        return cached[role]
    caller = scene.callers[role]
    rows, hidden, _ = await scene.truth(role)
    found: list[Probe] = []
    for name, mutation in schema._schema.mutation_type.fields.items():
        input_type = get_named_type(mutation.args["input"].type)
        fields = [(path, kind) for path, kind in id_fields(input_type) if hidden.get(kind)]
        if not fields:
            continue
        query = (
            f"mutation($input: {input_type.name}!) {{ {name}(input: $input) "
            f"{{ {leaks.selection(mutation.type, 2)} ... on UserError {{ code message }} }} }}"
        )
        for path, kind in fields:
            pick = picker(rows, hidden, caller)
            base = base_input(input_type, pick)
            target = min(hidden[kind])
            if kind in ("Account", "Opportunity", "Contact"):  # one with rows around it, the likeliest to leak
                target = max(hidden[kind])
            hidden_id, missing_id = gid(kind, target), gid(kind, MISSING)
            hidden_answer = await answer(api, query, {"input": put(base, path, hidden_id)}, caller.token)
            missing_answer = await answer(api, query, {"input": put(base, path, missing_id)}, caller.token)
            found.append(Probe(name, path, kind, hidden_answer, missing_answer, hidden_id, missing_id))
            if found[-1].differs():
                rows, hidden, _ = await scene.truth(role)  # the write may have changed what it sees
    cached[role] = found
    return found


def picker(rows: dict[str, list], hidden: dict[str, set[int]], caller: Caller) -> Any:
    def pick(kind: str | None) -> str | None:
        if kind is None:
            return None
        if kind == "User":
            return gid("User", caller.user_id or 1)
        if kind == "Partner" and caller.partner_id:
            return gid("Partner", caller.partner_id)
        table = leaks.TABLE_OF.get(kind) or SHARED_TYPES.get(kind)
        # Open, unlocked rows first: a closed or locked one refuses most writes before ids are looked up.
        shown = sorted(
            (getattr(r, "locked", False) or getattr(r, "stage", None) in ("WON", "LOST"), r.id)
            for r in rows.get(table, ())
            if r.id not in hidden.get(kind, ())
        )
        shown = [pk for _, pk in shown]
        return gid(kind, shown[0] if shown else MISSING)

    return pick


def error_parts(body: Any) -> list[Any]:
    """The parts of an answer that are errors: `errors`, and every UserError in `data`."""
    found = list(body.get("errors") or []) if isinstance(body, dict) else []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "message" in value and "code" in value:
                found.append(value)
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(body.get("data") if isinstance(body, dict) else None)
    return found


def report(found: list[str], what: str) -> str:
    shown = "\n  ".join(found[:40])
    return f"{len(found)} {what}:\n  {shown}"


@pytest.mark.parametrize("role", ROLES)
async def test_a_write_naming_a_row_the_caller_may_not_see_is_answered_as_for_a_missing_row(scene, api, role):
    """Class 6 (and every mutation's own `id`): each id a mutation takes, set to a hidden row's id,
    gets exactly the answer (status and body, apart from the id) a missing row's id gets."""
    probes = await probes_of(scene, api, role)
    assert probes, "the role may not see some rows, or the test proves nothing"
    differing = [
        f"{p.where}: {json.dumps(p.hidden[1])[:300]} where a missing id gets {json.dumps(p.missing[1])[:200]}"
        for p in probes
        if p.differs()
    ]
    assert not differing, report(differing, "answers about hidden rows differ from those about missing ones")


@pytest.mark.parametrize("role", ROLES)
async def test_error_messages_name_no_row_the_caller_may_not_see(scene, api, role):
    """Class 3: every error (GraphQL errors and typed UserErrors) of every probe, and of the
    workflows that need hidden rows on the caller's behalf, names only rows the caller may see."""
    _, _, secrets = await scene.truth(role)
    found: list[str] = []
    for p in await probes_of(scene, api, role):
        for part in error_parts(p.hidden[1]):
            found += leaks.leaks(secrets, part, p.where, given=(p.hidden_id,))
    for where, body in (await workflow_errors(scene, api, role)).items():
        for part in error_parts(body):
            found += leaks.leaks(secrets, part, where)
    assert not found, report(found, "facts of hidden rows in error messages")


QUALIFY = """mutation($input: QualifyLeadInput!) { qualifyLead(input: $input) {
  __typename ... on UserError { code message } } }"""
LEAD = """mutation($input: CreateLeadInput!) { createLead(input: $input) {
  __typename ... on LeadPayload { lead { id } } ... on UserError { code message } } }"""
TO_ACCOUNT = """mutation($input: AddLeadToAccountInput!) { addLeadToAccount(input: $input) {
  __typename ... on UserError { code message } } }"""
GENERATE = """mutation($input: GenerateQuoteDocumentInput!) { generateQuoteDocument(input: $input) {
  __typename ... on QuoteDocumentPayload { downloadUrl document { id fileName } } ... on UserError { code message } } }"""


async def workflow_errors(scene: Scene, api, role: str) -> dict[str, Any]:
    """Answers of workflows that read rows the caller may not see: qualifying its own lead whose
    account it may not see, and generating a document for a quote whose opportunity has a business
    role naming a contact it may not see."""
    caller = scene.callers[role]
    rows, hidden, _ = await scene.truth(role)
    answers: dict[str, Any] = {}
    private = scene.notes["private"]
    if role == "ADMIN":  # only the private account's creator sees it: it files a lead there
        setup, assignee, account = scene.private_owner.token, {}, gid("Account", private)
    else:
        setup, account = api.token, gid("Account", max(hidden["Account"] - {private}))
        assignee = (
            {"assignedPartnerId": gid("Partner", caller.partner_id)}
            if caller.partner_id
            else {"assignedUserId": gid("User", caller.user_id)}
        )
    made = {"lastName": f"Side door {role}", "company": "Probe", **assignee}
    lead_id = (await ok(api, LEAD, {"input": made}, setup, "createLead"))["lead"]["id"]
    await ok(api, TO_ACCOUNT, {"input": {"id": lead_id, "accountId": account}}, setup, "addLeadToAccount")
    answers["qualifyLead(own lead, hidden account)"] = (
        await answer(api, QUALIFY, {"input": {"id": lead_id}}, caller.token)
    )[1]
    for opportunity in (scene.notes.get("documents") or {}).values():
        quote = next((q for q in rows["quotes"] if q.opportunity_id == opportunity), None)
        if quote is not None and quote.id not in hidden["Quote"]:
            answers["generateQuoteDocument(business role naming a hidden contact)"] = (
                await answer(api, GENERATE, {"input": {"quoteId": gid("Quote", quote.id)}}, caller.token)
            )[1]
    return answers


# --- class 1: payloads and webhook answers ---

INGEST = "/ingest/leads"
INGEST_CONVERSATIONS = "/ingest/conversations"
SIDE_DOORS = ("side-door-other", "side-door-mine", "side-door-user")


def mutation_document(name: str, depth: int = 3) -> str:
    mutation = schema._schema.mutation_type.fields[name]
    input_type = get_named_type(mutation.args["input"].type)
    return f"mutation($input: {input_type.name}!) {{ {name}(input: $input) {{ {leaks.selection(mutation.type, depth)} }} }}"


@pytest.mark.parametrize("role", ROLES)
async def test_mutation_payloads_and_webhook_answers_carry_nothing_of_a_row_the_caller_may_not_see(scene, api, role):
    """Class 1: the lead processor's answers (`POST /ingest/leads`, one lead and a batch, and
    `ingestLead` with its whole payload) and the payloads of ordinary writes on rows the caller sees
    (with every field, three levels deep) carry no id, raw key, name, e-mail or amount of a hidden row."""
    caller = scene.callers[role]
    rows, hidden, secrets = await scene.truth(role)
    found: list[str] = []
    headers = {"Authorization": f"Bearer {caller.token}"}
    for source in SIDE_DOORS:
        lead = {"lastName": f"Webhook {role}", "email": f"{source}.{role.lower()}@example.org", "utmSource": source}
        response = await api.http.post(INGEST, json=lead, headers=headers)
        found += leaks.leaks(secrets, response.json(), f"POST {INGEST} ({source})")
        status, body = await answer(api, mutation_document("ingestLead"), {"input": lead}, caller.token)
        found += leaks.leaks(secrets, body, f"ingestLead ({source})")
    batch = [{"lastName": f"Batch {role}", "utmSource": source} for source in SIDE_DOORS]
    response = await api.http.post(INGEST, json={"leads": batch}, headers=headers)
    found += leaks.leaks(secrets, response.json(), f"POST {INGEST} (batch)")

    # Ordinary writes on rows the caller sees, whose neighbours it may not see.
    touched = scene.notes.get("documents", {}).get(role)
    opportunities = [
        o for o in rows["opportunities"] if o.id not in hidden["Opportunity"] and o.stage not in ("WON", "LOST")
    ]
    opportunity = next((o for o in opportunities if o.id == touched), opportunities[0] if opportunities else None)
    parented = [a for a in rows["accounts"] if a.id not in hidden["Account"] and a.parent_id in hidden["Account"]]
    writes = []
    if opportunity is not None:
        writes.append(("updateOpportunity", {"id": gid("Opportunity", opportunity.id), "description": "Side door"}))
        writes.append(
            (
                "createSalesActivity",
                {"attachToId": gid("Opportunity", opportunity.id), "type": "CALL", "subject": "Side door"},
            )
        )
        # The admin (user 1) may be given a task on whatever the caller sees (but a private account).
        writes.append(
            (
                "createTask",
                {"attachToId": gid("Opportunity", opportunity.id), "title": "Side door", "assigneeId": gid("User", 1)},
            )
        )
    for account in parented[:1]:
        writes.append(("updateAccount", {"id": gid("Account", account.id), "comment": "Side door"}))
    for name, input_ in writes:
        _, body = await answer(api, mutation_document(name), {"input": input_}, caller.token)
        found += leaks.leaks(secrets, body, name)

    # A recorded conversation about an account the caller sees, with one of its contacts speaking: the webhook's
    # answer and recordConversation's whole payload (its transcript, speakers and analysis, three levels deep).
    seen_accounts = {a.id for a in rows["accounts"]} - hidden["Account"]
    contact = next(x for x in rows["contacts"] if x.account_id in seen_accounts and x.id not in hidden["Contact"])
    owner = caller.user_id or scene.callers["ADMIN"].user_id
    conversation = {
        "kind": "PHONE_CALL",
        "startedAt": "2026-06-01T10:00:00Z",
        "ownerId": gid("User", owner),
        "accountId": gid("Account", contact.account_id),
        "speakers": [
            {"name": "Side Door Seller", "side": "SELLER"},
            {"name": "Side Door Customer", "side": "CUSTOMER", "contactId": gid("Contact", contact.id)},
        ],
        "segments": [
            {"speaker": "Side Door Seller", "start": 0, "end": 5, "text": "Hi, how are the printers doing?"},
            {"speaker": "Side Door Customer", "start": 5, "end": 9, "text": "Not so well, we have problems with them."},
        ],
    }
    response = await api.http.post(INGEST_CONVERSATIONS, json=conversation, headers=headers)
    assert response.status_code == 201, response.text
    found += leaks.leaks(secrets, response.json(), f"POST {INGEST_CONVERSATIONS}")
    _, body = await answer(api, mutation_document("recordConversation"), {"input": conversation}, caller.token)
    assert body["data"]["recordConversation"]["__typename"] == "RecordConversationPayload", body
    found += leaks.leaks(secrets, body, "recordConversation")
    assert not found, report(found, "facts of hidden rows in payloads and webhook answers")


# --- class 2: history ---


def referenced(value: Any) -> list[int]:
    """The keys a stored history value names: numbers, or the numbers of global ids."""
    if isinstance(value, str):
        try:
            return [ids.decode(value)[1]]
        except Exception:  # noqa: BLE001 - not a global id: its digits
            pass
    return leaks._numbers(value)


@pytest.mark.parametrize("role", ROLES)
async def test_history_tells_nothing_of_rows_the_caller_may_not_see(scene, api, role):
    """Class 2: the history of every account, opportunity and quote the caller sees (after moves,
    parents, partner changes and business roles pointing at hidden rows) holds no raw key, id,
    name, e-mail or amount of a row it may not see."""
    caller = scene.callers[role]
    rows, hidden, secrets = await scene.truth(role)
    entities = sorted({(e.entity_type, e.entity_id) for e in rows["audit_entries"]})
    visible = [(kind, pk) for kind, pk in entities if pk not in hidden.get(kind, ())]
    pointing = [
        e
        for e in rows["audit_entries"]
        if e.entity_id not in hidden.get(e.entity_type, ())
        and (kind := leaks.REFERENCES.get(e.field)) is not None
        and any(pk in hidden.get(kind, ()) for v in (e.old_value, e.new_value) for pk in referenced(v))
    ]
    assert pointing, "some history the caller reads must point at a row it may not see, or the test proves nothing"
    query = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id "
        + " ".join(
            f"... on {kind} {{ {leaks.history_selection(leaks.scopes_of(role))} }}"
            for kind in ("Account", "Opportunity", "Quote", "Task", "Contract", "PriceBook")
        )
        + " } }"
    )
    found: list[str] = []
    for start in range(0, len(visible), 20):
        chunk = [gid(kind, pk) for kind, pk in visible[start : start + 20]]
        _, body = await answer(api, query, {"ids": chunk}, caller.token)
        assert body.get("data"), body
        found += leaks.leaks(secrets, body, "history")
    assert not found, report(found, "facts of hidden rows in history")


INSIGHTS = """query { conversationInsights(period: {preset: ALL_TIME}) {
  customers { callsAnalysed { value conversations(first: 100) { nodes { id title externalId account { id name } } } }
    keywords { name term { id } conversations(first: 100) { nodes { id title } } }
    competitors { name conversations(first: 100) { nodes { id title } } }
    newNames { name conversation { id title externalId } } }
  bestSellers { topSellers { id } overview { user { id } } }
  recording { callsMentioningCompetitors { conversations(first: 100) { nodes { id title } } } } } }"""


@pytest.mark.parametrize("role", ROLES)
async def test_conversation_insights_count_and_show_only_the_conversations_the_caller_may_see(scene, api, role):
    """The home page of conversation intelligence: its count of calls is the number of conversations the
    spec's rules let the caller see, and no figure's conversations, term or new name carries a raw key, an
    id, a title or an external id of one it may not see."""
    caller = scene.callers[role]
    rows, hidden, secrets = await scene.truth(role)
    visible = {r.id for r in rows["conversations"]} - hidden["Conversation"]
    assert hidden["Conversation"] or role == "ADMIN", "some conversation must be hidden, or the test proves nothing"
    _, body = await answer(api, INSIGHTS, None, caller.token)
    assert body.get("data"), body
    page = body["data"]["conversationInsights"]
    assert page["customers"]["callsAnalysed"]["value"] == str(len(visible))
    shown = {ids.decode(n["id"])[1] for n in page["customers"]["callsAnalysed"]["conversations"]["nodes"]}
    assert shown <= visible and (len(shown) == min(100, len(visible)))
    found = leaks.leaks(secrets, body, "conversationInsights") + leaks.raw_keys(body, "conversationInsights")
    assert not found, report(found, "facts of hidden conversations in the insights")


# --- class 5: filters ---


def relation_filters() -> list[tuple[str, str, str]]:
    """(root field, filter field, entity) for every filter on a relation to a row some caller may not see."""
    found = []
    for root, field_ in schema._schema.query_type.fields.items():
        if "filter" not in field_.args:
            continue
        for name, child in get_named_type(field_.args["filter"].type).fields.items():
            kind = type_of_id(name, root.title()) if get_named_type(child.type).name == "ID" else None
            if kind in leaks.TABLE_OF:
                found.append((root, name, kind))
    return found


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def listing(root: str) -> str:
    if root == "leadBoard":
        return "query($filter: LeadFilter) { leadBoard(filter: $filter) { status totalCount leads { id } } }"
    if root == "contactBoard":
        return "query($filter: ContactFilter) { contactBoard(filter: $filter) { status totalCount contacts { id } } }"
    filter_type = get_named_type(schema._schema.query_type.fields[root].args["filter"].type).name
    return f"query($filter: {filter_type}) {{ {root}(first: 100, filter: $filter) {{ totalCount nodes {{ id }} }} }}"


@pytest.mark.parametrize("role", ROLES)
async def test_a_relation_filter_treats_a_hidden_row_as_missing_and_has_filters_count_only_visible_ones(
    scene, api, role
):
    """Class 5: every filter on a relation (`partnerId`, `parentId`, `campaignId`, …) given a hidden
    row's id answers exactly as for a missing id; `hasParent`, `hasPartner` and the other has-filters
    count only related rows the caller may see."""
    caller = scene.callers[role]
    rows, hidden, secrets = await scene.truth(role)
    found: list[str] = []
    tables = {"leadBoard": "leads", "contactBoard": "contacts", "salesActivities": "sales_activities"}
    for root, name, kind in relation_filters():
        if not hidden[kind]:
            continue
        table = tables.get(root, root)
        column = snake(name)
        shown_rows = [r for r in rows.get(table, ()) if r.id not in hidden.get(leaks.TYPE_OF_TABLE.get(table), ())]
        # The hidden row with the most visible rows pointing at it: where a careless filter shows most.
        counts = {pk: sum(1 for r in shown_rows if r._mapping.get(column) == pk) for pk in hidden[kind]}
        target = max(sorted(counts), key=lambda pk: counts[pk])
        hidden_id, missing_id = gid(kind, target), gid(kind, MISSING)
        query = listing(root)
        one = await answer(api, query, {"filter": {name: hidden_id}}, caller.token)
        other = await answer(api, query, {"filter": {name: missing_id}}, caller.token)
        pks = (target, MISSING)
        if one[0] != other[0] or normalised(one[1], hidden_id, missing_id, pks) != normalised(
            other[1], hidden_id, missing_id, pks
        ):
            found.append(
                f"{root}(filter: {{{name}: hidden {kind}}}): {json.dumps(one[1])[:200]} vs {json.dumps(other[1])[:200]}"
            )
    visible = {kind: {r.id for r in rows[table]} - hidden[kind] for kind, table in leaks.TABLE_OF.items()}
    has = {
        ("accounts", "hasParent"): lambda r: r.parent_id in visible["Account"],
        ("accounts", "hasPartner"): lambda r: r.partner_id in visible["Partner"],
        ("accounts", "hasSubAccounts"): lambda r: any(
            a.parent_id == r.id and a.id in visible["Account"] for a in rows["accounts"]
        ),
        ("accounts", "hasContacts"): lambda r: any(
            x.account_id == r.id and x.id in visible["Contact"] for x in rows["contacts"]
        ),
        ("opportunities", "hasPartner"): lambda r: r.partner_id in visible["Partner"],
        ("leads", "hasOpportunity"): lambda r: r.opportunity_id in visible["Opportunity"],
        ("leads", "hasAssignee"): lambda r: (
            r.assigned_user_id is not None or r.assigned_partner_id in visible["Partner"]
        ),
        ("partners", "hasAccounts"): lambda r: any(
            a.partner_id == r.id and a.id in visible["Account"] for a in rows["accounts"]
        ),
        ("campaigns", "hasLeads"): lambda r: any(
            x.campaign_id == r.id and x.id in visible["Lead"] for x in rows["leads"]
        ),
    }
    for (root, name), holds in has.items():
        kind = leaks.TYPE_OF_TABLE[root]
        for wanted in (True, False):
            expected = {r.id for r in rows[root] if r.id in visible[kind] and holds(r) == wanted}
            status, body = await answer(api, listing(root), {"filter": {name: wanted}}, caller.token)
            if root in ("partners", "campaigns") and body.get("errors"):
                continue  # a root field the role may not read at all
            data = (body.get("data") or {}).get(root) or {}
            shown = {ids.decode(n["id"])[1] for n in data.get("nodes", [])}
            if shown != expected or data.get("totalCount") != len(expected):
                found.append(
                    f"{root}(filter: {{{name}: {str(wanted).lower()}}}): {sorted(shown ^ expected)} differ, totalCount {data.get('totalCount')} for {len(expected)}"
                )
        found += leaks.leaks(secrets, body, f"{root}(filter: {name})")
    assert not found, report(found, "filters that tell hidden rows from missing ones")


# --- every node type: node(id:) and nodes(ids:) ---


@pytest.mark.parametrize("role", ROLES)
async def test_node_answers_a_hidden_id_exactly_as_a_missing_one_for_every_type(scene, api, role):
    caller = scene.callers[role]
    _, hidden, _ = await scene.truth(role)
    found = []
    for kind, pks in hidden.items():
        if not pks:
            continue
        target = max(pks)
        hidden_id, missing_id = gid(kind, target), gid(kind, MISSING)
        for query, variables in (
            ("query($id: ID!) { node(id: $id) { __typename id } }", "id"),
            ("query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", "ids"),
        ):
            wrap = (lambda x: [x]) if variables == "ids" else (lambda x: x)
            one = await answer(api, query, {variables: wrap(hidden_id)}, caller.token)
            other = await answer(api, query, {variables: wrap(missing_id)}, caller.token)
            pks_ = (target, MISSING)
            if one[0] != other[0] or normalised(one[1], hidden_id, missing_id, pks_) != normalised(
                other[1], hidden_id, missing_id, pks_
            ):
                found.append(f"{variables} of a hidden {kind}: {one} vs {other}")
    assert not found, report(found, "node answers that tell hidden rows from missing ones")


# --- generated documents ---


def document_text(content: bytes) -> str:
    """The text of a .docx (a zip of XML): every paragraph's runs joined, one paragraph a line, and
    each text run also alone between `>…<` so exact values can be told."""
    lines = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8", errors="replace")
                runs = re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", xml)
                lines += [f">{run}<" for run in runs]
                for paragraph in re.findall(r"<w:p[ >].*?</w:p>", xml, re.DOTALL):
                    lines.append("".join(re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", paragraph)))
    return "\n".join(lines)


@pytest.mark.parametrize("role", ROLES)
async def test_a_generated_document_shows_nothing_of_rows_the_caller_may_not_see(scene, api, role):
    """Documents (class 3's workflow): the caller generates a document for a quote it sees, whose
    opportunity has a business role naming a contact it may not see (or any quote with items); it
    gets the document, and neither the answer nor the document's text holds a fact of a hidden row."""
    caller = scene.callers[role]
    rows, hidden, secrets = await scene.truth(role)
    touched = scene.notes.get("documents", {}).get(role)
    with_items = {i.quote_id for i in rows["quote_items"]}
    quotes = [q for q in rows["quotes"] if q.id not in hidden["Quote"] and q.id in with_items]
    quote = next((q for q in quotes if q.opportunity_id == touched), quotes[0])
    _, body = await answer(api, GENERATE, {"input": {"quoteId": gid("Quote", quote.id)}}, caller.token)
    found = leaks.leaks(secrets, body, "generateQuoteDocument")
    result = body["data"]["generateQuoteDocument"]
    assert result["__typename"] == "QuoteDocumentPayload", result
    download = await api.http.get(result["downloadUrl"], headers={"Authorization": f"Bearer {caller.token}"})
    assert download.status_code == 200
    text = document_text(download.content)
    assert text.strip(), "the document has text"
    found += leaks.leaks(secrets, text, "the document's text")
    assert not found, report(found, "facts of hidden rows in a generated document")


@pytest.mark.parametrize("role", ROLES)
async def test_an_attached_file_downloads_only_with_its_row_and_a_hidden_one_answers_as_a_missing_one(scene, api, role):
    """Files: every version of a file on a row the caller may not see downloads exactly as a missing one (status
    and bytes); every version it may see downloads as stored, and the files listed on the rows it reads (names,
    versions) hold nothing of a hidden row."""
    caller = scene.callers[role]
    rows, hidden, secrets = await scene.truth(role)
    headers = {"Authorization": f"Bearer {caller.token}"}
    missing = await api.http.get(f"/documents/{gid('AttachmentVersion', MISSING)}", headers=headers)
    assert missing.status_code == 404
    found: list[str] = []
    for version in rows["attachment_versions"]:
        got = await api.http.get(f"/documents/{gid('AttachmentVersion', version.id)}", headers=headers)
        if version.id in hidden["AttachmentVersion"]:
            if (got.status_code, got.content) != (missing.status_code, missing.content):
                found.append(f"version {version.id}: {got.status_code} {got.content[:80]!r}")
        else:
            assert got.status_code == 200 and got.content == bytes(version.content)
            found += leaks.leaks(secrets, got.content, f"the file of version {version.id}")
    assert hidden["AttachmentVersion"] or role == "ADMIN", "some files are hidden from the role"
    lists = """{ accounts(first: 100) { nodes { attachments { name versions { fileName downloadUrl } } } }
      opportunities(first: 100) { nodes { attachments { name versions { fileName downloadUrl } } } }
      priceBooks(first: 100) { nodes { attachments { id name latestVersion } } } }"""
    status, body = await answer(api, lists, None, caller.token)
    found += leaks.leaks(secrets, body, "attachments on the rows it reads")
    assert not found, report(found, "files of hidden rows that can be told apart or read")


# --- class 4: events ---

STAGE = """mutation($input: ChangeOpportunityStageInput!) { changeOpportunityStage(input: $input) {
  __typename ... on UserError { message } } }"""
CREATE = """mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) {
  __typename ... on OpportunityPayload { opportunity { id } } ... on UserError { message } } }"""
DELETE = """mutation($input: OpportunityRefInput!) { deleteOpportunity(input: $input) { __typename ... on UserError { message } } }"""


def events_document(role: str) -> str:
    """Every field of the event two levels deep, of the kinds of rows `role` may read."""
    event = schema._schema.subscription_type.fields["opportunityEvents"].type
    return f"subscription($since: ID) {{ opportunityEvents(since: $since) {{ {leaks.selection(event, 2, scopes=leaks.scopes_of(role))} }} }}"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_no_subscriber_is_told_of_an_event_about_a_row_it_may_not_see(scene, writable, protocol):
    """Class 4: each role subscribes to every opportunity event; the private account's creator makes,
    changes and deletes an opportunity there, the admin changes opportunities some roles may not see;
    until a last change everyone sees, no subscriber gets an event (of any kind, deletion included)
    about a row it may not see, nor any of its facts."""
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        live = GraphQLClient(http, writable.admin_token)
        owner = scene.private_owner
        rows = await scene.rows()
        rep = scene.callers["SALES_REP"]
        shared = next(a for a in rows["accounts"] if a.is_global and not a.is_private)
        fence = await ok(
            live,
            CREATE,
            {
                "input": {
                    "name": f"Fence {protocol}",
                    "accountId": gid("Account", shared.id),
                    "ownerId": gid("User", rep.user_id),
                    "partnerId": gid("Partner", scene.callers["PARTNER"].partner_id),
                }
            },
            writable.admin_token,
            "createOpportunity",
        )
        secret = await ok(
            live,
            CREATE,
            {"input": {"name": f"Private deal {protocol}", "accountId": gid("Account", scene.notes["private"])}},
            owner.token,
            "createOpportunity",
        )
        truths = {role: await scene.truth(role) for role in ROLES}
        await server.app.state.dispatcher.dispatch_once()
        since = (await live.data("{ latestEventId }"))["latestEventId"]
        sockets = {}
        for role, caller in scene.callers.items():
            socket = await GraphQLSocket.open(server.url, caller.token, protocol)
            sockets[role] = (socket, await socket.subscribe(events_document(role), {"since": since}))

        secret_id = secret["opportunity"]["id"]
        await ok(
            live, STAGE, {"input": {"id": secret_id, "stage": "QUALIFICATION"}}, owner.token, "changeOpportunityStage"
        )
        await ok(live, DELETE, {"input": {"id": secret_id}}, owner.token, "deleteOpportunity")
        _, admin_hidden, _ = truths["ADMIN"]
        changed: set[int] = set()
        for role in ("SALES_DIRECTOR", "SALES_REP", "PARTNER"):
            _, hidden, _ = truths[role]
            target = next(
                o
                for o in truths["ADMIN"][0]["opportunities"]
                if o.id in hidden["Opportunity"]
                and o.id not in admin_hidden["Opportunity"]
                and o.stage not in ("WON", "LOST")
                and not o.locked
                and o.id not in changed
            )
            changed.add(target.id)
            stage = "PROPOSAL" if target.stage != "PROPOSAL" else "QUALIFICATION"
            await ok(
                live,
                STAGE,
                {"input": {"id": gid("Opportunity", target.id), "stage": stage}},
                writable.admin_token,
                "changeOpportunityStage",
            )
        await ok(
            live,
            STAGE,
            {"input": {"id": fence["opportunity"]["id"], "stage": "QUALIFICATION"}},
            writable.admin_token,
            "changeOpportunityStage",
        )

        found: list[str] = []
        for role, (socket, op) in sockets.items():
            _, _, secrets = truths[role]
            while True:
                event = await socket.next(op)
                data = (event.get("data") or {}).get("opportunityEvents") or {}
                found += leaks.leaks(secrets, event, f"{role}'s {data.get('kind')} event")
                if data.get("opportunityId") == fence["opportunity"]["id"]:
                    break
                assert data, event
            await socket.close()
    assert not found, report(found, "events about rows the subscriber may not see")


TASK_CREATE = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  __typename ... on TaskPayload { task { id } } ... on UserError { message } } }"""
TASK_UPDATE = (
    """mutation($input: UpdateTaskInput!) { updateTask(input: $input) { __typename ... on UserError { message } } }"""
)
TASK_DELETE = (
    """mutation($input: DeleteTaskInput!) { deleteTask(input: $input) { __typename ... on UserError { message } } }"""
)


def task_events_document(role: str) -> str:
    """Every field of the event two levels deep, of the kinds of rows `role` may read."""
    event = schema._schema.subscription_type.fields["taskEvents"].type
    return f"subscription($since: ID) {{ taskEvents(since: $since) {{ {leaks.selection(event, 2, scopes=leaks.scopes_of(role))} }} }}"


async def test_no_subscriber_is_told_of_a_task_on_a_row_it_may_not_see(scene, writable):
    """Class 4, for tasks: each role subscribes to every task event (every field, two levels deep); the admin
    creates, changes and deletes tasks on opportunities some roles may not see, and the private account's
    creator one on its account; until a last change on a task everyone sees, no subscriber gets an event
    about a hidden task, nor any fact of a hidden row."""
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        live = GraphQLClient(http, writable.admin_token)
        rows = await scene.rows()
        rep = scene.callers["SALES_REP"]
        shared = next(a for a in rows["accounts"] if a.is_global and not a.is_private)
        fence_deal = await ok(
            live,
            CREATE,
            {
                "input": {
                    "name": "Task fence",
                    "accountId": gid("Account", shared.id),
                    "ownerId": gid("User", rep.user_id),
                    "partnerId": gid("Partner", scene.callers["PARTNER"].partner_id),
                }
            },
            writable.admin_token,
            "createOpportunity",
        )
        fence = await ok(
            live,
            TASK_CREATE,
            {
                "input": {
                    "attachToId": fence_deal["opportunity"]["id"],
                    "title": "Fence call",
                    "assigneeId": gid("User", rep.user_id),
                }
            },
            writable.admin_token,
            "createTask",
        )
        truths = {role: await scene.truth(role) for role in ROLES}
        await server.app.state.dispatcher.dispatch_once()
        since = (await live.data("{ latestEventId }"))["latestEventId"]
        sockets = {}
        for role, caller in scene.callers.items():
            socket = await GraphQLSocket.open(server.url, caller.token)
            sockets[role] = (socket, await socket.subscribe(task_events_document(role), {"since": since}))

        _, admin_hidden, _ = truths["ADMIN"]
        told_not: dict[str, set[str]] = {role: set() for role in ROLES}  # the tasks each role must not hear of
        for role in ("SALES_DIRECTOR", "SALES_REP", "PARTNER"):
            _, hidden, _ = truths[role]
            target = next(
                o
                for o in truths["ADMIN"][0]["opportunities"]
                if o.id in hidden["Opportunity"] and o.id not in admin_hidden["Opportunity"]
            )
            made = await ok(
                live,
                TASK_CREATE,
                {"input": {"attachToId": gid("Opportunity", target.id), "title": f"Hidden from {role}"}},
                writable.admin_token,
                "createTask",
            )
            task_id = made["task"]["id"]
            told_not[role].add(task_id)
            await ok(
                live,
                TASK_UPDATE,
                {"input": {"id": task_id, "notes": "Secret notes"}},
                writable.admin_token,
                "updateTask",
            )
            await ok(live, TASK_DELETE, {"input": {"id": task_id}}, writable.admin_token, "deleteTask")
        owner = scene.private_owner
        private_task = await ok(
            live,
            TASK_CREATE,
            {"input": {"attachToId": gid("Account", scene.notes["private"]), "title": "Private account call"}},
            owner.token,
            "createTask",
        )
        for role in ROLES:
            told_not[role].add(private_task["task"]["id"])
        await ok(
            live,
            TASK_UPDATE,
            {"input": {"id": fence["task"]["id"], "title": "Fence call, moved"}},
            writable.admin_token,
            "updateTask",
        )

        found: list[str] = []
        for role, (socket, op) in sockets.items():
            _, hidden, secrets = truths[role]
            while True:
                event = await socket.next(op)
                data = (event.get("data") or {}).get("taskEvents") or {}
                assert data, event
                found += leaks.leaks(secrets, event, f"{role}'s {data.get('kind')} task event")
                if data["taskId"] == fence["task"]["id"]:
                    break
                if data["taskId"] in told_not[role]:
                    found.append(f"{role} was told of a task on a row it may not see ({data['kind']})")
            await socket.close()
    assert not found, report(found, "task events about rows the subscriber may not see")


CONTRACT_RENEW = """mutation($input: RenewContractInput!) { renewContract(input: $input) {
  __typename ... on UserError { message } } }"""
CONTRACT_CANCEL = """mutation($input: CancelContractInput!) { cancelContract(input: $input) {
  __typename ... on UserError { message } } }"""
CONTRACT_REMOVE = """mutation($input: RemoveContractInput!) { removeContract(input: $input) {
  __typename ... on UserError { message } } }"""


def contract_events_document(role: str) -> str:
    """Every field of the event two levels deep, of the kinds of rows `role` may read."""
    event = schema._schema.subscription_type.fields["contractEvents"].type
    return f"subscription($since: ID) {{ contractEvents(since: $since) {{ {leaks.selection(event, 2, scopes=leaks.scopes_of(role))} }} }}"


async def test_no_subscriber_is_told_of_a_contract_it_may_not_see(scene, writable):
    """Class 4, for contracts: each role subscribes to every contract event (every field, two levels deep);
    the admin renews, cancels and removes contracts some roles may not see, then cancels one contract each
    role sees (its fence); until its fence, no subscriber gets an event about a hidden contract, nor any
    fact of a hidden row (a removed contract is judged by the row as it was)."""
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        live = GraphQLClient(http, writable.admin_token)
        # The server's scheduler ends the seed's contracts that are over by today's date as it starts: wait
        # for that (schedulers take turns) before reading which contracts are active.
        await server.app.state.scheduler.run_due()
        rows = await scene.rows()
        truths = {role: await scene.truth(role) for role in ROLES}
        _, admin_hidden, _ = truths["ADMIN"]
        active = [c for c in rows["contracts"] if c.status == "ACTIVE" and c.id not in admin_hidden["Contract"]]
        used: set[int] = set()
        fences: dict[str, int] = {}
        for role in ROLES:
            _, hidden, _ = truths[role]
            fence = next((c.id for c in active if c.id not in hidden["Contract"] and c.id not in used), None)
            assert fence is not None, f"{role} must see an active contract, or the test proves nothing"
            fences[role] = fence
            used.add(fence)
        await server.app.state.dispatcher.dispatch_once()
        since = (await live.data("{ latestEventId }"))["latestEventId"]
        sockets = {}
        for role, caller in scene.callers.items():
            socket = await GraphQLSocket.open(server.url, caller.token)
            sockets[role] = (socket, await socket.subscribe(contract_events_document(role), {"since": since}))

        told_not: dict[str, set[str]] = {role: set() for role in ROLES}  # the contracts each role must not hear of
        for role in ("SALES_DIRECTOR", "SALES_REP", "PARTNER"):
            _, hidden, _ = truths[role]
            secret = [c for c in active if c.id in hidden["Contract"] and c.id not in used and c.kind == "TIME_BASED"]
            assert len(secret) >= 2, f"{role} must not see some contracts, or the test proves nothing"
            renewed, removed = secret[0].id, secret[1].id
            used |= {renewed, removed}
            told_not[role] |= {gid("Contract", renewed), gid("Contract", removed)}
            await ok(
                live, CONTRACT_RENEW, {"input": {"id": gid("Contract", renewed)}}, writable.admin_token, "renewContract"
            )
            await ok(
                live,
                CONTRACT_CANCEL,
                {"input": {"id": gid("Contract", renewed), "reason": "Secret reason"}},
                writable.admin_token,
                "cancelContract",
            )
            await ok(
                live,
                CONTRACT_REMOVE,
                {"input": {"id": gid("Contract", removed)}},
                writable.admin_token,
                "removeContract",
            )
        for fence in fences.values():
            await ok(
                live,
                CONTRACT_CANCEL,
                {"input": {"id": gid("Contract", fence), "reason": "Fence"}},
                writable.admin_token,
                "cancelContract",
            )

        found: list[str] = []
        for role, (socket, op) in sockets.items():
            _, hidden, secrets = truths[role]
            while True:
                event = await socket.next(op)
                data = (event.get("data") or {}).get("contractEvents") or {}
                assert data, event
                found += leaks.leaks(secrets, event, f"{role}'s {data.get('kind')} contract event")
                if data["contractId"] in told_not[role]:
                    found.append(f"{role} was told of a contract it may not see ({data['kind']})")
                if data["contractId"] == gid("Contract", fences[role]):
                    break
            await socket.close()
    assert not found, report(found, "contract events about rows the subscriber may not see")


# --- raw keys ---


def test_no_output_field_of_the_schema_is_a_raw_database_key():
    """No answer holds a raw key by construction: no output field is a number, a string or JSON named
    like an id (ids are `ID`, global); history values are checked by the scans above."""
    found = []
    for type_ in schema._schema.type_map.values():
        if type_.name.startswith("__") or not hasattr(type_, "fields") or isinstance(type_, GraphQLInputObjectType):
            continue
        for name, child in type_.fields.items():
            inner = get_named_type(child.type).name
            if inner != "ID" and leaks._id_like(name) and name not in leaks.NOT_KEYS:
                found.append(f"{type_.name}.{name}: {child.type}")
    assert not found, report(found, "output fields that carry raw keys")


@pytest.mark.parametrize("role", ROLES)
async def test_no_answer_holds_a_raw_database_key(scene, api, role):
    """Whatever the row: the probes' answers, history, webhook answers and errors carry global ids only."""
    caller = scene.callers[role]
    rows, hidden, _ = await scene.truth(role)
    found: list[str] = []
    for p in await probes_of(scene, api, role):
        found += leaks.raw_keys(p.hidden[1], p.where) + leaks.raw_keys(p.missing[1], p.where)
    entities = sorted({(e.entity_type, e.entity_id) for e in rows["audit_entries"]})
    chunk = [gid(kind, pk) for kind, pk in entities if pk not in hidden.get(kind, ())][:60]
    query = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id "
        + " ".join(
            f"... on {kind} {{ {leaks.history_selection(leaks.scopes_of(role))} }}"
            for kind in ("Account", "Opportunity", "Quote")
        )
        + " } }"
    )
    found += leaks.raw_keys((await answer(api, query, {"ids": chunk}, caller.token))[1], "history")
    response = await api.http.post(
        INGEST,
        json={"lastName": "Raw", "utmSource": "side-door-other"},
        headers={"Authorization": f"Bearer {caller.token}"},
    )
    found += leaks.raw_keys(response.json(), f"POST {INGEST}")
    assert not found, report(found, "raw keys in answers")


@pytest.mark.parametrize("role", ROLES)
async def test_a_price_book_for_agreements_is_seen_only_with_one_of_its_accounts_and_names_no_other(scene, api, role):
    """Price books for agreements (issue 18): a book linked to accounts is seen by an admin and by whoever sees
    one of them (the scene's first agreement book by the admin alone, the second by whoever sees its second
    account), a book for every customer by everyone; every book seen, with everything it offers two levels
    deep, names only the accounts its reader may see, and nothing of a hidden book shows anywhere in it."""
    caller = scene.callers[role]
    rows, hidden, secrets = await scene.truth(role)
    book = schema._schema.get_type("PriceBook")
    held = leaks.scopes_of(role)
    query = (
        f"{{ priceBooks(first: 100) {{ nodes {{ {leaks.selection(book, 2, scopes=held)} "
        f"{leaks.history_selection(held)} }} }} }}"
    )
    _, body = await answer(api, query, None, caller.token)
    assert "errors" not in body, body
    books = {b["id"]: b for b in body["data"]["priceBooks"]["nodes"]}
    assert {ids.decode(b)[1] for b in books} == {b.id for b in rows["price_books"]} - hidden["PriceBook"]
    for note in ("agreement", "shared agreement"):
        key = ids.decode(scene.notes[note])[1]
        linked = [r.account_id for r in rows["price_book_accounts"] if r.price_book_id == key]
        visible = [pk for pk in linked if pk not in hidden["Account"]]
        if scene.notes[note] not in books:
            assert not visible and role != "ADMIN", (note, role)
            continue
        shown = [ids.decode(a["id"])[1] for a in books[scene.notes[note]]["accounts"]]
        assert sorted(shown) == sorted(visible) and (bool(shown) or role == "ADMIN"), (note, role)
    assert (scene.notes["agreement"] in books) == (role == "ADMIN")
    if role in ("ADMIN", "SALES_REP"):  # (the rep sees its second account)
        assert scene.notes["shared agreement"] in books
    found = leaks.leaks(secrets, body, f"{role}'s price books")
    assert not found, report(found, "facts of hidden accounts in price books")


SELECTIONS = """{ selections(first: 100) { totalCount nodes { id name owner { id } ownerPartner { id } criteria
  members(first: 100) { totalCount nodes { ... on Account { id name email } ... on Opportunity { id name
    estimatedRevenue { amount currency } } ... on Contact { id email firstName lastName } ... on Lead { id email company } } } } } }"""


@pytest.mark.parametrize("role", ROLES)
async def test_a_shared_selection_shows_no_member_its_reader_may_not_see(scene, api, role):
    """Selections (issue 17): each role lists every selection it may read with all their members; it reads
    exactly the selections its rules allow, each member list holds only rows it may see, and nothing of a
    hidden row (nor of a selection it may not read) is in the answer."""
    caller = scene.callers[role]
    rows, hidden, secrets = await scene.truth(role)
    _, body = await answer(api, SELECTIONS, None, caller.token)
    assert "errors" not in body, body
    listed = body["data"]["selections"]["nodes"]
    expected = {r.id for r in rows["selections"]} - hidden["Selection"]
    assert {ids.decode(s["id"])[1] for s in listed} == expected
    assert any(s["members"]["totalCount"] for s in listed)
    found = leaks.leaks(secrets, body, f"{role}'s selections")
    for s in listed:
        for node in s["members"]["nodes"]:
            kind, pk = ids.decode(node["id"])
            if pk in hidden.get(kind, ()):
                found.append(f"{s['name']} shows {kind} {pk}, hidden from {role}")
    assert not found, report(found, "members of shared selections hidden from their reader")
