"""Traces (OpenTelemetry), on both databases, with the SDK's in-memory exporter in place of OTLP: a
nested read sent with a W3C `traceparent` is a server span of the client's trace, named by its
operation, with a child span per executor level and exactly one SQL span per statement the request ran
(as Server-Timing counts them); the request id a client sees is the trace id."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gql import tracing
from gql.app import create_app
from persistence.db import create_engine
from tests.conftest import statements

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
