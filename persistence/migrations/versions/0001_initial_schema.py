"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import persistence.tables


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('account_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_account_groups_name'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('costs_amount', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('costs_currency', sa.String(length=3), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('contact_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_types')),
    sa.UniqueConstraint('name', name=op.f('uq_contact_types_name'))
    )
    op.create_table('exchange_rates',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rate', sa.Numeric(precision=20, scale=10), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('currency', name=op.f('pk_exchange_rates'))
    )
    op.create_table('partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partners'))
    )
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.create_index('ix_partners_name', ['name'], unique=False)

    op.create_table('price_books',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('brands', sa.JSON(), nullable=False),
    sa.Column('product_versions', sa.JSON(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('is_update', sa.Boolean(), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['previous_id'], ['price_books.id'], name=op.f('fk_price_books_previous_id_price_books')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_books'))
    )
    with op.batch_alter_table('price_books', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_books_previous_id'), ['previous_id'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('code', name=op.f('uq_products_code'))
    )
    op.create_table('status_monitors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('icon', sa.String(length=64), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('entity_type', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_monitors'))
    )
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('bundles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('price_book_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['price_book_id'], ['price_books.id'], name=op.f('fk_bundles_price_book_id_price_books'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bundles')),
    sa.UniqueConstraint('price_book_id', 'code', name='uq_bundles_book_code')
    )
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bundles_price_book_id'), ['price_book_id'], unique=False)

    op.create_table('product_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('recurring', sa.Boolean(), nullable=False),
    sa.Column('period_months', sa.Integer(), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_units_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_units')),
    sa.UniqueConstraint('product_id', 'name', name='uq_product_units_product_name')
    )
    with op.batch_alter_table('product_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_units_product_id'), ['product_id'], unique=False)

    op.create_table('status_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('entity_type', sa.String(length=16), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('set_at', persistence.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['monitor_id'], ['status_monitors.id'], name=op.f('fk_status_indicators_monitor_id_status_monitors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_indicators')),
    sa.UniqueConstraint('monitor_id', 'entity_type', 'entity_id', name='uq_status_indicators_monitor_entity')
    )
    with op.batch_alter_table('status_indicators', schema=None) as batch_op:
        batch_op.create_index('ix_status_indicators_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_users_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_team_id'), ['team_id'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('first_name', sa.String(length=150), nullable=True),
    sa.Column('last_name', sa.String(length=150), nullable=True),
    sa.Column('organization', sa.String(length=300), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('street', sa.String(length=300), nullable=True),
    sa.Column('city', sa.String(length=150), nullable=True),
    sa.Column('postal_code', sa.String(length=32), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('registration_no', sa.String(length=64), nullable=True),
    sa.Column('vat_no', sa.String(length=64), nullable=True),
    sa.Column('custom_attributes', sa.JSON(), nullable=False),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('key_account', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('category_group', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('is_global', sa.Boolean(), nullable=False),
    sa.Column('is_private', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_accounts_created_by_id_users')),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], name=op.f('fk_accounts_manager_id_users')),
    sa.ForeignKeyConstraint(['parent_id'], ['accounts.id'], name=op.f('fk_accounts_parent_id_accounts')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_accounts_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_country', ['country'], unique=False)
        batch_op.create_index('ix_accounts_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_accounts_industry', ['industry'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_manager_id'), ['manager_id'], unique=False)
        batch_op.create_index('ix_accounts_name', ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_partner_id'), ['partner_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', persistence.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', persistence.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', persistence.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_api_tokens_partner_id_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('old_value', sa.JSON(), nullable=True),
    sa.Column('new_value', sa.JSON(), nullable=True),
    sa.Column('at', persistence.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_partner_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_partner_id'], ['partners.id'], name=op.f('fk_audit_entries_actor_partner_id_partners')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_audit_entries_actor_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_entity_at', ['entity_type', 'entity_id', 'at'], unique=False)

    op.create_table('bundle_components',
    sa.Column('bundle_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], name=op.f('fk_bundle_components_bundle_id_bundles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['product_units.id'], name=op.f('fk_bundle_components_unit_id_product_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bundle_id', 'unit_id', name=op.f('pk_bundle_components'))
    )
    op.create_table('goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('target_revenue_amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('target_revenue_currency', sa.String(length=3), nullable=False),
    sa.Column('target_deals', sa.Integer(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_goals_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goals')),
    sa.UniqueConstraint('user_id', 'period_start', 'period_end', name='uq_goals_user_period')
    )
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goals_user_id'), ['user_id'], unique=False)

    op.create_table('price_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('price_book_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('price_amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('price_currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['price_book_id'], ['price_books.id'], name=op.f('fk_price_entries_price_book_id_price_books'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['product_units.id'], name=op.f('fk_price_entries_unit_id_product_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_entries')),
    sa.UniqueConstraint('price_book_id', 'unit_id', 'price_currency', name='uq_price_entries_book_unit_currency')
    )
    with op.batch_alter_table('price_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_entries_price_book_id'), ['price_book_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_entries_unit_id'), ['unit_id'], unique=False)

    op.create_table('account_favourites',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_favourites_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_favourites_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'account_id', name=op.f('pk_account_favourites'))
    )
    with op.batch_alter_table('account_favourites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_favourites_account_id'), ['account_id'], unique=False)

    op.create_table('account_group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_group_members_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['account_groups.id'], name=op.f('fk_account_group_members_group_id_account_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'account_id', name=op.f('pk_account_group_members'))
    )
    with op.batch_alter_table('account_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_group_members_account_id'), ['account_id'], unique=False)

    op.create_table('account_links',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('linked_account_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('account_id <> linked_account_id', name=op.f('ck_account_links_not_self')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_links_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_account_id'], ['accounts.id'], name=op.f('fk_account_links_linked_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'linked_account_id', name=op.f('pk_account_links'))
    )
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_links_linked_account_id'), ['linked_account_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('contact_type_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=150), nullable=False),
    sa.Column('last_name', sa.String(length=150), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('skype', sa.String(length=100), nullable=True),
    sa.Column('lead_status', sa.String(length=16), nullable=False),
    sa.Column('anonymized', sa.Boolean(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('(account_id IS NULL) <> (partner_id IS NULL)', name=op.f('ck_contacts_one_owner')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_contacts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_type_id'], ['contact_types.id'], name=op.f('fk_contacts_contact_type_id_contact_types')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_contacts_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_contact_type_id'), ['contact_type_id'], unique=False)
        batch_op.create_index('ix_contacts_last_name', ['last_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_partner_id'), ['partner_id'], unique=False)

    op.create_table('opportunities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('estimated_revenue_amount', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('estimated_revenue_currency', sa.String(length=3), nullable=True),
    sa.Column('probability', sa.Integer(), nullable=False),
    sa.Column('expected_close_date', sa.Date(), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('closed_at', persistence.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('actual_revenue_amount', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('actual_revenue_currency', sa.String(length=3), nullable=True),
    sa.Column('loss_reason', sa.Text(), nullable=True),
    sa.Column('stage_changed_at', persistence.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_opportunities_account_id_accounts')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_opportunities_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_opportunities_owner_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_opportunities_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities'))
    )
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunities_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_opportunities_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_opportunities_expected_close_date', ['expected_close_date'], unique=False)
        batch_op.create_index('ix_opportunities_name', ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('ix_opportunities_stage_closed_at', ['stage', 'closed_at'], unique=False)

    op.create_table('business_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_business_roles_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_business_roles_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_roles'))
    )
    with op.batch_alter_table('business_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_business_roles_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_business_roles_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=150), nullable=True),
    sa.Column('last_name', sa.String(length=150), nullable=True),
    sa.Column('company', sa.String(length=300), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('company_size', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('utm_source', sa.String(length=200), nullable=True),
    sa.Column('utm_medium', sa.String(length=200), nullable=True),
    sa.Column('utm_campaign', sa.String(length=200), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('assigned_user_id', sa.Integer(), nullable=True),
    sa.Column('assigned_partner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('disqualification_reason', sa.Text(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('anonymized', sa.Boolean(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_leads_account_id_accounts')),
    sa.ForeignKeyConstraint(['assigned_partner_id'], ['partners.id'], name=op.f('fk_leads_assigned_partner_id_partners')),
    sa.ForeignKeyConstraint(['assigned_user_id'], ['users.id'], name=op.f('fk_leads_assigned_user_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_leads_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_leads_contact_id_contacts')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_leads_opportunity_id_opportunities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads'))
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leads_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_assigned_partner_id'), ['assigned_partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_assigned_user_id'), ['assigned_user_id'], unique=False)
        batch_op.create_index('ix_leads_board', ['status', 'archived', 'priority', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_leads_created_at', ['created_at'], unique=False)

    op.create_table('opportunity_related_accounts',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_opportunity_related_accounts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_opportunity_related_accounts_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('opportunity_id', 'account_id', name=op.f('pk_opportunity_related_accounts'))
    )
    with op.batch_alter_table('opportunity_related_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_related_accounts_account_id'), ['account_id'], unique=False)

    op.create_table('quotes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price_book_id', sa.Integer(), nullable=True),
    sa.Column('brand', sa.String(length=100), nullable=True),
    sa.Column('product_version', sa.String(length=100), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_quotes_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['price_book_id'], ['price_books.id'], name=op.f('fk_quotes_price_book_id_price_books')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes'))
    )
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotes_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotes_price_book_id'), ['price_book_id'], unique=False)
        batch_op.create_index('uq_quotes_one_active', ['opportunity_id'], unique=True, sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))

    op.create_table('quote_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('unit_name', sa.String(length=64), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('total', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('is_rounding', sa.Boolean(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_quote_items_product_id_products')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_quote_items_quote_id_quotes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['product_units.id'], name=op.f('fk_quote_items_unit_id_product_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_items'))
    )
    with op.batch_alter_table('quote_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_items_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_items_quote_id'), ['quote_id'], unique=False)

    op.create_table('sales_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('due_at', persistence.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('occurred_at', persistence.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_sales_activities_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_sales_activities_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_sales_activities_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_sales_activities_owner_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_sales_activities_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_activities'))
    )
    with op.batch_alter_table('sales_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_activities_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_sales_activities_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_activities_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_activities_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_activities_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_activities_partner_id'), ['partner_id'], unique=False)

    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('quote_item_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('value_amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('value_currency', sa.String(length=3), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_contracts_account_id_accounts')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_contracts_opportunity_id_opportunities')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_contracts_product_id_products')),
    sa.ForeignKeyConstraint(['quote_item_id'], ['quote_items.id'], name=op.f('fk_contracts_quote_item_id_quote_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('quote_item_id', name='uq_contracts_quote_item')
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_contracts_starts_on', ['starts_on'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_contracts_starts_on')
        batch_op.drop_index(batch_op.f('ix_contracts_product_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_account_id'))

    op.drop_table('contracts')
    with op.batch_alter_table('sales_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_activities_partner_id'))
        batch_op.drop_index(batch_op.f('ix_sales_activities_owner_id'))
        batch_op.drop_index(batch_op.f('ix_sales_activities_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_sales_activities_lead_id'))
        batch_op.drop_index('ix_sales_activities_created_at')
        batch_op.drop_index(batch_op.f('ix_sales_activities_account_id'))

    op.drop_table('sales_activities')
    with op.batch_alter_table('quote_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_items_quote_id'))
        batch_op.drop_index(batch_op.f('ix_quote_items_product_id'))

    op.drop_table('quote_items')
    with op.batch_alter_table('quotes', schema=None) as batch_op:
        batch_op.drop_index('uq_quotes_one_active', sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))
        batch_op.drop_index(batch_op.f('ix_quotes_price_book_id'))
        batch_op.drop_index(batch_op.f('ix_quotes_opportunity_id'))

    op.drop_table('quotes')
    with op.batch_alter_table('opportunity_related_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_related_accounts_account_id'))

    op.drop_table('opportunity_related_accounts')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_created_at')
        batch_op.drop_index(batch_op.f('ix_leads_campaign_id'))
        batch_op.drop_index('ix_leads_board')
        batch_op.drop_index(batch_op.f('ix_leads_assigned_user_id'))
        batch_op.drop_index(batch_op.f('ix_leads_assigned_partner_id'))
        batch_op.drop_index(batch_op.f('ix_leads_account_id'))

    op.drop_table('leads')
    with op.batch_alter_table('business_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_business_roles_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_business_roles_contact_id'))

    op.drop_table('business_roles')
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunities_stage_closed_at')
        batch_op.drop_index(batch_op.f('ix_opportunities_partner_id'))
        batch_op.drop_index(batch_op.f('ix_opportunities_owner_id'))
        batch_op.drop_index('ix_opportunities_name')
        batch_op.drop_index('ix_opportunities_expected_close_date')
        batch_op.drop_index('ix_opportunities_created_at')
        batch_op.drop_index(batch_op.f('ix_opportunities_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_opportunities_account_id'))

    op.drop_table('opportunities')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_partner_id'))
        batch_op.drop_index('ix_contacts_last_name')
        batch_op.drop_index(batch_op.f('ix_contacts_contact_type_id'))
        batch_op.drop_index(batch_op.f('ix_contacts_account_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('account_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_links_linked_account_id'))

    op.drop_table('account_links')
    with op.batch_alter_table('account_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_group_members_account_id'))

    op.drop_table('account_group_members')
    with op.batch_alter_table('account_favourites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_favourites_account_id'))

    op.drop_table('account_favourites')
    with op.batch_alter_table('price_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_entries_unit_id'))
        batch_op.drop_index(batch_op.f('ix_price_entries_price_book_id'))

    op.drop_table('price_entries')
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goals_user_id'))

    op.drop_table('goals')
    op.drop_table('bundle_components')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_entity_at')

    op.drop_table('audit_entries')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_tokens_partner_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_partner_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_parent_id'))
        batch_op.drop_index('ix_accounts_name')
        batch_op.drop_index(batch_op.f('ix_accounts_manager_id'))
        batch_op.drop_index('ix_accounts_industry')
        batch_op.drop_index(batch_op.f('ix_accounts_created_by_id'))
        batch_op.drop_index('ix_accounts_created_at')
        batch_op.drop_index('ix_accounts_country')

    op.drop_table('accounts')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_team_id'))

    op.drop_table('users')
    with op.batch_alter_table('status_indicators', schema=None) as batch_op:
        batch_op.drop_index('ix_status_indicators_entity')

    op.drop_table('status_indicators')
    with op.batch_alter_table('product_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_units_product_id'))

    op.drop_table('product_units')
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bundles_price_book_id'))

    op.drop_table('bundles')
    op.drop_table('teams')
    op.drop_table('status_monitors')
    op.drop_table('products')
    with op.batch_alter_table('price_books', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_books_previous_id'))

    op.drop_table('price_books')
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_index('ix_partners_name')

    op.drop_table('partners')
    op.drop_table('exchange_rates')
    op.drop_table('contact_types')
    op.drop_table('campaigns')
    op.drop_table('account_groups')

