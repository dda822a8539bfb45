"""Mutations of recorded conversations (record one with its transcript, as POST /ingest/conversations
does; delete one) and of the tracked terms (admins only)."""

from __future__ import annotations

import datetime as dt
import math

import strawberry

from domain.enums import SentimentLabel as DomainLabel
from domain.enums import Side
from domain.errors import ValidationError
from domain.sentiment import builtin_scorer
from domain.transcripts import NewSegment, Speaker
from domain.workflows import conversations as wf
from domain.workflows import tracked_terms
from gql.resolvers.mutation import OWN_INPUT, Deleted, decode_optional, mutation, node_payload, payload_type
from gql.schema import enums
from gql.schema.conversations import Conversation, TrackedTerm
from gql.schema.inputs import described, gid, optional, ref, update_of
from gql.schema.mutations.common import RESTRICTED, WRITE
from persistence import tables
from persistence.conversations import SqlConversationStore
from persistence.idempotency import SqlOutcomeStore

STORE = SqlConversationStore()
OUTCOMES = SqlOutcomeStore(owns=tables.conversations, key_field="conversationId")
MAX_SECONDS = 24 * 3600.0  # a recording covers at most a day


def milliseconds(value: float, field: str) -> int:
    """Seconds from the start of the recording as whole milliseconds (a time beyond a day is refused)."""
    if not math.isfinite(value) or abs(value) > MAX_SECONDS:
        raise ValidationError(field, f"a time is between 0 and {MAX_SECONDS:g} seconds")
    return round(value * 1000)


@strawberry.input(description="A voice of the transcript and who it is.")
class ConversationSpeakerInput:
    name: str = described("The speaker's name exactly as the transcript gives it (WebVTT: the <v> tag).")
    side: enums.ConversationSide = described("SELLER or CUSTOMER.")  # type: ignore[valid-type]
    user_id: strawberry.ID | None = optional("The user speaking (seller side).")
    contact_id: strawberry.ID | None = optional("The contact speaking (a customer, or a partner's consultant).")

    def to_domain(self, where: str) -> Speaker:
        return Speaker(
            name=self.name,
            side=Side(self.side.value),
            user_id=decode_optional(self.user_id, "User", f"{where}.userId"),
            contact_id=decode_optional(self.contact_id, "Contact", f"{where}.contactId"),
        )


@strawberry.input(description="A sentiment the recording system gave a segment (preferred to Salesgraph's own).")
class SegmentSentimentInput:
    label: enums.SentimentLabel = described("Positive, neutral or negative.")  # type: ignore[valid-type]
    score: float | None = optional("From -1 to 1 (default: 0.5, 0 or -0.5 by the label).")


@strawberry.input(description="One utterance of the transcript.")
class TranscriptSegmentInput:
    speaker: str = described("Who speaks: a name of `speakers`.")
    start: float = described("When it starts, in seconds from the start of the recording.")
    end: float = described("When it ends, in seconds from the start of the recording.")
    text: str = described("What was said.")
    sentiment: SegmentSentimentInput | None = optional("The recording system's sentiment of it, if it has one.")

    def to_domain(self, where: str) -> NewSegment:
        return NewSegment(
            speaker=self.speaker,
            start_ms=milliseconds(self.start, f"{where}.start"),
            end_ms=milliseconds(self.end, f"{where}.end"),
            text=self.text,
            sentiment_label=DomainLabel(self.sentiment.label.value) if self.sentiment else None,
            sentiment_score=self.sentiment.score if self.sentiment else None,
        )


@strawberry.input(
    description="A recorded call or meeting with its transcript, given as segments or as WebVTT (not both)."
)
class RecordConversationInput:
    kind: enums.ConversationKind = described("Call or meeting.")  # type: ignore[valid-type]
    started_at: dt.datetime = described("When it started (with its offset, e.g. 2026-06-01T10:00:00Z).")
    speakers: list[ConversationSpeakerInput] = described(
        "Every voice of the transcript with its side, and the user or contact it is where known."
    )
    segments: list[TranscriptSegmentInput] | None = optional("The transcript as segments.")
    webvtt: str | None = optional(
        "The transcript as a WebVTT file, each cue's speaker in a `<v Name>` tag (as Teams exports it)."
    )
    title: str | None = optional("Its subject.")
    duration_seconds: int | None = optional("How long it lasted (default: to the end of the transcript).")
    language: enums.ConversationLanguage | None = optional(  # type: ignore[valid-type]
        "The language it was held in (default: read from the transcript)."
    )
    owner_id: strawberry.ID | None = gid("User", "The seller whose conversation it is (default: you).", None)
    account_id: strawberry.ID | None = gid("Account", "The account it was with.", None)
    contact_id: strawberry.ID | None = gid("Contact", "The customer's contact person.", None)
    opportunity_id: strawberry.ID | None = gid("Opportunity", "The deal it was about.", None)
    external_id: str | None = optional("Its id in the recording system.")
    idempotency_key: str | None = optional(
        "A key unique to this conversation: sending it again returns the first conversation and stores nothing "
        "(the same key as POST /ingest/conversations' Idempotency-Key header)."
    )


@strawberry.input(description="A keyword or competitor to track in conversations.")
class CreateTrackedTermInput:
    kind: enums.TrackedTermKind = described("Keyword or competitor.", update="New kind.")  # type: ignore[valid-type]
    name: str = described("The term (one to six words, e.g. 3D printer, Contoso 360).", update="New name.")
    variants: list[str] = optional("Other ways of saying it (each one to six words).", [], update="New variants.")
    language: enums.ConversationLanguage | None = optional(  # type: ignore[valid-type]
        "The one language whose conversations it is matched in (default: all).",
        update="New language (null: all languages).",
    )


UpdateTrackedTermInput = update_of(
    CreateTrackedTermInput, "Changes to a tracked term; fields left out stay as they are."
)
DeleteTrackedTermInput = ref("TrackedTerm", "Identifies a tracked term to delete.")
DeleteConversationInput = ref("Conversation", "Identifies a recorded conversation to delete.")
RecordConversationPayload = payload_type(
    "A recorded conversation, analysed.",
    conversation=(Conversation, "The conversation, with its transcript and analysis."),
    replayed=(
        bool,
        "True when the idempotency key was used before: this is the first request's conversation and nothing new "
        "was stored.",
    ),
)
TrackedTermPayload = node_payload(TrackedTerm)
record_conversation = mutation(
    wf,
    RecordConversationInput,
    RecordConversationPayload,
    WRITE,
    ports=lambda context: (STORE, OUTCOMES, builtin_scorer()),
)
delete_conversation = mutation(
    wf, DeleteConversationInput, Deleted("Conversation"), WRITE, ports=lambda context: (STORE,)
)
create_tracked_term = update_tracked_term = mutation(tracked_terms, OWN_INPUT, TrackedTermPayload, RESTRICTED)
delete_tracked_term = mutation(tracked_terms, DeleteTrackedTermInput, Deleted("TrackedTerm"), RESTRICTED)
