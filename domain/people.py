from __future__ import annotations

from dataclasses import dataclass

from domain.base import Entity, check_email, required
from domain.enums import Role


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
