"""Live insight pages with many distinct viewers of every role (an admin, directors of two teams, reps,
partners), over real WebSockets on SQLite and PostgreSQL: after each change of a random run (conversations
about accounts, contacts and opportunities of different people, some with a contact of another account
speaking; activities; accounts given other managers, made private or public, given partners; sales) every
viewer's page, once pushed, is exactly what the `conversationInsights` query returns for that viewer, for a
sliding window (with its partial days) and ALL_TIME. And the SQL of one event is one read of the page shape, the
same statements whether one viewer or five watch it; a viewer costs one statement more only for what is new
to it (a scope never seen, or after a change of what anyone may see)."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import httpx
from sqlalchemy import select

from domain.base import utcnow
from gql import ids
from persistence import tables
from tests.conftest import GraphQLClient
from tests.integration.mutations.test_quotes_and_sales import SELL, quote_with_items
from tests.integration.test_scoreboard_viewers import ACCOUNT, ACCOUNT_PARTNER, viewers
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

WAIT = 30.0
URL = "/ingest/conversations"
FIGURE = "{ value previous change series { startsOn value } }"
FIELDS = f"""periodStart eventId
  customers {{ callsAnalysed {FIGURE} averageSentiment {FIGURE} belowAverage {FIGURE} negative {FIGURE}
    keywords {{ name mentions calls previousMentions }} competitors {{ name mentions }}
    newNames {{ name mentions }} newNameCount {FIGURE} }}
  recording {{ callsRecorded {FIGURE} hoursRecorded {FIGURE} callsMentioningCompetitors {FIGURE} }}
  bestSellers {{ averageWonRevenue topSellers {{ id }} team {{ calls talkPercent switchesPerHour emailHours
    callHours meetingHours }} }}"""
QUERY = f"query($period: PeriodInput!) {{ conversationInsights(period: $period) {{ {FIELDS} }} }}"
UPDATED = f"subscription($period: PeriodInput!) {{ conversationInsightsUpdated(period: $period) {{ {FIELDS} }} }}"
# Without the users and terms a push would load to render them (statements per rendered document, not per read).
COUNTED_FIELDS = f"""periodStart eventId customers {{ callsAnalysed {FIGURE} negative {FIGURE} newNameCount {FIGURE} }}
  recording {{ callsRecorded {FIGURE} hoursRecorded {FIGURE} }} bestSellers {{ averageWonRevenue team {{ calls }} }}"""
COUNTED_QUERY = f"query($period: PeriodInput!) {{ conversationInsights(period: $period) {{ {COUNTED_FIELDS} }} }}"
COUNTED = (
    f"subscription($period: PeriodInput!) {{ conversationInsightsUpdated(period: $period) {{ {COUNTED_FIELDS} }} }}"
)
ACTIVITY = """mutation($input: CreateSalesActivityInput!) { createSalesActivity(input: $input) { __typename } }"""
CUSTOMER_LINES = [
    "We compared you with Quorbit, and honestly the price is too high.",
    "This is great, the team loves it and we want more seats.",
    "We talked with Velmora Works about the same thing last week.",
    "It is fine, nothing more to say about it really.",
    "The delivery was late again and we are not happy at all.",
]


def shown(page: dict) -> dict:
    """What a viewer sees but for the event position and a sliding window's start, which moves with the clock
    (ALL_TIME's and a calendar period's start must be equal)."""
    sliding = page["periodStart"] is not None and not page["periodStart"].endswith("T00:00:00+00:00")
    return {k: v for k, v in page.items() if k != "eventId" and not (k == "periodStart" and sliding)}


async def pushed(socket: GraphQLSocket, op: str) -> dict:
    result = await socket.next(op, WAIT)
    assert "errors" not in result, result
    return result["data"]["conversationInsightsUpdated"]


async def query(api: GraphQLClient, variables: dict, document: str = QUERY) -> dict:
    return shown((await api.data(document, variables))["conversationInsights"])


async def settle(watching: list[list], label: str, document: str = QUERY) -> None:
    """Each viewer whose query's answer moved receives pushes until one equals it (within WAIT: a push that
    never comes to equal the answer fails), and that push is exactly the answer."""
    for entry in watching:
        name, api, socket, op, variables, last = entry
        answer = await query(api, variables, document)
        if answer == last:
            continue
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    page = shown(await pushed(socket, op))
                    if page == answer:
                        break
                    # (an earlier state, or one that moved only figures this document does not show)
                    answer = await query(api, variables, document)
        except TimeoutError:
            raise AssertionError(f"{label}: no push equal to the query for {name} {variables}") from None
        entry[5] = page


def conversation(rng: random.Random, owner: int, started, links: dict, speaker: int | None) -> dict:
    customer = {"name": "Cleo", "side": "CUSTOMER"}
    if speaker is not None:
        customer["contactId"] = ids.encode("Contact", speaker)
    seller_text = rng.choice(["We can talk about Zephyrix today.", "Hello, how are things?", "Zephyrix helps."])
    return {
        "kind": rng.choice(["PHONE_CALL", "ONLINE_MEETING"]),
        "title": "Viewer call",
        "startedAt": started.isoformat(),
        "durationSeconds": 120,
        "language": "en",
        "ownerId": ids.encode("User", owner),
        "speakers": [{"name": "Sam", "side": "SELLER"}, customer],
        "segments": [
            {"speaker": "Sam", "start": 0, "end": 30, "text": seller_text},
            {"speaker": "Cleo", "start": 30, "end": 90, "text": rng.choice(CUSTOMER_LINES)},
        ],
        **{key: ids.encode(kind, value) for key, (kind, value) in links.items()},
    }


async def world(writable) -> dict:
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users.c.id, tables.users.c.role).order_by(tables.users.c.id)))
        accounts = list(
            await conn.execute(
                select(tables.accounts.c.id, tables.accounts.c.partner_id).order_by(tables.accounts.c.id).limit(60)
            )
        )
        contacts = list(
            await conn.execute(
                select(tables.contacts.c.id, tables.contacts.c.account_id)
                .where(tables.contacts.c.account_id.is_not(None))
                .order_by(tables.contacts.c.id)
                .limit(200)
            )
        )
        opportunities = list(
            await conn.execute(select(tables.opportunities.c.id).order_by(tables.opportunities.c.id).limit(60))
        )
        partners = [r.id for r in await conn.execute(select(tables.partners.c.id).order_by(tables.partners.c.id))]
    return {
        "sellers": [u.id for u in users if u.role in ("SALES_REP", "SALES_DIRECTOR")][:12] + [users[0].id],
        "accounts": [a.id for a in accounts],
        "partner_accounts": [a.id for a in accounts if a.partner_id is not None],
        "contacts": [c.id for c in contacts],
        "opportunities": [o.id for o in opportunities],
        "partners": partners,
        "users": [u.id for u in users if u.role != "ADMIN"][:15],
    }


async def change(http, api: GraphQLClient, writable, rng: random.Random, facts: dict, action: str) -> None:
    admin = {"Authorization": f"Bearer {writable.admin_token}"}
    if action == "conversation":
        links: dict = {}
        roll = rng.random()
        if roll < 0.3:
            links["accountId"] = ("Account", rng.choice(facts["partner_accounts"] or facts["accounts"]))
        elif roll < 0.5:
            links["accountId"] = ("Account", rng.choice(facts["accounts"]))
        elif roll < 0.65:
            links["opportunityId"] = ("Opportunity", rng.choice(facts["opportunities"]))
        speaker = rng.choice(facts["contacts"]) if rng.random() < 0.3 else None
        when = utcnow() - timedelta(days=rng.choice([0.2, 1.5, 3, 20, 200]))
        body = conversation(rng, rng.choice(facts["sellers"]), when, links, speaker)
        response = await http.post(URL, json=body, headers=admin)
        # (a contact of another account speaking about this one may be refused: nothing is stored then)
        assert response.status_code == 201 or 400 <= response.status_code < 500, response.text
    elif action == "activity":
        target = ids.encode("Account", rng.choice(facts["accounts"]))
        await api.data(
            ACTIVITY,
            {
                "input": {
                    "attachToId": target,
                    "type": rng.choice(["CALL", "EMAIL", "MEETING"]),
                    "subject": "Follow-up",
                    "ownerId": ids.encode("User", rng.choice(facts["sellers"])),
                    "occurredAt": (utcnow() - timedelta(days=rng.choice([0.5, 2, 30]))).isoformat(),
                    "done": True,
                    "durationMinutes": rng.randint(5, 90),
                }
            },
        )
    elif action == "manager":
        account = ids.encode("Account", rng.choice(facts["accounts"]))
        await api.data(ACCOUNT, {"input": {"id": account, "managerId": ids.encode("User", rng.choice(facts["users"]))}})
    elif action == "privacy":
        account = ids.encode("Account", rng.choice(facts["accounts"]))
        await api.data(ACCOUNT, {"input": {"id": account, "isPrivate": rng.random() < 0.4}})
    elif action == "partner":
        account = ids.encode("Account", rng.choice(facts["accounts"]))
        partner = rng.choice([*facts["partners"][:2], None])
        await api.data(
            ACCOUNT_PARTNER,
            {"input": {"id": account, "partnerId": None if partner is None else ids.encode("Partner", partner)}},
        )
    else:
        opportunity, _, _ = await quote_with_items(api, writable)
        await api.data(SELL, {"input": {"id": opportunity["id"]}})


async def test_every_viewers_live_page_equals_its_query_after_each_change(writable):
    periods = [{"period": {"preset": "LAST_7_DAYS"}}, {"period": {"preset": "ALL_TIME"}}]
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        api = GraphQLClient(http, writable.admin_token)
        facts = await world(writable)
        watching = []
        for n, (name, token) in enumerate(await viewers(writable)):
            socket = await GraphQLSocket.open(server.url, token, [TRANSPORT_WS, LEGACY_WS][n % 2])
            viewer_api = GraphQLClient(http, token)
            for variables in periods:
                op = await socket.subscribe(UPDATED, variables)
                first = shown(await pushed(socket, op))
                assert first == await query(viewer_api, variables), (name, variables)
                watching.append([name, viewer_api, socket, op, variables, first])
        topics = server.app.state.realtime.insights.topics
        assert len(topics) == len(periods) and all(len(t.views) == 8 for t in topics.values())

        rng = random.Random(16)
        actions = ["conversation"] * 4 + ["activity", "manager", "privacy", "partner", "sale"]
        rng.shuffle(actions)
        for step, action in enumerate(actions):
            await change(http, api, writable, rng, facts, action)
            await settle(watching, f"step {step}: {action}")
        for name, viewer_api, _, _, variables, last in watching:
            assert last == await query(viewer_api, variables), (name, variables)
        for socket in {entry[2] for entry in watching}:
            await socket.close()


async def test_one_event_is_one_read_of_the_page_whether_one_or_five_viewers_watch(writable, monkeypatch):
    monkeypatch.setenv("SALESGRAPH_EVENT_RESYNC_SECONDS", "3600")  # the hub learns of events from the bus only
    range_ = {"period": {"from": "2031-07-01T00:00:00Z", "to": "2031-08-01T00:00:00Z"}}
    admin_id = writable.summary.admin_user_id
    async with live_server(writable.url, dispatch=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        admin_headers = {"Authorization": f"Bearer {writable.admin_token}"}
        live = server.app.state.realtime.insights
        facts = await world(writable)
        rng = random.Random(5)
        everyone = await viewers(writable)
        # Five distinct viewers: the admin, two directors, a rep and a partner.
        five = [everyone[0], everyone[1], everyone[2], everyone[3], everyone[6]]

        async def post(day: int, **links) -> None:
            body = conversation(rng, admin_id, utcnow().replace(year=2031, month=7, day=day), {}, None)
            body["segments"][1]["text"] = "It is fine, nothing more to say about it really."
            body |= {key: ids.encode(kind, value) for key, (kind, value) in links.items()}
            assert (await http.post(URL, json=body, headers=admin_headers)).status_code == 201

        async def watch(name: str, token: str) -> list:
            socket = await GraphQLSocket.open(server.url, token)
            op = await socket.subscribe(COUNTED, range_)
            return [name, GraphQLClient(http, token), socket, op, range_, shown(await pushed(socket, op))]

        async def event(make, watching: list[list]) -> tuple[int, int]:
            """Make a change; once every page it moved has been pushed, the statements the page's topic ran
            for it and the one read it took."""
            before = live.stats.statements
            reads = topic.computations if watching else 0
            await make()
            await server.app.state.dispatcher.dispatch_once()
            await settle(watching, "event", COUNTED_QUERY)
            return live.stats.statements - before, topic.computations - reads

        await post(2)  # the admin's unlinked calls' scope exists before anyone watches
        await server.app.state.dispatcher.dispatch_once()
        watching = [await watch(*five[0])]
        [topic] = live.topics.values()
        # A call in a scope the viewer has seen: the page's read alone, no statement for the viewer. The newest
        # event position with the set-up day, the rates, the buckets and edge deals, the users with goals (the
        # scoreboard's), the buckets, the items, the terms, the new names.
        one_viewer = await event(lambda: post(3), watching)
        assert one_viewer == (8, 1)
        # A call in a new scope (about an account): one statement for the viewer's sight of it.
        one_new_scope = await event(lambda: post(4, accountId=("Account", facts["accounts"][0])), watching)
        assert one_new_scope == (8 + 1, 1)

        joined = live.stats.statements
        watching += [await watch(*viewer) for viewer in five[1:]]
        assert live.stats.statements == joined  # joining is no read of the page (one statement for its sight)
        assert [view.sight.checks for view in topic.views.values()] == [2, 1, 1, 1, 1]
        assert len(topic.views) == 5

        five_viewers = await event(lambda: post(5), watching)
        assert five_viewers == one_viewer  # the same statements with five distinct viewers as with one
        five_new_scope = await event(lambda: post(6, accountId=("Account", facts["accounts"][1])), watching)
        assert five_new_scope == (8 + 5, 1)  # at most one statement a viewer, for a scope new to it
        # A change of what anyone may see (an account's manager, with a call so that a page moves): every viewer
        # checks again, one statement each.
        account = ids.encode("Account", facts["accounts"][1])
        manager = ids.encode("User", facts["users"][3])
        admin = GraphQLClient(http, writable.admin_token)

        async def manager_and_call() -> None:
            await admin.data(ACCOUNT, {"input": {"id": account, "managerId": manager}})
            await post(7)

        assert await event(manager_and_call, watching) == (8 + 5, 1)
        for name, viewer_api, _, _, variables, last in watching:
            assert last == await query(viewer_api, variables, COUNTED_QUERY), name
        for entry in watching:
            await entry[2].close()
