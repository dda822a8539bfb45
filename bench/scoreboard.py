"""Scoreboard benchmark: the `scoreboard` query through a real server, for several periods, a team,
viewers of every role and a bounded page, one client at a time (latency) and N at once (throughput).

Seeding is the slow part (100,000 opportunities take minutes, 1,000,000 about 15 minutes on a
2-core machine), so a seeded database can be reused: pass `--database-url` (repeatable) and the
bench migrates it (migration 0007 builds the scoreboard aggregates of a database seeded before it),
seeds it only when it is empty, and reads it (it writes nothing but four API tokens). Without `--database-url` it seeds
throwaway databases on `--backends` (SQLite in a temporary folder, PostgreSQL from its binaries).

    .venv/bin/python bench/scoreboard.py [--size large] [--seconds 10] [--concurrency 10]
                                         [--backends sqlite,postgresql]
    .venv/bin/python bench/scoreboard.py --database-url postgresql://postgres@127.0.0.1:5432/seeded1m
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bench.common import HEADER, RATE_LIMITS_OFF, ServerProcess, closed_loop, machine, table
from gql import ids
from gql.auth import issue_token
from persistence import tables
from persistence.db import create_engine
from persistence.migrate import upgrade_async
from persistence.seed import ADMIN_EMAIL, parse_size, seed

MONEY = "{ amount }"
FIGURES = f"""periodStart periodEnd asOf timeLeft changesAt eventId
    wonRevenue {{ amount currency }} dealsWon winRate averageDealSize {MONEY} openPipeline {MONEY} openDeals
    goal {MONEY} progress projected {MONEY} onTrack"""
REP = f"rank user {{ id name }} wonRevenue {MONEY} goal {MONEY} progress projected {MONEY} onTrack dealsWon openPipeline {MONEY}"
EVERY_REP = f"""query Board($period: PeriodInput!, $teamId: ID) {{
  scoreboard(period: $period, teamId: $teamId) {{ {FIGURES} reps {{ {REP} }} }}
}}"""
TOP_20 = f"""query Top($period: PeriodInput!, $teamId: ID) {{
  scoreboard(period: $period, teamId: $teamId) {{
    {FIGURES}
    ranking(first: 20) {{ totalCount pageInfo {{ endCursor hasNextPage }} nodes {{ {REP} }} }}
    viewerRep {{ {REP} }}
  }}
}}"""

ALL_TIME = {"period": {"preset": "ALL_TIME"}}


async def prepare(url: str, size: int) -> dict[str, str]:
    """Migrate (building the aggregates if the database predates them), seed an empty database, and
    issue tokens: the admin, the director of team 1, the rep with the most opportunities, a partner."""
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            seeded = (await conn.execute(select(func.count()).select_from(tables.opportunities))).scalar_one()
        if not seeded:
            await seed(engine, size, progress=True)
        u, o = tables.users.c, tables.opportunities.c
        async with engine.connect() as conn:
            admin = (await conn.execute(select(u.id).where(u.email == ADMIN_EMAIL))).scalar_one()
            director = (
                await conn.execute(select(u.id).where(u.role == "SALES_DIRECTOR", u.team_id == 1).limit(1))
            ).scalar_one()
            rep = (
                await conn.execute(select(o.owner_id).group_by(o.owner_id).order_by(func.count().desc()).limit(1))
            ).scalar_one()
            partner = (await conn.execute(select(func.min(tables.partners.c.id)))).scalar_one()
            count = (await conn.execute(select(func.count()).select_from(tables.opportunities))).scalar_one()
        print(f"{count:,} opportunities", file=sys.stderr)
        return {
            "admin": await issue_token(engine, name="bench admin", user_id=admin),
            "director": await issue_token(engine, name="bench director", user_id=director),
            "rep": await issue_token(engine, name="bench rep", user_id=rep),
            "partner": await issue_token(engine, name="bench partner", partner_id=partner),
        }
    finally:
        await engine.dispose()


def cases() -> list[tuple[str, str, str, dict]]:
    """(name, viewer, document, variables)"""
    team = {"period": {"preset": "ALL_TIME"}, "teamId": ids.encode("Team", 1)}
    return [
        ("ALL_TIME, every rep", "admin", EVERY_REP, ALL_TIME),
        ("ALL_TIME, top 20", "admin", TOP_20, ALL_TIME),
        ("THIS_MONTH, top 20", "admin", TOP_20, {"period": {"preset": "THIS_MONTH"}}),
        ("THIS_QUARTER, top 20", "admin", TOP_20, {"period": {"preset": "THIS_QUARTER"}}),
        ("LAST_7_DAYS, top 20", "admin", TOP_20, {"period": {"preset": "LAST_7_DAYS"}}),
        ("LAST_24_HOURS, top 20", "admin", TOP_20, {"period": {"preset": "LAST_24_HOURS"}}),
        ("ALL_TIME, one team, top 20", "admin", TOP_20, team),
        ("ALL_TIME, director, top 20", "director", TOP_20, ALL_TIME),
        ("ALL_TIME, rep, top 20", "rep", TOP_20, ALL_TIME),
        ("ALL_TIME, partner, top 20", "partner", TOP_20, ALL_TIME),
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
    parser.add_argument("--seconds", type=float, default=10, help="per case, split between 1 and N clients")
    parser.add_argument("--concurrency", type=int, default=10, help="clients at once (1: latency only)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="throwaway databases to seed and read")
    parser.add_argument(
        "--database-url",
        action="append",
        default=[],
        help="a database to reuse (seeded when empty, never written otherwise); repeatable; replaces --backends",
    )
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
    print(
        f"seed size {args.size}; the scoreboard query with its figures and every rep, or the top 20 and the viewer's row"
    )
    print(table(rows, HEADER))


if __name__ == "__main__":
    asyncio.run(main())
