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

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        if (self.user_id is None) == (self.partner_id is None):
            raise ValidationError("owner", "a token belongs to exactly one user or one partner")

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
