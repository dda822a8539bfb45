"""Recorded conversations: transcripts with speakers and segments, their analyses (figures, mentions of
tracked terms, names), the tracked keywords and competitors, and the one row of analysis settings whose
version is the terms' revision

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import persistence.tables


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _stamps():
    return [
        sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    ]


def upgrade() -> None:
    settings = op.create_table('conversation_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    *_stamps(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_settings')),
    sqlite_autoincrement=True,
    )
    op.bulk_insert(settings, [{'id': 1}])
    op.create_table('tracked_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('variants', sa.JSON(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=True),
    *_stamps(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_terms')),
    sqlite_autoincrement=True,
    )
    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('started_at', persistence.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    *_stamps(),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_conversations_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_conversations_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_conversations_opportunity_id_opportunities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_conversations_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_started_at', ['started_at'], unique=False)
        batch_op.create_index('ix_conversations_external_id', ['external_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('conversation_participants',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_participants_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_conversation_participants_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conversation_participants_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('conversation_id', 'position', name=op.f('pk_conversation_participants'))
    )
    with op.batch_alter_table('conversation_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_participants_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_participants_contact_id'), ['contact_id'], unique=False)

    op.create_table('conversation_segments',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('start_ms', sa.Integer(), nullable=False),
    sa.Column('end_ms', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('upstream_label', sa.String(length=8), nullable=True),
    sa.Column('upstream_score', sa.Float(), nullable=True),
    sa.Column('sentiment_label', sa.String(length=8), nullable=False),
    sa.Column('sentiment_score', sa.Float(), nullable=False),
    sa.Column('sentiment_source', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_segments_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'position', name=op.f('pk_conversation_segments'))
    )
    op.create_table('conversation_analyses',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('terms_revision', sa.Integer(), nullable=False),
    sa.Column('analysed_at', persistence.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seller_talk_ms', sa.Integer(), nullable=False),
    sa.Column('customer_talk_ms', sa.Integer(), nullable=False),
    sa.Column('talk_ratio', sa.Float(), nullable=True),
    sa.Column('speaker_switches', sa.Integer(), nullable=False),
    sa.Column('switches_per_hour', sa.Float(), nullable=False),
    sa.Column('seller_monologue_speaker', sa.Integer(), nullable=True),
    sa.Column('seller_monologue_start_ms', sa.Integer(), nullable=True),
    sa.Column('seller_monologue_ms', sa.Integer(), nullable=True),
    sa.Column('customer_monologue_speaker', sa.Integer(), nullable=True),
    sa.Column('customer_monologue_start_ms', sa.Integer(), nullable=True),
    sa.Column('customer_monologue_ms', sa.Integer(), nullable=True),
    sa.Column('sentiment_label', sa.String(length=8), nullable=True),
    sa.Column('sentiment_score', sa.Float(), nullable=True),
    sa.Column('positive_segments', sa.Integer(), nullable=False),
    sa.Column('neutral_segments', sa.Integer(), nullable=False),
    sa.Column('negative_segments', sa.Integer(), nullable=False),
    sa.Column('keyword_mentions', sa.Integer(), nullable=False),
    sa.Column('competitor_mentions', sa.Integer(), nullable=False),
    sa.Column('new_names', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_analyses_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_analyses'))
    )
    with op.batch_alter_table('conversation_analyses', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_analyses_terms_revision', ['terms_revision'], unique=False)

    op.create_table('conversation_mentions',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('segment', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_mentions_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['term_id'], ['tracked_terms.id'], name=op.f('fk_conversation_mentions_term_id_tracked_terms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'term_id', 'segment', name=op.f('pk_conversation_mentions'))
    )
    with op.batch_alter_table('conversation_mentions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_mentions_term_id'), ['term_id'], unique=False)

    op.create_table('conversation_names',
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('started_at', persistence.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('customer_mentions', sa.Integer(), nullable=False),
    sa.Column('seller_mentions', sa.Integer(), nullable=False),
    sa.Column('first_segment', sa.Integer(), nullable=False),
    sa.Column('is_first', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_names_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'key', name=op.f('pk_conversation_names'))
    )
    with op.batch_alter_table('conversation_names', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_names_key_started_at', ['key', 'started_at', 'conversation_id'], unique=False)
        batch_op.create_index('ix_conversation_names_first', ['key'], unique=False,
                              sqlite_where=sa.text('is_first'), postgresql_where=sa.text('is_first'))


def downgrade() -> None:
    op.drop_table('conversation_names')
    op.drop_table('conversation_mentions')
    op.drop_table('conversation_analyses')
    op.drop_table('conversation_segments')
    op.drop_table('conversation_participants')
    op.drop_table('conversations')
    op.drop_table('tracked_terms')
    op.drop_table('conversation_settings')
