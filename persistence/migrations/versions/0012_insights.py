"""Conversation insights' aggregates: each conversation's analysis summed per scope (what the visibility
rules read of it) and per day and month of its start, built here from the conversations already there
(issue 16, item 8). Numbered 0010 after the tasks; re-chained at merge if another 0010 lands first.

The build calls the code's `conversation_aggregates.rebuild`: should a later migration change these
tables, it rebuilds them itself and this one must then only create the tables it declares.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
from __future__ import annotations

import sys

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def upgrade() -> None:
    op.create_table('conversation_scopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_scopes')),
    sa.UniqueConstraint('key', name=op.f('uq_conversation_scopes_key'))
    )
    op.create_table('conversation_scope_speakers',
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['scope_id'], ['conversation_scopes.id'], name=op.f('fk_conversation_scope_speakers_scope_id_conversation_scopes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scope_id', 'contact_id', name=op.f('pk_conversation_scope_speakers'))
    )
    figures = [
        sa.Column(name, sa.BigInteger() if big else sa.Integer(), nullable=False)
        for name, big in (
            ('calls', False), ('seconds', True), ('phone_seconds', True), ('meeting_seconds', True),
            ('seller_talk_ms', True), ('customer_talk_ms', True), ('switches', True), ('scored', False),
            ('score_e4', True), ('positive', False), ('neutral', False), ('negative', False),
            ('keyword_calls', False), ('competitor_calls', False), ('keyword_mentions', True),
            ('competitor_mentions', True), ('new_names', False),
        )
    ]
    op.create_table('conversation_buckets',
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    *figures,
    sa.ForeignKeyConstraint(['scope_id'], ['conversation_scopes.id'], name=op.f('fk_conversation_buckets_scope_id_conversation_scopes')),
    sa.PrimaryKeyConstraint('scope_id', 'grain', 'starts_on', name=op.f('pk_conversation_buckets'))
    )
    op.create_table('conversation_bucket_items',
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=1), nullable=False),
    sa.Column('item', sa.Integer(), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('seller_mentions', sa.BigInteger(), nullable=False),
    sa.Column('customer_mentions', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['scope_id'], ['conversation_scopes.id'], name=op.f('fk_conversation_bucket_items_scope_id_conversation_scopes')),
    sa.PrimaryKeyConstraint('scope_id', 'grain', 'starts_on', 'kind', 'item', name=op.f('pk_conversation_bucket_items'))
    )
    op.create_index('ix_conversation_buckets_time', 'conversation_buckets', ['grain', 'starts_on'], unique=False)
    op.create_index('ix_conversation_bucket_items_time', 'conversation_bucket_items', ['grain', 'starts_on'], unique=False)
    op.create_index('ix_conversation_bucket_items_item', 'conversation_bucket_items', ['kind', 'item'], unique=False)

    from persistence import conversation_aggregates

    bind = op.get_bind()
    if bind.execute(sa.text('SELECT EXISTS (SELECT 1 FROM conversations)')).scalar():
        _say('conversation aggregates: building from the conversations')
        built = conversation_aggregates.rebuild(bind, _say)
        _say(f'conversation aggregates: {built:,} buckets')


def downgrade() -> None:
    op.drop_index('ix_conversation_bucket_items_item', table_name='conversation_bucket_items')
    op.drop_index('ix_conversation_bucket_items_time', table_name='conversation_bucket_items')
    op.drop_index('ix_conversation_buckets_time', table_name='conversation_buckets')
    op.drop_table('conversation_bucket_items')
    op.drop_table('conversation_buckets')
    op.drop_table('conversation_scope_speakers')
    op.drop_table('conversation_scopes')
