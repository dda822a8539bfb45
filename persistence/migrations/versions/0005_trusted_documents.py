"""Trusted documents: a token may be limited to the documents registered for it (partner portals)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import persistence.tables


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None, recreate='auto',
                              table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column('trusted_documents_only', sa.Boolean(), nullable=False,
                                      server_default=sa.text('false')))
    op.create_table('trusted_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_trusted_documents_token_id_api_tokens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trusted_documents')),
    sa.UniqueConstraint('token_id', 'sha256', name='uq_trusted_documents_token_id_sha256'),
    sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table('trusted_documents')
    with op.batch_alter_table('api_tokens', schema=None, recreate='auto',
                              table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column('trusted_documents_only')
