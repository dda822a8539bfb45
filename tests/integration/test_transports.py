"""One operation pipeline for HTTP and WebSocket, over real sockets on SQLite and PostgreSQL: a query
sent over the socket runs on the breadth-first executor as over HTTP (the same SQL statements, which
graphql-core's executor would not send), Automatic Persisted Queries work over the socket for queries
and hash-only subscriptions (Relay's persisted subscriptions), tokens limited to trusted documents
are held to them there too, and a limit or a missing scope is refused with the same error on both."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from graphql import ExecutionResult, execute, parse
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from gql.auth import issue_token, principal_for
from gql.context import Context
from gql.execution import FastExecutor
from gql.schema.schema import schema
from tests.conftest import statements
from tests.integration.test_admission import REGISTER, Client, persisted, portal_token, sha
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

NESTED = """{ accounts(first: 4, orderBy: {field: NAME}) { nodes { name
  opportunities(first: 3) { totalCount nodes { name stage owner { name } } } } } }"""
ACCOUNTS = "{ accounts(first: 3, orderBy: {field: NAME}) { nodes { id name } } }"
BOARD = "subscription { scoreboardUpdated(period: {preset: ALL_TIME}) { currency } }"


@pytest.fixture
async def live(writable) -> AsyncIterator[Any]:
    """The app on a real port, without the background jobs that would run SQL of their own, and a
    client posting to it as the admin."""
    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            server.client = Client(http, writable.admin_token)
            yield server


@contextlib.contextmanager
def sql(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements the engine sends while the block runs, but for the token lookups and the
    event hub's reads of the outbox (which the two transports do at different times)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "api_tokens" not in statement and "outbox_events" not in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def operation(socket: GraphQLSocket, op_id: str, payload: dict[str, Any]) -> None:
    """Start an operation with exactly this payload (a hash without a query, say)."""
    await socket.send(
        {"type": "subscribe" if socket.protocol == TRANSPORT_WS else "start", "id": op_id, "payload": payload}
    )


async def refusal(socket: GraphQLSocket, op_id: str) -> dict[str, Any]:
    """The one error of an operation the server refused before running it."""
    message = await socket.message_of(op_id)
    assert message["type"] == "error", message
    return message["payload"][0] if socket.protocol == TRANSPORT_WS else message["payload"]


# --- one executor ---


async def test_a_query_over_the_socket_runs_on_the_breadth_first_executor_like_over_http(live, writable):
    engine = live.app.state.engine
    with sql(engine) as over_http:
        response = await live.client.post(NESTED)
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    socket = await GraphQLSocket.open(live.url, writable.admin_token)
    with sql(engine) as over_socket:
        op = await socket.subscribe(NESTED)
        result = await socket.next(op)
        assert await socket.receive() == {"type": "complete", "id": op}
    await socket.close()

    assert result == response.json()
    # The same statements, and as many as Server-Timing counts over HTTP besides the token lookup.
    assert over_socket == over_http
    assert len(over_socket) == statements(response) - 1
    # graphql-core's executor answers the same with other statements (it reads whole rows where the
    # breadth-first one reads the columns the selection needs): the check above tells them apart.
    principal = await principal_for(engine, f"Bearer {writable.admin_token}")
    with sql(engine) as by_graphql_core:
        standard = execute(
            schema._schema,
            parse(NESTED),
            context_value=Context(engine=engine, principal=principal, request_id="graphql-core"),
            executor_class=FastExecutor,
        )
        if not isinstance(standard, ExecutionResult):
            standard = await standard
    assert standard.errors is None and standard.data == result["data"]
    assert by_graphql_core != over_socket


# --- Automatic Persisted Queries ---


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_query_registered_over_http_runs_over_the_socket_by_its_hash(live, writable, protocol):
    registered = await live.client.post(ACCOUNTS, extensions=persisted(ACCOUNTS))
    assert registered.status_code == 200, registered.text
    socket = await GraphQLSocket.open(live.url, writable.admin_token, protocol)
    await operation(socket, "by-hash", {"extensions": persisted(ACCOUNTS)})
    assert await socket.next("by-hash") == registered.json()
    assert (await socket.message_of("by-hash"))["type"] == "complete"
    await socket.close()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_an_unknown_hash_over_the_socket_asks_for_the_query_as_apollo_clients_expect(live, writable, protocol):
    query = f"{{ accounts(first: 2) {{ totalCount }} }} # {protocol}"  # a text no other test registered
    socket = await GraphQLSocket.open(live.url, writable.admin_token, protocol)
    await operation(socket, "unknown", {"extensions": persisted(query)})
    assert await refusal(socket, "unknown") == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    # The client sends the text with the hash, as Apollo's link does; the hash alone then works, on
    # this socket and over HTTP.
    await operation(socket, "with-text", {"query": query, "extensions": persisted(query)})
    first = await socket.next("with-text")
    assert first["data"]["accounts"]["totalCount"] > 0
    await operation(socket, "again", {"extensions": persisted(query)})
    assert await socket.next("again") == first
    assert (await live.client.post(extensions=persisted(query))).json() == first
    # A hash that is not the text's is refused, as over HTTP.
    await operation(socket, "mismatch", {"query": ACCOUNTS, "extensions": persisted(query)})
    assert (await refusal(socket, "mismatch"))["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    await socket.close()


async def test_a_subscription_runs_by_its_hash_alone_as_relay_s_persisted_subscriptions_send_it(live, writable):
    first = await GraphQLSocket.open(live.url, writable.admin_token)
    await operation(first, "register", {"query": BOARD, "extensions": persisted(BOARD)})
    board = await first.next("register")
    assert board["data"]["scoreboardUpdated"]["currency"]
    await first.close()
    # Over HTTP the hash finds the subscription, which HTTP does not run.
    over_http = (await live.client.post(extensions=persisted(BOARD))).json()
    assert over_http["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_OVER_HTTP"

    relay = await GraphQLSocket.open(live.url, writable.admin_token)
    await operation(relay, "by-hash", {"query": None, "extensions": persisted(BOARD)})
    assert await relay.next("by-hash") == board
    await relay.stop("by-hash")
    await relay.close()


async def test_a_trusted_documents_token_is_held_to_its_documents_over_the_socket_too(live, writable):
    secret, token_id = await portal_token(live.client, writable)
    viewer = "{ viewer { partner { id } } }"
    await live.client.post(REGISTER, {"input": {"tokenId": token_id, "documents": [viewer]}})
    other = "{ accounts(first: 1) { totalCount } }"
    assert (await live.client.post(other, extensions=persisted(other))).status_code == 200  # a known hash

    socket = await GraphQLSocket.open(live.url, secret)
    # Its document by its hash alone, in a process that never saw its text (read from the registration).
    await operation(socket, "trusted", {"extensions": persisted(viewer)})
    over_socket = await socket.next("trusted")
    assert over_socket == (await live.client.post(viewer, token=secret)).json()
    assert over_socket["data"]["viewer"]["partner"]["id"]
    # Another document is refused with the same error as over HTTP, by text or by a hash that another
    # token registered as a persisted query.
    over_http = (await live.client.post(other, token=secret)).json()["errors"][0]
    assert over_http["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED" and sha(other) in over_http["message"]
    await socket.subscribe(other, op_id="by-text")
    assert await refusal(socket, "by-text") == over_http
    await operation(socket, "by-hash", {"extensions": persisted(other)})
    assert await refusal(socket, "by-hash") == over_http
    await socket.close()


# --- the same refusals ---


def nested(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return f"{{ accounts(first: 1) {{ nodes {{ {inner} }} }} }}"


COSTLY = """{ accounts(first: 100) { nodes { opportunities(first: 100) { nodes {
  quotes { items { name } } account { contacts(first: 100) { nodes { id } } } } } } } }"""


@pytest.mark.parametrize(
    ("document", "status", "code"),
    [
        (nested(16), 400, "QUERY_TOO_DEEP"),
        (COSTLY, 400, "QUERY_TOO_COSTLY"),
        ("{ opportunities(first: 2) { totalCount } }", 403, "INSUFFICIENT_SCOPE"),
        ("{ accounts(first: 1) { nodes { nope } } }", 400, None),
        ("query A { accounts(first: 1) { totalCount } } query B { viewer { scopes } }", 400, "OPERATION_NOT_FOUND"),
    ],
    ids=["depth", "cost", "scope", "invalid", "no-single-operation"],
)
async def test_a_refused_operation_gets_the_same_error_over_both_transports(live, writable, document, status, code):
    token = await issue_token(
        writable.engine, name="accounts only", user_id=writable.summary.admin_user_id, scopes=["accounts:read"]
    )
    response = await live.client.post(document, token=token)
    over_http = response.json()
    assert "data" not in over_http and len(over_http["errors"]) == 1, over_http
    assert response.status_code == status
    assert over_http["errors"][0].get("extensions", {}).get("code") == code
    assert statements(response) <= 1  # refused before anything ran but the token lookup

    socket = await GraphQLSocket.open(live.url, token)
    await socket.subscribe(document, op_id="refused")
    assert await refusal(socket, "refused") == over_http["errors"][0]
    await socket.close()


async def test_the_time_limit_stops_a_socket_operation_as_it_stops_a_request(writable, monkeypatch):
    monkeypatch.setenv("SALESGRAPH_TIMEOUT_SECONDS", "0")
    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            response = await Client(http, writable.admin_token).post(ACCOUNTS)
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        over_http = response.json()["errors"][0]
        socket = await GraphQLSocket.open(server.url, writable.admin_token)
        await socket.subscribe(ACCOUNTS, op_id="slow")
        over_socket = await refusal(socket, "slow")
        assert over_socket["message"] == over_http["message"]
        assert over_socket["extensions"] == {"code": "TIMEOUT", "retryAfter": 1}
        await socket.close()
