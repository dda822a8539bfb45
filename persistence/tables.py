from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator):
    """Timestamps are stored and returned in UTC, also on SQLite, which keeps no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one in UTC")
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        # asyncpg already returns aware datetimes: no per-value work on PostgreSQL.
        if dialect.name == "postgresql":
            return self.impl_instance.result_processor(dialect, coltype)
        return super().result_processor(dialect, coltype)


MONEY = Numeric(20, 4, asdecimal=True)
QUANTITY = Numeric(14, 4, asdecimal=True)


def _stamps() -> list[Column]:
    return [
        Column("created_at", UTCDateTime, nullable=False, server_default=func.now()),
        Column("updated_at", UTCDateTime, nullable=False, server_default=func.now()),
        Column("version", Integer, nullable=False, server_default="1"),
    ]


def _id() -> Column:
    return Column("id", Integer, primary_key=True)


def _fk(name: str, target: str, nullable: bool = True, ondelete: str | None = None, index: bool = True) -> Column:
    return Column(name, Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


teams = Table("teams", metadata, _id(), Column("name", String(200), nullable=False, unique=True), *_stamps())

users = Table(
    "users",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    _fk("team_id", "teams.id"),
    *_stamps(),
)

partners = Table(
    "partners",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("phone", String(64)),
    Column("country", String(2)),
    *_stamps(),
    Index("ix_partners_name", "name"),
)

accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("kind", String(16), nullable=False),
    Column("name", String(300), nullable=False),
    Column("first_name", String(150)),
    Column("last_name", String(150)),
    Column("organization", String(300)),
    Column("email", String(320)),
    Column("phone", String(64)),
    Column("street", String(300)),
    Column("city", String(150)),
    Column("postal_code", String(32)),
    Column("country", String(2)),
    Column("registration_no", String(64)),
    Column("vat_no", String(64)),
    # Custom field values {key: value} (domain/custom_fields.py; migration 0019 renamed custom_attributes).
    Column("custom_fields", JSON, nullable=False, default=dict),
    Column("industry", String(100)),
    _fk("manager_id", "users.id"),
    Column("key_account", Boolean, nullable=False, default=False),
    Column("category", String(100)),
    Column("category_group", String(16), nullable=False),
    _fk("parent_id", "accounts.id"),
    Column("is_global", Boolean, nullable=False, default=False),
    Column("is_private", Boolean, nullable=False, default=False),
    _fk("created_by_id", "users.id"),
    Column("comment", Text),
    _fk("partner_id", "partners.id"),
    *_stamps(),
    Index("ix_accounts_name", "name"),
    Index("ix_accounts_country", "country"),
    Index("ix_accounts_industry", "industry"),
    Index("ix_accounts_created_at", "created_at"),
)

account_links = Table(
    "account_links",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("linked_account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True),
    CheckConstraint("account_id <> linked_account_id", name="not_self"),
)

account_groups = Table(
    "account_groups", metadata, _id(), Column("name", String(200), nullable=False, unique=True), *_stamps()
)

account_group_members = Table(
    "account_group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("account_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True),
)

account_favourites = Table(
    "account_favourites",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True),
)

contact_types = Table(
    "contact_types",
    metadata,
    _id(),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    *_stamps(),
)

contacts = Table(
    "contacts",
    metadata,
    _id(),
    _fk("account_id", "accounts.id", ondelete="CASCADE"),
    _fk("partner_id", "partners.id", ondelete="CASCADE"),
    _fk("contact_type_id", "contact_types.id", nullable=False),
    Column("first_name", String(150), nullable=False),
    Column("last_name", String(150), nullable=False),
    Column("title", String(150)),
    Column("email", String(320)),
    Column("phone", String(64)),
    Column("skype", String(100)),
    Column("lead_status", String(16), nullable=False),
    Column("anonymized", Boolean, nullable=False, default=False),
    Column("custom_fields", JSON, nullable=False, default=dict),  # {key: value} (migration 0019)
    *_stamps(),
    CheckConstraint("(account_id IS NULL) <> (partner_id IS NULL)", name="one_owner"),
    Index("ix_contacts_last_name", "last_name"),
)

campaigns = Table(
    "campaigns",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("costs_amount", MONEY),
    Column("costs_currency", String(3)),
    Column("starts_on", Date),
    Column("ends_on", Date),
    *_stamps(),
)

products = Table(
    "products",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("code", String(64), nullable=False, unique=True),
    Column("description", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("category", String(32), nullable=False),
    *_stamps(),
)

product_units = Table(
    "product_units",
    metadata,
    _id(),
    _fk("product_id", "products.id", nullable=False, ondelete="CASCADE"),
    Column("name", String(64), nullable=False),
    Column("recurring", Boolean, nullable=False, default=False),
    Column("period_months", Integer),
    *_stamps(),
    UniqueConstraint("product_id", "name", name="uq_product_units_product_name"),
)

price_books = Table(
    "price_books",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("brands", JSON, nullable=False, default=list),
    Column("product_versions", JSON, nullable=False, default=list),
    Column("regions", JSON, nullable=False, default=list),
    Column("active", Boolean, nullable=False, default=True),
    Column("is_update", Boolean, nullable=False, default=False),
    _fk("previous_id", "price_books.id"),
    *_stamps(),
)

price_entries = Table(
    "price_entries",
    metadata,
    _id(),
    _fk("price_book_id", "price_books.id", nullable=False, ondelete="CASCADE"),
    _fk("unit_id", "product_units.id", nullable=False, ondelete="CASCADE"),
    Column("price_amount", MONEY, nullable=False),
    Column("price_currency", String(3), nullable=False),
    # For one of the book's brands and product versions; '' for any (migration 0014).
    Column("brand", String(100), nullable=False, server_default=""),
    Column("product_version", String(100), nullable=False, server_default=""),
    *_stamps(),
    UniqueConstraint(
        "price_book_id",
        "unit_id",
        "price_currency",
        "brand",
        "product_version",
        name="uq_price_entries_book_unit_currency_brand_version",
    ),
)

# The accounts a price book is for (an agreement with them); a book with none is for every customer.
price_book_accounts = Table(
    "price_book_accounts",
    metadata,
    Column("price_book_id", Integer, ForeignKey("price_books.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True),
)

bundles = Table(
    "bundles",
    metadata,
    _id(),
    _fk("price_book_id", "price_books.id", nullable=False, ondelete="CASCADE"),
    Column("name", String(200), nullable=False),
    Column("code", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("description", Text),
    *_stamps(),
    UniqueConstraint("price_book_id", "code", name="uq_bundles_book_code"),
)

bundle_components = Table(
    "bundle_components",
    metadata,
    Column("bundle_id", Integer, ForeignKey("bundles.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", Integer, ForeignKey("product_units.id", ondelete="CASCADE"), primary_key=True),
    Column("weight", Numeric(7, 4), nullable=False),
)

exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("currency", String(3), primary_key=True),
    Column("rate", Numeric(20, 10), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, server_default=func.now()),
)

opportunities = Table(
    "opportunities",
    metadata,
    _id(),
    Column("name", String(300), nullable=False),
    _fk("account_id", "accounts.id", nullable=False),
    _fk("owner_id", "users.id", nullable=False),
    _fk("partner_id", "partners.id"),
    _fk("campaign_id", "campaigns.id"),
    Column("stage", String(32), nullable=False),
    Column("estimated_revenue_amount", MONEY),
    Column("estimated_revenue_currency", String(3)),
    Column("probability", Integer, nullable=False),
    Column("expected_close_date", Date),
    Column("locked", Boolean, nullable=False, default=False),
    Column("closed_at", UTCDateTime),
    Column("actual_revenue_amount", MONEY),
    Column("actual_revenue_currency", String(3)),
    Column("loss_reason", Text),
    Column("stage_changed_at", UTCDateTime),
    Column("credit_shares", String(400)),  # "user:percent,..." by user (domain/credit.py); NULL: the owner's
    Column("custom_fields", JSON, nullable=False, default=dict),  # {key: value} (migration 0019)
    *_stamps(),
    Index("ix_opportunities_stage_closed_at", "stage", "closed_at"),
    Index("ix_opportunities_name", "name"),
    Index("ix_opportunities_created_at", "created_at"),
    Index("ix_opportunities_expected_close_date", "expected_close_date"),
    Index("ix_opportunities_stage_created_at", "stage", "created_at"),  # the opportunity board's columns
)

# The opportunity stages (domain/stages.py): `opportunities.stage` holds a key (no foreign key: a key is
# kept as the text it always was, and a stage in use cannot be deleted by the workflow's own count).
opportunity_stages = Table(
    "opportunity_stages",
    metadata,
    _id(),
    Column("key", String(32), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("position", Integer, nullable=False),
    Column("probability", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    *_stamps(),
)

opportunity_related_accounts = Table(
    "opportunity_related_accounts",
    metadata,
    Column("opportunity_id", Integer, ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True),
)

business_roles = Table(
    "business_roles",
    metadata,
    _id(),
    _fk("opportunity_id", "opportunities.id", nullable=False, ondelete="CASCADE"),
    _fk("contact_id", "contacts.id", nullable=False, ondelete="CASCADE"),
    Column("role", String(200), nullable=False),
    *_stamps(),
)

quotes = Table(
    "quotes",
    metadata,
    _id(),
    _fk("opportunity_id", "opportunities.id", nullable=False, ondelete="CASCADE"),
    Column("name", String(300), nullable=False),
    Column("currency", String(3), nullable=False),
    _fk("price_book_id", "price_books.id"),
    Column("brand", String(100)),
    Column("product_version", String(100)),
    Column("valid_from", Date),
    Column("valid_until", Date),
    Column("is_active", Boolean, nullable=False, default=False),
    *_stamps(),
    Index(
        "uq_quotes_one_active",
        "opportunity_id",
        unique=True,
        sqlite_where=text("is_active"),
        postgresql_where=text("is_active"),
    ),
)

quote_items = Table(
    "quote_items",
    metadata,
    _id(),
    _fk("quote_id", "quotes.id", nullable=False, ondelete="CASCADE"),
    Column("position", Integer, nullable=False),
    _fk("product_id", "products.id"),
    _fk("unit_id", "product_units.id", index=False),
    Column("name", String(300), nullable=False),
    Column("unit_name", String(64)),
    Column("quantity", QUANTITY, nullable=False),
    Column("unit_price", MONEY, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("discount_percent", Numeric(7, 4), nullable=False),
    Column("total", MONEY, nullable=False),
    Column("is_rounding", Boolean, nullable=False, default=False),
    *_stamps(),
)

contracts = Table(
    "contracts",
    metadata,
    _id(),
    _fk("account_id", "accounts.id", nullable=False),
    _fk("opportunity_id", "opportunities.id", nullable=False),
    _fk("quote_item_id", "quote_items.id", index=False),
    _fk("product_id", "products.id"),
    Column("name", String(300), nullable=False),
    Column("category", String(32)),
    Column("kind", String(16), nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    Column("value_amount", MONEY, nullable=False),
    Column("value_currency", String(3), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
    Column("status", String(16), nullable=False),
    Column("cancelled_on", Date),
    Column("cancel_reason", Text),
    Column("expiry_noticed_for", Date),
    *_stamps(),
    UniqueConstraint("quote_item_id", name="uq_contracts_quote_item"),
    Index("ix_contracts_starts_on", "starts_on"),
    # The scheduler's due contracts (active, by end) and the accounts' service-expiry filter.
    Index("ix_contracts_status_ends_on", "status", "ends_on"),
)

leads = Table(
    "leads",
    metadata,
    _id(),
    Column("first_name", String(150)),
    Column("last_name", String(150)),
    Column("company", String(300)),
    Column("email", String(320)),
    Column("phone", String(64)),
    Column("country", String(2)),
    Column("company_size", Integer),
    _fk("campaign_id", "campaigns.id"),
    Column("utm_source", String(200)),
    Column("utm_medium", String(200)),
    Column("utm_campaign", String(200)),
    Column("priority", Integer, nullable=False, default=0),
    _fk("assigned_user_id", "users.id"),
    _fk("assigned_partner_id", "partners.id"),
    Column("status", String(16), nullable=False),
    Column("disqualification_reason", Text),
    # Why a lead was put back for a later follow-up (migration 0014; before, it shared disqualification_reason).
    Column("rework_note", Text),
    Column("archived", Boolean, nullable=False, default=False),
    _fk("account_id", "accounts.id"),
    _fk("contact_id", "contacts.id", index=False),
    _fk("opportunity_id", "opportunities.id", index=False),
    Column("anonymized", Boolean, nullable=False, default=False),
    Column("status_changed_at", UTCDateTime),
    Column("email_key", String(320)),
    Column("phone_key", String(64)),
    Column("company_key", String(300)),
    _fk("duplicate_of_id", "leads.id", ondelete="SET NULL"),
    _fk("matched_contact_id", "contacts.id", ondelete="SET NULL", index=False),
    _fk("matched_account_id", "accounts.id", ondelete="SET NULL", index=False),
    Column("match_reasons", JSON),
    _fk("merged_into_id", "leads.id", ondelete="SET NULL", index=False),
    Column("credit_shares", String(400)),  # "user:percent,..." by user (domain/credit.py); NULL: not shared
    Column("custom_fields", JSON, nullable=False, default=dict),  # {key: value} (migration 0019)
    *_stamps(),
    Index("ix_leads_board", "status", "archived", "priority", "created_at"),
    Index("ix_leads_created_at", "created_at"),
    Index("ix_leads_email_key", "email_key"),
    Index("ix_leads_phone_key", "phone_key"),
    Index("ix_leads_company_key", "company_key"),
)

# Whether incoming leads are matched with known leads, contacts and accounts (one row, id 1).
lead_matching_settings = Table(
    "lead_matching_settings",
    metadata,
    _id(),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("by_email", Boolean, nullable=False, default=True),
    Column("by_phone", Boolean, nullable=False, default=True),
    Column("by_company", Boolean, nullable=False, default=True),
    *_stamps(),
)

# Configurable lists (migration 0019, issue 17 item 5; domain/lists.py): activity types, account types, campaign
# statuses, contract categories and contact categories. Rows keep the key (accounts.kind, sales_activities.type,
# campaigns.status, products.category and contracts.category, accounts.category); the list-specific attributes
# are null on the other lists' rows. The contact categories' `lead_status` replaced `category_settings`.
list_values = Table(
    "list_values",
    metadata,
    _id(),
    Column("list_name", String(32), nullable=False),
    Column("key", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
    Column("person_name", Boolean),
    Column("archived", Boolean),
    Column("lead_status", Boolean),
    *_stamps(),
    UniqueConstraint("list_name", "key"),
)

sales_activities = Table(
    "sales_activities",
    metadata,
    _id(),
    Column("type", String(16), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("notes", Text),
    Column("due_at", UTCDateTime),
    Column("occurred_at", UTCDateTime),
    Column("done", Boolean, nullable=False, default=False),
    Column("duration_minutes", Integer),
    _fk("owner_id", "users.id", nullable=False),
    _fk("lead_id", "leads.id", ondelete="CASCADE"),
    _fk("opportunity_id", "opportunities.id", ondelete="CASCADE"),
    _fk("account_id", "accounts.id", ondelete="CASCADE"),
    _fk("partner_id", "partners.id", ondelete="CASCADE"),
    # A person's own activities (migration 0014): what a contact's status monitors judge.
    _fk("contact_id", "contacts.id", ondelete="CASCADE"),
    *_stamps(),
    Index("ix_sales_activities_created_at", "created_at"),
    Index("ix_sales_activities_occurred_at", "occurred_at"),
)

# Tasks (migration 0009): a to-do on exactly one account, contact, opportunity or lead.
TASK_PRIORITIES = ("LOW", "NORMAL", "HIGH", "URGENT")

tasks = Table(
    "tasks",
    metadata,
    _id(),
    Column("title", String(300), nullable=False),
    Column("notes", Text),
    Column("due_at", UTCDateTime),
    Column("priority", String(8), nullable=False),
    Column("done", Boolean, nullable=False, default=False),
    Column("completed_at", UTCDateTime),
    _fk("assignee_id", "users.id", nullable=False, index=False),
    _fk("completed_by_user_id", "users.id", index=False, ondelete="SET NULL"),
    _fk("completed_by_partner_id", "partners.id", index=False, ondelete="SET NULL"),
    _fk("created_by_user_id", "users.id", index=False, ondelete="SET NULL"),
    _fk("created_by_partner_id", "partners.id", index=False, ondelete="SET NULL"),
    _fk("account_id", "accounts.id", ondelete="CASCADE"),
    _fk("contact_id", "contacts.id", ondelete="CASCADE"),
    _fk("opportunity_id", "opportunities.id", ondelete="CASCADE"),
    _fk("lead_id", "leads.id", ondelete="CASCADE"),
    *_stamps(),
    CheckConstraint(
        "(CASE WHEN account_id IS NULL THEN 0 ELSE 1 END + CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END"
        " + CASE WHEN opportunity_id IS NULL THEN 0 ELSE 1 END + CASE WHEN lead_id IS NULL THEN 0 ELSE 1 END) = 1",
        name="attached_once",
    ),
    CheckConstraint("priority IN ('LOW', 'NORMAL', 'HIGH', 'URGENT')", name="priority"),
    # "My open tasks" and "overdue": open tasks by assignee and due time.
    Index("ix_tasks_assignee_open_due", "assignee_id", "done", "due_at"),
    Index("ix_tasks_open_due", "done", "due_at"),
)

goals = Table(
    "goals",
    metadata,
    _id(),
    _fk("user_id", "users.id", nullable=False, ondelete="CASCADE"),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("target_revenue_amount", MONEY, nullable=False),
    Column("target_revenue_currency", String(3), nullable=False),
    Column("target_deals", Integer, nullable=False),
    *_stamps(),
    UniqueConstraint("user_id", "period_start", "period_end", name="uq_goals_user_period"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False, default=list),
    _fk("user_id", "users.id", ondelete="CASCADE"),
    _fk("partner_id", "partners.id", ondelete="CASCADE"),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    # Runs only the documents registered for it in `trusted_documents` (a partner portal's token).
    Column("trusted_documents_only", Boolean, nullable=False, server_default=text("false")),
    *_stamps(),
)

trusted_documents = Table(
    "trusted_documents",
    metadata,
    _id(),
    _fk("token_id", "api_tokens.id", nullable=False, ondelete="CASCADE", index=False),
    Column("sha256", String(64), nullable=False),  # hex sha256 of the document's exact text
    Column("document", Text, nullable=False),
    UniqueConstraint("token_id", "sha256", name="uq_trusted_documents_token_id_sha256"),
    *_stamps(),
)

status_monitors = Table(
    "status_monitors",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("icon", String(64), nullable=False),
    Column("colour", String(7), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("entity_type", String(16), nullable=False),
    Column("rule", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    # Which rows it judges (migration 0010): null every row of its type; {"selection": id} the members of a
    # selection; {"categories": [...]} accounts of these categories (contacts: their account's).
    Column("scope", JSON),
    *_stamps(),
)

# Custom field definitions (migration 0019): per entity type (ACCOUNT, CONTACT, OPPORTUNITY, LEAD) a key,
# unique in its entity type, the key of the values in that table's `custom_fields` JSON object.
custom_field_definitions = Table(
    "custom_field_definitions",
    metadata,
    _id(),
    Column("entity_type", String(16), nullable=False),
    Column("key", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("type", String(8), nullable=False),
    Column("options", JSON, nullable=False, default=list),
    Column("mandatory", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("position", Integer, nullable=False, default=0),
    *_stamps(),
    UniqueConstraint("entity_type", "key", name="uq_custom_field_definitions_key"),
)

# Selections (migration 0010): a named set of accounts, contacts, opportunities, leads or activities, either
# dynamic (its criteria, members computed when read) or static (its member rows), owned by a user or a partner.
selections = Table(
    "selections",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("entity_type", String(16), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("criteria", JSON),
    Column("sharing", String(8), nullable=False),
    _fk("owner_user_id", "users.id", ondelete="CASCADE"),
    _fk("owner_partner_id", "partners.id", ondelete="CASCADE"),
    *_stamps(),
    CheckConstraint("(owner_user_id IS NULL) <> (owner_partner_id IS NULL)", name="one_owner"),
)

# No foreign key to the member row (it is one of five tables): a member deleted since is simply not read
# (members are always read joined to their table).
selection_members = Table(
    "selection_members",
    metadata,
    Column("selection_id", Integer, ForeignKey("selections.id", ondelete="CASCADE"), primary_key=True),
    Column("entity_id", Integer, primary_key=True),
    Column("added_at", UTCDateTime, nullable=False),
    Index("ix_selection_members_entity", "entity_id"),
)

# Saved views (migration 0010): a named filter (criteria) and order for one root list, with the roles whose
# default it is and whether it is its owner's own default.
saved_views = Table(
    "saved_views",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("list", String(16), nullable=False),
    Column("criteria", JSON),
    Column("order_field", String(32)),
    Column("order_descending", Boolean, nullable=False, default=False),
    Column("sharing", String(8), nullable=False),
    Column("default_for_roles", JSON, nullable=False, default=list),
    Column("owner_default", Boolean, nullable=False, default=False),
    _fk("owner_user_id", "users.id", ondelete="CASCADE"),
    _fk("owner_partner_id", "partners.id", ondelete="CASCADE"),
    *_stamps(),
    CheckConstraint("(owner_user_id IS NULL) <> (owner_partner_id IS NULL)", name="one_owner"),
)

# The rows in a scoped monitor's scope as the indicator step last saw them (migration 0010): each transaction
# compares them with the scope now, and judges again exactly the rows that entered or left it. No foreign key
# to the monitor (like status_indicators: the indicator step's writers never wait on a monitor row).
monitor_scope_members = Table(
    "monitor_scope_members",
    metadata,
    Column("monitor_id", Integer, primary_key=True),
    Column("entity_id", Integer, primary_key=True),
)

status_indicators = Table(
    "status_indicators",
    metadata,
    _id(),
    # No foreign key (migration 0004): the unit of work's indicator step deletes a monitor's indicators
    # with it, announcing each, and its writers never wait on a monitor row (persistence/indicators.py).
    Column("monitor_id", Integer, nullable=False),
    Column("entity_type", String(16), nullable=False),
    Column("entity_id", Integer, nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
    UniqueConstraint("monitor_id", "entity_type", "entity_id", name="uq_status_indicators_monitor_entity"),
    Index("ix_status_indicators_entity", "entity_type", "entity_id"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    _id(),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", Integer, nullable=False),
    Column("field", String(100), nullable=False),
    Column("old_value", JSON),
    Column("new_value", JSON),
    Column("at", UTCDateTime, nullable=False),
    _fk("actor_user_id", "users.id", index=False),
    _fk("actor_partner_id", "partners.id", index=False),
    Index("ix_audit_entries_entity_at", "entity_type", "entity_id", "at"),
)

# --- workflows: outbox, idempotency, lead routing, documents (migration 0002) ---

EVENT_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER keys

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", EVENT_ID, primary_key=True),
    # The public event id: given by the dispatcher, in commit order, under one lock, so a reader
    # that saw position N has seen every event before it (insert ids can commit out of order).
    Column("position", EVENT_ID, unique=True),
    Column("type", String(64), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    _fk("actor_user_id", "users.id", index=False, ondelete="SET NULL"),
    _fk("actor_partner_id", "partners.id", index=False, ondelete="SET NULL"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime),
    # The W3C traceparent of the operation that committed the event, when traces were on (gql/tracing.py).
    Column("traceparent", String(55)),
    Index(
        "ix_outbox_events_unpositioned",
        "id",
        sqlite_where=text("position IS NULL"),
        postgresql_where=text("position IS NULL"),
    ),
    Index(
        "ix_outbox_events_unpublished",
        "position",
        sqlite_where=text("published_at IS NULL"),
        postgresql_where=text("published_at IS NULL"),
    ),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("owner", String(64), primary_key=True),  # "user:3" or "partner:7": keys are per caller
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

lead_splitters = Table(
    "lead_splitters",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("active", Boolean, nullable=False, default=True),
    # QUOTA: each lead to one seller by weight; SHARE: each lead's credit shared by its weights in percent.
    Column("mode", String(8), nullable=False, default="QUOTA", server_default="QUOTA"),
    *_stamps(),
)

lead_splitter_shares = Table(
    "lead_splitter_shares",
    metadata,
    _id(),
    _fk("splitter_id", "lead_splitters.id", nullable=False, ondelete="CASCADE"),
    _fk("user_id", "users.id", ondelete="CASCADE"),
    _fk("partner_id", "partners.id", ondelete="CASCADE"),
    Column("weight", Integer, nullable=False),
    Column("assigned", Integer, nullable=False, default=0),
    *_stamps(),
    CheckConstraint("(user_id IS NULL) <> (partner_id IS NULL)", name="one_seller"),
)

lead_routing_rules = Table(
    "lead_routing_rules",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("conditions", JSON, nullable=False, default=list),
    _fk("user_id", "users.id", ondelete="CASCADE"),
    _fk("partner_id", "partners.id", ondelete="CASCADE"),
    _fk("splitter_id", "lead_splitters.id", ondelete="CASCADE"),
    Column("priority", Integer),
    *_stamps(),
    Index("ix_lead_routing_rules_position", "position"),
)

document_templates = Table(
    "document_templates",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("file_name", String(300), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
    *_stamps(),
)

quote_documents = Table(
    "quote_documents",
    metadata,
    _id(),
    _fk("opportunity_id", "opportunities.id", nullable=False, ondelete="CASCADE"),
    _fk("quote_id", "quotes.id", ondelete="SET NULL"),
    _fk("template_id", "document_templates.id", index=False, ondelete="SET NULL"),
    Column("file_name", String(300), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    _fk("created_by_id", "users.id", index=False, ondelete="SET NULL"),
    *_stamps(),
)

# --- files on accounts, opportunities and price books, with their versions (migration 0015_files) ---

attachments = Table(
    "attachments",
    metadata,
    _id(),
    Column("name", String(300), nullable=False),
    _fk("account_id", "accounts.id", ondelete="CASCADE"),
    _fk("opportunity_id", "opportunities.id", ondelete="CASCADE"),
    _fk("price_book_id", "price_books.id", ondelete="CASCADE"),
    Column("latest_version", Integer, nullable=False),
    _fk("created_by_user_id", "users.id", index=False, ondelete="SET NULL"),
    _fk("created_by_partner_id", "partners.id", index=False, ondelete="SET NULL"),
    *_stamps(),
    CheckConstraint(
        "(CASE WHEN account_id IS NULL THEN 0 ELSE 1 END + CASE WHEN opportunity_id IS NULL THEN 0 ELSE 1 END"
        " + CASE WHEN price_book_id IS NULL THEN 0 ELSE 1 END) = 1",
        name="attached_once",
    ),
)

# Stored as quote documents are: the bytes in the row, read only by the download.
attachment_versions = Table(
    "attachment_versions",
    metadata,
    _id(),
    _fk("attachment_id", "attachments.id", nullable=False, index=False, ondelete="CASCADE"),
    Column("number", Integer, nullable=False),
    Column("file_name", String(300), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    _fk("created_by_user_id", "users.id", index=False, ondelete="SET NULL"),
    _fk("created_by_partner_id", "partners.id", index=False, ondelete="SET NULL"),
    *_stamps(),
    UniqueConstraint("attachment_id", "number", name="uq_attachment_versions_attachment_number"),
)

partner_comments = Table(
    "partner_comments",
    metadata,
    _id(),
    _fk("partner_id", "partners.id", nullable=False, ondelete="CASCADE"),
    Column("body", Text, nullable=False),
    _fk("author_user_id", "users.id", index=False, ondelete="SET NULL"),
    _fk("author_partner_id", "partners.id", index=False, ondelete="SET NULL"),
    *_stamps(),
)


# --- recorded conversations, their transcripts and analyses, tracked terms (migration 0008) ---

# The one row of the analysis settings (id 1, made by the migration): its version is the revision of the
# tracked terms, moved by every change of a term.
conversation_settings = Table("conversation_settings", metadata, _id(), *_stamps())

tracked_terms = Table(
    "tracked_terms",
    metadata,
    _id(),
    Column("kind", String(16), nullable=False),
    Column("name", String(100), nullable=False),
    Column("variants", JSON, nullable=False, default=list),
    Column("language", String(2)),
    *_stamps(),
)

conversations = Table(
    "conversations",
    metadata,
    _id(),
    Column("kind", String(16), nullable=False),
    Column("title", String(300)),
    Column("started_at", UTCDateTime, nullable=False),
    Column("duration_seconds", Integer, nullable=False),
    Column("language", String(2), nullable=False),
    _fk("owner_id", "users.id", nullable=False),
    # A deleted account, contact or opportunity leaves the recording with its owner.
    _fk("account_id", "accounts.id", ondelete="SET NULL"),
    _fk("contact_id", "contacts.id", ondelete="SET NULL"),
    _fk("opportunity_id", "opportunities.id", ondelete="SET NULL"),
    Column("external_id", String(200)),
    *_stamps(),
    Index("ix_conversations_started_at", "started_at"),
    Index("ix_conversations_external_id", "external_id"),
)

# The voices of a transcript, by their place in the speaker list.
conversation_participants = Table(
    "conversation_participants",
    metadata,
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("side", String(8), nullable=False),
    _fk("user_id", "users.id", ondelete="SET NULL"),
    _fk("contact_id", "contacts.id", ondelete="SET NULL"),
)

conversation_segments = Table(
    "conversation_segments",
    metadata,
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("speaker", Integer, nullable=False),  # the participant's position
    Column("side", String(8), nullable=False),
    Column("start_ms", Integer, nullable=False),
    Column("end_ms", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("upstream_label", String(8)),  # the recording system's sentiment, when it sent one
    Column("upstream_score", Float),
    Column("sentiment_label", String(8), nullable=False),  # the sentiment used: the upstream one, else ours
    Column("sentiment_score", Float, nullable=False),
    Column("sentiment_source", String(8), nullable=False),
)

# The figures of each conversation's analysis, with the terms' revision it was made with.
conversation_analyses = Table(
    "conversation_analyses",
    metadata,
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("terms_revision", Integer, nullable=False),
    Column("analysed_at", UTCDateTime, nullable=False),
    Column("seller_talk_ms", Integer, nullable=False),
    Column("customer_talk_ms", Integer, nullable=False),
    Column("talk_ratio", Float),
    Column("speaker_switches", Integer, nullable=False),
    Column("switches_per_hour", Float, nullable=False),
    Column("seller_monologue_speaker", Integer),
    Column("seller_monologue_start_ms", Integer),
    Column("seller_monologue_ms", Integer),
    Column("customer_monologue_speaker", Integer),
    Column("customer_monologue_start_ms", Integer),
    Column("customer_monologue_ms", Integer),
    Column("sentiment_label", String(8)),
    Column("sentiment_score", Float),
    Column("positive_segments", Integer, nullable=False),
    Column("neutral_segments", Integer, nullable=False),
    Column("negative_segments", Integer, nullable=False),
    Column("keyword_mentions", Integer, nullable=False),
    Column("competitor_mentions", Integer, nullable=False),
    Column("new_names", Integer, nullable=False),
    Index("ix_conversation_analyses_terms_revision", "terms_revision"),
)

conversation_mentions = Table(
    "conversation_mentions",
    metadata,
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", Integer, ForeignKey("tracked_terms.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("segment", Integer, primary_key=True),
    Column("side", String(8), nullable=False),
    Column("count", Integer, nullable=False),
)

# The candidate names of products, brands and organisations each conversation mentions; `is_first` marks
# the earliest conversation (by start, then id) of each name: a name is new there.
conversation_names = Table(
    "conversation_names",
    metadata,
    Column("conversation_id", Integer, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("customer_mentions", Integer, nullable=False),
    Column("seller_mentions", Integer, nullable=False),
    Column("first_segment", Integer, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Index("ix_conversation_names_key_started_at", "key", "started_at", "conversation_id"),
    Index(
        "ix_conversation_names_first",
        "key",
        sqlite_where=text("is_first"),
        postgresql_where=text("is_first"),
    ),
)


# SQLite reuses the highest id after that row is deleted; history and events are keyed by
# (entity type, id), so a new row must never take a deleted one's id (PostgreSQL sequences never
# reuse). AUTOINCREMENT makes SQLite remember the highest id ever given (migration 0003).
AUTOINCREMENTED = [
    table for table in metadata.tables.values() if "id" in table.c and list(table.primary_key.columns) == [table.c.id]
]
for _table in AUTOINCREMENTED:
    _table.dialect_options["sqlite"]["autoincrement"] = True

# --- status indicators: when each (monitor, entity) next falls due by time alone (migration 0004) ---

indicator_due_times = Table(
    "indicator_due_times",
    metadata,
    Column("monitor_id", Integer, primary_key=True),  # no foreign key, like status_indicators
    Column("entity_type", String(16), primary_key=True),
    Column("entity_id", Integer, primary_key=True),
    Column("due_at", UTCDateTime, nullable=False),
    Index("ix_indicator_due_times_due_at", "due_at"),
    Index("ix_indicator_due_times_entity", "entity_type", "entity_id"),
)

# --- scoreboard aggregates: deal counts and amounts per bucket, kept by the unit of work (migration 0007) ---

# Amounts in ten-thousandths of the currency unit (MONEY has four decimals), so sums are whole numbers:
# exact on SQLite, which sums NUMERIC as floating point; PostgreSQL's NUMERIC has no 64-bit limit.
AMOUNT_E4 = BigInteger().with_variant(Numeric(38, 0), "postgresql")

scoreboard_buckets = Table(
    "scoreboard_buckets",
    metadata,
    # OWNER: every deal by its owner; MANAGER: deals on an account managed by someone else than the
    # owner, by that manager; PARTNER: deals of public accounts with a partner on the deal or the account.
    Column("slice", String(8), primary_key=True),
    Column("grain", String(8), primary_key=True),  # ALL, MONTH or DAY (UTC) of the closing time
    Column("starts_on", Date, primary_key=True),  # the DAY, the MONTH's first day; 0001-01-01 for ALL
    Column("kind", String(8), primary_key=True),  # WON, LOST (by closing time) or OPEN (ALL only)
    Column("owner_id", Integer, primary_key=True),
    Column("currency", String(3), primary_key=True),  # '' for deals without an amount
    Column("manager_id", Integer, primary_key=True),  # MANAGER slice; 0 elsewhere
    Column("partner_id", Integer, primary_key=True),  # PARTNER slice: the deal's partner or 0
    Column("account_partner_id", Integer, primary_key=True),  # PARTNER slice: the account's partner or 0
    Column("is_private", Boolean, primary_key=True),  # the account is private ...
    Column("creator_id", Integer, primary_key=True),  # ... and was created by this user (0: nobody)
    # The deals credited, in hundredths (a deal shared 34/33/33 counts 34, 33 and 33 in three owners'
    # buckets; an unshared deal 100 in its owner's), and the amounts credited in millionths (the amount in
    # ten-thousandths times the percentage): whole numbers, exact on both databases.
    Column("credit", BigInteger, nullable=False),
    Column("amount_e6", AMOUNT_E4, nullable=False),
    Index("ix_scoreboard_buckets_owner", "owner_id", "grain", "starts_on"),
    Index("ix_scoreboard_buckets_manager", "manager_id", "grain", "starts_on"),
)

# --- the conversation insights' aggregates (migration 0012): sums per scope and day or month ---

# A scope: what the visibility rules read of a conversation (its owner, its links and the contacts that
# speak in it). Conversations with the same scope are seen by exactly the same viewers, so a bucket of a
# scope is wholly visible or wholly hidden. `key` is a digest of the scope; scopes are never changed (a
# conversation whose links change moves to another scope).
conversation_scopes = Table(
    "conversation_scopes",
    metadata,
    _id(),
    Column("key", String(64), nullable=False, unique=True),
    Column("owner_id", Integer, nullable=False),  # no foreign keys: a scope only describes
    Column("account_id", Integer),
    Column("opportunity_id", Integer),
    Column("contact_id", Integer),
)

conversation_scope_speakers = Table(
    "conversation_scope_speakers",
    metadata,
    Column("scope_id", Integer, ForeignKey("conversation_scopes.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", Integer, primary_key=True),
)

# The analyses of a scope's conversations summed per DAY and per MONTH (UTC) of their start.
conversation_buckets = Table(
    "conversation_buckets",
    metadata,
    Column("scope_id", Integer, ForeignKey("conversation_scopes.id"), primary_key=True),
    Column("grain", String(8), primary_key=True),  # DAY or MONTH
    Column("starts_on", Date, primary_key=True),  # the day, or the month's first day
    Column("calls", Integer, nullable=False),
    Column("seconds", BigInteger, nullable=False),  # recorded duration
    Column("phone_seconds", BigInteger, nullable=False),  # ... of PHONE_CALLs
    Column("meeting_seconds", BigInteger, nullable=False),  # ... of ONLINE_MEETINGs and MEETINGs
    Column("seller_talk_ms", BigInteger, nullable=False),
    Column("customer_talk_ms", BigInteger, nullable=False),
    Column("switches", BigInteger, nullable=False),
    Column("scored", Integer, nullable=False),  # calls with a customer sentiment
    Column("score_e4", BigInteger, nullable=False),  # their scores' sum, in ten-thousandths
    Column("positive", Integer, nullable=False),
    Column("neutral", Integer, nullable=False),
    Column("negative", Integer, nullable=False),
    Column("keyword_calls", Integer, nullable=False),
    Column("competitor_calls", Integer, nullable=False),
    Column("keyword_mentions", BigInteger, nullable=False),
    Column("competitor_mentions", BigInteger, nullable=False),
    Column("new_names", Integer, nullable=False),
    Index("ix_conversation_buckets_time", "grain", "starts_on"),
)

# Per bucket, what is counted per item: T (a tracked term: calls mentioning it, mentions per side) and
# S (a customer sentiment score in hundredths: calls with it).
conversation_bucket_items = Table(
    "conversation_bucket_items",
    metadata,
    Column("scope_id", Integer, ForeignKey("conversation_scopes.id"), primary_key=True),
    Column("grain", String(8), primary_key=True),
    Column("starts_on", Date, primary_key=True),
    Column("kind", String(1), primary_key=True),
    Column("item", Integer, primary_key=True),
    Column("calls", Integer, nullable=False),
    Column("seller_mentions", BigInteger, nullable=False),
    Column("customer_mentions", BigInteger, nullable=False),
    Index("ix_conversation_bucket_items_time", "grain", "starts_on"),
    Index("ix_conversation_bucket_items_item", "kind", "item"),
)

# The sales reports' aggregates (issue 18, migration 0011): the scoreboard's buckets with the stage, the
# product sold and the partners in the key, and a weighted amount (persistence/aggregates.py).
report_buckets = Table(
    "report_buckets",
    metadata,
    # OWNER, MANAGER, PARTNER: the scoreboard's slices, read by the same visibility rules.
    Column("slice", String(8), primary_key=True),
    # ALL, MONTH or DAY (UTC): of the closing time for WON and LOST, of the expected close date when open.
    Column("grain", String(8), primary_key=True),
    Column("starts_on", Date, primary_key=True),  # the DAY, the MONTH's first day; 0001-01-01 for ALL
    Column("stage", String(32), primary_key=True),
    Column("owner_id", Integer, primary_key=True),
    Column("currency", String(3), primary_key=True),  # '' for deals without an amount
    # 0: the deal itself; > 0: a won deal's contracts of this product; -1: won revenue on no product.
    Column("product_id", Integer, primary_key=True),
    Column("manager_id", Integer, primary_key=True),  # MANAGER slice; 0 elsewhere
    Column("partner_id", Integer, primary_key=True),  # the deal's partner or 0 (every slice)
    Column("account_partner_id", Integer, primary_key=True),  # the account's partner or 0 (every slice)
    Column("is_private", Boolean, primary_key=True),
    Column("creator_id", Integer, primary_key=True),
    Column("deals", Integer, nullable=False),
    Column("amount_e4", AMOUNT_E4, nullable=False),
    Column("weighted_e6", AMOUNT_E4, nullable=False),  # amount in ten-thousandths × probability (%)
    Index("ix_report_buckets_owner", "owner_id"),
)

# Time spent per channel (issue 18, migration 0011): sales activities that occurred, by owner and type.
activity_buckets = Table(
    "activity_buckets",
    metadata,
    Column("grain", String(8), primary_key=True),  # ALL, MONTH or DAY (UTC) of `occurred_at`
    Column("starts_on", Date, primary_key=True),
    Column("type", String(16), primary_key=True),
    Column("owner_id", Integer, primary_key=True),
    Column("activities", Integer, nullable=False),
    Column("minutes", BigInteger, nullable=False),
    Index("ix_activity_buckets_owner", "owner_id"),
)
