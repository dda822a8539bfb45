"""Scoreboard aggregates: deal counts and amounts per bucket, built here from the deal table

The scoreboard used to aggregate the opportunities on every query and every push; it now sums the
buckets the unit of work keeps (persistence/aggregates.py). This creates the table and fills it from
the opportunities already there, printing its progress (about BATCH opportunities at a time).

0018_split changed this table (credit in hundredths and amounts in millionths, for shared deals) and
rebuilds the buckets itself, so this one now only creates the table it declares (the code's
`aggregates.rebuild` writes the columns of 0014).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scoreboard_buckets',
    sa.Column('slice', sa.String(length=8), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('account_partner_id', sa.Integer(), nullable=False),
    sa.Column('is_private', sa.Boolean(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('deals', sa.Integer(), nullable=False),
    sa.Column('amount_e4', sa.BigInteger().with_variant(sa.Numeric(precision=38, scale=0), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('slice', 'grain', 'starts_on', 'kind', 'owner_id', 'currency', 'manager_id', 'partner_id', 'account_partner_id', 'is_private', 'creator_id', name=op.f('pk_scoreboard_buckets'))
    )
    with op.batch_alter_table('scoreboard_buckets', schema=None) as batch_op:
        batch_op.create_index('ix_scoreboard_buckets_manager', ['manager_id', 'grain', 'starts_on'], unique=False)
        batch_op.create_index('ix_scoreboard_buckets_owner', ['owner_id', 'grain', 'starts_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scoreboard_buckets', schema=None) as batch_op:
        batch_op.drop_index('ix_scoreboard_buckets_owner')
        batch_op.drop_index('ix_scoreboard_buckets_manager')

    op.drop_table('scoreboard_buckets')
