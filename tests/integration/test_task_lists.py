"""Task lists over HTTP, on SQLite and PostgreSQL: "my open tasks" and "overdue" as filters a client uses
directly (overdue against the server's clock, boundary included), the other filters and orders, and a
fixed number of SQL statements however many tasks or parents a page holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio
from sqlalchemy import select

from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient, statements

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CREATE = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  __typename ... on TaskPayload { task { id } } ... on UserError { message } } }"""
COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) { __typename } }"""
LIST = """query($filter: TaskFilter, $order: TaskOrder, $first: Int) {
  tasks(first: $first, filter: $filter, orderBy: $order) { totalCount nodes { id dueAt priority isOverdue } } }"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest_asyncio.fixture(loop_scope="session")
async def timed(writable) -> AsyncIterator[tuple[GraphQLClient, Clock]]:
    """The API on the writable database with a clock the test moves (the server's time for `overdue`)."""
    clock = Clock(T0)
    app = create_app(writable.engine, dispatch=False, schedule=False, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        yield GraphQLClient(http, writable.admin_token), clock


async def a_lead(writable) -> str:
    async with writable.engine.connect() as conn:
        lead = (await conn.execute(select(tables.leads.c.id).order_by(tables.leads.c.id.desc()).limit(1))).scalar_one()
    return ids.encode("Lead", lead)


async def listed(api: GraphQLClient, filter: dict, token: str | None = None, **extra) -> list[dict]:
    found = (await api.data(LIST, {"filter": filter, "first": 100, **extra}, token))["tasks"]
    assert found["totalCount"] == len(found["nodes"]), "more than a page: this test reads one"
    return found["nodes"]


async def test_overdue_means_open_with_its_due_time_come_by_the_servers_clock(timed, writable):
    api, clock = timed
    lead = await a_lead(writable)
    made = {}
    for name, due in (("past", T0 - HOUR), ("soon", T0 + HOUR), ("later", T0 + 48 * HOUR), ("none", None)):
        result = await api.data(
            CREATE, {"input": {"attachToId": lead, "title": f"Call {name}", "dueAt": due.isoformat() if due else None}}
        )
        made[name] = result["createTask"]["task"]["id"]
    done_late = (
        await api.data(CREATE, {"input": {"attachToId": lead, "title": "Done", "dueAt": (T0 - HOUR).isoformat()}})
    )["createTask"]["task"]["id"]
    await api.data(COMPLETE, {"input": {"id": done_late}})

    def mine(nodes: list[dict]) -> set[str]:
        return {n["id"] for n in nodes} & (set(made.values()) | {done_late})

    on_lead = {"leadId": lead}
    assert mine(await listed(api, {**on_lead, "overdue": True})) == {made["past"]}
    assert mine(await listed(api, {**on_lead, "overdue": False})) == {
        made["soon"],
        made["later"],
        made["none"],
        done_late,
    }
    clock.now = T0 + HOUR  # exactly the due time: overdue from then on
    overdue = await listed(api, {**on_lead, "overdue": True})
    assert mine(overdue) == {made["past"], made["soon"]} and all(n["isOverdue"] for n in overdue)
    clock.now = T0 + HOUR - timedelta(microseconds=1)
    assert mine(await listed(api, {**on_lead, "overdue": True})) == {made["past"]}
    assert mine(await listed(api, {**on_lead, "open": False})) == {done_late}
    assert mine(await listed(api, {**on_lead, "open": True})) == {made[n] for n in ("past", "soon", "later", "none")}
    ranged = await listed(api, {**on_lead, "dueFrom": T0.isoformat(), "dueTo": (T0 + 2 * HOUR).isoformat()})
    assert mine(ranged) == {made["soon"]}


async def test_my_open_tasks_are_those_assigned_to_me_and_not_done(timed, writable):
    api, _ = timed
    u = tables.users
    async with writable.engine.connect() as conn:
        rep = (await conn.execute(select(u.c.id).where(u.c.role == "SALES_REP").order_by(u.c.id).limit(1))).scalar_one()
        rows = list(await conn.execute(select(tables.tasks)))
    token = await issue_token(writable.engine, name="my tasks", user_id=rep)
    expected = {r.id for r in rows if r.assignee_id == rep and not r.done}
    assert expected, "the seed gives the rep open tasks, or this proves nothing"
    found = await listed(api, {"mine": True, "open": True}, token)
    assert {ids.decode(n["id"])[1] for n in found} == expected
    others = await listed(api, {"mine": False}, token)
    assert not {ids.decode(n["id"])[1] for n in others} & {r.id for r in rows if r.assignee_id == rep}
    partner = await listed(api, {"mine": True}, writable.partner_token)
    assert partner == []  # a partner is never a task's assignee


async def test_tasks_order_by_due_time_with_the_undated_last_either_way_and_by_priority(timed):
    api, _ = timed
    for direction in ("ASC", "DESC"):
        found = await listed(api, {}, order={"field": "DUE_AT", "direction": direction})
        dues = [n["dueAt"] for n in found]
        dated = [d for d in dues if d is not None]
        assert dated == sorted(dated, key=datetime.fromisoformat, reverse=direction == "DESC")
        assert dues == dated + [None] * (len(dues) - len(dated)) and None in dues, direction
    rank = {"LOW": 1, "NORMAL": 2, "HIGH": 3, "URGENT": 4}
    urgent_first = await listed(api, {}, order={"field": "PRIORITY", "direction": "DESC"})
    ranks = [rank[n["priority"]] for n in urgent_first]
    assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) > 1
    only_high = await listed(api, {"priorityIn": ["HIGH", "URGENT"]})
    assert only_high and {n["priority"] for n in only_high} <= {"HIGH", "URGENT"}


ROOT = """query($first: Int!) { tasks(first: $first, filter: {open: true}) { totalCount nodes {
  id title dueAt priority isOverdue assignee { name } account { name } contact { name }
  opportunity { name account { name } } lead { lastName } } } }"""
NESTED = """query($n: Int!) { accounts(first: $n, orderBy: {field: CREATED_AT}) { nodes { name
  tasks(first: 5, filter: {open: true}, orderBy: {field: PRIORITY, direction: DESC}) {
    totalCount nodes { title assignee { name } } }
  opportunities(first: 10) { nodes { tasks(first: 5, filter: {overdue: true}) { totalCount nodes { title } } } } } } }"""


def relation_loads(tasks: list[dict]) -> int:
    """One statement per relation a page of tasks needs rows of (a relation no task of the page has costs
    nothing): the assignees, then the accounts, contacts, opportunities (with their accounts) and leads."""
    kinds = [kind for kind in ("account", "contact", "opportunity", "lead") if any(t[kind] for t in tasks)]
    return 1 + len(kinds) + ("opportunity" in kinds)


async def test_a_task_list_costs_a_statement_per_relation_however_many_tasks_it_holds(gql):
    await gql.post("{ viewer { scopes } }")  # the process keeps the token's lookup from here on
    one, fifty = await gql.post(ROOT, {"first": 1}), await gql.post(ROOT, {"first": 50})
    assert "errors" not in fifty.json(), fifty.json()
    tasks = fifty.json()["data"]["tasks"]["nodes"]
    assert len(tasks) == 50 and relation_loads(tasks) == 6, "every relation is on the page"
    # the page, its count, then one statement per relation (the token comes from the process's cache)
    assert statements(fifty) == 2 + 6
    assert statements(one) == 2 + relation_loads(one.json()["data"]["tasks"]["nodes"])


async def test_nested_task_lists_cost_the_same_statements_however_many_accounts_hold_them(gql):
    await gql.post("{ viewer { scopes } }")  # the process keeps the token's lookup from here on
    for n in (1, 50):
        response = await gql.post(NESTED, {"n": n})
        assert "errors" not in response.json(), response.json()
        accounts = response.json()["data"]["accounts"]["nodes"]
        assignees = any(a["tasks"]["nodes"] for a in accounts)
        assert assignees or n == 1, "the first 50 accounts have open tasks, or this proves less"
        # accounts, their tasks (one window for all), their assignees, opportunities, their tasks
        assert statements(response) == 4 + assignees, n
