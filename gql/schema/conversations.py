"""Recorded conversations as read: the conversation (a node), its speakers, its transcript, what the
analysis found in it, the tracked terms, and how far the re-analysis after a change of the terms got."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gql.resolvers.loaders import RowsByIdLoader
from gql.schema import enums, filters
from gql.schema.base import Node, RowBacked, needs
from gql.schema.fields import connection, to_one
from persistence import conversations as progress_reads
from persistence import filters as spec
from persistence import tables

participants, segments = tables.conversation_participants, tables.conversation_segments
PARTICIPANTS_ORDER = (participants.c.position,)


async def _speakers(info: Info, conversation_id: int) -> list[Any]:
    return await info.context.children(participants, "conversation_id", PARTICIPANTS_ORDER).load(conversation_id)


async def _speaker(info: Info, conversation_id: int, position: int | None) -> ConversationParticipant | None:
    if position is None:
        return None
    rows = await _speakers(info, conversation_id)
    return ConversationParticipant.from_row(rows[position]) if position < len(rows) else None


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


@strawberry.type(description="A voice of a conversation: who speaks, and for which side.")
class ConversationParticipant(RowBacked):
    position: int = strawberry.field(description="Its place among the conversation's speakers, from 0.")
    name: str = strawberry.field(description="The speaker's name as the transcript gives it.")
    side: enums.ConversationSide = strawberry.field(  # type: ignore[valid-type]
        description="SELLER or CUSTOMER."
    )
    user = to_one("gql.schema.people:User", tables.users, "user_id", "The user speaking, when the speaker is one.")
    contact = to_one(
        "gql.schema.accounts:Contact", tables.contacts, "contact_id", "The contact speaking, when the speaker is one."
    )


@strawberry.type(description="A sentiment: positive, neutral or negative, with a score.")
class Sentiment:
    label: enums.SentimentLabel = strawberry.field(description="Positive, neutral or negative.")  # type: ignore[valid-type]
    score: float = strawberry.field(description="From -1 (most negative) to 1 (most positive).")


@strawberry.type(description="A segment's sentiment, with where it comes from.")
class SegmentSentiment(Sentiment):
    source: enums.SentimentSource = strawberry.field(  # type: ignore[valid-type]
        description="The recording system's (preferred when sent) or Salesgraph's own."
    )


@strawberry.type(description="One utterance of a transcript: who said what, from when to when.")
class TranscriptSegment(RowBacked):
    position: int = strawberry.field(description="Its place in the transcript (time order), from 0.")
    side: enums.ConversationSide = strawberry.field(  # type: ignore[valid-type]
        description="The side of its speaker."
    )
    text: str = strawberry.field(description="What was said.")

    @strawberry.field(description="When it starts, in seconds from the start of the recording.")
    @needs("start_ms")
    def start_seconds(self) -> float:
        return self.__dict__["start_ms"] / 1000

    @strawberry.field(description="When it ends, in seconds from the start of the recording.")
    @needs("end_ms")
    def end_seconds(self) -> float:
        return self.__dict__["end_ms"] / 1000

    @strawberry.field(description="Its sentiment: the recording system's where it sent one, else Salesgraph's.")
    @needs("sentiment_label", "sentiment_score", "sentiment_source")
    def sentiment(self) -> SegmentSentiment:
        row = self.__dict__
        return SegmentSentiment(
            label=enums.SentimentLabel[row["sentiment_label"]],  # type: ignore[index]
            score=row["sentiment_score"],
            source=enums.SentimentSource[row["sentiment_source"]],  # type: ignore[index]
        )

    @strawberry.field(description="Who said it.")
    @needs("conversation_id", "speaker")
    async def speaker(self, info: Info) -> ConversationParticipant:
        return await _speaker(info, self.__dict__["conversation_id"], self.__dict__["speaker"])  # type: ignore[return-value]


@strawberry.type(description="The longest stretch a speaker of one side held the word (consecutive segments).")
class Monologue:
    start_seconds: float = strawberry.field(description="When it started, in seconds from the start.")
    duration_seconds: float = strawberry.field(description="How long it lasted, in seconds.")
    conversation_id: strawberry.Private[int]
    position: strawberry.Private[int]

    @strawberry.field(description="Who spoke.")
    async def speaker(self, info: Info) -> ConversationParticipant:
        return await _speaker(info, self.conversation_id, self.position)  # type: ignore[return-value]


@strawberry.type(description="The customer side's sentiment over a whole call.")
class CallSentiment(Sentiment):
    positive_segments: int = strawberry.field(description="The customer's positive segments.")
    neutral_segments: int = strawberry.field(description="The customer's neutral segments.")
    negative_segments: int = strawberry.field(description="The customer's negative segments.")


@strawberry.type(description="How often a tracked term was said in one segment.")
class TermMention(RowBacked):
    segment: int = strawberry.field(description="The segment's position in the transcript.")
    side: enums.ConversationSide = strawberry.field(  # type: ignore[valid-type]
        description="The side that said it."
    )
    count: int = strawberry.field(description="How many times in that segment.")
    term = to_one("gql.schema.conversations:TrackedTerm", tables.tracked_terms, "term_id", "The term.")


@strawberry.type(
    description="A name of a product, brand or organisation the conversation mentions that is no tracked term "
    "(a run of capitalised words; see docs/decisions.md)."
)
class MentionedName(RowBacked):
    name: str = strawberry.field(description="The name as first written in the conversation.")
    customer_mentions: int = strawberry.field(description="How often the customer side said it.")
    seller_mentions: int = strawberry.field(description="How often the seller side said it.")
    first_segment: int = strawberry.field(description="The segment where it is first said.")

    @strawberry.field(
        description="True when no earlier conversation of the company mentions it and the customer side says it: "
        "a name the customers brought up for the first time."
    )
    @needs("is_first", "customer_mentions")
    def is_new(self) -> bool:
        return bool(self.__dict__["is_first"]) and self.__dict__["customer_mentions"] > 0


@strawberry.type(description="What the analysis found in a conversation.")
class ConversationAnalysis(RowBacked):
    analysed_at: datetime = strawberry.field(description="When it was (last) analysed.")
    terms_revision: int = strawberry.field(
        description="The revision of the tracked terms it was analysed with (see `conversationAnalysis`)."
    )
    speaker_switches: int = strawberry.field(description="How often the speaker changed.")
    switches_per_hour: float = strawberry.field(description="Speaker changes per hour of the conversation.")
    keyword_mentions: int = strawberry.field(description="Mentions of tracked keywords, by both sides.")
    competitor_mentions: int = strawberry.field(description="Mentions of tracked competitors, by both sides.")
    new_names: int = strawberry.field(description="Names the customer side brought up first in this conversation.")

    @strawberry.field(description="How long the seller side spoke, in seconds.")
    @needs("seller_talk_ms")
    def seller_talk_seconds(self) -> float:
        return self.__dict__["seller_talk_ms"] / 1000

    @strawberry.field(description="How long the customer side spoke, in seconds.")
    @needs("customer_talk_ms")
    def customer_talk_seconds(self) -> float:
        return self.__dict__["customer_talk_ms"] / 1000

    @strawberry.field(
        description="The seller side's talk-to-listen ratio: its share of the talking, in percent (null when "
        "nobody spoke)."
    )
    @needs("talk_ratio")
    def talk_percent(self) -> float | None:
        return self.__dict__["talk_ratio"]

    @strawberry.field(description="The seller side's listening: the customer side's share of the talking, in percent.")
    @needs("talk_ratio")
    def listen_percent(self) -> float | None:
        ratio = self.__dict__["talk_ratio"]
        return None if ratio is None else round(100 - ratio, 1)

    @strawberry.field(description="The seller side's longest monologue (null when it never spoke).")
    @needs("conversation_id", "seller_monologue_speaker", "seller_monologue_start_ms", "seller_monologue_ms")
    def longest_seller_monologue(self) -> Monologue | None:
        return self._monologue("seller")

    @strawberry.field(description="The customer side's longest monologue (null when it never spoke).")
    @needs("conversation_id", "customer_monologue_speaker", "customer_monologue_start_ms", "customer_monologue_ms")
    def longest_customer_monologue(self) -> Monologue | None:
        return self._monologue("customer")

    def _monologue(self, side: str) -> Monologue | None:
        row = self.__dict__
        if row[f"{side}_monologue_ms"] is None:
            return None
        return Monologue(
            start_seconds=row[f"{side}_monologue_start_ms"] / 1000,
            duration_seconds=row[f"{side}_monologue_ms"] / 1000,
            conversation_id=row["conversation_id"],
            position=row[f"{side}_monologue_speaker"],
        )

    @strawberry.field(
        description="The customer side's sentiment over the call: the time-weighted mean of its segments' scores "
        "(null when the customer said nothing)."
    )
    @needs("sentiment_label", "sentiment_score", "positive_segments", "neutral_segments", "negative_segments")
    def customer_sentiment(self) -> CallSentiment | None:
        row = self.__dict__
        if row["sentiment_label"] is None:
            return None
        return CallSentiment(
            label=enums.SentimentLabel[row["sentiment_label"]],  # type: ignore[index]
            score=row["sentiment_score"],
            positive_segments=row["positive_segments"],
            neutral_segments=row["neutral_segments"],
            negative_segments=row["negative_segments"],
        )

    @strawberry.field(description="The mentions of tracked terms, segment by segment (empty for partners).")
    @needs("conversation_id")
    async def mentions(self, info: Info) -> list[TermMention]:
        m = tables.conversation_mentions
        rows = await info.context.children(m, "conversation_id", (m.c.segment, m.c.term_id)).load(
            self.__dict__["conversation_id"]
        )
        return TermMention.from_rows(rows)

    @strawberry.field(description="The names of products, brands and organisations mentioned, first said first.")
    @needs("conversation_id")
    async def names(self, info: Info) -> list[MentionedName]:
        n = tables.conversation_names
        rows = await info.context.children(n, "conversation_id", (n.c.first_segment, n.c.key)).load(
            self.__dict__["conversation_id"]
        )
        return MentionedName.from_rows(rows)


@strawberry.type(
    description="A recorded call or meeting of a seller with a customer: its speakers, its transcript and what the "
    "analysis found in it."
)
class Conversation(Node):
    graphql_type = "Conversation"
    kind: enums.ConversationKind = strawberry.field(description="Call or meeting.")  # type: ignore[valid-type]
    title: str | None = strawberry.field(description="Its subject, as the recording system named it.")
    started_at: datetime = strawberry.field(description="When it started.")
    duration_seconds: int = strawberry.field(description="How long it lasted, in seconds.")
    language: enums.ConversationLanguage = strawberry.field(  # type: ignore[valid-type]
        description="The language it was held in (declared, or read from the transcript)."
    )
    external_id: str | None = strawberry.field(description="Its id in the recording system.")
    created_at: datetime = strawberry.field(description="When it was recorded here.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to change it safely.")
    owner = to_one("gql.schema.people:User", tables.users, "owner_id", "The seller whose conversation it is.")
    account = to_one("gql.schema.accounts:Account", tables.accounts, "account_id", "The account it was with.")
    contact = to_one("gql.schema.accounts:Contact", tables.contacts, "contact_id", "The customer's contact person.")
    opportunity = to_one(
        "gql.schema.opportunities:Opportunity", tables.opportunities, "opportunity_id", "The deal it was about."
    )

    @strawberry.field(description="The speakers, in the order they were named.")
    @needs("id")
    async def participants(self, info: Info) -> list[ConversationParticipant]:
        return ConversationParticipant.from_rows(await _speakers(info, self.pk))

    @strawberry.field(description="The transcript: its segments in time order.")
    @needs("id")
    async def transcript(self, info: Info) -> list[TranscriptSegment]:
        rows = await info.context.children(segments, "conversation_id", (segments.c.position,)).load(self.pk)
        return TranscriptSegment.from_rows(rows)

    @strawberry.field(description="What the analysis found.")
    @needs("id")
    async def analysis(self, info: Info) -> ConversationAnalysis | None:
        context = info.context
        table = tables.conversation_analyses
        loader = context.loader(
            ("analysis", table.name),
            lambda: RowsByIdLoader(context.engine, table, key="conversation_id", viewer=context.viewer),
        )
        return ConversationAnalysis.from_row(await loader.load(self.pk))


@strawberry.type(description="A keyword or competitor whose mentions the analysis of conversations counts.")
class TrackedTerm(Node):
    graphql_type = "TrackedTerm"
    kind: enums.TrackedTermKind = strawberry.field(description="Keyword or competitor.")  # type: ignore[valid-type]
    name: str = strawberry.field(description="The term, as shown (e.g. 3D printer, Contoso 360).")
    variants: list[str] = strawberry.field(description="Other ways of saying it, matched as the term.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to change it safely.")

    @strawberry.field(description="The one language whose conversations it is matched in (null: all).")
    @needs("language")
    def language(self) -> enums.ConversationLanguage | None:  # type: ignore[valid-type]
        value = self.__dict__["language"]
        return None if value is None else enums.ConversationLanguage(value)  # type: ignore[operator]


@strawberry.type(
    description="How far the analysis of past conversations with the current tracked terms got: after a term "
    "changes, the conversations are analysed again in the background."
)
class ConversationAnalysisProgress:
    terms_revision: int = strawberry.field(description="The current revision of the tracked terms.")
    conversations: int = strawberry.field(description="The conversations you may see.")
    analysed: int = strawberry.field(description="Those of them analysed with the current terms.")

    @strawberry.field(description="Those still to be analysed with the current terms.")
    def pending(self) -> int:
        return self.conversations - self.analysed

    @strawberry.field(description="True when every conversation you may see is analysed with the current terms.")
    def done(self) -> bool:
        return self.analysed == self.conversations


async def resolve_progress(info: Info) -> ConversationAnalysisProgress:
    async with info.context.engine.connect() as conn:
        revision, total, done = await progress_reads.progress(conn, info.context.viewer)
    return ConversationAnalysisProgress(terms_revision=revision, conversations=total, analysed=done)


def conversations_connection(fk: str | None, description: str) -> Any:
    return connection(
        "gql.schema.conversations:Conversation",
        spec.CONVERSATIONS,
        fk=fk,
        default_order="STARTED_AT",
        filter_type=filters.ConversationFilter,
        order_type=filters.ConversationOrder,
        description=description,
    )
