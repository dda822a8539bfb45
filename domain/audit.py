from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import Ref, ValidationError

AUDITED = (
    "Account",
    "Opportunity",
    "Quote",
    "Task",
    "Contract",
    "Partner",
    "PriceBook",
    "ListValue",
    "Selection",
    "SavedView",
    "CustomFieldDefinition",
    "OpportunityStage",
)


def business_role(role: str, contact_id: int) -> dict[str, Any]:
    """A business role as history keeps it: the role, and the contact as the row it is (a `Ref`), so a
    reader who may not see that contact reads null there, never its key."""
    return {"role": role, "contact": Ref("Contact", contact_id)}


@dataclass(kw_only=True)
class AuditEntry:
    """One changed field of an account, opportunity, quote or task: who changed it, when, from what to what.
    A value that names a row holds it as a `Ref` (stored as `{"ref": type, "id": key}`), never as a bare
    key: the API shows it with the reader's rules (gql/schema/history.py)."""

    entity_type: str
    entity_id: int
    field: str
    old_value: Any
    new_value: Any
    at: datetime
    actor_user_id: int | None = None
    actor_partner_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.entity_type not in AUDITED:
            raise ValidationError("entityType", f"the history of a {self.entity_type} is not kept")
        if self.actor_user_id is not None and self.actor_partner_id is not None:
            raise ValidationError("actor", "a change is made by a user or a partner, not both")
