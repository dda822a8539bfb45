"""Nested-read benchmark: seeds SQLite and PostgreSQL, starts a real server on each, and drives
the canonical nested query (first 50 accounts → all their opportunities → quotes → items with
product) and a small query (one account with its opportunities) at N concurrent clients.

    ./sg bench [--size 2000] [--seconds 15] [--concurrency 10] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HEADER, RATE_LIMITS_OFF, ServerProcess, closed_loop, machine, table
from bench.queries import FIRST_ACCOUNT, NESTED, SMALL
from gql.auth import issue_token
from persistence.db import create_engine
from persistence.migrate import upgrade_async
from persistence.seed import parse_size, seed


async def prepare(url: str, size: int) -> str:
    """Migrate and seed the database; return an admin token."""
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        summary = await seed(engine, size, progress=True)
        token = await issue_token(engine, name="bench", user_id=summary.admin_user_id)
    finally:
        await engine.dispose()
    return token


async def run_backend(name: str, url: str, args: argparse.Namespace) -> list[list[str]]:
    token = await prepare(url, parse_size(args.size))
    server = ServerProcess(url, workers=args.workers, env=RATE_LIMITS_OFF)
    try:
        server.wait_ready()
        async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
            response = await http.post("/graphql", json={"query": FIRST_ACCOUNT})
            account_id = response.json()["data"]["accounts"]["nodes"][0]["id"]
        meters = {"server": server.cpu_seconds}
        nested = await closed_loop(server.url, token, {"query": NESTED}, args.concurrency, args.seconds, meters=meters)
        small_body = {"query": SMALL, "variables": {"id": account_id}}
        small = await closed_loop(server.url, token, small_body, args.concurrency, args.seconds, meters=meters)
        rss = server.rss_mib()
    finally:
        server.stop()
    return [
        [f"{name}: nested", *nested.row("")[1:], f"{nested.cpu_ms_per_request():.2f}", f"{rss:.0f}"],
        [f"{name}: small", *small.row("")[1:], f"{small.cpu_ms_per_request():.2f}", f"{rss:.0f}"],
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="2000", help="opportunities to seed (small, medium, large or N)")
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

                server = PostgresServer()
                server.start()
                try:
                    rows += await run_backend("postgresql", server.create_database("bench"), args)
                finally:
                    server.stop()
            else:
                parser.error(f"unknown backend {backend!r}")
    print()
    print(machine())
    print(
        f"seed size {args.size}, {args.concurrency} concurrent clients, {args.seconds:.0f} s per query, "
        f"{args.workers} server worker(s)"
    )
    print(table(rows, [*HEADER, "server CPU ms/req", "server RSS MiB"]))


if __name__ == "__main__":
    asyncio.run(main())
