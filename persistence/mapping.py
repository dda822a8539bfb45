"""Which table holds each domain entity, and how a row becomes an entity again (the inverse of
`rows.to_row`)."""

from __future__ import annotations

import dataclasses
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import Table

from domain.accounts import Account, AccountGroup, Contact, ContactType
from domain.activities import Goal, SalesActivity
from domain.attachments import Attachment, AttachmentVersion
from domain.base import Entity
from domain.catalog import Bundle, PriceBook, PriceEntry, Product, ProductUnit
from domain.contracts import Contract
from domain.conversations import Conversation, ConversationSettings
from domain.custom_fields import CustomFieldDefinition
from domain.documents import DocumentTemplate, QuoteDocument
from domain.errors import Ref
from domain.identity import LeadMatchingSettings
from domain.leads import Campaign, Lead
from domain.lists import ListValue
from domain.money import Money
from domain.monitors import StatusMonitor
from domain.opportunities import BusinessRole, Opportunity
from domain.people import Partner, PartnerComment, Team, User
from domain.quotes import Quote, QuoteItem
from domain.routing import LeadRoutingRule, LeadSplitter, LeadSplitterShare
from domain.selections import Selection
from domain.stages import OpportunityStage
from domain.tasks import Task
from domain.terms import TrackedTerm
from domain.tokens import ApiToken
from domain.uow import Link
from domain.views import SavedView
from persistence import tables

TABLES: dict[type[Entity], Table] = {
    Account: tables.accounts,
    AccountGroup: tables.account_groups,
    Contact: tables.contacts,
    ContactType: tables.contact_types,
    ListValue: tables.list_values,
    CustomFieldDefinition: tables.custom_field_definitions,
    Goal: tables.goals,
    SalesActivity: tables.sales_activities,
    Bundle: tables.bundles,
    PriceBook: tables.price_books,
    PriceEntry: tables.price_entries,
    Product: tables.products,
    ProductUnit: tables.product_units,
    Contract: tables.contracts,
    Campaign: tables.campaigns,
    Lead: tables.leads,
    BusinessRole: tables.business_roles,
    Opportunity: tables.opportunities,
    OpportunityStage: tables.opportunity_stages,
    ApiToken: tables.api_tokens,
    Partner: tables.partners,
    Team: tables.teams,
    User: tables.users,
    Quote: tables.quotes,
    QuoteItem: tables.quote_items,
    LeadRoutingRule: tables.lead_routing_rules,
    LeadSplitter: tables.lead_splitters,
    LeadSplitterShare: tables.lead_splitter_shares,
    DocumentTemplate: tables.document_templates,
    QuoteDocument: tables.quote_documents,
    StatusMonitor: tables.status_monitors,
    Selection: tables.selections,
    SavedView: tables.saved_views,
    Conversation: tables.conversations,
    ConversationSettings: tables.conversation_settings,
    TrackedTerm: tables.tracked_terms,
    Task: tables.tasks,
    LeadMatchingSettings: tables.lead_matching_settings,
    Attachment: tables.attachments,
    AttachmentVersion: tables.attachment_versions,
    PartnerComment: tables.partner_comments,
}

LINKS: dict[Link, Table] = {
    Link.ACCOUNT_LINK: tables.account_links,
    Link.ACCOUNT_GROUP_MEMBER: tables.account_group_members,
    Link.FAVOURITE: tables.account_favourites,
    Link.RELATED_ACCOUNT: tables.opportunity_related_accounts,
    Link.BUNDLE_COMPONENT: tables.bundle_components,
    Link.PRICE_BOOK_ACCOUNT: tables.price_book_accounts,
}


def register(kind: type[Entity], table: Table) -> None:
    """Map another entity class (entities added by later features register themselves)."""
    TABLES[kind] = table


def _entity_names() -> dict[str, str]:
    return {table.name: kind.__name__ for kind, table in TABLES.items()}  # not cached: `register` adds more


def referenced(table: Table, column: str, value: Any) -> Any:
    """The value of `column` with a foreign key as the row it names (a `Ref`), e.g. for history."""
    if value is None or column not in table.c:
        return value
    targets = [_entity_names().get(fk.column.table.name) for fk in table.c[column].foreign_keys]
    return Ref(targets[0], value) if targets and targets[0] else value


def table_of(kind: type[Entity]) -> Table:
    try:
        return TABLES[kind]
    except KeyError:
        raise TypeError(f"{kind.__name__} has no table; map it in persistence/mapping.py") from None


@cache
def _money_fields(kind: type) -> frozenset[str]:
    hints = typing.get_type_hints(kind)
    return frozenset(name for name, hint in hints.items() if "Money" in str(hint))


@cache
def _dict_fields(kind: type) -> dict[str, Any]:
    """Fields held as a JSON object whose type rebuilds itself with `from_dict` (the inverse of the
    `to_dict` that rows.to_row stores), e.g. a status monitor's rule."""
    found = {}
    for name, hint in typing.get_type_hints(kind).items():
        for candidate in (hint, *typing.get_args(hint)):
            if isinstance(candidate, type) and callable(getattr(candidate, "from_dict", None)):
                found[name] = candidate
                break
    return found


def from_row(kind: type[Entity], row: Any, **extra: Any) -> Entity:
    """An entity from a table row (a Row or a mapping); `extra` fills fields that are not columns."""
    values = row._mapping if hasattr(row, "_mapping") else row
    money = _money_fields(kind)
    rebuilt = _dict_fields(kind)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(kind):
        if f.name in extra:
            kwargs[f.name] = extra[f.name]
        elif f.name in rebuilt and isinstance(values.get(f.name), dict):
            kwargs[f.name] = rebuilt[f.name].from_dict(values[f.name])
        elif f.name in money:
            amount = values.get(f"{f.name}_amount")
            kwargs[f.name] = None if amount is None else Money(amount, values[f"{f.name}_currency"])
        elif f.name in values:
            kwargs[f.name] = values[f.name]
    return kind(**kwargs)


def plain(value: Any) -> Any:
    """A value as JSON can hold it (for history entries and event data)."""
    if isinstance(value, Ref):
        # A row named in history: kept as the row it is, shown to each reader by its rules.
        return {"ref": value.entity, "id": value.id}
    if isinstance(value, Money):
        return {"amount": str(value.rounded().amount), "currency": value.currency}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return plain(dataclasses.asdict(value))
    return value
