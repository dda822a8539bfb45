from __future__ import annotations

from dataclasses import dataclass

from domain.base import Entity, check_email, required
from domain.enums import Role
from domain.errors import ValidationError


@dataclass(kw_only=True)
class Team(Entity):
    name: str

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")


@dataclass(kw_only=True)
class User(Entity):
    name: str
    email: str
    role: Role
    team_id: int | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.email = required(check_email(self.email), "email")
        self.role = Role(self.role)


@dataclass(kw_only=True)
class Partner(Entity):
    """A reseller or consultancy that is given accounts, leads and opportunities."""

    name: str
    email: str | None = None
    phone: str | None = None
    country: str | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.email = check_email(self.email)


@dataclass(kw_only=True)
class PartnerComment(Entity):
    """A user's note on a partner: the company's own business, read by every user and by no partner."""

    partner_id: int
    body: str
    author_user_id: int | None = None
    author_partner_id: int | None = None

    def __post_init__(self) -> None:
        self.body = required(self.body, "body")
        if len(self.body) > MAX_COMMENT:
            raise ValidationError("body", f"a comment is at most {MAX_COMMENT} characters long")


MAX_COMMENT = 10_000
