from __future__ import annotations

from dataclasses import dataclass, field

from domain.enums import Role


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (with a role) or a partner, through one token with its scopes.

    Every resolver and repository receives it, so access rules are added in one place."""

    token_id: int
    user_id: int | None = None
    partner_id: int | None = None
    role: Role | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_partner(self) -> bool:
        return self.partner_id is not None
