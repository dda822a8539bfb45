"""Write benchmark: N clients each run the sales process over and over against a real server —
createOpportunity, createQuote (from a price book), addQuoteItems (3 lines), markOpportunitySold —
and the table shows, per mutation, its latency percentiles and SQL statements, and the sales per
second end to end (each sale is 4 transactions with history and outbox events).

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
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ServerProcess, machine, table
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


async def sales(url: str, token: str, concurrency: int, seconds: float) -> tuple[dict, int, float, int]:
    latencies: dict[str, list[float]] = defaultdict(list)
    statements: dict[str, list[int]] = defaultdict(list)
    done, failures = 0, 0
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=60, limits=httpx.Limits(max_connections=concurrency)
    ) as http:
        setup = (await http.post("/graphql", json={"query": SETUP})).json()["data"]
        accounts = [a["id"] for a in setup["accounts"]["nodes"]]
        book = setup["priceBooks"]["nodes"][0]
        units = [e["unit"]["id"] for e in book["entries"]][:3]

        async def step(name: str, variables: dict) -> dict:
            nonlocal failures
            t0 = time.perf_counter()
            response = await http.post("/graphql", json={"query": STEPS[name], "variables": variables})
            latencies[name].append(time.perf_counter() - t0)
            timing = response.headers.get("server-timing", "")
            statements[name].append(int(timing.split('desc="', 1)[1].split(" ", 1)[0]))
            result = next(iter(response.json()["data"].values()))
            if "code" in result:
                failures += 1
                raise RuntimeError(result["message"])
            return result

        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()

        async def client(n: int) -> None:
            nonlocal done
            i = 0
            while time.perf_counter() < stop_at:
                i += 1
                opp = (
                    await step(
                        "createOpportunity",
                        {"input": {"name": f"Bench {n}-{i}", "accountId": accounts[(n * 7 + i) % len(accounts)]}},
                    )
                )["opportunity"]
                quote = (
                    await step(
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
                await step(
                    "addQuoteItems",
                    {
                        "input": {
                            "quoteId": quote["id"],
                            "items": [{"unitId": u, "quantity": str(1 + (i % 5))} for u in units],
                        }
                    },
                )
                await step("markOpportunitySold", {"input": {"id": opp["id"]}})
                done += 1

        await asyncio.gather(*(client(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {n: (latencies[n], statements[n]) for n in STEPS}, done, elapsed, failures


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def run_backend(name: str, url: str, args: argparse.Namespace) -> list[list[str]]:
    token = await prepare(url, parse_size(args.size))
    server = ServerProcess(url, workers=args.workers)
    try:
        server.wait_ready()
        per_step, done, elapsed, failures = await sales(server.url, token, args.concurrency, args.seconds)
        rss = server.rss_mib()
    finally:
        server.stop()
    rows = [
        [
            f"{name}: {step}",
            str(len(lat)),
            f"{len(lat) / elapsed:.1f}",
            f"{pct(lat, 0.5):.1f}",
            f"{pct(lat, 0.99):.1f}",
            f"{statistics.mean(sql):.1f}",
            "",
        ]
        for step, (lat, sql) in per_step.items()
    ]
    rows.append([f"{name}: whole sale", str(done), f"{done / elapsed:.1f}", "", "", "", f"{rss:.0f}"])
    if failures:
        rows.append([f"{name}: FAILED mutations", str(failures), "", "", "", "", ""])
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
    print(table(rows, ["mutation", "requests", "req/s", "p50 ms", "p99 ms", "SQL/req", "server RSS MiB"]))


if __name__ == "__main__":
    asyncio.run(main())
