"""Contacts and accounts (issue 17, items 4, 6 and 7), over HTTP on SQLite and PostgreSQL, each answer compared
with plain Python over the rows and the visibility rules as test_visibility.py writes them, for every role:

- a person's own activities: `createSalesActivity(attachToId: <Contact>)`, `Contact.activities`, and an
  account's timeline (`Account.activities`: its own, its opportunities' and its contacts'; `attachedToIn`);
- the lead status a contact shows (a PROSPECT account whose category has lead status switched on), which the
  filter, the criteria and the contact board match exactly;
- `Account.relatedOpportunities`, the `isFavourite` filter and criterion, `reworkLead`'s own note field;
- relative dates in criteria: SAINT's "customers in category A not contacted in 3 months";
- migration 0017 on a database made by 0016: rework notes move to their field, and no category is switched
  off."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from alembic import command
from sqlalchemy import column as sql_column
from sqlalchemy import insert, select
from sqlalchemy import table as sql_table

from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from persistence import tables
from persistence.db import create_engine
from persistence.migrate import alembic_config, upgrade_async
from tests.conftest import ANCHOR, GraphQLClient, new_database_url, statements
from tests.integration.test_criteria import Oracle
from tests.integration.test_visibility import Caller, World
from tests.support.rows import table_rows

ROLES = ["ADMIN", "SALES_DIRECTOR", "SALES_REP", "PARTNER"]
STATUSES = ["OPEN", "CONTACTING", "QUALIFIED", "DISQUALIFIED", "REWORK"]
# The read's clock for relative criteria: the seed's anchor, so "the last 3 months" reaches into its data.
NOW = ANCHOR + timedelta(days=1, hours=3)

SET_CATEGORY = """mutation($input: SetCategoryLeadStatusInput!) { setCategoryLeadStatus(input: $input) {
  __typename ... on CategorySettingPayload { categorySetting { category leadStatus } }
  ... on PermissionDeniedError { message } } }"""
LOG = """mutation($input: CreateSalesActivityInput!) { createSalesActivity(input: $input) {
  __typename ... on SalesActivityPayload { activity { id contact { id } } } } }"""
RELATE = """mutation($input: RelatedAccountInput!) { addRelatedAccount(input: $input) { __typename } }"""
FAVOURITE = """mutation($input: FavouriteAccountInput!) { addFavouriteAccount(input: $input) { __typename } }"""


async def _rows(engine) -> dict[str, list]:
    return await table_rows(
        engine,
        "users",
        "accounts",
        "opportunities",
        "quotes",
        "contracts",
        "contacts",
        "leads",
        "sales_activities",
        "tasks",
        "partners",
        "campaigns",
        "contact_types",
        "status_indicators",
        "account_favourites",
        "category_settings",
        "opportunity_related_accounts",
    )


@pytest.fixture(scope="module")
async def scene(writable):
    """The seed with "Hot prospect" switched off, activities on contacts (one on a contact of an account a
    partner manages), related accounts, favourites, and a reworked lead; then every row and the callers."""
    app = create_app(writable.engine, dispatch=False, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        admin = GraphQLClient(http, writable.admin_token)
        switched = await admin.data(SET_CATEGORY, {"input": {"category": "Hot prospect", "leadStatus": False}})
        assert switched["setCategoryLeadStatus"]["categorySetting"] == {"category": "Hot prospect", "leadStatus": False}
        rows = await _rows(writable.engine)
        partner_accounts = {a.id for a in rows["accounts"] if a.partner_id == writable.summary.partner_id}
        people = sorted(rows["contacts"], key=lambda c: (c.account_id not in partner_accounts, c.id))
        people = [c for c in people if c.account_id is not None][:3]
        for n, person in enumerate(people):
            data = await admin.data(
                LOG,
                {
                    "input": {
                        "attachToId": ids.encode("Contact", person.id),
                        "type": "CALL",
                        "subject": f"Call {n}",
                        "done": True,
                        "occurredAt": (NOW - timedelta(days=10 + 40 * n)).isoformat(),
                    }
                },
            )
            assert data["createSalesActivity"]["activity"]["contact"]["id"] == ids.encode("Contact", person.id)
        deals = rows["opportunities"]
        for deal, account in zip(deals[:6], rows["accounts"][5:11], strict=True):
            await admin.data(
                RELATE,
                {
                    "input": {
                        "opportunityId": ids.encode("Opportunity", deal.id),
                        "accountId": ids.encode("Account", account.id),
                    }
                },
            )
        for account in rows["accounts"][::7]:
            await admin.data(FAVOURITE, {"input": {"accountId": ids.encode("Account", account.id)}})
    rows = await _rows(writable.engine)
    callers = {
        "ADMIN": Caller("ADMIN", writable.admin_token, user_id=writable.summary.admin_user_id),
        "PARTNER": Caller("PARTNER", writable.partner_token, partner_id=writable.summary.partner_id),
    }
    for role in ("SALES_DIRECTOR", "SALES_REP"):
        user = next(u for u in rows["users"] if u.role == role)
        callers[role] = Caller(
            role, await issue_token(writable.engine, name=f"{role} k", user_id=user.id), user_id=user.id
        )
    world = World(rows, callers)
    world.now = NOW
    return world


@pytest.fixture
async def at_now(writable):
    """A client on an app whose clock is NOW (relative criteria are read against it)."""
    app = create_app(writable.engine, dispatch=False, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield GraphQLClient(http, writable.admin_token)


def shown(world: World, contact) -> str | None:
    """The lead status a contact shows, in plain Python."""
    off = {s.category for s in world.rows["category_settings"] if not s.lead_status}
    account = next((a for a in world.rows["accounts"] if a.id == contact.account_id), None)
    if account is None or account.category_group != "PROSPECT" or account.category in off:
        return None
    return contact.lead_status


CONTACTS = """query($f: ContactFilter, $c: Criteria) { contacts(first: 100, filter: $f, criteria: $c) {
  totalCount nodes { id leadStatus } } }"""


async def test_the_lead_status_filter_returns_exactly_the_contacts_that_show_that_status(at_now, scene):
    world = scene
    assert {s.category: s.lead_status for s in world.rows["category_settings"]}["Hot prospect"] is False
    hidden_but_open = [c for c in world.rows["contacts"] if c.lead_status == "OPEN" and shown(world, c) is None]
    assert hidden_but_open  # stored OPEN, shown as none: the rows the old filter wrongly returned
    for role in ROLES:
        caller = world.callers[role]
        visible = [c for c in world.rows["contacts"] if c.id in world.contacts(caller)]
        for status in STATUSES:
            expected = {c.id for c in visible if shown(world, c) == status}
            for variables in ({"f": {"leadStatus": status}}, {"c": {"field": "LEAD_STATUS", "in": [status]}}):
                page = (await at_now.data(CONTACTS, variables, token=caller.token))["contacts"]
                assert page["totalCount"] == len(expected), (role, status, variables)
                assert {ids.decode(n["id"])[1] for n in page["nodes"]} == expected
                assert {n["leadStatus"] for n in page["nodes"]} <= {status}
        others = {c.id for c in visible if shown(world, c) not in ("OPEN", "CONTACTING")}
        page = (
            await at_now.data(
                CONTACTS, {"c": {"field": "LEAD_STATUS", "notIn": ["OPEN", "CONTACTING"]}}, token=caller.token
            )
        )["contacts"]
        assert page["totalCount"] == len(others), role


BOARD = (
    """query($c: Criteria) { contactBoard(limit: 3, criteria: $c) { status totalCount contacts { id leadStatus } } }"""
)


async def test_the_contact_board_has_a_column_per_lead_status_counting_what_each_contact_shows(at_now, scene):
    world = scene
    for role in ("ADMIN", "PARTNER", "SALES_REP"):
        caller = world.callers[role]
        visible = [c for c in world.rows["contacts"] if c.id in world.contacts(caller)]
        board = (await at_now.data(BOARD, token=caller.token))["contactBoard"]
        assert [column["status"] for column in board] == STATUSES
        for column in board:
            expected = {c.id for c in visible if shown(world, c) == column["status"]}
            assert column["totalCount"] == len(expected), (role, column["status"])
            assert len(column["contacts"]) == min(3, len(expected))
            assert {ids.decode(n["id"])[1] for n in column["contacts"]} <= expected
            assert {n["leadStatus"] for n in column["contacts"]} <= {column["status"]}


TIMELINE = """query($id: ID!, $f: SalesActivityFilter) { node(id: $id) { ... on Account {
  activities(first: 100, filter: $f) { totalCount nodes { id } }
  relatedOpportunities { id }
  contacts(first: 50) { nodes { id activities(first: 50) { totalCount nodes { id } } } } } } }"""


async def test_an_accounts_timeline_holds_its_own_its_opportunities_and_its_contacts_activities(at_now, scene):
    world = scene
    on_contacts = [a for a in world.rows["sales_activities"] if a.contact_id is not None]
    assert on_contacts
    accounts = {next(c.account_id for c in world.rows["contacts"] if c.id == a.contact_id) for a in on_contacts}
    related = {r.account_id for r in world.rows["opportunity_related_accounts"]}
    for role in ROLES:
        caller = world.callers[role]
        oracle = Oracle(world, caller)
        seen_accounts = world.accounts(caller)
        activities = world.activities(caller)
        deals = world.opportunities(caller)
        for account in sorted((accounts | set(sorted(related)[:3])) & seen_accounts):
            node = (await at_now.data(TIMELINE, {"id": ids.encode("Account", account)}, token=caller.token))["node"]
            expected = {
                a.id for a in world.rows["sales_activities"] if a.id in activities and oracle.on_timeline(a) == account
            }
            assert node["activities"]["totalCount"] == len(expected), (role, account)
            assert {ids.decode(n["id"])[1] for n in node["activities"]["nodes"]} == expected
            own = (
                await at_now.data(
                    TIMELINE,
                    {"id": ids.encode("Account", account), "f": {"attachedToIn": ["ACCOUNT"]}},
                    token=caller.token,
                )
            )["node"]["activities"]
            assert {ids.decode(n["id"])[1] for n in own["nodes"]} == {
                a.id for a in world.rows["sales_activities"] if a.id in activities and a.account_id == account
            }
            for person in node["contacts"]["nodes"]:
                pk = ids.decode(person["id"])[1]
                mine = {a.id for a in world.rows["sales_activities"] if a.id in activities and a.contact_id == pk}
                assert {ids.decode(n["id"])[1] for n in person["activities"]["nodes"]} == mine
            expected_related = {
                r.opportunity_id
                for r in world.rows["opportunity_related_accounts"]
                if r.account_id == account and r.opportunity_id in deals
            }
            assert {ids.decode(n["id"])[1] for n in node["relatedOpportunities"]} == expected_related, role


FAVOURITES = """query($f: AccountFilter, $c: Criteria) { accounts(first: 100, filter: $f, criteria: $c) { totalCount nodes { id isFavourite } } }"""


async def test_favourites_are_listed_and_filtered(at_now, scene):
    world = scene
    assert world.rows["account_favourites"]
    for role in ("ADMIN", "PARTNER"):
        caller = world.callers[role]
        mine = {f.account_id for f in world.rows["account_favourites"] if f.user_id == caller.user_id}
        expected = mine & world.accounts(caller)
        for variables in ({"f": {"isFavourite": True}}, {"c": {"field": "IS_FAVOURITE", "is": True}}):
            page = (await at_now.data(FAVOURITES, variables, token=caller.token))["accounts"]
            assert {ids.decode(n["id"])[1] for n in page["nodes"]} == expected, (role, variables)
            assert all(n["isFavourite"] for n in page["nodes"])
        others = (await at_now.data(FAVOURITES, {"f": {"isFavourite": False}}, token=caller.token))["accounts"]
        assert others["totalCount"] == len(world.accounts(caller) - expected)
    assert expected == set()  # a partner has no favourites


SAINT = {
    "and": [
        {"field": "CATEGORY_GROUP", "in": ["CUSTOMER"]},
        {"field": "CATEGORY", "in": ["Key customer"]},
        {"hasNot": "ACTIVITIES", "where": {"field": "OCCURRED_AT", "fromRelative": {"ago": 3, "unit": "MONTHS"}}},
    ]
}


async def test_customers_in_category_a_not_contacted_in_3_months_for_every_role(at_now, scene):
    world = scene
    tree = {
        "and": [
            *SAINT["and"][:2],
            {"hasNot": "ACTIVITIES", "where": {"field": "OCCURRED_AT", "min": {"ago": 3, "unit": "MONTHS"}}},
        ]
    }
    query = """query($c: Criteria) { accounts(first: 100, criteria: $c) { totalCount nodes { id } } }"""
    found_some = False
    for role in ROLES:
        oracle = Oracle(world, world.callers[role])
        expected = oracle.expected("ACCOUNT", tree)
        page = (await at_now.data(query, {"c": SAINT}, token=world.callers[role].token))["accounts"]
        assert {ids.decode(n["id"])[1] for n in page["nodes"]} == expected, role
        assert page["totalCount"] == len(expected)
        contacted = oracle.expected("ACCOUNT", {"and": tree["and"][:2]}) - expected
        found_some |= bool(expected) and bool(contacted)
    assert found_some  # some customers were contacted lately and some not: the condition decides
    weeks = {"field": "DUE_AT", "toRelative": {"ahead": 2, "unit": "WEEKS"}, "fromRelative": {"ago": 0, "unit": "DAYS"}}
    page = await at_now.data(
        """query($c: Criteria) { salesActivities(first: 1, criteria: $c) { totalCount } }""", {"c": weeks}
    )
    due = [
        a
        for a in world.rows["sales_activities"]
        if a.due_at is not None and NOW <= a.due_at <= NOW + timedelta(weeks=2)
    ]
    assert page["salesActivities"]["totalCount"] == len(due)


async def test_a_relative_criterion_is_checked_and_cannot_scope_a_monitor(at_now, scene):
    bad = await at_now.post(
        """query { accounts(first: 1, criteria: {field: CREATED_AT, fromRelative: {unit: DAYS}}) { totalCount } }"""
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "VALIDATION"
    made = await at_now.data(
        """mutation($c: Criteria!) { createSelection(input: {name: "Quiet", entityType: ACCOUNT, criteria: $c}) {
          ... on SelectionPayload { selection { id criteria } } } }""",
        {"c": SAINT},
    )
    selection = made["createSelection"]["selection"]
    assert selection["criteria"]["and"][2]["where"]["fromRelative"] == {"ago": 3, "unit": "MONTHS"}
    refused = await at_now.data(
        """mutation($s: ID!) { createStatusMonitor(input: {name: "Scoped", entityType: ACCOUNT,
          rule: {kind: NO_ACTIVITY, days: 30}, scope: {selectionId: $s}}) { __typename ... on ValidationError { field } } }""",
        {"s": selection["id"]},
    )
    assert refused["createStatusMonitor"] == {"__typename": "ValidationError", "field": "scope.selectionId"}


async def test_rework_keeps_its_note_in_its_own_field(at_now, scene):
    world = scene
    lead = next(x for x in world.rows["leads"] if x.status == "DISQUALIFIED" and not x.archived and not x.anonymized)
    data = await at_now.data(
        """mutation($id: ID!) { reworkLead(input: {id: $id, note: "Call in Q3"}) {
          __typename ... on LeadPayload { lead { status reworkNote disqualificationReason } } } }""",
        {"id": ids.encode("Lead", lead.id)},
    )
    assert data["reworkLead"]["__typename"] == "LeadPayload", data
    assert data["reworkLead"]["lead"] == {
        "status": "REWORK",
        "reworkNote": "Call in Q3",
        "disqualificationReason": None,
    }


async def test_a_category_switch_is_for_admins(at_now, scene):
    world = scene
    rep = world.callers["SALES_REP"]
    refused = await at_now.data(SET_CATEGORY, {"input": {"category": "Prospect", "leadStatus": False}}, token=rep.token)
    assert refused["setCategoryLeadStatus"]["__typename"] == "PermissionDeniedError"


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
async def test_migration_0017_moves_rework_notes_and_keeps_prospect_categories_showing(
    backend_name, request, tmp_path_factory
):
    url = new_database_url(backend_name, request, tmp_path_factory)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0016_pricebooks")
    engine = create_engine(url)
    at = datetime(2026, 6, 1, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            leads = [
                {"last_name": "Reworked", "status": "REWORK", "disqualification_reason": "Call in Q3"},
                {"last_name": "Out", "status": "DISQUALIFIED", "disqualification_reason": "No budget"},
                {"last_name": "New", "status": "OPEN", "disqualification_reason": None},
            ]
            # Rows as the code of that revision wrote them (today's tables have columns 0016 has not).
            old_leads = sql_table(
                "leads",
                *(sql_column(c) for c in ("last_name", "status", "disqualification_reason", "priority", "archived")),
                *(sql_column(c) for c in ("anonymized", "created_at", "updated_at")),
            )
            old_accounts = sql_table(
                "accounts",
                *(sql_column(c) for c in ("kind", "name", "category_group", "category", "custom_attributes")),
                *(sql_column(c) for c in ("key_account", "is_global", "is_private")),
            )
            for row in leads:
                await conn.execute(
                    insert(old_leads).values(
                        **row, priority=0, archived=False, anonymized=False, created_at=at, updated_at=at
                    )
                )
            for name, group, category in (("A", "PROSPECT", "Hot"), ("B", "PROSPECT", None), ("C", "CUSTOMER", "Key")):
                await conn.execute(
                    insert(old_accounts).values(
                        kind="ORGANIZATION",
                        name=name,
                        category_group=group,
                        category=category,
                        custom_attributes="{}",
                        key_account=False,
                        is_global=False,
                        is_private=False,
                    )
                )
        await upgrade_async(url)
        async with engine.connect() as conn:
            moved = [
                tuple(r)
                for r in await conn.execute(
                    select(
                        tables.leads.c.last_name, tables.leads.c.disqualification_reason, tables.leads.c.rework_note
                    ).order_by(tables.leads.c.id)
                )
            ]
            settings = [
                tuple(r)
                for r in await conn.execute(
                    select(tables.category_settings.c.category, tables.category_settings.c.lead_status)
                )
            ]
        assert moved == [("Reworked", None, "Call in Q3"), ("Out", "No budget", None), ("New", None, None)]
        assert settings == []  # no category is switched off: what showed still shows
    finally:
        await engine.dispose()


async def test_timelines_and_the_contact_board_cost_fixed_statements(at_now, scene):
    """A page of accounts with their timelines is one statement more than the page alone, as with any
    nested list; the contact board costs what the lead board costs (counts, then each column's first rows)."""
    plain = "{ accounts(first: 20) { nodes { id } } }"
    with_timelines = "{ accounts(first: 20) { nodes { id activities(first: 3) { totalCount nodes { id } } } } }"
    await at_now.post(plain)  # the token's lookup is cached from here on
    assert statements(await at_now.post(with_timelines)) == statements(await at_now.post(plain)) + 1
    lead_board = statements(await at_now.post("{ leadBoard(limit: 3) { status totalCount leads { id } } }"))
    contact_board = statements(await at_now.post("{ contactBoard(limit: 3) { status totalCount contacts { id } } }"))
    assert contact_board == lead_board
