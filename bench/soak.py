"""Soak bench with faults: a mixed workload for a set time on two API processes behind HAProxy, with
PostgreSQL and Redis, while Redis is restarted, PostgreSQL is restarted, and one API process is killed
with SIGKILL and started again, on a schedule.

    .venv/bin/python bench/soak.py [--duration 600] [--subscribers 1000] [--readers 4] [--writers 3]
                                   [--outage 5] [--size 2000] [--clients 2]

The workload, all through HAProxy (round robin, /readyz checks, as tests/support/haproxy.py sets it up):
- reads (`--readers` closed-loop clients): a nested read (10 accounts → opportunities → quotes → items
  with product), one account with its first 10 opportunities, a page of opportunities with account
  and owner;
- writes (`--writers` closed-loop clients): the sales workflow (createOpportunity → createQuote from a
  price book → addQuoteItems → markOpportunitySold), and an updateOpportunity of one of the "hot"
  opportunities each writer owns (a new name each time);
- `--subscribers` WebSocket subscribers in `--clients` client processes (bench/soak_client.py): 10%
  `opportunityEvents` as the admin (every event), 1% as a partner (what it may see), 74% `opportunityEvents`
  with `ids:` five hot opportunities, 5% `contractEvents`, 10% the live scoreboard. Each resumes with
  `since` (its last `eventId`) after any disconnect, as the README tells clients to.

The schedule splits `--duration` into four slots: steady; Redis stopped for `--outage` seconds and
started again; PostgreSQL stopped (`pg_ctl -m fast`) and started again; one API process killed with
SIGKILL and started again after `--outage` seconds. A fault's phase lasts until both processes answer
/readyz again; "after …" is the rest of its slot. Per phase: reads and mutations answered (per second,
p50, p99), errors by kind, pushes delivered per second, the delay of events from their commit to a
subscriber (a sample of the admin firehoses), and the subscribers' disconnects and resubscriptions.

At the end, with the load stopped and every subscriber caught up (or after `--settle` seconds): for
every event subscriber, the event ids it received against the committed event log (`outbox_events`)
filtered by what that subscriber may see (its kind, its `ids:`, the partner's visibility): missing,
duplicated, unexpected or out of order; every scoreboard subscriber's last state against the `scoreboard`
query; and lost writes: mutations answered successfully whose effect is not in the database. The bench
exits non-zero when an event is lost or duplicated, a board did not converge, a write was lost, or a
process never recovered.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import soak_client
from bench.common import RATE_LIMITS_OFF, ROOT, KeepAliveConnection, graphql_request, machine, table
from bench.fanout_client import raise_open_files_limit
from bench.mutations import SETUP, STEPS

NESTED = """query Nested { accounts(first: 10, orderBy: {field: CREATED_AT}) { nodes { id name
  opportunities(first: 20) { nodes { id name stage estimatedRevenue { amount currency }
    quotes { id name isActive items { id name quantity total { amount currency } product { id code name } } } } } } } }"""
SMALL = """query Small($id: ID!) { node(id: $id) { ... on Account { id name country
  opportunities(first: 10) { nodes { id name stage estimatedRevenue { amount currency } } } } } }"""
PAGE = """query Page { opportunities(first: 20, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount
  nodes { id name stage account { id name } owner { id name } } } }"""
READS = [("nested", 1), ("small", 4), ("page", 3)]
UPDATE = """mutation($input: UpdateOpportunityInput!) { updateOpportunity(input: $input) {
  ... on OpportunityPayload { opportunity { id name } } ... on UserError { code message } } }"""
LATEST = "{ latestEventId }"

OPPORTUNITY_EVENTS = """subscription Events($since: ID, $ids: [ID!]) { opportunityEvents(since: $since, ids: $ids) {
  eventId at kind opportunityId } }"""
CONTRACT_EVENTS = (
    """subscription Contracts($since: ID) { contractEvents(since: $since) { eventId at kind contractId } }"""
)
BOARD_FIELDS = "eventId openDeals dealsWon dealsLost wonRevenue { amount currency } openPipeline { amount currency }"
BOARD = f"subscription Board {{ scoreboardUpdated(period: {{preset: ALL_TIME}}) {{ {BOARD_FIELDS} }} }}"
BOARD_QUERY = f"{{ scoreboard(period: {{preset: ALL_TIME}}) {{ {BOARD_FIELDS} }} }}"
HOT_PER_WATCHER = 5
REQUEST_TIMEOUT = 30.0


# ---------------------------------------------------------------------------------------------- processes


class Api:
    """`salesgraph serve` on a fixed port (so HAProxy finds it again after a restart)."""

    def __init__(self, name: str, database_url: str, env: dict[str, str], folder: Path) -> None:
        self.name, self.database_url, self.env, self.folder = name, database_url, env, folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = folder / f"{name}.log"

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "salesgraph.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env={**os.environ, "DATABASE_URL": self.database_url, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> bool:
        try:
            return httpx.get(self.url + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _free_port() -> int:
    from bench.common import free_port

    return free_port()


class Clients:
    """The subscriber processes (forked before any event loop or thread exists) and their pipes."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("fork")
        self.pipes, self.processes = [], []
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=soak_client.main, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    async def ask(self, commands: list[tuple]) -> list[Any]:
        for pipe, command in zip(self.pipes, commands):
            pipe.send(command)
        answers = await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in self.pipes))
        return [payload for _name, payload in answers]

    def tell(self, command: tuple) -> None:
        for pipe in self.pipes:
            pipe.send(command)

    def exit(self) -> None:
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.terminate()


# ---------------------------------------------------------------------------------------------- the load


@dataclass
class Phase:
    name: str
    started: float
    ended: float = 0.0


@dataclass
class Record:
    phases: list[Phase] = field(default_factory=list)
    # (start time, latency, "read"/"mutation", error kind or "")
    requests: list[tuple[float, float, str, str]] = field(default_factory=list)

    @property
    def phase(self) -> str:
        return self.phases[-1].name


@dataclass
class Writes:
    """What the writers were told succeeded, and what they tried on the hot opportunities."""

    created: dict[str, str] = field(default_factory=dict)  # opportunity id -> name
    quotes: dict[str, str] = field(default_factory=dict)  # quote id -> opportunity id
    items: dict[str, int] = field(default_factory=dict)  # quote id -> items added
    sold: dict[str, str] = field(default_factory=dict)  # opportunity id -> stage answered
    # hot opportunity id -> [(name, outcome)] in the order sent: "ok", "refused" (typed, nothing
    # written) or "unknown" (no answer: it may or may not have been written)
    renames: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))


class Answer(Exception):
    """A request that did not succeed, with its kind for the tables."""

    def __init__(self, kind: str, written: str = "unknown") -> None:
        super().__init__(kind)
        self.kind = kind
        self.written = written  # "no" when the answer says nothing was written (a typed refusal)


class Channel:
    """One keep-alive connection through the proxy, opened again when it is lost."""

    def __init__(self, url: str, token: str, record: Record) -> None:
        address = urlsplit(url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.url, self.auth, self.record = url, {"Authorization": f"Bearer {token}"}, record
        self.connection: KeepAliveConnection | None = None

    async def call(self, kind: str, query: str, variables: dict | None = None) -> dict:
        started = time.time()
        t0 = time.perf_counter()
        try:
            data = await self._call(query, variables)
        except Answer as answer:
            self.record.requests.append((started, time.perf_counter() - t0, kind, answer.kind))
            raise
        self.record.requests.append((started, time.perf_counter() - t0, kind, ""))
        return data

    async def _call(self, query: str, variables: dict | None) -> dict:
        try:
            if self.connection is None or self.connection.lost is not None:
                self.connection = await asyncio.wait_for(KeepAliveConnection.open(self.host, self.port), 10)
            request = graphql_request(self.url, {"query": query, "variables": variables or {}}, self.auth)
            status, content, _ = await asyncio.wait_for(self.connection.send(request), REQUEST_TIMEOUT)
        except TimeoutError:
            self.close()
            raise Answer("timeout") from None
        except ConnectionRefusedError:
            self.close()
            raise Answer("connection refused", "no") from None
        except (OSError, Exception) as error:
            self.close()
            if isinstance(error, Answer):
                raise
            raise Answer("connection lost") from None
        if status != 200:
            kind = _http_kind(status, content)
            # Not written: refused before anything ran (HAProxy had no server for it, a rate limit). A 503
            # from the server (DATABASE_UNAVAILABLE, TIMEOUT) may follow a commit whose answer was lost.
            raise Answer(kind, "no" if status == 429 or kind == "HTTP 503 from HAProxy" else "unknown")
        body = orjson.loads(content)
        if body.get("errors"):
            code = (body["errors"][0].get("extensions") or {}).get("code", "?")
            raise Answer(f"GraphQL {code}", "no" if code != "INTERNAL_SERVER_ERROR" else "unknown")
        data = body["data"]
        payload = next(iter(data.values()))
        if isinstance(payload, dict) and "code" in payload and "message" in payload:
            raise Answer(f"UserError {payload['code']}", "no")
        return data

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _http_kind(status: int, content: bytes) -> str:
    if content.lstrip().startswith(b"<html>"):
        return f"HTTP {status} from HAProxy"
    try:
        body = orjson.loads(content)
        errors = body.get("errors") or []
        code = (errors[0].get("extensions") or {}).get("code") if errors else None
    except (orjson.JSONDecodeError, AttributeError):
        code = None
    return f"HTTP {status} {code}" if code else f"HTTP {status}"


async def reader(url: str, token: str, record: Record, accounts: list[str], stop: asyncio.Event, n: int) -> None:
    channel = Channel(url, token, record)
    rng = random.Random(n)
    choices = [name for name, weight in READS for _ in range(weight)]
    try:
        while not stop.is_set():
            name = rng.choice(choices)
            try:
                if name == "nested":
                    await channel.call("read", NESTED)
                elif name == "small":
                    await channel.call("read", SMALL, {"id": rng.choice(accounts)})
                else:
                    await channel.call("read", PAGE)
            except Answer:
                await asyncio.sleep(0.2)  # a client's pause before it tries again
    finally:
        channel.close()


async def writer(
    url: str, token: str, record: Record, setup: dict, hot: list[str], writes: Writes, stop: asyncio.Event, n: int
) -> None:
    channel = Channel(url, token, record)
    accounts, book, units = setup["accounts"], setup["book"], setup["units"]
    i = 0
    try:
        while not stop.is_set():
            i += 1
            try:
                await _sale(channel, accounts[(n * 7 + i) % len(accounts)], book, units, writes, f"Soak {n}-{i}", i)
            except Answer:
                await asyncio.sleep(0.2)
            if hot:
                target = hot[i % len(hot)]
                name = f"Hot {target[-6:]} by {n} #{i}"
                try:
                    await channel.call("mutation", UPDATE, {"input": {"id": target, "name": name}})
                    writes.renames[target].append((name, "ok"))
                except Answer as answer:
                    writes.renames[target].append((name, "refused" if answer.written == "no" else "unknown"))
                    await asyncio.sleep(0.2)
    finally:
        channel.close()


async def _sale(channel: Channel, account: str, book: str, units: list[str], writes: Writes, name: str, i: int) -> None:
    opp = (await channel.call("mutation", STEPS["createOpportunity"], {"input": {"name": name, "accountId": account}}))[
        "createOpportunity"
    ]["opportunity"]
    writes.created[opp["id"]] = name
    quote = (
        await channel.call(
            "mutation",
            STEPS["createQuote"],
            {"input": {"opportunityId": opp["id"], "name": "Q", "currency": "EUR", "priceBookId": book}},
        )
    )["createQuote"]["quote"]
    writes.quotes[quote["id"]] = opp["id"]
    items = [{"unitId": u, "quantity": str(1 + (i % 5))} for u in units]
    await channel.call("mutation", STEPS["addQuoteItems"], {"input": {"quoteId": quote["id"], "items": items}})
    writes.items[quote["id"]] = len(items)
    sold = (await channel.call("mutation", STEPS["markOpportunitySold"], {"input": {"id": opp["id"]}}))[
        "markOpportunitySold"
    ]["opportunity"]
    writes.sold[opp["id"]] = sold["stage"]


# ---------------------------------------------------------------------------------------------- the run


async def run(args: argparse.Namespace, clients: Clients, folder: Path) -> int:
    from gql.auth import issue_token
    from persistence.db import create_engine
    from persistence.migrate import upgrade_async
    from persistence.seed import parse_size, seed
    from tests.support.haproxy import HAProxy
    from tests.support.pg import PostgresServer
    from tests.support.redis import RedisServer

    failures: list[str] = []
    pg = PostgresServer()
    pg.start()
    redis = RedisServer(folder)
    redis.start()
    apis: list[Api] = []
    proxy = None
    try:
        url = pg.create_database("soak")
        await upgrade_async(url)
        engine = create_engine(url)
        try:
            summary = await seed(engine, parse_size(args.size), progress=True)
            admin = await issue_token(engine, name="soak admin", user_id=summary.admin_user_id)
            partner = await issue_token(engine, name="soak partner", partner_id=summary.partner_id)
        finally:
            await engine.dispose()
        env = {**RATE_LIMITS_OFF, "BROADCAST_URL": redis.url, "SALESGRAPH_DRAIN_SECONDS": "0"}
        apis = [Api(f"api-{n}", url, env, folder) for n in (1, 2)]
        for api in apis:
            api.start()
        await _until(lambda: all(api.ready() for api in apis), 120, "the API processes did not become ready")
        # Checked as deploy/haproxy.cfg checks: every 2 s, down after 2 failures, up after 2 successes.
        proxy = HAProxy([api.url for api in apis], check="inter 2s fall 2 rise 2", check_timeout="3s").start()
        front = proxy.url
        setup, hot, since = await _prepare(front, admin, args)
        specs = _subscribers(args, admin, partner, hot, since)
        ws_url = front.replace("http", "ws", 1) + "/graphql"
        shares = [specs[k :: len(clients.pipes)] for k in range(len(clients.pipes))]
        t0 = time.monotonic()
        started = await clients.ask([("start", ws_url, share, 50) for share in shares])
        print(
            f"{sum(s['connected'] for s in started)} subscribers subscribed in {time.monotonic() - t0:.1f} s",
            flush=True,
        )

        record, writes, stop = Record(), Writes(), asyncio.Event()

        def phase(name: str) -> None:
            now = time.time()
            if record.phases:
                record.phases[-1].ended = now
            record.phases.append(Phase(name, now))
            clients.tell(("phase", name))
            print(f"{datetime.now(UTC):%H:%M:%S} phase: {name}", flush=True)

        phase("steady")
        hot_of = {n: hot[n :: args.writers] for n in range(args.writers)}
        tasks = [
            asyncio.create_task(reader(front, admin, record, setup["accounts"], stop, n)) for n in range(args.readers)
        ] + [
            asyncio.create_task(writer(front, admin, record, setup, hot_of[n], writes, stop, n))
            for n in range(args.writers)
        ]

        async def redis_fault() -> None:
            await asyncio.to_thread(redis.stop)
            await asyncio.sleep(args.outage)
            await asyncio.to_thread(redis.start)

        async def pg_fault() -> None:
            await asyncio.to_thread(pg.halt)
            await asyncio.sleep(args.outage)
            await asyncio.to_thread(pg.resume)

        async def api_fault() -> None:
            await asyncio.to_thread(apis[0].kill)
            await asyncio.sleep(args.outage)
            apis[0].start()

        faults = {"redis": ("redis restart", redis_fault), "postgresql": ("postgresql restart", pg_fault)}
        faults["api"] = ("api SIGKILL", api_fault)
        schedule = [faults[name] for name in args.faults.split(",") if name]
        slot = args.duration / (len(schedule) + 1)
        begin = time.monotonic()
        await asyncio.sleep(slot)
        for k, (name, fault) in enumerate(schedule, start=1):
            phase(name)
            await fault()
            try:
                await _until(lambda: all(api.ready() for api in apis), 120, "")
            except TimeoutError:
                failures.append(f"{name}: the API processes were not ready again within 120 s")
            phase(f"after {name}")
            await asyncio.sleep(max(0.0, begin + slot * (k + 1) - time.monotonic()))
        stop.set()
        await asyncio.gather(*tasks)
        phase("settle")

        report = await _settle_and_check(args, clients, url, front, admin, partner, hot, since, summary, failures)
        record.phases[-1].ended = time.time()
        lost = await _lost_writes(url, writes)
        _print(args, record, report, writes, lost, failures, started)
        if lost:
            failures.append(f"{len(lost)} lost writes")
        return 1 if failures else 0
    finally:
        if proxy is not None:
            if (proxy.folder / "haproxy.log").exists():
                (folder / "haproxy.log").write_bytes((proxy.folder / "haproxy.log").read_bytes())
            proxy.stop()
        for api in apis:
            api.stop()
        redis.stop()
        pg.stop()


async def _until(condition: Any, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise TimeoutError(message)
        await asyncio.sleep(0.2)


async def _prepare(front: str, admin: str, args: argparse.Namespace) -> tuple[dict, list[str], int]:
    """Accounts, a price book and its units for the sales; the hot opportunities; the event id the
    subscribers start after."""
    async with httpx.AsyncClient(base_url=front, headers={"Authorization": f"Bearer {admin}"}, timeout=60) as http:
        data = (await http.post("/graphql", json={"query": SETUP})).json()["data"]
        setup = {
            "accounts": [a["id"] for a in data["accounts"]["nodes"]],
            "book": data["priceBooks"]["nodes"][0]["id"],
            "units": [e["unit"]["id"] for e in data["priceBooks"]["nodes"][0]["entries"]][:3],
        }
        hot = []
        for n in range(args.hot):
            answer = await http.post(
                "/graphql",
                json={
                    "query": STEPS["createOpportunity"],
                    "variables": {
                        "input": {"name": f"Hot {n}", "accountId": setup["accounts"][n % len(setup["accounts"])]}
                    },
                },
            )
            hot.append(answer.json()["data"]["createOpportunity"]["opportunity"]["id"])
        since = int((await http.post("/graphql", json={"query": LATEST})).json()["data"]["latestEventId"])
    return setup, hot, since


def _subscribers(args: argparse.Namespace, admin: str, partner: str, hot: list[str], since: int) -> list[dict]:
    n = args.subscribers
    counts = {"all": n // 10, "partner": max(1, n // 100), "contracts": n // 20, "board": n // 10}
    counts["watch"] = n - sum(counts.values())
    specs = []
    rng = random.Random(7)
    for kind, count in counts.items():
        for k in range(count):
            if kind == "all":
                spec = {"token": admin, "query": OPPORTUNITY_EVENTS, "variables": {}, "timed": k % 10 == 0}
            elif kind == "partner":
                spec = {"token": partner, "query": OPPORTUNITY_EVENTS, "variables": {}}
            elif kind == "watch":
                spec = {
                    "token": admin,
                    "query": OPPORTUNITY_EVENTS,
                    "variables": {"ids": rng.sample(hot, HOT_PER_WATCHER)},
                }
            elif kind == "contracts":
                spec = {"token": admin, "query": CONTRACT_EVENTS, "variables": {}}
            else:
                spec = {"token": admin, "query": BOARD, "variables": {}, "resumes": False}
            specs.append({"kind": kind, "since": since, **spec})
    rng.shuffle(specs)
    return specs


async def _expected(
    url: str, specs_kinds: list[tuple[str, dict]], since: int, partner_id: int
) -> list[list[int] | None]:
    """Per subscriber, the ids of the committed events it may see, in order (None for a board)."""
    from sqlalchemy import select

    from gql import ids as global_ids
    from gql.schema.contracts import CONTRACT_EVENT_TYPES
    from gql.schema.subscriptions import OPPORTUNITY_EVENT_TYPES
    from persistence import reads, tables
    from persistence.db import create_engine
    from persistence.outbox import event_message
    from persistence.visibility import KEPT_ROW, PARTNER, Viewer

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = list(
                await conn.execute(
                    select(tables.outbox_events)
                    .where(tables.outbox_events.c.position > since)
                    .order_by(tables.outbox_events.c.position)
                )
            )
            events = [event_message(row) for row in rows]
            viewer = Viewer(PARTNER, partner_id=partner_id)
            visible: dict[tuple[str, int], bool] = {}
            partner_sees = []
            for event in events:
                if event["type"] not in OPPORTUNITY_EVENT_TYPES:
                    continue
                kept = (event.get("data") or {}).get(KEPT_ROW)
                if kept is not None:
                    seen = await reads.kept_row_visible(conn, event["entityType"], kept, viewer)
                else:
                    key = (event["entityType"], event["entityId"])
                    if key not in visible:
                        visible[key] = await reads.entity_visible(conn, key[0], key[1], viewer)
                    seen = visible[key]
                if seen:
                    partner_sees.append(event["id"])
    finally:
        await engine.dispose()
    opportunity = [e["id"] for e in events if e["type"] in OPPORTUNITY_EVENT_TYPES]
    contract = [e["id"] for e in events if e["type"] in CONTRACT_EVENT_TYPES]
    expected: list[list[int] | None] = []
    for kind, variables in specs_kinds:
        if kind == "all":
            expected.append(opportunity)
        elif kind == "partner":
            expected.append(partner_sees)
        elif kind == "contracts":
            expected.append(contract)
        elif kind == "watch":
            wanted = {global_ids.decode_as(g, "Opportunity") for g in variables["ids"]}
            expected.append(
                [e["id"] for e in events if e["type"] in OPPORTUNITY_EVENT_TYPES and e["entityId"] in wanted]
            )
        else:
            expected.append(None)
    return expected


async def _settle_and_check(
    args,
    clients: Clients,
    url: str,
    front: str,
    admin: str,
    partner: str,
    hot: list[str],
    since: int,
    summary,
    failures,
) -> dict:
    """Wait until every subscriber has what it may see (or `--settle` seconds), then compare."""
    shares_kinds = None
    deadline = time.monotonic() + args.settle
    board_now = None
    while True:
        statuses = await clients.ask([("status",)] * len(clients.pipes))
        if shares_kinds is None:
            shares_kinds = await clients.ask([("kinds",)] * len(clients.pipes))
        flat_kinds = [k for share in shares_kinds for k in share]
        flat_status = [s for share in statuses for s in share]
        expected = await _expected(url, flat_kinds, since, summary.partner_id)
        async with httpx.AsyncClient(base_url=front, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as http:
            try:
                board_now = (await http.post("/graphql", json={"query": BOARD_QUERY})).json()["data"]["scoreboard"]
            except (httpx.HTTPError, KeyError, TypeError):
                board_now = None
        behind = 0
        for (received, last, board), want in zip(flat_status, expected):
            if want is None:
                behind += _figures(board) != _figures(board_now)
            elif received < len(want) or (want and last != want[-1]):
                behind += 1
        if behind == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    reports = await clients.ask([("report",)] * len(clients.pipes))
    subscribers = [s for r in reports for s in r["subscribers"]]
    result: dict[str, Counter] = defaultdict(Counter)
    for (kind, ids, board, subscriptions), want in zip(subscribers, expected):
        row = result[kind]
        row["subscribers"] += 1
        row["subscriptions"] += subscriptions
        if want is None:
            row["converged"] += _figures(board) == _figures(board_now)
            continue
        got = list(ids)
        row["committed"] += len(want)
        row["delivered"] += len(got)
        wanted, seen = set(want), set(got)
        row["missing"] += len(wanted - seen)
        if got == want[: len(got)]:  # behind: what it has is exactly the start of what it may see
            row["not yet arrived"] += len(want) - len(got)
        row["duplicated"] += len(got) - len(seen)
        row["unexpected"] += len(seen - wanted)
        row["out of order"] += sum(1 for a, b in zip(got, got[1:]) if b <= a)
        row["subscribers equal"] += got == want
    return {"events": result, "reports": reports, "board": board_now}


def _figures(board: dict | None) -> Any:
    if board is None:
        return None
    return {k: v for k, v in board.items() if k != "eventId"}


async def _lost_writes(url: str, writes: Writes) -> list[str]:
    """Mutations answered successfully whose effect is not in the database."""
    from sqlalchemy import func, select

    from gql import ids as global_ids
    from persistence import tables
    from persistence.db import create_engine

    lost: list[str] = []
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            opportunities = {
                row.id: row
                for row in await conn.execute(
                    select(tables.opportunities.c.id, tables.opportunities.c.name, tables.opportunities.c.stage)
                )
            }
            quotes = {
                row.id: row.opportunity_id
                for row in await conn.execute(select(tables.quotes.c.id, tables.quotes.c.opportunity_id))
            }
            items = dict(
                (
                    await conn.execute(
                        select(tables.quote_items.c.quote_id, func.count()).group_by(tables.quote_items.c.quote_id)
                    )
                ).all()
            )
    finally:
        await engine.dispose()

    def pk(gid: str, kind: str) -> int:
        return global_ids.decode_as(gid, kind)

    for gid, name in writes.created.items():
        row = opportunities.get(pk(gid, "Opportunity"))
        if row is None or row.name != name:
            lost.append(f"createOpportunity {gid} {name!r}: {'missing' if row is None else row.name}")
    for gid, opp in writes.quotes.items():
        if quotes.get(pk(gid, "Quote")) != pk(opp, "Opportunity"):
            lost.append(f"createQuote {gid}: missing")
    for gid, count in writes.items.items():
        if items.get(pk(gid, "Quote"), 0) != count:
            lost.append(f"addQuoteItems {gid}: {items.get(pk(gid, 'Quote'), 0)} items, {count} answered")
    for gid, stage in writes.sold.items():
        row = opportunities.get(pk(gid, "Opportunity"))
        if row is None or row.stage != stage:
            lost.append(f"markOpportunitySold {gid}: stage {row.stage if row else None}, {stage} answered")
    for gid, attempts in writes.renames.items():
        last_ok = max((k for k, (_, outcome) in enumerate(attempts) if outcome == "ok"), default=None)
        if last_ok is None:
            continue
        may_be = {attempts[last_ok][0]} | {name for name, outcome in attempts[last_ok + 1 :] if outcome == "unknown"}
        row = opportunities.get(pk(gid, "Opportunity"))
        if row is None or row.name not in may_be:
            lost.append(
                f"updateOpportunity {gid}: name {row.name if row else None!r}, {attempts[last_ok][0]!r} answered"
            )
    return lost


# ---------------------------------------------------------------------------------------------- the tables


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def _print(args, record: Record, report: dict, writes: Writes, lost: list[str], failures: list[str], started) -> None:
    reports = report["reports"]
    print()
    print(machine())
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"(the machine is shared: figures are contended)"
    )
    print(
        f"{args.duration:.0f} s, seed {args.size}, 2 API processes behind HAProxy, PostgreSQL, Redis; "
        f"{args.readers} readers, {args.writers} writers (closed loop), {args.subscribers} subscribers in "
        f"{len(reports)} client processes; outages of {args.outage:g} s"
    )
    rows = []
    for phase in record.phases:
        seconds = max(phase.ended - phase.started, 1e-9)
        inside = [r for r in record.requests if phase.started <= r[0] < phase.ended]
        row = [phase.name, f"{seconds:.1f}"]
        for kind in ("read", "mutation"):
            ok = [r[1] for r in inside if r[2] == kind and not r[3]]
            row += [f"{len(ok) / seconds:.1f}", f"{_pct(ok, 0.5) * 1000:.0f}", f"{_pct(ok, 0.99) * 1000:.0f}"]
        errors = Counter(f"{r[2]}: {r[3]}" for r in inside if r[3])
        row.append(", ".join(f"{k} ×{v}" for k, v in errors.most_common()) or "-")
        pushes = sum(r["pushes"].get(phase.name, 0) for r in reports)
        lags = [x for r in reports for x in r["lags"].get(phase.name, [])]
        notes: Counter[str] = Counter()
        for r in reports:
            notes.update(r["notes"].get(phase.name, {}))
        row += [
            f"{pushes / seconds:.0f}",
            f"{_pct(lags, 0.5) * 1000:.0f}/{_pct(lags, 0.99) * 1000:.0f}" if lags else "-",
            ", ".join(f"{k} ×{v}" for k, v in notes.most_common()) or "-",
        ]
        rows.append(row)
    header = [
        "phase",
        "s",
        "reads/s",
        "read p50 ms",
        "read p99 ms",
        "mutations/s",
        "mut p50 ms",
        "mut p99 ms",
        "errors by kind",
        "pushes/s",
        "event delay p50/p99 ms",
        "subscribers: disconnects, resubscriptions",
    ]
    print(table(rows, header))
    print()
    events = report["events"]
    rows = []
    for kind in ("all", "partner", "watch", "contracts"):
        row = events.get(kind)
        if row is None:
            continue
        rows.append(
            [
                kind,
                str(row["subscribers"]),
                str(row["committed"]),
                str(row["delivered"]),
                str(row["missing"]),
                str(row["missing"] - row["not yet arrived"]),
                str(row["duplicated"]),
                str(row["unexpected"]),
                str(row["out of order"]),
                f"{row['subscribers equal']}/{row['subscribers']}",
                str(row["subscriptions"] - row["subscribers"]),
            ]
        )
        if row["subscribers equal"] != row["subscribers"]:
            failures.append(
                f"{kind}: {row['subscribers'] - row['subscribers equal']} subscribers did not get exactly the committed events"
            )
    print(
        table(
            rows,
            [
                "subscribers",
                "n",
                "committed (sum)",
                "delivered (sum)",
                "missing",
                "of which in gaps (lost)",
                "duplicated",
                "unexpected",
                "out of order",
                "delivered = committed",
                "resubscriptions",
            ],
        )
    )
    board = events.get("board")
    if board:
        print(
            f"scoreboard: {board['converged']}/{board['subscribers']} subscribers' last state equals the scoreboard query"
        )
        if board["converged"] != board["subscribers"]:
            failures.append(f"scoreboard: {board['subscribers'] - board['converged']} subscribers did not converge")
    print(
        f"writes answered successfully: {len(writes.created)} createOpportunity, {len(writes.quotes)} createQuote, "
        f"{len(writes.items)} addQuoteItems, {len(writes.sold)} markOpportunitySold, "
        f"{sum(o == 'ok' for a in writes.renames.values() for _, o in a)} updateOpportunity; lost writes: {len(lost)}"
    )
    for line in lost[:20]:
        print("  lost:", line)
    for failure in failures:
        print("FAILED:", failure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600: 10 minutes)")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--hot", type=int, default=60, help="opportunities the writers rename, watched by subscribers")
    parser.add_argument("--outage", type=float, default=5, help="seconds each fault lasts")
    parser.add_argument(
        "--faults", default="redis,postgresql,api", help="the faults, in order (redis, postgresql, api; '' for none)"
    )
    parser.add_argument("--settle", type=float, default=120, help="at most this long for subscribers to catch up")
    parser.add_argument("--size", default="2000", help="opportunities to seed (small, medium, large or N)")
    parser.add_argument("--clients", type=int, default=2, help="subscriber client processes")
    args = parser.parse_args()
    raise_open_files_limit()
    clients = Clients(args.clients)  # forked before any thread or event loop
    folder = Path(tempfile.mkdtemp(prefix="salesgraph-soak-"))
    try:
        code = asyncio.run(run(args, clients, folder))
    finally:
        clients.exit()
    print(f"the logs of the API processes and HAProxy: {folder}")
    raise SystemExit(code)


if __name__ == "__main__":
    main()
