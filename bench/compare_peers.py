"""Salesgraph side by side with its peers on one seeded PostgreSQL database, one server process each:

- Salesgraph (`salesgraph serve`, rate limits off);
- PostGraphile 5 on Node 22 (the current generic GraphQL-over-PostgreSQL engine: it compiles each
  query into one SQL statement);
- PostGraphile 4.14 (the engine the earlier comparison used);
- a raw asyncpg + orjson server (bench/raw_server.py: hand-written SQL, no GraphQL, no token): what
  this machine and Python stack can do at all.

Two queries: small (one account by id and its first 10 opportunities) and nested (first 50
accounts → opportunities → quotes → items with product). Before measuring, each peer's answers are
checked to hold the same rows as Salesgraph's (ids, names, stages, amounts, products; PostGraphile
is asked for the accounts an admin sees, without others' private accounts). Then R interleaved
rounds: per round, per query, each peer in turn (the order rotates) gets N concurrent clients
for S seconds. Any answer other than a 200 without GraphQL errors stops the run. The table shows
the medians over the rounds: requests/s, p50 and p99 latency, CPU per request of the server
process and of PostgreSQL (its backends; from /proc), Salesgraph's SQL statements per request
(Server-Timing), and requests/s relative to PostGraphile 5 and to the raw server.

PostGraphile and Node 22 are installed from the npm registry (`npm` is needed) into
~/.cache/salesgraph-bench on first use; the machine's own node is not used.

    .venv/bin/python bench/compare_peers.py [--size 2000] [--seconds 15] [--rounds 3] [--warmup 5]
        [--concurrency 10] [--peers salesgraph,postgraphile5,postgraphile4,raw] [--quick]
        [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    RATE_LIMITS_OFF,
    BackgroundServer,
    BenchError,
    LoadResult,
    ServerProcess,
    check_answer,
    closed_loop,
    free_port,
    machine,
    process_cpu_seconds,
    table,
)
from bench.nested_read import prepare
from bench.queries import NESTED, SMALL
from domain.money import in_minor_units
from gql import ids
from gql.auth import issue_token
from persistence.db import create_engine
from persistence.seed import parse_size

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "salesgraph-bench"
NODE = ("node22", "node@22")
POSTGRAPHILE_5 = ("postgraphile5", "postgraphile@5")
POSTGRAPHILE_4 = ("postgraphile4", "postgraphile@4.14")
# Amber, PostGraphile 5's base preset, offers `condition:` and `orderBy:` only on indexed columns;
# without that plugin it offers them on every column, as PostGraphile 4 does, so both can be asked
# for the accounts an admin sees (`isPrivate: false`) and for Salesgraph's orders.
POSTGRAPHILE_5_CONFIG = """import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
export default { extends: [PostGraphileAmberPreset], disablePlugins: ["PgIndexBehaviorsPlugin"] };
"""

QUERIES = ("small", "nested")
DEFAULTS = {"size": "2000", "seconds": 15.0, "rounds": 3, "warmup": 5.0}
QUICK = {"size": "200", "seconds": 2.0, "rounds": 1, "warmup": 1.0}
PEERS = ("salesgraph", "postgraphile5", "postgraphile4", "raw")
TITLES = {
    "salesgraph": "Salesgraph",
    "postgraphile5": "PostGraphile 5",
    "postgraphile4": "PostGraphile 4",
    "raw": "raw asyncpg + orjson",
}


def postgraphile_queries(pk: str, by_pk: str) -> dict[str, str]:
    """The small and nested documents in PostGraphile's schema: `pk` is the primary key's field
    (`rowId` in 5, `id` in 4), `by_pk` the root field reading an account by it."""
    newest_last = "orderBy: [CREATED_AT_ASC, PRIMARY_KEY_ASC]"
    return {
        "small": f"""query Small($id: Int!) {{
  {by_pk}({pk}: $id) {{ {pk} name country
    opportunitiesByAccountId(first: 10, {newest_last}) {{ nodes {{ {pk} name stage
      estimatedRevenueAmount estimatedRevenueCurrency }} }} }}
}}""",
        "nested": f"""query Nested {{
  allAccounts(first: 50, condition: {{isPrivate: false}}, {newest_last}) {{
    nodes {{
      {pk} name
      opportunitiesByAccountId(first: 100, {newest_last}) {{
        nodes {{
          {pk} name stage estimatedRevenueAmount estimatedRevenueCurrency
          quotesByOpportunityId({newest_last}) {{
            nodes {{
              {pk} name isActive
              quoteItemsByQuoteId(orderBy: [POSITION_ASC, PRIMARY_KEY_ASC]) {{
                nodes {{ {pk} name quantity discountPercent unitPrice currency total
                        productByProductId {{ {pk} code name }} }}
              }}
            }}
          }}
        }}
      }}
    }}
  }}
}}""",
    }


# --- the answers, reduced to the rows they hold, so that the peers' different schemas compare ---


def _money(amount: str | None, currency: str | None) -> tuple[Decimal, str] | None:
    return None if amount is None or currency is None else (in_minor_units(Decimal(amount), currency), currency)


@dataclass(frozen=True)
class Dialect:
    """Where a peer's schema keeps each part of the two answers."""

    pk: Callable[[dict], int]
    account: Callable[[dict], dict]  # the small query's account
    accounts: Callable[[dict], list[dict]]
    opportunities: Callable[[dict], list[dict]]
    quotes: Callable[[dict], list[dict]]
    items: Callable[[dict], list[dict]]
    estimated_revenue: Callable[[dict], tuple[Decimal, str] | None]
    unit_price: Callable[[dict], tuple[Decimal, str] | None]
    total: Callable[[dict], tuple[Decimal, str] | None]
    product: Callable[[dict], dict | None]

    def reduce(self, data: dict, query: str) -> Any:
        """The answer as nested tuples of row keys and values."""

        def opportunity(o: dict) -> tuple:
            return (self.pk(o), o["name"], o["stage"], self.estimated_revenue(o))

        if query == "small":
            account = self.account(data)
            return (
                self.pk(account),
                account["name"],
                account["country"],
                [opportunity(o) for o in self.opportunities(account)],
            )
        return [
            (self.pk(a), a["name"], [(*opportunity(o), self._quotes(o)) for o in self.opportunities(a)])
            for a in self.accounts(data)
        ]

    def _quotes(self, opportunity: dict) -> list[tuple]:
        return [(self.pk(q), q["name"], q["isActive"], self._items(q)) for q in self.quotes(opportunity)]

    def _items(self, quote: dict) -> list[tuple]:
        found = []
        for i in self.items(quote):
            product = self.product(i)
            found.append(
                (
                    self.pk(i),
                    i["name"],
                    Decimal(i["quantity"]),
                    Decimal(i["discountPercent"]),
                    self.unit_price(i),
                    self.total(i),
                    None if product is None else (self.pk(product), product["code"], product["name"]),
                )
            )
        return found


def _money_field(name: str) -> Callable[[dict], tuple[Decimal, str] | None]:
    return lambda node: _money(**node[name]) if node[name] else None


OURS = Dialect(  # Salesgraph's schema; the raw server answers in it too
    pk=lambda node: ids.decode(node["id"])[1],
    account=lambda data: data["node"],
    accounts=lambda data: data["accounts"]["nodes"],
    opportunities=lambda account: account["opportunities"]["nodes"],
    quotes=lambda opportunity: opportunity["quotes"],
    items=lambda quote: quote["items"],
    estimated_revenue=_money_field("estimatedRevenue"),
    unit_price=_money_field("unitPrice"),
    total=_money_field("total"),
    product=lambda item: item["product"],
)


def postgraphile_dialect(pk: str, by_pk: str) -> Dialect:
    return Dialect(
        pk=lambda node: node[pk],
        account=lambda data: data[by_pk],
        accounts=lambda data: data["allAccounts"]["nodes"],
        opportunities=lambda account: account["opportunitiesByAccountId"]["nodes"],
        quotes=lambda opportunity: opportunity["quotesByOpportunityId"]["nodes"],
        items=lambda quote: quote["quoteItemsByQuoteId"]["nodes"],
        estimated_revenue=lambda o: _money(o["estimatedRevenueAmount"], o["estimatedRevenueCurrency"]),
        unit_price=lambda item: _money(item["unitPrice"], item["currency"]),
        total=lambda item: _money(item["total"], item["currency"]),
        product=lambda item: item["productByProductId"],
    )


def shape(reduced: Any, query: str) -> str:
    """What an answer holds: "1 account, 9 opportunities" or accounts/opportunities/quotes/items."""
    if query == "small":
        return f"1 account, {len(reduced[3])} opportunities"
    opportunities = [o for a in reduced for o in a[2]]
    quotes = [q for o in opportunities for q in o[4]]
    items = [i for q in quotes for i in q[3]]
    return f"{len(reduced)}/{len(opportunities)}/{len(quotes)}/{len(items)}"


# --- the peers ---


@dataclass
class Peer:
    key: str
    server: BackgroundServer
    bodies: dict[str, dict]
    dialect: Dialect
    token: str | None = None
    version: str = ""

    @property
    def title(self) -> str:
        return TITLES[self.key]


def npm_install(key: str, package: str) -> Path:
    """The folder under the cache where `package` is installed (npm install on first use)."""
    folder = CACHE / key
    if not (folder / "node_modules" / package.rsplit("@", 1)[0]).is_dir():
        if shutil.which("npm") is None:
            raise SystemExit(f"npm is needed to install {package} for this comparison (or leave it out with --peers)")
        folder.mkdir(parents=True, exist_ok=True)
        print(f"installing {package} from the npm registry into {folder} …", file=sys.stderr, flush=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(folder), package],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return folder


def node22() -> tuple[Path, str]:
    """Node 22 from the npm registry's `node` package (PostGraphile 5 needs Node ≥ 22)."""
    binary = npm_install(*NODE) / "node_modules" / "node" / "bin" / "node"
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    if not version.startswith("v22."):
        raise SystemExit(
            f"{binary} is not Node 22 ({version or 'it does not run'}); remove {CACHE / NODE[0]} and retry"
        )
    return binary, version


def package_version(folder: Path) -> str:
    return json.loads((folder / "node_modules" / "postgraphile" / "package.json").read_text())["version"]


def start_peer(key: str, url: str, token: str, account_id: int, viewer_id: int) -> Peer:
    pg_url = url.replace("postgresql+asyncpg://", "postgresql://")
    ready_graphql = ("/graphql", {"query": "{ __typename }"})
    if key == "salesgraph":
        body = {"query": SMALL, "variables": {"id": ids.encode("Account", account_id)}}
        return Peer(
            key, ServerProcess(url, env=RATE_LIMITS_OFF), {"small": body, "nested": {"query": NESTED}}, OURS, token
        )
    if key == "raw":
        port = free_port()
        command = [sys.executable, str(Path(__file__).with_name("raw_server.py"))]
        command += ["--database-url", pg_url, "--port", str(port), "--viewer-id", str(viewer_id)]
        body = {"query": SMALL, "variables": {"id": ids.encode("Account", account_id)}}
        return Peer(key, BackgroundServer(command, port), {"small": body, "nested": {"query": NESTED}}, OURS)
    node, node_version = node22()
    port = free_port()
    env = {"NODE_ENV": "production", "GRAPHILE_ENV": "production"}
    common = ["-c", pg_url.replace("postgresql://", "postgres://"), "-s", "public", "-p", str(port), "-n", "127.0.0.1"]
    if key == "postgraphile5":
        folder = npm_install(*POSTGRAPHILE_5)
        (folder / "graphile.config.mjs").write_text(POSTGRAPHILE_5_CONFIG)
        command = [
            str(node),
            str(folder / "node_modules/postgraphile/dist/cli-run.js"),
            "-C",
            "graphile.config.mjs",
            *common,
        ]
        pk, by_pk = "rowId", "accountByRowId"
    else:
        folder = npm_install(*POSTGRAPHILE_4)
        command = [str(node), str(folder / "node_modules/postgraphile/cli.js"), *common, "--disable-query-log"]
        pk, by_pk = "id", "accountById"
    documents = postgraphile_queries(pk, by_pk)
    bodies = {
        "small": {"query": documents["small"], "variables": {"id": account_id}},
        "nested": {"query": documents["nested"]},
    }
    server = BackgroundServer(command, port, env=env, cwd=folder, ready=ready_graphql)
    return Peer(
        key,
        server,
        bodies,
        postgraphile_dialect(pk, by_pk),
        version=f"{package_version(folder)} on Node {node_version}",
    )


async def check_same_answers(peers: list[Peer]) -> dict[str, str]:
    """Each peer's answer to each query holds the same rows as the first peer's; returns their shapes."""
    shapes = {}
    async with httpx.AsyncClient(timeout=120) as http:
        for query in QUERIES:
            reference: tuple[Peer, Any] | None = None
            for peer in peers:
                headers = {"Authorization": f"Bearer {peer.token}"} if peer.token else {}
                response = await http.post(peer.server.url + "/graphql", json=peer.bodies[query], headers=headers)
                check_answer(response.status_code, response.content, f"{peer.title} {query}")
                reduced = peer.dialect.reduce(response.json()["data"], query)
                if reference is None:
                    reference = (peer, reduced)
                    shapes[query] = shape(reduced, query)
                elif reduced != reference[1]:
                    raise BenchError(
                        f"{peer.title} and {reference[0].title} answer the {query} query with different rows "
                        f"({shape(reduced, query)} against {shapes[query]}); the comparison would not be fair"
                    )
    return shapes


async def seeded_database(args: argparse.Namespace, stack: list[Callable[[], None]]) -> tuple[str, str]:
    """(SQLAlchemy URL, admin token) of a seeded database: a new PostgreSQL, or --database-url's."""
    if args.database_url:
        engine = create_engine(args.database_url)
        try:
            async with engine.connect() as conn:
                admin = (await conn.exec_driver_sql("SELECT min(id) FROM users WHERE role = 'ADMIN'")).scalar_one()
            token = await issue_token(engine, name="compare_peers", user_id=admin)
        finally:
            await engine.dispose()
        return args.database_url, token
    from tests.support.pg import PostgresServer

    pg = PostgresServer()
    pg.start()
    stack.append(pg.stop)
    url = pg.create_database("compare")
    token = await prepare(url, parse_size(args.size))
    return url, token


def postmaster_of(backend_pid: int) -> int | None:
    """The main PostgreSQL process (the parent of the backend serving `backend_pid`) when that runs
    on this machine, else None (a database elsewhere: its CPU is not measured)."""
    try:
        stat = Path(f"/proc/{backend_pid}/stat").read_text()
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if Path(f"/proc/{parent}/comm").read_text().strip() in ("postgres", "postmaster"):
            return parent
    except (OSError, ValueError):
        pass
    return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", help="opportunities to seed (small, medium, large or N; default 2000)")
    parser.add_argument("--seconds", type=float, help="measured, per query, peer and round (default 15)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3)")
    parser.add_argument("--warmup", type=float, help="seconds of unmeasured load per query and peer first (default 5)")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--peers", default=",".join(PEERS), help="a comma-separated subset of " + ", ".join(PEERS))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: by default 200 opportunities, 1 s of warm-up, 2 s measured, one round",
    )
    parser.add_argument("--database-url", help="an already seeded PostgreSQL database (postgresql+asyncpg://…)")
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    keys = [key.strip() for key in args.peers.split(",") if key.strip()]
    if unknown := set(keys) - set(PEERS):
        parser.error(f"unknown peers {sorted(unknown)}; choose from {', '.join(PEERS)}")

    cleanup: list[Callable[[], None]] = []
    results: dict[tuple[str, str], list[LoadResult]] = defaultdict(list)
    try:
        url, token = await seeded_database(args, cleanup)
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            viewer_id = await conn.fetchval("SELECT min(id) FROM users WHERE role = 'ADMIN'")
            # The visible account with the most opportunities: the small query's account.
            account_id = await conn.fetchval(
                "SELECT a.id FROM accounts a JOIN opportunities o ON o.account_id = a.id WHERE NOT a.is_private "
                "GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1"
            )
            postmaster = postmaster_of(await conn.fetchval("SELECT pg_backend_pid()"))
        finally:
            await conn.close()
        peers = []
        for key in keys:
            peer = start_peer(key, url, token, account_id, viewer_id)
            cleanup.append(peer.server.stop)
            peers.append(peer)
        for peer in peers:
            peer.server.wait_ready()
        shapes = await check_same_answers(peers)
        meters_of = {}
        for peer in peers:
            meters = {"server": peer.server.cpu_seconds}
            if postmaster:
                meters["postgresql"] = lambda: process_cpu_seconds(postmaster)
            meters_of[peer.key] = meters
        for query in QUERIES:  # JIT compilers, plan and statement caches, pools: not measured
            for peer in peers:
                print(f"warm-up: {query}, {peer.title} …", file=sys.stderr, flush=True)
                label = f"{peer.title}, {query} query (warm-up)"
                await closed_loop(
                    peer.server.url, peer.token, peer.bodies[query], args.concurrency, args.warmup, label=label
                )
        for round_number in range(args.rounds):
            order = peers[round_number % len(peers) :] + peers[: round_number % len(peers)]
            for query in QUERIES:
                for peer in order:
                    print(
                        f"round {round_number + 1}/{args.rounds}: {query}, {peer.title} …", file=sys.stderr, flush=True
                    )
                    result = await closed_loop(
                        peer.server.url,
                        peer.token,
                        peer.bodies[query],
                        args.concurrency,
                        args.seconds,
                        meters=meters_of[peer.key],
                        label=f"{peer.title}, {query} query",
                    )
                    results[(peer.key, query)].append(result)
    finally:
        for stop in reversed(cleanup):
            stop()
    print()
    print(report(peers, results, shapes, args))


def _ratio(rates: dict[str, float], key: str, other: str) -> str:
    return f"{rates[key] / rates[other]:.2f}×" if other in rates and other != key else "-"


def report(
    peers: list[Peer],
    results: dict[tuple[str, str], list[LoadResult]],
    shapes: dict[str, str],
    args: argparse.Namespace,
) -> str:
    median = statistics.median
    rows = []
    for query in QUERIES:
        rates = {peer.key: median(r.requests_per_second for r in results[(peer.key, query)]) for peer in peers}
        for peer in peers:
            runs = results[(peer.key, query)]
            rate = rates[peer.key]
            statements = [s for r in runs for s in r.statements]
            rows.append(
                [
                    query,
                    peer.title,
                    f"{rate:,.1f}",
                    " / ".join(f"{r.requests_per_second:,.0f}" for r in runs),
                    f"{median(r.percentile_ms(0.5) for r in runs):.1f}",
                    f"{median(r.percentile_ms(0.99) for r in runs):.1f}",
                    f"{median(r.cpu_ms_per_request('server') for r in runs):.2f}",
                    f"{median(r.cpu_ms_per_request('postgresql') for r in runs):.2f}",
                    f"{statistics.mean(statements):.1f}" if statements else "-",
                    f"{statistics.mean(s for r in runs for s in r.sizes) / 1024:.1f}",
                    _ratio(rates, peer.key, "postgraphile5"),
                    _ratio(rates, peer.key, "raw"),
                ]
            )
    header = [
        "query",
        "server",
        "req/s",
        "req/s per round",
        "p50 ms",
        "p99 ms",
        "server CPU ms/req",
        "PostgreSQL CPU ms/req",
        "SQL/req",
        "KiB/resp",
        "vs PostGraphile 5",
        "vs raw",
    ]
    client = {
        query: max(r.cpu_ms_per_request("client") for peer in peers for r in results[(peer.key, query)])
        for query in QUERIES
    }
    seeded = f"seed size {args.size} opportunities" if not args.database_url else "the given database"
    lines = [
        machine(),
        f"{seeded}; {args.concurrency} concurrent clients, {args.seconds:g} s per query and "
        f"server, {args.rounds} interleaved round(s), medians; one server process each, same PostgreSQL database",
        "versions: " + "; ".join(f"{peer.title} {peer.version}" for peer in peers if peer.version),
        f"answers checked to hold the same rows: small {shapes['small']}; nested (accounts/opportunities/quotes/items) "
        f"{shapes['nested']}",
        f"the load client (this process, on the same cores) used at most {client['small']:.2f} ms of CPU per small "
        f"request and {client['nested']:.2f} ms per nested one",
        table(rows, header),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        uvloop.run(main())
    except BenchError as error:
        raise SystemExit(f"compare_peers: {error}") from None
