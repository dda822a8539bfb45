"""Subscriptions over real WebSockets, both protocols, on SQLite and PostgreSQL: authentication,
protocol errors, live events, resuming with `since` without gaps or duplicates, and slow consumers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gql import ids
from persistence import tables
from persistence.outbox import prune
from tests.conftest import GraphQLClient
from tests.integration.mutations.test_opportunities import STAGE, new_opportunity
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, WAIT, GraphQLSocket, ServerClosed, StallingSocket

EVENTS = """subscription($ids: [ID!], $since: ID) {
  opportunityEvents(ids: $ids, since: $since) { eventId kind opportunityId fromStage toStage opportunity { id name stage } }
}"""
LATEST = "{ latestEventId }"


@pytest.fixture
async def live(writable):
    async with live_server(writable.url) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            server.api = GraphQLClient(http, writable.admin_token)
            yield server


async def cursor(server) -> str:
    """The id to resume after everything committed so far, as a client reads it."""
    return (await server.api.data(LATEST))["latestEventId"]


async def move(api, opportunity_id: str, stage: str) -> None:
    result = await api.data(STAGE, {"input": {"id": opportunity_id, "stage": stage}})
    assert result["changeOpportunityStage"]["__typename"] == "OpportunityPayload", result


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_stage_change_made_over_http_reaches_a_subscriber_of_that_opportunity(live, writable, protocol):
    mine = await new_opportunity(live.api, writable)
    other = await new_opportunity(live.api, writable)
    socket = await GraphQLSocket.open(live.url, writable.admin_token, protocol)
    op = await socket.subscribe(EVENTS, {"ids": [mine["id"]], "since": await cursor(live)})
    await move(live.api, other["id"], "PROPOSAL")
    await move(live.api, mine["id"], "QUALIFICATION")
    event = (await socket.next(op))["data"]["opportunityEvents"]
    assert (
        event["kind"] == "STAGE_CHANGED" and event["fromStage"] == "PROSPECTING" and event["toStage"] == "QUALIFICATION"
    )
    assert event["opportunity"] == {"id": mine["id"], "name": "Fleet renewal", "stage": "QUALIFICATION"}
    await socket.stop(op)
    if protocol == LEGACY_WS:
        assert await socket.receive() == {"type": "complete", "id": op}
    await move(live.api, mine["id"], "PROPOSAL")
    # After stopping, nothing more arrives for that operation: the next message is a reply to a new one.
    again = await socket.subscribe("subscription { opportunityEvents(ids: []) { eventId } }")
    await socket.stop(again)
    if protocol == LEGACY_WS:
        assert await socket.receive() == {"type": "complete", "id": again}
    await socket.close()


async def test_reconnecting_with_since_gets_exactly_the_missed_events_in_order_then_live_ones(live, writable):
    opportunity = await new_opportunity(live.api, writable)
    socket = await GraphQLSocket.open(live.url, writable.admin_token)
    op = await socket.subscribe(EVENTS, {"ids": [opportunity["id"]], "since": await cursor(live)})
    await move(live.api, opportunity["id"], "QUALIFICATION")
    seen = (await socket.next(op))["data"]["opportunityEvents"]
    await socket.close()

    for stage in ("PROPOSAL", "NEGOTIATION", "QUALIFICATION"):  # while disconnected
        await move(live.api, opportunity["id"], stage)

    socket = await GraphQLSocket.open(live.url, writable.admin_token)
    op = await socket.subscribe(EVENTS, {"ids": [opportunity["id"]], "since": seen["eventId"]})
    missed = [(await socket.next(op))["data"]["opportunityEvents"] for _ in range(3)]
    assert [(e["fromStage"], e["toStage"]) for e in missed] == [
        ("QUALIFICATION", "PROPOSAL"),
        ("PROPOSAL", "NEGOTIATION"),
        ("NEGOTIATION", "QUALIFICATION"),
    ]
    assert [int(e["eventId"]) for e in missed] == sorted({int(e["eventId"]) for e in missed})
    assert int(missed[0]["eventId"]) > int(seen["eventId"])
    await move(live.api, opportunity["id"], "PROPOSAL")
    live_event = (await socket.next(op))["data"]["opportunityEvents"]
    assert (live_event["fromStage"], live_event["toStage"]) == ("QUALIFICATION", "PROPOSAL")
    assert int(live_event["eventId"]) > int(missed[-1]["eventId"])
    await socket.close()


async def test_since_older_than_the_kept_events_is_refused_with_a_clear_error(live, writable):
    opportunity = await new_opportunity(live.api, writable)
    await move(live.api, opportunity["id"], "QUALIFICATION")
    await move(live.api, opportunity["id"], "PROPOSAL")
    newest = int(await cursor(live))
    async with writable.engine.begin() as conn:  # a day passes: everything but the newest event is pruned
        await conn.execute(
            update(tables.outbox_events)
            .where(tables.outbox_events.c.published_at.is_(None))
            .values(published_at=tables.outbox_events.c.created_at)
        )
        await prune(conn, datetime.now(UTC) + timedelta(days=1))
    socket = await GraphQLSocket.open(live.url, writable.admin_token)
    op = await socket.subscribe(EVENTS, {"since": str(newest - 2)})
    result = await socket.next(op)
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "SINCE_OUT_OF_RANGE"
    assert "query the current state again" in result["errors"][0]["message"]
    assert await socket.receive() == {"type": "complete", "id": op}
    # The newest event is always kept, so resuming right after it still works.
    ok = await socket.subscribe(EVENTS, {"ids": [opportunity["id"]], "since": str(newest)})
    await move(live.api, opportunity["id"], "NEGOTIATION")
    assert (await socket.next(ok))["data"]["opportunityEvents"]["toStage"] == "NEGOTIATION"
    await socket.close()


async def test_a_connection_without_a_valid_token_is_closed_as_forbidden(live, writable):
    socket = await GraphQLSocket.open(live.url, None, init=False)
    await socket.send({"type": "connection_init", "payload": {"authorization": "Bearer not-a-token"}})
    code, reason = await socket.closed()
    assert code == 4403 and "token" in reason


async def test_legacy_protocol_reports_a_bad_token_as_connection_error(live, writable):
    socket = await GraphQLSocket.open(live.url, None, LEGACY_WS, init=False)
    await socket.send({"type": "connection_init", "payload": {}})
    message = await socket.receive()
    assert message["type"] == "connection_error" and "token" in message["payload"]["message"]
    assert (await socket.closed())[0] == 4403


async def test_protocol_misuse_closes_with_the_protocols_codes(live, writable):
    early = await GraphQLSocket.open(live.url, None, init=False)
    await early.subscribe(EVENTS)
    assert (await early.closed())[0] == 4401

    twice = await GraphQLSocket.open(live.url, writable.admin_token)
    await twice.send({"type": "connection_init", "payload": {"authorization": f"Bearer {writable.admin_token}"}})
    assert (await twice.closed())[0] == 4429

    duplicate = await GraphQLSocket.open(live.url, writable.admin_token)
    await duplicate.subscribe(EVENTS, op_id="a")
    await duplicate.subscribe(EVENTS, op_id="a")
    code, reason = await duplicate.closed()
    assert code == 4409 and "a" in reason

    garbage = await GraphQLSocket.open(live.url, writable.admin_token)
    await garbage.ws.send("{not json")
    assert (await garbage.closed())[0] == 4400


async def test_an_invalid_document_gets_an_error_message_and_the_connection_stays_usable(live, writable):
    socket = await GraphQLSocket.open(live.url, writable.admin_token)
    await socket.subscribe("subscription { opportunityEvents { noSuchField } }", op_id="bad")
    message = await socket.receive()
    assert message["type"] == "error" and message["id"] == "bad"
    assert "noSuchField" in message["payload"][0]["message"]
    op = await socket.subscribe("query { latestEventId }")
    assert (await socket.next(op))["data"]["latestEventId"].isdigit()
    assert await socket.receive() == {"type": "complete", "id": op}
    await socket.close()


async def test_ids_of_the_wrong_type_are_an_error_not_an_empty_stream(live, writable):
    socket = await GraphQLSocket.open(live.url, writable.admin_token)
    op = await socket.subscribe(EVENTS, {"ids": [ids.encode("Account", 1)]})
    result = await socket.next(op)
    assert result["data"] is None and "ids" in result["errors"][0]["message"]
    await socket.close()


async def test_a_subscriber_that_falls_too_far_behind_is_closed_with_the_slow_consumer_code(writable, monkeypatch):
    monkeypatch.setenv("SALESGRAPH_SUBSCRIBER_QUEUE", "2")
    monkeypatch.setenv("SALESGRAPH_EVENT_RESYNC_SECONDS", "3600")  # the hub learns of events from the bus only
    async with live_server(writable.url, dispatch=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        api = GraphQLClient(http, writable.admin_token)
        opportunity = await new_opportunity(api, writable)
        socket = await GraphQLSocket.open(server.url, writable.admin_token)
        await socket.subscribe(EVENTS, {"ids": [opportunity["id"]]})
        # A round trip on the same socket: operations start in order, so the subscription is listening.
        probe = await socket.subscribe("query { latestEventId }")
        assert (await socket.next(probe))["data"]
        assert await socket.receive() == {"type": "complete", "id": probe}
        for stage in ("QUALIFICATION", "PROPOSAL", "NEGOTIATION", "QUALIFICATION"):
            await move(api, opportunity["id"], stage)
        # With no dispatcher the events wait in the outbox; the hub then reads all four at once,
        # faster than the subscriber can take them, and its queue holds two.
        await server.app.state.dispatcher.dispatch_once()
        code, reason = await socket.closed()
        assert code == 4008 and "since" in reason


READ_WITH_CURSOR = """query($id: ID!) { node(id: $id) { ... on Opportunity { stage } } latestEventId }"""


@pytest.mark.parametrize("dispatch", [True, False], ids=["dispatcher", "no-dispatcher"])
async def test_latest_event_id_read_with_the_data_right_after_a_mutation_resumes_exactly_after_what_the_data_shows(
    writable, monkeypatch, dispatch
):
    """The README's recipe: read the data and `latestEventId` together, subscribe with `since` set to
    it: the change the data already shows does not come again, and each later one comes once. Without
    a dispatcher (and with the hub's periodic check off) nothing can number events behind the
    client's back: `latestEventId` is right only because the commit numbered them."""
    monkeypatch.setenv("SALESGRAPH_EVENT_RESYNC_SECONDS", "3600")
    async with live_server(writable.url, dispatch=dispatch) as server, httpx.AsyncClient(base_url=server.url) as http:
        api = GraphQLClient(http, writable.admin_token)
        opportunity = await new_opportunity(api, writable)
        await move(api, opportunity["id"], "QUALIFICATION")
        read = await api.data(READ_WITH_CURSOR, {"id": opportunity["id"]})
        assert read["node"]["stage"] == "QUALIFICATION"
        socket = await GraphQLSocket.open(server.url, writable.admin_token)
        op = await socket.subscribe(EVENTS, {"ids": [opportunity["id"]], "since": read["latestEventId"]})
        for stage in ("PROPOSAL", "NEGOTIATION", "QUALIFICATION"):
            await move(api, opportunity["id"], stage)
            if not dispatch:
                await server.app.state.dispatcher.dispatch_once()
            event = (await socket.next(op))["data"]["opportunityEvents"]
            assert event["toStage"] == stage  # never the QUALIFICATION the read showed
            assert int(event["eventId"]) > int(read["latestEventId"])
        await socket.close()


# A client that stops reading. The server's socket buffer is small (`send_buffer`) and so is the client's
# receive buffer, and the connection has many subscriptions (each event is that many messages), so a
# few events fill every buffer on the way and the server's sends have to wait.
SUBSCRIPTIONS = 20
STAGES = ("QUALIFICATION", "PROPOSAL", "NEGOTIATION")


def most_in_flight(server, client: StallingSocket, message: int) -> int:
    """An upper bound on the bytes the server hands to the socket before a send has to wait: its send
    buffer and the client's receive buffer (the kernel's figures, which count overhead too, so they
    hold less data than that) and asyncio's transport buffer, which takes one more message once it is
    past its high-water mark of 64 KiB."""
    return server.send_buffer + client.receive_buffer + 64 * 1024 + message


async def delivered(server, event_id: str) -> None:
    """Wait until the server's event hub has handed every event up to `event_id` to its listeners."""
    async with asyncio.timeout(WAIT):
        while server.app.state.hub.position < int(event_id):
            await asyncio.sleep(0.01)


async def stalled_subscriber(server, writable, protocol: str):
    """A live server's opportunity, a StallingSocket with SUBSCRIPTIONS subscriptions to its events, one
    event all of them received while the client read, and the size of the smallest of those messages."""
    opportunity = await new_opportunity(server.api, writable)
    since = await cursor(server)
    client = await StallingSocket.open(server.url, writable.admin_token, protocol)
    ops = [await client.subscribe(EVENTS, {"ids": [opportunity["id"]], "since": since}) for _ in range(SUBSCRIPTIONS)]
    await move(server.api, opportunity["id"], STAGES[0])
    received: dict[str, list[dict]] = {op: [] for op in ops}
    smallest = None
    while any(not events for events in received.values()):
        text = await client.receive_text()
        message = json.loads(text)
        if message["type"] in ("next", "data"):
            received[message["id"]].append(message["payload"]["data"]["opportunityEvents"])
            smallest = min(smallest or len(text), len(text))
    assert all(len(events) == 1 for events in received.values())
    return opportunity, client, received, smallest


def in_order(events: list[dict], stages: list[str]) -> None:
    """`events` are the first of the events that moved the opportunity through `stages`, each once."""
    assert [e["toStage"] for e in events] == stages[: len(events)]
    ids_ = [int(e["eventId"]) for e in events]
    assert ids_ == sorted(set(ids_))


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_subscriber_that_stops_reading_gets_4008_and_resumes_with_since_without_loss_or_repeat(
    writable, monkeypatch, protocol
):
    queue = 5
    monkeypatch.setenv("SALESGRAPH_SUBSCRIBER_QUEUE", str(queue))
    monkeypatch.setenv("SALESGRAPH_WS_KEEPALIVE_SECONDS", "0.05")  # keep-alives go out (or wait) all along
    async with live_server(writable.url, send_buffer=4096) as server, httpx.AsyncClient(base_url=server.url) as http:
        server.api = GraphQLClient(http, writable.admin_token)
        opportunity, slow, received, size = await stalled_subscriber(server, writable, protocol)
        stages = [STAGES[0]]

        # The client stops reading. Without a close, the messages the server can hold are those the
        # sockets took, one per subscription being rendered, the connection's waiting ones and each
        # subscription's queue (at most `queue` each): produce more events than that.
        holdable = most_in_flight(server, slow, size) // size + 1 + SUBSCRIPTIONS + queue + SUBSCRIPTIONS * queue
        for n in range(1, holdable // SUBSCRIPTIONS + 2):
            stages.append(STAGES[n % len(STAGES)])
            await move(server.api, opportunity["id"], stages[-1])
        await delivered(server, await cursor(server))

        # It reads again: what was sent before, then the close with 4008, and the server hangs up.
        with pytest.raises(ServerClosed) as closed:
            while True:
                message = await slow.receive()
                assert message["type"] == ("next" if protocol == TRANSPORT_WS else "data"), message
                received[message["id"]].append(message["payload"]["data"]["opportunityEvents"])
        assert closed.value.code == 4008 and "since" in closed.value.reason
        await slow.until_eof()
        slow.close()
        for events in received.values():
            in_order(events, stages)
        seen = received["1"]
        assert len(seen) < len(stages)

        # Resuming after the last event it got: every later one once, in order, then live ones.
        socket = await GraphQLSocket.open(server.url, writable.admin_token, protocol)
        op = await socket.subscribe(EVENTS, {"ids": [opportunity["id"]], "since": seen[-1]["eventId"]})
        rest = [(await socket.next(op))["data"]["opportunityEvents"] for _ in range(len(stages) - len(seen))]
        everything = seen + rest
        in_order(everything, stages)
        assert len(everything) == len(stages)
        stages.append(STAGES[len(stages) % len(STAGES)])
        await move(server.api, opportunity["id"], stages[-1])
        live = (await socket.next(op))["data"]["opportunityEvents"]
        in_order([*everything, live], stages)
        await socket.close()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_subscriber_that_stops_reading_for_a_while_and_catches_up_within_its_queue_keeps_receiving(
    writable, monkeypatch, protocol
):
    monkeypatch.setenv("SALESGRAPH_WS_KEEPALIVE_SECONDS", "0.05")  # keep-alives go out (or wait) all along
    async with live_server(writable.url, send_buffer=4096) as server, httpx.AsyncClient(base_url=server.url) as http:
        server.api = GraphQLClient(http, writable.admin_token)
        opportunity, slow, received, size = await stalled_subscriber(server, writable, protocol)
        stages = [STAGES[0]]

        # The client stops reading for more events than the buffers on the way can take, so the
        # server's sends wait; far fewer than its queue (1,000) pile up behind them.
        for n in range(1, most_in_flight(server, slow, size) // (size * SUBSCRIPTIONS) + 3):
            stages.append(STAGES[n % len(STAGES)])
            await move(server.api, opportunity["id"], stages[-1])
        await delivered(server, await cursor(server))

        # It reads again and gets every event on every subscription, then live ones.
        stages.append(STAGES[len(stages) % len(STAGES)])
        await move(server.api, opportunity["id"], stages[-1])
        while any(len(events) < len(stages) for events in received.values()):
            message = await slow.receive()
            assert message["type"] == ("next" if protocol == TRANSPORT_WS else "data"), message
            received[message["id"]].append(message["payload"]["data"]["opportunityEvents"])
        for events in received.values():
            in_order(events, stages)
            assert len(events) == len(stages)
        slow.close()


INDICATORS = """subscription($ids: [ID!], $since: ID) {
  statusIndicatorsChanged(entityTypes: [ACCOUNT], ids: $ids, since: $since) {
    eventId change entityType entityId monitorId setAt entity { ... on Account { id name } } monitor { name }
  }
}"""
MONITOR = """mutation($input: CreateStatusMonitorInput!) {
  createStatusMonitor(input: $input) { __typename ... on StatusMonitorPayload { statusMonitor { id } } }
}"""
CALL = """mutation($input: CreateSalesActivityInput!) { createSalesActivity(input: $input) { __typename } }"""


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_an_indicator_set_by_a_new_monitor_and_cleared_by_a_call_reaches_a_subscriber(live, writable, protocol):
    # Each run takes an account no earlier run has called (the database lives for the module).
    accounts = (await live.api.data("{ accounts(first: 2) { edges { node { id name } } } }"))["accounts"]["edges"]
    account = accounts[[TRANSPORT_WS, LEGACY_WS].index(protocol)]["node"]
    socket = await GraphQLSocket.open(live.url, writable.admin_token, protocol)
    op = await socket.subscribe(INDICATORS, {"ids": [account["id"]], "since": await cursor(live)})
    made = await live.api.data(
        MONITOR,
        {
            "input": {
                "name": f"No call for a month ({protocol})",
                "entityType": "ACCOUNT",
                "rule": {"kind": "NO_ACTIVITY", "days": 30, "activityTypes": ["CALL"], "activityState": "DONE"},
            }
        },
    )
    monitor_id = made["createStatusMonitor"]["statusMonitor"]["id"]
    set_ = (await socket.next(op))["data"]["statusIndicatorsChanged"]
    assert set_["change"] == "SET" and set_["entityType"] == "ACCOUNT" and set_["monitorId"] == monitor_id
    assert set_["entityId"] == account["id"] and set_["entity"] == account
    assert set_["monitor"]["name"].startswith("No call for a month")

    await live.api.data(
        CALL, {"input": {"attachToId": account["id"], "type": "CALL", "subject": "Check-in", "done": True}}
    )
    # The call clears this monitor's indicator (and those of the same rule made by earlier runs).
    changes = [(await socket.next(op))["data"]["statusIndicatorsChanged"]]
    while changes[-1]["monitorId"] != monitor_id:
        changes.append((await socket.next(op))["data"]["statusIndicatorsChanged"])
    assert all(c["change"] == "CLEARED" and c["entityId"] == account["id"] for c in changes)
    cleared = changes[-1]
    assert cleared["setAt"] == set_["setAt"]
    assert int(cleared["eventId"]) > int(set_["eventId"])
    await socket.close()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_the_server_keeps_idle_connections_alive_and_drops_ones_that_never_initialise(
    writable, monkeypatch, protocol
):
    monkeypatch.setenv("SALESGRAPH_WS_KEEPALIVE_SECONDS", "0.2")
    monkeypatch.setenv("SALESGRAPH_WS_INIT_TIMEOUT_SECONDS", "0.5")
    async with live_server(writable.url) as server:
        socket = await GraphQLSocket.open(server.url, writable.admin_token, protocol)
        await socket.subscribe(EVENTS, {"ids": []})
        expected = {"type": "ping"} if protocol == TRANSPORT_WS else {"type": "ka"}
        for _ in range(2):  # keep-alives keep coming while nothing else is said
            assert json.loads(await asyncio.wait_for(socket.ws.recv(), 10)) == expected
        await socket.close()

        silent = await GraphQLSocket.open(server.url, None, protocol, init=False)
        code, reason = await silent.closed()
        assert code == 4408 and "initialisation" in reason


async def test_a_client_offering_no_graphql_subprotocol_is_told_so(live):
    ws = await connect(live.url.replace("http", "ws", 1) + "/graphql")
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd.code == 4406 and "graphql-transport-ws" in closed.value.rcvd.reason


async def test_a_partner_subscriber_receives_no_event_about_an_opportunity_it_may_not_see(live, writable):
    async with writable.engine.connect() as conn:
        theirs = (
            (
                await conn.execute(
                    select(tables.opportunities.c.id)
                    .where(
                        tables.opportunities.c.partner_id == writable.summary.partner_id,
                        tables.opportunities.c.stage.not_in(["WON", "LOST"]),
                    )
                    .order_by(tables.opportunities.c.id)
                )
            )
            .scalars()
            .first()
        )
    assert theirs is not None, "the seed gives the partner an open opportunity"
    foreign = await new_opportunity(live.api, writable)  # the admin's, on an account that is not the partner's
    since = await cursor(live)
    partner = await GraphQLSocket.open(live.url, writable.partner_token)
    admin = await GraphQLSocket.open(live.url, writable.admin_token)
    partner_op = await partner.subscribe(EVENTS, {"since": since})
    admin_op = await admin.subscribe(EVENTS, {"since": since})
    await move(live.api, foreign["id"], "QUALIFICATION")
    await move(live.api, ids.encode("Opportunity", theirs), "NEGOTIATION")
    got = (await partner.next(partner_op))["data"]["opportunityEvents"]
    assert got["opportunityId"] == ids.encode("Opportunity", theirs) and got["toStage"] == "NEGOTIATION"
    seen_by_admin = [(await admin.next(admin_op))["data"]["opportunityEvents"]["opportunityId"] for _ in range(2)]
    assert seen_by_admin == [foreign["id"], ids.encode("Opportunity", theirs)]
    await partner.close()
    await admin.close()
