"""Configurable lists (issue 17, item 5): activity types, account types, campaign statuses, contract categories
and contact categories are rows an admin edits, not enums.

Every list holds values with a key (what rows store: the enum names of before, so no stored value changed), a
label, an order and an active flag, plus the attributes only its list has:
- ACTIVITY_TYPE: none (the built-in MEETING stays what "many meetings, no sale" counts);
- ACCOUNT_TYPE: `person_name` (Easy Project's account types: the account is named by first and last name, as
  PERSON, or by one name, as ORGANIZATION and LOGIN);
- CAMPAIGN_STATUS: `archived` (a campaign in it is out of use: archiveCampaign moves it to such a status);
- CONTRACT_CATEGORY: none (Easy Project's product categories, which a contract takes from its product);
- CONTACT_CATEGORY: `lead_status` (SuperOffice's "activate lead status" switch of a category; an account
  without a category has it on).
A value in use cannot be deleted; it can be deactivated: refused on new writes, still shown on existing rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from domain.base import Entity, required
from domain.enums import AccountKind, ActivityType, CampaignStatus, ProductCategory
from domain.errors import ValidationError


class ListName(str, Enum):
    ACTIVITY_TYPE = "ACTIVITY_TYPE"
    ACCOUNT_TYPE = "ACCOUNT_TYPE"
    CAMPAIGN_STATUS = "CAMPAIGN_STATUS"
    CONTRACT_CATEGORY = "CONTRACT_CATEGORY"
    CONTACT_CATEGORY = "CONTACT_CATEGORY"

    @property
    def words(self) -> str:
        return self.value.lower().replace("_", " ")


# The attribute each list has of its own (None for the other lists' rows).
ATTRIBUTES: dict[ListName, str | None] = {
    ListName.ACTIVITY_TYPE: None,
    ListName.ACCOUNT_TYPE: "person_name",
    ListName.CAMPAIGN_STATUS: "archived",
    ListName.CONTRACT_CATEGORY: None,
    ListName.CONTACT_CATEGORY: "lead_status",
}
ALL_ATTRIBUTES = ("person_name", "archived", "lead_status")

# The longest key each list takes: the width of the columns that store it.
KEY_LENGTH: dict[ListName, int] = {
    ListName.ACTIVITY_TYPE: 16,
    ListName.ACCOUNT_TYPE: 16,
    ListName.CAMPAIGN_STATUS: 16,
    ListName.CONTRACT_CATEGORY: 32,
    ListName.CONTACT_CATEGORY: 100,
}
LABEL_LENGTH = 200
KEY_PATTERN = re.compile(r"[A-Z][A-Z0-9_]*")


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


# Today's values, seeded as rows (migration 0019 and the demo seed): key, label, attribute.
DEFAULTS: dict[ListName, list[tuple[str, str, bool | None]]] = {
    ListName.ACTIVITY_TYPE: [(t.value, _label(t.value), None) for t in ActivityType],
    ListName.ACCOUNT_TYPE: [
        (AccountKind.PERSON.value, "Person", True),
        (AccountKind.ORGANIZATION.value, "Organization", False),
        (AccountKind.LOGIN.value, "Login", False),
    ],
    ListName.CAMPAIGN_STATUS: [
        (CampaignStatus.ACTIVE.value, "Active", False),
        (CampaignStatus.ARCHIVED.value, "Archived", True),
    ],
    ListName.CONTRACT_CATEGORY: [(c.value, _label(c.value), None) for c in ProductCategory],
    ListName.CONTACT_CATEGORY: [],  # free text before: the migration inserts every value stored
}
# A value the list gets without an attribute given (a new contact category shows lead status, as a category
# without a setting did; a new campaign status is in use; a new account type has one name).
ATTRIBUTE_DEFAULT = {"person_name": False, "archived": False, "lead_status": True}


def check_key(list_name: ListName, key: str | None) -> str:
    """A new key, as admins make them: UPPER_SNAKE, at most as long as the list's column."""
    key = required(key, "key")
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationError("key", f"{key!r} is not UPPER_SNAKE (A-Z, 0-9 and _, starting with a letter)")
    if len(key) > KEY_LENGTH[list_name]:
        raise ValidationError("key", f"{key!r} is longer than {KEY_LENGTH[list_name]} characters")
    return key


@dataclass(kw_only=True)
class ListValue(Entity):
    """One value of a configurable list. `key` is what rows store and never changes; the rest may."""

    list_name: ListName
    key: str
    label: str
    position: int = 0
    active: bool = True
    person_name: bool | None = None
    archived: bool | None = None
    lead_status: bool | None = None

    def __post_init__(self) -> None:
        self.list_name = ListName(self.list_name)
        self.label = required(self.label, "label")
        if len(self.label) > LABEL_LENGTH:
            raise ValidationError("label", f"is longer than {LABEL_LENGTH} characters")
        own = ATTRIBUTES[self.list_name]
        for name in ALL_ATTRIBUTES:
            value = getattr(self, name)
            if name == own and value is None:
                setattr(self, name, ATTRIBUTE_DEFAULT[name])
            elif name != own and value is not None:
                raise ValidationError(_camel(name), f"{self.list_name.words} values have no {_camel(name)}")

    @property
    def name(self) -> str:
        """How history names the value (its key)."""
        return self.key


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(r.capitalize() for r in rest)


def account_names(person_name: bool, name: str | None, first_name: str | None, last_name: str | None) -> str:
    """An account's name by its type: first and last name, both required, for a type with person names
    (PERSON); one name otherwise."""
    if person_name:
        first = required(first_name, "firstName")
        last = required(last_name, "lastName")
        return f"{first} {last}"
    return required(name, "name")
