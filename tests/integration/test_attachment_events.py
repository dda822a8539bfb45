"""Attachment events over real WebSockets, on SQLite and PostgreSQL: uploading a file, a new version of it and
deleting it each write an event to the outbox (the event log), pushed live on `attachmentEvents` to whoever may
see the row the file is on (an admin and the rep whose account it is), never to a rep who may not see that row,
not even the deletion (told by the rules applied to the row as it was); and replayed in order from the log with
`since`."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from gql import ids
from gql.auth import issue_token
from persistence import tables
from tests.conftest import GraphQLClient
from tests.integration.test_files_and_imports import DELETE, ids_of, upload
from tests.support.live import live_server
from tests.support.ws import LEGACY_WS, TRANSPORT_WS, GraphQLSocket

WAIT = 30.0
EVENTS = """subscription($ids: [ID!], $onIds: [ID!], $since: ID) {
  attachmentEvents(ids: $ids, onIds: $onIds, since: $since) {
    eventId kind attachmentId onId name version fileName size attachment { id latestVersion } actorUser { id } } }"""


async def next_event(socket: GraphQLSocket, op: str) -> dict:
    result = await socket.next(op, WAIT)
    assert "errors" not in result, result
    return result["data"]["attachmentEvents"]


@pytest.fixture
async def live(writable):
    async with live_server(writable.url) as server, httpx.AsyncClient(base_url=server.url) as http:
        server.api = GraphQLClient(http, writable.admin_token)
        yield server


async def test_uploads_versions_and_deletions_are_events_told_only_to_who_sees_the_row(live, writable):
    async with writable.engine.connect() as conn:
        u = tables.users.c
        reps = list((await conn.execute(select(u.id).where(u.role == "SALES_REP").order_by(u.id))).scalars())
    rep = await issue_token(writable.engine, name="files events rep", user_id=reps[0])
    other = await issue_token(writable.engine, name="files events other rep", user_id=reps[1])
    api = live.api
    theirs = set(await ids_of(api, "accounts", other))
    account = next(a for a in await ids_of(api, "accounts", rep) if a not in theirs)  # the rep's, not the other's
    marker_account = next(iter(theirs))
    cursor = (await api.data("{ latestEventId }"))["latestEventId"]

    sockets = {}
    for n, (name, token) in enumerate((("admin", writable.admin_token), ("rep", rep), ("other", other))):
        socket = await GraphQLSocket.open(live.url, token, [TRANSPORT_WS, LEGACY_WS][n % 2])
        sockets[name] = (socket, await socket.subscribe(EVENTS, {}))
    rep_socket = sockets["rep"][0]
    on_account = await rep_socket.subscribe(EVENTS, {"onIds": [account]})

    rep_user = ids.encode("User", reps[0])
    watching = [(sockets["admin"][0], sockets["admin"][1]), (rep_socket, sockets["rep"][1]), (rep_socket, on_account)]

    async def told(kind: str, version: int, file_name: str | None, size: int | None) -> list[int]:
        """Every watcher's next event is this one (each change is awaited before the next: an event about a
        file deleted since is told to no one the rules limit); their event ids."""
        found = []
        for socket, op in watching:
            event = await next_event(socket, op)
            assert (event["kind"], event["version"], event["fileName"], event["size"]) == (
                kind,
                version,
                file_name,
                size,
            )
            assert event["attachmentId"] == attachment and event["onId"] == account and event["name"] == "offer.txt"
            assert event["actorUser"] == {"id": rep_user}
            assert (event["attachment"] is None) == (kind == "DELETED")
            found.append(int(event["eventId"]))
        return found

    first = await upload(api, rep, b"Offer, first draft", on=account, name="offer.txt", media="text/plain")
    assert first.status_code == 201, first.text
    attachment = first.json()["attachment"]["id"]
    uploaded = await told("UPLOADED", 1, "offer.txt", len(b"Offer, first draft"))
    second = await upload(
        api, rep, b"Offer, signed", attachment=attachment, name="offer-signed.txt", media="text/plain"
    )
    assert second.status_code == 201, second.text
    added = await told("VERSION_ADDED", 2, "offer-signed.txt", len(b"Offer, signed"))
    deleted = await api.data(DELETE, {"input": {"id": attachment}}, token=rep)
    assert deleted["deleteAttachment"]["deletedId"] == attachment
    gone = await told("DELETED", 2, None, None)
    assert len(set(uploaded)) == len(set(added)) == len(set(gone)) == 1 and uploaded[0] < added[0] < gone[0]

    # The other rep was told nothing: its first event is a file on an account it sees, uploaded after.
    marker = await upload(
        api, writable.admin_token, b"For everyone", on=marker_account, name="note.txt", media="text/plain"
    )
    assert marker.status_code == 201, marker.text
    socket, op = sockets["other"]
    told = await next_event(socket, op)
    assert (told["kind"], told["attachmentId"]) == ("UPLOADED", marker.json()["attachment"]["id"])

    # The event log, replayed after `since` by the same rules: the deletion (judged on the row as it was; the
    # events before it are about a row that is gone), then the file the other rep may see.
    replay = await rep_socket.subscribe(EVENTS, {"since": cursor, "ids": [attachment]})
    assert int((await next_event(rep_socket, replay))["eventId"]) == gone[0]
    replay = await socket.subscribe(EVENTS, {"since": cursor})
    assert (await next_event(socket, replay))["attachmentId"] == marker.json()["attachment"]["id"]
    for socket, _ in sockets.values():
        await socket.close()
