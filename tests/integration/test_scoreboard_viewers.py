"""Live scoreboards with many distinct viewers of every role (an admin, directors of different teams,
reps, partners), over real WebSockets: after a random run of changes (sales, some backdated, losses,
deletions, exchange rate changes, accounts made private or public, given other managers and partners,
deals given partners) every viewer's live board ends on exactly what the `scoreboard` query returns
for that viewer; and the SQL of one event is one read of the board, the same statements whether one
viewer or many watch it."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from domain.base import utcnow
from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient
from tests.integration.mutations.test_opportunities import new_opportunity
from tests.integration.mutations.test_quotes_and_sales import SELL, quote_with_items
from tests.integration.test_scoreboard_convergence import boards, random_changes
from tests.integration.test_scoreboard_subscription import UPDATED, converges, figures, pushed, query
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

RATE = """mutation($input: SetExchangeRateInput!) { setExchangeRate(input: $input) { __typename } }"""
ACCOUNT = """mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { __typename } }"""
ACCOUNT_PARTNER = """mutation($input: AssignAccountPartnerInput!) {
  assignAccountPartner(input: $input) { __typename } }"""
DEAL_PARTNER = """mutation($input: AssignOpportunityPartnerInput!) {
  assignOpportunityPartner(input: $input) { __typename } }"""
USD_ALL_TIME = {"period": {"preset": "ALL_TIME"}, "currency": "USD"}


class Clock:
    """The server's time: now, or set back for a backdated change."""

    def __init__(self) -> None:
        self.back = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() - self.back


async def viewers(writable) -> list[tuple[str, str]]:
    """(name, token) of an admin, two directors of different teams, three reps and two partners."""
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users).order_by(tables.users.c.id)))
        partners = [r.id for r in await conn.execute(select(tables.partners.c.id).order_by(tables.partners.c.id))]
    directors: dict[int, int] = {}
    for user in users:
        if user.role == "SALES_DIRECTOR" and user.team_id is not None:
            directors.setdefault(user.team_id, user.id)
    reps = [u.id for u in users if u.role == "SALES_REP"]
    assert len(directors) >= 2 and len(reps) >= 3 and len(partners) >= 2, "the seed has them"
    chosen = [("admin", writable.admin_token)]
    for user_id in [*list(directors.values())[:2], *reps[:3]]:
        chosen.append((f"user {user_id}", await issue_token(writable.engine, name="viewer", user_id=user_id)))
    for partner_id in partners[:2]:
        chosen.append(
            (f"partner {partner_id}", await issue_token(writable.engine, name="viewer", partner_id=partner_id))
        )
    return chosen


async def more_changes(api, writable, clock: Clock, rng: random.Random, steps: int) -> None:
    """Changes that move deals between viewers' boards, or all boards at once."""
    accounts = [
        e["node"]["id"]
        for e in (await api.data("{ accounts(first: 30) { edges { node { id } } } }"))["accounts"]["edges"]
    ]
    partners = [
        e["node"]["id"]
        for e in (await api.data("{ partners(first: 5) { edges { node { id } } } }"))["partners"]["edges"]
    ]
    users = [
        u["node"]["id"] for u in (await api.data("{ users(first: 20) { edges { node { id } } } }"))["users"]["edges"]
    ]
    for _ in range(steps):
        action = rng.choice(["rate", "backdated sale", "privacy", "manager", "account partner", "deal partner"])
        if action == "rate":
            await api.data(RATE, {"input": {"currency": "USD", "rate": f"0.{rng.randint(80, 99)}"}})
        elif action == "backdated sale":
            opportunity, _, _ = await quote_with_items(api, writable)
            clock.back = timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 23))
            try:
                await api.data(SELL, {"input": {"id": opportunity["id"]}})
            finally:
                clock.back = timedelta(0)
        elif action == "privacy":
            # (an account made private by the admin stays the admin's: it created none, so it sees it no more)
            await api.data(ACCOUNT, {"input": {"id": rng.choice(accounts), "isPrivate": rng.random() < 0.3}})
        elif action == "manager":
            await api.data(ACCOUNT, {"input": {"id": rng.choice(accounts), "managerId": rng.choice(users)}})
        elif action == "account partner":
            partner = rng.choice([*partners, None])
            await api.data(ACCOUNT_PARTNER, {"input": {"id": rng.choice(accounts), "partnerId": partner}})
        else:
            deal = await new_opportunity(api, writable, estimatedRevenue={"amount": "700.00", "currency": "USD"})
            await api.data(DEAL_PARTNER, {"input": {"id": deal["id"], "partnerId": rng.choice(partners)}})


@pytest.mark.parametrize("seed", [3])
async def test_every_viewers_live_board_ends_equal_to_its_query_after_random_changes(writable, seed):
    clock = Clock()
    async with live_server(writable.url, clock=clock) as server, httpx.AsyncClient(base_url=server.url) as http:
        api = GraphQLClient(http, writable.admin_token)
        variables_of = [*await boards(api), USD_ALL_TIME]
        watching = []
        for n, (name, token) in enumerate(await viewers(writable)):
            # (read on: the test leaves the sockets unread through all the changes)
            socket = await GraphQLSocket.open(server.url, token, [TRANSPORT_WS, LEGACY_WS][n % 2], max_queue=None)
            for variables in variables_of:
                op = await socket.subscribe(UPDATED, variables)
                watching.append((name, GraphQLClient(http, token), socket, op, variables, await pushed(socket, op)))
        topics = server.app.state.realtime.scoreboards.topics
        assert len(topics) == len(variables_of)  # one per board shape, whatever the number of viewers
        assert all(len(topic.views) == 8 for topic in topics.values())

        rng = random.Random(seed)
        for _ in range(3):
            await random_changes(api, writable, rng, steps=6)
            await more_changes(api, writable, clock, rng, steps=6)
        await new_opportunity(api, writable)  # the last change is made at the present time
        for name, viewer_api, socket, op, variables, first in watching:
            board, _ = await converges(socket, op, viewer_api, variables, last=first)
            assert figures(board) == figures(await query(viewer_api, variables)), (name, variables)
        for socket in {socket for _, _, socket, *_ in watching}:
            await socket.close()


async def test_one_event_is_one_read_of_the_board_however_many_viewers_watch(writable, monkeypatch):
    monkeypatch.setenv("SALESGRAPH_EVENT_RESYNC_SECONDS", "3600")  # the hub learns of events from the bus only
    async with live_server(writable.url, dispatch=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        admin = GraphQLClient(http, writable.admin_token)
        scoreboards = server.app.state.realtime.scoreboards
        everyone = await viewers(writable)

        async def watch(name: str, token: str) -> tuple:
            socket = await GraphQLSocket.open(server.url, token)
            op = await socket.subscribe(UPDATED, USD_ALL_TIME)
            return name, GraphQLClient(http, token), socket, op, await pushed(socket, op)

        async def rate_change(rate: str, watching: list[tuple]) -> tuple[int, int]:
            """Change the dollar's rate; once every board it moved has been pushed, the statements the
            boards ran for it and how many boards it moved."""
            before, reads = scoreboards.stats.statements, topic.computations
            result = await admin.data(RATE, {"input": {"currency": "USD", "rate": rate}})
            assert result["setExchangeRate"]["__typename"] == "ExchangeRatePayload", result
            await server.app.state.dispatcher.dispatch_once()
            moved = 0
            for n, (name, viewer_api, socket, op, last) in enumerate(watching):
                if figures(await query(viewer_api, USD_ALL_TIME)) != figures(last):
                    board, pushes = await converges(socket, op, viewer_api, USD_ALL_TIME)
                    assert pushes == 1, name
                    watching[n] = (name, viewer_api, socket, op, board)
                    moved += 1
            assert topic.computations == reads + 1
            return scoreboards.stats.statements - before, moved

        watching = [await watch(*everyone[0])]
        [topic] = scoreboards.topics.values()
        one_viewer, moved = await rate_change("0.91", watching)
        # The newest event position, the rates, the buckets with the edge deals, the users with goals.
        assert (one_viewer, moved) == (4, 1)

        joined = scoreboards.stats.statements
        watching += [await watch(*viewer) for viewer in everyone[1:]]
        assert scoreboards.stats.statements == joined  # a new viewer's board is cut from the last read
        assert len(topic.views) == len(everyone) == 8

        statements, moved = await rate_change("0.87", watching)
        assert moved >= 5  # (a viewer without a deal in dollars or euros has no board the rate moves)
        assert statements == one_viewer
        for _, _, socket, _, _ in watching:
            await socket.close()
