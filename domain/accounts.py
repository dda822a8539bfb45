from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.base import Entity, check_email, required
from domain.enums import AccountKind, CategoryGroup, ContactKind, LeadStatus
from domain.errors import ValidationError


@dataclass(kw_only=True)
class Account(Entity):
    kind: str
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    registration_no: str | None = None
    vat_no: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)  # domain/custom_fields.py
    industry: str | None = None
    manager_id: int | None = None
    key_account: bool = False
    category: str | None = None
    category_group: CategoryGroup = CategoryGroup.PROSPECT
    parent_id: int | None = None
    is_global: bool = False
    is_private: bool = False
    created_by_id: int | None = None
    comment: str | None = None
    partner_id: int | None = None

    def __post_init__(self) -> None:
        # The kind is a key of the configurable account types (domain/lists.py): the workflows check it and
        # name a person-named account by first and last name (`domain.lists.account_names`).
        self.kind = required(str(self.kind.value if isinstance(self.kind, AccountKind) else self.kind), "kind")
        self.category_group = CategoryGroup(self.category_group)
        self.email = check_email(self.email)
        if self.name is None and self.first_name and self.last_name:
            self.name = f"{self.first_name.strip()} {self.last_name.strip()}"
        self.name = required(self.name, "name")
        if self.is_private and self.is_global:
            raise ValidationError("isPrivate", "a private account cannot also be global")
        if self.is_private and self.created_by_id is None:
            raise ValidationError("isPrivate", "a private account needs its creator")
        if self.parent_id is not None and self.parent_id == self.id:
            raise ValidationError("parentId", "an account cannot be its own parent")


@dataclass(kw_only=True)
class ContactType(Entity):
    """EMPLOYEE and CONSULTANT are built in; companies add their own on top of one of them."""

    name: str
    kind: ContactKind

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        self.kind = ContactKind(self.kind)


@dataclass(kw_only=True)
class Contact(Entity):
    """A person at an account (employee) or at a partner (consultant)."""

    first_name: str
    last_name: str
    contact_type_id: int
    account_id: int | None = None
    partner_id: int | None = None
    email: str | None = None
    phone: str | None = None
    skype: str | None = None
    title: str | None = None
    lead_status: LeadStatus = LeadStatus.OPEN
    anonymized: bool = False
    custom_fields: dict[str, Any] = field(default_factory=dict)  # domain/custom_fields.py

    def __post_init__(self) -> None:
        self.first_name = required(self.first_name, "firstName")
        self.last_name = required(self.last_name, "lastName")
        self.email = check_email(self.email)
        self.lead_status = LeadStatus(self.lead_status)
        if (self.account_id is None) == (self.partner_id is None):
            raise ValidationError("accountId", "a contact belongs to exactly one account or one partner")


def shows_lead_status(account_group: CategoryGroup | None, lead_status_on: bool) -> bool:
    """Whether an account's contacts show their lead status: a prospect whose category has it switched on."""
    return account_group is CategoryGroup.PROSPECT and lead_status_on


def visible_lead_status(
    contact_status: LeadStatus, account_group: CategoryGroup | None, lead_status_on: bool
) -> LeadStatus | None:
    """A contact's lead status is shown only while its account is a prospect in a category with lead status
    switched on; otherwise it is hidden, and kept."""
    return contact_status if shows_lead_status(account_group, lead_status_on) else None


@dataclass(kw_only=True)
class AccountGroup(Entity):
    name: str

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
