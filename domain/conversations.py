"""Recorded conversations: a call or meeting of a seller (a user) with a customer, linked to the account,
contact and opportunity it was about, with its transcript (domain/transcripts.py) and what the analysis
found in it (domain/analysis.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.base import Entity
from domain.enums import ConversationKind, Language
from domain.errors import ValidationError

TITLE_MAX = 300
EXTERNAL_ID_MAX = 200


@dataclass(kw_only=True)
class Conversation(Entity):
    kind: ConversationKind
    started_at: datetime
    duration_seconds: int
    language: Language
    owner_id: int
    title: str | None = None
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    external_id: str | None = None

    def __post_init__(self) -> None:
        self.kind = ConversationKind(self.kind)
        self.language = Language(self.language)
        if self.title is not None:
            self.title = " ".join(self.title.split()) or None
            if self.title is not None and len(self.title) > TITLE_MAX:
                raise ValidationError("title", f"is longer than {TITLE_MAX} characters")
        if self.external_id is not None:
            self.external_id = self.external_id.strip() or None
            if self.external_id is not None and len(self.external_id) > EXTERNAL_ID_MAX:
                raise ValidationError("externalId", f"is longer than {EXTERNAL_ID_MAX} characters")
        if self.duration_seconds < 0:
            raise ValidationError("durationSeconds", "cannot be negative")
        if self.started_at.tzinfo is None:
            raise ValidationError("startedAt", "give the time with its offset (e.g. 2026-06-01T10:00:00Z)")


@dataclass(kw_only=True)
class ConversationSettings(Entity):
    """The one row of the company's analysis settings. Its version is the revision of the tracked terms:
    every change to a term moves it, and each analysis records the revision it was made with, so the
    conversations analysed with older terms are known."""

    @property
    def terms_revision(self) -> int:
        return self.version


SETTINGS_ID = 1
