"""Status monitors scoped to a selection or to account categories (issue 17, item 4), on both databases:
only rows in scope are judged, and a row that enters or leaves the scope gains or loses the indicator in
the same transaction as the change that moves it; a subscriber to `statusIndicatorsChanged` sees it come
and go. The stored indicators equal a full re-evaluation after each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from gql import ids
from gql.auth import issue_token
from persistence import indicators, tables
from tests.conftest import GraphQLClient
from tests.support.live import live_server
from tests.support.ws import TRANSPORT_WS, GraphQLSocket

ERRORS = "... on UserError { code message } ... on ValidationError { field }"
MONITOR = f"""mutation($input: CreateStatusMonitorInput!) {{ createStatusMonitor(input: $input) {{
  __typename ... on StatusMonitorPayload {{ statusMonitor {{ id scope {{ categories selection {{ id name }} }} }} }}
  {ERRORS} }} }}"""
UPDATE_MONITOR = f"""mutation($input: UpdateStatusMonitorInput!) {{ updateStatusMonitor(input: $input) {{
  __typename {ERRORS} }} }}"""
SELECTION = f"""mutation($input: CreateSelectionInput!) {{ createSelection(input: $input) {{
  __typename ... on SelectionPayload {{ selection {{ id }} }} {ERRORS} }} }}"""
UPDATE_SELECTION = f"""mutation($input: UpdateSelectionInput!) {{ updateSelection(input: $input) {{
  __typename {ERRORS} }} }}"""
ADD = f"""mutation($input: ChangeSelectionMembersInput!) {{ addSelectionMembers(input: $input) {{ __typename {ERRORS} }} }}"""
REMOVE = f"""mutation($input: ChangeSelectionMembersInput!) {{ removeSelectionMembers(input: $input) {{
  __typename {ERRORS} }} }}"""
ACCOUNT = f"""mutation($input: CreateAccountInput!) {{ createAccount(input: $input) {{
  __typename ... on AccountPayload {{ account {{ id }} }} {ERRORS} }} }}"""
UPDATE_ACCOUNT = (
    f"""mutation($input: UpdateAccountInput!) {{ updateAccount(input: $input) {{ __typename {ERRORS} }} }}"""
)
CONTACT = f"""mutation($input: CreateContactInput!) {{ createContact(input: $input) {{
  __typename ... on ContactPayload {{ contact {{ id }} }} {ERRORS} }} }}"""
TASK = f"""mutation($input: CreateTaskInput!) {{ createTask(input: $input) {{ __typename {ERRORS} }} }}"""
INDICATORS = """query($id: ID!) { node(id: $id) { ... on Account { statusIndicators { monitor { id } } }
  ... on Contact { statusIndicators { monitor { id } } } } }"""
CHANGES = """subscription($ids: [ID!], $since: ID) {
  statusIndicatorsChanged(entityTypes: [ACCOUNT], ids: $ids, since: $since) { change entityId monitorId } }"""
LATEST = "{ latestEventId }"
PAST = (datetime.now(UTC) - timedelta(days=3)).isoformat()


async def run(api: GraphQLClient, document: str, values: dict, token: str | None = None) -> dict:
    data = await api.data(document, {"input": values}, token=token)
    [result] = data.values()
    assert "code" not in result, result
    return result


async def overdue_account(api: GraphQLClient, name: str) -> str:
    """A new account with an overdue task: TASK_OVERDUE holds for it whatever the clock says."""
    account = (await run(api, ACCOUNT, {"kind": "ORGANIZATION", "name": name}))["account"]["id"]
    await run(api, TASK, {"attachToId": account, "title": "Call back", "dueAt": PAST})
    return account


async def categories(api: GraphQLClient, *keys: str) -> None:
    """Contact categories are configured (issue 17, item 5): the ones a test moves accounts between."""
    for key in keys:
        made = await api.data(
            "mutation($k: String!) { createListValue(input: {listName: CONTACT_CATEGORY, key: $k, label: $k}) "
            "{ __typename } }",
            {"k": key},
        )
        assert made["createListValue"]["__typename"] in ("ListValuePayload", "ConflictError"), made


async def marked(api: GraphQLClient, node: str) -> set[str]:
    found = (await api.data(INDICATORS, {"id": node}))["node"]["statusIndicators"]
    return {i["monitor"]["id"] for i in found}


async def consistent(engine) -> None:
    async with engine.connect() as conn:
        stored = await indicators.stored_indicators(conn)
        assert stored == await indicators.evaluate_all(conn, datetime.now(UTC))


@pytest.fixture
async def live(writable):
    async with live_server(writable.url) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            server.api = GraphQLClient(http, writable.admin_token)
            yield server


async def test_a_subscriber_sees_the_indicator_come_and_go_as_a_row_enters_and_leaves_the_selection(live, writable):
    api = live.api
    await categories(api, "GOLD", "SILVER")
    account = await overdue_account(api, "Scoped: Nordic Freight")
    dynamic = (
        await run(
            api,
            SELECTION,
            {"name": "Category Gold", "entityType": "ACCOUNT", "criteria": {"field": "CATEGORY", "in": ["GOLD"]}},
        )
    )["selection"]["id"]
    monitor = (
        await run(
            api,
            MONITOR,
            {
                "name": "Gold overdue",
                "entityType": "ACCOUNT",
                "rule": {"kind": "TASK_OVERDUE"},
                "scope": {"selectionId": dynamic},
            },
        )
    )["statusMonitor"]
    assert monitor["scope"]["selection"]["id"] == dynamic
    assert monitor["id"] not in await marked(api, account)  # not in the selection: not judged

    socket = await GraphQLSocket.open(live.url, writable.admin_token, TRANSPORT_WS)
    since = (await api.data(LATEST))["latestEventId"]
    op = await socket.subscribe(CHANGES, {"ids": [account], "since": since})

    async def next_change() -> tuple[str, str]:
        event = (await socket.next(op))["data"]["statusIndicatorsChanged"]
        assert event["entityId"] == account
        return event["change"], event["monitorId"]

    await run(api, UPDATE_ACCOUNT, {"id": account, "category": "GOLD"})  # enters the dynamic selection
    assert await next_change() == ("SET", monitor["id"])
    assert monitor["id"] in await marked(api, account)
    await run(api, UPDATE_ACCOUNT, {"id": account, "category": "SILVER"})  # leaves it
    assert await next_change() == ("CLEARED", monitor["id"])
    await consistent(writable.engine)

    # Criteria edited so the row falls in; then the monitor moves to a static selection: members added, removed.
    await run(api, UPDATE_SELECTION, {"id": dynamic, "criteria": {"field": "CATEGORY", "in": ["GOLD", "SILVER"]}})
    assert await next_change() == ("SET", monitor["id"])
    static = (await run(api, SELECTION, {"name": "Hand-picked", "entityType": "ACCOUNT"}))["selection"]["id"]
    await run(api, UPDATE_MONITOR, {"id": monitor["id"], "scope": {"selectionId": static}})
    assert await next_change() == ("CLEARED", monitor["id"])
    await run(api, ADD, {"id": static, "memberIds": [account]})
    assert await next_change() == ("SET", monitor["id"])
    await run(api, REMOVE, {"id": static, "memberIds": [account]})
    assert await next_change() == ("CLEARED", monitor["id"])
    await socket.close()
    await consistent(writable.engine)


async def test_a_category_scope_judges_only_accounts_of_those_categories_and_their_contacts(api, writable):
    await categories(api, "BRONZE")
    inside = await overdue_account(api, "Scoped: Bronze Mining")
    outside = await overdue_account(api, "Scoped: Iron Works")
    await run(api, UPDATE_ACCOUNT, {"id": inside, "category": "BRONZE"})
    accounts = (
        await run(
            api,
            MONITOR,
            {
                "name": "Bronze overdue",
                "entityType": "ACCOUNT",
                "rule": {"kind": "TASK_OVERDUE"},
                "scope": {"categories": ["BRONZE"]},
            },
        )
    )["statusMonitor"]
    assert accounts["scope"] == {"categories": ["BRONZE"], "selection": None}
    assert accounts["id"] in await marked(api, inside) and accounts["id"] not in await marked(api, outside)
    contact = (await run(api, CONTACT, {"accountId": outside, "firstName": "Ola", "lastName": "Scope"}))["contact"][
        "id"
    ]
    await run(api, TASK, {"attachToId": contact, "title": "Send offer", "dueAt": PAST})
    people = (
        await run(
            api,
            MONITOR,
            {
                "name": "Bronze contacts overdue",
                "entityType": "CONTACT",
                "rule": {"kind": "TASK_OVERDUE"},
                "scope": {"categories": ["BRONZE"]},
            },
        )
    )["statusMonitor"]
    assert people["id"] not in await marked(api, contact)
    await run(api, UPDATE_ACCOUNT, {"id": outside, "category": "BRONZE"})  # the contact's account enters
    assert people["id"] in await marked(api, contact) and accounts["id"] in await marked(api, outside)
    await run(api, UPDATE_MONITOR, {"id": people["id"], "scope": None})  # every contact again
    assert people["id"] in await marked(api, contact)
    async with writable.engine.connect() as conn:
        stored = {
            r.entity_id
            for r in await conn.execute(
                select(tables.monitor_scope_members.c.entity_id).where(
                    tables.monitor_scope_members.c.monitor_id == ids.decode(people["id"])[1]
                )
            )
        }
    assert stored == set()  # an unscoped monitor keeps no scope
    await consistent(writable.engine)


async def test_a_scope_must_be_a_readable_selection_of_the_monitors_type_whose_criteria_test_no_indicators(
    api, writable
):
    quiet = (
        await run(api, MONITOR, {"name": "Scope probe", "entityType": "ACCOUNT", "rule": {"kind": "TASK_OVERDUE"}})
    )["statusMonitor"]["id"]
    leads = (await run(api, SELECTION, {"name": "Leads", "entityType": "LEAD"}))["selection"]["id"]
    flagged = (
        await run(
            api,
            SELECTION,
            {"name": "Flagged", "entityType": "ACCOUNT", "criteria": {"indicators": {"anyOf": [quiet]}}},
        )
    )["selection"]["id"]
    plain = (await run(api, SELECTION, {"name": "Plain", "entityType": "ACCOUNT", "criteria": {"has": "TASKS"}}))[
        "selection"
    ]["id"]

    async def refused(scope: dict, token: str | None = None) -> tuple[str, str | None]:
        values = {"name": f"Scoped {len(str(scope))}", "entityType": "ACCOUNT", "rule": {"kind": "TASK_OVERDUE"}}
        data = await api.data(MONITOR, {"input": {**values, "scope": scope}}, token=token)
        answer = data["createStatusMonitor"]
        return answer["__typename"], answer.get("field")

    assert await refused({"selectionId": leads}) == ("ValidationError", "scope.selectionId")
    assert await refused({"selectionId": flagged}) == ("ValidationError", "scope.selectionId")
    assert await refused({"selectionId": plain, "categories": ["A"]}) == ("ValidationError", "scope")
    # A selection the caller may not read is answered as a missing one.
    async with writable.engine.connect() as conn:
        rep = next(iter(await conn.execute(select(tables.users.c.id).where(tables.users.c.role == "SALES_REP"))))
    token = await issue_token(writable.engine, name="scope rep", user_id=rep.id)
    assert (await refused({"selectionId": plain}, token))[0] == "NotFoundError"
    assert (await refused({"selectionId": ids.encode("Selection", 9_999_999)}, token))[0] == "NotFoundError"
    # Once it scopes a monitor, the selection's criteria may not come to test indicators.
    scoped = (
        await run(
            api,
            MONITOR,
            {
                "name": "Plain scope",
                "entityType": "ACCOUNT",
                "rule": {"kind": "TASK_OVERDUE"},
                "scope": {"selectionId": plain},
            },
        )
    )["statusMonitor"]["id"]
    data = await api.data(UPDATE_SELECTION, {"input": {"id": plain, "criteria": {"indicators": {"noneOf": [quiet]}}}})
    assert data["updateSelection"] == {
        "__typename": "ValidationError",
        "code": "VALIDATION",
        "message": data["updateSelection"]["message"],
        "field": "criteria",
    }
    assert scoped
