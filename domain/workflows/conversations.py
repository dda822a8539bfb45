"""Conversation workflows: record a call or meeting with its transcript (the `recordConversation`
mutation and `POST /ingest/conversations` both run `record_conversation`), analyse it in the same
transaction, analyse past ones again when the tracked terms change, delete one.

With an idempotency key, the conversation and the key's outcome are stored in one transaction: the same
request again gets the first conversation back and stores nothing; another request under the key is
refused."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.accounts import Account, Contact
from domain.analysis import Analysis, SegmentSentiment, analyse
from domain.commands import expect_version
from domain.conversations import SETTINGS_ID, Conversation, ConversationSettings
from domain.enums import ConversationKind, Language
from domain.errors import Conflict, ValidationError, raises, ref
from domain.events import ConversationDeleted, ConversationRecorded
from domain.opportunities import Opportunity
from domain.people import User
from domain.sentiment import SentimentScorer
from domain.terms import TrackedTerm
from domain.transcripts import NewSegment, Speaker, Transcript, checked
from domain.uow import UnitOfWork
from domain.workflows.ingestion import checked_key, owner_of


class ConversationStore(Protocol):
    """Where transcripts and analyses are kept, in the unit of work's transaction (many rows at once)."""

    async def add_transcript(
        self, uow: UnitOfWork, conversation: Conversation, transcript: Transcript, scored: tuple[SegmentSentiment, ...]
    ) -> None:
        """Store the speakers and segments (with each segment's sentiment) of a new conversation."""
        ...

    async def transcript(
        self, uow: UnitOfWork, conversation: Conversation
    ) -> tuple[Transcript, tuple[SegmentSentiment, ...]]:
        """The stored transcript and its segments' sentiments."""
        ...

    async def save_analysis(self, uow: UnitOfWork, conversation: Conversation, analysis: Analysis) -> None:
        """Replace the conversation's analysis (figures, mentions, names), keeping each name's first
        conversation up to date (what makes a name new)."""
        ...

    async def forget(self, uow: UnitOfWork, conversation: Conversation) -> None:
        """Before a conversation is deleted: the names it was the first to mention pass to the next."""
        ...


class OutcomeStore(Protocol):
    """What a keyed request did, per caller and key, in the unit of work's transaction (as
    `domain.workflows.ingestion.IdempotencyStore`, for any outcome that JSON holds)."""

    async def recall(self, uow: UnitOfWork, owner: str, key: str) -> tuple[str, dict[str, Any]] | None:
        """The fingerprint and outcome stored under the key (waiting for a transaction storing it now)."""
        ...

    @raises(Conflict)
    async def remember(self, uow: UnitOfWork, owner: str, key: str, fingerprint: str, outcome: dict[str, Any]) -> None:
        """Store the outcome with the unit of work's changes; Conflict when another transaction stored the
        key first."""
        ...


@dataclass(kw_only=True)
class RecordConversation:
    kind: ConversationKind
    started_at: datetime
    speakers: list[Speaker]
    segments: list[NewSegment] | None = None
    webvtt: str | None = None
    title: str | None = None
    duration_seconds: int | None = None
    language: Language | None = None
    owner_id: int | None = None
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    external_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Recorded:
    conversation_id: int
    replayed: bool  # the key's first conversation, handed back: nothing was written


def fingerprint(cmd: RecordConversation) -> str:
    """The request as recorded: the same conversation sent again under its key is a replay."""
    plain = {k: v for k, v in dataclasses.asdict(cmd).items() if k != "idempotency_key"}
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def keys_owner(uow: UnitOfWork) -> str:
    """Conversation keys are the caller's, apart from its lead keys (a key names one request of one kind)."""
    return f"{owner_of(uow.actor)}/conversations"


async def record_conversation(
    cmd: RecordConversation, uow: UnitOfWork, store: ConversationStore, outcomes: OutcomeStore, scorer: SentimentScorer
) -> Recorded:
    """Record a call or meeting with its transcript (segments or WebVTT) and analyse it in the same transaction:
    talk-to-listen ratio, speaker switches, monologues, customer sentiment, mentions of tracked terms and names.
    Idempotent with an idempotencyKey."""
    key = checked_key(cmd.idempotency_key)
    owner, digest = keys_owner(uow), fingerprint(cmd)
    if key is not None:
        found = await outcomes.recall(uow, owner, key)
        if found is not None:
            if found[0] != digest:
                raise ValidationError(
                    "idempotencyKey",
                    f"the key {key!r} was already used for a different request; use a new key for a new conversation",
                )
            await uow.commit()  # nothing to write: this ends the transaction (and what it waited for)
            return Recorded(found[1]["conversationId"], replayed=True)
    owner_id = cmd.owner_id if cmd.owner_id is not None else uow.actor.user_id
    if owner_id is None:
        raise ValidationError("ownerId", "a partner recording a conversation names the seller (user) who owns it")
    await uow.get(User, owner_id)
    account_id, contact_id, opportunity_id = await _links(cmd, uow)
    if uow.actor.partner_id is not None and account_id is None and opportunity_id is None:
        raise ValidationError("accountId", "a partner records conversations about its accounts or opportunities")
    for speaker in cmd.speakers:
        if speaker.user_id is not None:
            await uow.get(User, speaker.user_id)
        if speaker.contact_id is not None:
            await uow.get(Contact, speaker.contact_id)
    transcript, duration = checked(cmd.speakers, cmd.segments, cmd.webvtt, cmd.language, cmd.duration_seconds)
    conversation = Conversation(
        kind=cmd.kind,
        started_at=cmd.started_at,
        duration_seconds=duration,
        language=transcript.language,
        owner_id=owner_id,
        title=cmd.title,
        account_id=account_id,
        contact_id=contact_id,
        opportunity_id=opportunity_id,
        external_id=cmd.external_id,
    )
    settings = await uow.get(ConversationSettings, SETTINGS_ID, as_system=True)
    terms = await uow.find(TrackedTerm)
    analysis = analyse(transcript, duration, terms, settings.terms_revision, scorer)
    conversation = await uow.add(conversation)
    await store.add_transcript(uow, conversation, transcript, analysis.sentiments)
    await store.save_analysis(uow, conversation, analysis)
    uow.record(
        ConversationRecorded(
            entity_id=conversation.id,
            data={
                "ownerId": owner_id,
                "kind": conversation.kind.value,
                "language": conversation.language.value,
                "startedAt": conversation.started_at.isoformat(),
            },
        )
    )
    if key is not None:
        await outcomes.remember(uow, owner, key, digest, {"conversationId": conversation.id})
    await uow.commit()
    return Recorded(conversation.id, replayed=False)


async def _links(cmd: RecordConversation, uow: UnitOfWork) -> tuple[int | None, int | None, int | None]:
    """The account, contact and opportunity, each read as the caller may see it; the account follows from
    the opportunity or the contact when it is not given, and all three must agree."""
    account_id = cmd.account_id
    if cmd.account_id is not None:
        await uow.get(Account, cmd.account_id)
    if cmd.opportunity_id is not None:
        opportunity = await uow.get(Opportunity, cmd.opportunity_id)
        if account_id is None:
            account_id = opportunity.account_id
        elif opportunity.account_id != account_id:
            raise ValidationError(
                "opportunityId",
                f"the opportunity {ref(opportunity)} is not on the account {ref('Account', account_id)}",
            )
    if cmd.contact_id is not None:
        contact = await uow.get(Contact, cmd.contact_id)
        if contact.account_id is None:
            raise ValidationError("contactId", "the conversation's contact is the customer's: an account's employee")
        if account_id is None:
            account_id = contact.account_id
        elif contact.account_id != account_id:
            raise ValidationError(
                "contactId", f"the contact {ref(contact)} does not work at the account {ref('Account', account_id)}"
            )
    return account_id, cmd.contact_id, cmd.opportunity_id


async def reanalyse_conversation(
    conversation_id: int, uow: UnitOfWork, store: ConversationStore, scorer: SentimentScorer
) -> Analysis:
    """Analyse a stored conversation again with the current terms (its sentiments stay: they do not depend
    on the terms). Does not commit: the caller analyses a batch per transaction."""
    conversation = await uow.get(Conversation, conversation_id, as_system=True)
    transcript, scored = await store.transcript(uow, conversation)
    settings = await uow.get(ConversationSettings, SETTINGS_ID, as_system=True)
    terms = await uow.find(TrackedTerm)
    analysis = analyse(transcript, conversation.duration_seconds, terms, settings.terms_revision, scorer, scored)
    await store.save_analysis(uow, conversation, analysis)
    return analysis


@dataclass(kw_only=True)
class DeleteConversation:
    id: int
    version: int | None = None


async def delete_conversation(cmd: DeleteConversation, uow: UnitOfWork, store: ConversationStore) -> Conversation:
    """Delete a recorded conversation with its transcript and analysis."""
    conversation = await uow.get(Conversation, cmd.id)
    expect_version(conversation, cmd.version)
    await store.forget(uow, conversation)
    await uow.delete(conversation)
    uow.record(ConversationDeleted(entity_id=conversation.id, data={"ownerId": conversation.owner_id}))
    await uow.commit()
    return conversation
