"""Saved views (after Easy Project): a named filter (criteria) and order for one root list, private to its
owner or shared with every user, with one default per role (set by an admin) and each user's own default,
which comes first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.base import Entity, required
from domain.criteria import CriteriaEntity, normalise
from domain.enums import Role
from domain.errors import ValidationError
from domain.selections import Sharing

NAME_MAX = 200
# What each list can be ordered by (the lists' own order fields).
ORDERS: dict[CriteriaEntity, tuple[str, ...]] = {
    CriteriaEntity.ACCOUNT: ("NAME", "COUNTRY", "CREATED_AT", "UPDATED_AT"),
    CriteriaEntity.CONTACT: ("LAST_NAME", "FIRST_NAME", "CREATED_AT", "UPDATED_AT"),
    CriteriaEntity.OPPORTUNITY: (
        "NAME",
        "ESTIMATED_REVENUE",
        "EXPECTED_CLOSE_DATE",
        "CLOSED_AT",
        "STAGE_CHANGED_AT",
        "CREATED_AT",
        "UPDATED_AT",
    ),
    CriteriaEntity.LEAD: ("PRIORITY", "LAST_NAME", "COMPANY", "CREATED_AT", "UPDATED_AT"),
    CriteriaEntity.ACTIVITY: ("DUE_AT", "OCCURRED_AT", "SUBJECT", "CREATED_AT", "UPDATED_AT"),
}


@dataclass(kw_only=True)
class SavedView(Entity):
    name: str
    list: CriteriaEntity
    criteria: dict[str, Any] | None = None
    order_field: str | None = None
    order_descending: bool = False
    sharing: Sharing = Sharing.PRIVATE
    default_for_roles: list[str] = field(default_factory=list)
    owner_default: bool = False  # the owner's own default for its list
    owner_user_id: int | None = None
    owner_partner_id: int | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        if len(self.name) > NAME_MAX:
            raise ValidationError("name", f"is longer than {NAME_MAX} characters")
        self.list = CriteriaEntity(self.list)
        self.sharing = Sharing(self.sharing)
        if self.sharing is Sharing.TEAM:
            raise ValidationError("sharing", "a view is PRIVATE or shared with EVERYONE")
        if self.criteria is not None:
            self.criteria = normalise(self.list, self.criteria)
        if self.order_field is not None and self.order_field not in ORDERS[self.list]:
            raise ValidationError(
                "orderField", f"{self.list.value} lists order by one of {', '.join(ORDERS[self.list])}"
            )
        self.default_for_roles = sorted({Role(r).value for r in self.default_for_roles})
        if self.default_for_roles and self.sharing is not Sharing.EVERYONE:
            raise ValidationError("defaultForRoles", "a role's default view is shared with EVERYONE")
        if self.owner_partner_id is not None and (self.sharing is not Sharing.PRIVATE or self.default_for_roles):
            raise ValidationError("sharing", "a partner's views are its own")
