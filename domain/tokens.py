from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from domain.base import Entity, required
from domain.errors import ValidationError

TOKEN_PREFIX = "sg_"


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Tokens are stored only as this hash; the secret is shown once."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(kw_only=True)
class ApiToken(Entity):
    name: str
    token_hash: str
    scopes: list[str] = field(default_factory=list)
    user_id: int | None = None
    partner_id: int | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    trusted_documents_only: bool = False  # runs only the documents registered for it (TrustedDocument)

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        if (self.user_id is None) == (self.partner_id is None):
            raise ValidationError("owner", "a token belongs to exactly one user or one partner")

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def document_hash(document: str) -> str:
    """A document's identity for persisted queries and trusted documents: the hex sha256 of its exact
    text (UTF-8), as Apollo's `persistedQuery.sha256Hash`."""
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(kw_only=True)
class TrustedDocument(Entity):
    """A document a token may run when it is limited to trusted documents."""

    token_id: int
    sha256: str
    document: str

    def __post_init__(self) -> None:
        if not self.document.strip():
            raise ValidationError("document", "is empty")
        if self.sha256 != document_hash(self.document):
            raise ValidationError("sha256", "is not the sha256 of the document")
