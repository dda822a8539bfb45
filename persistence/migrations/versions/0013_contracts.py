"""Contract lifecycle and lead identity (issue 18, items 1 and 2). Contracts: when and why a contract was cancelled, the end date its
"expiring" notice was given for, and an index on (status, ends_on) for the scheduler's due contracts
and the accounts' service-expiry filter. Leads: when their status last changed (time to qualify),
the keys they are recognised by (filled for the leads there are), the lead, contact and account they
matched with why, the lead they were merged into; and the one row of lead matching settings. Numbered 0010_contracts on its branch
(issue 18), re-chained after 0012 at the merge.

Revision ID: 0013_contracts
Revises: 0012
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import persistence.tables
from domain.identity import company_key, email_key, phone_key


revision = '0013_contracts'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('expiry_noticed_for', sa.Date(), nullable=True))
        batch_op.create_index('ix_contracts_status_ends_on', ['status', 'ends_on'], unique=False)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_changed_at', persistence.tables.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('email_key', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('phone_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('company_key', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('matched_contact_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('matched_account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('match_reasons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_leads_duplicate_of_id_leads'), 'leads', ['duplicate_of_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_leads_matched_contact_id_contacts'), 'contacts', ['matched_contact_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_leads_matched_account_id_accounts'), 'accounts', ['matched_account_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_leads_merged_into_id_leads'), 'leads', ['merged_into_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_leads_duplicate_of_id'), ['duplicate_of_id'], unique=False)
        batch_op.create_index('ix_leads_email_key', ['email_key'], unique=False)
        batch_op.create_index('ix_leads_phone_key', ['phone_key'], unique=False)
        batch_op.create_index('ix_leads_company_key', ['company_key'], unique=False)
    leads = sa.table(
        'leads', sa.column('id', sa.Integer), sa.column('email', sa.String), sa.column('phone', sa.String),
        sa.column('company', sa.String), sa.column('email_key', sa.String), sa.column('phone_key', sa.String),
        sa.column('company_key', sa.String),
    )
    bind = op.get_bind()
    for row in list(bind.execute(sa.select(leads.c.id, leads.c.email, leads.c.phone, leads.c.company))):
        keys = {'email_key': email_key(row.email), 'phone_key': phone_key(row.phone), 'company_key': company_key(row.company)}
        if any(keys.values()):
            bind.execute(leads.update().where(leads.c.id == row.id).values(**keys))
    settings = op.create_table('lead_matching_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('by_email', sa.Boolean(), nullable=False),
    sa.Column('by_phone', sa.Boolean(), nullable=False),
    sa.Column('by_company', sa.Boolean(), nullable=False),
    sa.Column('created_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', persistence.tables.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_matching_settings')),
    sqlite_autoincrement=True
    )
    op.bulk_insert(settings, [{'id': 1, 'enabled': True, 'by_email': True, 'by_phone': True, 'by_company': True}])


def downgrade() -> None:
    op.drop_table('lead_matching_settings')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_company_key')
        batch_op.drop_index('ix_leads_phone_key')
        batch_op.drop_index('ix_leads_email_key')
        batch_op.drop_index(batch_op.f('ix_leads_duplicate_of_id'))
        batch_op.drop_constraint(batch_op.f('fk_leads_merged_into_id_leads'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_leads_matched_account_id_accounts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_leads_matched_contact_id_contacts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_leads_duplicate_of_id_leads'), type_='foreignkey')
        for column in ('merged_into_id', 'match_reasons', 'matched_account_id', 'matched_contact_id',
                       'duplicate_of_id', 'company_key', 'phone_key', 'email_key', 'status_changed_at'):
            batch_op.drop_column(column)
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_contracts_status_ends_on')
        batch_op.drop_column('expiry_noticed_for')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_on')
