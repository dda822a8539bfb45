"""Status indicators: when each (monitor, entity) next falls due; indicators no longer cascade with
their monitor (the unit of work clears them with an event each, and never waits on a monitor row)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import persistence.tables


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FK = 'fk_status_indicators_monitor_id_status_monitors'


def upgrade() -> None:
    op.create_table('indicator_due_times',
    sa.Column('monitor_id', sa.Integer(), nullable=False),
    sa.Column('entity_type', sa.String(length=16), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('due_at', persistence.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('monitor_id', 'entity_type', 'entity_id', name=op.f('pk_indicator_due_times'))
    )
    with op.batch_alter_table('indicator_due_times', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_due_times_due_at', ['due_at'], unique=False)
        batch_op.create_index('ix_indicator_due_times_entity', ['entity_type', 'entity_id'], unique=False)

    # The monitor's indicators are no longer deleted by the database with it (ON DELETE CASCADE): the
    # unit of work deletes them and announces each. Without a foreign key, a transaction writing
    # indicators (holding the indicator lock) never waits for a monitor row that a monitor's deletion
    # holds while it waits for that lock.
    with op.batch_alter_table('status_indicators', schema=None, recreate='auto',
                              table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_constraint(FK, type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('status_indicators', schema=None, recreate='auto',
                              table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.create_foreign_key(FK, 'status_monitors', ['monitor_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('indicator_due_times', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_due_times_entity')
        batch_op.drop_index('ix_indicator_due_times_due_at')

    op.drop_table('indicator_due_times')
