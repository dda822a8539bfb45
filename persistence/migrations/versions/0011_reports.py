"""Sales reports' aggregates (issue 18, item 6): report buckets (the scoreboard's slices with the stage,
the product sold, the partners and a weighted amount in the key or figures) and activity buckets (time
per channel), built here from the opportunities, contracts and activities already there; and an index
on sales_activities.occurred_at for the partial days at a period's edges.

Follows 0010_selections (re-chained at the merge of the two branches).
The build calls the code's `aggregates.rebuild` for the activity buckets alone (`which`); the report
buckets are built by 0018_split, whose column the code's read of the deals needs.

Revision ID: 0011
Revises: 0010_selections
Create Date: 2026-12-07
"""
from __future__ import annotations

import sys

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010_selections'
branch_labels = None
depends_on = None

AMOUNT = sa.BigInteger().with_variant(sa.Numeric(precision=38, scale=0), 'postgresql')


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def upgrade() -> None:
    op.create_table('report_buckets',
    sa.Column('slice', sa.String(length=8), nullable=False),
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('account_partner_id', sa.Integer(), nullable=False),
    sa.Column('is_private', sa.Boolean(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('deals', sa.Integer(), nullable=False),
    sa.Column('amount_e4', AMOUNT, nullable=False),
    sa.Column('weighted_e6', AMOUNT, nullable=False),
    sa.PrimaryKeyConstraint('slice', 'grain', 'starts_on', 'stage', 'owner_id', 'currency', 'product_id', 'manager_id', 'partner_id', 'account_partner_id', 'is_private', 'creator_id', name=op.f('pk_report_buckets'))
    )
    with op.batch_alter_table('report_buckets', schema=None) as batch_op:
        batch_op.create_index('ix_report_buckets_owner', ['owner_id'], unique=False)
    op.create_table('activity_buckets',
    sa.Column('grain', sa.String(length=8), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('activities', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'starts_on', 'type', 'owner_id', name=op.f('pk_activity_buckets'))
    )
    with op.batch_alter_table('activity_buckets', schema=None) as batch_op:
        batch_op.create_index('ix_activity_buckets_owner', ['owner_id'], unique=False)
    with op.batch_alter_table('sales_activities', schema=None) as batch_op:
        batch_op.create_index('ix_sales_activities_occurred_at', ['occurred_at'], unique=False)
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index('ix_opportunities_stage_created_at', ['stage', 'created_at'], unique=False)

    from persistence import aggregates

    bind = op.get_bind()
    _say('report aggregates: building from the opportunities and activities')
    built = aggregates.rebuild(bind, _say, which=(aggregates.ACTIVITIES,))
    _say(f'report aggregates: {built:,} buckets')


def downgrade() -> None:
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunities_stage_created_at')
    with op.batch_alter_table('sales_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_activities_occurred_at')
    with op.batch_alter_table('activity_buckets', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_buckets_owner')
    op.drop_table('activity_buckets')
    with op.batch_alter_table('report_buckets', schema=None) as batch_op:
        batch_op.drop_index('ix_report_buckets_owner')
    op.drop_table('report_buckets')
