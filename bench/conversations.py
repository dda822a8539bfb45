"""Conversation intelligence benchmark.

1. Sentiment accuracy per language of the built-in scorer on a labelled evaluation set written by hand
   (bench/data/sentiment_eval.tsv: 60 customer utterances of sales calls per language, 20 per label),
   with the confusion of each language and what always answering NEUTRAL would score.
2. Ingestion of a 60-minute call: a WebVTT transcript of an hour (about 700 cues, two sellers and two
   customers) posted to `POST /ingest/conversations` of a real server process on a seeded database,
   `--rounds` times: latency (p50, p99, max), SQL statements per request and the segments stored.
3. The home page (`conversationInsights`, every section) on a database seeded with `--insights` conversations
   each (e.g. 1000,100000), as the admin and as a sales rep, for ALL_TIME, THIS_MONTH and LAST_7_DAYS, `--rounds`
   times each: p50 and p99, SQL statements; then push latency: a subscriber of the page (a real WebSocket)
   and a WebVTT call posted over HTTP, from the post's answer to the push that shows it. Beyond `--distinct`
   (2,000) conversations only that many transcripts are analysed, the others being copies of them at other
   times of the history (bulk-inserted, with COPY on PostgreSQL); `--keep DIR` keeps the seeded databases
   (SQLite files and a PostgreSQL cluster in DIR) and a later run reuses them instead of seeding again.

    .venv/bin/python bench/conversations.py [--backends sqlite,postgresql] [--rounds 20] [--size small]
        [--insights 1000,100000] [--keep DIR] [--distinct 2000] [--skip-ingestion]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ServerProcess, machine, table
from domain.enums import Language, SentimentLabel
from domain.sentiment import builtin_scorer
from gql import ids
from gql.auth import issue_token
from persistence.db import create_engine
from persistence.migrate import upgrade_async
from persistence.seed import parse_size, seed
from persistence.seed_conversations import LINES

EVAL = Path(__file__).resolve().parent / "data" / "sentiment_eval.tsv"
LABELS = [SentimentLabel.POSITIVE, SentimentLabel.NEUTRAL, SentimentLabel.NEGATIVE]


def evaluation() -> list[tuple[Language, SentimentLabel, str]]:
    rows = []
    for line in EVAL.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        language, label, text = line.split("\t")
        rows.append((Language(language), SentimentLabel(label), text))
    return rows


def accuracy() -> tuple[list[list[str]], list[str]]:
    scorer = builtin_scorer()
    rows, notes = [], []
    data = evaluation()
    for language in Language:
        cases = [(label, text) for lang, label, text in data if lang is language]
        confusion: Counter[tuple[SentimentLabel, SentimentLabel]] = Counter()
        for label, text in cases:
            confusion[(label, scorer.score(text, language).label)] += 1
        right = sum(n for (truth, guess), n in confusion.items() if truth is guess)
        recall = [
            f"{sum(n for (t, g), n in confusion.items() if t is label and g is label)}/"
            f"{sum(n for (t, _), n in confusion.items() if t is label)}"
            for label in LABELS
        ]
        neutral = sum(1 for label, _ in cases if label is SentimentLabel.NEUTRAL)
        rows.append(
            [
                language.value,
                str(len(cases)),
                f"{100 * right / len(cases):.1f} %",
                *recall,
                f"{100 * neutral / len(cases):.1f} %",
            ]
        )
        matrix = " ".join(
            f"{t.value[:3]}→{g.value[:3]}:{n}" for (t, g), n in sorted(confusion.items()) if t is not g and n
        )
        notes.append(f"{language.value} mistakes: {matrix or 'none'}")
    return rows, notes


def hour_long_call(seed: int = 7) -> str:
    """A WebVTT of one hour: cues of 3-8 s, a speaker holding the word for 1-4 cues, Danish lines of the
    demo's sales calls with their brands and competitors filled in."""
    rng = random.Random(seed)
    lines = LINES[Language.DA]
    sellers, customers = ["Kari Nordmann", "Per Berg"], ["Ole Hansen", "Mette Holm"]
    slots = {
        "company": "Fjord Energi AS",
        "seller": "Kari",
        "customer": "Ole",
        "product": "Salesgraph Cloud",
        "competitor": "Contoso 360",
        "brand": "MakerHouse",
    }
    cues, at, seller_turn = [], 0.0, True
    while at < 3590:
        speakers = sellers if seller_turn else customers
        who = speakers[0] if rng.random() < 0.8 else speakers[1]
        parts = ["ask", "pitch"] if seller_turn else ["need", "good", "bad"]
        for _ in range(rng.randint(1, 4)):
            length = rng.uniform(3, 8)
            if at + length > 3600:
                break
            text = rng.choice(lines[rng.choice(parts)]).format(**slots)
            cues.append(f"{_stamp(at)} --> {_stamp(at + length)}\n<v {who}>{text}")
            at += length + rng.uniform(0.1, 0.8)
        seller_turn = not seller_turn
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


def _stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02}:{ms // 60_000 % 60:02}:{ms // 1000 % 60:02}.{ms % 1000:03}"


async def prepare(url: str, size: int) -> tuple[str, int, int]:
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        summary = await seed(engine, size)
        token = await issue_token(engine, name="bench", user_id=summary.admin_user_id)
    finally:
        await engine.dispose()
    return token, summary.admin_user_id, summary.counts.get("conversations", 0)


async def ingestion(name: str, url: str, args: argparse.Namespace) -> list[str]:
    token, admin, seeded = await prepare(url, parse_size(args.size))
    call = hour_long_call()
    cues = call.count(" --> ")
    query = [
        ("kind", "ONLINE_MEETING"),
        ("startedAt", "2026-06-01T10:00:00Z"),
        ("seller", f"Kari Nordmann <{ids.encode('User', admin)}>"),
        ("seller", "Per Berg"),
        ("customer", "Ole Hansen"),
        ("customer", "Mette Holm"),
    ]
    server = ServerProcess(url, env={"SALESGRAPH_REANALYSIS": "off", "SALESGRAPH_SCHEDULER": "off"})
    latencies, statements = [], []
    try:
        server.wait_ready()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/vtt"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120) as http:
            warm = await http.post("/ingest/conversations", content=call.encode(), params=query)  # lexicons load
            warm.raise_for_status()
            for _ in range(args.rounds):
                started = time.perf_counter()
                response = await http.post("/ingest/conversations", content=call.encode(), params=query)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()
                timing = response.headers.get("server-timing", "")
                if 'desc="' in timing:
                    statements.append(int(timing.split('desc="', 1)[1].split(" ", 1)[0]))
    finally:
        server.stop()
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000  # noqa: E731
    return [
        name,
        str(seeded),
        str(cues),
        str(len(latencies)),
        f"{pct(0.5):.0f}",
        f"{pct(0.99):.0f}",
        f"{latencies[-1] * 1000:.0f}",
        f"{sum(statements) / len(statements):.0f}" if statements else "-",
        f"{len(call.encode()) / 1024:.0f}",
    ]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


PAGE = """query($period: PeriodInput!) { conversationInsights(period: $period) {
  customers { callsAnalysed { value previous change series { startsOn value } } averageSentiment { value }
    belowAverage { value } positivePercent { value } neutralPercent { value } negativePercent { value }
    keywords { name mentions change } competitors { name mentions change } newNames { name mentions } }
  bestSellers { averageWonRevenue topSellers { id } top { calls talkPercent switchesPerHour }
    team { calls talkPercent switchesPerHour emailHours callHours meetingHours }
    bestPracticeKeywords { name topPerCall restPerCall } overview { user { id } wonRevenue figures { calls } } }
  recording { callsRecorded { value series { startsOn value } } hoursRecorded { value }
    callsMentioningKeywords { value } callsMentioningCompetitors { value } } } }"""
LIVE = "subscription($period: PeriodInput!) { conversationInsightsUpdated(period: $period) { recording { callsRecorded { value } } } }"


async def insights(name: str, url: str, conversations: int, args: argparse.Namespace) -> list[list[str]]:
    """The page's latency per caller and period, and the push latency of a recorded call."""
    from sqlalchemy import func, select

    from persistence import tables
    from tests.support.ws import GraphQLSocket

    await upgrade_async(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            # (the seed's calls only: a run's pushes record more)
            seeded = tables.conversations.c.external_id.like("demo-%")
            there = (await conn.execute(select(func.count()).where(seeded))).scalar_one()
            admin_id = (await conn.execute(select(func.min(tables.users.c.id)))).scalar()
        if there == conversations and admin_id is not None:  # a database this bench seeded before (--keep)
            print(f"{name}: reusing the database with {there:,} conversations", file=sys.stderr)
        else:
            if there:
                raise SystemExit(f"{url} holds {there} conversations, not {conversations}: use another --keep")
            started = time.perf_counter()
            distinct = args.distinct if conversations > args.distinct else None
            summary = await seed(engine, "small", conversations=conversations, distinct_conversations=distinct)
            admin_id = summary.admin_user_id
            print(f"{name}: seeded {conversations:,} conversations in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)  # fmt: skip
        admin = await issue_token(engine, name="bench", user_id=admin_id)
        async with engine.connect() as conn:
            rep_id = (
                await conn.execute(select(tables.users.c.id).where(tables.users.c.role == "SALES_REP").limit(1))
            ).scalar_one()
        rep = await issue_token(engine, name="bench rep", user_id=rep_id)
    finally:
        await engine.dispose()
    rows = []
    server = ServerProcess(url, env={"SALESGRAPH_REANALYSIS": "off", "SALESGRAPH_SCHEDULER": "off"})
    try:
        server.wait_ready()
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            for who, token in (("admin", admin), ("rep", rep)):
                for preset in ("ALL_TIME", "THIS_MONTH", "LAST_7_DAYS"):
                    body = {"query": PAGE, "variables": {"period": {"preset": preset}}}
                    headers = {"Authorization": f"Bearer {token}"}
                    (await http.post("/graphql", json=body, headers=headers)).raise_for_status()  # warm
                    latencies, statements = [], set()
                    for _ in range(args.rounds):
                        started = time.perf_counter()
                        response = await http.post("/graphql", json=body, headers=headers)
                        latencies.append(time.perf_counter() - started)
                        assert "errors" not in response.json(), response.text[:500]
                        timing = response.headers.get("server-timing", "")
                        if 'desc="' in timing:
                            statements.add(int(timing.split('desc="', 1)[1].split(" ", 1)[0]))
                    rows.append(
                        [name, f"{conversations:,}", who, preset, f"{_pct(latencies, 0.5):.0f}",
                         f"{_pct(latencies, 0.99):.0f}", ",".join(map(str, sorted(statements)))]
                    )  # fmt: skip
            # Push latency: one subscriber of this month's page; a call recorded now.
            socket = await GraphQLSocket.open(server.url, admin)
            op = await socket.subscribe(LIVE, {"period": {"preset": "THIS_MONTH"}})
            await socket.next(op, 120)
            call = hour_long_call()
            query = [
                ("kind", "PHONE_CALL"),
                ("seller", f"Kari Nordmann <{ids.encode('User', admin_id)}>"),
                ("seller", "Per Berg"),
                ("customer", "Ole Hansen"),
                ("customer", "Mette Holm"),
            ]
            pushes = []
            for _ in range(max(3, args.rounds // 4)):
                now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                response = await http.post(
                    "/ingest/conversations",
                    content=call.encode(),
                    params=[*query, ("startedAt", now)],
                    headers={"Authorization": f"Bearer {admin}", "Content-Type": "text/vtt"},
                )
                response.raise_for_status()
                answered = time.perf_counter()
                await socket.next(op, 120)
                pushes.append(time.perf_counter() - answered)
            await socket.close()
            pushes.sort()
            rows.append(
                [name, f"{conversations:,}", "push", "THIS_MONTH", f"{pushes[len(pushes) // 2] * 1000:.0f}",
                 f"{pushes[-1] * 1000:.0f}", f"{len(pushes)} calls"]
            )  # fmt: skip
    finally:
        server.stop()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=20, help="60-minute calls posted per backend")
    parser.add_argument("--size", default="small", help="opportunities to seed first (small, medium, large or N)")
    parser.add_argument("--skip-ingestion", action="store_true", help="no ingestion of a 60-minute call")
    parser.add_argument("--insights", default="", help="conversations to seed for the home page (e.g. 1000,100000)")
    parser.add_argument(
        "--keep",
        default="",
        help="a folder for the home page's seeded databases (SQLite files, a PostgreSQL cluster): kept, and used "
        "again by a later run with the same --insights instead of seeding again",
    )
    parser.add_argument(
        "--distinct",
        type=int,
        default=2_000,
        help="transcripts analysed when seeding more conversations than this; the others are copies of them at "
        "other times (seeding 100,000 analysed transcripts took about half an hour on PostgreSQL)",
    )
    args = parser.parse_args()
    rows, notes = accuracy()
    print(machine())
    print()
    print(f"Sentiment of customer utterances ({EVAL.relative_to(Path(__file__).resolve().parents[1])})")
    print(
        table(
            rows,
            ["language", "segments", "accuracy", "positive found", "neutral found", "negative found", "always NEUTRAL"],
        )
    )
    for note in notes:
        print(note)
    if args.insights:
        await run_insights(args, parser)
    if args.skip_ingestion:
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="salesgraph-bench-") as folder:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results.append(await ingestion("sqlite", f"sqlite+aiosqlite:///{folder}/bench.sqlite3", args))
            elif backend == "postgresql":
                from tests.support.pg import PostgresServer

                pg = PostgresServer()
                pg.start()
                try:
                    results.append(await ingestion("postgresql", pg.create_database("bench"), args))
                finally:
                    pg.stop()
            else:
                parser.error(f"unknown backend {backend!r}")
    print()
    print(
        "Ingestion of a 60-minute call (POST /ingest/conversations, text/vtt; recorded and analysed in one transaction)"
    )
    print(
        table(
            results,
            ["backend", "seeded calls", "cues", "posts", "p50 ms", "p99 ms", "max ms", "SQL/req", "KiB/post"],
        )
    )


async def run_insights(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    rows = []
    for count in [int(n) for n in args.insights.split(",")]:
        with tempfile.TemporaryDirectory(prefix="salesgraph-bench-") as temporary:
            folder = Path(args.keep) if args.keep else Path(temporary)
            folder.mkdir(parents=True, exist_ok=True)
            for backend in args.backends.split(","):
                if backend == "sqlite":
                    url = f"sqlite+aiosqlite:///{folder}/insights-{count}.sqlite3"
                    rows += await insights("sqlite", url, count, args)
                elif backend == "postgresql":
                    from tests.support.pg import PostgresServer

                    pg = PostgresServer(keep=str(folder / "postgresql") if args.keep else None)
                    pg.start()
                    try:
                        name = f"insights_{count}"
                        url = pg.url.rsplit("/", 1)[0] + f"/{name}"
                        if not pg.has_database(name):
                            url = pg.create_database(name)
                        rows += await insights("postgresql", url, count, args)
                    finally:
                        pg.stop()
                else:
                    parser.error(f"unknown backend {backend!r}")
    print()
    print("The home page (conversationInsights, every section) and the push after a recorded call (ms)")
    print(table(rows, ["backend", "conversations", "caller", "period", "p50 ms", "p99 ms", "SQL/req"]))


if __name__ == "__main__":
    asyncio.run(main())
