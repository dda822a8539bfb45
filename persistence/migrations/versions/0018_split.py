"""Credit shares (issue 18, item 2: the guide's sharing splitter). Leads and opportunities get
`credit_shares` (who shares the credit, by percentage; NULL: nobody), lead splitters a `mode` (QUOTA as
before, or SHARE), and the scoreboard's buckets count credit instead of deals: `credit` in hundredths of a
deal and `amount_e6` in millionths (the amount in ten-thousandths times the percentage), so a deal shared
34/33/33 stays exact. The buckets are rebuilt here from the deal table (0007 now only creates its table),
and so are the report buckets (0011 now builds only the activity buckets), because the code's read of the
deals now reads `credit_shares`. Progress on stderr, about BATCH opportunities at a time.

Revision ID: 0018_split
Revises: 0017_contacts
Create Date: 2026-12-07
"""
from __future__ import annotations

import sys

from alembic import op
import sqlalchemy as sa


revision = '0018_split'
down_revision = '0017_contacts'
branch_labels = None
depends_on = None

AMOUNT = sa.BigInteger().with_variant(sa.Numeric(precision=38, scale=0), 'postgresql')


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_shares', sa.String(length=400), nullable=True))
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_shares', sa.String(length=400), nullable=True))
    with op.batch_alter_table('lead_splitters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=8), server_default='QUOTA', nullable=False))
    op.execute('DELETE FROM scoreboard_buckets')
    with op.batch_alter_table('scoreboard_buckets', schema=None) as batch_op:
        batch_op.drop_column('deals')
        batch_op.drop_column('amount_e4')
        batch_op.add_column(sa.Column('credit', sa.BigInteger(), nullable=False))
        batch_op.add_column(sa.Column('amount_e6', AMOUNT, nullable=False))

    from persistence import aggregates

    bind = op.get_bind()
    if bind.execute(sa.text('SELECT EXISTS (SELECT 1 FROM opportunities)')).scalar():
        _say('aggregates: building the scoreboard and report buckets from the opportunities')
        built = aggregates.rebuild(bind, _say, which=(aggregates.SCOREBOARD, aggregates.REPORTS))
        _say(f'aggregates: {built:,} buckets')


def downgrade() -> None:
    op.execute('DELETE FROM scoreboard_buckets')
    with op.batch_alter_table('scoreboard_buckets', schema=None) as batch_op:
        batch_op.drop_column('amount_e6')
        batch_op.drop_column('credit')
        batch_op.add_column(sa.Column('deals', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('amount_e4', AMOUNT, nullable=False))
    with op.batch_alter_table('lead_splitters', schema=None) as batch_op:
        batch_op.drop_column('mode')
    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_column('credit_shares')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('credit_shares')
