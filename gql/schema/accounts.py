from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from domain.accounts import visible_lead_status
from domain.enums import CategoryGroup as DomainCategoryGroup
from domain.enums import LeadStatus as DomainLeadStatus
from domain.lists import ListName
from gql.schema import enums
from gql.schema import relations as rel
from gql.schema.attachments import attachments_field
from gql.schema.base import Node, needs
from gql.schema.custom_fields import as_text_pairs, custom_fields_field
from gql.schema.fields import linked, to_one
from gql.schema.history import history_field
from gql.schema.indicators import indicators_field
from gql.schema.settings import list_value_field
from gql.schema.tasks import task_connection
from persistence import filters as spec
from persistence import tables

if TYPE_CHECKING:
    from gql.schema.catalog import PriceBook

STAMPS = "When it was created."


@strawberry.type(description="A key and its value, e.g. a custom attribute.")
class KeyValue:
    key: str = strawberry.field(description="The attribute's name.")
    value: str = strawberry.field(description="The attribute's value.")


@strawberry.type(description="A customer, prospect or other party: a person, an organization or a portal login.")
class Account(Node):
    graphql_type = "Account"
    kind: enums.AccountKind = strawberry.field(description="Person, organization or login.")
    kind_value = list_value_field(ListName.ACCOUNT_TYPE, "kind", "Its kind as a value of the account types (label).")
    name: str = strawberry.field(description="The display name (for a person: first and last name).")
    first_name: str | None = strawberry.field(description="A person's first name.")
    last_name: str | None = strawberry.field(description="A person's last name.")
    organization: str | None = strawberry.field(description="The legal name of the organization, if it differs.")
    email: str | None = strawberry.field(description="The main e-mail address.")
    phone: str | None = strawberry.field(description="The main phone number.")
    street: str | None = strawberry.field(description="Street address.")
    city: str | None = strawberry.field(description="City.")
    postal_code: str | None = strawberry.field(description="Postal code.")
    country: str | None = strawberry.field(description="Country, ISO 3166 alpha-2 (e.g. NO).")
    registration_no: str | None = strawberry.field(description="Company registration number.")
    vat_no: str | None = strawberry.field(description="VAT number.")
    industry: str | None = strawberry.field(description="Industry.")
    key_account: bool = strawberry.field(description="True for a key account.")
    category: str | None = strawberry.field(description="The account's category (its contacts inherit it).")
    category_value = list_value_field(
        ListName.CONTACT_CATEGORY, "category", "Its category as a value of the contact categories (label, lead status)."
    )
    category_group: enums.CategoryGroup = strawberry.field(description="Prospect, customer or other.")
    is_global: bool = strawberry.field(description="True when every user may see it.")
    is_private: bool = strawberry.field(description="True when only its creator may see it.")
    comment: str | None = strawberry.field(description="Free text.")
    created_at: datetime = strawberry.field(description=STAMPS)
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    history = history_field("Account")
    attachments = attachments_field("account_id", "account")
    custom_fields = custom_fields_field("ACCOUNT")

    @strawberry.field(
        description="The custom field values as text (key → value), ordered by key.",
        deprecation_reason="Use `customFields`, which gives each value in its type with its field's label.",
    )
    @needs("custom_fields")
    def custom_attributes(self) -> list[KeyValue]:
        values: dict[str, Any] = self.__dict__["custom_fields"] or {}
        return [KeyValue(key=k, value=v) for k, v in as_text_pairs(values)]

    @strawberry.field(description="True when the calling user has marked this account as a favourite.")
    async def is_favourite(self, info: Info) -> bool:
        principal = info.context.principal
        if principal is None or principal.user_id is None:
            return False
        loader = info.context.children(
            tables.account_favourites,
            "account_id",
            where=tables.account_favourites.c.user_id == principal.user_id,
            tag=f"user:{principal.user_id}",
        )
        return bool(await loader.load(self.pk))

    manager = to_one("gql.schema.people:User", tables.users, "manager_id", "The user who manages the account.")
    created_by = to_one("gql.schema.people:User", tables.users, "created_by_id", "The user who created the account.")
    parent = to_one(
        "gql.schema.accounts:Account", tables.accounts, "parent_id", "The parent account, for a sub-account."
    )
    partner = to_one(
        "gql.schema.people:Partner", tables.partners, "partner_id", "The partner that manages this account."
    )
    sub_accounts = rel.accounts("parent_id", "The accounts whose parent this account is.")

    @strawberry.field(
        description="The price books a quote for this account may be priced from: the active ones for every customer "
        "or for its agreements (linked to it), whose regions include its country; by name."
    )
    @needs("id", "country")
    async def usable_price_books(self, info: Info) -> list[Annotated[PriceBook, strawberry.lazy("gql.schema.catalog")]]:
        from gql.resolvers.loaders import UsablePriceBooksLoader
        from gql.schema.catalog import PriceBook as Book

        ctx = info.context
        loader = ctx.loader(("usable_price_books",), lambda: UsablePriceBooksLoader(ctx.reads, viewer=ctx.viewer))
        return Book.from_rows(await loader.load((self.__dict__["id"], self.__dict__["country"])))

    linked_accounts = linked(
        "gql.schema.accounts:Account",
        tables.account_links,
        "account_id",
        "linked_account_id",
        tables.accounts,
        "Accounts linked to this one (e.g. the same group of companies).",
    )
    groups = linked(
        "gql.schema.accounts:AccountGroup",
        tables.account_group_members,
        "account_id",
        "group_id",
        tables.account_groups,
        "The groups this account belongs to.",
    )
    related_opportunities = linked(
        "gql.schema.opportunities:Opportunity",
        tables.opportunity_related_accounts,
        "account_id",
        "opportunity_id",
        tables.opportunities,
        "Opportunities this account is a related account on (another account's deals it takes part in); only "
        "those the caller may see.",
    )
    contacts = rel.contacts("account_id", "The people working at this account.")
    opportunities = rel.opportunities("account_id", "The account's opportunities.")
    contracts = rel.contracts("account_id", "The account's contracts (from sold opportunities).")
    leads = rel.leads("account_id", "Leads that were added to or qualified into this account.")
    activities = rel.activities(
        spec.ACCOUNT_TIMELINE,
        "this account's timeline: its own, its opportunities' and its contacts' (narrow with `filter.attachedToIn`)",
    )
    conversations = rel.conversations("account_id", "with this account")
    tasks = task_connection(
        "account_id", "Tasks attached to this account (not those on its opportunities or contacts)."
    )
    status_indicators = indicators_field("ACCOUNT")


@strawberry.type(description="A kind of contact: the built-in EMPLOYEE and CONSULTANT, or a company's own.")
class ContactType(Node):
    graphql_type = "ContactType"
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    name: str = strawberry.field(description="The name shown to users.")
    kind: enums.ContactKind = strawberry.field(description="Employee (of an account) or consultant (of a partner).")


@strawberry.type(description="A person: an employee of an account or a consultant of a partner.")
class Contact(Node):
    graphql_type = "Contact"
    custom_fields = custom_fields_field("CONTACT")
    first_name: str = strawberry.field(description='First name ("Anonymized" after anonymization).')
    last_name: str = strawberry.field(description='Last name ("contact" after anonymization).')
    title: str | None = strawberry.field(description="Job title.")
    email: str | None = strawberry.field(description="E-mail address.")
    phone: str | None = strawberry.field(description="Phone number.")
    skype: str | None = strawberry.field(description="Skype name.")
    anonymized: bool = strawberry.field(description="True when personal data was wiped (GDPR).")
    created_at: datetime = strawberry.field(description=STAMPS)
    updated_at: datetime = strawberry.field(description="When it last changed.")
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")

    @strawberry.field(description="First and last name.")
    @needs("first_name", "last_name")
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @strawberry.field(
        description="The lead status, shown only while the account is a PROSPECT in a category with lead status "
        "switched on (`settings.contactCategories`; null otherwise, and for consultants); the stored value is kept. The "
        "contacts filter and criteria on lead status match exactly what this shows."
    )
    async def lead_status(self, info: Info) -> enums.LeadStatus | None:
        account_id = self.__dict__["account_id"]
        if account_id is None:
            return None
        account = await info.context.by_id(tables.accounts).load(account_id)
        if account is None or account.category_group != DomainCategoryGroup.PROSPECT:
            return None
        settings = []
        if account.category is not None:
            settings = await info.context.children(
                tables.list_values, "key", where=tables.list_values.c.list_name == "CONTACT_CATEGORY", tag="category"
            ).load(account.category)
        shown = visible_lead_status(
            DomainLeadStatus(self.__dict__["lead_status"]),
            DomainCategoryGroup(account.category_group),
            all(row.lead_status for row in settings),  # on unless switched off
        )
        return shown.value if shown else None  # type: ignore[return-value]

    @strawberry.field(description="The category, inherited from the account (a contact has none of its own).")
    async def category(self, info: Info) -> str | None:
        account_id = self.__dict__["account_id"]
        if account_id is None:
            return None
        account = await info.context.by_id(tables.accounts).load(account_id)
        return account.category if account else None

    account = to_one("gql.schema.accounts:Account", tables.accounts, "account_id", "The account this person works at.")
    partner = to_one(
        "gql.schema.people:Partner", tables.partners, "partner_id", "The partner this consultant works at."
    )
    contact_type = to_one(
        "gql.schema.accounts:ContactType", tables.contact_types, "contact_type_id", "The contact's type."
    )
    tasks = task_connection("contact_id", "Tasks attached to this contact.")
    activities = rel.activities("contact_id", "this person (their own, which their status monitors judge)")
    status_indicators = indicators_field("CONTACT")


@strawberry.type(description="One column of the contact board: the contacts showing one lead status.")
class ContactColumn:
    status: enums.LeadStatus = strawberry.field(description="The lead status the contacts of this column show.")
    total_count: int = strawberry.field(description="How many contacts show this status (with the filter).")
    contacts: list[Contact] = strawberry.field(
        description="The most recently changed contacts of this column (at most `limit`)."
    )


@strawberry.type(description="A named group of accounts.")
class AccountGroup(Node):
    graphql_type = "AccountGroup"
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    name: str = strawberry.field(description="The group's name.")
    accounts = linked(
        "gql.schema.accounts:Account",
        tables.account_group_members,
        "group_id",
        "account_id",
        tables.accounts,
        "The accounts in this group.",
    )
