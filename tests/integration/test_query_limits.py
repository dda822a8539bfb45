"""Hostile queries are refused before anything runs: each limit answers a crafted query with a 400,
a code and a message naming the setting, and the response's Server-Timing shows 0 SQL statements
(not even the token lookup). The time limit stops a request that runs too long."""

from __future__ import annotations

import httpx
import pytest
from graphql import get_introspection_query

from gql.app import create_app
from tests.conftest import statements
from tests.support.live import live_server
from tests.support.ws import GraphQLSocket


@pytest.fixture
async def post(backend, monkeypatch):
    """POST a document to a fresh app (made after the test set its SALESGRAPH_* limits)."""
    clients = []

    async def send(query: str, variables: dict | None = None, **env: str) -> httpx.Response:
        for name, value in env.items():
            monkeypatch.setenv(f"SALESGRAPH_{name.upper()}", value)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(backend.engine, dispatch=False)),
            base_url="http://salesgraph.test",
        )
        clients.append(http)
        return await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {backend.admin_token}"},
        )

    yield send
    for http in clients:
        await http.aclose()


def refused(response: httpx.Response, code: str, setting: str | None = None) -> str:
    body = response.json()
    assert response.status_code == 400, body
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == code, body
    if setting:
        assert setting in body["errors"][0]["message"]
    assert statements(response) == 0
    return body["errors"][0]["message"]


def nested(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return f"{{ accounts(first: 1) {{ nodes {{ {inner} }} }} }}"


async def test_a_document_larger_than_the_limit_is_refused(post):
    query = "{ viewer { scopes } }" + " " * 40_000
    refused(await post(query), "DOCUMENT_TOO_LARGE", "SALESGRAPH_MAX_DOCUMENT_BYTES")


async def test_a_document_with_too_many_tokens_is_refused_by_the_parser(post):
    query = "{ viewer { " + " ".join(["scopes"] * 3000) + " } }"
    response = await post(query, max_tokens="1000")
    assert "more than 1000 tokens" in response.json()["errors"][0]["message"]
    assert statements(response) == 0


async def test_a_query_nested_too_deep_is_refused(post):
    assert (await post(nested(10))).status_code == 200
    refused(await post(nested(16)), "QUERY_TOO_DEEP", "SALESGRAPH_MAX_DEPTH")


async def test_too_many_aliases_are_refused_even_through_fragments(post):
    fields = " ".join(f"a{n}: name" for n in range(40))
    refused(
        await post(f"{{ accounts(first: 1) {{ nodes {{ ...F }} }} }} fragment F on Account {{ {fields} }}"),
        "TOO_MANY_ALIASES",
        "SALESGRAPH_MAX_ALIASES",
    )


async def test_too_many_root_fields_are_refused(post):
    roots = " ".join(f"v{n}: viewer {{ scopes }}" for n in range(25))
    refused(await post(f"{{ {roots} }}", max_aliases="100"), "TOO_MANY_ROOT_FIELDS", "SALESGRAPH_MAX_ROOT_FIELDS")


async def test_a_query_whose_pages_multiply_beyond_the_cost_limit_is_refused(post):
    query = """{ accounts(first: 100) { nodes { opportunities(first: 100) { nodes {
      quotes { items { name } } account { contacts(first: 100) { nodes { id } } } } } } } }"""
    message = refused(await post(query), "QUERY_TOO_COSTLY", "SALESGRAPH_MAX_COST")
    assert "500000" in message
    # The same shape with modest pages is fine.
    small = query.replace("first: 100", "first: 5")
    assert (await post(small)).status_code == 200


async def test_page_size_variables_count_in_the_cost(post):
    query = "query($n: Int) { accounts(first: $n) { nodes { opportunities(first: $n) { nodes { id } } } } }"
    refused(await post(query, {"n": 100}, max_cost="5000"), "QUERY_TOO_COSTLY")
    assert (await post(query, {"n": 50}, max_cost="5000")).status_code == 200


async def test_a_request_running_past_the_time_limit_is_stopped_with_a_clear_error(post):
    response = await post("{ accounts(first: 5) { totalCount nodes { name } } }", timeout_seconds="0")
    body = response.json()
    assert response.status_code == 503 and body["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert response.headers["retry-after"] == "1"


async def test_introspection_and_suggestions_can_be_switched_off(post):
    assert (await post(get_introspection_query())).status_code == 200
    closed = await post(get_introspection_query(), introspection="off")
    assert "introspection" in closed.json()["errors"][0]["message"].lower() and "data" not in closed.json()
    assert "Did you mean" in (await post("{ viewer { scope } }")).json()["errors"][0]["message"]
    quiet = (await post("{ viewer { scope } }", suggestions="off")).json()
    assert "Did you mean" not in quiet["errors"][0]["message"]


async def test_a_bad_limit_setting_stops_the_app_at_start(backend, monkeypatch):
    monkeypatch.setenv("SALESGRAPH_MAX_DEPTH", "deep")
    with pytest.raises(SystemExit) as stopped:
        create_app(backend.engine)
    assert "SALESGRAPH_MAX_DEPTH" in str(stopped.value)


async def test_the_limits_hold_over_websocket_too(backend):
    async with live_server(backend.url) as server:
        socket = await GraphQLSocket.open(server.url, backend.admin_token)
        await socket.subscribe(nested(16), op_id="deep")
        message = await socket.receive()
        assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
        await socket.close()
