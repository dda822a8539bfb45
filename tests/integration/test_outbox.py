"""The transactional outbox: events are written with the change, published after commit in order,
never for a rolled-back change, and not lost when the process dies between commit and publish."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from broadcaster import Broadcast
from sqlalchemy import select, text

from domain.base import utcnow
from domain.events import AccountChanged, OpportunityChanged
from gql import ids
from persistence import tables
from persistence.locks import EVENT_NUMBERING_LOCK
from persistence.outbox import CHANNEL, OutboxDispatcher, newest_position
from persistence.scheduler import IndicatorScheduler
from persistence.uow import SqlUnitOfWork
from tests.integration.mutations.test_opportunities import CREATE, an_account
from tests.support.server import start_server


async def received(subscriber, n: int) -> list[dict]:
    return [json.loads((await asyncio.wait_for(subscriber.get(), 10)).message) for _ in range(n)]


async def unpublished(engine) -> list:
    async with engine.connect() as conn:
        return list(
            await conn.execute(select(tables.outbox_events).where(tables.outbox_events.c.published_at.is_(None)))
        )


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
                select(tables.outbox_events).where(
                    tables.outbox_events.c.entity_id == 3, tables.outbox_events.c.entity_type == "Account"
                )
            )
        ).all()
    assert rolled_back == []


async def test_events_are_numbered_by_their_commit_consecutively_whatever_commits_alongside(writable):
    """Many transactions commit events at once: each commit's events get the next ids, together, with
    no id given twice or skipped, and a read right after a commit already sees its events' ids."""
    async with Broadcast("memory://") as broadcast:
        await OutboxDispatcher(writable.engine, broadcast).dispatch_once()
    async with writable.engine.connect() as conn:
        before = await newest_position(conn)

    async def change(n: int) -> list[int]:
        async with SqlUnitOfWork(writable.engine) as uow:
            uow.record(AccountChanged(entity_id=1000 + n, data={"part": 1}))
            uow.record(AccountChanged(entity_id=1000 + n, data={"part": 2}))
            await uow.commit()
        async with writable.engine.connect() as conn:
            assert await newest_position(conn) >= before + 2  # numbered in the commit, before any publish
            rows = await conn.execute(
                select(tables.outbox_events.c.position)
                .where(tables.outbox_events.c.entity_id == 1000 + n)
                .order_by(tables.outbox_events.c.id)
            )
            return [r.position for r in rows]

    numbered = await asyncio.gather(*(change(n) for n in range(12)))
    assert all(second == first + 1 for first, second in numbered)
    assert sorted(p for pair in numbered for p in pair) == list(range(before + 1, before + 25))


@pytest.mark.parametrize("history", [0, 2], ids=["events only", "with history"])
async def test_a_commit_waits_to_number_its_events_until_the_one_numbering_before_it_commits(pg_writable, history):
    """On PostgreSQL, transactions commit concurrently: one that has numbered its events holds the
    numbering lock until it commits, so the next sees its ids (never the same or a smaller one), and
    readers never see an id before the ones below it. A commit with history takes the lock in the
    statement that writes the history; one without, in a statement of its own."""
    writable = pg_writable
    async with writable.engine.connect() as conn:
        before = await newest_position(conn)
    async with writable.engine.connect() as first:
        await first.begin()
        await first.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_NUMBERING_LOCK})
        await first.execute(
            tables.outbox_events.insert().values(
                position=before + 1, type="Probe", entity_type="Account", entity_id=2001, data={}, created_at=utcnow()
            )
        )

        async def second() -> None:
            async with SqlUnitOfWork(writable.engine) as uow:
                uow.record(AccountChanged(entity_id=2002, data={}))
                for n in range(history):
                    uow.audit("Account", 2002, "name", f"old {n}", f"new {n}")
                await uow.commit()

        committing = asyncio.create_task(second())
        async with asyncio.timeout(10), writable.engine.connect() as conn:  # the second waits for the lock
            while not (
                await conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))
            ).scalar_one():
                await asyncio.sleep(0.01)
        async with writable.engine.connect() as conn:
            assert await newest_position(conn) == before  # neither is visible yet
        await first.commit()
        await committing
    async with writable.engine.connect() as conn:
        rows = await conn.execute(
            select(tables.outbox_events.c.entity_id, tables.outbox_events.c.position).where(
                tables.outbox_events.c.position > before
            )
        )
        assert sorted((r.position, r.entity_id) for r in rows) == [(before + 1, 2001), (before + 2, 2002)]
        audited = await conn.execute(
            select(tables.audit_entries.c.new_value).where(tables.audit_entries.c.entity_id == 2002)
        )
        assert sorted(r.new_value for r in audited) == [f"new {n}" for n in range(history)]


async def test_events_an_older_version_left_without_an_id_are_numbered_after_the_others(writable):
    async with Broadcast("memory://") as broadcast:
        dispatcher = OutboxDispatcher(writable.engine, broadcast)
        await dispatcher.dispatch_once()
        async with broadcast.subscribe(CHANNEL) as subscriber:
            async with SqlUnitOfWork(writable.engine) as uow:
                await uow.execute(  # what a version that left numbering to the dispatcher committed
                    tables.outbox_events.insert().values(
                        type="Probe", entity_type="Account", entity_id=3001, data={}, created_at=uow.now
                    )
                )
                uow.record(AccountChanged(entity_id=3002, data={}))
                await uow.commit()
            assert await dispatcher.dispatch_once() == 2
            events = await received(subscriber, 2)
    assert [e["entityId"] for e in events] == [3002, 3001]
    assert events[1]["id"] == events[0]["id"] + 1


async def test_an_event_committed_by_a_process_killed_before_publishing_is_published_later(writable, tmp_path):
    """The server runs without a dispatcher (SALESGRAPH_DISPATCH=off), commits a change and is killed
    with SIGKILL: the state a crash between commit and publish leaves. The next dispatcher publishes
    the event."""
    # The seed's contracts are dated around the tests' anchor: what the server's scheduler would end or
    # announce at today's date is done first, so the change is the only event the crash leaves.
    await IndicatorScheduler(writable.engine).run_due()
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


async def test_a_commit_of_more_events_than_one_insert_carries_numbers_them_without_holes(writable):
    """A change with a few events numbers them in one statement; a change with thousands (more rows than
    one INSERT carries) numbers them another way. Both give consecutive ids after the last, in order."""
    async with writable.engine.connect() as conn:
        before = await newest_position(conn)
    sizes = (3, 1_234)
    for size in sizes:
        async with SqlUnitOfWork(writable.engine) as uow:
            for n in range(size):
                uow.record(AccountChanged(entity_id=5000 + size, data={"n": n}))
            await uow.commit()
    async with writable.engine.connect() as conn:
        rows = await conn.execute(
            select(tables.outbox_events.c.position, tables.outbox_events.c.data)
            .where(tables.outbox_events.c.position > before)
            .order_by(tables.outbox_events.c.position)
        )
        numbered = [(r.position, r.data["n"]) for r in rows]
    assert numbered == [(before + 1 + k, n) for k, n in enumerate(n for size in sizes for n in range(size))]
