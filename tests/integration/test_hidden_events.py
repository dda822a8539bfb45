"""Events follow the read rules for every kind of event, a deletion included: who is told that a row
was deleted is decided by the rules, from the row as it was. Over real WebSockets (both protocols),
on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient
from tests.integration.mutations.test_accounts import CREATE_ACCOUNT
from tests.integration.mutations.test_opportunities import CREATE, new_opportunity
from tests.integration.test_subscriptions import EVENTS, cursor
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

DELETE = """mutation($input: OpportunityRefInput!) { deleteOpportunity(input: $input) { __typename } }"""


@pytest.fixture
async def live(writable):
    async with live_server(writable.url) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            server.api = GraphQLClient(http, writable.admin_token)
            yield server


async def delete(api: GraphQLClient, opportunity_id: str, token: str | None = None) -> None:
    result = await api.data(DELETE, {"input": {"id": opportunity_id}}, token)
    assert result["deleteOpportunity"]["__typename"] == "DeletedPayload", result


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_deletion_on_a_private_account_is_told_to_its_creator_and_not_to_an_admin(live, writable, protocol):
    async with writable.engine.connect() as conn:
        rep_id = (
            await conn.execute(
                select(tables.users.c.id).where(tables.users.c.role == "SALES_REP").order_by(tables.users.c.id)
            )
        ).scalar()
    rep = await issue_token(writable.engine, name=f"rep {protocol}", user_id=rep_id)
    made = await live.api.data(
        CREATE_ACCOUNT, {"input": {"kind": "ORGANIZATION", "name": f"Rep's own ({protocol})", "isPrivate": True}}, rep
    )
    account = made["createAccount"]["account"]
    private = await live.api.data(
        CREATE,
        {
            "input": {
                "name": "Quiet deal",
                "accountId": account["id"],
                "estimatedRevenue": {"amount": "500", "currency": "EUR"},
            }
        },
        rep,
    )
    private_id = private["createOpportunity"]["opportunity"]["id"]
    # The admin's own opportunity: its deletion is the next thing the admin is told of.
    visible = await new_opportunity(live.api, writable)

    since = await cursor(live)
    admin = await GraphQLSocket.open(live.url, writable.admin_token, protocol)
    creator = await GraphQLSocket.open(live.url, rep, protocol)
    admin_op = await admin.subscribe(EVENTS, {"since": since})
    creator_op = await creator.subscribe(EVENTS, {"since": since})
    await delete(live.api, private_id, rep)
    await delete(live.api, visible["id"])

    told_admin = (await admin.next(admin_op))["data"]["opportunityEvents"]
    assert (told_admin["kind"], told_admin["opportunityId"]) == ("DELETED", visible["id"])
    told_creator = (await creator.next(creator_op))["data"]["opportunityEvents"]
    assert told_creator["kind"] == "DELETED" and told_creator["opportunityId"] == private_id
    assert told_creator["opportunity"] is None
    await admin.close()
    await creator.close()


TASK_EVENTS = """subscription($since: ID) { taskEvents(since: $since) {
  eventId kind taskId task { id title } fields actorUser { id } } }"""
TASK = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  __typename ... on TaskPayload { task { id } } ... on UserError { message } } }"""
TASK_CHANGE = """mutation($input: UpdateTaskInput!) { updateTask(input: $input) { __typename } }"""
TASK_DONE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) { __typename } }"""
TASK_DELETE = """mutation($input: DeleteTaskInput!) { deleteTask(input: $input) { __typename } }"""


async def made(api: GraphQLClient, document: str, input: dict, token: str | None = None) -> dict:
    result = next(iter((await api.data(document, {"input": input}, token)).values()))
    assert "message" not in result, result
    return result


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_task_event_is_told_exactly_to_those_who_may_see_the_row_the_task_is_on(live, writable, protocol):
    """The creator of a private account completes and deletes a task there, the admin makes one on its own
    private account, then changes a task on a deal all three see: the admin, the rep and the partner are
    each told exactly of the task events they may see (the deletion by the row as it was), then the last."""
    u, a = tables.users, tables.accounts
    async with writable.engine.connect() as conn:
        rep_id = (await conn.execute(select(u.c.id).where(u.c.role == "SALES_REP").order_by(u.c.id))).scalar()
        shared = (await conn.execute(select(a.c.id).where(a.c.is_global.is_(True), a.c.is_private.is_(False)))).scalar()
    rep = await issue_token(writable.engine, name=f"task rep {protocol}", user_id=rep_id)
    api = live.api
    hidden_account = await made(
        api, CREATE_ACCOUNT, {"kind": "ORGANIZATION", "name": f"Rep's ({protocol})", "isPrivate": True}, rep
    )
    secret = await made(api, TASK, {"attachToId": hidden_account["account"]["id"], "title": "Quiet call"}, rep)
    admins = await made(
        api, CREATE_ACCOUNT, {"kind": "ORGANIZATION", "name": f"Admin's ({protocol})", "isPrivate": True}
    )
    fence_deal = (
        await api.data(
            CREATE,
            {
                "input": {
                    "name": f"Shared deal ({protocol})",
                    "accountId": ids.encode("Account", shared),
                    "ownerId": ids.encode("User", rep_id),
                    "partnerId": ids.encode("Partner", writable.summary.partner_id),
                }
            },
        )
    )["createOpportunity"]["opportunity"]
    fence = await made(
        api, TASK, {"attachToId": fence_deal["id"], "title": "Shared call", "assigneeId": ids.encode("User", rep_id)}
    )

    since = await cursor(live)
    sockets = {}
    for role, token in (("ADMIN", writable.admin_token), ("SALES_REP", rep), ("PARTNER", writable.partner_token)):
        socket = await GraphQLSocket.open(live.url, token, protocol)
        sockets[role] = (socket, await socket.subscribe(TASK_EVENTS, {"since": since}))
    secret_id, fence_id = secret["task"]["id"], fence["task"]["id"]
    await made(api, TASK_DONE, {"id": secret_id}, rep)
    await made(api, TASK_DELETE, {"id": secret_id}, rep)
    own = await made(api, TASK, {"attachToId": admins["account"]["id"], "title": "Admin's own call"})
    await made(api, TASK_CHANGE, {"id": fence_id, "title": "Shared call, moved"})

    expected = {
        "ADMIN": [("CREATED", own["task"]["id"]), ("CHANGED", fence_id)],
        "SALES_REP": [("COMPLETED", secret_id), ("DELETED", secret_id), ("CHANGED", fence_id)],
        "PARTNER": [("CHANGED", fence_id)],
    }
    for role, (socket, op) in sockets.items():
        told = []
        while not told or told[-1][1] != fence_id:
            event = (await socket.next(op))["data"]["taskEvents"]
            told.append((event["kind"], event["taskId"]))
            if event["kind"] == "DELETED":
                assert event["task"] is None
        assert told == expected[role], role
        await socket.close()
