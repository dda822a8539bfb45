"""The transactional outbox: events are written with the change, published after commit in order,
never for a rolled-back change, and not lost when the process dies between commit and publish."""

from __future__ import annotations

import asyncio
import json

import httpx
from broadcaster import Broadcast
from sqlalchemy import select

from domain.events import AccountChanged, OpportunityChanged
from gql import ids
from persistence import tables as t
from persistence.outbox import CHANNEL, OutboxDispatcher
from persistence.uow import SqlUnitOfWork
from tests.integration.mutations.test_opportunities import CREATE, an_account
from tests.support.server import start_server


async def received(subscriber, n: int) -> list[dict]:
    return [json.loads((await asyncio.wait_for(subscriber.get(), 10)).message) for _ in range(n)]


async def unpublished(engine) -> list:
    async with engine.connect() as conn:
        return list(await conn.execute(select(t.outbox_events).where(t.outbox_events.c.published_at.is_(None))))


async def test_committed_events_are_published_in_order_and_rolled_back_ones_never(writable):
    async with Broadcast("memory://") as broadcast:
        dispatcher = OutboxDispatcher(writable.engine, broadcast)
        await dispatcher.dispatch_once()  # what earlier tests left behind
        async with broadcast.subscribe(CHANNEL) as subscriber:
            async with SqlUnitOfWork(writable.engine) as uow:
                uow.record(AccountChanged(entity_id=1, data={"fields": ["name"]}))
                uow.record(OpportunityChanged(entity_id=2, data={"fields": ["stage"]}))
                await uow.commit()
            async with SqlUnitOfWork(writable.engine) as uow:
                uow.record(AccountChanged(entity_id=3, data={"rolled": "back"}))  # leaves without commit
            assert await dispatcher.dispatch_once() == 2
            events = await received(subscriber, 2)
            assert [(e["type"], e["entityId"]) for e in events] == [("AccountChanged", 1), ("OpportunityChanged", 2)]
            assert events[1]["id"] == events[0]["id"] + 1
            assert await dispatcher.dispatch_once() == 0
    assert await unpublished(writable.engine) == []
    async with writable.engine.connect() as conn:
        rolled_back = (
            await conn.execute(
                select(t.outbox_events).where(
                    t.outbox_events.c.entity_id == 3, t.outbox_events.c.entity_type == "Account"
                )
            )
        ).all()
    assert rolled_back == []


async def test_events_get_positions_in_commit_order_even_when_inserted_in_another(pg_writable):
    """Two transactions: the one that wrote its event first commits last; readers that saw the later
    position must still be able to rely on having seen everything before it. (PostgreSQL only: SQLite
    has one writer at a time, so its events cannot commit out of insert order.)"""
    writable = pg_writable
    async with Broadcast("memory://") as broadcast:
        dispatcher = OutboxDispatcher(writable.engine, broadcast)
        await dispatcher.dispatch_once()
        async with broadcast.subscribe(CHANNEL) as subscriber:
            slow = SqlUnitOfWork(writable.engine)
            await slow.__aenter__()
            slow.record(AccountChanged(entity_id=101, data={}))
            await slow.c.execute(
                t.outbox_events.insert().values(
                    type="Probe", entity_type="Account", entity_id=100, data={}, created_at=slow.now
                )
            )
            async with SqlUnitOfWork(writable.engine) as fast:
                fast.record(AccountChanged(entity_id=102, data={}))
                await fast.commit()
            assert await dispatcher.dispatch_once() == 1
            await slow.commit()
            await slow.__aexit__(None, None, None)
            assert await dispatcher.dispatch_once() == 2
            events = await received(subscriber, 3)
            assert [e["entityId"] for e in events] == [102, 100, 101]
            assert [e["id"] for e in events] == sorted(e["id"] for e in events)


async def test_an_event_committed_by_a_process_killed_before_publishing_is_published_later(writable, tmp_path):
    """The server runs without a dispatcher (SALESGRAPH_DISPATCH=off), commits a change and is killed
    with SIGKILL: the state a crash between commit and publish leaves. The next dispatcher publishes
    the event."""
    async with Broadcast("memory://") as broadcast:
        await OutboxDispatcher(writable.engine, broadcast).dispatch_once()
    server = start_server(writable.url, tmp_path, SALESGRAPH_DISPATCH="off")
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            response = await http.post(
                "/graphql",
                headers={"Authorization": f"Bearer {writable.admin_token}"},
                json={
                    "query": CREATE,
                    "variables": {"input": {"name": "Survives a crash", "accountId": await an_account(writable)}},
                },
            )
        created = response.json()["data"]["createOpportunity"]["opportunity"]
    finally:
        server.kill()
    waiting = await unpublished(writable.engine)
    assert [(e.type, e.entity_id) for e in waiting] == [("OpportunityCreated", ids.decode(created["id"])[1])]
    async with Broadcast("memory://") as broadcast:
        async with broadcast.subscribe(CHANNEL) as subscriber:
            assert await OutboxDispatcher(writable.engine, broadcast).dispatch_once() == 1
            (event,) = await received(subscriber, 1)
    assert event["type"] == "OpportunityCreated" and event["entityId"] == ids.decode(created["id"])[1]
    assert await unpublished(writable.engine) == []


class FailingOnce:
    """A bus that accepts the first message and fails on the second, once (a bus that went away)."""

    def __init__(self, bus) -> None:
        self.bus, self.calls = bus, 0

    async def publish(self, channel: str, message) -> None:
        self.calls += 1
        if self.calls == 2:
            raise ConnectionError("the event bus went away")
        await self.bus.publish(channel, message)


async def test_a_failed_publish_is_retried_with_the_same_event_ids(writable):
    async with Broadcast("memory://") as broadcast:
        await OutboxDispatcher(writable.engine, broadcast).dispatch_once()
        async with broadcast.subscribe(CHANNEL) as subscriber:
            async with SqlUnitOfWork(writable.engine) as uow:
                uow.record(AccountChanged(entity_id=201, data={}))
                uow.record(AccountChanged(entity_id=202, data={}))
                await uow.commit()
            flaky = OutboxDispatcher(writable.engine, FailingOnce(broadcast))
            try:
                await flaky.dispatch_once()
                raise AssertionError("the failing bus should have failed the dispatch")
            except ConnectionError:
                pass
            (early,) = await received(subscriber, 1)  # went out before the bus failed
            assert len(await unpublished(writable.engine)) == 2  # neither is marked sent
            assert await flaky.dispatch_once() == 2
            again = await received(subscriber, 2)
    assert [e["entityId"] for e in again] == [201, 202]
    assert again[0]["id"] == early["id"]  # the same event keeps its id: subscribers drop the repeat
    assert await unpublished(writable.engine) == []
