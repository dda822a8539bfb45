"""The person reports count credit (issue 18, item 2): the report buckets gain a CREDITED part per open or
won deal and credited user (product_id -2; the owner's whole deal when it is not shared), kept by the same
tracker, so that won revenue by person and the forecast count each user's percentage of a shared deal as
the scoreboard does. No column changes; the report buckets are rebuilt here from the deal table. The
downgrade deletes the CREDITED buckets, which leaves exactly what the code before kept.

Revision ID: 0019_board
Revises: 0018_split
Create Date: 2026-12-08
"""
from __future__ import annotations

import sys

from alembic import op
import sqlalchemy as sa


revision = '0019_board'
down_revision = '0018_split'
branch_labels = None
depends_on = None


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def upgrade() -> None:
    from persistence import aggregates

    bind = op.get_bind()
    if bind.execute(sa.text('SELECT EXISTS (SELECT 1 FROM opportunities)')).scalar():
        _say('aggregates: building the report buckets (with credited parts) from the opportunities')
        built = aggregates.rebuild(bind, _say, which=(aggregates.REPORTS,))
        _say(f'aggregates: {built:,} buckets')


def downgrade() -> None:
    op.execute('DELETE FROM report_buckets WHERE product_id = -2')
