"""`taskEvents` over real WebSockets, on SQLite and PostgreSQL: what a task list screen subscribes to (the
tasks of one row, or the caller's own, including the one given away from them), through the outbox, and a
clear error for an id of the wrong kind."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient
from tests.integration.test_subscriptions import cursor
from tests.support.live import live_server
from tests.support.ws import GraphQLSocket

EVENTS = """subscription($on: [ID!], $mine: Boolean!, $since: ID) {
  taskEvents(attachedToIds: $on, mine: $mine, since: $since) { kind taskId fields task { title assignee { id } } } }"""
CREATE = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  __typename ... on TaskPayload { task { id } } ... on UserError { message } } }"""
UPDATE = (
    """mutation($input: UpdateTaskInput!) { updateTask(input: $input) { __typename ... on UserError { message } } }"""
)
COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) { __typename } }"""


@pytest.fixture
async def live(writable):
    async with live_server(writable.url) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            server.api = GraphQLClient(http, writable.admin_token)
            yield server


async def create(api: GraphQLClient, attach_to: str, title: str, **extra) -> str:
    result = (await api.data(CREATE, {"input": {"attachToId": attach_to, "title": title, **extra}}))["createTask"]
    assert result["__typename"] == "TaskPayload", result
    return result["task"]["id"]


async def test_a_screen_hears_of_the_tasks_of_its_row_and_of_its_users_own(live, writable):
    u, lead_table = tables.users, tables.leads
    async with writable.engine.connect() as conn:
        rep, colleague = [
            r.id for r in await conn.execute(select(u.c.id).where(u.c.role == "SALES_REP").order_by(u.c.id).limit(2))
        ]
        # Unassigned leads are seen by every user: both reps may be given tasks on them.
        first, second = [
            ids.encode("Lead", r.id)
            for r in await conn.execute(
                select(lead_table.c.id)
                .where(lead_table.c.assigned_user_id.is_(None), lead_table.c.assigned_partner_id.is_(None))
                .order_by(lead_table.c.id)
                .limit(2)
            )
        ]
    rep_token = await issue_token(writable.engine, name="task screen", user_id=rep)
    since = await cursor(live)
    screen = await GraphQLSocket.open(live.url, writable.admin_token)
    on_lead = await screen.subscribe(EVENTS, {"on": [first], "mine": False, "since": since})
    own = await GraphQLSocket.open(live.url, rep_token)
    mine = await own.subscribe(EVENTS, {"on": None, "mine": True, "since": since})

    elsewhere = await create(live.api, second, "Not on the lead", assigneeId=ids.encode("User", colleague))
    given = await create(live.api, first, "Call to qualify", assigneeId=ids.encode("User", rep))
    result = await live.api.data(UPDATE, {"input": {"id": given, "assigneeId": ids.encode("User", colleague)}})
    assert result["updateTask"]["__typename"] == "TaskPayload", result
    await live.api.data(COMPLETE, {"input": {"id": elsewhere}})

    first_told = (await screen.next(on_lead))["data"]["taskEvents"]
    assert (first_told["kind"], first_told["taskId"], first_told["task"]["title"]) == (
        "CREATED",
        given,
        "Call to qualify",
    )
    moved = (await screen.next(on_lead))["data"]["taskEvents"]
    assert (moved["kind"], moved["fields"]) == ("CHANGED", ["assignee_id"])
    assert moved["task"]["assignee"] == {"id": ids.encode("User", colleague)}
    assert [(e["kind"], e["taskId"]) for e in [(await own.next(mine))["data"]["taskEvents"] for _ in range(2)]] == [
        ("CREATED", given),
        ("CHANGED", given),  # given away: the rep's list drops it
    ]
    # Neither stream was told of the task elsewhere: the next thing on each is a new task on the lead, the rep's.
    last = await create(live.api, first, "Send the introduction e-mail", assigneeId=ids.encode("User", rep))
    assert (await screen.next(on_lead))["data"]["taskEvents"]["taskId"] == last
    assert (await own.next(mine))["data"]["taskEvents"]["taskId"] == last
    await screen.close()
    await own.close()


async def test_an_id_of_the_wrong_kind_is_a_clear_error(live, writable):
    socket = await GraphQLSocket.open(live.url, writable.admin_token)
    op = await socket.subscribe(EVENTS, {"on": [ids.encode("User", 1)], "mine": False})
    result = await socket.next(op)
    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (
        "`attachedToIds`" in error["message"]
        and "not of a Account or Contact or Opportunity or Lead" in error["message"]
    )
    await socket.close()
