"""Contract lifecycle (issue 18, item 1): when and why a contract was cancelled, the end date its
"expiring" notice was given for, and an index on (status, ends_on) for the scheduler's due contracts
and the accounts' service-expiry filter. Numbered 0010_contracts beside the other branches of issue
18; down_revision is re-chained when they are merged.

Revision ID: 0010_contracts
Revises: 0009
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0010_contracts'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('expiry_noticed_for', sa.Date(), nullable=True))
        batch_op.create_index('ix_contracts_status_ends_on', ['status', 'ends_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_contracts_status_ends_on')
        batch_op.drop_column('expiry_noticed_for')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_on')
