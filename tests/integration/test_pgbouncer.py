"""Salesgraph behind a real PgBouncer (Debian's) in transaction pooling mode with two server connections:
a `salesgraph serve` process with SALESGRAPH_DATABASE_POOLER=pgbouncer answers a burst of concurrent
mutations and nested reads without one error, and a subscriber gets every event exactly once, in order
(the outbox's numbering lock, the dispatcher and the scheduler all run through the pooler)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from gql import ids
from persistence import tables
from persistence.migrate import check_current, upgrade_async
from tests.conftest import IN_CI
from tests.support.pgbouncer import PgBouncer, find_pgbouncer
from tests.support.server import start_server
from tests.support.ws import GraphQLSocket

CREATE = """mutation New($input: CreateOpportunityInput!) { createOpportunity(input: $input) {
  __typename ... on OpportunityPayload { opportunity { id } } ... on UserError { message } } }"""
NESTED = """query Nested { accounts(first: 10) { nodes { id name opportunities(first: 5) { nodes { id name
  quotes { id items { id name total { amount } } } } } } } }"""
EVENTS = "subscription { opportunityEvents { eventId kind opportunityId } }"


@pytest.fixture
def pgbouncer(postgres_server):
    if find_pgbouncer() is None:
        if IN_CI:
            pytest.fail("pgbouncer not found, and CI=true requires the PgBouncer tests to run")
        pytest.skip("pgbouncer not found (apt-get install pgbouncer); PgBouncer tests skipped")
    bouncer = PgBouncer(postgres_server.port, postgres_server.user, server_connections=2).start()
    yield bouncer
    bouncer.stop()


async def test_a_burst_of_writes_reads_and_events_through_pgbouncer(pg_writable, pgbouncer, tmp_path):
    database = make_url(pg_writable.url).database
    server = start_server(pgbouncer.url(database), tmp_path, SALESGRAPH_DATABASE_POOLER="pgbouncer")
    admin = {"Authorization": f"Bearer {pg_writable.admin_token}"}
    async with pg_writable.engine.connect() as conn:
        accounts = [
            ids.encode("Account", pk)
            for pk in (
                await conn.execute(select(tables.accounts.c.id).order_by(tables.accounts.c.id).limit(8))
            ).scalars()
        ]
        before = (await conn.execute(select(func.count()).select_from(tables.opportunities))).scalar_one()
    try:
        socket = await GraphQLSocket.open(server.url, pg_writable.admin_token)
        op = await socket.subscribe(EVENTS)

        async def client(n: int) -> list[str]:
            created = []
            async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=60) as http:
                for i in range(5):
                    made = await http.post(
                        "/graphql",
                        json={
                            "query": CREATE,
                            "variables": {"input": {"name": f"Pooled {n}-{i}", "accountId": accounts[n]}},
                        },
                    )
                    assert made.status_code == 200 and "errors" not in made.json(), made.text
                    payload = made.json()["data"]["createOpportunity"]
                    assert payload["__typename"] == "OpportunityPayload", payload
                    created.append(payload["opportunity"]["id"])
                    read = await http.post("/graphql", json={"query": NESTED})
                    assert read.status_code == 200 and "errors" not in read.json(), read.text
                    assert len(read.json()["data"]["accounts"]["nodes"]) == 10
            return created

        made = [opportunity for batch in await asyncio.gather(*(client(n) for n in range(8))) for opportunity in batch]
        assert len(set(made)) == 40
        events = [(await socket.next(op))["data"]["opportunityEvents"] for _ in range(40)]
        assert sorted(e["opportunityId"] for e in events) == sorted(made)
        assert {e["kind"] for e in events} == {"CREATED"}
        positions = [int(e["eventId"]) for e in events]
        assert positions == sorted(positions) and len(set(positions)) == 40
        await socket.close()
    finally:
        server.stop()
    async with pg_writable.engine.connect() as conn:
        after = (await conn.execute(select(func.count()).select_from(tables.opportunities))).scalar_one()
    assert after == before + 40
    log = (tmp_path / f"server-{server.url.rsplit(':', 1)[1]}.log").read_text()
    assert "prepared statement" not in log, log[-3000:]


async def test_migrations_run_through_pgbouncer(postgres_server, pgbouncer, monkeypatch):
    """The migrate job of a deployment can use the same PgBouncer URL as the servers."""
    monkeypatch.setenv("SALESGRAPH_DATABASE_POOLER", "pgbouncer")
    direct = postgres_server.create_database("through_pgbouncer")
    await upgrade_async(pgbouncer.url("through_pgbouncer"))
    engine = create_async_engine(direct)
    try:
        await check_current(engine)  # raises unless the database is at the code's last migration
    finally:
        await engine.dispose()
