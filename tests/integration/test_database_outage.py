"""A PostgreSQL restart under a running server process: while the database is down every request gets a
typed, retryable answer (503, DATABASE_UNAVAILABLE, Retry-After; a WebSocket whose token cannot be looked
up is closed with 1013, try again later) instead of an internal error, /readyz
says the database is unreachable, and once PostgreSQL is back the same process serves again without a
restart, events included. The database server is the test's own (it is stopped and started), with a
tiny seed."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from gql.auth import issue_token
from persistence.db import create_engine
from persistence.migrate import upgrade_async
from persistence.seed import seed
from tests.conftest import ANCHOR, IN_CI
from tests.support.pg import PostgresServer, find_pg_bin
from tests.support.server import start_server
from tests.support.ws import WAIT, GraphQLSocket

LATEST = "{ latestEventId }"
ACCOUNT = "{ accounts(first: 1) { nodes { id } } }"
CREATE = """mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) {
  ... on OpportunityPayload { opportunity { id } } ... on UserError { code message } } }"""
EVENTS = "subscription($since: ID) { opportunityEvents(since: $since) { eventId kind opportunityId } }"


@pytest.fixture
def own_postgres():
    if find_pg_bin() is None:
        if IN_CI:
            pytest.fail("PostgreSQL binaries not found, and CI=true requires the PostgreSQL tests to run")
        pytest.skip("PostgreSQL binaries not found")
    server = PostgresServer().start()
    yield server
    server.stop()


async def test_requests_during_a_postgresql_restart_are_told_to_retry_and_the_process_recovers(own_postgres, tmp_path):
    url = own_postgres.create_database("outage")
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        summary = await seed(engine, 5, anchor=ANCHOR)
        token = await issue_token(engine, name="outage", user_id=summary.admin_user_id)
        # Never used before the outage: its lookup needs the database (the first token's is cached).
        unseen = await issue_token(engine, name="outage, unseen", user_id=summary.admin_user_id)
    finally:
        await engine.dispose()
    server = start_server(url, tmp_path)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:

            async def post(query: str, variables: dict | None = None) -> httpx.Response:
                return await http.post("/graphql", json={"query": query, "variables": variables or {}})

            account = (await post(ACCOUNT)).json()["data"]["accounts"]["nodes"][0]["id"]
            since = (await post(LATEST)).json()["data"]["latestEventId"]
            socket = await GraphQLSocket.open(server.url, token)
            op = await socket.subscribe(EVENTS, {"since": since})

            await asyncio.to_thread(own_postgres.halt)
            try:
                for query, variables in ((LATEST, None), (CREATE, {"input": {"name": "Down", "accountId": account}})):
                    answer = await post(query, variables)
                    assert answer.status_code == 503, answer.text
                    assert answer.headers["retry-after"] == "1"
                    assert [e["extensions"]["code"] for e in answer.json()["errors"]] == ["DATABASE_UNAVAILABLE"]
                # The token lookup itself fails: the same answer, over HTTP and as a WebSocket close.
                answer = await http.post(
                    "/graphql", json={"query": LATEST}, headers={"Authorization": f"Bearer {unseen}"}
                )
                assert answer.status_code == 503, answer.text
                assert [e["extensions"]["code"] for e in answer.json()["errors"]] == ["DATABASE_UNAVAILABLE"]
                fresh = await GraphQLSocket.open(server.url, unseen, init=False)
                await fresh.send({"type": "connection_init", "payload": {"authorization": f"Bearer {unseen}"}})
                with pytest.raises(ConnectionClosed) as closed:
                    await fresh.receive()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013  # try again later
                ready = await http.get("/readyz")
                assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
            finally:
                await asyncio.to_thread(own_postgres.resume)

            async with asyncio.timeout(WAIT):  # the same process serves again: no restart
                while (await http.get("/readyz")).status_code != 200:
                    await asyncio.sleep(0.1)  # polling the probe, as a load balancer does
            created = (await post(CREATE, {"input": {"name": "Back", "accountId": account}})).json()
            opportunity = created["data"]["createOpportunity"]["opportunity"]["id"]
            # The subscription taken before the restart goes on, or ended with a typed error and is
            # resumed with `since` as a client does; either way the new opportunity's event arrives, once.
            seen: list[dict] = []
            async with asyncio.timeout(WAIT):
                while not any(e["opportunityId"] == opportunity for e in seen):
                    message = await socket.message_of(op, WAIT)
                    if message["type"] == "next" and "errors" not in message["payload"]:
                        seen.append(message["payload"]["data"]["opportunityEvents"])
                    elif message["type"] == "next":
                        codes = [e["extensions"]["code"] for e in message["payload"]["errors"]]
                        assert codes == ["DATABASE_UNAVAILABLE"], message
                    else:
                        assert message["type"] == "complete", message
                        resume = seen[-1]["eventId"] if seen else since
                        op = await socket.subscribe(EVENTS, {"since": resume})
            await socket.close()
            assert [e["opportunityId"] for e in seen] == [opportunity], seen  # "Down" was never written
    finally:
        server.stop()
