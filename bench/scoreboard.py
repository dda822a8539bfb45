"""Scoreboard benchmark: seeds SQLite and PostgreSQL (default: size large, 100,000 opportunities),
starts a real server on each, and measures the `scoreboard` query for several periods and a team,
one client at a time (latency) and at N concurrent clients (throughput).

    .venv/bin/python bench/scoreboard.py [--size large] [--seconds 10] [--concurrency 10]
                                         [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HEADER, RATE_LIMITS_OFF, ServerProcess, closed_loop, machine, table
from bench.nested_read import prepare
from gql import ids
from persistence.seed import parse_size

BOARD = """query Board($period: PeriodInput!, $teamId: ID) {
  scoreboard(period: $period, teamId: $teamId) {
    periodStart periodEnd asOf timeLeft changesAt eventId
    wonRevenue { amount currency } dealsWon winRate averageDealSize { amount } openPipeline { amount } openDeals
    goal { amount } progress projected { amount } onTrack
    reps { rank user { id name } wonRevenue { amount } goal { amount } progress projected { amount } onTrack
           dealsWon openPipeline { amount } }
  }
}"""

CASES = [
    ("ALL_TIME", {"period": {"preset": "ALL_TIME"}}),
    ("THIS_QUARTER", {"period": {"preset": "THIS_QUARTER"}}),
    ("LAST_7_DAYS", {"period": {"preset": "LAST_7_DAYS"}}),
    ("ALL_TIME, one team", {"period": {"preset": "ALL_TIME"}, "teamId": ids.encode("Team", 1)}),
]


async def run_backend(name: str, url: str, args: argparse.Namespace) -> list[list[str]]:
    token = await prepare(url, parse_size(args.size))
    server = ServerProcess(url, env=RATE_LIMITS_OFF)
    rows = []
    try:
        server.wait_ready()
        for case, variables in CASES:
            body = {"query": BOARD, "variables": variables}
            alone = await closed_loop(server.url, token, body, 1, args.seconds / 2)
            loaded = await closed_loop(server.url, token, body, args.concurrency, args.seconds / 2)
            rows.append([f"{name}: {case}, 1 client", *alone.row("")[1:]])
            rows.append([f"{name}: {case}, {args.concurrency} clients", *loaded.row("")[1:]])
    finally:
        server.stop()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="large", help="opportunities to seed (small, medium, large or N)")
    parser.add_argument("--seconds", type=float, default=10, help="per case, split between 1 and N clients")
    parser.add_argument("--concurrency", type=int, default=10)
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
    print(f"seed size {args.size}; the scoreboard query with every figure and each rep's user")
    print(table(rows, HEADER))


if __name__ == "__main__":
    asyncio.run(main())
