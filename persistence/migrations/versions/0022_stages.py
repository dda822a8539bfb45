"""Opportunity stages as rows (issue 17, item 5): `opportunity_stages` holds the six stages that were the
`Stage` enum, with their keys (the values `opportunities.stage` already holds, so no opportunity is
rewritten), names, order, default probabilities and kinds (OPEN, WON, LOST). A report bucket's stage
widens to the 32 characters a stage key may have.

Revision ID: 0022_stages
Revises: 0021_customfields
Create Date: 2026-12-08
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

import persistence.tables


revision = '0022_stages'
down_revision = '0021_customfields'
branch_labels = None
depends_on = None

# The stages as the enum had them (written out here: a migration does not change when the code does).
SEEDED = [
    ('PROSPECTING', 'Prospecting', 1, 10, 'OPEN'),
    ('QUALIFICATION', 'Qualification', 2, 25, 'OPEN'),
    ('PROPOSAL', 'Proposal', 3, 50, 'OPEN'),
    ('NEGOTIATION', 'Negotiation', 4, 75, 'OPEN'),
    ('WON', 'Won', 5, 100, 'WON'),
    ('LOST', 'Lost', 6, 0, 'LOST'),
]


def upgrade() -> None:
    stages = op.create_table(
        'opportunity_stages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('probability', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
        sqlite_autoincrement=True,
    )
    op.bulk_insert(
        stages,
        [
            {'key': key, 'name': name, 'position': position, 'probability': probability, 'kind': kind, 'active': True}
            for key, name, position, probability, kind in SEEDED
        ],
    )
    with op.batch_alter_table('report_buckets', schema=None) as batch_op:
        batch_op.alter_column('stage', existing_type=sa.String(length=16), type_=sa.String(length=32))


def downgrade() -> None:
    with op.batch_alter_table('report_buckets', schema=None) as batch_op:
        batch_op.alter_column('stage', existing_type=sa.String(length=32), type_=sa.String(length=16))
    op.drop_table('opportunity_stages')
