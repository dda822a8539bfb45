"""A deploy stops one of two servers behind a real HAProxy (Debian's) in the middle of a burst of
mutations and pushes: SIGTERM makes it answer /readyz with 503 while still serving (HAProxy takes it out),
close its WebSockets with 1001, finish what it began and exit. Every HTTP request through the proxy gets
its answer, and every subscriber, reconnecting and resuming with `since` as the documented client setup
does, ends with every event exactly once, in order. PostgreSQL, Redis and both servers are real
processes."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from gql import ids
from persistence import tables
from tests.conftest import IN_CI
from tests.support.haproxy import HAProxy, find_haproxy
from tests.support.server import start_server
from tests.support.ws import WAIT, GraphQLSocket

CREATE = """mutation New($input: CreateOpportunityInput!) { createOpportunity(input: $input) {
  __typename ... on OpportunityPayload { opportunity { id } } ... on UserError { message } } }"""
EVENTS = """subscription Events($since: ID) { opportunityEvents(since: $since) { eventId kind opportunityId } }"""
WRITERS, SALES_EACH = 6, 12


@pytest.fixture
def haproxy_binary():
    if find_haproxy() is None:
        if IN_CI:
            pytest.fail("haproxy not found, and CI=true requires the graceful-deploy test to run")
        pytest.skip("haproxy not found (apt-get install haproxy)")


class ResumingSubscriber:
    """What the README tells clients to do: on a close that is not final, reconnect and subscribe again
    with `since` = the last event received."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.events: list[dict] = []
        self.closes: list[int | None] = []
        self.started = asyncio.Event()

    async def run(self) -> None:
        while True:
            socket = await GraphQLSocket.open(self.url, self.token)
            since = self.events[-1]["eventId"] if self.events else None
            op = await socket.subscribe(EVENTS, {"since": since})
            self.started.set()
            try:
                while True:
                    self.events.append((await socket.next(op, timeout=3600))["data"]["opportunityEvents"])
            except ConnectionClosed as closed:  # the server went away: its close frame says why
                self.closes.append(closed.rcvd.code if closed.rcvd else None)
            finally:
                await socket.close()


async def test_sigterm_in_a_burst_cuts_no_request_and_loses_no_event(
    pg_writable, redis_server, haproxy_binary, tmp_path
):
    env = {
        "BROADCAST_URL": redis_server.url,
        "SALESGRAPH_DRAIN_SECONDS": "2",
        "SALESGRAPH_RATE_REQUESTS_PER_MINUTE": "0",
        "SALESGRAPH_RATE_COST_PER_MINUTE": "0",
    }
    first = start_server(pg_writable.url, tmp_path, **env)
    second = start_server(pg_writable.url, tmp_path, **env)
    proxy = HAProxy([first.url, second.url]).start()
    admin = {"Authorization": f"Bearer {pg_writable.admin_token}"}
    async with pg_writable.engine.connect() as conn:
        account = ids.encode("Account", (await conn.execute(select(tables.accounts.c.id).limit(1))).scalar_one())
    subscribers = [ResumingSubscriber(proxy.url, pg_writable.admin_token) for _ in range(4)]
    tasks = [asyncio.create_task(s.run()) for s in subscribers]
    try:
        async with asyncio.timeout(WAIT):
            for subscriber in subscribers:
                await subscriber.started.wait()
        answered: list[int] = []
        created: list[str] = []
        halfway = asyncio.Event()

        async def writer(n: int) -> None:
            async with httpx.AsyncClient(base_url=proxy.url, headers=admin, timeout=60) as http:
                for i in range(SALES_EACH):
                    response = await http.post(
                        "/graphql",
                        json={
                            "query": CREATE,
                            "variables": {"input": {"name": f"Deploy {n}-{i}", "accountId": account}},
                        },
                    )
                    answered.append(response.status_code)
                    assert response.status_code == 200, response.text
                    payload = response.json()["data"]["createOpportunity"]
                    assert payload["__typename"] == "OpportunityPayload", payload
                    created.append(payload["opportunity"]["id"])
                    if len(created) >= WRITERS * SALES_EACH // 3:
                        halfway.set()

        writers = asyncio.gather(*(writer(n) for n in range(WRITERS)))
        async with asyncio.timeout(WAIT * 4):
            await halfway.wait()
            first.process.send_signal(signal.SIGTERM)  # the deploy stops the first server mid-burst
            await writers
            stopped = await asyncio.to_thread(first.process.wait, 60)
        assert len(answered) == WRITERS * SALES_EACH and set(answered) == {200}
        assert stopped in (0, -signal.SIGTERM), stopped

        async def everyone_has_everything() -> None:
            while any(len(s.events) < len(created) for s in subscribers):
                await asyncio.sleep(0.05)

        async with asyncio.timeout(WAIT * 2):
            await everyone_has_everything()
        for subscriber in subscribers:
            mine = [e for e in subscriber.events if e["kind"] == "CREATED" and e["opportunityId"] in set(created)]
            assert sorted(e["opportunityId"] for e in mine) == sorted(created)  # every one, once
            positions = [int(e["eventId"]) for e in subscriber.events]
            assert positions == sorted(set(positions))  # in order, no duplicate
        # The subscribers that were on the stopped server were told to go (1001) and came back.
        assert 1001 in [code for s in subscribers for code in s.closes], [s.closes for s in subscribers]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        proxy.stop()
        first.stop()
        second.stop()
    log = (tmp_path / f"server-{first.url.rsplit(':', 1)[1]}.log").read_text()
    assert "stopping: draining" in log and "told to reconnect elsewhere (1001)" in log, log[-2000:]
