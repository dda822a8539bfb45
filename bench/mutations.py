"""Write benchmark: N clients each run the sales process over and over against a real server (rate
limits off) — createOpportunity, createQuote (from a price book), addQuoteItems (3 lines),
markOpportunitySold — and the table shows, per mutation, its latency percentiles and SQL statements
(from Server-Timing), and per whole sale (4 transactions with history and outbox events) the sales
per second, the SQL statements and the server's CPU. Any answer other than a 200 without GraphQL
errors, or a mutation refused with a UserError, stops the run.

    .venv/bin/python bench/mutations.py [--size 2000] [--seconds 15] [--concurrency 10] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    RATE_LIMITS_OFF,
    STATEMENTS,
    BenchError,
    KeepAliveConnection,
    ServerProcess,
    check_answer,
    graphql_request,
    machine,
    table,
)
from bench.nested_read import prepare
from persistence.seed import parse_size

SETUP = """{ accounts(first: 50) { nodes { id } }
  priceBooks(first: 1, filter: {active: true}) { nodes { id entries(currency: "EUR") { unit { id } } } } }"""
STEPS = {
    "createOpportunity": """mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) {
        ... on OpportunityPayload { opportunity { id version } } ... on UserError { code message } } }""",
    "createQuote": """mutation($input: CreateQuoteInput!) { createQuote(input: $input) {
        ... on QuotePayload { quote { id } } ... on UserError { code message } } }""",
    "addQuoteItems": """mutation($input: AddQuoteItemsInput!) { addQuoteItems(input: $input) {
        ... on QuotePayload { quote { total { amount } } } ... on UserError { code message } } }""",
    "markOpportunitySold": """mutation($input: OpportunityRefInput!) { markOpportunitySold(input: $input) {
        ... on OpportunityPayload { opportunity { stage contracts { id } } } ... on UserError { code message } } }""",
}


@dataclass
class Sales:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statements: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    done: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0


async def sales(server: ServerProcess, token: str, concurrency: int, seconds: float) -> Sales:
    """`concurrency` clients, each on its own keep-alive connection, selling over and over for `seconds`
    (a sale under way when the time is up is finished and counted). Any answer other than a 200
    without GraphQL errors, or a mutation answered with a UserError, stops the run with BenchError."""
    result = Sales()
    address = urlsplit(server.url)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=60) as http:
        response = await http.post("/graphql", json={"query": SETUP})
        check_answer(response.status_code, response.content, "setup query")
        setup = response.json()["data"]
    accounts = [a["id"] for a in setup["accounts"]["nodes"]]
    book = setup["priceBooks"]["nodes"][0]
    units = [e["unit"]["id"] for e in book["entries"]][:3]

    async def step(connection: KeepAliveConnection, name: str, variables: dict) -> dict:
        t0 = time.perf_counter()
        status, content, timing = await connection.send(
            graphql_request(server.url, {"query": STEPS[name], "variables": variables}, auth)
        )
        result.latencies[name].append(time.perf_counter() - t0)
        check_answer(status, content, name)
        found = STATEMENTS.search(timing)
        if found is None:
            raise BenchError(f"{name}: no statement count in Server-Timing ({timing!r})")
        result.statements[name].append(int(found.group(1)))
        payload = next(iter(orjson.loads(content)["data"].values()))
        if "code" in payload:
            raise BenchError(f"{name} refused with {payload['code']}: {payload['message']} (variables {variables})")
        return payload

    async def client(n: int, stop_at: float) -> None:
        connection = await KeepAliveConnection.open(address.hostname or "127.0.0.1", address.port or 80)
        try:
            i = 0
            while time.perf_counter() < stop_at:
                i += 1
                account = accounts[(n * 7 + i) % len(accounts)]
                opp = (
                    await step(
                        connection, "createOpportunity", {"input": {"name": f"Bench {n}-{i}", "accountId": account}}
                    )
                )["opportunity"]
                quote = (
                    await step(
                        connection,
                        "createQuote",
                        {
                            "input": {
                                "opportunityId": opp["id"],
                                "name": "Q",
                                "currency": "EUR",
                                "priceBookId": book["id"],
                            }
                        },
                    )
                )["quote"]
                items = [{"unitId": u, "quantity": str(1 + (i % 5))} for u in units]
                await step(connection, "addQuoteItems", {"input": {"quoteId": quote["id"], "items": items}})
                await step(connection, "markOpportunitySold", {"input": {"id": opp["id"]}})
                result.done += 1
        finally:
            connection.close()

    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(client(n, started + seconds) for n in range(concurrency)))
    result.seconds = time.perf_counter() - started
    result.server_cpu = server.cpu_seconds() - cpu_before
    return result


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def run_backend(name: str, url: str, args: argparse.Namespace) -> list[list[str]]:
    token = await prepare(url, parse_size(args.size))
    server = ServerProcess(url, workers=args.workers, env=RATE_LIMITS_OFF)
    try:
        server.wait_ready()
        measured = await sales(server, token, args.concurrency, args.seconds)
        rss = server.rss_mib()
    finally:
        server.stop()
    rows = [
        [
            f"{name}: {step}",
            str(len(measured.latencies[step])),
            f"{len(measured.latencies[step]) / measured.seconds:.1f}",
            f"{pct(measured.latencies[step], 0.5):.1f}",
            f"{pct(measured.latencies[step], 0.99):.1f}",
            f"{statistics.mean(measured.statements[step]):.1f}",
            "",
            "",
        ]
        for step in STEPS
    ]
    per_sale = sum(statistics.mean(measured.statements[step]) for step in STEPS)
    cpu = f"{measured.server_cpu / measured.done * 1000:.1f}" if measured.done else "-"
    rows.append(
        [
            f"{name}: whole sale",
            str(measured.done),
            f"{measured.done / measured.seconds:.1f}",
            "",
            "",
            f"{per_sale:.1f}",
            cpu,
            f"{rss:.0f}",
        ]
    )
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="2000", help="opportunities to seed first (small, medium, large or N)")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="salesgraph-bench-") as folder:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                rows += await run_backend("sqlite", f"sqlite+aiosqlite:///{folder}/bench.sqlite3", args)
            elif backend == "postgresql":
                from tests.support.pg import PostgresServer

                with PostgresServer() as pg:
                    rows += await run_backend("postgresql", pg.create_database("bench"), args)
            else:
                parser.error(f"unknown backend {backend!r}")
    print()
    print(machine())
    print(
        f"seed size {args.size}, {args.concurrency} concurrent clients each selling over and over for "
        f"{args.seconds:.0f} s, {args.workers} server worker(s)"
    )
    header = [
        "mutation",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "SQL statements",
        "server CPU ms/sale",
        "server RSS MiB",
    ]
    print(table(rows, header))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BenchError as error:
        raise SystemExit(f"mutations: {error}") from None
