"""An open WebSocket keeps its caller only while that caller's token would still be accepted: a revoked or
expired token, or a role change of its user, closes the socket with 4403 (the client connects again and
resumes with `since`), by the time the revoking mutation has answered; other callers' sockets stay open and
keep getting their events. Over a real server, on SQLite and PostgreSQL, and across two processes with Redis."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import event, update

from domain.base import utcnow
from domain.enums import Role
from domain.tokens import hash_secret
from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient
from tests.integration.test_token_cache import CHANGE_ROLE, REVOKE, new_user, token_id
from tests.support.live import live_server
from tests.support.server import start_server
from tests.support.ws import TRANSPORT_WS, GraphQLSocket

EVENTS = "subscription { opportunityEvents { kind opportunity { id } } }"
CREATE = """mutation($input: CreateOpportunityInput!) {
  createOpportunity(input: $input) { ... on OpportunityPayload { opportunity { id } } } }"""


async def an_account(api: GraphQLClient) -> str:
    data = await api.data("{ accounts(first: 1) { nodes { id } } }")
    return data["accounts"]["nodes"][0]["id"]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, "graphql-ws"])
async def test_revoking_a_token_or_changing_its_user_s_role_closes_its_sockets_and_no_other(writable, protocol):
    async with live_server(writable.url, schedule=False, reanalyse=False) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            api = GraphQLClient(http, writable.admin_token)
            account = await an_account(api)
            doomed = await issue_token(writable.engine, name="doomed", user_id=writable.summary.admin_user_id)
            director = await new_user(writable.engine, Role.SALES_DIRECTOR, f"socket.{protocol}@example.com")
            director_token = await issue_token(writable.engine, name="director", user_id=director)
            revoked = await GraphQLSocket.open(server.url, doomed, protocol)
            demoted = await GraphQLSocket.open(server.url, director_token, protocol)
            kept = await GraphQLSocket.open(server.url, writable.admin_token, protocol)
            for socket in (revoked, demoted, kept):
                await socket.subscribe(EVENTS, op_id="events")
            # Checking the callers of every open socket again is one statement, however many tokens.
            seen: list[str] = []

            def record(conn, cursor, statement, *rest) -> None:
                seen.append(statement)

            engine = server.app.state.engine.sync_engine
            event.listen(engine, "before_cursor_execute", record)
            try:
                await server.app.state.websockets.check_callers()
            finally:
                event.remove(engine, "before_cursor_execute", record)
            # (The sockets' subscriptions may still be starting meanwhile, with statements of their own.)
            by_hash = [statement for statement in seen if "WHERE api_tokens.token_hash" in statement]
            assert len(by_hash) == 1, seen

            answer = await api.data(REVOKE, {"input": {"id": await token_id(writable.engine, doomed)}})
            assert answer["revokeApiToken"]["token"]["isActive"] is False
            code, reason = await revoked.closed()
            assert code == 4403 and "revoked" in reason

            await api.data(CHANGE_ROLE, {"input": {"id": ids.encode("User", director), "role": "SALES_REP"}})
            assert (await demoted.closed())[0] == 4403

            # The admin's own socket was looked at twice and left open: it gets the next event.
            created = await api.data(CREATE, {"input": {"name": "After the revocation", "accountId": account}})
            pushed = await kept.next("events")
            assert (
                pushed["data"]["opportunityEvents"]["opportunity"]["id"]
                == (created["createOpportunity"]["opportunity"]["id"])
            )
            await kept.close()


async def test_a_socket_closes_when_its_token_expires(writable):
    token = await issue_token(writable.engine, name="short", user_id=writable.summary.admin_user_id)
    async with writable.engine.begin() as conn:
        await conn.execute(
            update(tables.api_tokens)
            .where(tables.api_tokens.c.token_hash == hash_secret(token))
            .values(expires_at=utcnow() + timedelta(seconds=1))
        )
    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        socket = await GraphQLSocket.open(server.url, token)
        await socket.subscribe(EVENTS, op_id="events")
        code, reason = await socket.closed()
        assert code == 4403 and "expired" in reason


async def test_a_revocation_in_one_process_closes_the_token_s_sockets_in_another(pg_writable, redis_server, tmp_path):
    env = {"BROADCAST_URL": redis_server.url, "SALESGRAPH_RATE_REQUESTS_PER_MINUTE": "0"}
    one, two = start_server(pg_writable.url, tmp_path, **env), start_server(pg_writable.url, tmp_path, **env)
    try:
        engine = pg_writable.engine
        doomed = await issue_token(engine, name="two processes", user_id=pg_writable.summary.admin_user_id)
        socket = await GraphQLSocket.open(two.url, doomed)
        await socket.subscribe(EVENTS, op_id="events")
        async with httpx.AsyncClient(base_url=one.url) as http:
            api = GraphQLClient(http, pg_writable.admin_token)
            await api.data(REVOKE, {"input": {"id": await token_id(engine, doomed)}})
        assert (await socket.closed())[0] == 4403
    finally:
        one.stop()
        two.stop()
