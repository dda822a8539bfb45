"""Traces (issue 19, item 2): an outbox event keeps the W3C `traceparent` of the operation that committed
it (null when traces were off), so its publication and the pushes it causes join that operation's trace.

Revision ID: 0014_traces
Revises: 0013_contracts
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0014_traces'
down_revision = '0013_contracts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traceparent', sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_column('traceparent')
