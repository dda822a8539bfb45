"""Admission over HTTP: Automatic Persisted Queries (a known hash runs its document, an unknown one
asks for the text, a wrong one is refused), tokens that run only their trusted documents (for partner
portals), and rate limits per token (requests and cost per minute, answered with 429 and
Retry-After), in process memory and shared by several app instances through Redis."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
import redis

from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from tests.conftest import statements
from tests.integration.mutations.test_opportunities import ERRORS

ACCOUNTS = "{ accounts(first: 3) { nodes { id name } } }"
VIEWER = "{ viewer { scopes } }"
CREATE = f"""mutation($input: CreateApiTokenInput!) {{
  createApiToken(input: $input) {{ __typename
    ... on CreatedApiTokenPayload {{ secret token {{ id trustedDocumentsOnly }} }} {ERRORS} }}
}}"""
REGISTER = f"""mutation($input: RegisterTrustedDocumentsInput!) {{
  registerTrustedDocuments(input: $input) {{ __typename
    ... on RegisterTrustedDocumentsPayload {{ hashes token {{ id }} }} {ERRORS} }}
}}"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}


class Clock:
    """The app's time, moved by the test (rate limit buckets refill with it)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 15, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Client:
    """One app instance (made after the test set its SALESGRAPH_* settings) over HTTP."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http, self.token = http, token

    async def post(
        self,
        query: str | None = None,
        variables: dict | None = None,
        token: str | None = None,
        extensions: dict | None = None,
    ) -> httpx.Response:
        body = {
            k: v for k, v in {"query": query, "variables": variables, "extensions": extensions}.items() if v is not None
        }
        return await self.http.post(
            "/graphql",
            json=body,
            headers={"Authorization": f"Bearer {token or self.token}", "Accept": "application/graphql-response+json"},
        )

    async def get(
        self, query: str | None = None, token: str | None = None, extensions: dict | None = None
    ) -> httpx.Response:
        params = {
            k: v
            for k, v in {"query": query, "extensions": extensions and orjson.dumps(extensions).decode()}.items()
            if v is not None
        }
        return await self.http.get(
            "/graphql",
            params=params,
            headers={"Authorization": f"Bearer {token or self.token}", "Accept": "application/json"},
        )


@pytest.fixture
async def app(monkeypatch):
    """`await app(backend, clock=…, RATE_REQUESTS_PER_MINUTE="3", …)`: a new app instance and a client on it."""
    clients = []

    async def make(backend, clock=None, **env: str) -> Client:
        for name, value in env.items():
            monkeypatch.setenv(f"SALESGRAPH_{name.upper()}", value)
        application = create_app(backend.engine, dispatch=False, **({"clock": clock} if clock else {}))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://salesgraph.test")
        clients.append(http)
        return Client(http, backend.admin_token)

    yield make
    for http in clients:
        await http.aclose()


def error(response: httpx.Response, status: int, code: str) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == code, body
    return body["errors"][0]["message"]


# --- Automatic Persisted Queries ---


async def test_a_persisted_query_is_registered_with_its_text_and_then_runs_by_its_hash_alone(app, backend):
    client = await app(backend)
    unknown = await client.post(extensions=persisted(ACCOUNTS))
    assert error(unknown, 200, "PERSISTED_QUERY_NOT_FOUND") == "PersistedQueryNotFound"
    registered = await client.post(ACCOUNTS, extensions=persisted(ACCOUNTS))
    names = [n["name"] for n in registered.json()["data"]["accounts"]["nodes"]]
    assert len(names) == 3
    by_hash = await client.post(extensions=persisted(ACCOUNTS))
    assert [n["name"] for n in by_hash.json()["data"]["accounts"]["nodes"]] == names
    assert statements(by_hash) == statements(registered)
    over_get = await client.get(extensions=persisted(ACCOUNTS))
    assert [n["name"] for n in over_get.json()["data"]["accounts"]["nodes"]] == names


async def test_a_persisted_query_can_be_registered_over_get_too(app, backend):
    client = await app(backend)
    query = "{ accounts(first: 2) { nodes { name } } }"
    assert (await client.get(query, extensions=persisted(query))).status_code == 200
    assert len((await client.get(extensions=persisted(query))).json()["data"]["accounts"]["nodes"]) == 2


async def test_a_hash_that_is_not_the_query_s_is_refused_and_remembers_nothing(app, backend):
    client = await app(backend)
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": sha(VIEWER)}}
    error(await client.post(ACCOUNTS, extensions=wrong), 400, "PERSISTED_QUERY_HASH_MISMATCH")
    error(await client.post(extensions=wrong), 200, "PERSISTED_QUERY_NOT_FOUND")


async def test_other_persisted_query_versions_and_malformed_hashes_are_refused(app, backend):
    client = await app(backend)
    two = {"persistedQuery": {"version": 2, "sha256Hash": sha(VIEWER)}}
    assert "version" in error(await client.post(VIEWER, extensions=two), 400, "PERSISTED_QUERY_VERSION_NOT_SUPPORTED")
    short = {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}
    error(await client.post(extensions=short), 400, "BAD_REQUEST")


async def test_a_request_refused_for_its_token_registers_no_persisted_query(app, backend):
    client = await app(backend)
    error(await client.post(ACCOUNTS, extensions=persisted(ACCOUNTS), token="sg_nobody"), 401, "UNAUTHENTICATED")
    error(await client.post(extensions=persisted(ACCOUNTS)), 200, "PERSISTED_QUERY_NOT_FOUND")


async def test_persisted_queries_can_be_switched_off(app, backend):
    client = await app(backend, apq_cache_bytes="0")
    error(await client.post(VIEWER, extensions=persisted(VIEWER)), 200, "PERSISTED_QUERY_NOT_SUPPORTED")
    assert (await client.post(VIEWER)).status_code == 200


# --- trusted documents ---


async def portal_token(client: Client, writable, trusted: bool = True) -> tuple[str, str]:
    """A partner's token (its secret and id), limited to trusted documents unless `trusted` is False."""
    partner = ids.encode("Partner", writable.summary.partner_id)
    created = (
        await client.post(CREATE, {"input": {"name": "Portal", "partnerId": partner, "trustedDocumentsOnly": trusted}})
    ).json()
    payload = created["data"]["createApiToken"]
    assert payload["token"]["trustedDocumentsOnly"] is trusted
    return payload["secret"], payload["token"]["id"]


async def test_a_trusted_documents_token_runs_only_what_was_registered_for_it(app, writable):
    client = await app(writable)
    secret, token_id = await portal_token(client, writable)
    registered = await client.post(REGISTER, {"input": {"tokenId": token_id, "documents": [ACCOUNTS, VIEWER]}})
    assert registered.json()["data"]["registerTrustedDocuments"]["hashes"] == [sha(ACCOUNTS), sha(VIEWER)]

    by_text = await client.post(ACCOUNTS, token=secret)
    assert by_text.status_code == 200 and "errors" not in by_text.json()
    # Its hash alone works too, in a process that never saw the text (read from the registration).
    fresh = await app(writable)
    by_hash = await fresh.post(extensions=persisted(ACCOUNTS), token=secret)
    assert by_hash.json()["data"] == by_text.json()["data"]

    other = "{ accounts(first: 2) { nodes { id name } } }"
    message = error(await client.post(other, token=secret), 403, "DOCUMENT_NOT_TRUSTED")
    assert "registerTrustedDocuments" in message and sha(other) in message
    error(await client.post("{ __schema { types { name } } }", token=secret), 403, "DOCUMENT_NOT_TRUSTED")
    # A persisted query that any other token registered in this process is no way around it.
    assert (await client.post(other, extensions=persisted(other))).status_code == 200
    error(await client.post(extensions=persisted(other), token=secret), 403, "DOCUMENT_NOT_TRUSTED")


async def test_the_trusted_documents_check_costs_no_extra_statement(app, writable):
    client = await app(writable)
    trusted, token_id = await portal_token(client, writable)
    await client.post(REGISTER, {"input": {"tokenId": token_id, "documents": [ACCOUNTS]}})
    plain, _ = await portal_token(client, writable, trusted=False)
    as_trusted, as_plain = await client.post(ACCOUNTS, token=trusted), await client.post(ACCOUNTS, token=plain)
    assert as_trusted.json() == as_plain.json()
    assert statements(as_trusted) == statements(as_plain)
    # The token lookup is the only statement of a refusal.
    assert statements(await client.post(VIEWER, token=trusted)) == 1


async def test_other_tokens_of_the_same_partner_are_not_limited(app, writable):
    client = await app(writable)
    await portal_token(client, writable)
    assert (await client.post("{ viewer { partner { id } } }", token=writable.partner_token)).status_code == 200


async def test_only_an_admin_registers_valid_documents(app, writable):
    client = await app(writable)
    _, token_id = await portal_token(client, writable)
    as_partner = await client.post(
        REGISTER, {"input": {"tokenId": token_id, "documents": [VIEWER]}}, token=writable.partner_token
    )
    assert as_partner.json()["data"]["registerTrustedDocuments"]["__typename"] == "PermissionDeniedError"
    invalid = await client.post(
        REGISTER, {"input": {"tokenId": token_id, "documents": [VIEWER, "{ viewer { nope } }"]}}
    )
    outcome = invalid.json()["data"]["registerTrustedDocuments"]
    assert outcome["__typename"] == "ValidationError" and outcome["field"] == "documents[1]"
    again = await client.post(REGISTER, {"input": {"tokenId": token_id, "documents": [VIEWER, VIEWER]}})
    assert again.json()["data"]["registerTrustedDocuments"]["hashes"] == [sha(VIEWER), sha(VIEWER)]


async def salesgraph(url: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "salesgraph.cli",
        *args,
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def test_the_command_line_registers_documents_from_files(app, writable, tmp_path):
    client = await app(writable)
    secret, token_id = await portal_token(client, writable)
    document = tmp_path / "accounts.graphql"
    document.write_text(ACCOUNTS)
    broken = tmp_path / "broken.graphql"
    broken.write_text("{ accounts { nope } }")
    code, _, err = await salesgraph(writable.url, "register-documents", "--token-id", token_id, str(broken))
    assert code == 2 and "broken.graphql" in err and "nope" in err
    error(await client.post(ACCOUNTS, token=secret), 403, "DOCUMENT_NOT_TRUSTED")
    code, out, err = await salesgraph(writable.url, "register-documents", "--token-id", token_id, str(document))
    assert code == 0, err
    assert out.split() == [sha(ACCOUNTS), str(document)]
    assert (await client.post(ACCOUNTS, token=secret)).status_code == 200


# --- rate limits ---


@pytest.fixture(params=["memory", "redis"])
def rate_store(request) -> dict[str, str]:
    """The rate limit state: in each app's memory, or in a (flushed) Redis database."""
    if request.param == "memory":
        return {"rate_limit_url": "memory://"}
    server = request.getfixturevalue("redis_server")
    url = server.url.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(url).flushdb()
    return {"rate_limit_url": url}


async def test_the_request_after_the_per_minute_limit_is_refused_with_retry_after(app, writable, rate_store):
    clock = Clock()
    client = await app(writable, clock, rate_requests_per_minute="3", **rate_store)
    token = await issue_token(writable.engine, name="limited", user_id=writable.summary.admin_user_id)
    for _ in range(3):
        assert (await client.post(VIEWER, token=token)).status_code == 200
    refused = await client.post(VIEWER, token=token)
    assert "SALESGRAPH_RATE_REQUESTS_PER_MINUTE" in error(refused, 429, "RATE_LIMITED")
    assert refused.headers["retry-after"] == "20"  # one request comes back every 60/3 s
    assert statements(refused) == 0  # nothing ran (the token came from this process's cache)
    other = await issue_token(writable.engine, name="other", user_id=writable.summary.admin_user_id)
    assert (await client.post(VIEWER, token=other)).status_code == 200
    clock.now += timedelta(seconds=19)
    assert (await client.post(VIEWER, token=token)).headers["retry-after"] == "1"
    clock.now += timedelta(seconds=1)
    assert (await client.post(VIEWER, token=token)).status_code == 200


async def test_an_expensive_query_spends_the_cost_budget(app, writable, rate_store):
    clock = Clock()
    client = await app(writable, clock, rate_cost_per_minute="1000", **rate_store)
    token = await issue_token(writable.engine, name="costly", user_id=writable.summary.admin_user_id)
    expensive = "{ accounts(first: 100) { nodes { opportunities(first: 5) { nodes { id } } } } }"  # cost 600
    assert (await client.post(expensive, token=token)).status_code == 200
    refused = await client.post(expensive, token=token)
    message = error(refused, 429, "RATE_LIMITED")
    assert "costs 600" in message and "SALESGRAPH_RATE_COST_PER_MINUTE" in message
    assert refused.headers["retry-after"] == "12"  # 200 more needed at 1000 a minute
    assert (await client.post(VIEWER, token=token)).status_code == 200  # a query without lists costs nothing
    clock.now += timedelta(seconds=12)
    assert (await client.post(expensive, token=token)).status_code == 200


async def test_two_app_instances_share_one_budget_through_redis(app, writable, redis_server):
    clock = Clock()
    url = redis_server.url.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(url).flushdb()
    first = await app(writable, clock, rate_requests_per_minute="3", rate_limit_url=url)
    second = await app(writable, clock, rate_requests_per_minute="3", rate_limit_url=url)
    token = await issue_token(writable.engine, name="shared", user_id=writable.summary.admin_user_id)
    assert (await first.post(VIEWER, token=token)).status_code == 200
    assert (await second.post(VIEWER, token=token)).status_code == 200
    assert (await first.post(VIEWER, token=token)).status_code == 200
    error(await second.post(VIEWER, token=token), 429, "RATE_LIMITED")
    error(await first.post(VIEWER, token=token), 429, "RATE_LIMITED")


async def test_in_memory_each_app_instance_has_its_own_budget(app, writable):
    clock = Clock()
    first = await app(writable, clock, rate_requests_per_minute="1", rate_limit_url="memory://")
    second = await app(writable, clock, rate_requests_per_minute="1", rate_limit_url="memory://")
    token = await issue_token(writable.engine, name="apart", user_id=writable.summary.admin_user_id)
    assert (await first.post(VIEWER, token=token)).status_code == 200
    assert (await second.post(VIEWER, token=token)).status_code == 200
    error(await first.post(VIEWER, token=token), 429, "RATE_LIMITED")


async def test_anonymous_introspection_shares_one_budget_per_client_address(app, backend):
    client = await app(backend, Clock(), rate_anonymous_requests_per_minute="2", rate_limit_url="memory://")
    introspect = {"query": "{ __schema { queryType { name } } }"}
    for _ in range(2):
        assert (await client.http.post("/graphql", json=introspect)).status_code == 200  # no token
    message = error(await client.http.post("/graphql", json=introspect), 429, "RATE_LIMITED")
    assert "SALESGRAPH_RATE_ANONYMOUS_REQUESTS_PER_MINUTE" in message
    # Requests with a token have their own budget, of SALESGRAPH_RATE_REQUESTS_PER_MINUTE.
    assert (await client.post(introspect["query"])).status_code == 200


async def test_a_bad_rate_setting_stops_the_app_at_start(backend, monkeypatch):
    monkeypatch.setenv("SALESGRAPH_RATE_REQUESTS_PER_MINUTE", "many")
    with pytest.raises(SystemExit) as stopped:
        create_app(backend.engine)
    assert "SALESGRAPH_RATE_REQUESTS_PER_MINUTE" in str(stopped.value)


async def test_when_redis_cannot_be_reached_requests_are_admitted_and_a_warning_logged(app, writable, caplog):
    from tests.support.server import free_port

    client = await app(
        writable, Clock(), rate_requests_per_minute="1", rate_limit_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    for _ in range(2):
        assert (await client.post(VIEWER)).status_code == 200
    assert any("rate limits not applied: Redis unreachable" in r.getMessage() for r in caplog.records)


async def test_websocket_operations_run_only_trusted_documents_and_count_against_the_rate_limit(
    app, writable, monkeypatch
):
    from tests.support.live import live_server
    from tests.support.ws import GraphQLSocket

    client = await app(writable)
    secret, token_id = await portal_token(client, writable)
    await client.post(REGISTER, {"input": {"tokenId": token_id, "documents": [VIEWER]}})
    monkeypatch.setenv("SALESGRAPH_RATE_REQUESTS_PER_MINUTE", "2")
    monkeypatch.setenv("SALESGRAPH_RATE_LIMIT_URL", "memory://")
    async with live_server(writable.url, clock=Clock()) as server:
        socket = await GraphQLSocket.open(server.url, secret)
        await socket.subscribe(ACCOUNTS, op_id="untrusted")
        refused = await socket.message_of("untrusted")
        assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
        for n in range(2):
            await socket.subscribe(VIEWER, op_id=f"viewer{n}")
            assert "LEADS_INGEST" in (await socket.next(f"viewer{n}"))["data"]["viewer"]["scopes"]  # the role's
        await socket.subscribe(VIEWER, op_id="over")
        limited = await socket.message_of("over")
        assert limited["type"] == "error", limited
        assert limited["payload"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 30}
        await socket.close()
