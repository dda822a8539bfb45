"""conversationInsightsUpdated over a real WebSocket against a real server, on SQLite and PostgreSQL: the page
at once; a conversation posted as WebVTT over HTTP to /ingest/conversations appears in the next push; a
retry with the same Idempotency-Key stores nothing and pushes nothing (the next push is the next real
change); the last push equals the query's answer; subscribers of one shape share one topic."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from gql import ids
from persistence import tables
from tests.conftest import GraphQLClient
from tests.integration.test_conversations import KARI, LINES, OLE, PER, post_vtt, webvtt
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

WAIT = 30.0
MAY = {"period": {"from": "2031-05-01T00:00:00Z", "to": "2031-06-01T00:00:00Z"}}
FIGURE = "{ value previous change series { startsOn value } }"
FIELDS = f"""eventId customers {{ callsAnalysed {FIGURE} averageSentiment {FIGURE} negative {FIGURE}
  competitors {{ name mentions }} newNames {{ name }} }}
  recording {{ callsRecorded {FIGURE} hoursRecorded {FIGURE} }}
  bestSellers {{ team {{ calls talkPercent switchesPerHour }} }}"""
QUERY = f"query($period: PeriodInput!) {{ conversationInsights(period: $period) {{ {FIELDS} }} }}"
UPDATED = f"subscription($period: PeriodInput!) {{ conversationInsightsUpdated(period: $period) {{ {FIELDS} }} }}"


def vtt(admin: int, started: str) -> list[tuple[str, str]]:
    return [
        ("kind", "ONLINE_MEETING"),
        ("startedAt", started),
        ("durationSeconds", "150"),
        ("title", "Live"),
        ("seller", f"{KARI} <{ids.encode('User', admin)}>"),
        ("seller", PER),
        ("customer", OLE),
    ]


async def pushed(socket: GraphQLSocket, op: str) -> dict:
    result = await socket.next(op, WAIT)
    assert "errors" not in result, result
    return result["data"]["conversationInsightsUpdated"]


def shown(page: dict) -> dict:
    return {k: v for k, v in page.items() if k != "eventId"}


async def count(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(tables.conversations))).scalar_one()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_webvtt_upload_is_in_the_next_push_and_a_retry_pushes_nothing(writable, protocol):
    admin = writable.summary.admin_user_id
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        api = GraphQLClient(http, writable.admin_token)
        socket = await GraphQLSocket.open(server.url, writable.admin_token, protocol)
        op = await socket.subscribe(UPDATED, MAY)
        first = await pushed(socket, op)
        assert shown(first) == shown((await api.data(QUERY, MAY))["conversationInsights"])
        calls = int(first["customers"]["callsAnalysed"]["value"])

        key = f"live-{protocol}"
        started = "2031-05-10T09:00:00Z" if protocol == TRANSPORT_WS else "2031-05-11T09:00:00Z"
        response = await post_vtt(http, writable.admin_token, webvtt(LINES), vtt(admin, started), key=key)
        assert response.status_code == 201, response.text
        after = await pushed(socket, op)
        assert int(after["customers"]["callsAnalysed"]["value"]) == calls + 1
        assert int(after["eventId"]) > int(first["eventId"] or 0)
        assert shown(after) == shown((await api.data(QUERY, MAY))["conversationInsights"])
        day = started[:10]
        assert {"startsOn": day, "value": "1"} in after["recording"]["callsRecorded"]["series"]

        stored = await count(writable.engine)
        again = await post_vtt(http, writable.admin_token, webvtt(LINES), vtt(admin, started), key=key)
        assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
        assert again.json() == response.json() and await count(writable.engine) == stored
        # The retry moved nothing, so the next push is the one after the next real recording.
        other = await post_vtt(http, writable.admin_token, webvtt(LINES[:3]), vtt(admin, started), key=key + "-2")
        assert other.status_code == 201, other.text
        last = await pushed(socket, op)
        assert int(last["customers"]["callsAnalysed"]["value"]) == calls + 2
        assert shown(last) == shown((await api.data(QUERY, MAY))["conversationInsights"])
        await socket.close()


async def test_subscribers_of_one_page_share_its_topic_and_a_partner_sees_only_its_own(writable):
    admin = writable.summary.admin_user_id
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        api = GraphQLClient(http, writable.admin_token)
        sockets = [await GraphQLSocket.open(server.url, writable.admin_token) for _ in range(3)]
        partner = await GraphQLSocket.open(server.url, writable.partner_token)
        ops = [await s.subscribe(UPDATED, MAY) for s in sockets]
        firsts = [await pushed(s, op) for s, op in zip(sockets, ops)]
        partner_op = await partner.subscribe(UPDATED, MAY)
        partner_first = await pushed(partner, partner_op)
        response = await post_vtt(http, writable.admin_token, webvtt(LINES), vtt(admin, "2031-05-20T09:00:00Z"))
        assert response.status_code == 201
        answer = shown((await api.data(QUERY, MAY))["conversationInsights"])
        for s, op, first in zip(sockets, ops, firsts):
            page = await pushed(s, op)
            assert shown(page) == answer and page != first
        # The admin's unlinked call is not the partner's: its page did not move.
        partner_answer = (await api.data(QUERY, MAY, token=writable.partner_token))["conversationInsights"]
        assert shown(partner_answer) == shown(partner_first)
        assert partner_first["customers"]["callsAnalysed"]["value"] == "0"
        for s in [*sockets, partner]:
            await s.close()
