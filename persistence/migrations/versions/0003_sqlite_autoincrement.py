"""SQLite: never reuse the id of a deleted row (AUTOINCREMENT), since history and events refer to ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TABLES = [
    'teams', 'users', 'partners', 'accounts', 'account_groups', 'contact_types', 'contacts', 'campaigns',
    'products', 'product_units', 'price_books', 'price_entries', 'bundles', 'opportunities', 'business_roles',
    'quotes', 'quote_items', 'contracts', 'leads', 'sales_activities', 'goals', 'api_tokens', 'status_monitors',
    'status_indicators', 'audit_entries', 'outbox_events', 'lead_splitters', 'lead_splitter_shares',
    'lead_routing_rules', 'document_templates', 'quote_documents',
]

# Partial indexes, rebuilt explicitly: a table copy must not turn them into plain ones.
PARTIAL = [
    ("uq_quotes_one_active", "quotes", ["opportunity_id"], True, "is_active"),
    ("ix_outbox_events_unpositioned", "outbox_events", ["id"], False, "position IS NULL"),
    ("ix_outbox_events_unpublished", "outbox_events", ["position"], False, "published_at IS NULL"),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL sequences never hand out an id twice
    import sqlalchemy as sa

    # Alembic's env connects without `PRAGMA foreign_keys=ON`, so copying a table that others refer
    # to does not cascade.
    for name in TABLES:
        with op.batch_alter_table(name, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
    for index, table, columns, unique, where in PARTIAL:
        op.execute(f"DROP INDEX IF EXISTS {index}")
        op.create_index(index, table, columns, unique=unique, sqlite_where=sa.text(where))


def downgrade() -> None:
    pass  # AUTOINCREMENT only stops id reuse; nothing to undo
