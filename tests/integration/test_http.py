"""GraphQL over HTTP: media types and status codes, bad input, authentication, masking, probes."""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import UTC
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from gql.app import create_app
from persistence import tables
from persistence.db import create_engine
from tests.conftest import statements
from tests.support.live import live_server

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_parse_and_validation_errors_are_400_without_data_for_graphql_response_json(gql):
    for document in (
        "{ accounts(first: 1) { nodes { name }",
        '{ accounts(first: "x") { nodes { name } } }',
        "{ nope }",
    ):
        response = await gql.post(document)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        body = response.json()
        assert "data" not in body and body["errors"][0]["message"]
        assert statements(response) == 0


async def test_validation_errors_are_200_for_plain_json_clients(gql):
    response = await gql.post("{ nope }", accept="application/json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "data" not in response.json()


async def test_variables_of_the_wrong_type_are_a_request_error(gql):
    response = await gql.post("query($n: Int!) { accounts(first: $n) { nodes { name } } }", {"n": "ten"})
    assert response.status_code == 400
    assert "data" not in response.json()


@pytest.mark.parametrize("first", [-1, 101, 100000])
async def test_a_page_out_of_range_is_refused_before_anything_runs(gql, first):
    response = await gql.post("query($n: Int) { accounts(first: $n) { nodes { name } } }", {"n": first})
    body = response.json()
    assert response.status_code == 400 and "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "INVALID_PAGE"
    assert "between 0 and 100" in body["errors"][0]["message"]
    assert statements(response) == 0


async def test_malformed_and_mistyped_ids_get_a_clear_error(gql):
    for bad in ("not-an-id", base64.urlsafe_b64encode(b"Spaceship:1").decode(), ""):
        body = (await gql.post("query($id: ID!) { node(id: $id) { id } }", {"id": bad})).json()
        assert body["errors"][0]["extensions"]["code"] == "INVALID_ID", body
    user_id = base64.urlsafe_b64encode(b"User:1").decode().rstrip("=")
    body = (
        await gql.post("query($id: ID) { opportunities(filter: {accountId: $id}) { totalCount } }", {"id": user_id})
    ).json()
    assert "not of a Account" in body["errors"][0]["message"]


async def test_a_bad_cursor_gets_a_clear_error(gql):
    body = (await gql.post('{ accounts(after: "garbage!") { totalCount } }')).json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


async def test_get_runs_queries_and_reports_server_timing(client, backend):
    response = await client.get(
        "/graphql",
        params={"query": "{ viewer { user { email } } }"},
        headers={"Authorization": f"Bearer {backend.admin_token}"},
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["user"]["email"] == "admin@salesgraph.example"
    timing = response.headers["server-timing"]
    assert timing.startswith("db;dur=") and 'statements", total;dur=' in timing
    assert statements(response) == 2  # the token, the user
    alone = await client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {backend.admin_token}"}
    )
    assert 'desc="0 statements",' in alone.headers["server-timing"]  # the token: from this process's cache


async def test_the_routes_the_readme_lists_as_open_answer_without_a_token(client):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    listed = re.search(r"These routes need no token: (.*?)\n\n", readme, re.S).group(1)
    paths = set(re.findall(r"`(?:GET )?(/[a-z/]*)`", listed))
    assert paths == {"/healthz", "/readyz", "/graphql", "/graphiql/assets/", "/dashboard"}, paths
    for path in sorted(paths - {"/graphiql/assets/"}) + [
        "/graphiql/assets/graphiql.min.css",
        "/dashboard/dashboard.js",
    ]:
        response = await client.get(path, headers={"Accept": "text/html"})
        assert response.status_code in (200, 503), (path, response.status_code)  # 503: /readyz, no event hub here
    introspection = await client.post("/graphql", json={"query": "{ __typename __schema { queryType { name } } }"})
    assert introspection.status_code == 200 and "errors" not in introspection.json()
    plain = await client.get("/graphql")
    assert plain.status_code == 400 and "GraphiQL" in plain.json()["errors"][0]["message"]


async def test_graphiql_is_served_to_a_browser_without_a_token_with_its_assets_and_no_cdn(client):
    import re

    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower() and "Authorization" in response.text
    assets = re.findall(r'(?:src|href)="(/graphiql/assets/[^"]+)"', response.text)
    assert len(assets) == 6
    assert "unpkg.com" not in response.text
    for url in assets:
        asset = await client.get(url, headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200 and len(asset.content) > 500
    script = await client.get("/graphiql/assets/graphiql.min.js", headers={"Accept-Encoding": "gzip"})
    assert script.headers["content-encoding"] == "gzip"


async def test_requests_without_a_valid_token_get_401(client, backend):
    for headers in ({}, {"Authorization": "Bearer sg_wrong"}, {"Authorization": "Basic abc"}):
        response = await client.post("/graphql", json={"query": "{ accounts { totalCount } }"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_introspection_works_without_a_token_so_graphiql_can_show_the_docs(client):
    response = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert response.status_code == 200
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize("column", ["expires_at", "revoked_at"])
async def test_expired_and_revoked_tokens_stop_working(backend, column, monkeypatch):
    from datetime import datetime, timedelta

    from domain.tokens import hash_secret
    from gql.auth import issue_token

    # Every request reads its token (a process's cache of token lookups hears of changes made through the
    # API, not of this one made in the database by hand: tests/integration/test_token_cache.py).
    monkeypatch.setenv("SALESGRAPH_TOKEN_CACHE_SECONDS", "0")
    transport = httpx.ASGITransport(app=create_app(backend.engine))
    client = httpx.AsyncClient(transport=transport, base_url="http://salesgraph.test")
    token = await issue_token(backend.engine, name=f"short-lived {column}", user_id=backend.summary.admin_user_id)
    query, auth = {"query": "{ viewer { scopes } }"}, {"Authorization": f"Bearer {token}"}
    assert (await client.post("/graphql", json=query, headers=auth)).status_code == 200
    async with backend.engine.begin() as conn:
        await conn.execute(
            update(tables.api_tokens)
            .where(tables.api_tokens.c.token_hash == hash_secret(token))
            .values({column: datetime.now(UTC) - timedelta(seconds=1)})
        )
    refused = await client.post("/graphql", json=query, headers=auth)
    await client.aclose()
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_mutation_over_get_or_an_unknown_media_type_is_refused(client, backend):
    auth = {"Authorization": f"Bearer {backend.admin_token}"}
    response = await client.post("/graphql", content="query=x", headers={**auth, "Content-Type": "text/plain"})
    assert response.status_code == 415
    response = await client.post(
        "/graphql", json={"query": "{ viewer { scopes } }"}, headers={**auth, "Accept": "text/csv"}
    )
    assert response.status_code == 406


async def test_unexpected_errors_are_masked_with_a_request_id(tmp_path, caplog):
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/db.sqlite3")
    app = create_app(broken)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as http:
        response = await http.post(
            "/graphql", json={"query": "{ accounts { totalCount } }"}, headers={"Authorization": "Bearer sg_anything"}
        )
    await broken.dispose()
    body = response.json()
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    assert any(request_id in r.getMessage() for r in caplog.records)


async def test_health_and_readiness_probes(client, backend, tmp_path):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    # Without its lifespan (ASGITransport runs none) the app has no event bus subscription: not ready.
    idle = await client.get("/readyz")
    assert idle.status_code == 503 and idle.json() == {
        "status": "unavailable",
        "database": "ok",
        "eventBus": "not subscribed",
    }
    async with live_server(backend.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok", "eventBus": "ok"}
        assert statements(ready) == 1  # every response carries Server-Timing, the probes too
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/db.sqlite3")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(broken)), base_url="http://x") as http:
        assert (await http.get("/readyz")).status_code == 503
    await broken.dispose()


async def test_readiness_answers_at_once_while_the_load_holds_every_pooled_connection(backend):
    """After a process dies its clients reconnect to the others at once and can hold every connection of
    the pool; the probe has its own connection, so it still answers, and the load balancer keeps the
    process (a probe waiting for the pool timed out and took the last process out: the soak bench)."""
    async with live_server(backend.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        pool = server.app.state.engine.pool
        held = [await server.app.state.engine.connect() for _ in range(pool.size() + pool._max_overflow)]
        try:
            for conn in held:
                await conn.exec_driver_sql("SELECT 1")  # really checked out
            async with asyncio.timeout(5):  # the pool would make it wait 30 s
                ready = await http.get("/readyz")
            assert ready.status_code == 200 and ready.json()["database"] == "ok", ready.text
        finally:
            for conn in held:
                await conn.close()
