"""Contacts and accounts (issue 17, items 4, 6 and 7): activities attached to a contact
(`sales_activities.contact_id`), a lead's rework note in its own field (`leads.rework_note`; the notes
reworked leads kept in `disqualification_reason` move there), and the "activate lead status" switch per
account category (`category_settings`; a category without a row has it on, so the contacts that showed a
lead status still do).

Revision ID: 0017_contacts
Revises: 0016_pricebooks
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import persistence.tables


revision = '0017_contacts'
down_revision = '0016_pricebooks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sales_activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_sales_activities_contact_id_contacts'), 'contacts', ['contact_id'], ['id'], ondelete='CASCADE'
        )
        batch_op.create_index(batch_op.f('ix_sales_activities_contact_id'), ['contact_id'], unique=False)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rework_note', sa.Text(), nullable=True))
    leads = sa.table(
        'leads', sa.column('status', sa.String), sa.column('disqualification_reason', sa.Text),
        sa.column('rework_note', sa.Text),
    )
    # Only a reworked lead's reason was a rework note: disqualified leads keep theirs, and a lead that left
    # REWORK had it cleared.
    op.execute(
        leads.update()
        .where(leads.c.status == 'REWORK', leads.c.disqualification_reason.is_not(None))
        .values(rework_note=leads.c.disqualification_reason, disqualification_reason=None)
    )
    op.create_table('category_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('lead_status', sa.Boolean(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_settings')),
    sa.UniqueConstraint('category', name=op.f('uq_category_settings_category')),
    sqlite_autoincrement=True
    )


def downgrade() -> None:
    op.drop_table('category_settings')
    leads = sa.table(
        'leads', sa.column('status', sa.String), sa.column('disqualification_reason', sa.Text),
        sa.column('rework_note', sa.Text),
    )
    op.execute(
        leads.update()
        .where(leads.c.status == 'REWORK', leads.c.rework_note.is_not(None))
        .values(disqualification_reason=leads.c.rework_note)
    )
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('rework_note')
    with op.batch_alter_table('sales_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_activities_contact_id'))
        batch_op.drop_constraint(batch_op.f('fk_sales_activities_contact_id_contacts'), type_='foreignkey')
        batch_op.drop_column('contact_id')
