"""The event bus and the hub around it: events the bus drops are read from the outbox, a Redis
outage is survived, and events cross server processes through Redis."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis import asyncio as redis

from gql import ids
from gql.subscriptions.hub import EventHub, SlowConsumer
from persistence.bus import EventBus
from persistence.outbox import CHANNEL, OutboxDispatcher
from tests.conftest import GraphQLClient
from tests.integration.mutations.test_opportunities import an_account, new_opportunity
from tests.integration.test_scoreboard_subscription import ALL_TIME, UPDATED, figures, pushed, query
from tests.integration.test_subscriptions import EVENTS, LATEST, MONITOR, move
from tests.support.server import start_server
from tests.support.ws import GraphQLSocket

CREATE_OPPORTUNITY = """mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { __typename } }"""
INDICATORS_ALL = """subscription($since: ID) {
  statusIndicatorsChanged(entityTypes: [OPPORTUNITY], since: $since) { change monitorId entityId }
}"""

WAIT = 30.0  # a bound on waiting for what must happen, not a delay


class DroppingPublisher:
    """Publishes like the bus, except the messages whose numbers (1-based) are in `drop`: a lossy network."""

    def __init__(self, bus: EventBus, drop: set[int]) -> None:
        self.bus, self.drop, self.count = bus, drop, 0

    async def publish(self, channel: str, message: str) -> None:
        self.count += 1
        if self.count not in self.drop:
            await self.bus.publish(channel, message)


async def stage_events(api, writable, stages: list[str]) -> int:
    opportunity = await new_opportunity(api, writable)
    for stage in stages:
        await move(api, opportunity["id"], stage)
    return ids.decode(opportunity["id"])[1]


async def received(listener, opportunity_pk: int, n: int) -> list[dict]:
    found = []
    async with asyncio.timeout(WAIT):
        while len(found) < n:
            event = await listener.get()
            if event["entityId"] == opportunity_pk and event["type"] == "OpportunityStageChanged":
                found.append(event)
    return found


@pytest.fixture
async def hub_on_memory(writable):
    bus = EventBus("memory://")
    hub = EventHub(writable.engine, bus, resync_seconds=3600)
    task = asyncio.create_task(hub.run())
    await hub.started()
    yield bus, hub
    task.cancel()


async def test_an_event_the_bus_dropped_is_read_from_the_outbox_when_the_next_one_arrives(api, writable, hub_on_memory):
    bus, hub = hub_on_memory
    with hub.listen() as listener:
        pk = await stage_events(api, writable, ["QUALIFICATION", "PROPOSAL", "NEGOTIATION"])
        await OutboxDispatcher(writable.engine, DroppingPublisher(bus, drop={2})).dispatch_once()
        events = await received(listener, pk, 3)
    assert [e["data"]["to"] for e in events] == ["QUALIFICATION", "PROPOSAL", "NEGOTIATION"]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert hub.caught_up >= 1


async def test_the_last_event_dropped_by_the_bus_still_arrives_through_the_periodic_check(api, writable):
    bus = EventBus("memory://")
    hub = EventHub(writable.engine, bus, resync_seconds=0.2)
    task = asyncio.create_task(hub.run())
    try:
        await hub.started()
        with hub.listen() as listener:
            pk = await stage_events(api, writable, ["QUALIFICATION"])
            publisher = DroppingPublisher(bus, drop=set(range(1, 10_000)))  # nothing gets through
            await OutboxDispatcher(writable.engine, publisher).dispatch_once()
            assert publisher.count >= 1
            [event] = await received(listener, pk, 1)
        assert event["data"]["to"] == "QUALIFICATION"
    finally:
        task.cancel()


async def test_a_listener_that_does_not_keep_up_is_dropped_not_grown(writable, hub_on_memory):
    _, hub = hub_on_memory
    with hub.listen(maxsize=3) as listener:
        for n in range(1, 6):
            listener.push({"id": n})
        with pytest.raises(SlowConsumer):
            await listener.get()
        assert listener.queue.qsize() == 0  # what it held was released


async def test_the_hub_survives_a_redis_outage_and_catches_up_when_redis_returns(api, writable, redis_server):
    bus = EventBus(redis_server.url)
    hub = EventHub(writable.engine, bus, resync_seconds=3600, retry_seconds=0.1)
    task = asyncio.create_task(hub.run())
    try:
        await hub.started()
        with hub.listen() as listener:
            async with asyncio.timeout(WAIT):
                while not hub.connected:
                    await asyncio.sleep(0.02)
            pk = await stage_events(api, writable, ["QUALIFICATION"])
            await OutboxDispatcher(writable.engine, bus).dispatch_once()
            assert [e["data"]["to"] for e in await received(listener, pk, 1)] == ["QUALIFICATION"]

            redis_server.stop()
            await move(api, ids.encode("Opportunity", pk), "PROPOSAL")  # mutations go on while Redis is away
            with pytest.raises(Exception):  # noqa: B017 - whatever the Redis client raises for a refused connection
                await OutboxDispatcher(writable.engine, bus).dispatch_once()  # the event waits in the outbox
            redis_server.start()

            [event] = await received(listener, pk, 1)  # read from the outbox after resubscribing
            assert event["data"]["to"] == "PROPOSAL"
            await move(api, ids.encode("Opportunity", pk), "NEGOTIATION")
            assert await OutboxDispatcher(writable.engine, bus).dispatch_once() >= 1  # published now
            [event] = await received(listener, pk, 1)
            assert event["data"]["to"] == "NEGOTIATION"
    finally:
        task.cancel()
        await bus.close()


async def next_stage_change(socket: GraphQLSocket, op: str) -> dict:
    """The next STAGE_CHANGED event (the opportunity's creation may be numbered after the cursor was read)."""
    while True:
        event = (await socket.next(op, WAIT))["data"]["opportunityEvents"]
        if event["kind"] == "STAGE_CHANGED":
            return event


SETTINGS_STAGES = "{ settings { stages { key } } }"
CREATE_FIELD = """mutation($input: CreateCustomFieldInput!) { createCustomField(input: $input) {
  __typename ... on CustomFieldDefinitionPayload { customFieldDefinition { id } } ... on UserError { code message } } }"""
CREATE_STAGE = """mutation($input: CreateOpportunityStageInput!) { createOpportunityStage(input: $input) {
  __typename ... on OpportunityStagePayload { opportunityStage { id } } ... on UserError { code message } } }"""
DELETE_FIELD = """mutation($input: DeleteCustomFieldInput!) { deleteCustomField(input: $input) { __typename } }"""
DELETE_STAGE = (
    """mutation($input: DeleteOpportunityStageInput!) { deleteOpportunityStage(input: $input) { __typename } }"""
)


async def test_settings_changed_in_one_process_reach_the_copy_another_process_keeps(
    pg_writable, redis_server, tmp_path
):
    """Each process keeps its own copy of the opportunity stages and of the custom field definitions (no statement
    to read them once it has them). A change made in one process clears the other's copies when its outbox event
    arrives through Redis: the other shows the new stage, and checks its next write against the new mandatory
    field (the two events arrive in commit order, so once the later stage shows, the field's event was handled)."""
    one = start_server(pg_writable.url, tmp_path, BROADCAST_URL=redis_server.url)
    two = start_server(pg_writable.url, tmp_path, BROADCAST_URL=redis_server.url)
    try:
        async with httpx.AsyncClient(base_url=one.url) as http_one, httpx.AsyncClient(base_url=two.url) as http_two:
            api_one, api_two = (
                GraphQLClient(http_one, pg_writable.admin_token),
                GraphQLClient(http_two, pg_writable.admin_token),
            )
            account = await an_account(pg_writable)
            before = await api_two.data(CREATE_OPPORTUNITY, {"input": {"name": "Before", "accountId": account}})
            assert before["createOpportunity"]["__typename"] == "OpportunityPayload"  # (two has read the definitions)
            assert "PILOT" not in {s["key"] for s in (await api_two.data(SETTINGS_STAGES))["settings"]["stages"]}
            field = {"entityType": "OPPORTUNITY", "key": "REGION_CODE", "label": "Region", "type": "STRING"}
            made = await api_one.data(CREATE_FIELD, {"input": {**field, "mandatory": True}})
            assert "code" not in made["createCustomField"], made
            field_id = made["createCustomField"]["customFieldDefinition"]["id"]
            made = await api_one.data(CREATE_STAGE, {"input": {"key": "PILOT", "name": "Pilot", "probability": 30}})
            assert "code" not in made["createOpportunityStage"], made
            stage_id = made["createOpportunityStage"]["opportunityStage"]["id"]
            try:
                async with asyncio.timeout(WAIT):
                    while "PILOT" not in {
                        s["key"] for s in (await api_two.data(SETTINGS_STAGES))["settings"]["stages"]
                    }:
                        pass
                after = await api_two.data(CREATE_OPPORTUNITY, {"input": {"name": "After", "accountId": account}})
                assert after["createOpportunity"]["__typename"] == "ValidationError"
            finally:  # the module's other tests create opportunities without the field, and read boards
                gone = await api_one.data(DELETE_FIELD, {"input": {"id": field_id}})
                assert gone["deleteCustomField"]["__typename"] == "DeletedPayload", gone
                gone = await api_one.data(DELETE_STAGE, {"input": {"id": stage_id}})
                assert gone["deleteOpportunityStage"]["__typename"] == "DeletedPayload", gone
    finally:
        one.stop()
        two.stop()


async def test_a_mutation_on_one_process_reaches_a_subscriber_on_another_through_redis(
    pg_writable, redis_server, tmp_path
):
    one = start_server(pg_writable.url, tmp_path, BROADCAST_URL=redis_server.url)
    two = start_server(pg_writable.url, tmp_path, BROADCAST_URL=redis_server.url)
    try:
        async with httpx.AsyncClient(base_url=one.url) as http_one, httpx.AsyncClient(base_url=two.url) as http_two:
            api_one, api_two = (
                GraphQLClient(http_one, pg_writable.admin_token),
                GraphQLClient(http_two, pg_writable.admin_token),
            )
            opportunity = await new_opportunity(api_one, pg_writable)
            socket = await GraphQLSocket.open(two.url, pg_writable.admin_token)
            op = await socket.subscribe(
                EVENTS, {"ids": [opportunity["id"]], "since": (await api_two.data(LATEST))["latestEventId"]}
            )
            await move(api_one, opportunity["id"], "QUALIFICATION")
            event = await next_stage_change(socket, op)
            assert event["toStage"] == "QUALIFICATION" and event["opportunity"]["stage"] == "QUALIFICATION"
            assert (await http_two.get("/readyz")).json()["eventBus"] == "ok"

            # The scoreboard and status indicators cross processes too.
            board_op = await socket.subscribe(UPDATED, ALL_TIME)
            await pushed(socket, board_op)
            indicator_op = await socket.subscribe(
                INDICATORS_ALL, {"since": (await api_two.data(LATEST))["latestEventId"]}
            )
            await api_one.data(
                CREATE_OPPORTUNITY,
                {
                    "input": {
                        "name": "Across processes",
                        "accountId": await an_account(pg_writable),
                        "estimatedRevenue": {"amount": "777.00", "currency": "EUR"},
                    }
                },
            )
            wanted = figures(await query(api_one))
            async with asyncio.timeout(WAIT):
                while figures(await pushed(socket, board_op)) != wanted:
                    pass
            made = (
                await api_one.data(
                    MONITOR,
                    {
                        "input": {
                            "name": "Opportunity without a next step",
                            "entityType": "OPPORTUNITY",
                            "rule": {"kind": "NO_FUTURE_ACTIVITY"},
                        }
                    },
                )
            )["createStatusMonitor"]["statusMonitor"]["id"]
            change = (await socket.next(indicator_op, WAIT))["data"]["statusIndicatorsChanged"]
            assert change["change"] == "SET" and change["monitorId"] == made
            # Three subscriptions on one process and one on the other: still one Redis subscription each.
            other = await GraphQLSocket.open(one.url, pg_writable.admin_token)
            await other.subscribe(EVENTS, {"ids": [opportunity["id"]]})
            probe = await other.subscribe("query { latestEventId }")
            assert (await other.next(probe))["data"]["latestEventId"]  # a round trip: the subscription runs
            client = redis.Redis.from_url(redis_server.url)
            assert await client.pubsub_numsub(CHANNEL) == [(CHANNEL.encode(), 2)]
            await client.aclose()
            await other.close()
            await socket.stop(board_op)
            await socket.stop(indicator_op)

            redis_server.stop()
            await move(api_one, opportunity["id"], "PROPOSAL")  # served while Redis is down
            # Still ready, though degraded: every process shares Redis, so a 503 would take all of them out
            # of the load balancer at once, when queries, mutations and events (from the outbox) all work.
            ready = await http_one.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json() == {"status": "degraded", "database": "ok", "eventBus": "unreachable"}
            event = await next_stage_change(socket, op)  # from the outbox, while Redis is still down
            assert event["toStage"] == "PROPOSAL"
            redis_server.start()
            await move(api_one, opportunity["id"], "NEGOTIATION")
            event = await next_stage_change(socket, op)
            assert event["toStage"] == "NEGOTIATION"
            await socket.close()
    finally:
        one.stop()
        two.stop()


async def test_a_client_resumes_with_since_across_a_server_restart_and_misses_nothing(writable, tmp_path):
    server = start_server(writable.url, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            api = GraphQLClient(http, writable.admin_token)
            opportunity = await new_opportunity(api, writable)
            socket = await GraphQLSocket.open(server.url, writable.admin_token)
            op = await socket.subscribe(
                EVENTS, {"ids": [opportunity["id"]], "since": (await api.data(LATEST))["latestEventId"]}
            )
            await move(api, opportunity["id"], "QUALIFICATION")
            seen = await next_stage_change(socket, op)
    finally:
        server.kill()  # a crash: the client's socket just drops

    restarted = start_server(writable.url, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=restarted.url) as http:
            api = GraphQLClient(http, writable.admin_token)
            for stage in ("PROPOSAL", "NEGOTIATION"):
                await move(api, opportunity["id"], stage)
            socket = await GraphQLSocket.open(restarted.url, writable.admin_token)
            op = await socket.subscribe(EVENTS, {"ids": [opportunity["id"]], "since": seen["eventId"]})
            missed = [(await socket.next(op, WAIT))["data"]["opportunityEvents"] for _ in range(2)]
            assert [(e["kind"], e["toStage"]) for e in missed] == [
                ("STAGE_CHANGED", "PROPOSAL"),
                ("STAGE_CHANGED", "NEGOTIATION"),
            ]
            await move(api, opportunity["id"], "QUALIFICATION")
            live = (await socket.next(op, WAIT))["data"]["opportunityEvents"]
            assert live["toStage"] == "QUALIFICATION"
            assert int(seen["eventId"]) < int(missed[0]["eventId"]) < int(missed[1]["eventId"]) < int(live["eventId"])
            await socket.close()
    finally:
        restarted.stop()
