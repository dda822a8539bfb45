"""Recorded conversations end to end, on SQLite and PostgreSQL: `POST /ingest/conversations` over real HTTP
(WebVTT with voice tags and JSON segments), every refusal with its code and nothing stored, idempotent
retries, the `recordConversation` mutation, who sees which conversation, the tracked terms' admin-only
changes, the background re-analysis after a term changes, and which conversation a name is new in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from gql import ids
from gql.auth import issue_token
from persistence import tables
from persistence.reanalysis import Reanalyser
from tests.conftest import GraphQLClient, statements
from tests.integration.test_visibility import Caller, World
from tests.support.live import live_server

URL = "/ingest/conversations"
KARI, OLE, PER = "Kari Nordmann", "Ole Hansen", "Per Berg"
# (speaker, start s, end s, text): the transcript of tests/unit/test_conversation_analysis.py, whose figures
# are worked out there, with brand names of its own.
LINES = [
    (KARI, 0, 20, "Hej Ole. Hvordan går det med jeres 3D-printere?"),
    (KARI, 21, 30, "Vi har en ny printer til produktionen."),
    (OLE, 30, 50, "Vi bruger Contoso 360 i dag, og Contoso er dyr."),
    (PER, 51, 56, "Vores 3D printer kører STL."),
    (OLE, 56, 86, "Vi har også set på Lumenhaus og Printwell 3D."),
    (OLE, 87, 97, "3D-printerne fra Lumenhaus er fine."),
    (KARI, 100, 120, "Tak, jeg sender et tilbud."),
]
COUNTED = [
    tables.conversations,
    tables.conversation_participants,
    tables.conversation_segments,
    tables.conversation_analyses,
    tables.conversation_mentions,
    tables.conversation_names,
    tables.idempotency_keys,
    tables.outbox_events,
]


def stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02}:{whole // 60 % 60:02}:{whole % 60:02}.{round((seconds - whole) * 1000):03}"


def webvtt(lines: list[tuple[str, float, float, str]]) -> str:
    cues = [f"{stamp(start)} --> {stamp(end)}\n<v {who}>{text}" for who, start, end, text in lines]
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


async def stored(engine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one() for table in COUNTED
        }


async def rows(engine, table, *where) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(table).where(*where)))


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert list(body) == ["errors"] and len(body["errors"]) == 1, body
    return {"message": body["errors"][0]["message"], **body["errors"][0]["extensions"]}


@pytest_asyncio.fixture(loop_scope="session")
async def scene(writable) -> dict[str, Any]:
    """An account the admin sees with two of its contacts, the admin, a rep and the tokens."""
    async with writable.engine.connect() as conn:
        contacts = list(
            await conn.execute(
                select(tables.contacts)
                .join(tables.accounts, tables.accounts.c.id == tables.contacts.c.account_id)
                .where(tables.accounts.c.is_private.is_(False))
                .order_by(tables.contacts.c.id)
            )
        )
        users = list(await conn.execute(select(tables.users).order_by(tables.users.c.id)))
    contact = contacts[0]
    other = next(c for c in contacts if c.account_id == contact.account_id and c.id != contact.id)
    rep = next(u for u in users if u.role == "SALES_REP")
    return {
        "account": contact.account_id,
        "contact": contact.id,
        "other_contact": other.id,
        "admin": writable.summary.admin_user_id,
        "rep": rep.id,
        "users": users,
    }


@pytest_asyncio.fixture(loop_scope="session")
async def http(writable) -> AsyncIterator[httpx.AsyncClient]:
    """A real server (uvicorn on a socket) on the writable database, without background work."""
    async with (
        live_server(writable.url, dispatch=False, reanalyse=False, schedule=False) as server,
        httpx.AsyncClient(base_url=server.url, timeout=60) as client,
    ):
        yield client


def vtt_query(scene: dict[str, Any], **extra: str) -> list[tuple[str, str]]:
    query = [
        ("kind", "ONLINE_MEETING"),
        ("startedAt", "2026-06-01T10:00:00Z"),
        ("durationSeconds", "150"),
        ("title", "Discovery"),
        ("accountId", ids.encode("Account", scene["account"])),
        ("seller", f"{KARI} <{ids.encode('User', scene['admin'])}>"),
        ("seller", PER),
        ("customer", f"{OLE} <{ids.encode('Contact', scene['contact'])}>"),
    ]
    return query + list(extra.items())


async def post_vtt(http, token: str, text: str, query: list[tuple[str, str]], key: str | None = None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/vtt"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await http.post(URL, content=text.encode(), params=query, headers=headers)


def json_body(scene: dict[str, Any], lines=LINES, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "PHONE_CALL",
        "startedAt": "2026-06-02T09:00:00+02:00",
        "accountId": ids.encode("Account", scene["account"]),
        "speakers": [
            {"name": KARI, "side": "SELLER", "userId": ids.encode("User", scene["admin"])},
            {"name": PER, "side": "SELLER"},
            {"name": OLE, "side": "CUSTOMER", "contactId": ids.encode("Contact", scene["contact"])},
        ],
        "segments": [{"speaker": who, "start": start, "end": end, "text": text} for who, start, end, text in lines],
        **extra,
    }


# --- recording over HTTP ---


async def test_a_webvtt_upload_is_stored_with_its_speakers_transcript_and_analysis(http, writable, scene):
    response = await post_vtt(http, writable.admin_token, webvtt(LINES), vtt_query(scene))
    assert response.status_code == 201, response.text
    answer = response.json()["conversation"]
    pk = ids.decode(answer["id"])[1]
    assert answer["language"] == "da" and answer["durationSeconds"] == 150
    assert answer["analysis"]["talkPercent"] == 47.4 and answer["analysis"]["listenPercent"] == 52.6
    assert (answer["analysis"]["speakerSwitches"], answer["analysis"]["switchesPerHour"]) == (4, 96.0)
    assert answer["analysis"]["newNames"] == ["Lumenhaus", "Printwell 3D"]
    speakers = await rows(
        writable.engine, tables.conversation_participants, tables.conversation_participants.c.conversation_id == pk
    )
    assert [(s.position, s.name, s.side, s.user_id, s.contact_id) for s in speakers] == [
        (0, KARI, "SELLER", scene["admin"], None),
        (1, PER, "SELLER", None, None),
        (2, OLE, "CUSTOMER", None, scene["contact"]),
    ]
    segments = await rows(
        writable.engine, tables.conversation_segments, tables.conversation_segments.c.conversation_id == pk
    )
    assert [(s.speaker, s.start_ms, s.end_ms, s.text) for s in sorted(segments, key=lambda s: s.position)] == [
        ({KARI: 0, PER: 1, OLE: 2}[who], start * 1000, end * 1000, text) for who, start, end, text in LINES
    ]
    [analysis] = await rows(
        writable.engine, tables.conversation_analyses, tables.conversation_analyses.c.conversation_id == pk
    )
    assert (analysis.seller_talk_ms, analysis.customer_talk_ms) == (54_000, 60_000)
    assert (analysis.seller_monologue_ms, analysis.seller_monologue_start_ms) == (30_000, 0)
    assert (analysis.customer_monologue_ms, analysis.customer_monologue_start_ms) == (41_000, 56_000)
    terms = {t.id: t.name for t in await rows(writable.engine, tables.tracked_terms)}
    mentions = await rows(
        writable.engine, tables.conversation_mentions, tables.conversation_mentions.c.conversation_id == pk
    )
    # The demo company tracks 3D printer, production (produktion), Contoso 360 (Contoso) and STL, among others.
    assert sorted((terms[m.term_id], m.segment, m.side, m.count) for m in mentions) == [
        ("3D printer", 0, "SELLER", 1),
        ("3D printer", 3, "SELLER", 1),
        ("3D printer", 5, "CUSTOMER", 1),
        ("Contoso 360", 2, "CUSTOMER", 2),
        ("STL", 3, "SELLER", 1),
        ("production", 1, "SELLER", 1),
    ]
    assert (analysis.keyword_mentions, analysis.competitor_mentions, analysis.new_names) == (5, 2, 2)


READ = """query($id: ID!) { node(id: $id) { ... on Conversation { kind title language startedAt durationSeconds
  owner { id } account { id } contact { id } participants { name side user { id } contact { id } }
  transcript { position startSeconds endSeconds text speaker { name } sentiment { label score source } }
  analysis { talkPercent listenPercent speakerSwitches switchesPerHour sellerTalkSeconds customerTalkSeconds
    longestSellerMonologue { startSeconds durationSeconds speaker { name } }
    longestCustomerMonologue { startSeconds durationSeconds speaker { name } }
    customerSentiment { label score positiveSegments neutralSegments negativeSegments }
    keywordMentions competitorMentions newNames mentions { segment side count term { name kind } }
    names { name customerMentions sellerMentions firstSegment isNew } } } } }"""


async def test_json_segments_with_an_upstream_sentiment_use_it_for_the_customer(http, writable, scene):
    body = json_body(scene, externalId="rec-4711")
    sentiments = {
        2: {"label": "NEGATIVE", "score": -0.6},
        4: {"label": "POSITIVE", "score": 0.8},
        5: {"label": "NEUTRAL"},
    }
    for n, sentiment in sentiments.items():
        body["segments"][n]["sentiment"] = sentiment
    response = await http.post(URL, json=body, headers={"Authorization": f"Bearer {writable.admin_token}"})
    assert response.status_code == 201, response.text
    conversation_id = response.json()["conversation"]["id"]
    api = GraphQLClient(http, writable.admin_token)
    node = (await api.data(READ, {"id": conversation_id}))["node"]
    assert node["kind"] == "PHONE_CALL" and node["startedAt"] == "2026-06-02T07:00:00+00:00"
    assert [(s["sentiment"]["label"], s["sentiment"]["source"]) for s in node["transcript"]][2:6] == [
        ("NEGATIVE", "UPSTREAM"),
        ("NEUTRAL", "SCORER"),  # a seller's segment ("Vores 3D printer kører STL.")
        ("POSITIVE", "UPSTREAM"),
        ("NEUTRAL", "UPSTREAM"),
    ]
    analysis = node["analysis"]
    # (-0.6 * 20 + 0.8 * 30 + 0 * 10) / 60
    assert analysis["customerSentiment"] == {
        "label": "POSITIVE",
        "score": pytest.approx(0.2),
        "positiveSegments": 1,
        "neutralSegments": 1,
        "negativeSegments": 1,
    }
    assert analysis["longestCustomerMonologue"] == {
        "startSeconds": 56.0,
        "durationSeconds": 41.0,
        "speaker": {"name": OLE},
    }
    assert analysis["longestSellerMonologue"] == {
        "startSeconds": 0.0,
        "durationSeconds": 30.0,
        "speaker": {"name": KARI},
    }
    assert (analysis["sellerTalkSeconds"], analysis["customerTalkSeconds"]) == (54.0, 60.0)
    # No duration given: the transcript's 120 s, so 4 switches are 120 an hour.
    assert (node["durationSeconds"], analysis["switchesPerHour"]) == (120, 120.0)


async def test_a_retry_with_the_same_idempotency_key_stores_nothing_new(http, writable, scene):
    query = vtt_query(scene, externalId="rec-retry")
    first = await post_vtt(http, writable.admin_token, webvtt(LINES), query, key="call-2026-06-01-kari")
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    before = await stored(writable.engine)
    again = await post_vtt(http, writable.admin_token, webvtt(LINES), query, key="call-2026-06-01-kari")
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await stored(writable.engine) == before
    other = await post_vtt(http, writable.admin_token, webvtt(LINES[:3]), query, key="call-2026-06-01-kari")
    assert other.status_code == 422
    assert error_of(other)["code"] == "IDEMPOTENCY_KEY_REUSED" and error_of(other)["field"] == "idempotencyKey"
    assert await stored(writable.engine) == before


def _overlap(scene):
    body = json_body(scene)
    body["segments"][2]["start"] = 25
    return {"json": body}


def _negative(scene):
    body = json_body(scene)
    body["segments"][0]["start"] = -1.5
    return {"json": body}


def _unknown_speaker(scene):
    return {"vtt": webvtt([*LINES[:2], ("Mette Holm", 30, 40, "Hej, jeg er også med.")])}


def _no_voice(scene):
    return {"vtt": webvtt(LINES).replace(f"<v {OLE}>", "", 1)}


def _malformed(scene):
    return {"vtt": webvtt(LINES).replace("WEBVTT", "WEBVT")}


GERMAN = [
    (KARI, 0, 10, "Guten Tag, wie geht es Ihnen mit den Druckern?"),
    (OLE, 10, 20, "Nicht so gut, wir haben Probleme mit der Lieferung und dem Preis."),
]


def _german(scene):
    return {"vtt": webvtt(GERMAN)}


def _declared_english(scene):
    return {"vtt": webvtt(LINES), "query": {"language": "en"}}


def _fifty_megabytes(scene):
    return {"vtt": "WEBVTT\n\n" + "x" * (50 * 1024 * 1024)}


def _not_json(scene):
    return {"raw": (b"{kind: PHONE_CALL", "application/json")}


def _unknown_field(scene):
    return {"json": json_body(scene, recordingUrl="https://example.org/call.mp3")}


def _plain_text(scene):
    return {"raw": (webvtt(LINES).encode(), "text/plain")}


def _foreign_opportunity(scene):
    return {"json": json_body(scene, opportunityId=ids.encode("Opportunity", scene["foreign_opportunity"]))}


def _customer_user(scene):
    body = json_body(scene)
    body["speakers"][2] = {"name": OLE, "side": "CUSTOMER", "userId": ids.encode("User", scene["rep"])}
    return {"json": body}


BAD = {
    "overlapping segments": (_overlap, 422, "OVERLAPPING_SEGMENTS", "segments[2].start"),
    "a negative time": (_negative, 422, "NEGATIVE_TIME", "segments[0].start"),
    "an unknown speaker": (_unknown_speaker, 422, "UNKNOWN_SPEAKER", "webvtt"),
    "a cue without a voice": (_no_voice, 422, "MISSING_VOICE", "webvtt"),
    "malformed WebVTT": (_malformed, 422, "MALFORMED_WEBVTT", "webvtt"),
    "a language we cannot read": (_german, 422, "UNREADABLE_LANGUAGE", "webvtt"),
    "a declared language the transcript is not in": (_declared_english, 422, "UNREADABLE_LANGUAGE", "language"),
    "a 50 MB body": (_fifty_megabytes, 413, "PAYLOAD_TOO_LARGE", None),
    "a body that is not JSON": (_not_json, 400, "BAD_REQUEST", None),
    "an unknown field": (_unknown_field, 422, "VALIDATION", "recordingUrl"),
    "a body that is neither JSON nor WebVTT": (_plain_text, 415, "UNSUPPORTED_MEDIA_TYPE", None),
    "a deal on another account": (_foreign_opportunity, 422, "VALIDATION", "opportunityId"),
    "a customer who is a user": (_customer_user, 422, "BAD_SPEAKER", "speakers[2].userId"),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_input_is_refused_with_what_is_wrong_and_nothing_is_stored(http, writable, scene, case):
    build, status, code, field = BAD[case]
    async with writable.engine.connect() as conn:
        scene["foreign_opportunity"] = (
            await conn.execute(
                select(tables.opportunities.c.id)
                .join(tables.accounts, tables.accounts.c.id == tables.opportunities.c.account_id)
                .where(tables.accounts.c.id != scene["account"], tables.accounts.c.is_private.is_(False))
                .limit(1)
            )
        ).scalar_one()
    request = build(scene)
    before = await stored(writable.engine)
    headers = {"Authorization": f"Bearer {writable.admin_token}", "Idempotency-Key": f"bad-{case}"}
    if "json" in request:
        response = await http.post(URL, json=request["json"], headers=headers)
    elif "vtt" in request:
        query = vtt_query(scene, **request.get("query", {}))
        response = await http.post(
            URL, content=request["vtt"].encode(), params=query, headers={**headers, "Content-Type": "text/vtt"}
        )
    else:
        content, content_type = request["raw"]
        response = await http.post(URL, content=content, headers={**headers, "Content-Type": content_type})
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["code"] == code and error.get("field") == field, error
    assert await stored(writable.engine) == before


async def test_an_account_the_caller_may_not_see_is_refused_as_a_missing_one(http, writable, scene):
    rep = next(u for u in scene["users"] if u.id == scene["rep"])
    token = await issue_token(writable.engine, name="rep recorder", user_id=rep.id)
    world = World(await _world_rows(writable.engine), {"SALES_REP": Caller("SALES_REP", token, user_id=rep.id)})
    hidden = min(a.id for a in world.rows["accounts"] if a.id not in world.accounts(world.callers["SALES_REP"]))
    before = await stored(writable.engine)
    answers = []
    for account in (ids.encode("Account", hidden), ids.encode("Account", 1_999_999)):
        body = json_body(scene, accountId=account)
        body["speakers"] = [
            {"name": KARI, "side": "SELLER"},
            {"name": PER, "side": "SELLER"},
            {"name": OLE, "side": "CUSTOMER"},
        ]
        response = await http.post(URL, json=body, headers={"Authorization": f"Bearer {token}"})
        answers.append((response.status_code, response.text.replace(account, "<id>")))
    assert answers[0] == answers[1] and answers[0][0] == 422
    assert await stored(writable.engine) == before


async def test_a_caller_without_a_token_or_the_scope_is_refused(http, writable, scene):
    anonymous = await http.post(URL, json=json_body(scene))
    assert anonymous.status_code == 401 and error_of(anonymous)["code"] == "UNAUTHENTICATED"
    reader = await issue_token(writable.engine, name="reader", user_id=scene["admin"], scopes=["conversations:read"])
    refused = await http.post(URL, json=json_body(scene), headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403 and error_of(refused)["code"] == "INSUFFICIENT_SCOPE"


# --- the mutation ---

RECORD = """mutation($input: RecordConversationInput!) { recordConversation(input: $input) {
  __typename
  ... on RecordConversationPayload { replayed conversation { id language
    analysis { talkPercent speakerSwitches customerSentiment { label score } names { name isNew } } } }
  ... on ValidationError { code field message } ... on UserError { code message } } }"""


def mutation_input(scene: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = json_body(scene, **extra)
    body["segments"][4]["sentiment"] = {"label": "NEGATIVE", "score": -0.9}
    return body


async def test_record_conversation_runs_the_same_workflow_as_the_webhook(api, writable, scene):
    before = await stored(writable.engine)
    made = (await api.data(RECORD, {"input": mutation_input(scene, idempotencyKey="mutation-1")}))["recordConversation"]
    assert made["__typename"] == "RecordConversationPayload" and made["replayed"] is False
    conversation = made["conversation"]
    assert conversation["language"] == "DA"
    assert (conversation["analysis"]["talkPercent"], conversation["analysis"]["speakerSwitches"]) == (47.4, 4)
    # The customer spoke 60 s: "Contoso er dyr" (scored), the upstream -0.9 for 30 s, "fine" (scored).
    assert conversation["analysis"]["customerSentiment"]["label"] == "NEGATIVE"
    after = await stored(writable.engine)
    assert (
        after["conversations"] == before["conversations"] + 1
        and after["conversation_segments"] == before["conversation_segments"] + 7
    )
    again = (await api.data(RECORD, {"input": mutation_input(scene, idempotencyKey="mutation-1")}))[
        "recordConversation"
    ]
    assert again["replayed"] is True and again["conversation"]["id"] == conversation["id"]
    assert await stored(writable.engine) == after
    bad = mutation_input(scene)
    bad["segments"][3]["start"] = 45
    refused = (await api.data(RECORD, {"input": bad}))["recordConversation"]
    assert refused["__typename"] == "ValidationError" and refused["field"] == "segments[3].start"
    assert "overlaps" in refused["message"]
    assert await stored(writable.engine) == after


# --- who sees which conversation ---


async def _world_rows(engine) -> dict[str, list]:
    names = ["users", "accounts", "opportunities", "contacts", "conversations", "conversation_participants"]
    async with engine.connect() as conn:
        return {name: list(await conn.execute(select(getattr(tables, name)))) for name in names}


async def test_a_conversation_linked_to_nothing_is_its_owners_and_a_hidden_speaker_hides_it(api, writable, scene):
    async with writable.engine.connect() as conn:
        users = list(await conn.execute(select(tables.users)))
    rep = next(u for u in users if u.role == "SALES_REP" and u.team_id is not None)
    colleague = next(u for u in users if u.role == "SALES_REP" and u.team_id != rep.team_id)
    director = next(u for u in users if u.role == "SALES_DIRECTOR" and u.team_id == rep.team_id)
    callers = {
        "ADMIN": Caller("ADMIN", writable.admin_token, user_id=writable.summary.admin_user_id),
        "SALES_DIRECTOR": Caller(
            "SALES_DIRECTOR", await issue_token(writable.engine, name="d", user_id=director.id), director.id
        ),
        "SALES_REP": Caller("SALES_REP", await issue_token(writable.engine, name="r", user_id=rep.id), rep.id),
        "OTHER_REP": Caller(
            "SALES_REP", await issue_token(writable.engine, name="o", user_id=colleague.id), colleague.id
        ),
        "PARTNER": Caller("PARTNER", writable.partner_token, partner_id=writable.summary.partner_id),
    }
    world = World(await _world_rows(writable.engine), callers)
    seen = world.accounts(callers["SALES_REP"])
    visible = next(a for a in world.rows["accounts"] if a.id in seen and not a.is_private)
    admin_sees = world.accounts(callers["ADMIN"])
    stranger = next(
        x
        for x in world.rows["contacts"]
        if x.account_id is not None and x.account_id not in seen and x.account_id in admin_sees
    )
    unlinked = json_body(scene, ownerId=ids.encode("User", rep.id), accountId=None)
    unlinked["speakers"][2].pop("contactId")
    hidden_speaker = json_body(scene, ownerId=ids.encode("User", rep.id), accountId=ids.encode("Account", visible.id))
    hidden_speaker["speakers"][2]["contactId"] = ids.encode("Contact", stranger.id)
    made = []
    for body in (unlinked, hidden_speaker):
        result = (await api.data(RECORD, {"input": body}))["recordConversation"]
        assert result["__typename"] == "RecordConversationPayload", result
        made.append(ids.decode(result["conversation"]["id"])[1])
    world = World(await _world_rows(writable.engine), callers)
    # The unlinked one is its owner's, their director's and the admins'; the one with a speaker the rep may not
    # see is hidden from the rep although the rep sees its account.
    assert world.conversations(callers["SALES_REP"]) & set(made) == {made[0]}
    assert world.conversations(callers["ADMIN"]) & set(made) == {made[0], made[1]}
    assert made[0] in world.conversations(callers["SALES_DIRECTOR"])
    assert made[0] not in world.conversations(callers["OTHER_REP"]) | world.conversations(callers["PARTNER"])
    for role, caller in callers.items():
        expected = {role: world.conversations(caller) & set(made)}
        nodes = (
            await api.data(
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                {"ids": [ids.encode("Conversation", pk) for pk in made]},
                caller.token,
            )
        )["nodes"]
        assert {ids.decode(n["id"])[1] for n in nodes if n} == expected[role], role
        listed = (
            await api.data(
                "query($owner: ID) { conversations(first: 100, filter: {ownerId: $owner}) { totalCount nodes { id } } }",
                {"owner": ids.encode("User", rep.id)},
                caller.token,
            )
        )["conversations"]
        shown = {ids.decode(n["id"])[1] for n in listed["nodes"]}
        mine = {x.id for x in world.rows["conversations"] if x.owner_id == rep.id} & world.conversations(caller)
        assert shown == mine and listed["totalCount"] == len(mine), role


async def test_a_partner_records_and_sees_conversations_about_its_own_accounts_only(api, writable, scene):
    partner = Caller("PARTNER", writable.partner_token, partner_id=writable.summary.partner_id)
    world = World(await _world_rows(writable.engine), {"PARTNER": partner})
    own = next(a for a in world.rows["accounts"] if a.id in world.accounts(partner))
    body = json_body(scene, ownerId=ids.encode("User", scene["admin"]), accountId=ids.encode("Account", own.id))
    body["speakers"][2].pop("contactId")
    made = (await api.data(RECORD, {"input": body}, writable.partner_token))["recordConversation"]
    assert made["__typename"] == "RecordConversationPayload", made
    unlinked = json_body(scene, ownerId=ids.encode("User", scene["admin"]), accountId=None)
    unlinked["speakers"][2].pop("contactId")
    refused = (await api.data(RECORD, {"input": unlinked}, writable.partner_token))["recordConversation"]
    assert refused == {
        "__typename": "ValidationError",
        "code": "VALIDATION",
        "field": "accountId",
        "message": refused["message"],
    }
    world = World(await _world_rows(writable.engine), {"PARTNER": partner})
    listed = (await api.data("{ conversations(first: 100) { totalCount nodes { id } } }", token=partner.token))[
        "conversations"
    ]
    assert {ids.decode(n["id"])[1] for n in listed["nodes"]} == world.conversations(partner)
    assert ids.decode(made["conversation"]["id"])[1] in world.conversations(partner)
    terms = (await api.data("{ trackedTerms { id } }", token=partner.token))["trackedTerms"]
    assert terms == []
    mentions = (
        await api.data(
            "query($id: ID!) { node(id: $id) { ... on Conversation { analysis { keywordMentions mentions { count } } } } }",
            {"id": made["conversation"]["id"]},
            partner.token,
        )
    )["node"]["analysis"]
    assert mentions["keywordMentions"] > 0 and mentions["mentions"] == []  # which terms the company tracks is internal


# --- reading many at once ---

LIST = """query($first: Int) { conversations(first: $first, orderBy: {field: STARTED_AT, direction: DESC}) { nodes { id
  owner { name } account { name } participants { name contact { id } }
  transcript { position text speaker { name } sentiment { label } }
  analysis { talkPercent longestSellerMonologue { speaker { name } } mentions { count term { name } } names { name isNew } } } } }"""


async def test_reading_conversations_with_transcripts_and_analyses_costs_the_same_statements_for_5_or_50(api, writable):
    counts = []
    await api.post(LIST, {"first": 1})  # the process keeps the token's lookup from here on
    for first in (5, 50):
        response = await api.post(LIST, {"first": first})
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        assert len(response.json()["data"]["conversations"]["nodes"]) == first
        counts.append(statements(response))
    # The page, then one statement per relation whatever the number of conversations: owner, account,
    # speakers, their contacts, transcripts (whose speakers come from the speakers' batch), analyses,
    # mentions, their terms, names (the token comes from the process's cache).
    assert counts[0] == counts[1] == 10, counts


# --- tracked terms ---

TERM = """mutation($input: CreateTrackedTermInput!) { createTrackedTerm(input: $input) {
  __typename ... on TrackedTermPayload { trackedTerm { id name kind variants language version } }
  ... on UserError { code message } } }"""
UPDATE_TERM = """mutation($input: UpdateTrackedTermInput!) { updateTrackedTerm(input: $input) {
  __typename ... on TrackedTermPayload { trackedTerm { name variants language version } } ... on UserError { code message } } }"""
DELETE_TERM = """mutation($input: DeleteTrackedTermInput!) { deleteTrackedTerm(input: $input) {
  __typename ... on DeletedPayload { deletedId } ... on UserError { code message } } }"""
PROGRESS = "{ conversationAnalysis { termsRevision conversations analysed pending done } }"


async def test_only_admins_change_the_tracked_terms_and_every_change_moves_the_revision(api, writable, scene):
    rep_token = await issue_token(writable.engine, name="rep terms", user_id=scene["rep"])
    refused = await api.post(TERM, {"input": {"kind": "KEYWORD", "name": "Onboarding"}}, rep_token)
    assert refused.status_code == 403 and refused.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    partner = await api.post(TERM, {"input": {"kind": "KEYWORD", "name": "Onboarding"}}, writable.partner_token)
    assert partner.status_code == 403
    start = (await api.data(PROGRESS))["conversationAnalysis"]["termsRevision"]
    made = await api.data(
        TERM, {"input": {"kind": "KEYWORD", "name": "Onboarding", "variants": ["kom godt i gang"], "language": "DA"}}
    )
    term = made["createTrackedTerm"]["trackedTerm"]
    assert (term["name"], term["variants"], term["language"]) == ("Onboarding", ["kom godt i gang"], "DA")
    twice = (await api.data(TERM, {"input": {"kind": "KEYWORD", "name": "onboarding"}}))["createTrackedTerm"]
    assert twice["__typename"] == "ConflictError" and "tracked already" in twice["message"]
    changed = (await api.data(UPDATE_TERM, {"input": {"id": term["id"], "version": 1, "language": None}}))[
        "updateTrackedTerm"
    ]
    assert changed["trackedTerm"]["language"] is None and changed["trackedTerm"]["version"] == 2
    gone = (await api.data(DELETE_TERM, {"input": {"id": term["id"]}}))["deleteTrackedTerm"]
    assert gone == {"__typename": "DeletedPayload", "deletedId": term["id"]}
    assert (await api.data(PROGRESS))["conversationAnalysis"]["termsRevision"] == start + 3


NAMES = """query($id: ID!) { node(id: $id) { ... on Conversation { analysis { termsRevision newNames
  mentions { segment side count term { name } } names { name customerMentions isNew } } } } }"""


async def test_a_term_change_analyses_past_conversations_again_in_the_background(api, writable, scene):
    await Reanalyser(writable.engine).run_pending()  # what earlier tests left
    lines = [*LINES[:4], (OLE, 56, 86, "Vi har også set på Quillwright og deres service."), *LINES[5:6], LINES[6]]
    lines[5] = (OLE, 87, 97, "Quillwright er hurtige.")
    recorded = (await api.data(RECORD, {"input": json_body(scene, lines=lines)}))["recordConversation"]
    conversation_id = recorded["conversation"]["id"]
    before = (await api.data(NAMES, {"id": conversation_id}))["node"]["analysis"]
    assert {"name": "Quillwright", "customerMentions": 2, "isNew": True} in before["names"]
    made = (await api.data(TERM, {"input": {"kind": "COMPETITOR", "name": "Quillwright"}}))["createTrackedTerm"]
    progress = (await api.data(PROGRESS))["conversationAnalysis"]
    total = (await stored(writable.engine))["conversations"]  # the admin does not see others' private accounts'
    assert (progress["analysed"], progress["done"]) == (0, False) and 0 < progress["pending"] <= total
    assert await Reanalyser(writable.engine, batch=40).run_pending() == total
    seen = progress["conversations"]
    progress = (await api.data(PROGRESS))["conversationAnalysis"]
    assert (progress["conversations"], progress["analysed"], progress["pending"], progress["done"]) == (
        seen,
        seen,
        0,
        True,
    )
    after = (await api.data(NAMES, {"id": conversation_id}))["node"]["analysis"]
    assert after["termsRevision"] == progress["termsRevision"]
    assert [m for m in after["mentions"] if m["term"]["name"] == "Quillwright"] == [
        {"segment": 4, "side": "CUSTOMER", "count": 1, "term": {"name": "Quillwright"}},
        {"segment": 5, "side": "CUSTOMER", "count": 1, "term": {"name": "Quillwright"}},
    ]
    assert all(n["name"] != "Quillwright" for n in after["names"]) and after["newNames"] == before["newNames"] - 1
    async with writable.engine.connect() as conn:
        batches = list(
            await conn.execute(
                select(tables.outbox_events.c.data).where(tables.outbox_events.c.type == "ConversationsReanalysed")
            )
        )
    assert [b.data["remaining"] for b in batches[-((total + 39) // 40) :]][-1] == 0
    await api.data(DELETE_TERM, {"input": {"id": made["trackedTerm"]["id"]}})
    await Reanalyser(writable.engine).run_pending()
    restored = (await api.data(NAMES, {"id": conversation_id}))["node"]["analysis"]
    assert {"name": "Quillwright", "customerMentions": 2, "isNew": True} in restored["names"]
    assert all(m["term"]["name"] != "Quillwright" for m in restored["mentions"])


async def test_the_background_worker_of_a_running_server_picks_up_a_term_change(writable):
    async with (
        live_server(writable.url, dispatch=False, schedule=False) as server,
        httpx.AsyncClient(base_url=server.url, timeout=60) as client,
    ):
        api = GraphQLClient(client, writable.admin_token)
        made = (await api.data(TERM, {"input": {"kind": "KEYWORD", "name": "leveringstid"}}))["createTrackedTerm"]
        revision = None
        for _ in range(600):  # the worker was woken by the commit; give it up to a minute on a loaded machine
            progress = (await api.data(PROGRESS))["conversationAnalysis"]
            revision = progress["termsRevision"]
            if progress["done"]:
                break
            await asyncio.sleep(0.1)
        assert progress["done"], progress
        async with writable.engine.connect() as conn:
            mentions = (
                await conn.execute(
                    select(func.coalesce(func.sum(tables.conversation_mentions.c.count), 0)).where(
                        tables.conversation_mentions.c.term_id == ids.decode(made["trackedTerm"]["id"])[1]
                    )
                )
            ).scalar_one()
            said = (
                await conn.execute(
                    select(func.count())
                    .select_from(tables.conversation_segments)
                    .where(tables.conversation_segments.c.text.contains("leveringstid"))
                )
            ).scalar_one()
        # The demo's Danish and Norwegian complaint about "leveringstiden", once a segment.
        assert said > 0 and mentions == said
        assert revision is not None
        await api.data(DELETE_TERM, {"input": {"id": made["trackedTerm"]["id"]}})


# --- which conversation a name is new in ---


async def test_a_name_is_new_in_the_earliest_conversation_that_mentions_it_whatever_the_order_of_recording(
    api, writable, scene
):
    def with_brand(started: str) -> dict[str, Any]:
        lines = [
            *LINES[:4],
            (OLE, 56, 86, "Vi har fået et tilbud fra Brightloom i går."),
            (OLE, 87, 97, "De er hurtige."),
            LINES[6],
        ]
        return json_body(scene, lines=lines, startedAt=started)

    later = (await api.data(RECORD, {"input": with_brand("2026-05-20T10:00:00Z")}))["recordConversation"]
    earlier = (await api.data(RECORD, {"input": with_brand("2026-05-10T10:00:00Z")}))["recordConversation"]

    async def state(conversation: dict[str, Any]) -> tuple[bool, int]:
        analysis = (await api.data(NAMES, {"id": conversation["conversation"]["id"]}))["node"]["analysis"]
        [brand] = [n for n in analysis["names"] if n["name"] == "Brightloom"]
        return brand["isNew"], analysis["newNames"]

    later_new, later_count = await state(later)
    earlier_new, earlier_count = await state(earlier)
    assert (later_new, later_count, earlier_new, earlier_count) == (False, 0, True, 1)
    deleted = await api.data(
        "mutation($input: DeleteConversationInput!) { deleteConversation(input: $input) { __typename } }",
        {"input": {"id": earlier["conversation"]["id"]}},
    )
    assert deleted["deleteConversation"]["__typename"] == "DeletedPayload"
    assert await state(later) == (True, 1)
    async with writable.engine.connect() as conn:
        firsts = list(
            await conn.execute(
                select(tables.conversation_names.c.key, func.count())
                .where(tables.conversation_names.c.is_first.is_(True))
                .group_by(tables.conversation_names.c.key)
                .having(func.count() > 1)
            )
        )
        keys = (await conn.execute(select(func.count(func.distinct(tables.conversation_names.c.key))))).scalar_one()
        first_rows = (
            await conn.execute(
                select(func.count())
                .select_from(tables.conversation_names)
                .where(tables.conversation_names.c.is_first.is_(True))
            )
        ).scalar_one()
    assert firsts == [] and first_rows == keys  # exactly one first conversation per name


# --- the names' first mentions stay what a recount gives ---

BRANDS = ["Alderbrook", "Birchfield", "Cobalt Works", "Dunmore", "Elmstead"]
TERM_BY_NAME = """query { trackedTerms(kind: COMPETITOR) { id name } }"""


async def recount_differences(engine) -> list[str]:
    """Every name whose first conversation, and every analysis whose count of new names, differs from what
    the names' rows give when counted again from scratch."""
    n, a = tables.conversation_names, tables.conversation_analyses
    async with engine.connect() as conn:
        rows = list(await conn.execute(select(n)))
        counts = {
            r.conversation_id: r.new_names for r in await conn.execute(select(a.c.conversation_id, a.c.new_names))
        }
    earliest: dict[str, tuple[Any, int]] = {}
    for r in rows:
        earliest[r.key] = min(earliest.get(r.key, (r.started_at, r.conversation_id)), (r.started_at, r.conversation_id))
    found = [
        f"{r.key} in conversation {r.conversation_id}: is_first {r.is_first}"
        for r in rows
        if r.is_first != (earliest[r.key][1] == r.conversation_id)
    ]
    new: dict[int, int] = {}
    for r in rows:
        if earliest[r.key][1] == r.conversation_id and r.customer_mentions > 0:
            new[r.conversation_id] = new.get(r.conversation_id, 0) + 1
    found += [
        f"conversation {c}: new_names {stored} for {new.get(c, 0)}"
        for c, stored in counts.items()
        if stored != new.get(c, 0)
    ]
    return found


async def test_first_mentions_and_new_name_counts_equal_a_recount_after_a_random_history(api, writable, scene):
    import random

    rng = random.Random(1616)
    made: list[str] = []
    for step in range(30):
        roll = rng.random()
        if roll < 0.55 or not made:
            said = rng.sample(BRANDS, rng.randint(1, 3))
            lines = [(KARI, 0, 10, "Hej Ole, hvad bruger I i dag?")]
            at = 10
            for brand in said:
                who = OLE if rng.random() < 0.7 else KARI
                lines.append((who, at, at + 10, f"Vi har kigget på {brand}, og det er et godt system."))
                at += 10
            started = f"2026-0{rng.randint(1, 5)}-{rng.randint(10, 28)}T{rng.randint(10, 16)}:00:00Z"
            result = (await api.data(RECORD, {"input": json_body(scene, lines=lines, startedAt=started)}))[
                "recordConversation"
            ]
            made.append(result["conversation"]["id"])
        elif roll < 0.75:
            gone = made.pop(rng.randrange(len(made)))
            await api.data(
                "mutation($input: DeleteConversationInput!) { deleteConversation(input: $input) { __typename } }",
                {"input": {"id": gone}},
            )
        else:
            brand = rng.choice(BRANDS)
            tracked = {t["name"]: t["id"] for t in (await api.data(TERM_BY_NAME))["trackedTerms"]}
            if brand in tracked:
                await api.data(DELETE_TERM, {"input": {"id": tracked[brand]}})
            else:
                await api.data(TERM, {"input": {"kind": "COMPETITOR", "name": brand}})
            await Reanalyser(writable.engine).run_pending()
        assert await recount_differences(writable.engine) == [], f"after step {step}"
    async with writable.engine.connect() as conn:
        keys = {r.key for r in await conn.execute(select(tables.conversation_names.c.key))}
    tracked = {t["name"].lower() for t in (await api.data(TERM_BY_NAME))["trackedTerms"]}
    assert {b.lower() for b in BRANDS} - tracked <= keys  # every brand not tracked is a name somewhere
    assert not ({b.lower() for b in BRANDS} & tracked & keys)  # a tracked one is a term, not a name
    for term in (await api.data(TERM_BY_NAME))["trackedTerms"]:
        if term["name"] in BRANDS:
            await api.data(DELETE_TERM, {"input": {"id": term["id"]}})
    await Reanalyser(writable.engine).run_pending()


async def test_conversations_recorded_at_once_agree_on_which_is_first_to_mention_a_name(pg_api, pg_writable):
    """PostgreSQL, several connections writing at once: the name's lock makes them take turns."""
    async with pg_writable.engine.connect() as conn:
        contact = (
            await conn.execute(
                select(tables.contacts)
                .join(tables.accounts, tables.accounts.c.id == tables.contacts.c.account_id)
                .where(tables.accounts.c.is_private.is_(False))
                .limit(1)
            )
        ).one()
    local = {"account": contact.account_id, "contact": contact.id, "admin": pg_writable.summary.admin_user_id}
    lines = [
        (KARI, 0, 10, "Hej Ole, hvad bruger I i dag?"),
        (OLE, 10, 20, "Vi bruger Zephyrine, det er et godt system."),
    ]
    bodies = [json_body(local, lines=lines, startedAt=f"2026-03-{10 + n}T10:00:00Z") for n in range(8)]
    results = await asyncio.gather(*(pg_api.data(RECORD, {"input": body}) for body in reversed(bodies)))
    assert all(r["recordConversation"]["__typename"] == "RecordConversationPayload" for r in results)
    async with pg_writable.engine.connect() as conn:
        firsts = list(
            await conn.execute(
                select(tables.conversation_names.c.started_at).where(
                    tables.conversation_names.c.key == "zephyrine", tables.conversation_names.c.is_first
                )
            )
        )
    assert [f.started_at.day for f in firsts] == [10]
    assert await recount_differences(pg_writable.engine) == []
