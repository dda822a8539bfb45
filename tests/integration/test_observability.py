"""What an operator sees of a running server (a real `salesgraph serve` process, over HTTP and WebSocket,
on SQLite and PostgreSQL): `/metrics` in Prometheus' text format, only for a token with `metrics:read`,
whose counters move with the operations sent; with `--workers 2` the workers' figures add up; one JSON
log line per operation with its figures, and no token in any line."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gql import ids
from tests.conftest import statements
from tests.integration.test_scopes import CREATE_TOKEN
from tests.support.server import start_server
from tests.support.ws import WAIT, GraphQLSocket

PROBE = "query Probe { accounts(first: 2) { nodes { id name } } }"
ALIASES = "query Aliased { " + " ".join(f"a{n}: __typename" for n in range(40)) + " }"
TASKS = "subscription Tasks { taskEvents(mine: true) { kind taskId } }"
CREATE_TASK = """mutation NewTask($input: CreateTaskInput!) { createTask(input: $input) {
  __typename ... on TaskPayload { task { id } } } }"""

Samples = dict[tuple[str, frozenset], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    return samples.get((metric, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient, token: str) -> Samples:
    response = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    return parse(response.text)


async def metrics_token(http: httpx.AsyncClient, admin: str) -> str:
    """A token that may only read metrics, as Prometheus would be given."""
    created = await http.post(
        "/graphql",
        json={"query": CREATE_TOKEN, "variables": {"input": {"name": "prometheus", "scopes": ["METRICS_READ"]}}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    payload = created.json()["data"]["createApiToken"]
    assert payload["__typename"] == "CreatedApiTokenPayload", payload
    return payload["secret"]


async def until(condition, what: str) -> Samples:
    """Poll the observable `condition` (an async function returning samples or None) until it holds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = await condition()
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {what}")


async def test_metrics_move_with_the_operations_and_each_has_one_log_line(writable, tmp_path):
    server = start_server(
        writable.url, tmp_path, SALESGRAPH_LOG_FORMAT="json", SALESGRAPH_METRICS_SAMPLE_SECONDS="0.05"
    )
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            assert (await http.get("/metrics")).status_code == 401
            refused = await http.get("/metrics", headers={"Authorization": f"Bearer {writable.partner_token}"})
            assert refused.status_code == 403, refused.text  # a partner can never hold metrics:read
            token = await metrics_token(http, writable.admin_token)
            denied = await http.post("/graphql", json={"query": PROBE}, headers={"Authorization": f"Bearer {token}"})
            assert denied.status_code == 403, denied.text  # and a metrics token reads nothing else

            before = await scrape(http, token)
            answered = await http.post(
                "/graphql", json={"query": PROBE}, headers={"Authorization": f"Bearer {writable.admin_token}"}
            )
            assert answered.status_code == 200 and "errors" not in answered.json(), answered.text
            no_token = await http.post("/graphql", json={"query": PROBE})
            assert no_token.status_code == 401
            aliased = await http.post(
                "/graphql", json={"query": ALIASES}, headers={"Authorization": f"Bearer {writable.admin_token}"}
            )
            assert aliased.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_ROOT_FIELDS", aliased.text
            after = await scrape(http, token)

            def moved(metric: str, /, **labels: str) -> float:
                return value(after, metric, **labels) - value(before, metric, **labels)

            http_query = {"transport": "http", "type": "query"}
            assert moved("salesgraph_operations_total", **http_query, name="Probe", outcome="ok") == 1
            assert moved("salesgraph_operations_total", **http_query, name="Probe", outcome="refused") == 1
            # Every query counts in the histograms, refused ones too.
            sent = (answered, no_token, aliased)
            assert moved("salesgraph_operation_sql_statements_count", **http_query) == len(sent)
            assert moved("salesgraph_operation_sql_statements_sum", **http_query) == sum(map(statements, sent))
            assert moved("salesgraph_operation_duration_seconds_count", **http_query) == len(sent)
            assert moved("salesgraph_refusals_total", reason="UNAUTHENTICATED") == 1
            assert moved("salesgraph_refusals_total", reason="TOO_MANY_ROOT_FIELDS") == 1
            assert value(after, "salesgraph_database_connections_in_use") >= 0
            assert value(after, "salesgraph_process_resident_memory_bytes") > 10_000_000
            newest = value(after, "salesgraph_outbox_newest_event_id")
            assert newest > 0  # the seed and the token's creation wrote events

            # A WebSocket and a subscription show while they are open; a push they receive is counted.
            socket = await GraphQLSocket.open(server.url, writable.admin_token)
            op = await socket.subscribe(TASKS)

            async def subscribed() -> Samples | None:
                now = await scrape(http, token)
                return now if value(now, "salesgraph_subscriptions_active", field="taskEvents") == 1 else None

            live = await until(subscribed, "the subscription in salesgraph_subscriptions_active")
            assert value(live, "salesgraph_websocket_connections") == 1
            created = await http.post(
                "/graphql",
                json={
                    "query": CREATE_TASK,
                    "variables": {"input": {"attachToId": ids.encode("Account", 1), "title": "Call back"}},
                },
                headers={"Authorization": f"Bearer {writable.admin_token}"},
            )
            assert created.json()["data"]["createTask"]["__typename"] == "TaskPayload", created.text
            assert (await socket.next(op))["data"]["taskEvents"]["kind"] == "CREATED"
            pushed = await scrape(http, token)
            assert value(pushed, "salesgraph_pushes_total") > value(live, "salesgraph_pushes_total")

            async def delivered() -> Samples | None:
                now = await scrape(http, token)
                lag = value(now, "salesgraph_event_bus_lag_events")
                return now if lag == 0 and value(now, "salesgraph_event_bus_delivered_event_id") > newest else None

            await until(delivered, "the task's event delivered, with no lag")
            await socket.close()

            async def closed() -> Samples | None:
                now = await scrape(http, token)
                gone = value(now, "salesgraph_websocket_connections") == 0
                return now if gone and value(now, "salesgraph_subscriptions_active", field="taskEvents") == 0 else None

            await until(closed, "the socket and its subscription gone from the gauges")
    finally:
        server.stop()
    lines = [
        json.loads(line)
        for line in (tmp_path / f"server-{server.url.rsplit(':', 1)[1]}.log").read_text().splitlines()
        if line.startswith("{")
    ]
    probe = [line for line in lines if line.get("operation") == "Probe" and line.get("outcome") == "ok"]
    assert len(probe) == 1, probe
    [line] = probe
    assert line["logger"] == "salesgraph.operations" and line["transport"] == "http" and line["type"] == "query"
    assert line["statements"] == statements(answered) and line["status"] == 200
    assert line["request_id"] == answered.headers["x-request-id"]
    assert line["principal"].startswith(f"user:{writable.summary.admin_user_id} token:")
    refusals = {(line.get("operation"), line.get("code")) for line in lines if line.get("outcome") == "refused"}
    assert {("Probe", "UNAUTHENTICATED"), ("Aliased", "TOO_MANY_ROOT_FIELDS")} <= refusals
    assert any(line.get("transport") == "websocket" and line.get("operation") == "Tasks" for line in lines)
    text = (tmp_path / f"server-{server.url.rsplit(':', 1)[1]}.log").read_text()
    for secret in (writable.admin_token, writable.partner_token, token):
        assert secret not in text


async def test_the_workers_of_one_server_report_their_operations_together(pg_writable, tmp_path):
    """With `--workers 2` a scrape is answered by either worker, and reports the operations of both."""
    server = start_server(pg_writable.url, tmp_path, workers=2)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            token = await metrics_token(http, pg_writable.admin_token)
        sent = 40
        for _ in range(sent):  # a new connection each: either worker may accept it
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                response = await http.post(
                    "/graphql", json={"query": PROBE}, headers={"Authorization": f"Bearer {pg_writable.admin_token}"}
                )
                assert response.status_code == 200, response.text
        totals = []
        for _ in range(6):
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                samples = await scrape(http, token)
            totals.append(
                value(
                    samples, "salesgraph_operations_total", transport="http", type="query", name="Probe", outcome="ok"
                )
            )
        assert totals == [sent] * 6
    finally:
        server.stop()
