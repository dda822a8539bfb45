"""Sales reports benchmark: the `salesReports` query (funnel, won revenue by person and product, forecast,
partner results; time per channel for users) and `opportunityBoard` through a real server, for several
periods, a team scope and viewers of every role, one client at a time (latency) and N at once.

Like bench/scoreboard.py (whose `prepare` it uses): pass `--database-url` to reuse a seeded database
(migrated first: migration 0010 builds the report aggregates of a database seeded before it), or it
seeds throwaway databases on `--backends`.

    .venv/bin/python bench/reports.py [--size 100000] [--seconds 6] [--concurrency 1] [--backends postgresql]
    .venv/bin/python bench/reports.py --database-url postgresql://postgres@127.0.0.1:5432/seeded100k
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import HEADER, RATE_LIMITS_OFF, ServerProcess, closed_loop, machine, table
from bench.scoreboard import prepare
from gql import ids
from persistence.seed import parse_size

M = "{ amount currency }"
FIGURE = f"{{ deals amount {M} weightedAmount {M} }}"
BODY = f"""periodStart periodEnd eventId missingRates
    funnel {{ stages {{ stage deals amount {M} weightedAmount {M} reached conversion }} won {FIGURE} lost {FIGURE} winRate }}
    wonRevenueByPerson {{ user {{ id name }} deals revenue {M} }}
    wonRevenueByProduct {{ product {{ id name }} deals revenue {M} }}
    forecast {{ deals pipeline {M} weighted {M} months {{ month deals weighted {M} }}
                reps {{ user {{ id }} deals weighted {M} }} teams {{ team {{ id }} deals weighted {M} }} }}
    partnerResults {{ partner {{ id name }} won {FIGURE} open {FIGURE} }}"""
REPORTS = f"""query Reports($period: PeriodInput!, $scope: ReportScopeInput) {{
  salesReports(period: $period, scope: $scope) {{ {BODY} timeByChannel {{ user {{ id }} channel hours }} }}
}}"""
PARTNER_REPORTS = f"""query Reports($period: PeriodInput!, $scope: ReportScopeInput) {{
  salesReports(period: $period, scope: $scope) {{ {BODY} }}
}}"""
BOARD = f"""query Board {{ opportunityBoard(limit: 10) {{ stage totalCount amount {M} weightedAmount {M}
  opportunities {{ id name }} }} }}"""
ALL_TIME = {"period": {"preset": "ALL_TIME"}}


def cases() -> list[tuple[str, str, str, dict]]:
    """(name, viewer, document, variables)"""
    team = {**ALL_TIME, "scope": {"teamId": ids.encode("Team", 1)}}
    return [
        ("reports ALL_TIME, admin", "admin", REPORTS, ALL_TIME),
        ("reports THIS_QUARTER, admin", "admin", REPORTS, {"period": {"preset": "THIS_QUARTER"}}),
        ("reports LAST_7_DAYS, admin", "admin", REPORTS, {"period": {"preset": "LAST_7_DAYS"}}),
        ("reports ALL_TIME, one team, admin", "admin", REPORTS, team),
        ("reports ALL_TIME, director", "director", REPORTS, ALL_TIME),
        ("reports ALL_TIME, rep", "rep", REPORTS, ALL_TIME),
        ("reports ALL_TIME, partner", "partner", PARTNER_REPORTS, ALL_TIME),
        ("opportunityBoard, admin", "admin", BOARD, {}),
        ("opportunityBoard, rep", "rep", BOARD, {}),
    ]


async def run_database(name: str, url: str, args: argparse.Namespace) -> list[list[str]]:
    tokens = await prepare(url, parse_size(args.size))
    server = ServerProcess(url, env=RATE_LIMITS_OFF)
    rows = []
    try:
        server.wait_ready()
        for case, viewer, document, variables in cases():
            body = {"query": document, "variables": variables}
            alone = await closed_loop(server.url, tokens[viewer], body, 1, args.seconds / 2)
            rows.append([f"{name}: {case}, 1 client", *alone.row("")[1:]])
            if args.concurrency > 1:
                loaded = await closed_loop(server.url, tokens[viewer], body, args.concurrency, args.seconds / 2)
                rows.append([f"{name}: {case}, {args.concurrency} clients", *loaded.row("")[1:]])
    finally:
        server.stop()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="large", help="opportunities to seed (small, medium, large or N)")
    parser.add_argument("--seconds", type=float, default=6, help="per case, split between 1 and N clients")
    parser.add_argument("--concurrency", type=int, default=1, help="clients at once (1: latency only)")
    parser.add_argument("--backends", default="postgresql", help="throwaway databases to seed and read")
    parser.add_argument("--database-url", action="append", default=[], help="a database to reuse; repeatable")
    args = parser.parse_args()
    rows: list[list[str]] = []
    if args.database_url:
        for url in args.database_url:
            rows += await run_database(url.split(":", 1)[0], url, args)
    else:
        with tempfile.TemporaryDirectory(prefix="salesgraph-bench-") as folder:
            for backend in args.backends.split(","):
                if backend == "sqlite":
                    rows += await run_database("sqlite", f"sqlite+aiosqlite:///{folder}/bench.sqlite3", args)
                elif backend == "postgresql":
                    from tests.support.pg import PostgresServer

                    server = PostgresServer()
                    server.start()
                    try:
                        rows += await run_database("postgresql", server.create_database("bench"), args)
                    finally:
                        server.stop()
                else:
                    parser.error(f"unknown backend {backend!r}")
    print()
    print(machine())
    print(f"seed size {args.size}; salesReports (every report) and opportunityBoard")
    print(table(rows, HEADER))


if __name__ == "__main__":
    asyncio.run(main())
