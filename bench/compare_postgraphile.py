"""Side by side with a generic GraphQL-over-PostgreSQL engine: PostGraphile 4 (it compiles each
query into one SQL statement) and Salesgraph, one server process each, on the same seeded
PostgreSQL database, answering the same nested read (first 50 accounts → all their
opportunities → quotes → items with product) at N concurrent clients.

Needs node and npm (PostGraphile is installed from the npm registry into a cache folder on first
use). PostGraphile 5 needs Node 22; with an older Node this compares against PostGraphile 4.

    .venv/bin/python bench/compare_postgraphile.py [--size 2000] [--seconds 15] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HEADER, ServerProcess, closed_loop, free_port, machine, table
from bench.nested_read import NESTED, prepare
from persistence.seed import parse_size

POSTGRAPHILE = "postgraphile@4.14"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "salesgraph-bench" / "postgraphile4"

POSTGRAPHILE_NESTED = """query Nested {
  allAccounts(first: 50, orderBy: PRIMARY_KEY_ASC) {
    nodes {
      id name
      opportunitiesByAccountId(first: 100, orderBy: PRIMARY_KEY_ASC) {
        nodes {
          id name stage estimatedRevenueAmount estimatedRevenueCurrency
          quotesByOpportunityId(orderBy: PRIMARY_KEY_ASC) {
            nodes {
              id name isActive
              quoteItemsByQuoteId(orderBy: PRIMARY_KEY_ASC) {
                nodes { id name quantity discountPercent unitPrice currency total productByProductId { id code name } }
              }
            }
          }
        }
      }
    }
  }
}"""


def install_postgraphile() -> Path:
    binary = CACHE / "node_modules" / ".bin" / "postgraphile"
    if not binary.exists():
        if shutil.which("npm") is None:
            raise SystemExit("npm is needed to install PostGraphile for this comparison")
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), POSTGRAPHILE],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return binary


def shape(body: dict) -> str:
    """accounts / opportunities / quotes / items in one response, to show both read the same data."""
    data = body["data"]
    accounts = (data.get("accounts") or data.get("allAccounts"))["nodes"]
    opps = [o for a in accounts for o in (a.get("opportunities") or a.get("opportunitiesByAccountId"))["nodes"]]
    quotes = [q for o in opps for q in (o["quotes"] if "quotes" in o else o["quotesByOpportunityId"]["nodes"])]
    items = [i for q in quotes for i in (q["items"] if "items" in q else q["quoteItemsByQuoteId"]["nodes"])]
    return f"{len(accounts)}/{len(opps)}/{len(quotes)}/{len(items)}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="2000")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    binary = install_postgraphile()
    from tests.support.pg import PostgresServer

    pg = PostgresServer()
    pg.start()
    servers: list = []
    try:
        url = pg.create_database("compare")
        token = await prepare(url, parse_size(args.size))
        ours = ServerProcess(url)
        servers.append(ours)
        port = free_port()
        theirs = subprocess.Popen(
            [
                str(binary),
                "-c",
                url.replace("postgresql+asyncpg", "postgres"),
                "-s",
                "public",
                "-p",
                str(port),
                "-n",
                "127.0.0.1",
                "--disable-query-log",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(theirs)
        ours.wait_ready()
        their_url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.post(their_url + "/graphql", json={"query": "{ __typename }"}, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        rows = []
        for name, base, query in (("postgraphile 4", their_url, POSTGRAPHILE_NESTED), ("salesgraph", ours.url, NESTED)):
            first = httpx.post(
                base + "/graphql", json={"query": query}, timeout=60, headers={"Authorization": f"Bearer {token}"}
            ).json()
            result = await closed_loop(base, token, {"query": query}, args.concurrency, args.seconds)
            rows.append([*result.row(name), shape(first)])
    finally:
        for server in servers:
            server.terminate() if isinstance(server, subprocess.Popen) else server.stop()
        pg.stop()
    print()
    print(machine())
    print(f"seed size {args.size}, {args.concurrency} concurrent clients, {args.seconds:.0f} s each, one process each")
    print(table(rows, [*HEADER, "acc/opp/quote/item"]))


if __name__ == "__main__":
    asyncio.run(main())
