"""Convergence: after a random run of sales, losses, stage moves, revenue changes, goals and deletions,
made as fast as the API takes them, every live scoreboard (several periods, a team, another
currency; both protocols) ends on exactly what the `scoreboard` query returns, and stays in step:
the push after one more change equals the query again."""

from __future__ import annotations

import random
from datetime import date, timedelta

import httpx
import pytest

from tests.conftest import GraphQLClient
from tests.integration.mutations.test_opportunities import LOST, STAGE, new_opportunity
from tests.integration.mutations.test_quotes_and_sales import SELL, quote_with_items
from tests.integration.test_scoreboard_subscription import UPDATED, converges, pushed
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

UPDATE = """mutation($input: UpdateOpportunityInput!) { updateOpportunity(input: $input) { __typename } }"""
DELETE = """mutation($input: OpportunityRefInput!) { deleteOpportunity(input: $input) { __typename } }"""
GOAL = """mutation($input: SetGoalInput!) { setGoal(input: $input) { __typename } }"""


async def boards(api) -> list[dict]:
    teams = (await api.data("{ teams { id } }"))["teams"]
    return [
        {"period": {"preset": "ALL_TIME"}},
        {"period": {"preset": "THIS_MONTH"}},
        {"period": {"preset": "LAST_7_DAYS"}, "currency": "USD"},
        {"period": {"preset": "THIS_QUARTER"}, "teamId": teams[0]["id"]},
    ]


async def random_changes(api, writable, rng: random.Random, steps: int) -> None:
    open_ones: list[str] = []
    users = [
        u["node"]["id"] for u in (await api.data("{ users(first: 5) { edges { node { id } } } }"))["users"]["edges"]
    ]
    for _ in range(steps):
        action = rng.choice(["create", "create", "sell", "lose", "stage", "revenue", "goal", "delete"])
        if action == "create" or not open_ones:
            open_ones.append(
                (
                    await new_opportunity(
                        api,
                        writable,
                        estimatedRevenue={
                            "amount": f"{rng.randint(1, 500) * 100}.00",
                            "currency": rng.choice(["EUR", "USD"]),
                        },
                    )
                )["id"]
            )
        elif action == "sell":
            opportunity, _, _ = await quote_with_items(api, writable)
            await api.data(SELL, {"input": {"id": opportunity["id"]}})
        elif action == "lose":
            await api.data(LOST, {"input": {"id": open_ones.pop(rng.randrange(len(open_ones))), "reason": "Price"}})
        elif action == "stage":
            await api.data(
                STAGE,
                {
                    "input": {
                        "id": rng.choice(open_ones),
                        "stage": rng.choice(["QUALIFICATION", "PROPOSAL", "NEGOTIATION"]),
                    }
                },
            )
        elif action == "revenue":
            await api.data(
                UPDATE,
                {
                    "input": {
                        "id": rng.choice(open_ones),
                        "estimatedRevenue": {"amount": f"{rng.randint(1, 900) * 100}.00", "currency": "EUR"},
                    }
                },
            )
        elif action == "goal":
            start = date.today().replace(day=1)
            await api.data(
                GOAL,
                {
                    "input": {
                        "userId": rng.choice(users),
                        "periodStart": start.isoformat(),
                        "periodEnd": (start + timedelta(days=27)).isoformat(),
                        "targetRevenue": {"amount": f"{rng.randint(10, 90)}000.00", "currency": "EUR"},
                        "targetDeals": rng.randint(1, 9),
                    }
                },
            )
        else:
            await api.data(DELETE, {"input": {"id": open_ones.pop(rng.randrange(len(open_ones)))}})


@pytest.mark.parametrize("seed", [7, 11])
async def test_every_live_scoreboard_ends_equal_to_the_query_after_a_random_burst_of_changes(writable, seed):
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        api = GraphQLClient(http, writable.admin_token)
        subscribers = []
        for n, variables in enumerate(await boards(api)):
            socket = await GraphQLSocket.open(server.url, writable.admin_token, [TRANSPORT_WS, LEGACY_WS][n % 2])
            op = await socket.subscribe(UPDATED, variables)
            first = await pushed(socket, op)  # the current scoreboard comes first
            subscribers.append((socket, op, variables, first))

        await random_changes(api, writable, random.Random(seed), steps=25)
        for socket, op, variables, first in subscribers:
            # A board the changes did not move (a team without any of them) keeps its first push.
            await converges(socket, op, api, variables, last=first)

        # In step afterwards: one more change, and each board's next push equals the query again.
        await new_opportunity(api, writable, estimatedRevenue={"amount": "123.00", "currency": "EUR"})
        socket, op, variables, _ = subscribers[0]  # ALL_TIME surely moves with any new deal
        board, pushes = await converges(socket, op, api, variables)
        assert pushes == 1
        for socket, *_ in subscribers:
            await socket.close()
