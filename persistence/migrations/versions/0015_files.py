"""Files and partner comments (issue 18, items 5 and 7): attachments on exactly one account, opportunity or
price book, each upload of one a version that keeps its bytes (as quote documents do), and comments on a
partner. Numbered 0014_files on its branch, re-chained after 0014_traces at the merge.

Revision ID: 0015_files
Revises: 0014_traces
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import persistence.tables


revision = '0015_files'
down_revision = '0014_traces'
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    ]


def upgrade() -> None:
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('opportunity_id', sa.Integer(), nullable=True),
    sa.Column('price_book_id', sa.Integer(), nullable=True),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_by_partner_id', sa.Integer(), nullable=True),
    *_stamps(),
    sa.CheckConstraint('(CASE WHEN account_id IS NULL THEN 0 ELSE 1 END + CASE WHEN opportunity_id IS NULL THEN 0 ELSE 1 END + CASE WHEN price_book_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_attachments_attached_once')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_attachments_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_attachments_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['price_book_id'], ['price_books.id'], name=op.f('fk_attachments_price_book_id_price_books'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_attachments_created_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_partner_id'], ['partners.id'], name=op.f('fk_attachments_created_by_partner_id_partners'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_price_book_id'), ['price_book_id'], unique=False)
    op.create_table('attachment_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_by_partner_id', sa.Integer(), nullable=True),
    *_stamps(),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_attachment_versions_attachment_id_attachments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_attachment_versions_created_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_partner_id'], ['partners.id'], name=op.f('fk_attachment_versions_created_by_partner_id_partners'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_versions')),
    sa.UniqueConstraint('attachment_id', 'number', name='uq_attachment_versions_attachment_number'),
    sqlite_autoincrement=True
    )
    op.create_table('partner_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('author_partner_id', sa.Integer(), nullable=True),
    *_stamps(),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_comments_partner_id_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_partner_comments_author_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_partner_id'], ['partners.id'], name=op.f('fk_partner_comments_author_partner_id_partners'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_comments')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('partner_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_comments_partner_id'), ['partner_id'], unique=False)


def downgrade() -> None:
    op.drop_table('partner_comments')
    op.drop_table('attachment_versions')
    op.drop_table('attachments')
