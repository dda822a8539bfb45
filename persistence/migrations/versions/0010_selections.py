"""Selections (issue 17, item 2): dynamic (stored criteria) and static (member rows) selections of
accounts, contacts, opportunities, leads or activities; saved views (item 3); and a status monitor's scope
with the rows it last saw in it (item 4).

Revision ID: 0010_selections
Revises: 0009
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import persistence.tables


revision = '0010_selections'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('selections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('entity_type', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=True),
    sa.Column('sharing', sa.String(length=8), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('owner_partner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('(owner_user_id IS NULL) <> (owner_partner_id IS NULL)', name='one_owner'),
    sa.ForeignKeyConstraint(['owner_partner_id'], ['partners.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('selections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_selections_owner_partner_id'), ['owner_partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_selections_owner_user_id'), ['owner_user_id'], unique=False)

    op.create_table('selection_members',
    sa.Column('selection_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('added_at', persistence.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['selection_id'], ['selections.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('selection_id', 'entity_id'),
    )
    with op.batch_alter_table('selection_members', schema=None) as batch_op:
        batch_op.create_index('ix_selection_members_entity', ['entity_id'], unique=False)

    with op.batch_alter_table('status_monitors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.JSON(), nullable=True))

    op.create_table('saved_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('list', sa.String(length=16), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=True),
    sa.Column('order_field', sa.String(length=32), nullable=True),
    sa.Column('order_descending', sa.Boolean(), nullable=False),
    sa.Column('sharing', sa.String(length=8), nullable=False),
    sa.Column('default_for_roles', sa.JSON(), nullable=False),
    sa.Column('owner_default', sa.Boolean(), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('owner_partner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('(owner_user_id IS NULL) <> (owner_partner_id IS NULL)', name='one_owner'),
    sa.ForeignKeyConstraint(['owner_partner_id'], ['partners.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_views_owner_partner_id'), ['owner_partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_views_owner_user_id'), ['owner_user_id'], unique=False)

    op.create_table('monitor_scope_members',
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('monitor_id', 'entity_id'),
    )


def downgrade() -> None:
    op.drop_table('monitor_scope_members')
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_views_owner_user_id'))
        batch_op.drop_index(batch_op.f('ix_saved_views_owner_partner_id'))
    op.drop_table('saved_views')
    with op.batch_alter_table('status_monitors', schema=None) as batch_op:
        batch_op.drop_column('scope')
    with op.batch_alter_table('selection_members', schema=None) as batch_op:
        batch_op.drop_index('ix_selection_members_entity')
    op.drop_table('selection_members')
    with op.batch_alter_table('selections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_selections_owner_user_id'))
        batch_op.drop_index(batch_op.f('ix_selections_owner_partner_id'))
    op.drop_table('selections')
