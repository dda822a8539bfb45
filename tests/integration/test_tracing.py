"""Traces (OpenTelemetry), on both databases, with the SDK's in-memory exporter in place of OTLP: a
nested read sent with a W3C `traceparent` is a server span of the client's trace, named by its
operation, with a child span per executor level and exactly one SQL span per statement the request ran
(as Server-Timing counts them); the request id a client sees is the trace id."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from gql import tracing
from gql.app import create_app
from persistence import tables
from persistence.db import create_engine
from tests.conftest import GraphQLClient, statements
from tests.integration.mutations.test_opportunities import new_opportunity
from tests.integration.test_scoreboard_subscription import ALL_TIME, UPDATED, figures, pushed
from tests.integration.test_subscriptions import EVENTS
from tests.support.live import live_server
from tests.support.server import start_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, WAIT, GraphQLSocket

NESTED = """query Nested { accounts(first: 3) { nodes { id name
  opportunities(first: 3) { nodes { id name quotes { id items { id name } } } } } } }"""
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


@pytest.fixture
async def traced(writable):
    exporter = InMemorySpanExporter()
    engine = create_engine(writable.url)  # its own engine: only it is instrumented
    tracing.configure(engine, exporter)
    try:
        yield engine, exporter
    finally:
        tracing.reset()  # the other tests of this process run untraced
        await engine.dispose()


async def test_a_nested_read_is_one_span_tree_with_a_span_per_statement(writable, traced):
    engine, exporter = traced
    app = create_app(engine, dispatch=False, schedule=False, reanalyse=False)
    headers = {"Authorization": f"Bearer {writable.admin_token}", "traceparent": f"00-{TRACE}-{PARENT}-01"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)  # warm the token cache
        exporter.clear()
        response = await http.post("/graphql", json={"query": NESTED}, headers=headers)
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    assert response.headers["x-request-id"] == TRACE
    spans = exporter.get_finished_spans()
    [server] = [s for s in spans if s.name == "query Nested"]
    assert format(server.context.trace_id, "032x") == TRACE
    assert format(server.parent.span_id, "016x") == PARENT  # a child of the client's span
    assert server.attributes["graphql.operation.name"] == "Nested"
    by_id = {s.context.span_id: s for s in spans}

    def under_server(span) -> bool:
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            if span is server:
                return True
        return False

    levels = [s for s in spans if s.name.startswith("graphql.level ") and under_server(s)]
    assert {s.name for s in levels} >= {"graphql.level Query", "graphql.level Account", "graphql.level Opportunity"}
    sql = [s for s in spans if "db.statement" in s.attributes or "db.query.text" in s.attributes]
    assert sql and all(under_server(s) for s in sql)
    assert len(sql) == statements(response) == server.attributes["db.statements"]
    assert all(by_id[s.parent.span_id].name.startswith(("graphql", "query")) for s in sql)


# --- WebSockets, the outbox and pushes ---

STAGE_CHANGED = """mutation Move($input: ChangeOpportunityStageInput!) {
  changeOpportunityStage(input: $input) { __typename } }"""
OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c"


def hex_trace(span) -> str:
    return format(span.context.trace_id, "032x")


def sql_spans(spans) -> list:
    return [s for s in spans if "db.statement" in s.attributes or "db.query.text" in s.attributes]


async def finished(exporter, found) -> list:
    """The finished spans once `found(spans)` holds (a span ends just after its message is sent)."""
    async with asyncio.timeout(WAIT):
        while not found(spans := exporter.get_finished_spans()):
            await asyncio.sleep(0.01)
    return list(spans)


@pytest.fixture
async def traced_live(writable):
    exporter = InMemorySpanExporter()
    tracing.configure(writable.engine, exporter)  # on; the live server's app then traces its own engine
    try:
        async with live_server(writable.url, schedule=False, reanalyse=False) as server:
            async with httpx.AsyncClient(base_url=server.url) as http:
                server.api = GraphQLClient(http, writable.admin_token)
                yield server, exporter
    finally:
        tracing.reset()


async def test_a_mutation_s_trace_reaches_the_outbox_publication_and_the_pushes_on_both_protocols(
    writable, traced_live
):
    """A mutation sent with a traceparent: its events' publication is a span of its trace, and so is each
    WebSocket subscriber's push (graphql-transport-ws and graphql-ws), a child of the publication and
    linked to the subscription's own operation span."""
    server, exporter = traced_live
    opportunity = await new_opportunity(server.api, writable)
    sockets = [await GraphQLSocket.open(server.url, writable.admin_token, p) for p in (TRANSPORT_WS, LEGACY_WS)]
    try:
        ops = [await s.subscribe(EVENTS, {"ids": [opportunity["id"]]}) for s in sockets]
        # A subscription's span ends once its stream is open.
        spans = await finished(exporter, lambda spans: sum(s.name == "subscription" for s in spans) == 2)
        subscriptions = {s.context.span_id for s in spans if s.name == "subscription"}
        exporter.clear()
        headers = {"traceparent": f"00-{TRACE}-{PARENT}-01"}
        moved = await server.api.http.post(
            "/graphql",
            json={"query": STAGE_CHANGED, "variables": {"input": {"id": opportunity["id"], "stage": "PROPOSAL"}}},
            headers={"Authorization": f"Bearer {writable.admin_token}", **headers},
        )
        assert moved.json()["data"]["changeOpportunityStage"]["__typename"] == "OpportunityPayload", moved.text
        for socket, op in zip(sockets, ops, strict=True):
            assert (await socket.next(op))["data"]["opportunityEvents"]["toStage"] == "PROPOSAL"
        spans = await finished(exporter, lambda spans: sum(s.name == "push opportunityEvents" for s in spans) >= 2)
    finally:
        for socket in sockets:
            await socket.close()
    [mutation] = [s for s in spans if s.name == "mutation Move"]
    [published] = [s for s in spans if s.name == "outbox publish"]
    pushes = [s for s in spans if s.name == "push opportunityEvents"]
    assert hex_trace(mutation) == hex_trace(published) == TRACE
    assert [hex_trace(p) for p in pushes] == [TRACE, TRACE]
    by_id = {s.context.span_id: s for s in spans}
    ancestor = by_id[published.parent.span_id]
    while ancestor is not mutation and ancestor.parent is not None:
        ancestor = by_id[ancestor.parent.span_id]
    assert ancestor is mutation  # the publication is under the mutation's span
    assert all(p.parent.span_id == published.context.span_id for p in pushes)
    assert sorted(link.context.span_id for p in pushes for link in p.links) == sorted(subscriptions)
    # One render served both (the same event, document, variables and caller): it ran under the push that made
    # it (its levels are that push's children); the other push waited for it and has none.
    assert sum(any(s.parent and s.parent.span_id == p.context.span_id for s in spans) for p in pushes) == 1


async def test_a_live_board_s_pushes_are_spans_linked_to_its_subscription(writable, traced_live):
    """The first state is a push of the subscription's own; each later state is read once in an update span,
    under which each group's push (render and sends) is a span linked to its members' subscriptions."""
    server, exporter = traced_live
    socket = await GraphQLSocket.open(server.url, writable.admin_token)
    try:
        op = await socket.subscribe(UPDATED, ALL_TIME)
        before = figures(await pushed(socket, op))
        spans = await finished(exporter, lambda spans: any(s.name == "push scoreboardUpdated" for s in spans))
        [subscription] = [s.context.span_id for s in spans if s.name == "subscription"]
        await new_opportunity(server.api, writable)  # a new deal moves the pipeline's figures
        async with asyncio.timeout(WAIT):
            while figures(await pushed(socket, op)) == before:
                pass
        spans = await finished(exporter, lambda spans: any(s.name == "push scoreboard" for s in spans))
    finally:
        await socket.close()
    [first] = [s for s in spans if s.name == "push scoreboardUpdated"]
    assert [link.context.span_id for link in first.links] == [subscription]
    fan_out = [s for s in spans if s.name == "push scoreboard"]
    assert fan_out and all([link.context.span_id for link in s.links] == [subscription] for s in fan_out)
    updates = {s.context.span_id for s in spans if s.name == "update scoreboard"}
    assert all(s.parent.span_id in updates for s in fan_out)


async def test_a_websocket_query_is_a_span_of_its_trace_with_a_span_per_statement(writable, traced_live):
    server, exporter = traced_live
    socket = await GraphQLSocket.open(server.url, writable.admin_token)
    try:
        await socket.send(
            {
                "type": "subscribe",
                "id": "q",
                "payload": {"query": NESTED, "extensions": {"traceparent": f"00-{OTHER_TRACE}-{PARENT}-01"}},
            }
        )
        answer = await socket.next("q")
        spans = await finished(exporter, lambda spans: any(s.name == "query Nested" for s in spans))
    finally:
        await socket.close()
    assert "errors" not in answer, answer
    over_http = await server.api.http.post(
        "/graphql", json={"query": NESTED}, headers={"Authorization": f"Bearer {writable.admin_token}"}
    )
    [operation] = [s for s in spans if s.name == "query Nested"]
    assert hex_trace(operation) == OTHER_TRACE and operation.attributes["graphql.operation.type"] == "query"
    in_trace = [s for s in spans if hex_trace(s) == OTHER_TRACE]
    assert {s.name for s in in_trace} >= {"graphql.level Query", "graphql.level Account", "graphql.level Opportunity"}
    assert len(sql_spans(in_trace)) == operation.attributes["db.statements"] == statements(over_http)


async def test_with_traces_off_a_mutation_costs_the_statements_it_costs_traced_and_stores_no_trace(api, writable):
    """The trace context rides in the outbox's INSERT: the same statements on and off, and nothing is
    stored when off."""
    opportunity = await new_opportunity(api, writable)

    async def move(stage: str, headers: dict) -> int:
        response = await api.http.post(
            "/graphql",
            json={"query": STAGE_CHANGED, "variables": {"input": {"id": opportunity["id"], "stage": stage}}},
            headers={"Authorization": f"Bearer {writable.admin_token}", **headers},
        )
        assert response.json()["data"]["changeOpportunityStage"]["__typename"] == "OpportunityPayload"
        return statements(response)

    async def newest_traceparent() -> str | None:
        async with writable.engine.connect() as conn:
            return (
                await conn.execute(
                    select(tables.outbox_events.c.traceparent).order_by(tables.outbox_events.c.position.desc()).limit(1)
                )
            ).scalar_one()

    headers = {"traceparent": f"00-{TRACE}-{PARENT}-01"}
    await move("QUALIFICATION", headers)  # (warm: the token cache, the statement caches)
    untraced = await move("PROPOSAL", headers)
    assert await newest_traceparent() is None
    tracing.configure(writable.engine, InMemorySpanExporter())
    try:
        traced = await move("NEGOTIATION", headers)
    finally:
        tracing.reset()
    assert (await newest_traceparent()).startswith(f"00-{TRACE}-")
    assert untraced == traced


def spans_in(folder: Path) -> list[dict]:
    """The spans a server started in `folder` wrote with OTEL_TRACES_EXPORTER=console: a JSON object a
    line on stderr, its log."""
    return [
        json.loads(line)
        for log in folder.glob("server-*.log")
        for line in log.read_text().splitlines()
        if line.startswith("{") and '"context"' in line
    ]


async def test_across_processes_a_push_through_redis_carries_the_mutation_s_trace(pg_writable, redis_server, tmp_path):
    """Two `salesgraph serve` processes (traces on, written to their logs) and Redis: a mutation sent to the
    first with a traceparent is published by the first (the second dispatches nothing), and the second's
    push to its subscriber is a span of the mutation's trace, a child of the first's publication."""
    env = {"BROADCAST_URL": redis_server.url, "OTEL_TRACES_EXPORTER": "console"}
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = start_server(pg_writable.url, tmp_path / "one", **env)
    # (no resync from the outbox during the test: the second hears of the event through Redis only)
    two = start_server(
        pg_writable.url, tmp_path / "two", SALESGRAPH_DISPATCH="off", SALESGRAPH_EVENT_RESYNC_SECONDS="600", **env
    )
    try:
        async with httpx.AsyncClient(base_url=one.url) as http:
            api = GraphQLClient(http, pg_writable.admin_token)
            opportunity = await new_opportunity(api, pg_writable)
            socket = await GraphQLSocket.open(two.url, pg_writable.admin_token)
            op = await socket.subscribe(EVENTS, {"ids": [opportunity["id"]]})
            async with asyncio.timeout(WAIT):  # the subscription's span is written once its stream is open
                while not any(s["name"] == "subscription" for s in spans_in(tmp_path / "two")):
                    await asyncio.sleep(0.02)
            moved = await http.post(
                "/graphql",
                json={"query": STAGE_CHANGED, "variables": {"input": {"id": opportunity["id"], "stage": "PROPOSAL"}}},
                headers={
                    "Authorization": f"Bearer {pg_writable.admin_token}",
                    "traceparent": f"00-{TRACE}-{PARENT}-01",
                },
            )
            assert moved.json()["data"]["changeOpportunityStage"]["__typename"] == "OpportunityPayload"
            async with asyncio.timeout(WAIT):
                while (event := (await socket.next(op))["data"]["opportunityEvents"])["kind"] != "STAGE_CHANGED":
                    pass
            assert event["toStage"] == "PROPOSAL"
            await socket.close()
    finally:
        one.stop()
        two.stop()
    first, second = spans_in(tmp_path / "one"), spans_in(tmp_path / "two")
    [published] = [s for s in first if s["name"] == "outbox publish" and s["context"]["trace_id"] == f"0x{TRACE}"]
    pushes = [s for s in second if s["name"] == "push opportunityEvents" and s["context"]["trace_id"] == f"0x{TRACE}"]
    assert len(pushes) == 1 and pushes[0]["parent_id"] == published["context"]["span_id"]
    assert not [s for s in second if s["name"] == "outbox publish"]
