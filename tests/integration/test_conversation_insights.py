"""`conversationInsights`, on SQLite and PostgreSQL: every figure of the page against values worked out by
hand for six conversations posted over HTTP in March 2030 and the month before (nothing else is recorded
then), with sentiments sent by the "recorder" so each call's score is known; what a partner and a rep see
of them; the best sellers against the scoreboard of the same period; a fixed number of SQL statements
whatever the number of conversations, and never a statement that reads transcripts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from gql import ids
from gql.app import create_app
from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient, statements
from tests.support.live import live_server

URL = "/ingest/conversations"
MARCH = {"from": "2030-03-01T00:00:00Z", "to": "2030-04-01T00:00:00Z"}
TERM = """mutation($input: CreateTrackedTermInput!) { createTrackedTerm(input: $input) {
  __typename ... on TrackedTermPayload { trackedTerm { id } } } }"""

FIGURE = "{ value previous change series { startsOn value } }"
PAGE = f"""query($period: PeriodInput!, $team: ID, $user: ID) {{
  conversationInsights(period: $period, teamId: $team, userId: $user) {{
    periodStart periodEnd previousStart seriesGrain eventId
    customers {{
      callsAnalysed {FIGURE} averageSentiment {FIGURE} belowAverage {FIGURE} belowAveragePercent {FIGURE}
      positive {FIGURE} neutral {FIGURE} negative {FIGURE}
      positivePercent {FIGURE} neutralPercent {FIGURE} negativePercent {FIGURE}
      keywords {{ name mentions calls previousMentions change term {{ id }} }}
      competitors {{ name mentions calls previousMentions change }}
      newNames {{ name mentions firstMentionedAt conversation {{ id title }} }}
      newNameCount {FIGURE}
    }}
    bestSellers {{
      averageWonRevenue topSellers {{ id }}
      top {{ sellers calls }}
      team {{ sellers calls talkPercent switchesPerHour positivePercent neutralPercent negativePercent
              emailHours callHours meetingHours }}
      bestPracticeKeywords {{ name topPerCall restPerCall }}
      overview {{ user {{ id }} wonRevenue topSeller figures {{ calls talkPercent switchesPerHour
        positivePercent neutralPercent negativePercent emailHours callHours meetingHours }} }}
    }}
    recording {{
      callsRecorded {FIGURE} hoursRecorded {FIGURE}
      callsMentioningKeywords {FIGURE} callsMentioningCompetitors {FIGURE}
    }}
  }}
}}"""
CONTRIBUTING = """query($period: PeriodInput!) { conversationInsights(period: $period) {
  customers { negative { conversations(first: 10) { nodes { title } pageInfo { hasNextPage } } }
              belowAverage { conversations { nodes { title } } }
              competitors { name conversations { nodes { title } } } }
  recording { callsMentioningKeywords { conversations { nodes { title } } }
              callsRecorded { conversations(first: 3) { nodes { title } pageInfo { hasNextPage endCursor } } } } } }"""


def segment(who: str, start: int, end: int, text: str, label: str | None = None, score: float | None = None):
    found: dict[str, Any] = {"speaker": who, "start": start, "end": end, "text": text}
    if label is not None:
        found["sentiment"] = {"label": label, "score": score}
    return found


def call(owner: int, title: str, started: str, kind: str, duration: int, seller: tuple, customer: tuple, **links):
    """A conversation of `owner` with one seller segment and one customer segment (with its sentiment)."""
    return {
        "kind": kind,
        "title": title,
        "startedAt": started,
        "durationSeconds": duration,
        "language": "en",
        "ownerId": ids.encode("User", owner),
        "speakers": [{"name": "Sam", "side": "SELLER"}, {"name": "Cleo", "side": "CUSTOMER"}],
        "segments": [segment("Sam", *seller), segment("Cleo", *customer)],
        **({"accountId": ids.encode("Account", links["account"])} if "account" in links else {}),
    }


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fixed(writable) -> AsyncIterator[dict[str, Any]]:
    """Two reps, the partner's account, two tracked terms and the six conversations, posted once."""
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users).order_by(tables.users.c.id)))
        account = (
            await conn.execute(
                select(tables.accounts.c.id)
                .where(
                    tables.accounts.c.partner_id == writable.summary.partner_id, tables.accounts.c.is_private.is_(False)
                )
                .order_by(tables.accounts.c.id)
                .limit(1)
            )
        ).scalar_one()
    reps = [u for u in users if u.role == "SALES_REP"][:2]
    r1, r2 = reps[0].id, reps[1].id
    app = create_app(writable.engine, dispatch=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        api = GraphQLClient(http, writable.admin_token)
        terms = {}
        for kind, name in (("KEYWORD", "Zephyrix"), ("COMPETITOR", "Quorbit")):
            made = await api.data(TERM, {"input": {"kind": kind, "name": name}})
            terms[name] = made["createTrackedTerm"]["trackedTerm"]["id"]
        conversations = [
            # March 2030: seller 30 + 60 + 20 + 10 s, customer 60 + 60 + 20 + 60 s, 450 s recorded.
            call(r1, "Call one", "2030-03-03T10:00:00Z", "PHONE_CALL", 120,
                 (0, 30, "We can talk about Zephyrix today."),
                 (30, 90, "Quorbit is cheaper, and Zephyrix is fine. We also use Velmora Works.", "POSITIVE", 0.6)),
            call(r1, "Call two", "2030-03-10T10:00:00Z", "ONLINE_MEETING", 180,
                 (0, 60, "Hello, how are things with you?"),
                 (60, 120, "Quorbit called us, and then Quorbit called again.", "NEGATIVE", -0.8)),
            call(r2, "Call three", "2030-03-20T10:00:00Z", "PHONE_CALL", 60,
                 (0, 20, "Zephyrix is what we do, Zephyrix is the name."),
                 (20, 40, "Okay, that is what it is.", "NEUTRAL", 0.0)),
            call(r2, "Call four", "2030-03-28T10:00:00Z", "ONLINE_MEETING", 90,
                 (0, 10, "Hi, it is me."),
                 (10, 70, "It is not going well for us at all.", "NEGATIVE", -0.3), account=account),
            # February 2030, the previous period of equal length ([2030-01-29, 2030-03-01)): 300 s.
            call(r1, "Call five", "2030-02-10T10:00:00Z", "PHONE_CALL", 100,
                 (0, 20, "Good to see you, how is it?"),
                 (20, 80, "We looked at Quorbit and at Tandrel Group.", "POSITIVE", 0.4)),
            call(r2, "Call six", "2030-02-20T10:00:00Z", "ONLINE_MEETING", 200,
                 (0, 50, "So what do you think of it?"),
                 (50, 150, "It is fine, we will see about it.", "NEUTRAL", 0.0)),
        ]  # fmt: skip
        made = []
        for body in conversations:
            response = await http.post(URL, json=body, headers={"Authorization": f"Bearer {writable.admin_token}"})
            assert response.status_code == 201, response.text
            made.append(response.json()["conversation"]["id"])
        tokens = {
            "r1": await issue_token(writable.engine, name="insights r1", user_id=r1),
            "partner": writable.partner_token,
        }
        yield {"r1": r1, "r2": r2, "account": account, "terms": terms, "ids": made, "tokens": tokens}


@pytest_asyncio.fixture(loop_scope="session")
async def client(writable) -> AsyncIterator[GraphQLClient]:
    app = create_app(writable.engine, dispatch=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
        yield GraphQLClient(http, writable.admin_token)


def figure(value, previous=None, change=None, series=None):
    found = {"value": value, "previous": previous, "change": change}
    if series is not None:
        found["series"] = series
    return found


def plain(f: dict) -> dict:
    return {k: f[k] for k in ("value", "previous", "change")}


DAYS = ["2030-03-03", "2030-03-10", "2030-03-20", "2030-03-28"]


async def test_every_figure_of_the_page_equals_its_hand_computed_value(client, fixed):
    page = (await client.data(PAGE, {"period": MARCH}))["conversationInsights"]
    assert (page["periodStart"], page["previousStart"], page["seriesGrain"]) == (
        "2030-03-01T00:00:00+00:00",
        "2030-01-29T00:00:00+00:00",
        "DAY",
    )
    customers = page["customers"]
    # 4 calls in March, 2 in the month before.
    assert customers["callsAnalysed"] == figure("4", "2", "100.0", [{"startsOn": d, "value": "1"} for d in DAYS])
    # Scores 0.6, -0.8, 0.0, -0.3: mean -0.125; before 0.4, 0.0: mean 0.2; change (-0.125 - 0.2) / 0.2.
    assert plain(customers["averageSentiment"]) == figure("-0.1250", "0.2000", "-162.5")
    assert [p["value"] for p in customers["averageSentiment"]["series"]] == ["0.6000", "-0.8000", "0.0000", "-0.3000"]
    # The mean in hundredths is -13 (half away from zero): -80 and -30 are below; before, 0 is below 20.
    assert plain(customers["belowAverage"]) == figure("2", "1", "100.0")
    assert plain(customers["belowAveragePercent"]) == figure("50.0", "50.0", "0.0")
    # Labels: 0.6 positive, -0.8 and -0.3 negative, 0.0 neutral; before one positive, one neutral.
    assert plain(customers["positive"]) == figure("1", "1", "0.0")
    assert plain(customers["neutral"]) == figure("1", "1", "0.0")
    assert plain(customers["negative"]) == figure("2", "0", None)
    assert plain(customers["positivePercent"]) == figure("25.0", "50.0", "-50.0")
    assert plain(customers["neutralPercent"]) == figure("25.0", "50.0", "-50.0")
    assert plain(customers["negativePercent"]) == figure("50.0", "0.0", None)
    # Zephyrix: calls one (seller 1, customer 1) and three (seller 2); Quorbit: one (1), two (2), before five (1).
    assert [k for k in customers["keywords"] if k["name"] == "Zephyrix"] == [
        {
            "name": "Zephyrix",
            "mentions": 4,
            "calls": 2,
            "previousMentions": 0,
            "change": None,
            "term": {"id": fixed["terms"]["Zephyrix"]},
        }
    ]
    assert [k for k in customers["competitors"] if k["name"] == "Quorbit"] == [
        {"name": "Quorbit", "mentions": 3, "calls": 2, "previousMentions": 1, "change": "200.0"}
    ]
    # Velmora Works is new in March (call one's customer said it), Tandrel Group in February.
    assert [(n["name"], n["mentions"], n["conversation"]["title"]) for n in customers["newNames"]] == [
        ("Velmora Works", 1, "Call one")
    ]
    assert plain(customers["newNameCount"]) == figure("1", "1", "0.0")
    recording = page["recording"]
    assert plain(recording["callsRecorded"]) == figure("4", "2", "100.0")
    # 450 s = 0.125 h -> 0.13; 300 s = 0.0833 h -> 0.08; change (0.13 - 0.08) / 0.08.
    assert plain(recording["hoursRecorded"]) == figure("0.13", "0.08", "62.5")
    assert plain(recording["callsMentioningKeywords"]) == figure("2", "0", None)
    assert plain(recording["callsMentioningCompetitors"]) == figure("2", "1", "100.0")
    best = page["bestSellers"]
    # Nobody won anything in March 2030: nobody is above the average of 0.
    assert (best["averageWonRevenue"], best["topSellers"], best["top"]) == ("0.00", [], {"sellers": 0, "calls": 0})
    team = best["team"]
    # Seller side 120 s of 320 s talked: 37.5 %; 4 switches in 450 s: 32 an hour.
    assert (team["calls"], team["talkPercent"], team["switchesPerHour"]) == (4, "37.5", "32.0")
    assert (team["positivePercent"], team["neutralPercent"], team["negativePercent"]) == ("25.0", "25.0", "50.0")
    lines = {line["user"]["id"]: line for line in best["overview"]}
    one, two = lines[ids.encode("User", fixed["r1"])], lines[ids.encode("User", fixed["r2"])]
    # Rep one: seller 90 s of 210 s; 2 switches in 300 s: 24 an hour; a phone call of 120 s, a meeting of 180 s.
    assert one["figures"] == {
        "calls": 2,
        "talkPercent": "42.9",
        "switchesPerHour": "24.0",
        "positivePercent": "50.0",
        "neutralPercent": "0.0",
        "negativePercent": "50.0",
        "emailHours": "0.00",
        "callHours": "0.03",
        "meetingHours": "0.05",
    }
    # Rep two: seller 30 s of 110 s; 2 switches in 150 s: 48 an hour; a phone call of 60 s, a meeting of 90 s.
    assert (two["figures"]["talkPercent"], two["figures"]["switchesPerHour"]) == ("27.3", "48.0")
    assert (two["figures"]["callHours"], two["figures"]["meetingHours"]) == ("0.02", "0.03")
    assert not one["topSeller"] and Decimal(one["wonRevenue"]) == 0


async def test_a_seller_alone_and_each_figure_s_conversations(client, fixed):
    mine = (await client.data(PAGE, {"period": MARCH, "user": ids.encode("User", fixed["r2"])}))["conversationInsights"]
    assert plain(mine["customers"]["callsAnalysed"]) == figure("2", "1", "100.0")
    assert plain(mine["recording"]["hoursRecorded"]) == figure("0.04", "0.06", "-33.3")  # 150 s, 200 s
    page = (await client.data(CONTRIBUTING, {"period": MARCH}))["conversationInsights"]
    customers, recording = page["customers"], page["recording"]
    assert customers["negative"]["conversations"] == {
        "nodes": [{"title": "Call four"}, {"title": "Call two"}],
        "pageInfo": {"hasNextPage": False},
    }
    assert customers["belowAverage"]["conversations"]["nodes"] == [{"title": "Call four"}, {"title": "Call two"}]
    quorbit = next(c for c in customers["competitors"] if c["name"] == "Quorbit")
    assert quorbit["conversations"]["nodes"] == [{"title": "Call two"}, {"title": "Call one"}]
    assert recording["callsMentioningKeywords"]["conversations"]["nodes"] == [
        {"title": "Call three"},
        {"title": "Call one"},
    ]
    first = recording["callsRecorded"]["conversations"]
    assert [n["title"] for n in first["nodes"]] == ["Call four", "Call three", "Call two"]
    assert first["pageInfo"]["hasNextPage"] is True


async def test_a_partner_and_a_rep_see_only_the_conversations_they_may(client, fixed, writable):
    partner = (await client.data(PAGE, {"period": MARCH}, token=fixed["tokens"]["partner"]))["conversationInsights"]
    # Only call four is about the partner's account: one negative call of 90 s with no term and no name.
    assert plain(partner["customers"]["callsAnalysed"]) == figure("1", "0", None)
    assert plain(partner["customers"]["negative"]) == figure("1", "0", None)
    assert partner["customers"]["keywords"] == [] and partner["customers"]["competitors"] == []
    assert partner["customers"]["newNames"] == []
    assert plain(partner["recording"]["hoursRecorded"]) == figure("0.03", "0.00", None)
    body = str(await client.data(PAGE, {"period": MARCH}, token=fixed["tokens"]["partner"]))
    body += str(await client.data(CONTRIBUTING, {"period": MARCH}, token=fixed["tokens"]["partner"]))
    for hidden in (
        "Call one",
        "Call two",
        "Call three",
        "Velmora",
        "Tandrel",
        "Quorbit",
        "Zephyrix",
        *fixed["ids"][:3],
    ):
        assert hidden not in body, hidden
    # A rep sees its own unlinked calls one and two (and call four only if it may see the partner's account).
    rep = (await client.data(PAGE, {"period": MARCH}, token=fixed["tokens"]["r1"]))["conversationInsights"]
    seen = await client.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": fixed["ids"][:4]}, token=fixed["tokens"]["r1"]
    )
    visible = [n for n in seen["nodes"] if n is not None]
    assert fixed["ids"][0] in {n["id"] for n in visible}
    assert rep["customers"]["callsAnalysed"]["value"] == str(len(visible))
    assert "Call three" not in str(await client.data(CONTRIBUTING, {"period": MARCH}, token=fixed["tokens"]["r1"]))


async def test_the_top_sellers_are_the_reps_above_the_scoreboard_s_average(client, fixed):
    board = (
        await client.data("{ scoreboard(period: {preset: ALL_TIME}) { reps { user { id } wonRevenue { amount } } } }")
    )["scoreboard"]["reps"]
    won = {r["user"]["id"]: Decimal(r["wonRevenue"]["amount"]) for r in board}
    average = sum(won.values()) / len(won)
    page = (await client.data(PAGE, {"period": {"preset": "ALL_TIME"}}))["conversationInsights"]
    best = page["bestSellers"]
    assert {u["id"] for u in best["topSellers"]} == {u for u, amount in won.items() if amount > average}
    assert best["topSellers"] and Decimal(best["averageWonRevenue"]) == average.quantize(Decimal("0.01"))
    assert best["top"]["sellers"] == len(best["topSellers"])
    # Each best-practice keyword: the top sellers say it more per call than the rest.
    for term in best["bestPracticeKeywords"]:
        assert Decimal(term["topPerCall"]) > Decimal(term["restPerCall"])
    assert page["seriesGrain"] == "MONTH" and page["previousStart"] is None


async def test_the_page_costs_a_fixed_number_of_statements_and_never_reads_a_transcript(writable, fixed):
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    async with live_server(writable.url, dispatch=False, schedule=False, reanalyse=False) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            api = GraphQLClient(http, writable.admin_token)
            await api.post("{ __typename }")  # warms the token cache
            counts = {}
            for name, period in (
                ("range", MARCH),
                ("week", {"preset": "LAST_7_DAYS"}),
                ("all", {"preset": "ALL_TIME"}),
            ):
                response = await api.post(PAGE, {"period": period})
                assert "errors" not in response.json(), response.json()
                counts[name] = statements(response)
            # Ten more conversations in March: the same statements.
            for n in range(10):
                body = call(fixed["r1"], f"More {n}", f"2030-03-{n + 2:02d}T12:00:00Z", "PHONE_CALL", 60,
                            (0, 20, "We talk about Zephyrix now."), (20, 50, "Quorbit is there too, it is fine."))  # fmt: skip
                assert (
                    await http.post(URL, json=body, headers={"Authorization": f"Bearer {writable.admin_token}"})
                ).status_code == 201
            again = {}
            for name, period in (
                ("range", MARCH),
                ("week", {"preset": "LAST_7_DAYS"}),
                ("all", {"preset": "ALL_TIME"}),
            ):
                again[name] = statements(await api.post(PAGE, {"period": period}))
    assert counts == again
    # The newest event, the buckets, their items, the terms, the new names, the activities, the scoreboard's
    # reads and the loaders of the users and terms shown; a sliding window reads its partial days' conversations
    # too (the last 7 days of 2026-12 have no keyword, so no term is loaded for it).
    assert counts == {"range": 13, "week": 14, "all": 13}
    # In process, every statement of the page's reads: none touches the transcripts.
    app = create_app(writable.engine, dispatch=False)
    event.listen(Engine, "before_cursor_execute", listen)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://salesgraph.test") as http:
            api = GraphQLClient(http, writable.admin_token)
            for period in (MARCH, {"preset": "LAST_7_DAYS"}, {"preset": "ALL_TIME"}):
                await api.data(PAGE, {"period": period})
    finally:
        event.remove(Engine, "before_cursor_execute", listen)
    assert seen and not [s for s in seen if "conversation_segments" in s]


async def test_all_time_starts_on_the_day_the_company_was_set_up(client, fixed, writable):
    """The company was set up when its first user was made: ALL_TIME's start on the scoreboard and on the page,
    and the page's count series has every month from that one to now's (0 in months without calls)."""
    async with writable.engine.connect() as conn:
        first = (await conn.execute(select(func.min(tables.users.c.created_at)))).scalar_one()
        calls = (await conn.execute(select(func.count()).select_from(tables.conversations))).scalar_one()
    set_up = datetime.combine(first.astimezone(UTC).date(), time(), UTC)
    board = (await client.data("{ scoreboard(period: {preset: ALL_TIME}) { periodStart periodEnd asOf } }"))[
        "scoreboard"
    ]
    assert (datetime.fromisoformat(board["periodStart"]), board["periodEnd"]) == (set_up, None)
    page = (await client.data(PAGE, {"period": {"preset": "ALL_TIME"}}))["conversationInsights"]
    assert (datetime.fromisoformat(page["periodStart"]), page["periodEnd"]) == (set_up, None)
    now = datetime.fromisoformat(board["asOf"])
    months, at = [], set_up.date().replace(day=1)
    while at <= now.date():
        months.append(at.isoformat())
        at = (at + timedelta(days=31)).replace(day=1)
    series = page["recording"]["callsRecorded"]["series"]
    points = [p["startsOn"] for p in series]
    assert points[: len(months)] == months and points == sorted(points)
    # Every call counts, those of 2030 (after now) too, and the series adds up to the figure.
    assert page["recording"]["callsRecorded"]["value"] == str(calls)
    assert sum(int(p["value"]) for p in series) == calls
    assert any(p["value"] == "0" for p in series)  # months of the seed's history without calls are shown


CALLS = """query($after: String) { conversations(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor }
  nodes { owner { id } analysis { mentions { side count term { id name } } } } } }"""


async def test_the_best_practice_keywords_are_the_terms_the_top_sellers_say_more_per_call(client, fixed):
    """Recomputed from every conversation's mentions (ALL_TIME, as the admin): per term, what the top
    sellers' side said per call of theirs against what the other sellers' side said per call of theirs;
    the terms the top sellers say more of, the largest difference first (then by name)."""
    best = (await client.data(PAGE, {"period": {"preset": "ALL_TIME"}}))["conversationInsights"]["bestSellers"]
    top = {u["id"] for u in best["topSellers"]}
    assert top, "the seed has top sellers"
    calls = {True: 0, False: 0}
    said: dict[str, dict[bool, int]] = {}
    names: dict[str, str] = {}
    after = None
    while True:
        page = (await client.data(CALLS, {"after": after}))["conversations"]
        for call in page["nodes"]:
            if call["owner"] is None or call["analysis"] is None:
                continue
            theirs = call["owner"]["id"] in top
            calls[theirs] += 1
            for mention in call["analysis"]["mentions"]:
                if mention["side"] == "SELLER" and mention["term"] is not None:
                    term = mention["term"]
                    names[term["id"]] = term["name"]
                    said.setdefault(term["id"], {True: 0, False: 0})[theirs] += mention["count"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    cent = Decimal("0.01")
    expected = []
    for term_id, by in said.items():
        mine = Decimal(by[True]) / calls[True] if calls[True] else Decimal(0)
        rest = Decimal(by[False]) / calls[False] if calls[False] else Decimal(0)
        if by[True] and mine > rest:
            expected.append(
                (names[term_id], mine.quantize(cent, ROUND_HALF_UP), rest.quantize(cent, ROUND_HALF_UP), term_id)
            )
    expected.sort(key=lambda t: (-(t[1] - t[2]), t[0].lower(), ids.decode(t[3])[1]))
    assert expected, "the seeded calls give the top sellers keywords of their own"
    assert [(t["name"], Decimal(t["topPerCall"]), Decimal(t["restPerCall"])) for t in best["bestPracticeKeywords"]] == [
        (name, mine, rest) for name, mine, rest, _ in expected[:20]
    ]
