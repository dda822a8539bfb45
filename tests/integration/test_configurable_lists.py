"""Configurable lists (issue 17, item 5) over HTTP on both databases: activity types, account types, campaign
statuses, contract categories and contact categories are rows admins edit; the old enum names keep working
as key scalars; a value in use cannot be deleted, it can be deactivated; and a database made by the previous
revision (0018) migrates with every value it stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from alembic import command
from sqlalchemy import JSON, func, insert, select, text
from sqlalchemy import column as sql_column
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import table as sql_table

from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from persistence import tables
from persistence.db import create_engine
from persistence.migrate import alembic_config, upgrade_async
from tests.conftest import GraphQLClient, new_database_url, statements

ERRORS = "... on UserError { code message } ... on ValidationError { field }"
VALUE = "listValue { id listName key label position active personName archived leadStatus version }"
CREATE = f"""mutation($input: CreateListValueInput!) {{ createListValue(input: $input) {{
  __typename ... on ListValuePayload {{ {VALUE} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: UpdateListValueInput!) {{ updateListValue(input: $input) {{
  __typename ... on ListValuePayload {{ {VALUE} }} {ERRORS} }} }}"""
DELETE = f"""mutation($input: DeleteListValueInput!) {{ deleteListValue(input: $input) {{
  __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }} }}"""
SETTINGS = """{ settings {
  activityTypes { key label position active }
  accountTypes { key personName active }
  campaignStatuses { key archived active }
  contractCategories { key active }
  contactCategories { key leadStatus active } } }"""
LOG = f"""mutation($input: CreateSalesActivityInput!) {{ createSalesActivity(input: $input) {{
  __typename ... on SalesActivityPayload {{ activity {{ id type subject version }} }} {ERRORS} }} }}"""


def pk(global_id: str) -> int:
    return ids.decode(global_id)[1]


async def first_id(engine, table) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.min(table.c.id)))).scalar_one()


async def create(api, **values) -> dict:
    data = (await api.data(CREATE, {"input": values}))["createListValue"]
    assert data["__typename"] == "ListValuePayload", data
    return data["listValue"]


async def test_an_activity_type_is_created_used_filtered_refused_when_deleted_in_use_and_deactivated(api, writable):
    made = await create(api, listName="ACTIVITY_TYPE", key="DEMO", label="Product demo")
    assert (made["listName"], made["key"], made["active"], made["version"]) == ("ACTIVITY_TYPE", "DEMO", True, 1)
    assert (made["personName"], made["archived"], made["leadStatus"]) == (None, None, None)
    types = (await api.data(SETTINGS))["settings"]["activityTypes"]
    assert [t["key"] for t in types] == ["CALL", "EMAIL", "MEETING", "TASK", "FOLLOW_UP", "REQUEST", "DEMO"]
    assert types[-1]["position"] == 6

    # The enum literal form and the string form, in a document and in a variable typed with the old enum name.
    opportunity = ids.encode("Opportunity", await first_id(writable.engine, tables.opportunities))
    literal = await api.data(
        f"""mutation {{ createSalesActivity(input: {{attachToId: "{opportunity}", type: DEMO, subject: "Demo 1"}}) {{
          __typename ... on SalesActivityPayload {{ activity {{ id type }} }} }} }}"""
    )
    assert literal["createSalesActivity"]["activity"]["type"] == "DEMO"
    logged = (await api.data(LOG, {"input": {"attachToId": opportunity, "type": "DEMO", "subject": "Demo 2"}}))[
        "createSalesActivity"
    ]["activity"]
    typed = await api.data(
        "query($t: ActivityType!) { salesActivities(first: 50, filter: {type: $t}) { totalCount nodes { id type } } }",
        {"t": "DEMO"},
    )
    demo_ids = {literal["createSalesActivity"]["activity"]["id"], logged["id"]}
    assert {n["id"] for n in typed["salesActivities"]["nodes"]} == demo_ids
    criteria = await api.data('{ salesActivities(first: 50, criteria: {field: TYPE, in: ["DEMO"]}) { totalCount } }')
    assert criteria["salesActivities"]["totalCount"] == 2

    # A monitor may name it; the delete then names both users.
    monitor = await api.data(
        """mutation($input: CreateStatusMonitorInput!) { createStatusMonitor(input: $input) {
          __typename ... on StatusMonitorPayload { statusMonitor { rule { activityTypes } } } } }""",
        {
            "input": {
                "name": "No demo in 2 months",
                "entityType": "OPPORTUNITY",
                "rule": {"kind": "NO_ACTIVITY", "days": 60, "activityTypes": ["DEMO", "MEETING"]},
            }
        },
    )
    assert monitor["createStatusMonitor"]["statusMonitor"]["rule"]["activityTypes"] == ["DEMO", "MEETING"]
    refused = (await api.data(DELETE, {"input": {"id": made["id"]}}))["deleteListValue"]
    assert refused["__typename"] == "ConflictError", refused
    assert "'DEMO'" in refused["message"] and "2 activities" in refused["message"]
    assert "1 status monitors" in refused["message"] and "deactivate" in refused["message"]

    # Deactivated: refused on new writes, still shown and kept on the rows that have it.
    off = (await api.data(UPDATE, {"input": {"id": made["id"], "active": False, "version": 1}}))["updateListValue"]
    assert off["listValue"]["active"] is False and off["listValue"]["version"] == 2
    again = (await api.data(LOG, {"input": {"attachToId": opportunity, "type": "DEMO", "subject": "Demo 3"}}))[
        "createSalesActivity"
    ]
    assert again["__typename"] == "ValidationError" and again["field"] == "type", again
    assert "'DEMO'" in again["message"] and "activity type" in again["message"] and "inactive" in again["message"]
    kept = await api.data(
        """mutation($id: ID!) { updateSalesActivity(input: {id: $id, subject: "Demo 2, moved"}) {
          __typename ... on SalesActivityPayload { activity { type subject } } } }""",
        {"id": logged["id"]},
    )
    assert kept["updateSalesActivity"]["activity"] == {"type": "DEMO", "subject": "Demo 2, moved"}
    unknown = (await api.data(LOG, {"input": {"attachToId": opportunity, "type": "WEBINAR", "subject": "x"}}))[
        "createSalesActivity"
    ]
    assert (
        unknown["__typename"] == "ValidationError"
        and "'WEBINAR' is not a key of the activity type list" in (unknown["message"])
    )

    # The value's history: created, then its active flag.
    history = await api.data(
        "query($id: ID!) { node(id: $id) { ... on ListValue { history(first: 10) { nodes { field oldValue newValue } } } } }",
        {"id": made["id"]},
    )
    assert [(n["field"], n["oldValue"], n["newValue"]) for n in history["node"]["history"]["nodes"]] == [
        ("created", None, "DEMO"),
        ("active", True, False),
    ]


async def test_keys_are_checked_and_only_admins_change_lists_while_everyone_reads_them(api, writable):
    for values, field in (
        ({"listName": "ACTIVITY_TYPE", "key": "webinar", "label": "Webinar"}, "key"),
        ({"listName": "ACTIVITY_TYPE", "key": "A_VERY_LONG_ACTIVITY", "label": "Too long"}, "key"),
        ({"listName": "ACTIVITY_TYPE", "key": "WEBINAR", "label": "Webinar", "leadStatus": True}, "leadStatus"),
        ({"listName": "CAMPAIGN_STATUS", "key": "PAUSED", "label": " "}, "label"),
    ):
        bad = (await api.data(CREATE, {"input": values}))["createListValue"]
        assert bad["__typename"] == "ValidationError" and bad["field"] == field, (values, bad)
    twice = await api.data(CREATE, {"input": {"listName": "ACTIVITY_TYPE", "key": "CALL", "label": "Call"}})
    assert twice["createListValue"]["__typename"] == "ConflictError"
    async with writable.engine.connect() as conn:
        assert (
            await conn.execute(
                select(func.count()).select_from(tables.list_values).where(tables.list_values.c.key == "WEBINAR")
            )
        ).scalar_one() == 0
        users = dict(
            (
                await conn.execute(
                    select(tables.users.c.role, func.min(tables.users.c.id)).group_by(tables.users.c.role)
                )
            ).all()
        )
    rep_token = await issue_token(writable.engine, name="lists rep", user_id=users["SALES_REP"])
    director_token = await issue_token(writable.engine, name="lists director", user_id=users["SALES_DIRECTOR"])
    webinar = {"input": {"listName": "ACTIVITY_TYPE", "key": "WEBINAR", "label": "W"}}
    denied = await api.data(CREATE, webinar, token=director_token)  # the scope (users:write), not the role
    assert denied["createListValue"]["__typename"] == "PermissionDeniedError"
    assert (await api.post(CREATE, webinar, token=rep_token)).status_code == 403  # a rep's token lacks the scope
    admin_view = await api.data(SETTINGS)
    for token in (rep_token, writable.partner_token):
        assert await api.data(SETTINGS, token=token) == admin_view
    # An unused value is deleted; every list together is one statement (the token's lookup cached first).
    unused = await create(api, listName="CONTRACT_CATEGORY", key="LEASING", label="Leasing")
    deleted = (await api.data(DELETE, {"input": {"id": unused["id"], "version": 1}}))["deleteListValue"]
    assert deleted["deletedId"] == unused["id"]
    assert statements(await api.post(SETTINGS)) == 1
    # A row's value object (label, attributes): one statement more for a whole page.
    plain = "{ salesActivities(first: 30) { nodes { id type } } accounts(first: 30) { nodes { id category } } }"
    labelled = (
        "{ salesActivities(first: 30) { nodes { id type typeValue { key label } } } "
        "accounts(first: 30) { nodes { id category categoryValue { key leadStatus } } } }"
    )
    assert statements(await api.post(labelled)) == statements(await api.post(plain)) + 2
    page = await api.data(labelled)
    labels = {t["key"]: t["label"] for t in (await api.data(SETTINGS))["settings"]["activityTypes"]}
    for node in page["salesActivities"]["nodes"]:
        assert node["typeValue"] == {"key": node["type"], "label": labels[node["type"]]}
    switches = {c["key"]: c["leadStatus"] for c in (await api.data(SETTINGS))["settings"]["contactCategories"]}
    for node in page["accounts"]["nodes"]:
        expected = (
            None if node["category"] is None else {"key": node["category"], "leadStatus": switches[node["category"]]}
        )
        assert node["categoryValue"] == expected


async def test_account_types_campaign_statuses_and_categories_follow_their_rows(api, writable):
    household = await create(api, listName="ACCOUNT_TYPE", key="HOUSEHOLD", label="Household", personName=True)
    assert household["personName"] is True
    account = await api.data(
        """mutation { createAccount(input: {kind: HOUSEHOLD, firstName: "Kari", lastName: "Nordmann"}) {
          __typename ... on AccountPayload { account { id kind name } } ... on UserError { message } } }"""
    )
    assert account["createAccount"]["account"]["kind"] == "HOUSEHOLD"
    assert account["createAccount"]["account"]["name"] == "Kari Nordmann"
    nameless = await api.data(
        """mutation { createAccount(input: {kind: "HOUSEHOLD", firstName: "Kari", name: "Kari"}) {
          __typename ... on ValidationError { field } } }"""
    )
    assert nameless["createAccount"] == {"__typename": "ValidationError", "field": "lastName"}

    paused = await create(api, listName="CAMPAIGN_STATUS", key="PAUSED", label="Paused")
    assert paused["archived"] is False
    campaign = (
        await api.data(
            """mutation { createCampaign(input: {name: "Winter fair", status: PAUSED}) {
              __typename ... on CampaignPayload { campaign { id status } } } }"""
        )
    )["createCampaign"]["campaign"]
    assert campaign["status"] == "PAUSED"
    archived = await api.data(
        """mutation($id: ID!) { archiveCampaign(input: {id: $id}) { ... on CampaignPayload { campaign { status } } } }""",
        {"id": campaign["id"]},
    )
    assert archived["archiveCampaign"]["campaign"]["status"] == "ARCHIVED"
    listed = await api.data('{ campaigns(first: 50, filter: {status: "ARCHIVED"}) { nodes { id } } }')
    assert campaign["id"] in {n["id"] for n in listed["campaigns"]["nodes"]}

    await create(api, listName="CONTRACT_CATEGORY", key="CONSULTING", label="Consulting")
    product = await api.data(
        """mutation { createProduct(input: {name: "Advice", code: "ADV-1", category: CONSULTING}) {
          __typename ... on ProductPayload { product { category } } } }"""
    )
    assert product["createProduct"]["product"]["category"] == "CONSULTING"

    # A contact category with lead status off hides the lead status of its prospects' contacts.
    strategic = await create(api, listName="CONTACT_CATEGORY", key="STRATEGIC", label="Strategic", leadStatus=False)
    assert strategic["leadStatus"] is False
    async with writable.engine.connect() as conn:
        c, a = tables.contacts, tables.accounts
        found = (
            await conn.execute(
                select(a.c.id, a.c.version)
                .where(a.c.category_group == "PROSPECT", a.c.id.in_(select(c.c.account_id)))
                .order_by(a.c.id)
                .limit(1)
            )
        ).first()
    moved = await api.data(
        """mutation($id: ID!) { updateAccount(input: {id: $id, category: "STRATEGIC"}) {
          __typename ... on AccountPayload { account { category contacts(first: 20) { nodes { leadStatus } } } } } }""",
        {"id": ids.encode("Account", found.id)},
    )
    shown = moved["updateAccount"]["account"]
    assert shown["category"] == "STRATEGIC" and shown["contacts"]["nodes"]
    assert {n["leadStatus"] for n in shown["contacts"]["nodes"]} == {None}
    unknown = await api.data(
        """mutation($id: ID!) { updateAccount(input: {id: $id, category: "Nowhere"}) {
          __typename ... on ValidationError { field message } } }""",
        {"id": ids.encode("Account", found.id)},
    )
    assert unknown["updateAccount"]["field"] == "category" and "contact category" in unknown["updateAccount"]["message"]
    in_use = (await api.data(DELETE, {"input": {"id": strategic["id"]}}))["deleteListValue"]
    assert in_use["__typename"] == "ConflictError" and "1 accounts" in in_use["message"]


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
async def test_a_database_made_by_0016_and_0018_keeps_every_value_it_stored(backend_name, request, tmp_path_factory):
    """One database through the last migrations (migrating is the expensive part): rows written at 0016 (leads
    with rework notes, for 0017) and at 0018 (enum values, free-text categories, a category switched off) read
    the same through the API after the upgrade to the head, and every value they store is a row of its list."""
    url = new_database_url(backend_name, request, tmp_path_factory)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0016_pricebooks")
    engine = create_engine(url)
    at = datetime(2026, 6, 1, tzinfo=UTC)
    stamps = {"created_at": at, "updated_at": at}
    try:
        async with engine.begin() as conn:
            # 0017 moves a reworked lead's note out of disqualification_reason.
            for row in (
                {"last_name": "Reworked", "status": "REWORK", "disqualification_reason": "Call in Q3"},
                {"last_name": "Out", "status": "DISQUALIFIED", "disqualification_reason": "No budget"},
                {"last_name": "New", "status": "OPEN", "disqualification_reason": None},
            ):
                await conn.execute(
                    text(
                        "INSERT INTO leads (last_name, status, disqualification_reason, priority, archived, anonymized,"
                        " created_at, updated_at) VALUES (:last_name, :status, :disqualification_reason, 0, :no, :no,"
                        " :at, :at)"
                    ),
                    {**row, "no": False, "at": at},
                )
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0018_split")
        async with engine.begin() as conn:

            async def add(table, **row) -> int:
                """A row as that revision's code wrote it: the columns given, and today's defaults of the columns the
                table had then (today's tables have columns 0018 has not, and no longer custom_attributes)."""
                had = await conn.run_sync(lambda sync: {c["name"] for c in sa_inspect(sync).get_columns(table.name)})
                defaults = {
                    c.name: c.default.arg
                    for c in table.c
                    if c.name in had and c.name not in row and c.default is not None and c.default.is_scalar
                }
                values = {**defaults, **row}
                types = {"custom_attributes": JSON()}
                shape = sql_table(
                    table.name,
                    sql_column("id"),
                    *(sql_column(k, table.c[k].type if k in table.c else types[k]) for k in values),
                )
                return (await conn.execute(insert(shape).values(**values).returning(shape.c.id))).scalar_one()

            admin = await add(tables.users, name="Ada Admin", email="ada@x.example", role="ADMIN", **stamps)
            accounts = {
                (kind, category, group): await add(
                    tables.accounts,
                    kind=kind,
                    name=f"{kind} {category}",
                    first_name="Per" if kind == "PERSON" else None,
                    last_name="Son" if kind == "PERSON" else None,
                    category=category,
                    category_group=group,
                    custom_attributes={},
                    **stamps,
                )
                for kind, category, group in (
                    ("ORGANIZATION", "Hot prospect", "PROSPECT"),
                    ("PERSON", "Cold", "PROSPECT"),
                    ("LOGIN", None, "PROSPECT"),
                    ("ORGANIZATION", "Key customer", "CUSTOMER"),
                )
            }
            # category_settings, as 0017 made it (the code declares it no more).
            for category in ("Cold", "Unused"):
                await conn.execute(
                    text("INSERT INTO category_settings (category, lead_status) VALUES (:c, :on)"),
                    {"c": category, "on": False},
                )
            employee = await add(tables.contact_types, name="Employee", kind="EMPLOYEE", **stamps)
            for account_id in accounts.values():
                await add(
                    tables.contacts,
                    first_name="Eva",
                    last_name=f"Contact {account_id}",
                    contact_type_id=employee,
                    account_id=account_id,
                    lead_status="CONTACTING",
                    anonymized=False,
                    **stamps,
                )
            await add(
                tables.status_monitors,
                name="Scoped",
                icon="flag",
                colour="#ff0000",
                priority=1,
                entity_type="ACCOUNT",
                rule={"kind": "NO_ACTIVITY", "days": 30, "activity_types": ["CALL"], "activity_state": "ANY"},
                active=True,
                scope={"categories": ["Scoped only"]},
                **stamps,
            )
            for status in ("ACTIVE", "ARCHIVED"):
                await add(tables.campaigns, name=f"Campaign {status}", status=status, **stamps)
            product = await add(
                tables.products, name="Support", code="SUP", category="SUPPORT_SERVICE", active=True, **stamps
            )
            org = accounts[("ORGANIZATION", "Key customer", "CUSTOMER")]
            deal = await add(
                tables.opportunities,
                name="Deal",
                account_id=org,
                owner_id=admin,
                stage="WON",
                probability=100,
                **stamps,
            )
            await add(
                tables.contracts,
                account_id=org,
                opportunity_id=deal,
                product_id=product,
                name="Support 2026",
                kind="TIME_BASED",
                category="SUPPORT_SERVICE",
                quantity=Decimal(1),
                value_amount=Decimal(1500),
                value_currency="EUR",
                starts_on=date(2026, 1, 1),
                ends_on=date(2027, 1, 1),
                status="ACTIVE",
                **stamps,
            )
            for kind in ("CALL", "MEETING", "FOLLOW_UP"):
                await add(
                    tables.sales_activities,
                    type=kind,
                    subject=kind.lower(),
                    owner_id=admin,
                    account_id=org,
                    done=True,
                    occurred_at=at,
                    **stamps,
                )
        await upgrade_async(url)
        token = await issue_token(engine, name="migrated admin", user_id=admin)
        app = create_app(engine, dispatch=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            api = GraphQLClient(http, token)
            data = await api.data(
                """{ accounts(first: 20) { nodes { id kind name category contacts(first: 5) { nodes { leadStatus } } } }
                campaigns(first: 10) { nodes { name status } }
                products(first: 10) { nodes { code category } }
                contracts(first: 10) { nodes { name category } }
                salesActivities(first: 10) { nodes { type } } }"""
            )
            settings = (await api.data(SETTINGS))["settings"]
        async with engine.connect() as conn:
            leads = tables.leads
            moved = [
                tuple(r)
                for r in await conn.execute(
                    select(leads.c.last_name, leads.c.disqualification_reason, leads.c.rework_note).order_by(leads.c.id)
                )
            ]
    finally:
        await engine.dispose()
    assert moved == [("Reworked", None, "Call in Q3"), ("Out", "No budget", None), ("New", None, None)]
    read = {
        (n["kind"], n["category"]): [c["leadStatus"] for c in n["contacts"]["nodes"]] for n in data["accounts"]["nodes"]
    }
    # Lead status shows for prospects in a category switched on (and without a category), not in "Cold".
    assert read == {
        ("ORGANIZATION", "Hot prospect"): ["CONTACTING"],
        ("PERSON", "Cold"): [None],
        ("LOGIN", None): ["CONTACTING"],
        ("ORGANIZATION", "Key customer"): [None],
    }
    assert sorted((n["name"], n["status"]) for n in data["campaigns"]["nodes"]) == [
        ("Campaign ACTIVE", "ACTIVE"),
        ("Campaign ARCHIVED", "ARCHIVED"),
    ]
    assert data["products"]["nodes"] == [{"code": "SUP", "category": "SUPPORT_SERVICE"}]
    assert data["contracts"]["nodes"] == [{"name": "Support 2026", "category": "SUPPORT_SERVICE"}]
    assert sorted(n["type"] for n in data["salesActivities"]["nodes"]) == ["CALL", "FOLLOW_UP", "MEETING"]
    assert [t["key"] for t in settings["activityTypes"]] == ["CALL", "EMAIL", "MEETING", "TASK", "FOLLOW_UP", "REQUEST"]
    assert {t["key"]: t["personName"] for t in settings["accountTypes"]} == {
        "PERSON": True,
        "ORGANIZATION": False,
        "LOGIN": False,
    }
    assert {s["key"]: s["archived"] for s in settings["campaignStatuses"]} == {"ACTIVE": False, "ARCHIVED": True}
    assert "SUPPORT_SERVICE" in {c["key"] for c in settings["contractCategories"]}
    # Every free-text category stored (and the switched-off setting no account used) is a contact category.
    assert {c["key"]: c["leadStatus"] for c in settings["contactCategories"]} == {
        "Cold": False,
        "Hot prospect": True,
        "Key customer": True,
        "Scoped only": True,
        "Unused": False,
    }
