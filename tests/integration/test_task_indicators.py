"""The TASK_OVERDUE status monitor rule over HTTP, on SQLite and PostgreSQL: an account, a contact, an
opportunity or a lead with an overdue open task carries the indicator; the scheduler sets it when the due
time passes, with no request; completing the task clears it and reopening sets it again; an account also
answers for the tasks on its opportunities and contacts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio
from sqlalchemy import select

from gql import ids
from gql.app import create_app
from persistence import indicators, tables
from tests.conftest import Backend, GraphQLClient
from tests.integration.test_status_indicators import (
    CREATE_ACCOUNT,
    CREATE_CONTACT,
    CREATE_MONITOR,
    CREATE_OPPORTUNITY,
    Clock,
    mutation,
)

T0 = datetime(2027, 1, 10, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CREATE_TASK = mutation("createTask", "CreateTaskInput", "TaskPayload", "task { id }")
UPDATE_TASK = mutation("updateTask", "UpdateTaskInput", "TaskPayload", "task { id }")
COMPLETE_TASK = mutation("completeTask", "CompleteTaskInput", "TaskPayload", "task { id }")
REOPEN_TASK = mutation("reopenTask", "ReopenTaskInput", "TaskPayload", "task { id }")
DELETE_TASK = mutation("deleteTask", "DeleteTaskInput", "DeletedPayload", "deletedId")
CREATE_LEAD = mutation("createLead", "CreateLeadInput", "LeadPayload", "lead { id }")
MARKED = """query($id: ID!) { node(id: $id) { ... on Account { statusIndicators { name } }
  ... on Contact { statusIndicators { name } } ... on Opportunity { statusIndicators { name } }
  ... on Lead { statusIndicators { name } } } }"""


class World:
    def __init__(self, api: GraphQLClient, clock: Clock, scheduler, backend: Backend) -> None:
        self.api, self.clock, self.scheduler, self.backend = api, clock, scheduler, backend

    async def run(self, document: str, input: dict) -> dict:
        payload = next(iter((await self.api.data(document, {"input": input})).values()))
        assert "code" not in payload, payload
        return payload

    async def task(self, attach_to: str, due: datetime | None) -> str:
        made = await self.run(
            CREATE_TASK, {"attachToId": attach_to, "title": "Follow up", "dueAt": due.isoformat() if due else None}
        )
        return made["task"]["id"]

    async def marked(self, node: str) -> bool:
        found = (await self.api.data(MARKED, {"id": node}))["node"]["statusIndicators"]
        return any(i["name"].startswith("Task overdue") for i in found)

    async def time_passes(self, until: datetime) -> int:
        self.clock.now = until
        return await self.scheduler.run_due(until)

    async def consistent(self) -> None:
        async with self.backend.engine.connect() as conn:
            assert await indicators.stored_indicators(conn) == await indicators.evaluate_all(conn, self.clock.now)

    async def set_events(self, node: str) -> list[str]:
        kind, pk = ids.decode(node)
        box = tables.outbox_events
        async with self.backend.engine.connect() as conn:
            rows = await conn.execute(
                select(box.c.type)
                .where(box.c.entity_type == kind, box.c.entity_id == pk, box.c.type.like("StatusIndicator%"))
                .order_by(box.c.id)
            )
            return [r.type for r in rows]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(writable: Backend) -> AsyncIterator[World]:
    """One clock per database, moving only forward, and a TASK_OVERDUE monitor per kind of entity."""
    clock = Clock(T0)
    app = create_app(writable.engine, dispatch=False, schedule=False, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        world = World(GraphQLClient(http, writable.admin_token), clock, app.state.scheduler, writable)
        for entity in ("ACCOUNT", "CONTACT", "OPPORTUNITY", "LEAD"):
            await world.run(
                CREATE_MONITOR,
                {"name": f"Task overdue ({entity.lower()})", "entityType": entity, "rule": {"kind": "TASK_OVERDUE"}},
            )
        yield world


async def test_an_overdue_task_marks_what_it_is_on_when_its_due_time_passes_with_no_request(world):
    start = world.clock.now
    lead = (await world.run(CREATE_LEAD, {"lastName": "Overdue", "company": "Late AS"}))["lead"]["id"]
    account = (await world.run(CREATE_ACCOUNT, {"kind": "ORGANIZATION", "name": "Late AS"}))["account"]["id"]
    deal = (await world.run(CREATE_OPPORTUNITY, {"name": "Late deal", "accountId": account}))["opportunity"]["id"]
    on_lead = await world.task(lead, start + 2 * HOUR)
    await world.task(deal, start + 3 * HOUR)
    assert not await world.marked(lead) and not await world.marked(deal) and not await world.marked(account)

    assert await world.time_passes(start + 2 * HOUR) >= 1  # exactly the lead's task's due time
    assert await world.marked(lead) and not await world.marked(deal)
    assert await world.set_events(lead) == ["StatusIndicatorSet"]
    await world.time_passes(start + 3 * HOUR)
    assert await world.marked(deal) and await world.marked(account)  # the account answers for its deal's task
    found = await world.api.data(
        "query($m: ID) { leads(first: 100, filter: {hasIndicator: $m}) { nodes { id } } }",
        {"m": await monitor_id(world, "LEAD")},
    )
    assert {"id": lead} in found["leads"]["nodes"]

    await world.run(COMPLETE_TASK, {"id": on_lead})
    assert not await world.marked(lead)
    await world.run(REOPEN_TASK, {"id": on_lead})
    assert await world.marked(lead)
    await world.run(UPDATE_TASK, {"id": on_lead, "dueAt": (world.clock.now + HOUR).isoformat()})
    assert not await world.marked(lead)
    assert await world.set_events(lead) == ["StatusIndicatorSet", "StatusIndicatorCleared"] * 2
    await world.consistent()


async def test_a_contacts_overdue_task_marks_the_contact_and_its_account_until_it_goes(world):
    start = world.clock.now
    account = (await world.run(CREATE_ACCOUNT, {"kind": "ORGANIZATION", "name": "Contact's AS"}))["account"]["id"]
    contact = (await world.run(CREATE_CONTACT, {"accountId": account, "firstName": "Kari", "lastName": "Late"}))[
        "contact"
    ]["id"]
    task = await world.task(contact, start - HOUR)  # overdue the moment it is made
    assert await world.marked(contact) and await world.marked(account)
    await world.run(DELETE_TASK, {"id": task})
    assert not await world.marked(contact) and not await world.marked(account)
    await world.task(contact, None)  # no due time: never overdue
    await world.time_passes(start + 400 * 24 * HOUR)
    assert not await world.marked(contact)
    await world.consistent()


async def monitor_id(world: World, entity: str) -> str:
    monitors = await world.api.data(
        "query($e: MonitoredEntity) { statusMonitors(first: 100, filter: {entityType: $e}) { nodes { id name } } }",
        {"e": entity},
    )
    return next(m["id"] for m in monitors["statusMonitors"]["nodes"] if m["name"].startswith("Task overdue"))
