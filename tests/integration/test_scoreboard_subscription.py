"""scoreboardUpdated over real WebSockets: the current scoreboard first, a push after a sale, bursts
coalesced into one computation, one computation for many subscribers, and the last push always
equal to what the `scoreboard` query returns (convergence)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gql import ids
from tests.conftest import GraphQLClient
from tests.integration.mutations.test_quotes_and_sales import SELL, quote_with_items
from tests.integration.test_scoreboard import BOARD
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

UPDATED = BOARD.replace("query(", "subscription(").replace("scoreboard(period", "scoreboardUpdated(period")
ALL_TIME = {"period": {"preset": "ALL_TIME"}}
CREATE = """mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { __typename } }"""
WAIT = 30.0


def figures(board: dict) -> dict:
    """What a dashboard shows; `asOf`, `timeLeft` and `eventId` move without any figure moving, and so
    do a sliding window's bounds."""
    moving = {"asOf", "timeLeft", "eventId"}
    if board.get("preset") in ("LAST_24_HOURS", "LAST_7_DAYS"):
        moving |= {"periodStart", "periodEnd"}
    return {k: v for k, v in board.items() if k not in moving}


async def query(api, variables=ALL_TIME) -> dict:
    return (await api.data(BOARD, variables))["scoreboard"]


async def pushed(socket: GraphQLSocket, op: str) -> dict:
    result = await socket.next(op, WAIT)
    assert "errors" not in result, result
    return result["data"]["scoreboardUpdated"]


async def converges(
    socket: GraphQLSocket, op: str, api, variables=ALL_TIME, last: dict | None = None
) -> tuple[dict, int]:
    """Take pushes until one equals the query's answer (or `last`, the one received before, already
    does); returns it and how many pushes that took."""
    count = 0
    if last is not None and figures(last) == figures(await query(api, variables)):
        return last, count
    async with asyncio.timeout(WAIT):
        while True:
            board = await pushed(socket, op)
            count += 1
            answer = await query(api, variables)
            if figures(board) == figures(answer):
                return board, count


@pytest.fixture
async def live(writable):
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        server.api = GraphQLClient(http, writable.admin_token)
        yield server


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_subscriber_gets_the_scoreboard_at_once_and_again_after_a_sale(live, writable, protocol):
    opportunity, quote, _ = await quote_with_items(live.api, writable)
    socket = await GraphQLSocket.open(live.url, writable.admin_token, protocol)
    op = await socket.subscribe(UPDATED, ALL_TIME)
    first = await pushed(socket, op)
    assert figures(first) == figures(await query(live.api))

    sold = (await live.api.data(SELL, {"input": {"id": opportunity["id"]}}))["markOpportunitySold"]
    assert sold["__typename"] == "OpportunityPayload", sold
    after, _ = await converges(socket, op, live.api)
    assert after["dealsWon"] == first["dealsWon"] + 1
    assert int(after["eventId"]) > int(first["eventId"])
    await socket.close()


async def test_a_burst_of_changes_is_one_computation_and_one_push_with_the_final_figures(writable, monkeypatch):
    monkeypatch.setenv("SALESGRAPH_EVENT_RESYNC_SECONDS", "3600")  # the hub learns of events from the bus only
    async with live_server(writable.url, dispatch=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        api = GraphQLClient(http, writable.admin_token)
        socket = await GraphQLSocket.open(server.url, writable.admin_token)
        op = await socket.subscribe(UPDATED, ALL_TIME)
        first = await pushed(socket, op)
        [topic] = server.app.state.realtime.scoreboards.topics.values()
        before = topic.computations
        account = (await api.data("{ accounts(first: 1) { edges { node { id } } } }"))["accounts"]["edges"][0]["node"][
            "id"
        ]
        for n in range(10):
            result = await api.data(
                CREATE,
                {
                    "input": {
                        "name": f"Burst {n}",
                        "accountId": account,
                        "estimatedRevenue": {"amount": "1000.00", "currency": "EUR"},
                    }
                },
            )
            assert result["createOpportunity"]["__typename"] == "OpportunityPayload", result
        # No dispatcher runs: the ten events wait in the outbox and reach the hub together.
        await server.app.state.dispatcher.dispatch_once()
        board = await pushed(socket, op)
        assert board["openDeals"] == first["openDeals"] + 10
        assert figures(board) == figures(await query(api))
        assert topic.computations == before + 1
        await socket.close()


async def test_many_subscribers_of_one_scoreboard_share_one_topic_and_one_computation(live, writable):
    sockets = [await GraphQLSocket.open(live.url, writable.admin_token) for _ in range(5)]
    ops = [await s.subscribe(UPDATED, ALL_TIME) for s in sockets]
    firsts = [await pushed(s, op) for s, op in zip(sockets, ops)]
    assert all(f == firsts[0] for f in firsts)
    topics = live.app.state.realtime.scoreboards.topics
    assert len(topics) == 1
    [topic] = topics.values()
    assert topic.subscribers == 5
    before = topic.computations
    opportunity, _, _ = await quote_with_items(live.api, writable)
    await live.api.data(SELL, {"input": {"id": opportunity["id"]}})
    finals = [(await converges(s, op, live.api))[0] for s, op in zip(sockets, ops)]
    assert all(f == finals[0] for f in finals)
    # Creating, quoting and selling are a few events; computations follow events, not subscribers.
    assert topic.computations - before <= 4
    for s in sockets:
        await s.close()


async def test_a_team_that_does_not_exist_gets_an_error_and_leaves_no_topic(live, writable):
    socket = await GraphQLSocket.open(live.url, writable.admin_token)
    op = await socket.subscribe(UPDATED, {**ALL_TIME, "teamId": ids.encode("Team", 10**6)})
    result = await socket.next(op)
    assert result["data"] is None and result["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert live.app.state.realtime.scoreboards.topics == {}


async def test_a_partner_follows_its_own_scoreboard_not_the_sales_teams(live, writable):
    admin = await GraphQLSocket.open(live.url, writable.admin_token)
    partner = await GraphQLSocket.open(live.url, writable.partner_token)
    admin_op = await admin.subscribe(UPDATED, ALL_TIME)
    partner_op = await partner.subscribe(UPDATED, ALL_TIME)
    everyone, theirs = await pushed(admin, admin_op), await pushed(partner, partner_op)
    assert figures(theirs) == figures(await query(GraphQLClient(live.api.http, writable.partner_token)))
    assert theirs["openDeals"] < everyone["openDeals"]
    # One topic for the board's shape, read once per event; each viewer's board is cut from it.
    [topic] = live.app.state.realtime.scoreboards.topics.values()
    assert len(topic.views) == 2
    await admin.close()
    await partner.close()
