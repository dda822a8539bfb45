"""Live boards render once per identical board, over real WebSockets: subscribers whose boards are equal
(distinct users and tokens of one visibility class, the same document and variables) share one
rendered push; and a board subscription, once it has its first state, keeps no task of its own (its
place in its group is all it holds) and leaves nothing behind when it ends."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import insert, select

from domain.enums import Role
from domain.people import User
from gql import ids
from gql.auth import issue_token
from gql.subscriptions.protocol import Member
from persistence import tables
from persistence.rows import to_row
from tests.conftest import GraphQLClient
from tests.integration.mutations.test_opportunities import new_opportunity
from tests.integration.test_scoreboard_subscription import ALL_TIME, UPDATED, converges, figures, pushed, query
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, WAIT, GraphQLSocket


async def new_admins(writable, count: int) -> list[str]:
    """Tokens of `count` new admin users (none created a private account, so their boards are equal)."""
    tokens = []
    async with writable.engine.begin() as conn:
        made = []
        for n in range(count):
            user = User(name=f"Render admin {n}", email=f"render.admin.{n}@example.com", role=Role.ADMIN)
            made.append(
                (
                    await conn.execute(insert(tables.users).values(**to_row(user)).returning(tables.users.c.id))
                ).scalar_one()
            )
    for user_id in made:
        tokens.append(await issue_token(writable.engine, name="render admin", user_id=user_id))
    return tokens


async def a_team(writable) -> tuple[int, int, int]:
    """(director, a rep of its team, a public account) from the seed."""
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users).order_by(tables.users.c.id)))
        account = (
            await conn.execute(
                select(tables.accounts.c.id)
                .where(tables.accounts.c.is_private.is_(False))
                .order_by(tables.accounts.c.id)
            )
        ).scalar()
    for director in users:
        if director.role == "SALES_DIRECTOR" and director.team_id is not None:
            reps = [u.id for u in users if u.role == "SALES_REP" and u.team_id == director.team_id]
            if reps:
                return director.id, reps[0], account
    raise AssertionError("the seed has a director with reps")


async def test_viewers_with_identical_boards_cost_one_render_per_push(writable):
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        api = GraphQLClient(http, writable.admin_token)
        director, rep, account = await a_team(writable)
        admin_tokens = await new_admins(writable, 3)
        director_token = await issue_token(writable.engine, name="render director", user_id=director)
        # Three admins (distinct users and tokens), each on both protocols, and the director twice.
        subscribers: list[tuple[GraphQLSocket, str, GraphQLClient]] = []
        for token in [*admin_tokens, director_token]:
            viewer_api = GraphQLClient(http, token)
            for protocol in (TRANSPORT_WS, LEGACY_WS):
                socket = await GraphQLSocket.open(server.url, token, protocol)
                op = await socket.subscribe(UPDATED, ALL_TIME)
                first = await pushed(socket, op)
                assert figures(first) == figures(await query(viewer_api))
                subscribers.append((socket, op, viewer_api))
        endpoint = server.app.state.websockets
        before = endpoint.renders

        # A deal of the director's team on a public account: every admin's board and the director's move.
        await new_opportunity(
            api,
            writable,
            accountId=ids.encode("Account", account),
            ownerId=ids.encode("User", rep),
            estimatedRevenue={"amount": "4321.00", "currency": "EUR"},
        )
        boards = [await converges(socket, op, viewer_api) for socket, op, viewer_api in subscribers]
        pushes = {count for _, count in boards}
        assert pushes == {1}, pushes  # one new state each
        admins = [board for board, _ in boards[:6]]
        assert all(board == admins[0] for board in admins)  # the same board, to the byte's worth
        assert boards[6][0] != admins[0]
        # Eight subscribers, four callers, four viewers: two distinct boards, two renders.
        assert endpoint.renders - before == 2
        for socket, _, _ in subscribers:
            await socket.close()


async def test_an_idle_board_subscription_keeps_no_task_and_leaves_nothing_behind(writable):
    async with live_server(writable.url) as server:
        endpoint, topics = server.app.state.websockets, server.app.state.realtime.scoreboards
        socket = await GraphQLSocket.open(server.url, writable.admin_token, TRANSPORT_WS)
        ops = [await socket.subscribe(UPDATED, ALL_TIME) for _ in range(20)]
        for op in ops:
            await pushed(socket, op)
        await socket.send({"type": "ping"})  # answered after every message before it was handled
        assert (await socket.receive())["type"] == "pong"
        (connection,) = list(endpoint.connections)
        assert len(connection.operations) == 20
        assert all(isinstance(member, Member) for member in connection.operations.values())
        running = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.endswith("._operation")]
        assert running == []
        (topic,) = topics.topics.values()
        (view,) = topic.views.values()
        (group,) = view.groups.values()  # one document, one caller: one group of twenty
        assert len(group.members) == 20 and view.subscribers == 20

        await socket.stop(ops[0])
        await socket.send({"type": "ping"})
        assert (await socket.receive())["type"] == "pong"
        assert len(connection.operations) == 19 and len(group.members) == 19 and view.subscribers == 19

        await socket.close()
        async with asyncio.timeout(WAIT):  # the server notices the close on its own
            while topics.topics or endpoint.connections:
                await asyncio.sleep(0.01)
        assert not view.groups and view.subscribers == 0
