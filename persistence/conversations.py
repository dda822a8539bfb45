"""Transcripts and analyses on their tables: `SqlConversationStore` is the workflows' ConversationStore
(many rows a statement, in the unit of work's transaction), and the reads of the analysis' progress.

Names: `conversation_names.is_first` marks, for each name, the earliest conversation that mentions it
(by start, then id), where the name is new; every change of a conversation's names keeps that true for
the names it touches, and each analysis' count of new names (names it is first to mention that its
customer side says) with it. On PostgreSQL the names a transaction changes are locked (advisory locks,
in key order) so that two conversations recorded at once cannot both take a name as first."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.analysis import Analysis, NameSeen, SegmentSentiment
from domain.conversations import SETTINGS_ID, Conversation
from domain.enums import Language, SentimentLabel, SentimentSource, Side, TermKind
from domain.sentiment import Sentiment
from domain.transcripts import Segment, Speaker, Transcript
from persistence import tables
from persistence.conversation_aggregates import ConversationTracker
from persistence.uow import SqlUnitOfWork
from persistence.visibility import Viewer

_NAME_LOCKS = 0x5A1E_C0A  # the first number of the two-number advisory locks taken per name
CHUNK = 500
participants, segments = tables.conversation_participants, tables.conversation_segments
analyses, mentions, names = tables.conversation_analyses, tables.conversation_mentions, tables.conversation_names


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlConversationStore:
    """`domain.workflows.conversations.ConversationStore` in the unit of work's transaction."""

    async def add_transcript(
        self,
        uow: SqlUnitOfWork,
        conversation: Conversation,
        transcript: Transcript,
        scored: tuple[SegmentSentiment, ...],
    ) -> None:
        await uow.execute(
            insert(participants),
            [
                {
                    "conversation_id": conversation.id,
                    "position": n,
                    "name": speaker.name,
                    "side": speaker.side.value,
                    "user_id": speaker.user_id,
                    "contact_id": speaker.contact_id,
                }
                for n, speaker in enumerate(transcript.speakers)
            ],
        )
        rows = [
            {
                "conversation_id": conversation.id,
                "position": s.position,
                "speaker": s.speaker,
                "side": s.side.value,
                "start_ms": s.start_ms,
                "end_ms": s.end_ms,
                "text": s.text,
                "upstream_label": s.upstream.label.value if s.upstream else None,
                "upstream_score": s.upstream.score if s.upstream else None,
                "sentiment_label": found.sentiment.label.value,
                "sentiment_score": found.sentiment.score,
                "sentiment_source": found.source.value,
            }
            for s, found in zip(transcript.segments, scored)
        ]
        for chunk in _chunks(rows, 2000):
            await uow.execute(insert(segments), chunk)

    async def transcript(
        self, uow: SqlUnitOfWork, conversation: Conversation
    ) -> tuple[Transcript, tuple[SegmentSentiment, ...]]:
        speakers = [
            Speaker(r.name, Side(r.side), r.user_id, r.contact_id)
            for r in await uow.execute(
                select(participants)
                .where(participants.c.conversation_id == conversation.id)
                .order_by(participants.c.position)
            )
        ]
        stored = list(
            await uow.execute(
                select(segments).where(segments.c.conversation_id == conversation.id).order_by(segments.c.position)
            )
        )
        ordered = tuple(
            Segment(
                position=r.position,
                speaker=r.speaker,
                side=Side(r.side),
                start_ms=r.start_ms,
                end_ms=r.end_ms,
                text=r.text,
                upstream=Sentiment(SentimentLabel(r.upstream_label), r.upstream_score) if r.upstream_label else None,
            )
            for r in stored
        )
        scored = tuple(
            SegmentSentiment(
                Sentiment(SentimentLabel(r.sentiment_label), r.sentiment_score), SentimentSource(r.sentiment_source)
            )
            for r in stored
        )
        return Transcript(tuple(speakers), ordered, Language(conversation.language)), scored

    async def save_analysis(self, uow: SqlUnitOfWork, conversation: Conversation, analysis: Analysis) -> None:
        conn = uow.c
        await uow.talks.before_change(conn, [conversation.id])
        await conn.execute(delete(mentions).where(mentions.c.conversation_id == conversation.id))
        await conn.execute(delete(analyses).where(analyses.c.conversation_id == conversation.id))
        await conn.execute(insert(analyses).values(**analysis_row(conversation.id, analysis, uow.now)))
        if analysis.mentions:
            await conn.execute(
                insert(mentions),
                [
                    {
                        "conversation_id": conversation.id,
                        "term_id": m.term_id,
                        "segment": m.segment,
                        "side": m.side.value,
                        "count": m.count,
                    }
                    for m in analysis.mentions
                ],
            )
        await _replace_names(conn, conversation, analysis.names, uow.talks)

    async def forget(self, uow: SqlUnitOfWork, conversation: Conversation) -> None:
        await uow.talks.before_change(uow.c, [conversation.id])
        await _replace_names(uow.c, conversation, (), uow.talks)


def analysis_row(conversation_id: int, analysis: Analysis, now: Any) -> dict[str, Any]:
    seller, customer = analysis.seller_monologue, analysis.customer_monologue
    sentiment = analysis.customer_sentiment
    counts = analysis.customer_segments
    return {
        "conversation_id": conversation_id,
        "terms_revision": analysis.terms_revision,
        "analysed_at": now,
        "seller_talk_ms": analysis.seller_talk_ms,
        "customer_talk_ms": analysis.customer_talk_ms,
        "talk_ratio": analysis.talk_ratio,
        "speaker_switches": analysis.speaker_switches,
        "switches_per_hour": analysis.switches_per_hour,
        "seller_monologue_speaker": seller.speaker if seller else None,
        "seller_monologue_start_ms": seller.start_ms if seller else None,
        "seller_monologue_ms": seller.duration_ms if seller else None,
        "customer_monologue_speaker": customer.speaker if customer else None,
        "customer_monologue_start_ms": customer.start_ms if customer else None,
        "customer_monologue_ms": customer.duration_ms if customer else None,
        "sentiment_label": sentiment.label.value if sentiment else None,
        "sentiment_score": sentiment.score if sentiment else None,
        "positive_segments": counts.get(SentimentLabel.POSITIVE, 0),
        "neutral_segments": counts.get(SentimentLabel.NEUTRAL, 0),
        "negative_segments": counts.get(SentimentLabel.NEGATIVE, 0),
        "keyword_mentions": analysis.mention_totals.get(TermKind.KEYWORD, 0),
        "competitor_mentions": analysis.mention_totals.get(TermKind.COMPETITOR, 0),
        "new_names": 0,  # counted by _recount once the names' first conversations are known
    }


def _lock_key(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)


async def _lock_names(conn: AsyncConnection, keys: Iterable[str]) -> None:
    """Hold each name's lock until the end of the transaction, in one order for every transaction."""
    numbers = sorted({_lock_key(k) for k in keys})
    if conn.dialect.name != "postgresql" or not numbers:
        return
    await conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(CAST(:space AS integer), k) "
            "FROM (SELECT unnest(CAST(:keys AS integer[])) AS k ORDER BY k) AS ordered"
        ),
        {"space": _NAME_LOCKS, "keys": numbers},
    )


async def _replace_names(
    conn: AsyncConnection, conversation: Conversation, found: tuple[NameSeen, ...], talks: ConversationTracker
) -> None:
    """Make the conversation's names `found`: a name it no longer mentions passes its first mention (where
    this conversation had it) to the next conversation that mentions it; a name it newly mentions takes the
    first mention from the conversation that had it when this one is earlier; names it keeps only change
    their counts. Then the new names of every conversation touched are counted again. (A conversation's
    start never changes, so a name it keeps stays first or not.)"""
    old = {r.key: r for r in await conn.execute(select(names).where(names.c.conversation_id == conversation.id))}
    new = {n.key: n for n in found}
    removed = [key for key in old if key not in new]
    added = [new[key] for key in new if key not in old]
    kept = [new[key] for key in new if key in old and _changed(old[key], new[key])]
    touched = {conversation.id}
    await _lock_names(conn, [*removed, *(n.key for n in added)])
    for n in kept:
        await conn.execute(
            update(names)
            .where(names.c.conversation_id == conversation.id, names.c.key == n.key)
            .values(
                name=n.name,
                customer_mentions=n.customer_mentions,
                seller_mentions=n.seller_mentions,
                first_segment=n.first_segment,
            )
        )
    for chunk in _chunks(removed):
        await conn.execute(delete(names).where(names.c.conversation_id == conversation.id, names.c.key.in_(chunk)))
    for key in (key for key in removed if old[key].is_first):
        following = await _first_now(conn, key)
        if following is not None:
            await conn.execute(
                update(names).where(names.c.conversation_id == following, names.c.key == key).values(is_first=True)
            )
            touched.add(following)
    me = (conversation.started_at, conversation.id)
    for chunk in _chunks(added):
        firsts = await _firsts(conn, [n.key for n in chunk])
        taken, rows = [], []
        for n in chunk:
            other = firsts.get(n.key)
            is_first = other is None or me < (other[1], other[0])
            if is_first and other is not None:
                taken.append({"c": other[0], "k": n.key})
                touched.add(other[0])
            rows.append(
                {
                    "conversation_id": conversation.id,
                    "key": n.key,
                    "name": n.name,
                    "started_at": conversation.started_at,
                    "customer_mentions": n.customer_mentions,
                    "seller_mentions": n.seller_mentions,
                    "first_segment": n.first_segment,
                    "is_first": is_first,
                }
            )
        if taken:
            await conn.execute(
                update(names)
                .where(names.c.conversation_id == bindparam("c"), names.c.key == bindparam("k"))
                .values(is_first=False),
                taken,
            )
        await conn.execute(insert(names), rows)
    # The other conversations whose new names move: their buckets move with them (only `new_names` of
    # their analyses changes, and only in _recount).
    await talks.before_change(conn, touched)
    await _recount(conn, sorted(touched))


def _changed(row: Any, seen: NameSeen) -> bool:
    return (row.name, row.customer_mentions, row.seller_mentions, row.first_segment) != (
        seen.name,
        seen.customer_mentions,
        seen.seller_mentions,
        seen.first_segment,
    )


async def _firsts(conn: AsyncConnection, keys: list[str]) -> dict[str, tuple[int, Any]]:
    """The conversation (id, start) each name is first mentioned in now (the partial index on `is_first`)."""
    rows = await conn.execute(
        select(names.c.key, names.c.conversation_id, names.c.started_at).where(names.c.key.in_(keys), names.c.is_first)
    )
    return {r.key: (r.conversation_id, r.started_at) for r in rows}


async def _first_now(conn: AsyncConnection, key: str) -> int | None:
    """The earliest conversation that mentions the name (by start, then id), read down the name's index."""
    return (
        await conn.execute(
            select(names.c.conversation_id)
            .where(names.c.key == key)
            .order_by(names.c.started_at, names.c.conversation_id)
            .limit(1)
        )
    ).scalar()


async def _recount(conn: AsyncConnection, conversation_ids: list[int]) -> None:
    """Each conversation's new names: those it is the first to mention and its customer side says."""
    for chunk in _chunks(conversation_ids):
        counted = (
            select(func.count())
            .select_from(names)
            .where(
                names.c.conversation_id == analyses.c.conversation_id,
                names.c.is_first == true(),
                names.c.customer_mentions > 0,
            )
            .scalar_subquery()
        )
        await conn.execute(update(analyses).where(analyses.c.conversation_id.in_(chunk)).values(new_names=counted))


# --- the background re-analysis: what is left, and how far it got ---


async def terms_revision(conn: AsyncConnection) -> int:
    settings = tables.conversation_settings
    return (await conn.execute(select(settings.c.version).where(settings.c.id == SETTINGS_ID))).scalar_one()


async def stale(conn: AsyncConnection, revision: int, after: int, limit: int) -> list[int]:
    """Conversations analysed with terms older than `revision`, by id from after `after` (every
    conversation is analysed in the transaction that records it, so each has an analysis)."""
    rows = await conn.execute(
        select(analyses.c.conversation_id)
        .where(analyses.c.terms_revision < revision, analyses.c.conversation_id > after)
        .order_by(analyses.c.conversation_id)
        .limit(limit)
    )
    return [r.conversation_id for r in rows]


async def count_stale(conn: AsyncConnection, revision: int) -> int:
    return (
        await conn.execute(select(func.count()).select_from(analyses).where(analyses.c.terms_revision < revision))
    ).scalar_one()


async def progress(conn: AsyncConnection, viewer: Viewer) -> tuple[int, int, int]:
    """(the terms' revision, the conversations the viewer sees, those of them analysed with it)."""
    revision = await terms_revision(conn)
    c = tables.conversations
    rule = viewer.rule(c)
    current = and_(analyses.c.terms_revision >= revision)
    stmt = select(func.count(c.c.id), func.count(analyses.c.conversation_id).filter(current)).select_from(
        c.outerjoin(analyses, analyses.c.conversation_id == c.c.id)
    )
    if rule is not None:
        stmt = stmt.where(rule)
    total, done = (await conn.execute(stmt, viewer.params)).one()
    return revision, total, done
