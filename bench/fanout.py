"""Fan-out benchmark: N WebSocket subscribers to one live scoreboard (`scoreboardUpdated`, ALL_TIME,
the same document and variables for all), on one server process and then on two sharing events
through Redis; one mutation that moves a figure (createOpportunity with an estimated revenue, over
HTTP), and the time from its HTTP response to each subscriber receiving the new scoreboard; then a
burst of mutations at a steady rate for the pushes delivered per second; and the server's memory
per idle subscription (VmRSS with N idle subscribers minus VmRSS before connecting, / N).

    .venv/bin/python bench/fanout.py [--subscribers 1000,5000] [--processes 1,2] [--backend postgresql]
                                     [--clients 2] [--rounds 3] [--rate 20] [--duration 5] [--size 2000]
                                     [--viewers 50] [--per-viewer 20]

Distinct viewers (--viewers, 0 to skip): that many users of every role (the admin, every director,
partners and reps with deals), each with --per-viewer subscriptions to the ALL_TIME board in dollars,
on one process: one exchange rate change (which moves every board with euros in it) and the time from
its response to each subscriber's push; then the burst of createOpportunity while they all watch, for
the mutations' own latency (live boards must not slow the writes).

The subscribers live in --clients client processes (bench/fanout_client.py, `websockets` + asyncio);
each notes time.time() when a push arrives, and the bench compares it with time.time() when the
mutation's response arrived (one machine: one clock). With --processes 2, subscriber i connects to
server i % 2, the single mutation goes to the first server, and the burst alternates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import fanout_client
from bench.common import ROOT, free_port, machine, table

MONEY = "{ amount currency }"
DOCUMENT = f"""subscription Dashboard($period: PeriodInput!) {{
  scoreboardUpdated(period: $period) {{
    periodStart periodEnd asOf timeLeft changesAt currency eventId
    wonRevenue {MONEY} dealsWon dealsLost winRate averageDealSize {MONEY} openPipeline {MONEY} openDeals
    goal {MONEY} progress projected {MONEY} onTrack
    reps {{ rank user {{ id name }} wonRevenue {MONEY} dealsWon openPipeline {MONEY} openDeals
            goal {MONEY} progress projected {MONEY} onTrack }}
  }}
}}"""
VARIABLES = {"period": {"preset": "ALL_TIME"}}
VIEWER_DOCUMENT = DOCUMENT.replace("($period: PeriodInput!)", "($period: PeriodInput!, $currency: String)").replace(
    "scoreboardUpdated(period: $period)", "scoreboardUpdated(period: $period, currency: $currency)"
)
VIEWER_VARIABLES = {"period": {"preset": "ALL_TIME"}, "currency": "USD"}
RATE = """mutation($input: SetExchangeRateInput!) { setExchangeRate(input: $input) {
  __typename ... on UserError { code message } } }"""
BOARD = "{ scoreboard(period: {preset: ALL_TIME}) { openDeals openPipeline { amount currency } } }"
ACCOUNT = "{ accounts(first: 1) { nodes { id } } }"
CREATE = """mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) {
  __typename ... on UserError { code message } } }"""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Server:
    """`salesgraph serve` (one uvicorn process) on a free port, started after the open-files limit
    was raised so that it inherits it."""

    def __init__(self, database_url: str, env: dict[str, str], root: Path = ROOT) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self.log = tempfile.NamedTemporaryFile(prefix="salesgraph-fanout-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "salesgraph.cli", "serve", "--port", str(self.port)],
            cwd=root,
            # `root`: the code to serve (this checkout, or --baseline's for an A/B run)
            env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(root), **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout} s; see {self.log.name}")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class Clients:
    """The client processes (forked before any event loop or thread exists) and their pipes."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("fork")
        self.pipes = []
        self.processes = []
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=fanout_client.main, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    def __len__(self) -> int:
        return len(self.pipes)

    async def ask(self, commands: list[tuple] | tuple) -> list[Any]:
        """Send each client its command (or the same one to all); return their answers."""
        if isinstance(commands, tuple):
            commands = [commands] * len(self.pipes)
        for pipe, command in zip(self.pipes, commands):
            pipe.send(command)
        answers = await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in self.pipes))
        return [payload for _name, payload in answers]

    def exit(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("exit",))
            except OSError:
                pass
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.terminate()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


@dataclass
class Scenario:
    subscribers: int
    processes: int
    name: str = ""
    root: Path = ROOT
    tokens: list[str] = field(default_factory=list)
    connected: int = 0
    failures: list[str] = field(default_factory=list)
    connect_seconds: float = 0.0
    push_bytes: int = 0
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    rounds: list[list[str]] = field(default_factory=list)
    burst: list[str] = field(default_factory=list)
    last_of_all_ms: list[float] = field(default_factory=list)


async def create_opportunity(http: httpx.AsyncClient, server: Server, account_id: str, n: int) -> None:
    response = await http.post(
        server.url + "/graphql",
        json={
            "query": CREATE,
            "variables": {
                "input": {
                    "name": f"Fan-out bench {n}",
                    "accountId": account_id,
                    "estimatedRevenue": {"amount": f"{1000 + n}.00", "currency": "EUR"},
                }
            },
        },
    )
    result = response.json()
    if (
        response.status_code != 200
        or "errors" in result
        or result["data"]["createOpportunity"]["__typename"] != "OpportunityPayload"
    ):
        raise RuntimeError(f"createOpportunity failed: {response.status_code} {result}")


async def warm_up(server: Server, token: str) -> None:
    """One subscriber opened, served and closed, so that what the first connection of a process
    costs (imports, caches, the topic's first computation) is not counted per subscription."""
    from websockets.asyncio.client import connect

    async with connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],
        max_size=None,  # type: ignore[list-item]
        proxy=None,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        await ws.recv()
        await ws.send(
            json.dumps({"type": "subscribe", "id": "1", "payload": {"query": DOCUMENT, "variables": VARIABLES}})
        )
        first = await ws.recv()
        if '"errors"' in str(first):
            raise RuntimeError(f"the subscription fails: {first}")


async def run_scenario(
    scenario: Scenario, database_url: str, token: str, redis_url: str | None, clients: Clients, args: argparse.Namespace
) -> Scenario:
    # Every subscriber uses the one bench token: the per-token rate limit (600 requests a minute by
    # default) would refuse most of them, so the bench switches it off.
    env = {
        "BROADCAST_URL": redis_url if scenario.processes > 1 else "memory://",
        "SALESGRAPH_RATE_REQUESTS_PER_MINUTE": "0",
        "SALESGRAPH_RATE_COST_PER_MINUTE": "0",
    }
    servers = [Server(database_url, env, scenario.root) for _ in range(scenario.processes)]
    n = scenario.subscribers
    try:
        for server in servers:
            server.wait_ready()
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            account_id = (await http.post(servers[0].url + "/graphql", json={"query": ACCOUNT})).json()["data"][
                "accounts"
            ]["nodes"][0]["id"]
            for server in servers:
                await http.post(server.url + "/graphql", json={"query": BOARD})
                await warm_up(server, token)
            await asyncio.sleep(1.0)
            scenario.rss_before_kib = sum(s.rss_kib() for s in servers)

            urls = [servers[i % len(servers)].ws_url for i in range(n)]
            # --admins K: the subscribers are K admin users' (each its own token), as K people of one
            # visibility class watching the same board; otherwise all share the bench's one token.
            tokens = scenario.tokens or [token]
            everyone = [tokens[i % len(tokens)] for i in range(n)]
            in_flight = max(1, args.in_flight // len(clients))
            started = time.monotonic()
            reports = await clients.ask(
                [
                    (
                        "connect",
                        urls[w :: len(clients)],
                        everyone[w :: len(clients)],
                        DOCUMENT,
                        VARIABLES,
                        args.compression,
                        in_flight,
                    )
                    for w in range(len(clients))
                ]
            )
            scenario.connect_seconds = time.monotonic() - started
            scenario.connected = sum(r["connected"] for r in reports)
            scenario.failures = [e for r in reports for e in r["errors"]]
            scenario.push_bytes = max(r["push_bytes"] for r in reports)
            if scenario.connected == 0:
                raise RuntimeError(f"no subscriber connected: {scenario.failures}")
            await asyncio.sleep(args.idle)
            scenario.rss_after_kib = sum(s.rss_kib() for s in servers)

            profilers = [profile(server, args.profile, scenario) for server in servers] if args.profile else []
            for round_ in range(1, args.rounds + 1):
                await clients.ask(("mark",))
                cpu = sum(s.cpu_seconds() for s in servers)
                sent = time.time()
                await create_opportunity(http, servers[0], account_id, round_)
                answered = time.time()
                waited = await clients.ask(("wait", 1, args.timeout))
                cpu = sum(s.cpu_seconds() for s in servers) - cpu
                latencies = sorted(t - answered for w in waited for t in w["times"] if t is not None)
                received = len(latencies)
                closed = [c for w in waited for c in w["closed"]]
                if closed:
                    scenario.failures += closed
                last = latencies[-1] if latencies else float("nan")
                if received == scenario.connected:
                    scenario.last_of_all_ms.append(last * 1000)
                scenario.rounds.append(
                    [
                        scenario.name,
                        str(round_),
                        ms(answered - sent),
                        ms(latencies[0]) if latencies else "-",
                        ms(pct(latencies, 0.5)),
                        ms(pct(latencies, 0.99)),
                        ms(last),
                        f"{received}/{scenario.connected}",
                        ms(cpu),
                        ms(max(w["cpu"] for w in waited)),
                    ]
                )
                await asyncio.sleep(1.0)
            for profiler in profilers:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(60)

            await clients.ask(("mark",))
            cpu = sum(s.cpu_seconds() for s in servers)
            refused: list[tuple[float, float, str]] = []  # (an overloaded server stops a mutation after 10 s)
            answered_ok = await burst(http, servers, account_id, args.rate, args.duration, refused)
            mutations = answered_ok + [(sent, answered) for sent, answered, _ in refused]
            scenario.failures += [f"mutation: {reason}" for _, _, reason in refused[:3]]
            board = (await http.post(servers[0].url + "/graphql", json={"query": BOARD})).json()["data"]["scoreboard"]
            expected = (
                '"openPipeline":'
                + json.dumps(board["openPipeline"], separators=(",", ":"))
                + f'"openDeals":{board["openDeals"]}'
            )
            settled = await clients.ask(("converge", expected, args.timeout))
            cpu = sum(s.cpu_seconds() for s in servers) - cpu
            arrivals = [a for s in settled for each in s["arrivals"] for a in each]
            per_subscriber = [len(each) for s in settled for each in s["arrivals"]]
            converged = sum(c for s in settled for c in s["converged"])
            first_sent = min(m[0] for m in mutations)
            last_answered = max(m[1] for m in mutations)
            lags = [max(each) - last_answered for s in settled for each in s["arrivals"] if each]
            window = (max(arrivals) - first_sent) if arrivals else float("nan")
            mutation_ms = [m[1] - m[0] for m in mutations]
            scenario.burst = [
                scenario.name,
                f"{len(mutations)} in {args.duration:g} s" + (f" ({len(refused)} refused)" if refused else ""),
                ms(pct(mutation_ms, 0.5)),
                ms(pct(mutation_ms, 0.99)),
                str(len(arrivals)),
                f"{len(arrivals) / window:,.0f}",
                f"{min(per_subscriber, default=0)}-{max(per_subscriber, default=0)}",
                ms(pct(lags, 0.5)) if lags else "-",
                ms(max(lags)) if lags else "-",
                f"{converged}/{scenario.connected}",
                f"{cpu / window * 100:.0f}%",
            ]
            scenario.failures += [c for s in settled for c in s["closed"]]
    finally:
        try:
            await clients.ask(("close",))
        finally:
            for server in servers:
                server.stop()
    return scenario


async def admin_tokens(database_url: str, count: int) -> list[str]:
    """Tokens of `count` new admin users (one each): people of one visibility class, whose boards are equal."""
    from sqlalchemy import insert

    from domain.enums import Role
    from domain.people import User
    from gql.auth import issue_token
    from persistence import tables
    from persistence.db import create_engine
    from persistence.rows import to_row

    engine = create_engine(database_url)
    try:
        made = []
        async with engine.begin() as conn:
            stamp = time.time_ns()
            for n in range(count):
                user = User(name=f"Bench admin {n}", email=f"bench.admin.{stamp}.{n}@example.com", role=Role.ADMIN)
                made.append(
                    (
                        await conn.execute(insert(tables.users).values(**to_row(user)).returning(tables.users.c.id))
                    ).scalar_one()
                )
        return [await issue_token(engine, name=f"bench admin {n}", user_id=u) for n, u in enumerate(made)]
    finally:
        await engine.dispose()


async def viewer_tokens(database_url: str, count: int) -> list[str]:
    """Tokens of `count` distinct viewers: the admin, every director, up to a fifth partners with deals,
    the rest reps with the most deals (each board then has euros the dollar's rate converts)."""
    from sqlalchemy import func, select

    from gql.auth import issue_token
    from persistence import tables
    from persistence.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            u, o = tables.users.c, tables.opportunities.c
            deals = func.count(o.id)
            people = list(
                await conn.execute(
                    select(u.id, u.role)
                    .outerjoin(tables.opportunities, o.owner_id == u.id)
                    .group_by(u.id, u.role)
                    .order_by(deals.desc(), u.id)
                )
            )
            partners = [
                r.partner_id
                for r in await conn.execute(
                    select(o.partner_id)
                    .where(o.partner_id.is_not(None))
                    .group_by(o.partner_id)
                    .order_by(func.count().desc(), o.partner_id)
                )
            ]
        chosen: list[dict[str, int]] = [{"user_id": r.id} for r in people if r.role == "ADMIN"][:1]
        chosen += [{"user_id": r.id} for r in people if r.role == "SALES_DIRECTOR"][: max(1, count // 5)]
        chosen += [{"partner_id": p} for p in partners[: max(1, count // 5)]]
        chosen += [{"user_id": r.id} for r in people if r.role == "SALES_REP"][: max(0, count - len(chosen))]
        return [await issue_token(engine, name=f"viewer {n}", **who) for n, who in enumerate(chosen[:count])]
    finally:
        await engine.dispose()


@dataclass
class Viewers:
    viewers: int
    per_viewer: int
    name: str = ""
    root: Path = ROOT
    connected: int = 0
    failures: list[str] = field(default_factory=list)
    rounds: list[list[str]] = field(default_factory=list)
    burst: list[str] = field(default_factory=list)


async def run_viewers(
    database_url: str, token: str, clients: Clients, args: argparse.Namespace, name: str = "", root: Path = ROOT
) -> Viewers:
    """Distinct viewers watching one board shape: one read per event, each viewer's board cut from it."""
    result = Viewers(args.viewers, args.per_viewer, name, root)
    env = {
        "BROADCAST_URL": "memory://",
        "SALESGRAPH_RATE_REQUESTS_PER_MINUTE": "0",
        "SALESGRAPH_RATE_COST_PER_MINUTE": "0",
    }
    server = Server(database_url, env, root)
    try:
        server.wait_ready()
        tokens = await viewer_tokens(database_url, args.viewers)
        result.viewers = len(tokens)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            account_id = (await http.post(server.url + "/graphql", json={"query": ACCOUNT})).json()["data"]["accounts"][
                "nodes"
            ][0]["id"]
            await warm_up(server, token)
            every = [t for t in tokens for _ in range(args.per_viewer)]
            in_flight = max(1, args.in_flight // len(clients))
            reports = await clients.ask(
                [
                    (
                        "connect",
                        [server.ws_url] * len(every[w :: len(clients)]),
                        every[w :: len(clients)],
                        VIEWER_DOCUMENT,
                        VIEWER_VARIABLES,
                        args.compression,
                        in_flight,
                    )
                    for w in range(len(clients))
                ]
            )
            result.connected = sum(r["connected"] for r in reports)
            result.failures = [e for r in reports for e in r["errors"]]
            if result.connected == 0:
                raise RuntimeError(f"no viewer connected: {result.failures}")
            await asyncio.sleep(1.0)
            for round_ in range(1, args.rounds + 1):
                await clients.ask(("mark",))
                cpu = server.cpu_seconds()
                sent = time.time()
                response = await http.post(
                    server.url + "/graphql",
                    json={"query": RATE, "variables": {"input": {"currency": "USD", "rate": f"0.{80 + round_}"}}},
                )
                answered = time.time()
                if response.json()["data"]["setExchangeRate"]["__typename"] != "ExchangeRatePayload":
                    raise RuntimeError(f"setExchangeRate failed: {response.text}")
                waited = await clients.ask(("wait", 1, args.timeout))
                cpu = server.cpu_seconds() - cpu
                latencies = sorted(t - answered for w in waited for t in w["times"] if t is not None)
                # pushes delivered per second: all of them over the time from the mutation sent to the last one
                rate = len(latencies) / (latencies[-1] + answered - sent) if latencies else 0.0
                result.rounds.append(
                    [
                        f"{result.name}{result.viewers} viewers x {args.per_viewer}",
                        str(round_),
                        ms(answered - sent),
                        ms(latencies[0]) if latencies else "-",
                        ms(pct(latencies, 0.5)),
                        ms(latencies[-1]) if latencies else "-",
                        f"{len(latencies)}/{result.connected}",
                        f"{rate:,.0f}",
                        ms(cpu),
                    ]
                )
                await asyncio.sleep(1.0)
            await clients.ask(("mark",))
            cpu = server.cpu_seconds()
            failed: list[tuple[float, float, str]] = []
            mutations = await burst(http, [server], account_id, args.rate, args.duration, failed)
            every = mutations + [(sent, answered) for sent, answered, _ in failed]
            window = max(m[1] for m in every) - min(m[0] for m in every)
            cpu = server.cpu_seconds() - cpu
            mutation_ms = [m[1] - m[0] for m in every]  # a refused one counts with the time it took
            result.burst = [
                f"{result.name}{result.viewers} viewers x {args.per_viewer}",
                f"{len(every)} in {args.duration:g} s",
                str(len(failed)),
                ms(pct(mutation_ms, 0.5)),
                ms(pct(mutation_ms, 0.99)),
                ms(max(mutation_ms)),
                f"{cpu / window * 100:.0f}%",
            ]
            result.failures += [f"mutation: {reason}" for _, _, reason in failed[:3]]
    finally:
        try:
            await clients.ask(("close",))
        finally:
            server.stop()
    return result


def profile(server: Server, folder: str, scenario: Scenario) -> subprocess.Popen:
    """py-spy sampling the server while the single mutations fan out (collapsed stacks, for
    flamegraph.pl or speedscope); stopped with SIGINT after the last round."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = Path(folder) / f"fanout-{scenario.subscribers}-{scenario.processes}p-{server.port}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [spy, "record", "--pid", str(server.process.pid), "--rate", "200", "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # py-spy attaches
    return process


async def burst(
    http: httpx.AsyncClient,
    servers: list[Server],
    account_id: str,
    rate: float,
    seconds: float,
    failed: list[tuple[float, float, str]] | None = None,
) -> list[tuple[float, float]]:
    """createOpportunity at a steady rate (open loop: a slow answer does not slow the next one),
    alternating between the servers; returns (sent, answered) per mutation. With `failed`, a refused
    mutation (e.g. stopped after 10 s) is noted there with its times instead of ending the bench."""
    done: list[tuple[float, float]] = []

    async def one(k: int) -> None:
        sent = time.time()
        try:
            await create_opportunity(http, servers[k % len(servers)], account_id, 1000 + k)
        except RuntimeError as error:
            if failed is None:
                raise
            failed.append((sent, time.time(), str(error)[:200]))
            return
        done.append((sent, time.time()))

    tasks = []
    start = time.monotonic()
    for k in range(max(1, int(rate * seconds))):
        await asyncio.sleep(max(0.0, start + k / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(k)))
    await asyncio.gather(*tasks)
    return done


async def prepare_database(url: str, size: str) -> str:
    from bench.nested_read import prepare
    from persistence.seed import parse_size

    return await prepare(url, parse_size(size))


async def run(args: argparse.Namespace, clients: Clients) -> tuple[list[Scenario], list[Viewers]]:
    from contextlib import ExitStack

    scenarios: list[Scenario] = []
    viewers: list[Viewers] = []
    # An A/B run: each scenario on --baseline's code, then on this checkout's, against the same database.
    codes = [("A (baseline): ", Path(args.baseline)), ("B (this): ", ROOT)] if args.baseline else [("", ROOT)]
    with tempfile.TemporaryDirectory(prefix="salesgraph-fanout-") as folder, ExitStack() as stack:
        if args.backend == "sqlite":
            database_url = f"sqlite+aiosqlite:///{folder}/fanout.sqlite3"
        else:
            from tests.support.pg import PostgresServer

            database_url = stack.enter_context(PostgresServer()).create_database("fanout")
        token = await prepare_database(database_url, args.size)
        redis_url = None
        if max(args.processes) > 1:
            from tests.support.redis import RedisServer

            redis = RedisServer(Path(folder))
            redis.start()
            stack.callback(redis.stop)
            redis_url = redis.url
        for processes in args.processes:
            for n in args.subscribers:
                for label, root in codes:
                    who = f", {args.admins} admins" if args.admins else ""
                    scenario = Scenario(
                        n,
                        processes,
                        name=f"{label}{n:,} subscribers{who}, {processes} process{'es + Redis' if processes > 1 else ''}",
                        root=root,
                        tokens=await admin_tokens(database_url, args.admins) if args.admins else [],
                    )
                    print(f"… {scenario.name}", file=sys.stderr, flush=True)
                    scenarios.append(await run_scenario(scenario, database_url, token, redis_url, clients, args))
        if args.viewers > 0:
            for label, root in codes:
                print(f"… {label}{args.viewers} distinct viewers x {args.per_viewer}", file=sys.stderr, flush=True)
                viewers.append(await run_viewers(database_url, token, clients, args, label, root))
    return scenarios, viewers


def report_viewers(runs: list[Viewers], args: argparse.Namespace) -> None:
    viewers = runs[0]
    print()
    print(
        f"Distinct viewers: {viewers.viewers} viewers (admin, directors, partners, reps) x {viewers.per_viewer} "
        "subscriptions to the ALL_TIME board in USD, one process; one setExchangeRate(USD) -> every board "
        "with euros moves; ms from the mutation's HTTP response to a subscriber receiving the push"
    )
    print(
        table(
            [r for v in runs for r in v.rounds],
            ["scenario", "round", "mutation ms", "first", "p50", "last", "received", "pushes/s", "server CPU ms"],
        )
    )
    print()
    print(f"createOpportunity at {args.rate:g}/s for {args.duration:g} s while they watch (open loop)")
    print(
        table([v.burst for v in runs], ["scenario", "mutations", "refused", "p50 ms", "p99 ms", "max ms", "server CPU"])
    )
    failures = [f for v in runs for f in v.failures]
    if failures:
        print(f"\nfailures ({len(failures)}): " + "; ".join(failures[:6]))


def report(scenarios: list[Scenario], args: argparse.Namespace, clients: int, open_files: int) -> None:
    print()
    print(machine())
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; backend {args.backend}, seed size {args.size}; "
        f"{clients} client process(es) (websockets + asyncio), permessage-deflate "
        f"{'offered (as browsers do)' if args.compression else 'off'}; open-files limit {open_files}; "
        f"push {scenarios[0].push_bytes if scenarios else 0:,} bytes of JSON"
    )
    print()
    print(
        "One mutation (createOpportunity over HTTP) -> every subscriber; ms from the mutation's HTTP response "
        "to a subscriber receiving the push"
    )
    print(
        table(
            [r for s in scenarios for r in s.rounds],
            [
                "scenario",
                "round",
                "mutation ms",
                "first",
                "p50",
                "p99",
                "last",
                "received",
                "server CPU ms",
                "client CPU ms (busiest)",
            ],
        )
    )
    print()
    print(
        f"Burst: createOpportunity at {args.rate:g}/s for {args.duration:g} s, open loop (pushes are coalesced to "
        "one per 200 ms per process); pushes/s = pushes received by all subscribers / (last arrival - first "
        "mutation sent); last push = ms from the last mutation's response to a subscriber's last push; "
        "converged = subscribers whose last push equals the scoreboard query afterwards"
    )
    print(
        table(
            [s.burst for s in scenarios],
            [
                "scenario",
                "mutations",
                "mutation p50 ms",
                "p99 ms",
                "pushes",
                "pushes/s",
                "per subscriber",
                "last push p50 ms",
                "max ms",
                "converged",
                "server CPU",
            ],
        )
    )
    print()
    print("Memory: server VmRSS with every subscriber connected and idle, minus before connecting")
    rows = []
    for s in scenarios:
        per = (s.rss_after_kib - s.rss_before_kib) / max(1, s.connected)
        rows.append(
            [
                s.name,
                f"{s.connected:,}",
                f"{s.connect_seconds:.1f} s",
                f"{s.rss_before_kib / 1024:.0f}",
                f"{s.rss_after_kib / 1024:.0f}",
                f"{per:.1f}",
            ]
        )
    print(
        table(
            rows,
            ["scenario", "connected", "connecting took", "RSS before MiB", "RSS idle MiB", "KiB per idle subscription"],
        )
    )
    failures = [f for s in scenarios for f in s.failures]
    if failures:
        print(f"\nfailures ({len(failures)} shown at most 3 per client): " + "; ".join(failures[:6]))
    print()
    for s in scenarios:
        if s.subscribers >= 5000 and s.last_of_all_ms:
            worst = max(s.last_of_all_ms)
            per = (s.rss_after_kib - s.rss_before_kib) / max(1, s.connected)
            print(
                f"targets, {s.name}: last subscriber {worst:.0f} ms after the response at worst "
                f"({'met' if worst <= 200 else 'NOT met'}: 200 ms); {per:.1f} KiB per idle subscription "
                f"({'met' if per < 20 else 'NOT met'}: 20 KiB)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", default="1000,5000", help="comma-separated numbers of subscribers")
    parser.add_argument(
        "--processes",
        default="1,2",
        help="comma-separated numbers of server processes (more than 1 shares events through a Redis it starts)",
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--size", default="2000", help="opportunities to seed (small, medium, large or N)")
    parser.add_argument("--clients", type=int, default=2, help="client processes holding the subscribers")
    parser.add_argument(
        "--in-flight",
        type=int,
        default=200,
        help="WebSocket handshakes in flight at a time over all clients (uvicorn's backlog is 2048)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="single mutations, one second apart")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="a checkout of other code (e.g. `git archive <commit> | tar -x -C DIR`): each scenario runs on it, "
        "then on this one, against the same database (an A/B run)",
    )
    parser.add_argument(
        "--admins",
        type=int,
        default=0,
        help="spread the subscribers over this many admin users (new, one token each: equal boards); 0: one token",
    )
    parser.add_argument("--viewers", type=int, default=50, help="distinct viewers of one board (0: skip)")
    parser.add_argument("--per-viewer", type=int, default=20, help="subscriptions each distinct viewer holds")
    parser.add_argument("--rate", type=float, default=20, help="mutations per second in the burst")
    parser.add_argument("--duration", type=float, default=5, help="seconds of the burst")
    parser.add_argument("--idle", type=float, default=2, help="seconds connected and idle before reading the RSS")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for a push before giving up")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="sample each server with py-spy during the single "
        "mutations and write collapsed stacks to DIR (pip install py-spy)",
    )
    parser.add_argument(
        "--no-compression",
        dest="compression",
        action="store_false",
        help="do not offer permessage-deflate (browsers offer it; the server then compresses per socket)",
    )
    args = parser.parse_args()
    args.subscribers = [int(x.replace("_", "")) for x in args.subscribers.split(",") if x.strip()]
    args.processes = [int(x) for x in args.processes.split(",")]

    if args.profile and not (shutil.which("py-spy") or Path(sys.executable).with_name("py-spy").exists()):
        parser.error("--profile needs py-spy (.venv/bin/pip install py-spy)")
    open_files = fanout_client.raise_open_files_limit()  # before any server or client process starts
    needed = max([*args.subscribers, args.viewers * args.per_viewer]) + 200
    if open_files < needed:
        parser.error(f"the open-files limit is {open_files} (hard limit); {needed} are needed")
    clients = Clients(args.clients)  # forked now: no event loop or thread exists yet
    try:
        scenarios, viewers = asyncio.run(run(args, clients))
    finally:
        clients.exit()
    report(scenarios, args, len(clients), open_files)
    if viewers:
        report_viewers(viewers, args)


if __name__ == "__main__":
    main()
