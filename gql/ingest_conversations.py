"""Recorded conversations over HTTP: `POST /ingest/conversations`, the webhook of call-recording and
meeting systems.

Two bodies: `application/json`, the whole conversation (`{"kind": …, "startedAt": …, "speakers": [...],
"segments": [...]}` or `"webvtt": "WEBVTT …"` instead of segments), or `text/vtt`, the WebVTT file itself
with the conversation's data in the query string (`?kind=ONLINE_MEETING&startedAt=…&seller=Kari Nordmann
<user id>&customer=Ole Hansen`). Authenticated like /graphql (`Authorization: Bearer <token>`, scope
`conversations:write`); with an `Idempotency-Key` header a repeated request gets the first answer back and
stores nothing. A refused request gets a 4xx whose `extensions.code` says what is wrong (e.g.
`OVERLAPPING_SEGMENTS`, `UNKNOWN_SPEAKER`, `UNREADABLE_LANGUAGE`, `PAYLOAD_TOO_LARGE`) and `field` where;
nothing is stored. This module only speaks HTTP: the recording itself is
`domain.workflows.conversations.record_conversation`, which `recordConversation` runs too."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from graphql import GraphQLError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from domain import errors
from domain.access import Principal
from domain.base import utcnow
from domain.enums import ConversationKind, Language, SentimentLabel, Side
from domain.scopes import Scope
from domain.sentiment import builtin_scorer
from domain.transcripts import NewSegment, Speaker, TranscriptProblem, TranscriptRejected
from domain.workflows.conversations import RecordConversation, Recorded, record_conversation
from gql import ids
from gql.auth import principal_for
from gql.context import actor_of
from gql.ingest import IngestError, _error_of, _json
from gql.schema.mutations.conversations import OUTCOMES, STORE, milliseconds
from gql.scopes import InsufficientScope, require
from persistence import tables
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("salesgraph.ingest")

MAX_BODY_BYTES = 5 << 20  # a WebVTT of 4 million characters and its JSON around it
PATH = "POST /ingest/conversations"
FIELDS = (
    "kind",
    "startedAt",
    "title",
    "durationSeconds",
    "language",
    "ownerId",
    "accountId",
    "contactId",
    "opportunityId",
    "externalId",
    "speakers",
    "segments",
    "webvtt",
)
IDS = {"ownerId": "User", "accountId": "Account", "contactId": "Contact", "opportunityId": "Opportunity"}
LANGUAGES = {"da": Language.DA, "no": Language.NO, "nb": Language.NO, "sv": Language.SV, "en": Language.EN}
QUERY_SPEAKER = re.compile(r"^\s*(?P<name>[^<>]+?)\s*(?:<\s*(?P<id>[^<>\s]+)\s*>)?\s*$")


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise errors.ValidationError(field, "must be a string")
    return value


def _optional_text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    return None if value is None else _text(value, field)


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise errors.ValidationError(field, "must be a number (seconds)")
    return float(value)


def _whole(value: Any, field: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
        raise errors.ValidationError(field, "must be a whole number of seconds")
    return value


def _enum(kind: type, value: Any, field: str) -> Any:
    names = ", ".join(m.value for m in kind)
    if not isinstance(value, str) or value.strip().upper() not in {m.value for m in kind}:
        raise errors.ValidationError(field, f"must be one of {names}")
    return kind(value.strip().upper())


def _language(value: Any) -> Language | None:
    if value is None:
        return None
    found = LANGUAGES.get(value.strip().lower()) if isinstance(value, str) else None
    if found is None:
        raise errors.ValidationError("language", "must be da, no (Bokmål; nb is taken too), sv or en")
    return found


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(value, "startedAt"))
    except ValueError:
        raise errors.ValidationError("startedAt", "must be an ISO 8601 time, e.g. 2026-06-01T10:00:00Z") from None
    if moment.tzinfo is None:
        raise errors.ValidationError("startedAt", "give the time with its offset, e.g. 2026-06-01T10:00:00Z")
    return moment


def _gid(value: Any, expected: str, field: str) -> int | None:
    if value is None:
        return None
    try:
        return ids.decode_as(_text(value, field), expected)
    except GraphQLError as error:
        raise errors.ValidationError(field, error.message) from None


def _speaker(data: Any, where: str) -> Speaker:
    if not isinstance(data, dict):
        raise errors.ValidationError(where, "a speaker is an object: {name, side, userId?, contactId?}")
    unknown = sorted(set(data) - {"name", "side", "userId", "contactId"})
    if unknown:
        raise errors.ValidationError(f"{where}.{unknown[0]}", "is not a speaker field (name, side, userId, contactId)")
    return Speaker(
        name=_text(data.get("name"), f"{where}.name"),
        side=_enum(Side, data.get("side"), f"{where}.side"),
        user_id=_gid(data.get("userId"), "User", f"{where}.userId"),
        contact_id=_gid(data.get("contactId"), "Contact", f"{where}.contactId"),
    )


def _segment(data: Any, where: str) -> NewSegment:
    if not isinstance(data, dict):
        raise errors.ValidationError(where, "a segment is an object: {speaker, start, end, text, sentiment?}")
    unknown = sorted(set(data) - {"speaker", "start", "end", "text", "sentiment"})
    if unknown:
        raise errors.ValidationError(
            f"{where}.{unknown[0]}", "is not a segment field (speaker, start, end, text, sentiment)"
        )
    sentiment = data.get("sentiment")
    label = score = None
    if sentiment is not None:
        if not isinstance(sentiment, dict) or set(sentiment) - {"label", "score"}:
            raise TranscriptRejected(
                TranscriptProblem.BAD_SENTIMENT,
                f"{where}.sentiment",
                "a sentiment is {label, score?}: a label with a score from -1 to 1",
            )
        label = _enum(SentimentLabel, sentiment.get("label"), f"{where}.sentiment.label")
        if sentiment.get("score") is not None:
            score = _number(sentiment["score"], f"{where}.sentiment.score")
    return NewSegment(
        speaker=_text(data.get("speaker"), f"{where}.speaker"),
        start_ms=milliseconds(_number(data.get("start"), f"{where}.start"), f"{where}.start"),
        end_ms=milliseconds(_number(data.get("end"), f"{where}.end"), f"{where}.end"),
        text=_text(data.get("text"), f"{where}.text"),
        sentiment_label=label,
        sentiment_score=score,
    )


def from_json(body: Any, key: str | None) -> RecordConversation:
    """The command from a JSON body, every value checked for its type (errors name the field)."""
    if not isinstance(body, dict):
        raise IngestError(400, "BAD_REQUEST", "the body must be a JSON object (a conversation)")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise errors.ValidationError(unknown[0], f"is not a conversation field; the fields are {', '.join(FIELDS)}")
    speakers = body.get("speakers")
    if not isinstance(speakers, list):
        raise errors.ValidationError("speakers", "must be a list of {name, side, userId?, contactId?}")
    segments = body.get("segments")
    if segments is not None and not isinstance(segments, list):
        raise errors.ValidationError("segments", "must be a list of {speaker, start, end, text, sentiment?}")
    return RecordConversation(
        kind=_enum(ConversationKind, body.get("kind"), "kind"),
        started_at=_time(body.get("startedAt")),
        speakers=[_speaker(s, f"speakers[{n}]") for n, s in enumerate(speakers)],
        segments=None if segments is None else [_segment(s, f"segments[{n}]") for n, s in enumerate(segments)],
        webvtt=_optional_text(body, "webvtt"),
        title=_optional_text(body, "title"),
        duration_seconds=None
        if body.get("durationSeconds") is None
        else _whole(body["durationSeconds"], "durationSeconds"),
        language=_language(body.get("language")),
        owner_id=_gid(body.get("ownerId"), "User", "ownerId"),
        account_id=_gid(body.get("accountId"), "Account", "accountId"),
        contact_id=_gid(body.get("contactId"), "Contact", "contactId"),
        opportunity_id=_gid(body.get("opportunityId"), "Opportunity", "opportunityId"),
        external_id=_optional_text(body, "externalId"),
        idempotency_key=key,
    )


def from_vtt(text: str, query: Any, key: str | None) -> RecordConversation:
    """The command from a WebVTT body and the query string: the conversation's fields by name, and each
    voice as `seller=Name` or `customer=Name`, with `<global id>` of its user or contact after the name."""
    allowed = {*FIELDS, "seller", "customer"} - {"speakers", "segments", "webvtt"}
    unknown = sorted(set(query.keys()) - allowed)
    if unknown:
        raise errors.ValidationError(
            unknown[0], f"is not a query parameter here; they are {', '.join(sorted(allowed))}"
        )
    speakers = []
    for side in (Side.SELLER, Side.CUSTOMER):
        for n, value in enumerate(query.getlist(side.value.lower())):
            where = f"{side.value.lower()}[{n}]"
            found = QUERY_SPEAKER.match(value)
            if found is None:
                raise errors.ValidationError(where, "a speaker is `Name` or `Name <global id of a user or contact>`")
            user_id = contact_id = None
            if found["id"]:
                try:
                    kind, pk = ids.decode(found["id"])
                except GraphQLError as error:
                    raise errors.ValidationError(where, error.message) from None
                if kind not in ("User", "Contact") or (kind == "User" and side is Side.CUSTOMER):
                    raise errors.ValidationError(where, "a seller is a User or a Contact, a customer a Contact")
                user_id, contact_id = (pk, None) if kind == "User" else (None, pk)
            speakers.append(Speaker(found["name"], side, user_id, contact_id))
    single = {name: query.get(name) for name in allowed - {"seller", "customer"}}
    return RecordConversation(
        kind=_enum(ConversationKind, single["kind"], "kind"),
        started_at=_time(single["startedAt"]),
        speakers=speakers,
        webvtt=text,
        title=single["title"],
        duration_seconds=None
        if single["durationSeconds"] is None
        else _whole(single["durationSeconds"], "durationSeconds"),
        language=_language(single["language"]),
        **{f"{name[:-2].lower()}_id": _gid(single[name], kind, name) for name, kind in IDS.items()},
        external_id=single["externalId"],
        idempotency_key=key,
    )


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
    return bytes(body)


def _too_large() -> IngestError:
    return IngestError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"the body is larger than {MAX_BODY_BYTES} bytes (about 30 hours of transcript); nothing was stored",
        maximum=MAX_BODY_BYTES,
    )


async def command_of(request: Request) -> RecordConversation:
    key = request.headers.get("idempotency-key")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/json", "text/vtt"):
        raise IngestError(
            415, "UNSUPPORTED_MEDIA_TYPE", "send the conversation as application/json, or its WebVTT as text/vtt"
        )
    body = await _body(request)
    if content_type == "text/vtt":
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise IngestError(400, "BAD_REQUEST", "the WebVTT body is not UTF-8 text") from None
        return from_vtt(text, request.query_params, key)
    if request.query_params:
        raise IngestError(
            400, "BAD_REQUEST", "a JSON body carries the whole conversation; leave the query string empty"
        )
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise IngestError(400, "BAD_REQUEST", "the body is not valid JSON") from None
    return from_json(parsed, key)


async def rendered(engine: AsyncEngine, done: Recorded) -> dict[str, Any]:
    """The answer: the conversation the caller recorded (its first request's, on a replay) and its figures.
    It names nothing but the conversation itself and what its transcript said."""
    a, n = tables.conversation_analyses, tables.conversation_names
    async with engine.connect() as conn:
        conversation = (
            await conn.execute(select(tables.conversations).where(tables.conversations.c.id == done.conversation_id))
        ).first()
        analysis = (await conn.execute(select(a).where(a.c.conversation_id == done.conversation_id))).first()
        new = [
            r.name
            for r in await conn.execute(
                select(n.c.name)
                .where(n.c.conversation_id == done.conversation_id, n.c.is_first, n.c.customer_mentions > 0)
                .order_by(n.c.first_segment, n.c.key)
            )
        ]
    found: dict[str, Any] = {"id": ids.encode("Conversation", done.conversation_id)}
    if conversation is not None:
        found |= {
            "language": conversation.language,
            "startedAt": conversation.started_at.isoformat(),
            "durationSeconds": conversation.duration_seconds,
            "externalId": conversation.external_id,
        }
    if analysis is not None:
        found["analysis"] = {
            "talkPercent": analysis.talk_ratio,
            "listenPercent": None if analysis.talk_ratio is None else round(100 - analysis.talk_ratio, 1),
            "speakerSwitches": analysis.speaker_switches,
            "switchesPerHour": analysis.switches_per_hour,
            "customerSentiment": None
            if analysis.sentiment_label is None
            else {"label": analysis.sentiment_label, "score": analysis.sentiment_score},
            "keywordMentions": analysis.keyword_mentions,
            "competitorMentions": analysis.competitor_mentions,
            "newNames": new,
        }
    return {"conversation": found}


def _refusal(error: errors.DomainError) -> IngestError:
    failure = _error_of(error)
    if isinstance(error, TranscriptRejected):
        failure.code = error.problem.value
    return failure


def ingest_conversations_endpoint(
    engine: AsyncEngine, events_committed: Callable[[], None] | None = None, clock: Callable[[], datetime] = utcnow
) -> Callable[[Request], Any]:
    """The `POST /ingest/conversations` handler on `engine`."""

    async def ingest(request: Request) -> Response:
        try:
            principal = await _principal(engine, request)
            cmd = await command_of(request)
            async with SqlUnitOfWork(engine, actor_of(principal), clock=clock, on_commit=events_committed) as uow:
                done = await record_conversation(cmd, uow, STORE, OUTCOMES, builtin_scorer())
            body = await rendered(engine, done)
        except IngestError as error:
            headers = {"WWW-Authenticate": 'Bearer realm="salesgraph"'} if error.status == 401 else None
            return _json(error.body(), error.status, headers)
        except errors.DomainError as error:
            failure = _refusal(error)
            return _json(failure.body(), failure.status)
        except Exception:
            log.exception("unexpected error while recording a conversation")
            return _json(
                IngestError(500, "INTERNAL_SERVER_ERROR", "the conversation could not be stored; nothing was").body(),
                500,
            )
        return _json(body, 201, {"Idempotent-Replayed": "true"} if done.replayed else None)

    return ingest


async def _principal(engine: AsyncEngine, request: Request) -> Principal:
    principal = await principal_for(engine, request.headers.get("authorization"))
    if principal is None:
        raise IngestError(401, "UNAUTHENTICATED", "a valid token is required: send `Authorization: Bearer <token>`")
    try:
        require(principal, Scope.CONVERSATIONS_WRITE, PATH)
    except InsufficientScope as error:
        raise IngestError(error.status, error.code, error.message) from None
    return principal
